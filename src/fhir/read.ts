import { SYSTEMS } from './constants.js'
import { refOf, type MappingContext } from './mapping-context.js'
import type { FhirResource } from './types.js'

/**
 * Small readers of FHIR elements shared by every mapping section (§6.1): codes, dates, status,
 * latest, quantities. An element of the wrong shape counts as absent (the caller warns
 * FHIR_ELEMENT_MALFORMED where §5 asks for it).
 */

export type Json = Record<string, unknown>

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
export const asArray = (value: unknown): unknown[] => Array.isArray(value) ? value : []
export const asString = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

export interface Coding { system?: string, code?: string, display?: string }

/**
 * The codings read from each CodeableConcept, once per concept object: the sections ask the same
 * resources for their codes many times (every table row, every section), and a mapping never changes
 * the resources it reads. The arrays are shared: callers must not change them.
 */
const CODINGS_READ = new WeakMap<object, readonly Coding[]>()

/** The codings of a CodeableConcept (malformed ones dropped). */
export function codingsOf (concept: unknown): readonly Coding[] {
  if (!isObject(concept)) return []
  let codings = CODINGS_READ.get(concept)
  if (codings === undefined) {
    codings = asArray(concept.coding).filter(isObject).map(readCoding)
    CODINGS_READ.set(concept, codings)
  }
  return codings
}

function readCoding (coding: Json): Coding {
  const read: Coding = {}
  const system = asString(coding.system)
  const code = asString(coding.code)
  const display = asString(coding.display)
  if (system !== undefined) read.system = system
  if (code !== undefined) read.code = code
  if (display !== undefined) read.display = display
  return read
}

/** `text`, then every coding's display: the words §6.1 rule 6 matches a pattern against. */
export function wordsOf (concept: unknown): string[] {
  if (!isObject(concept)) return []
  const text = asString(concept.text)
  return [...(text === undefined ? [] : [text]), ...codingsOf(concept).flatMap((coding) => coding.display === undefined ? [] : [coding.display])]
}

/** One row of a code table: the value it maps to, its (system, code) pairs, and an optional text pattern. */
export interface CodeRow<T> {
  value: T
  codes: ReadonlyArray<readonly [system: string, code: string]>
  /** Only rows that give a pattern fall back to text (§6.1 rule 6). */
  text?: RegExp
  /** For codes matched by prefix (ICD-10 C50*): a predicate instead of the exact list. */
  codeMatches?: (system: string, code: string) => boolean
}

export interface ConceptMatch<T> { value: T, byText: boolean }

function rowByCode<T> (codings: readonly Coding[], rows: ReadonlyArray<CodeRow<T>>): CodeRow<T> | undefined {
  for (const coding of codings) {
    if (coding.system === undefined || coding.code === undefined) continue
    const row = rows.find((candidate) => candidate.codes.some(([system, code]) => system === coding.system && code === coding.code) ||
      candidate.codeMatches?.(coding.system as string, coding.code as string) === true)
    if (row !== undefined) return row
  }
  return undefined
}

function rowByText<T> (words: string[], rows: ReadonlyArray<CodeRow<T>>): CodeRow<T> | undefined {
  for (const word of words) {
    const row = rows.find((candidate) => candidate.text?.test(word) === true)
    if (row !== undefined) return row
  }
  return undefined
}

/**
 * Matches a CodeableConcept against a code table (§6.1 rule 6): by (system, code) first; else by
 * `text` and displays against the rows' patterns (FHIR_MATCHED_BY_TEXT). When the code matches one
 * row and the words another, the code wins (FHIR_CODE_DISPLAY_CONFLICT). `what` names the resource
 * in the warning ("Observation/abc").
 */
