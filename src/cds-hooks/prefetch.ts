import { LOINC_CODES, SNOMED_STAGING_CODES } from '../fhir/codes.js'
import { CASE_FACT_SYSTEM, SYSTEMS } from '../fhir/constants.js'
import type { FhirResource } from '../fhir/types.js'

/**
 * The prefetch templates of spec/ehr-integration.md §4.1, as data built from the one code module
 * (src/fhir/codes.ts), and the reading of a prefetch value (§4.2). Framework-free.
 *
 * The templates stay inside the CDS Hooks 3.0 prefetch query restrictions (a test parses each one):
 * instance reads, type-level searches on `patient={{context.patientId}}`, token equality, `_count` and
 * the R4 `_sort=-date` (never the spec examples' `sort:desc=date`).
 */

export const PATIENT_ID_TOKEN = '{{context.patientId}}'

export interface PrefetchKey {
  key: string
  /** The resource type a read returns, or the type searched. */
  resourceType: string
  /** An instance read (`Patient/{{context.patientId}}`) rather than a search. */
  read: boolean
  /** Required keys make a 412 when unavailable (§4.4). */
  required: boolean
  template: string
}

const loinc = (codes: readonly string[]): string[] => codes.map((code) => `${SYSTEMS.loinc}|${code}`)
const snomed = (codes: readonly string[]): string[] => codes.map((code) => `${SYSTEMS.snomed}|${code}`)

/** [a1, a2], [b1, b2] → [a1, b1, a2, b2]: the order in which §4.1 writes the ER/PR and T/N/M codes. */
function interleave (...lists: ReadonlyArray<readonly string[]>): string[] {
  const length = Math.max(...lists.map((list) => list.length))
  const out: string[] = []
  for (let i = 0; i < length; i++) for (const list of lists) if (i < list.length) out.push(list[i] as string)
  return out
}

interface SearchOptions { codes?: readonly string[], sort?: true, count: number }

function search (key: string, resourceType: string, required: boolean, options: SearchOptions): PrefetchKey {
  const parameters = [`patient=${PATIENT_ID_TOKEN}`]
  if (options.codes !== undefined) parameters.push(`code=${options.codes.join(',')}`)
  if (options.sort === true) parameters.push('_sort=-date')
  parameters.push(`_count=${options.count}`)
  return { key, resourceType, read: false, required, template: `${resourceType}?${parameters.join('&')}` }
}

/** The code lists of each Observation key, from src/fhir/codes.ts (one module, §4.1). */
export const PREFETCH_CODES = {
  markers: loinc([
    ...LOINC_CODES.her2Overall, ...LOINC_CODES.her2Ihc, ...LOINC_CODES.her2IshResult, ...LOINC_CODES.her2IshRatio,
    ...LOINC_CODES.her2IshCopyNumber,
    ...interleave(LOINC_CODES.erPresence, LOINC_CODES.prPresence),
    ...interleave(LOINC_CODES.erPercent, LOINC_CODES.prPercent)
  ]),
  ecog: loinc(LOINC_CODES.ecog),
  diseaseStatus: loinc(LOINC_CODES.diseaseStatus),
  cardiac: loinc(LOINC_CODES.lvef),
  renal: loinc([...LOINC_CODES.creatinine, ...LOINC_CODES.creatinineClearanceMeasured]),
  weight: loinc(LOINC_CODES.bodyWeight),
  calcium: loinc([...LOINC_CODES.correctedCalcium, ...LOINC_CODES.totalCalcium]),
  vitaminD: loinc(LOINC_CODES.vitaminD),
  pregnancy: loinc(LOINC_CODES.pregnancy),
  staging: [
    ...loinc([...LOINC_CODES.stageGroup, ...interleave(LOINC_CODES.stagingT, LOINC_CODES.stagingN, LOINC_CODES.stagingM)]),
    ...snomed([...SNOMED_STAGING_CODES.stageGroup, ...SNOMED_STAGING_CODES.stagingT, ...SNOMED_STAGING_CODES.stagingN, ...SNOMED_STAGING_CODES.stagingM])
  ],
  // `system|` (any code of the case-fact system) and the lesion pain score (§6.8).
  facts: [`${CASE_FACT_SYSTEM}|`, ...loinc(LOINC_CODES.painSeverity)]
} as const

