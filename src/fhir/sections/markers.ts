import { her2Status } from '../../engine/classification.js'
import { FACT_LINEAGE } from '../../engine/fact-lineage.js'
import type { Case } from '../../schemas/case.js'
import type { Her2Status } from '../../schemas/common.js'
import { LOINC_CODES, MARKER_ANSWERS } from '../codes.js'
import { SYSTEMS } from '../constants.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { asArray, asString, codingsOf, isObject, latest, readQuantity, resourceDate, statusUsable, wordsOf, type UnitTable } from '../read.js'
import type { FhirResource } from '../types.js'
import {
  bodySiteWords, candidates, chooseLatest, focusReferences, hasAnyCode, hasKnownCode, isCaseFact, reportUnusable, roundHalfUp, shownDate,
  type Candidate, type Chosen, type Reading
} from './observation-values.js'

/**
 * §6.4 Tumour markers: HER2 (IHC score, ISH result, ratio, copies, stand-ins), its sample
 * (`her2Source`), ER and PR. Each Observation is classified into one row of the §6.4 table by code,
 * else by its words; its value into the value classes of §6.4; then the latest usable result of each
 * row fills the Case.
 */

type Row = 'her2IshRatio' | 'her2IshCopyNumber' | 'her2IshResult' | 'her2Ihc' | 'her2Overall' |
  'erPercent' | 'erPresence' | 'prPercent' | 'prPresence'
type Marker = 'her2' | 'er' | 'pr'

interface RowSpec {
  row: Row
  marker: Marker
  /** Rows of one family never conflict (ISH result/ratio/copies; % and presence of one receptor). */
  family: 'ish' | 'ihc' | 'overall' | 'er' | 'pr'
  codes: readonly string[]
  text: (words: string) => boolean
}

// §6.4 text patterns: HER2 rows need HER2|ERBB2, plus FISH|ISH|in situ for ISH (with ratio or
// copy|copies for those rows) or immun|IHC for IHC, else the overall row; ER rows need
// estrogen|oestrogen|\bER\b, PR rows progesterone|\bPR\b, and the % rows %|percent|cells.
const HER2 = /HER2|ERBB2/i
const ISH = /FISH|ISH|in situ/i
const IHC = /immun|IHC/i
const RATIO = /ratio/i
const COPIES = /copy|copies/i
const ER = /estrogen|oestrogen|\bER\b/i
const PR = /progesterone|\bPR\b/i
const PERCENT = /%|percent|cells/i

/** The §6.4 rows, most specific first: ISH, then IHC, then overall; % before presence. */
const ROWS: readonly RowSpec[] = [
  { row: 'her2IshRatio', marker: 'her2', family: 'ish', codes: LOINC_CODES.her2IshRatio, text: (w) => HER2.test(w) && ISH.test(w) && RATIO.test(w) },
  { row: 'her2IshCopyNumber', marker: 'her2', family: 'ish', codes: LOINC_CODES.her2IshCopyNumber, text: (w) => HER2.test(w) && ISH.test(w) && COPIES.test(w) },
  { row: 'her2IshResult', marker: 'her2', family: 'ish', codes: LOINC_CODES.her2IshResult, text: (w) => HER2.test(w) && ISH.test(w) },
  { row: 'her2Ihc', marker: 'her2', family: 'ihc', codes: LOINC_CODES.her2Ihc, text: (w) => HER2.test(w) && IHC.test(w) },
  { row: 'her2Overall', marker: 'her2', family: 'overall', codes: LOINC_CODES.her2Overall, text: (w) => HER2.test(w) },
  { row: 'erPercent', marker: 'er', family: 'er', codes: LOINC_CODES.erPercent, text: (w) => ER.test(w) && PERCENT.test(w) },
  { row: 'erPresence', marker: 'er', family: 'er', codes: LOINC_CODES.erPresence, text: (w) => ER.test(w) },
  { row: 'prPercent', marker: 'pr', family: 'pr', codes: LOINC_CODES.prPercent, text: (w) => PR.test(w) && PERCENT.test(w) },
  { row: 'prPresence', marker: 'pr', family: 'pr', codes: LOINC_CODES.prPresence, text: (w) => PR.test(w) }
]

