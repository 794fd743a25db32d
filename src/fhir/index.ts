import { Case } from '../schemas/case.js'
import { parseClinically, type FieldError } from '../schemas/field-errors.js'
import { indexResources, keepPatientResources, readBundle, type BundleError, type LocatedResource, type Resolve } from './bundle.js'
import { LOINC_CODES } from './codes.js'
import { mapFhirWithState } from './map.js'
import { isObject } from './read.js'
import type { FhirResource, MapOptions, MappingResult, MappingWarning } from './types.js'

/**
 * The entry points of the FHIR → Case mapping (spec/ehr-integration.md §5, §6): `mapBundle` for the
 * /v1 FHIR input, `mapResources` for CDS Hooks (prefetched and fetched resources), and `toCase`,
 * which turns a mapping into a validated `Case` or says which fields are missing or inconsistent.
 * Framework-free: the HTTP and CDS Hooks adapters decide the status codes.
 */

export type FhirMapOptions = Omit<MapOptions, 'patientRef'>

export interface MappedRecord {
  ok: true
  mapping: MappingResult
  /** The one Patient the record belongs to. */
  patient: FhirResource
  /** `deceasedBoolean` true or `deceasedDateTime` set (§4.4: no cards; /v1: 422 patient-deceased). */
  deceased: boolean
  /** A primary breast cancer Condition exists (§6.3; else /v1 422 no-breast-cancer, CDS Hooks no cards). */
  hasPrimaryBreastCancer: boolean
}

export type MapError = BundleError

/** /v1 FHIR input: a received Bundle → the mapping of its one patient, or the structural error of §5. */
export function mapBundle (body: unknown, options: FhirMapOptions): MappedRecord | MapError {
  const bundle = readBundle(body)
  if (!bundle.ok) return bundle
  const patient = bundle.resources.find((resource) => resource.resourceType === 'Patient') as FhirResource
  return mapRecord(bundle.resources, patient, patientRefOf(patient, bundle.fullUrlOf(patient)), bundle.resolve, options, bundle.warnings)
}

/**
 * CDS Hooks: the resources in hand (prefetch values and fetched pages) → the mapping of the patient
 * `patientId`. The Patient must be among them with that id (else the patient-count error; the CDS
 * Hooks service answers 412 before it comes to this). Duplicates across keys are merged as in a Bundle.
 */
export function mapResources (resources: readonly FhirResource[], patientId: string, options: FhirMapOptions): MappedRecord | MapError {
  const located: LocatedResource[] = resources
    .filter((resource) => isObject(resource) && typeof resource.resourceType === 'string' && resource.resourceType !== '')
    .map((resource) => ({ resource }))
  const index = indexResources(located)
  const patient = index.resources.find((resource) => resource.resourceType === 'Patient' && resource.id === patientId)
  if (patient === undefined) {
    // Never the patientId itself in the detail: it identifies the patient (§10.5).
    return { ok: false, status: 422, type: 'patient-count', path: '', detail: 'No Patient resource with the context patientId is in hand.' }
  }
  return mapRecord(index.resources, patient, `Patient/${patientId}`, index.resolve, options, index.warnings)
}

/** `Patient/{id}`, or for a Patient without an id the fullUrl of its entry (what references to it use). */
function patientRefOf (patient: FhirResource, fullUrl: string | undefined): string {
  if (typeof patient.id === 'string' && patient.id !== '') return `Patient/${patient.id}`
  return fullUrl ?? 'Patient'
}