export function matchConcept<T> (ctx: MappingContext, concept: unknown, rows: ReadonlyArray<CodeRow<T>>, what: string): ConceptMatch<T> | undefined {
  const byCode = rowByCode(codingsOf(concept), rows)
  const byWords = rowByText(wordsOf(concept), rows)
  if (byCode !== undefined) {
    if (byWords !== undefined && byWords.value !== byCode.value) {
      ctx.warn('FHIR_CODE_DISPLAY_CONFLICT', `${what}: the code and the display text name different concepts; the code was used.`)
    }
    return { value: byCode.value, byText: false }
  }
  if (byWords === undefined) return undefined
  ctx.warn('FHIR_MATCHED_BY_TEXT', `${what}: recognised by its text, not by a known code.`)
  return { value: byWords.value, byText: true }
}

/** True when the concept carries the (system, code). */
export function hasCode (concept: unknown, system: string, code: string): boolean {
  return codingsOf(concept).some((coding) => coding.system === system && coding.code === code)
}

export const LOINC = SYSTEMS.loinc
export const SNOMED = SYSTEMS.snomed

/* ---------------------------------------------------------------- dates */

const DATE_PREFIX = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/

/**
 * The calendar date of a FHIR date/dateTime as written (first 10 characters, §6.1 rule 4). A partial
 * date (YYYY, YYYY-MM) counts as its first day, with FHIR_PARTIAL_DATE [D]. Anything else: undefined.
 */
export function calendarDate (ctx: MappingContext, value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return undefined
  const match = DATE_PREFIX.exec(value)
  if (match === null) return undefined
  const [, year, month, day] = match
  if (day !== undefined) return `${year}-${month}-${day}`
  ctx.warn('FHIR_PARTIAL_DATE', `${what}: a partial date (${value.length <= 7 ? value : value.slice(0, 7)}) was read as its first day.`)
  return `${year}-${month ?? '01'}-01`
}

/** The clinically relevant date of a resource, by type (§6.1 rule 4). Medications: see medications.ts. */
export function resourceDate (ctx: MappingContext, resource: FhirResource): string | undefined {
  const what = refOf(resource)
  const period = (value: unknown): unknown => isObject(value) ? value.start : undefined
  switch (resource.resourceType) {
    case 'Observation':
      return calendarDate(ctx, resource.effectiveDateTime ?? resource.effectiveInstant ?? period(resource.effectivePeriod) ?? resource.issued, what)
    case 'Condition':
      return calendarDate(ctx, resource.onsetDateTime ?? period(resource.onsetPeriod) ?? resource.recordedDate, what)
    case 'Procedure':
      return calendarDate(ctx, resource.performedDateTime ?? period(resource.performedPeriod), what)
    default:
      return undefined
  }
}

/* --------------------------------------------------------------- status */

const USABLE_STATUS: Readonly<Record<string, readonly string[]>> = {
  Observation: ['final', 'amended', 'corrected'],
  MedicationRequest: ['active', 'completed', 'stopped', 'on-hold'],
  MedicationAdministration: ['completed', 'in-progress', 'stopped'],
  MedicationStatement: ['active', 'completed', 'stopped', 'on-hold'],
  Procedure: ['completed', 'in-progress', 'stopped']
}

/**
 * The status filter of §6.1 rule 3. Observation `preliminary` warns FHIR_PRELIMINARY_IGNORED;
 * Condition: verificationStatus confirmed or absent is used, unconfirmed/provisional/differential
 * warns FHIR_UNCONFIRMED_CONDITION (the caller adds the gap), refuted/entered-in-error are dropped.
 */
export function statusUsable (ctx: MappingContext, resource: FhirResource): boolean {
  if (resource.resourceType === 'Condition') {
    const verification = codingsOf(resource.verificationStatus).map((coding) => coding.code)
    if (verification.length === 0 || verification.includes('confirmed')) return true
    if (verification.some((code) => code === 'unconfirmed' || code === 'provisional' || code === 'differential')) {
      ctx.warn('FHIR_UNCONFIRMED_CONDITION', `${refOf(resource)}: an unconfirmed diagnosis was not used.`)
    }
    return false
  }
  const usable = USABLE_STATUS[resource.resourceType]
  if (usable === undefined) return true
  const status = resource.status
  if (typeof status === 'string' && usable.includes(status)) return true
  if (status === 'preliminary') ctx.warn('FHIR_PRELIMINARY_IGNORED', `${refOf(resource)}: a preliminary result was not used.`)
  return false
}

