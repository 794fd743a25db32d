import type { JURISDICTIONS } from '../schemas/case.js'
import { Case } from '../schemas/case.js'
import { jsonPointer } from '../schemas/field-errors.js'
import { mapFhir } from './map.js'
import type { FhirResource, MappingResult } from './types.js'

/*
 * PLACEHOLDER — replaced by the fhir-core helper (src/fhir/index.ts: mapBundle, mapResources,
 * toCase). The cds-service branch needs the names and types of the brief's contract to compile; its
 * tests inject fakes. What is here is the least that runs: no patient rule, no deduplication.
 */

export interface MappedPatient {
  mapping: MappingResult
  patient: FhirResource
  deceased: boolean
  hasPrimaryBreastCancer: boolean
}

export interface StructuralError { ok: false, status: 400 | 422, type?: 'patient-count', path: string, detail: string }

export interface MapResourcesOptions {
  evaluationDate: string
  jurisdiction?: typeof JURISDICTIONS[number]
  caseId?: string
}

export type CaseResult =
  | { ok: true, case: Case }
  | { ok: false, kind: 'case-incomplete' | 'case-inconsistent', errors: Array<{ path: string, message: string }> }

/** PLACEHOLDER: maps the resources as given, for the one Patient with `patientId`. */
export function mapResources (resources: readonly FhirResource[], patientId: string, options: MapResourcesOptions): MappedPatient | StructuralError {
  const patient = resources.find((resource) => resource.resourceType === 'Patient' && resource.id === patientId)
  if (patient === undefined) return { ok: false, status: 422, type: 'patient-count', path: '', detail: 'no Patient' }
  const byRef = new Map(resources.map((resource) => [`${resource.resourceType}/${resource.id ?? ''}`, resource]))
  const mapping = mapFhir(resources, { patientRef: `Patient/${patientId}`, ...options }, (reference) => byRef.get(reference))
  const deceased = patient.deceasedBoolean === true || typeof patient.deceasedDateTime === 'string'
  return { mapping, patient, deceased, hasPrimaryBreastCancer: false }
}

/** PLACEHOLDER: validates the draft with the Case schema. */
export function toCase (mapping: MappingResult): CaseResult {
  const parsed = Case.safeParse(mapping.case)
  if (parsed.success) return { ok: true, case: parsed.data }
  return { ok: false, kind: 'case-incomplete', errors: parsed.error.issues.map((issue) => ({ path: jsonPointer(issue.path), message: issue.message })) }
}