/** The code names one row and the words another that is not merely less specific (§6.1 rule 6). */
function rowsConflict (byCode: RowSpec, byWords: RowSpec): boolean {
  if (byCode.marker !== byWords.marker) return true
  return byCode.family !== byWords.family && byCode.family !== 'overall' && byWords.family !== 'overall'
}

/**
 * The row of an Observation (§6.4, §6.1 rule 6): the most specific row any coding names; without one
 * (and no coding another table knows), the most specific row any of its words matches, with
 * FHIR_MATCHED_BY_TEXT. Case-fact Observations are never markers.
 */
function classify (ctx: MappingContext, observation: FhirResource): Row | undefined {
  if (isCaseFact(observation)) return undefined
  const what = refOf(observation)
  const loinc = codingsOf(observation.code).filter((coding) => coding.system === SYSTEMS.loinc).map((coding) => coding.code)
  const byCode = ROWS.find((spec) => spec.codes.some((code) => loinc.includes(code)))
  const words = wordsOf(observation.code)
  const byWords = ROWS.find((spec) => words.some(spec.text))
  if (byCode !== undefined) {
    if (byWords !== undefined && rowsConflict(byCode, byWords)) {
      ctx.warn('FHIR_CODE_DISPLAY_CONFLICT', `${what}: the code and the display text name different tumour markers; the code was used.`)
    }
    return byCode.row
  }
  if (byWords === undefined || hasKnownCode(observation)) return undefined
  ctx.warn('FHIR_MATCHED_BY_TEXT', `${what}: recognised as a tumour marker by its text, not by a known code.`)
  return byWords.row
}

/* ------------------------------------------------------------ value classes */

type Score = '0' | '1+' | '2+' | '3+'
type Presence = 'positive' | 'negative' | 'equivocal'
interface ScoreReading { score: Score, numeric: boolean }

const SCORE = /^(IHC\s*)?(score\s*)?([0-3])\s*\+?$/i
// Negative words are tested first: "not amplified" contains "amplified". Equivocal words come before
// the positive ones, so that "borderline positive" reads as equivocal (ISH is then requested).
const NEGATIVE = /\b(negative|neg|not\s+amplified|non-?amplified)\b/i
const EQUIVOCAL = /\b(equivocal|borderline|indeterminate)\b/i
const POSITIVE = /\b(positive|pos|amplified)\b/i

const toScore = (digit: string): Score => digit === '0' ? '0' : `${digit}+` as Score

/** A quantity without any unit or comparator (real data sends `{ "value": 3 }`). */
function unitlessNumber (quantity: unknown): number | undefined {
  if (!isObject(quantity) || typeof quantity.value !== 'number') return undefined
  if (quantity.unit !== undefined || quantity.code !== undefined || quantity.comparator !== undefined) return undefined
  return quantity.value
}

/** A score 0/1+/2+/3+ from any value[x] (§6.4 value classes); valueInteger or a unitless quantity is numeric. */
function scoreOf (observation: FhirResource): ScoreReading | undefined {
  const concept = observation.valueCodeableConcept
  const strings = [
    asString(observation.valueString),
    isObject(concept) ? asString(concept.text) : undefined,
    ...codingsOf(concept).flatMap((coding) => [coding.code, coding.display])
  ].filter((value): value is string => value !== undefined)
  for (const value of strings) {
    const match = SCORE.exec(value.trim())
    if (match !== null) return { score: toScore(match[3] as string), numeric: false }
  }
  for (const number of [observation.valueInteger, unitlessNumber(observation.valueQuantity)]) {
    if (typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= 3) return { score: toScore(String(number)), numeric: true }
  }
  return undefined
}

