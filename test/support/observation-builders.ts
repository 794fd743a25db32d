import { CASE_FACT_SYSTEM, SYSTEMS } from '../../src/fhir/constants.js'
import { MappingContext, refOf } from '../../src/fhir/mapping-context.js'
import type { FhirResource } from '../../src/fhir/types.js'

/**
 * Small FHIR builders for the mapping-section tests (markers, observations, facts): resources built in
 * code, a MappingContext over them with a plain `Type/id` resolver, and readers of what the section
 * wrote. Test code only.
 */

export const EVALUATION_DATE = '2026-06-01'
export const PATIENT_REF = 'Patient/p1'
export const LOINC = SYSTEMS.loinc
export const SNOMED = SYSTEMS.snomed
export const UCUM = SYSTEMS.ucum

type Json = Record<string, unknown>

/** A CodeableConcept with LOINC codings. */
export const loinc = (...codes: string[]): Json => ({ coding: codes.map((code) => ({ system: LOINC, code })) })
/** A CodeableConcept with text only. */
export const text = (words: string): Json => ({ text: words })
/** A CodeableConcept with one coding of any system (and an optional display). */
export const coded = (system: string, code: string, display?: string): Json => ({ coding: [{ system, code, ...(display === undefined ? {} : { display }) }] })

/** value[x] builders. */
export const valueCode = (system: string, code: string, display?: string): Json => ({ valueCodeableConcept: coded(system, code, display) })
export const valueText = (words: string): Json => ({ valueCodeableConcept: { text: words } })
export const valueString = (value: string): Json => ({ valueString: value })
export const valueInteger = (value: number): Json => ({ valueInteger: value })
/** A UCUM quantity; `unit` undefined → no unit at all. */
export const quantity = (value: number, unit?: string, comparator?: string): Json => ({
  valueQuantity: { value, ...(unit === undefined ? {} : { system: UCUM, code: unit, unit }), ...(comparator === undefined ? {} : { comparator }) }
})

/** A final Observation of Patient/p1 dated `date` (null → undated). */
export function observation (id: string, code: Json, value: Json = {}, date: string | null = '2026-05-01', extra: Json = {}): FhirResource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code,
    subject: { reference: PATIENT_REF },
    ...(date === null ? {} : { effectiveDateTime: date }),
    ...value,
    ...extra
  }
}

/** A case-fact Observation (§6.8) for `path`. */
export function caseFact (id: string, path: string, value: Json, date: string | null = '2026-05-01', extra: Json = {}): FhirResource {
  return observation(id, { coding: [{ system: CASE_FACT_SYSTEM, code: path }] }, value, date, extra)
}

/** An enum fact value as §6.8 writes it. */
export const factCode = (value: string): Json => ({ valueCodeableConcept: { coding: [{ system: CASE_FACT_SYSTEM, code: value }] } })

export function condition (id: string, extra: Json = {}): FhirResource {
  return { resourceType: 'Condition', id, subject: { reference: PATIENT_REF }, ...extra }
}

export function patient (extra: Json = {}): FhirResource {
  return { resourceType: 'Patient', id: 'p1', ...extra }
}

/** A MappingContext over the resources, resolving `Type/id` references among them. */
export function context (resources: FhirResource[], evaluationDate = EVALUATION_DATE): MappingContext {
  return new MappingContext(resources, { patientRef: PATIENT_REF, evaluationDate }, (reference) => resources.find((resource) => refOf(resource) === reference))
}

/** The warning codes, in order. */
export const codes = (ctx: MappingContext): string[] => ctx.warnings.map((warning) => warning.code)

interface BundleLike { entry?: Array<{ fullUrl?: string, resource?: FhirResource }> }

/**
 * A MappingContext over a third-party Bundle (read through test/support/third-party-fixtures.ts), with a
 * stand-in for fhir-core's patient rule: the Bundle's first Patient, the resources whose `subject`
 * (or `patient`) names it by `Patient/id` or by its fullUrl, deduplicated by `Type/id` (the last wins);
 * references resolve by fullUrl, then by `Type/id`.
 */
export function bundleContext (bundle: BundleLike, evaluationDate = EVALUATION_DATE): MappingContext {
  const entries = (bundle.entry ?? []).filter((entry): entry is { fullUrl?: string, resource: FhirResource } => entry.resource !== undefined)
  const patientEntry = entries.find((entry) => entry.resource.resourceType === 'Patient')
  const patientRef = `Patient/${patientEntry?.resource.id ?? ''}`
  const names = new Set([patientRef, patientEntry?.fullUrl])
  const mine = new Map<string, FhirResource>()
  for (const { resource } of entries) {
    const subject = (resource.subject ?? resource.patient) as { reference?: string } | undefined
    if (resource === patientEntry?.resource || names.has(subject?.reference)) mine.set(refOf(resource), resource)
  }
  const resources = [...mine.values()]
  const resolve = (reference: string): FhirResource | undefined =>
    entries.find((entry) => entry.fullUrl === reference)?.resource ?? resources.find((resource) => refOf(resource) === reference)
  return new MappingContext(resources, { patientRef, evaluationDate }, resolve)
}
