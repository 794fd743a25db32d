import { CANCER_STAGING_SYSTEM, LOINC_CODES, SNOMED_STAGING_CODES } from '../codes.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { codingsOf, hasCode, isObject, latest, LOINC, resourceDate, SNOMED, statusUsable, wordsOf, type Dated } from '../read.js'
import type { FhirResource } from '../types.js'

/**
 * §6.8 `disease.ajcc` from the latest T, N and M category Observations (code only: staging has no
 * text fallback, §6.1 rule 6), values as written (`cT3`, `cN2a`; M as `M0`/`M1`). Without a usable
 * M category, the latest stage group gives M1 for IV and M0 for 0–III. The latest stage group is kept
 * in ctx.state for the presentation (§6.8: stage III → locally_advanced). When no Condition dated
 * the metastatic diagnosis, the earliest M1 or stage IV Observation does (§6.3 last paragraph).
 */

type Category = 'stagingT' | 'stagingN' | 'stagingM' | 'stageGroup'
type Stage = 0 | 1 | 2 | 3 | 4
type StageGroup = NonNullable<MappingContext['state']['latestStageGroup']>

const CATEGORIES: readonly Category[] = ['stagingT', 'stagingN', 'stagingM', 'stageGroup']

function categoryOf (observation: FhirResource): Category | undefined {
  return CATEGORIES.find((category) =>
    LOINC_CODES[category].some((code) => hasCode(observation.code, LOINC, code)) ||
    SNOMED_STAGING_CODES[category].some((code) => hasCode(observation.code, SNOMED, code)))
}

/* ------------------------------------------------------------------ values */

// Categories as written: optional y/r/a and c/p prefixes, the letter, the category and its subdivision.
// Case-sensitive, so that "Committee" or "Cancer" in "American Joint Committee on Cancer cT3" is no match.
const T_VALUE = /(?<![A-Za-z0-9])((?:y|r|a)?[cp]?T(?:is|X|[0-4])(?:mi|[a-d])?)(?![A-Za-z0-9])/
const N_VALUE = /(?<![A-Za-z0-9])((?:y|r|a)?[cp]?N(?:X|[0-3])(?:mi|[a-c])?)(?![A-Za-z0-9])/
const M_VALUE = /(?<![A-Za-z0-9])(?:y|r|a)?[cp]?M([01])(?![0-9])/

/** The words of a value CodeableConcept in the order §6.8 reads them: codes, then displays, then text. */
function valueWords (observation: FhirResource): string[] {
  const concept = observation.valueCodeableConcept
  if (!isObject(concept)) return []
  const codings = codingsOf(concept)
  return [
    ...codings.flatMap((coding) => coding.code === undefined ? [] : [coding.code]),
    ...codings.flatMap((coding) => coding.display === undefined ? [] : [coding.display]),
    ...(typeof concept.text === 'string' ? [concept.text] : [])
  ]
}

function firstMatch (words: readonly string[], pattern: RegExp): RegExpExecArray | undefined {
  for (const word of words) {
    const match = pattern.exec(word)
    if (match !== null) return match
  }
  return undefined
}

function categoryValue (category: Exclude<Category, 'stageGroup'>, observation: FhirResource): string | undefined {
  const words = valueWords(observation)
  if (category === 'stagingM') {
    const match = firstMatch(words, M_VALUE)
    return match === undefined ? undefined : `M${match[1] as string}`
  }
  return firstMatch(words, category === 'stagingT' ? T_VALUE : N_VALUE)?.[1]
}

const ROMAN: Readonly<Record<string, Stage>> = { 0: 0, I: 1, II: 2, III: 3, IV: 4, 1: 1, 2: 2, 3: 3, 4: 4 }
const STAGE_ALONE = /^\s*(?:stage\s*)?(IV|III|II|I|[0-4])(?:[A-C]\d?)?\s*$/i
const STAGE_NAMED = /\bstage\s*(IV|III|II|I|[0-4])(?:[A-C]\d?)?\b/i
const STAGE_IV = /\bIV[A-C]?\b/

/**
 * A stage group 0–4 (§6.8): the cancerstaging.org code (`4`, `3A`), a display or text that is the
 * stage alone (`IIIA`) or names it (`Stage 3A`), or any display with "IV".
 */
function stageOf (observation: FhirResource): Stage | undefined {
  const concept = observation.valueCodeableConcept
  const codings = codingsOf(concept)
  const candidates = [
    ...codings.filter((coding) => coding.system === CANCER_STAGING_SYSTEM).flatMap((coding) => coding.code ?? []),
    ...wordsOf(concept)
  ]
  for (const word of candidates) {
    const match = STAGE_ALONE.exec(word) ?? STAGE_NAMED.exec(word)
    if (match !== null) return ROMAN[(match[1] as string).toUpperCase()]
    if (STAGE_IV.test(word)) return 4
  }
  return undefined
}

const STAGE_WORDS = ['0', 'I', 'II', 'III', 'IV'] as const

/** The value as the EHR wrote it, for displays: text, else a display, else a code. */
function writtenValue (observation: FhirResource): string {
  const concept = observation.valueCodeableConcept
  return wordsOf(concept)[0] ?? codingsOf(concept).find((coding) => coding.code !== undefined)?.code ?? ''
}

/* ------------------------------------------------------------- the section */

interface Reading { value: string | undefined, written: string }