/* --------------------------------------------------------------- latest */

export interface Dated<T> { item: T, resource: FhirResource, date: string | undefined }

/**
 * The newest of several candidates (§6.1 rule 5). A candidate dated after evaluationDate is dropped
 * (FHIR_FUTURE_DATED). Ties: the later `issued`, then `meta.lastUpdated`, then resource id
 * (deterministic), with FHIR_CONFLICTING_SAME_DATE when the tied values differ (`same` compares
 * them). An undated candidate is used only when no dated one exists (FHIR_UNDATED).
 */
export function latest<T> (ctx: MappingContext, candidates: ReadonlyArray<Dated<T>>, what: string, same: (a: T, b: T) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b)): Dated<T> | undefined {
  const current = candidates.filter((candidate) => {
    if (candidate.date === undefined || candidate.date <= ctx.evaluationDate) return true
    ctx.warn('FHIR_FUTURE_DATED', `${refOf(candidate.resource)}: dated after the evaluation date; not used.`)
    return false
  })
  const dated = current.filter((candidate) => candidate.date !== undefined)
  if (dated.length === 0) {
    const undated = current[current.length - 1]
    if (undated !== undefined) ctx.warn('FHIR_UNDATED', `${refOf(undated.resource)}: ${what} has no date; used because no dated value exists.`)
    return undated
  }
  const sorted = [...dated].sort(compareNewestFirst)
  const best = sorted[0] as Dated<T>
  const tied = sorted.filter((candidate) => candidate.date === best.date)
  if (tied.some((candidate) => !same(candidate.item, best.item))) {
    ctx.warn('FHIR_CONFLICTING_SAME_DATE', `${what}: different values on ${best.date as string}; ${refOf(best.resource)} was used.`)
  }
  return best
}

/** Newest first among dated candidates (`latest` sorts only those). */
function compareNewestFirst<T> (a: Dated<T>, b: Dated<T>): number {
  const keys = (candidate: Dated<T>): string[] => [
    candidate.date as string,
    typeof candidate.resource.issued === 'string' ? candidate.resource.issued : '',
    isObject(candidate.resource.meta) && typeof candidate.resource.meta.lastUpdated === 'string' ? candidate.resource.meta.lastUpdated : '',
    candidate.resource.id ?? ''
  ]
  const [ka, kb] = [keys(a), keys(b)]
  for (let index = 0; index < ka.length; index++) {
    if (ka[index] !== kb[index]) return (ka[index] as string) < (kb[index] as string) ? 1 : -1
  }
  return 0
}

/* ------------------------------------------------------------ quantities */

/** A unit converter table: UCUM code (or unit text, compared case-insensitively) → value in the target unit. */
export type UnitTable = Readonly<Record<string, (value: number) => number>>

export interface QuantityReading { value: number, unit: string, comparator?: string }

/**
 * A valueQuantity in one of the accepted units (§6.1 rule 7): UCUM `code` when the system is UCUM,
 * else `unit` case-insensitively. An unknown unit → 'unknown-unit' (a gap, never a guess).
 * `unitless` (a key '') accepts a quantity without any unit.
 */
export function readQuantity (quantity: unknown, units: UnitTable): QuantityReading | 'unknown-unit' | undefined {
  if (!isObject(quantity) || typeof quantity.value !== 'number' || !Number.isFinite(quantity.value)) return undefined
  const code = quantity.system === SYSTEMS.ucum ? asString(quantity.code) : undefined
  const unitText = asString(quantity.unit) ?? (code === undefined ? asString(quantity.code) : undefined)
  const entries = Object.entries(units)
  const found = code !== undefined
    ? entries.find(([key]) => key === code)
    : unitText === undefined ? entries.find(([key]) => key === '') : entries.find(([key]) => key.toLowerCase() === unitText.toLowerCase())
  if (found === undefined) return 'unknown-unit'
  const comparator = asString(quantity.comparator)
  return { value: found[1](quantity.value), unit: found[0], ...(comparator === undefined ? {} : { comparator }) }
}