/** The presence class of a value: answer codes first, then words (negative, equivocal, positive). */
function presenceOf (observation: FhirResource): Presence | undefined {
  const concept = observation.valueCodeableConcept
  if (hasAnyCode(concept, MARKER_ANSWERS.negative)) return 'negative'
  if (hasAnyCode(concept, MARKER_ANSWERS.positive)) return 'positive'
  const words = [asString(observation.valueString), ...wordsOf(concept)].filter((word): word is string => word !== undefined).join(' | ')
  if (NEGATIVE.test(words)) return 'negative'
  if (EQUIVOCAL.test(words)) return 'equivocal'
  if (POSITIVE.test(words)) return 'positive'
  return undefined
}

const UNREADABLE = { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: 'the value is not a readable tumour-marker result' } as const

/* -------------------------------------------------------------------- HER2 */

const RATIO_UNITS: UnitTable = { '{ratio}': (v) => v, 1: (v) => v, '': (v) => v }
const COPY_UNITS: UnitTable = { '{copies}/{cell}': (v) => v, '/{cell}': (v) => v, '': (v) => v }
const RELATED_CONDITION = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-condition'

/** The unit a quantity was sent in (called only for a quantity whose unit was not accepted). */
const unitText = (quantity: unknown): string => String((quantity as Record<string, unknown>).code ?? (quantity as Record<string, unknown>).unit)

/**
 * A HER2 ISH number (§6.4, §6.8a): ratio as `valueQuantity` ({ratio}, 1 or no unit) or `valueRatio`;
 * copies per cell as `valueQuantity` ({copies}/{cell}, /{cell} or no unit). A bound is no value.
 */
function readIshNumber (observation: FhirResource, units: UnitTable, max: number, name: string, allowRatio: boolean): Reading<number> {
  const ratio = observation.valueRatio
  if (allowRatio && isObject(ratio)) {
    const [numerator, denominator] = [ratio.numerator, ratio.denominator].map((part) => isObject(part) && part.comparator === undefined && typeof part.value === 'number' ? part.value : undefined)
    if (numerator === undefined || denominator === undefined || denominator <= 0) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `the ${name} is not a numerator and a positive denominator` }
    return numberReading(numerator / denominator, max, name)
  }
  const quantity = readQuantity(observation.valueQuantity, units)
  if (quantity === 'unknown-unit') return { ok: false, code: 'FHIR_UNIT_UNKNOWN', reason: `the unit "${unitText(observation.valueQuantity)}" of the ${name} is not one §6.8a accepts` }
  if (quantity === undefined) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `no ${name} value` }
  if (quantity.comparator !== undefined) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `the ${name} is a bound (${quantity.comparator} ${quantity.value}), not a value` }
  return numberReading(quantity.value, max, name)
}

function numberReading (value: number, max: number, name: string): Reading<number> {
  if (value < 0 || value > max) return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `the ${name} ${value} is outside 0–${max}` }
  return { ok: true, value, display: `${name} ${value}` }
}

const PRESENCE_TO_ISH = { positive: 'amplified', negative: 'not_amplified', equivocal: 'equivocal' } as const
const PRESENCE_TO_STATUS: Record<Presence, Her2Status> = { positive: 'positive', negative: 'negative', equivocal: 'equivocal' }

interface Her2Inputs {
  ihcScores: Array<Candidate<ScoreReading>>
  ihcPresence: Array<Candidate<Presence>>
  ishResults: Array<Candidate<Presence>>
  ratios: Array<Candidate<number>>
  copies: Array<Candidate<number>>
  overall: Array<Candidate<Presence>>
}