function mapRecord (all: readonly FhirResource[], patient: FhirResource, patientRef: string, resolve: Resolve, options: FhirMapOptions, warnings: readonly MappingWarning[]): MappedRecord {
  const own = keepPatientResources(all, patient, resolve)
  const kept = new Set(own.resources)
  // Sections reach only this patient's resources (and what they contain): the patient rule holds for references too.
  const resolveOwn: Resolve = (reference, from) => {
    const found = resolve(reference, from)
    return found !== undefined && (kept.has(found) || reference.startsWith('#')) ? found : undefined
  }
  const { result, state } = mapFhirWithState(own.resources, { ...options, patientRef }, resolveOwn)
  result.warnings.unshift(...warnings, ...own.warnings)
  return { ok: true, mapping: result, patient, deceased: isDeceased(patient), hasPrimaryBreastCancer: state.primaryConditions.length > 0 }
}

function isDeceased (patient: FhirResource): boolean {
  return patient.deceasedBoolean === true || (typeof patient.deceasedDateTime === 'string' && patient.deceasedDateTime !== '')
}

/* ---------------------------------------------------------------- toCase */

export type CaseResult =
  | { ok: true, case: Case }
  | { ok: false, kind: 'case-incomplete' | 'case-inconsistent', errors: FieldError[] }

/** What the mapper looked for, per required field (§6.9): the first half of a case-incomplete message. */
const LOOKED_FOR: Readonly<Record<string, string>> = {
  'patient.ageYears': 'Looked for Patient.birthDate to compute the age',
  'patient.sex': 'Looked for the US Core birth sex extension (us-core-birthsex), then Patient.gender (female or male)',
  'patient.ecog': `Looked for an ECOG performance status Observation (LOINC ${LOINC_CODES.ecog.join(', ')}) with status final, amended or corrected and a whole-number value 0–4`,
  'tumor.erPercent': `Looked for an oestrogen receptor Observation (LOINC ${[...LOINC_CODES.erPercent, ...LOINC_CODES.erPresence].join(', ')}) with a percentage of cells or a positive or negative result`,
  'disease.presentation': 'Looked for the metastatic sites, the staging and a disease.presentation case fact to derive the presentation'
}

/** `disease.spineLesions[0].level` → `/disease/spineLesions/0/level` (the JSON pointer into the Case). */
export function casePointer (path: string): string {
  return `/${path.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`
}

/** `/disease/spineLesions/0/level` → `disease.spineLesions[0].level` (the mapper's Case path). */
export function casePath (pointer: string): string {
  return pointer.split('/').slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`), '')
}

function missingMessage (mapping: MappingResult, path: string): string {
  const reasons = mapping.gaps[path] ?? []
  const lookedFor = LOOKED_FOR[path] ?? `Looked for ${path}`
  if (reasons.length > 0) return `${lookedFor}; none was usable: ${reasons.join('; ')}.`
  const others = mapping.warnings.some((warning) => warning.code === 'FHIR_OTHER_PATIENT_RESOURCE')
  return `${lookedFor}; none was found for this patient${others ? ' (resources that belong to another patient are never used)' : ''}.`
}

function inconsistencyMessage (mapping: MappingResult, error: FieldError): string {
  const source = mapping.sources[casePath(error.path)]
  return source === undefined ? error.message : `${error.message} (mapped from ${source.refs.join(', ')}: ${source.display})`
}

/**
 * The mapped draft → a `Case` validated as a JSON `Case` is (zod schema and the consistency checks of
 * api.md). Missing required fields → `case-incomplete`, one error per field with the FHIR data looked
 * for and why none was usable; any other failure → `case-inconsistent`, with the resources behind
 * the field. Paths are JSON pointers into the Case (`/patient/ecog`).
 */
export function toCase (mapping: MappingResult): CaseResult {
  if (mapping.missing.length > 0) {
    return { ok: false, kind: 'case-incomplete', errors: mapping.missing.map((path) => ({ path: casePointer(path), message: missingMessage(mapping, path) })) }
  }
  const parsed = parseClinically(Case, mapping.case)
  if (!parsed.ok) {
    return { ok: false, kind: 'case-inconsistent', errors: parsed.errors.map((error) => ({ path: error.path, message: inconsistencyMessage(mapping, error) })) }
  }
  return { ok: true, case: parsed.value }
}