/** §4.1, in the spec's order (discovery lists them in this order). */
export const PREFETCH_KEYS: readonly PrefetchKey[] = [
  { key: 'patient', resourceType: 'Patient', read: true, required: true, template: `Patient/${PATIENT_ID_TOKEN}` },
  search('conditions', 'Condition', true, { count: 100 }),
  search('markers', 'Observation', true, { codes: PREFETCH_CODES.markers, sort: true, count: 50 }),
  search('ecog', 'Observation', true, { codes: PREFETCH_CODES.ecog, sort: true, count: 5 }),
  search('diseaseStatus', 'Observation', true, { codes: PREFETCH_CODES.diseaseStatus, sort: true, count: 50 }),
  search('medicationRequests', 'MedicationRequest', true, { count: 200 }),
  search('procedures', 'Procedure', true, { count: 100 }),
  search('medicationAdministrations', 'MedicationAdministration', false, { count: 200 }),
  search('medicationStatements', 'MedicationStatement', false, { count: 200 }),
  search('cardiac', 'Observation', false, { codes: PREFETCH_CODES.cardiac, sort: true, count: 20 }),
  search('renal', 'Observation', false, { codes: PREFETCH_CODES.renal, sort: true, count: 10 }),
  search('weight', 'Observation', false, { codes: PREFETCH_CODES.weight, sort: true, count: 3 }),
  search('calcium', 'Observation', false, { codes: PREFETCH_CODES.calcium, sort: true, count: 5 }),
  search('vitaminD', 'Observation', false, { codes: PREFETCH_CODES.vitaminD, sort: true, count: 3 }),
  search('pregnancy', 'Observation', false, { codes: PREFETCH_CODES.pregnancy, sort: true, count: 1 }),
  search('staging', 'Observation', false, { codes: PREFETCH_CODES.staging, sort: true, count: 20 }),
  search('facts', 'Observation', false, { codes: PREFETCH_CODES.facts, count: 200 })
]

/** The discovery `prefetch` object (§3): key → template. */
export function prefetchTemplates (): Record<string, string> {
  return Object.fromEntries(PREFETCH_KEYS.map(({ key, template }) => [key, template]))
}

/** The template with the patient id URL-encoded into it (§4.3), relative to the FHIR base. */
export function renderTemplate (template: string, patientId: string): string {
  return template.replaceAll(PATIENT_ID_TOKEN, encodeURIComponent(patientId))
}

// ---------------------------------------------------------------------------------------------
// The CDS Hooks 3.0 prefetch query restrictions, as a checker (the unit test runs every template
// through it, and the spec's own examples that break the rules fail it).

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/
const TOKEN_PARAMETERS = new Set(['code', 'status', 'category'])
const DATE_PARAMETERS = new Set(['date'])
/** A token value: `system|code`, `system|` (any code of a system) or a bare code; no modifier (§4.1). */
const TOKEN_VALUE = /^[^|,{}]*\|?[^|,{}]*$/
const DATE_VALUE = /^(eq|lt|gt|ge|le)?\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/
const SORT_VALUE = /^-?[a-z][a-z-]*(,-?[a-z][a-z-]*)*$/

function parameterViolations (name: string, value: string): string[] {
  if (name === 'patient') return value === PATIENT_ID_TOKEN ? [] : [`patient must be ${PATIENT_ID_TOKEN}`]
  if (value.includes('{{')) return [`${name}: only ${PATIENT_ID_TOKEN} may be a token (no FHIRPath)`]
  if (name === '_count') return /^[1-9]\d*$/.test(value) ? [] : ['_count must be a positive integer']
  if (name === '_sort') return SORT_VALUE.test(value) ? [] : ['_sort must be R4 sort keys (e.g. -date)']
  if (name.includes('.')) return [`${name}: chained parameters are not allowed`]
  const [base, modifier, ...rest] = name.split(':')
  if (rest.length > 0 || (modifier !== undefined && (modifier !== 'in' || !TOKEN_PARAMETERS.has(base as string)))) {
    return [`${name}: no modifier but :in on a token parameter`]
  }
  if (TOKEN_PARAMETERS.has(base as string)) {
    return value.split(',').every((item) => item !== '' && TOKEN_VALUE.test(item)) ? [] : [`${name}: token values must be system|code`]
  }
  if (DATE_PARAMETERS.has(base as string)) return DATE_VALUE.test(value) ? [] : [`${name}: date prefixes are eq, lt, gt, ge, le only`]
  return [`${name}: parameter not allowed`]
}

