import { LOINC_CODES, SNOMED_STAGING_CODES } from '../codes.js'
import { CASE_FACT_SYSTEM, SYSTEMS } from '../constants.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { asArray, codingsOf, isObject, latest, resourceDate, statusUsable, wordsOf, type Dated } from '../read.js'
import type { CasePath, FhirResource, FhirWarningCode } from '../types.js'

/**
 * Readers shared by the Observation sections (markers, other observations, case facts): which
 * Observations a table may claim, how one reading is chosen among several (§6.1 rule 5), and how an
 * unusable one is reported (a warning and a gap, §6.1 rules 7–8).
 */

/** A case-fact Observation (§6.8): its code is in CASE_FACT_SYSTEM. */
export function isCaseFact (observation: FhirResource): boolean {
  return codingsOf(observation.code).some((coding) => coding.system === CASE_FACT_SYSTEM)
}

const KNOWN_LOINC = new Set<string>(Object.values(LOINC_CODES).flat())
const KNOWN_SNOMED = new Set<string>(Object.values(SNOMED_STAGING_CODES).flat())

/**
 * True when some coding of the Observation's code is one the mapping knows (any §4.1/§6 table) or a
 * case-fact code. Text fallback (§6.1 rule 6) applies only "when no coding matches any row": an
 * Observation that another table claims by code is never re-read by its words.
 */
export function hasKnownCode (observation: FhirResource): boolean {
  return codingsOf(observation.code).some((coding) =>
    coding.code !== undefined && (
      (coding.system === SYSTEMS.loinc && KNOWN_LOINC.has(coding.code)) ||
      (coding.system === SYSTEMS.snomed && KNOWN_SNOMED.has(coding.code)) ||
      coding.system === CASE_FACT_SYSTEM))
}

/** True when the concept carries one of the LOINC codes. */
export function hasLoinc (concept: unknown, codes: readonly string[]): boolean {
  return codingsOf(concept).some((coding) => coding.system === SYSTEMS.loinc && coding.code !== undefined && codes.includes(coding.code))
}

/** True when a coding of the concept is one of the (system, code) pairs. */
export function hasAnyCode (concept: unknown, pairs: ReadonlyArray<readonly [string, string]>): boolean {
  return codingsOf(concept).some((coding) => pairs.some(([system, code]) => coding.system === system && coding.code === code))
}

/** Observations of the patient coded with one of the LOINC codes that pass the status filter (§6.1 rule 3). */
export function observationsByLoinc (ctx: MappingContext, codes: readonly string[]): FhirResource[] {
  return ctx.ofType('Observation').filter((observation) => hasLoinc(observation.code, codes) && statusUsable(ctx, observation))
}

/** The words of a `bodySite`: one CodeableConcept (Observation, Specimen.collection) or a list (Condition). */
export function bodySiteWords (bodySite: unknown): string[] {
  return Array.isArray(bodySite) ? bodySite.flatMap(wordsOf) : wordsOf(bodySite)
}

/** A date for a display: the calendar date, or "undated". */
export const shownDate = (date: string | undefined): string => date ?? 'undated'

/** The relative references of an Observation's `focus` (R4: a list of References). */
export function focusReferences (resource: FhirResource): string[] {
  return asArray(resource.focus).flatMap((focus) => isObject(focus) && typeof focus.reference === 'string' ? [focus.reference] : [])
}

/** Rounds half up to `decimals` places (§6.4 "rounded half up", §6.5 "1 decimal"), free of binary drift at .5. */
export function roundHalfUp (value: number, decimals = 0): number {
  const factor = 10 ** decimals
  return Math.round(Number((value * factor).toFixed(6))) / factor
}

/** Whole days from `from` to `to` (calendar dates YYYY-MM-DD). */
export function daysBetween (from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}

/* ---------------------------------------------------------------- readings */

/** A reading of one Observation: a usable value with its display, or why it is not usable. */
export type Reading<T> =
  | { ok: true, value: T, display: string }
  | { ok: false, code: FhirWarningCode, reason: string }