function her2Inputs (ctx: MappingContext, rows: ReadonlyArray<{ observation: FhirResource, row: Row }>): Her2Inputs {
  const inputs: Her2Inputs = { ihcScores: [], ihcPresence: [], ishResults: [], ratios: [], copies: [], overall: [] }
  const read = <T>(observation: FhirResource, reading: Reading<T>): Candidate<T> => ({ resource: observation, date: resourceDate(ctx, observation), reading })
  const unreadable = (observation: FhirResource, path: string, reason: string): void => {
    reportUnusable(ctx, observation, resourceDate(ctx, observation), { code: 'FHIR_VALUE_UNREADABLE', reason }, path)
  }
  for (const { observation, row } of rows) {
    if (row === 'her2Ihc') {
      const score = scoreOf(observation)
      const presence = presenceOf(observation)
      if (score !== undefined) inputs.ihcScores.push(read(observation, { ok: true, value: score, display: `IHC ${score.score}` }))
      else if (presence !== undefined) inputs.ihcPresence.push(read(observation, { ok: true, value: presence, display: `${presence}, no IHC score given` }))
      else unreadable(observation, 'tumor.her2Ihc', 'the HER2 IHC value is neither a score nor positive/negative/equivocal')
    } else if (row === 'her2IshResult') {
      const presence = presenceOf(observation)
      if (presence !== undefined) inputs.ishResults.push(read(observation, { ok: true, value: presence, display: `ISH ${PRESENCE_TO_ISH[presence].replace('_', ' ')}` }))
      else unreadable(observation, 'tumor.her2IshResult', 'the HER2 ISH result is not positive/negative/equivocal')
    } else if (row === 'her2IshRatio') {
      inputs.ratios.push(read(observation, readIshNumber(observation, RATIO_UNITS, 50, 'HER2/CEP17 ratio', true)))
    } else if (row === 'her2IshCopyNumber') {
      const reading = readIshNumber(observation, COPY_UNITS, 100, 'HER2 copies per cell', false)
      inputs.copies.push(read(observation, reading.ok ? { ...reading, display: `${reading.value} HER2 copies per cell` } : reading))
    } else {
      const presence = presenceOf(observation)
      if (presence !== undefined) inputs.overall.push(read(observation, { ok: true, value: presence, display: `HER2 ${presence} (overall interpretation), no score given` }))
      else unreadable(observation, 'tumor.her2Ihc', 'the HER2 overall interpretation is not positive/negative/equivocal')
    }
  }
  return inputs
}

function mapHer2 (ctx: MappingContext, rows: ReadonlyArray<{ observation: FhirResource, row: Row }>): void {
  const tumor = ctx.draft.tumor ??= {}
  const inputs = her2Inputs(ctx, rows)
  const sameScore = (a: ScoreReading, b: ScoreReading): boolean => a.score === b.score
  const ihc = chooseLatest(ctx, inputs.ihcScores, 'tumor.her2Ihc', 'HER2 IHC score', sameScore)
  const ish = chooseLatest(ctx, inputs.ishResults, 'tumor.her2IshResult', 'HER2 ISH result')
  const ratio = chooseLatest(ctx, inputs.ratios, 'tumor.her2IshRatio', 'HER2 ISH ratio')
  const copies = chooseLatest(ctx, inputs.copies, 'tumor.her2IshCopyNumber', 'HER2 copies per cell')

  if (ihc !== undefined) {
    tumor.her2Ihc = ihc.value.score
    ctx.source('tumor.her2Ihc', entry(FACT_LINEAGE.her2Ihc.label, ihc))
    if (ihc.value.numeric) ctx.warn('FHIR_HER2_NUMERIC_SCORE', `${refOf(ihc.resource)}: the HER2 IHC score was sent as a number and read as ${ihc.value.score}.`)
  }
  if (ish !== undefined) {
    tumor.her2IshResult = PRESENCE_TO_ISH[ish.value]
    ctx.source('tumor.her2IshResult', entry('HER2 in-situ hybridisation result', ish))
  }
  if (ratio !== undefined) {
    tumor.her2IshRatio = ratio.value
    ctx.source('tumor.her2IshRatio', entry('HER2/CEP17 ratio (dual-probe ISH)', ratio))
  }
  if (copies !== undefined) {
    tumor.her2IshCopyNumber = copies.value
    ctx.source('tumor.her2IshCopyNumber', entry('HER2 signals per cell (ISH)', copies))
  }

  let used: Chosen<unknown> | undefined = ihc ?? ish ?? ratio ?? copies
  if (used === undefined) {
    used = her2StandIn(ctx, inputs)
  } else {
    tumor.her2Ihc ??= 'not_done'
    checkOverallAgrees(ctx, inputs.overall, tumor)
  }
  if (used !== undefined) mapHer2Source(ctx, used.resource)
}