export function mapStaging (ctx: MappingContext): void {
  const byCategory: Record<Category, FhirResource[]> = { stagingT: [], stagingN: [], stagingM: [], stageGroup: [] }
  for (const observation of ctx.ofType('Observation')) {
    const category = categoryOf(observation)
    if (category === undefined || !statusUsable(ctx, observation)) continue
    byCategory[category].push(observation)
  }
  const stageGroup = latestStageGroup(ctx, byCategory.stageGroup)
  const fields: ReadonlyArray<readonly [Exclude<Category, 'stageGroup'>, 't' | 'n' | 'm', string]> = [
    ['stagingT', 't', 'AJCC T category'], ['stagingN', 'n', 'AJCC N category'], ['stagingM', 'm', 'AJCC M category']
  ]
  for (const [category, key, label] of fields) {
    const chosen = latestReading(ctx, byCategory[category], label, `disease.ajcc.${key}`, (observation) => categoryValue(category, observation))
    if (chosen?.item.value !== undefined) {
      setAjcc(ctx, key, chosen.item.value, { label, display: withDate(chosen.item.value, chosen.date), refs: [refOf(chosen.resource)], ...dateOf(chosen.date) })
    }
  }
  if (ctx.draft.disease?.ajcc?.m === undefined) mFromStageGroup(ctx, stageGroup)
  metastaticDateFromStaging(ctx, byCategory.stagingM, byCategory.stageGroup)
}

/** §6.8: without an M category, the latest stage group gives M1 for IV and M0 for 0–III. */
function mFromStageGroup (ctx: MappingContext, stageGroup: { group?: StageGroup, unreadable?: string }): void {
  if (stageGroup.unreadable !== undefined) ctx.gap('disease.ajcc.m', stageGroup.unreadable)
  const group = stageGroup.group
  if (group === undefined) return
  const m = group.stage === 4 ? 'M1' : 'M0'
  setAjcc(ctx, 'm', m, {
    label: 'AJCC M category',
    display: withDate(`${m} from stage group ${STAGE_WORDS[group.stage]} ("${group.written}")`, group.date),
    refs: [group.ref],
    ...dateOf(group.date)
  })
}

/**
 * The newest Observation of one category (§6.1 rule 5), read. A newest value that cannot be read is a
 * gap (FHIR_VALUE_UNREADABLE): an older readable value does not replace it.
 */
function latestReading (ctx: MappingContext, observations: FhirResource[], label: string, path: string | undefined, read: (observation: FhirResource) => string | undefined): Dated<Reading> | undefined {
  const candidates = observations.map((resource) => ({
    item: { value: read(resource), written: writtenValue(resource) },
    resource,
    date: resourceDate(ctx, resource)
  }))
  const chosen = latest(ctx, candidates, label, (a, b) => a.value === b.value)
  if (chosen !== undefined && chosen.item.value === undefined) {
    const message = `${refOf(chosen.resource)}: ${label} value not readable`
    ctx.warn('FHIR_VALUE_UNREADABLE', `${message}.`)
    if (path !== undefined) ctx.gap(path, message)
  }
  return chosen
}

/**
 * The latest stage group, kept in ctx.state (derived.ts reads it). An unreadable newest stage group
 * is returned as the gap text: it matters only when no M category was read.
 */
function latestStageGroup (ctx: MappingContext, observations: FhirResource[]): { group?: StageGroup, unreadable?: string } {
  const chosen = latestReading(ctx, observations, 'AJCC stage group', undefined, (observation) => {
    const stage = stageOf(observation)
    return stage === undefined ? undefined : String(stage)
  })
  if (chosen === undefined) return {}
  if (chosen.item.value === undefined) return { unreadable: `${refOf(chosen.resource)}: AJCC stage group value not readable` }
  const group = {
    stage: Number(chosen.item.value) as Stage,
    written: chosen.item.written,
    ref: refOf(chosen.resource),
    ...dateOf(chosen.date)
  }
  ctx.state.latestStageGroup = group
  return { group }
}

function setAjcc (ctx: MappingContext, key: 't' | 'n' | 'm', value: string, source: { label: string, display: string, refs: string[], date?: string }): void {
  const disease = ctx.draft.disease ??= {}
  const ajcc = disease.ajcc ??= {}
  if (key === 'm') ajcc.m = value as 'M0' | 'M1'
  else ajcc[key] = value
  ctx.source(`disease.ajcc.${key}`, source)
}

/** §6.3: without a Condition date, the earliest M1 or stage IV Observation dates the metastatic diagnosis. */
function metastaticDateFromStaging (ctx: MappingContext, mObservations: FhirResource[], groupObservations: FhirResource[]): void {
  if (ctx.draft.disease?.metastaticDiagnosisDate !== undefined) return
  const metastatic = [
    ...mObservations.filter((observation) => categoryValue('stagingM', observation) === 'M1').map((resource) => ({ resource, what: 'M1' })),
    ...groupObservations.filter((observation) => stageOf(observation) === 4).map((resource) => ({ resource, what: 'stage IV' }))
  ].flatMap(({ resource, what }) => {
    const date = resourceDate(ctx, resource)
    return date === undefined || date > ctx.evaluationDate ? [] : [{ resource, what, date }]
  }).sort((a, b) => a.date < b.date ? -1 : a.date > b.date ? 1 : 0)
  const first = metastatic[0]
  if (first === undefined) return
  const disease = ctx.draft.disease ??= {}
  disease.metastaticDiagnosisDate = first.date
  ctx.source('disease.metastaticDiagnosisDate', {
    label: 'Date metastatic disease was diagnosed',
    display: `${first.date} (earliest ${first.what} staging)`,
    refs: metastatic.filter((entry) => entry.date === first.date).map((entry) => refOf(entry.resource)),
    date: first.date
  })
}

const withDate = (text: string, date: string | undefined): string => date === undefined ? text : `${text} (${date})`
const dateOf = (date: string | undefined): { date?: string } => date === undefined ? {} : { date }