export interface Candidate<T> { resource: FhirResource, date: string | undefined, reading: Reading<T> }

export interface Chosen<T> { value: T, display: string, resource: FhirResource, date: string | undefined, refs: string[] }

/** Reads every Observation into a candidate with its date (§6.1 rule 4). */
export function candidates<T> (ctx: MappingContext, observations: readonly FhirResource[], read: (observation: FhirResource) => Reading<T>): Array<Candidate<T>> {
  return observations.map((resource) => ({ resource, date: resourceDate(ctx, resource), reading: read(resource) }))
}

/**
 * The latest usable candidate (§6.1 rule 5). An unusable candidate that is not older than the one
 * chosen (or any, when none is usable) is reported: its warning code and a gap on `path` naming the
 * resource, its date and the reason. Older unusable values are superseded and stay silent.
 */
export function chooseLatest<T> (ctx: MappingContext, all: ReadonlyArray<Candidate<T>>, path: CasePath, what: string, same?: (a: T, b: T) => boolean): Chosen<T> | undefined {
  const usable: Array<Dated<{ value: T, display: string }>> = []
  for (const candidate of all) {
    if (candidate.reading.ok) usable.push({ item: candidate.reading, resource: candidate.resource, date: candidate.date })
  }
  const best = latest(ctx, usable, what, same === undefined ? undefined : (a, b) => same(a.value, b.value))
  for (const candidate of all) {
    const reading = candidate.reading
    if (reading.ok) continue
    const superseded = best?.date !== undefined && (candidate.date === undefined || candidate.date < best.date)
    if (superseded) continue
    reportUnusable(ctx, candidate.resource, candidate.date, reading, path)
  }
  if (best === undefined) return undefined
  return { value: best.item.value, display: best.item.display, resource: best.resource, date: best.date, refs: [refOf(best.resource)] }
}

/** Warns and records the gap of one unusable reading; one dated after evaluationDate is only FHIR_FUTURE_DATED (§6.1 rule 4). */
export function reportUnusable (ctx: MappingContext, resource: FhirResource, date: string | undefined, reading: { code: FhirWarningCode, reason: string }, path: CasePath): void {
  if (date !== undefined && date > ctx.evaluationDate) {
    ctx.warn('FHIR_FUTURE_DATED', `${refOf(resource)}: dated after the evaluation date; not used.`)
    return
  }
  ctx.warn(reading.code, `${refOf(resource)}: ${reading.reason}; not used.`)
  ctx.gap(path, `${refOf(resource)} (${shownDate(date)}): ${reading.reason}`)
}

/** Writes `value` at a dotted path with indices (`disease.spineLesions[0].painNrs`) into the draft. */
export function setAt (target: object, path: CasePath, value: unknown): void {
  const keys = pathKeys(path)
  let node = target as Record<string | number, unknown>
  keys.slice(0, -1).forEach((key, index) => {
    const next = keys[index + 1] as string | number
    if (!isObject(node[key]) && !Array.isArray(node[key])) node[key] = typeof next === 'number' ? [] : {}
    node = node[key] as Record<string | number, unknown>
  })
  node[keys[keys.length - 1] as string | number] = value
}

/** Reads the value at a dotted path with indices, or undefined. */
export function getAt (source: object, path: CasePath): unknown {
  return walk(source, pathKeys(path))
}

function walk (source: unknown, keys: ReadonlyArray<string | number>): unknown {
  let node = source
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

function pathKeys (path: CasePath): Array<string | number> {
  return path.split('.').flatMap((segment) => {
    const match = /^([^[]+)((?:\[\d+\])*)$/.exec(segment)
    /* c8 ignore next -- every path the sections write has this shape */
    if (match === null) return [segment]
    const indices = [...(match[2] as string).matchAll(/\[(\d+)\]/g)].map((index) => Number(index[1]))
    return [match[1] as string, ...indices]
  })
}