/**
 * §6.4: only when there is no IHC score and no ISH value at all, the latest presence-only IHC result
 * or 48676-1 stands in (FHIR_HER2_STATUS_WITHOUT_SCORE): positive → IHC 3+; negative → IHC not_done
 * and ISH not_amplified [D] (never IHC 0); equivocal → IHC 2+. Nothing usable → IHC not_done and the
 * gap "no HER2 result in the record".
 */
function her2StandIn (ctx: MappingContext, inputs: Her2Inputs): Chosen<Presence> | undefined {
  const tumor = ctx.draft.tumor ??= {}
  const standIn = chooseLatest(ctx, [...inputs.ihcPresence, ...inputs.overall], 'tumor.her2Ihc', 'HER2 result without a score')
  if (standIn === undefined) {
    tumor.her2Ihc = 'not_done'
    ctx.gap('tumor.her2Ihc', 'no HER2 result in the record')
    return undefined
  }
  const source = { ...entry(FACT_LINEAGE.her2Ihc.label, standIn), standIn: true as const }
  if (standIn.value === 'positive') tumor.her2Ihc = '3+'
  if (standIn.value === 'equivocal') tumor.her2Ihc = '2+'
  if (standIn.value === 'negative') {
    tumor.her2Ihc = 'not_done'
    tumor.her2IshResult = 'not_amplified'
    ctx.source('tumor.her2IshResult', { ...source, label: 'HER2 in-situ hybridisation result' })
  }
  ctx.source('tumor.her2Ihc', source)
  ctx.warn('FHIR_HER2_STATUS_WITHOUT_SCORE', `${refOf(standIn.resource)}: HER2 reported as ${standIn.value} without an IHC score or ISH result; read as ${standIn.value === 'negative' ? 'IHC not done, ISH not amplified' : `IHC ${tumor.her2Ihc}`}.`)
  return standIn
}

/** §6.4: 48676-1 that disagrees with the status computed from IHC/ISH → the specific results win, FHIR_HER2_CONFLICT. */
function checkOverallAgrees (ctx: MappingContext, overall: ReadonlyArray<Candidate<Presence>>, tumor: NonNullable<MappingContext['draft']['tumor']>): void {
  // Only usable interpretations are collected (her2Inputs reports the others).
  const usable = overall.map((candidate) => ({ item: (candidate.reading as { value: Presence }).value, resource: candidate.resource, date: candidate.date }))
  const interpretation = latest(ctx, usable, 'HER2 overall interpretation')
  if (interpretation === undefined) return
  // The engine's classification (clinical-rules.md "her2Status") reads only the HER2 fields of the tumour.
  const status = her2Status(tumor as Case['tumor'])
  const what = refOf(interpretation.resource)
  if (status === 'unknown') {
    ctx.gap('tumor.her2Ihc', `${what} (${shownDate(interpretation.date)}): HER2 overall interpretation ${interpretation.item} not used, since ISH values are present`)
  } else if (status !== PRESENCE_TO_STATUS[interpretation.item]) {
    ctx.warn('FHIR_HER2_CONFLICT', `${what}: the HER2 overall interpretation (${interpretation.item}) disagrees with the status from IHC/ISH (${status}); the IHC/ISH results were used.`)
  }
}

/* -------------------------------------------------------------- her2Source */

type Sample = 'primary' | 'metastasis'

const BREAST = /breast/i

/** A body site: breast → primary, any other named site → metastasis, no words → unknown. */
function siteSample (bodySite: unknown): Sample | undefined {
  const words = bodySiteWords(bodySite)
  if (words.length === 0) return undefined
  return words.some((word) => BREAST.test(word)) ? 'primary' : 'metastasis'
}