/** What breaks the 3.0 restrictions in a template; [] when it keeps them. */
export function templateViolations (template: string): string[] {
  const read = /^([^/?]+)\/(.+)$/.exec(template)
  if (read !== null && !template.includes('?')) {
    if (!RESOURCE_TYPE.test(read[1] as string)) return [`${read[1] as string}: not a resource type`]
    return read[2] === PATIENT_ID_TOKEN ? [] : [`instance reads must be Type/${PATIENT_ID_TOKEN}`]
  }
  const [type, query, ...extra] = template.split('?') as [string, ...string[]]
  if (!RESOURCE_TYPE.test(type)) return [`${type}: not a resource type or an instance read`]
  if (query === undefined || query === '' || extra.length > 0) return ['a search needs one query string']
  const parameters = query.split('&').map((pair) => {
    const at = pair.indexOf('=')
    return at < 0 ? [pair, ''] as const : [pair.slice(0, at), pair.slice(at + 1)] as const
  })
  const violations = parameters.flatMap(([name, value]) => parameterViolations(name, value))
  if (!parameters.some(([name, value]) => name === 'patient' && value === PATIENT_ID_TOKEN)) {
    violations.push(`searches must be on patient=${PATIENT_ID_TOKEN}`)
  }
  return violations
}

// ---------------------------------------------------------------------------------------------
// §4.2: what a prefetch value (or a fetched body) means.

/** A key's data as read: data (with a `next` link to follow or mark partial), empty (null, 404), unavailable, or absent. */
export type KeyValue =
  | { state: 'absent' }
  | { state: 'empty' }
  | { state: 'unavailable', reason: 'operation-outcome' | 'malformed' | 'patient-mismatch', issueCodes?: string[] }
  | { state: 'data', resources: FhirResource[], next?: string }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isResource = (value: unknown): value is FhirResource => isObject(value) && typeof value.resourceType === 'string' && value.resourceType !== ''

/** The issue codes of an OperationOutcome: the only part of it that is logged (§4.2). */
function issueCodes (outcome: Record<string, unknown>): string[] {
  const issues = Array.isArray(outcome.issue) ? outcome.issue : []
  return issues.flatMap((issue: unknown) => isObject(issue) && typeof issue.code === 'string' && /^[a-z-]{1,40}$/.test(issue.code) ? [issue.code] : [])
}

/** The resources of a searchset (or collection) Bundle: `match`, `include` or no mode; `outcome` entries ignored. */
function bundleValue (bundle: Record<string, unknown>): KeyValue {
  if (bundle.type !== 'searchset' && bundle.type !== 'collection') return { state: 'unavailable', reason: 'malformed' }
  const entries = bundle.entry ?? []
  if (!Array.isArray(entries)) return { state: 'unavailable', reason: 'malformed' }
  const resources: FhirResource[] = []
  for (const entry of entries) {
    if (!isObject(entry)) return { state: 'unavailable', reason: 'malformed' }
    const mode = isObject(entry.search) ? entry.search.mode : undefined
    if (mode !== undefined && mode !== 'match' && mode !== 'include') continue
    if (entry.resource === undefined) continue
    if (!isResource(entry.resource)) return { state: 'unavailable', reason: 'malformed' }
    resources.push(entry.resource)
  }
  const next = Array.isArray(bundle.link)
    ? bundle.link.find((link: unknown) => isObject(link) && link.relation === 'next' && typeof link.url === 'string')
    : undefined
  return next === undefined ? { state: 'data', resources } : { state: 'data', resources, next: (next as { url: string }).url }
}

/**
 * §4.2: a key's value → its meaning. `value` is undefined when the key is not in `prefetch`. A read
 * key wants a resource of its type; the Patient must be the context's patient, else it is unavailable.
 */
export function readKeyValue (spec: PrefetchKey, value: unknown, patientId: string): KeyValue {
  if (value === undefined) return { state: 'absent' }
  if (value === null) return { state: 'empty' }
  if (!isResource(value)) return { state: 'unavailable', reason: 'malformed' }
  if (value.resourceType === 'OperationOutcome') return { state: 'unavailable', reason: 'operation-outcome', issueCodes: issueCodes(value) }
  if (spec.read) {
    if (value.resourceType !== spec.resourceType) return { state: 'unavailable', reason: 'malformed' }
    if (spec.resourceType === 'Patient' && value.id !== patientId) return { state: 'unavailable', reason: 'patient-mismatch' }
    return { state: 'data', resources: [value] }
  }
  if (value.resourceType !== 'Bundle') return { state: 'unavailable', reason: 'malformed' }
  return bundleValue(value)
}