function conditionSample (ctx: MappingContext, resource: FhirResource): Sample | undefined {
  const ref = refOf(resource)
  const among = (list: readonly FhirResource[]): boolean => list.some((condition) => condition === resource || refOf(condition) === ref)
  if (among(ctx.state.metastaticConditions)) return 'metastasis'
  if (among(ctx.state.primaryConditions)) return 'primary'
  return siteSample(resource.bodySite)
}

function sampleOf (ctx: MappingContext, resource: FhirResource): Sample | undefined {
  if (resource.resourceType === 'Condition') return conditionSample(ctx, resource)
  if (resource.resourceType === 'Specimen' && isObject(resource.collection)) return siteSample(resource.collection.bodySite)
  return undefined
}

/**
 * §6.4 `tumor.her2Source` from the result used: its `focus`, its mcode-related-condition extension,
 * or its specimen's `collection.bodySite`. A secondary Condition or a non-breast site → metastasis;
 * the primary or a breast site → primary; else absent (a fact may give it, §6.8).
 */
function mapHer2Source (ctx: MappingContext, observation: FhirResource): void {
  const related = asArray(observation.extension).flatMap((extension) =>
    isObject(extension) && extension.url === RELATED_CONDITION && isObject(extension.valueReference) && typeof extension.valueReference.reference === 'string'
      ? [extension.valueReference.reference]
      : [])
  const specimen = isObject(observation.specimen) && typeof observation.specimen.reference === 'string' ? [observation.specimen.reference] : []
  for (const reference of [...focusReferences(observation), ...related, ...specimen]) {
    const resolved = ctx.resolve(reference, observation)
    const sample = resolved === undefined ? undefined : sampleOf(ctx, resolved)
    if (sample === undefined) continue
    const tumor = ctx.draft.tumor ??= {}
    tumor.her2Source = sample
    ctx.source('tumor.her2Source', { label: FACT_LINEAGE.her2Source.label, display: `${sample} (sample of ${refOf(resolved as FhirResource)})`, refs: [refOf(observation), refOf(resolved as FhirResource)] })
    ctx.state.derived.add('tumor.her2Source')
    return
  }
}

/* ------------------------------------------------------------------ ER / PR */

type Receptor = { kind: 'percent', value: number } | { kind: 'category', value: 'positive' | 'negative' }

const PERCENT_UNITS: UnitTable = { '%': (v) => v, '': (v) => v }

/**
 * §6.4 ER/PR: a % (or unitless) quantity without comparator, 0–100, rounded half up; else a category
 * from the presence class, or from a bound (> / >= with a bound ≥ 1 → positive, < / <= with a bound
 * ≤ 1 → negative); anything else is unusable.
 */
function readReceptor (observation: FhirResource): Reading<Receptor> {
  const quantity = readQuantity(observation.valueQuantity, PERCENT_UNITS)
  let problem: Reading<Receptor> = UNREADABLE
  if (quantity === 'unknown-unit') {
    problem = { ok: false, code: 'FHIR_UNIT_UNKNOWN', reason: `the unit "${unitText(observation.valueQuantity)}" is not %` }
  } else if (quantity !== undefined && quantity.comparator === undefined) {
    if (quantity.value >= 0 && quantity.value <= 100) {
      const percent = roundHalfUp(quantity.value)
      return { ok: true, value: { kind: 'percent', value: percent }, display: `${percent} %` }
    }
    problem = { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `${quantity.value} % is outside 0–100` }
  }
  const presence = presenceOf(observation)
  if (presence === 'positive' || presence === 'negative') {
    return { ok: true, value: { kind: 'category', value: presence }, display: `${presence}, no percentage given` }
  }
  if (quantity !== undefined && quantity !== 'unknown-unit' && quantity.comparator !== undefined) {
    const { comparator, value } = quantity
    const shown = `${comparator} ${value} %, no exact percentage given`
    if ((comparator === '>' || comparator === '>=') && value >= 1) return { ok: true, value: { kind: 'category', value: 'positive' }, display: shown }
    if ((comparator === '<' || comparator === '<=') && value <= 1) return { ok: true, value: { kind: 'category', value: 'negative' }, display: shown }
    problem = { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `the bound ${comparator} ${value} % gives no category` }
  }
  return problem
}

/** The latest receptor result across its rows; on the same date a % beats a category (§6.4). */
function chooseReceptor (ctx: MappingContext, all: ReadonlyArray<Candidate<Receptor>>, path: string, what: string): Chosen<Receptor> | undefined {
  const usable = all.filter((candidate) => candidate.reading.ok)
  const newest = latest(ctx, usable.map((candidate) => ({ item: candidate, resource: candidate.resource, date: candidate.date })), what, () => true)
  const sameDate = usable.filter((candidate) => candidate.date === newest?.date)
  const percent = sameDate.filter((candidate) => candidate.reading.ok && candidate.reading.value.kind === 'percent')
  const pool = percent.length > 0 ? percent : sameDate
  const same = (a: Receptor, b: Receptor): boolean => a.kind === b.kind && a.value === b.value
  return chooseLatest(ctx, [...pool, ...all.filter((candidate) => !candidate.reading.ok)], path, what, same)
}

function mapReceptors (ctx: MappingContext, rows: ReadonlyArray<{ observation: FhirResource, row: Row }>): void {
  const of = (marker: 'er' | 'pr'): Array<Candidate<Receptor>> => candidates(ctx,
    rows.filter(({ row }) => row === `${marker}Percent` || row === `${marker}Presence`).map(({ observation }) => observation), readReceptor)
  const er = chooseReceptor(ctx, of('er'), 'tumor.erPercent', 'ER result')
  const pr = chooseReceptor(ctx, of('pr'), 'tumor.prPercent', 'PR result')
  if (er !== undefined || pr !== undefined) ctx.draft.tumor ??= {}
  const tumor = ctx.draft.tumor
  const erLabel = 'Oestrogen-receptor positive tumour cells (%)'
  if (er !== undefined && tumor !== undefined) {
    if (er.value.kind === 'percent') {
      tumor.erPercent = er.value.value
      ctx.source('tumor.erPercent', entry(erLabel, er))
    } else {
      // [D] positive → 11 (the draft's "treat as > 10 %"); negative → 0.
      const standIn = er.value.value === 'positive' ? 11 : 0
      tumor.erPercent = standIn
      ctx.source('tumor.erPercent', { ...entry(erLabel, er), standIn: true })
      ctx.gap('tumor.erPercent', 'ER % not reported')
      ctx.warn('FHIR_ER_PERCENT_STAND_IN', `${refOf(er.resource)}: ER reported as ${er.value.value} without a percentage; ${standIn} % stands in.`)
    }
  }
  if (pr !== undefined && tumor !== undefined) {
    if (pr.value.kind === 'percent') {
      tumor.prPercent = pr.value.value
      ctx.source('tumor.prPercent', entry('Progesterone-receptor positive tumour cells (%)', pr))
    } else {
      ctx.gap('tumor.prPercent', `PR % not reported: ${refOf(pr.resource)} (${shownDate(pr.date)}) gives ${pr.display}`)
    }
  }
}

/* -------------------------------------------------------------------- main */

function entry (label: string, chosen: Chosen<unknown>): { label: string, display: string, refs: string[], date?: string } {
  return {
    label,
    display: `${chosen.display} (${shownDate(chosen.date)})`,
    refs: chosen.refs,
    ...(chosen.date === undefined ? {} : { date: chosen.date })
  }
}

/** §6.4 HER2, ER, PR, her2Source. */
export function mapMarkers (ctx: MappingContext): void {
  const rows = ctx.ofType('Observation').flatMap((observation) => {
    const row = classify(ctx, observation)
    return row !== undefined && statusUsable(ctx, observation) ? [{ observation, row }] : []
  })
  mapHer2(ctx, rows.filter(({ row }) => row.startsWith('her2')))
  mapReceptors(ctx, rows.filter(({ row }) => !row.startsWith('her2')))
}
