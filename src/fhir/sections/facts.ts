import type { z } from 'zod'
import { FACT_LINEAGE as L } from '../../engine/fact-lineage.js'
import {
  Brain, Disease, EarlyStageTherapy, History, MetastaticLine, Neuro, NonSpineBoneLesion, Patient, Preferences, SinsComponents, SpineLesion, Tumor
} from '../../schemas/case.js'
import { spineLevelsIn } from '../anatomy.js'
import { LOINC_CODES } from '../codes.js'
import { CASE_FACT_SYSTEM } from '../constants.js'
import { refOf, type LesionRef, type MappingContext } from '../mapping-context.js'
import { asArray, calendarDate, codingsOf, isObject, latest, readQuantity, resourceDate, statusUsable, type UnitTable } from '../read.js'
import type { CasePath, FhirResource, SourceEntry } from '../types.js'
import {
  bodySiteWords, chooseLatest, focusReferences, getAt, isCaseFact, observationsByLoinc, reportUnusable, setAt, shownDate,
  type Candidate, type Reading
} from './observation-values.js'

/**
 * §6.8 / §6.8a case-fact Observations: Case fields without a standard FHIR representation, read from
 * Observations coded `{ system: CASE_FACT_SYSTEM, code: <Case path without indices> }`. Only the paths of
 * the §6.8 table (plus the §6.8a additions) are read; safety-relevant values come only from their
 * standard codes (FHIR_FACT_NOT_ALLOWED). The latest fact per path (per path and lesion, per path and
 * line) wins; a fact overrides a derived field (FHIR_FACT_OVERRIDES_DERIVED) but never a value mapped
 * from standard codes (FHIR_FACT_INCONSISTENT).
 *
 * How a fact names its target:
 * - a lesion fact (`disease.spineLesions.*`, `disease.nonSpineBoneLesions.*`): `focus` → the lesion's
 *   Condition (`ctx.state.lesionsByCondition`); a Condition with several spine levels also needs the
 *   level in the fact's `bodySite` text (`T7`, `thoracic vertebra 7`);
 * - a line fact (`history.metastaticLines.*`, `history.earlyStageTherapy.setting`): `focus` → one of the
 *   line's medication resources (MedicationRequest, MedicationAdministration or MedicationStatement, as
 *   the medications section lists them in the line's `sources`), or, for a metastatic line, a component
 *   `{ code: CASE_FACT_SYSTEM|history.metastaticLines.lineNumber, valueInteger: <lineNumber> }`.
 *   `progressionPattern` is read by the medications section from the component of the 97509-4
 *   Observation that ends the line (§6.8a); a fact Observation with that path is read here like the
 *   other line facts.
 */

type Kind = 'enum' | 'boolean' | 'integer' | 'number' | 'date'
type Scope = 'case' | 'spine' | 'nonSpine' | 'line' | 'early'

interface FactSpec {
  kind: Kind
  /** The Case schema's own field schema: a value it refuses is out of range. */
  schema: z.ZodType
  label: string
  /** List facts: one Observation per value; the values of the latest date form the list (§6.8). */
  list?: readonly string[]
  /** Number facts: accepted units, converted to the Case's unit (§6.8a). */
  units?: UnitTable
}

const MONTH_DAYS = 30.4375 // UCUM `mo` (mean Julian month)
const MONTHS: UnitTable = { mo: (v) => v, d: (v) => v / MONTH_DAYS, wk: (v) => v * 7 / MONTH_DAYS }
const HOURS: UnitTable = { h: (v) => v, d: (v) => v * 24, wk: (v) => v * 168 }
const CENTIMETRES: UnitTable = { cm: (v) => v, mm: (v) => v / 10 }

const fact = (kind: Kind, schema: z.ZodType, label: string, extra: Partial<FactSpec> = {}): FactSpec => ({ kind, schema, label, ...extra })
const brainRt = Brain.shape.priorRt.unwrap().shape
const bma = History.shape.boneModifyingAgent.unwrap().shape
const primarySymptom = Disease.shape.primarySymptoms.unwrap().element
const complication = bma.complications.unwrap().element

/** The §6.8 table of allowed paths, with the §6.8a additions (line outcome, maxIldGrade, early-stage setting, BMA agent none). */
export const FACT_PATHS: Readonly<Record<string, FactSpec>> = {
  'patient.ecogBeforeDeficit': fact('integer', Patient.shape.ecogBeforeDeficit, 'ECOG performance status before the neurological deficit (0–4)'),
  'patient.menopausalStatus': fact('enum', Patient.shape.menopausalStatus, L.menopausalStatus.label),
  'patient.surgicalCandidate': fact('boolean', Patient.shape.surgicalCandidate, L.surgicalCandidate.label),
  'patient.estimatedSurvivalMonths': fact('number', Patient.shape.estimatedSurvivalMonths, L.estimatedSurvivalMonths.label, { units: MONTHS }),
  'patient.heartFailureSymptoms': fact('enum', Patient.shape.heartFailureSymptoms, L.heartFailureSymptoms.label),
  'patient.ildHistory': fact('enum', Patient.shape.ildHistory, L.ildHistory.label),
  'patient.dentalStatus': fact('enum', Patient.shape.dentalStatus, L.dentalStatus.label),
  'patient.dpydStatus': fact('enum', Patient.shape.dpydStatus, L.dpydStatus.label),
  'patient.hypercalcaemiaSymptoms': fact('boolean', Patient.shape.hypercalcaemiaSymptoms, L.hypercalcaemiaSymptoms.label),
  'patient.gestationalWeeks': fact('integer', Patient.shape.gestationalWeeks, L.gestationalWeeks.label),
  'tumor.her2Source': fact('enum', Tumor.shape.her2Source, L.her2Source.label),
  'tumor.receptorDiscordance': fact('boolean', Tumor.shape.receptorDiscordance, L.receptorDiscordance.label),
  'disease.presentation': fact('enum', Disease.shape.presentation, L.presentation.label),
  'disease.primaryIntact': fact('boolean', Disease.shape.primaryIntact, L.primaryIntact.label),
  'disease.totalMetastaticLesions': fact('integer', Disease.shape.totalMetastaticLesions, L.totalMetastaticLesions.label),
  'disease.visceralCrisis': fact('boolean', Disease.shape.visceralCrisis, L.visceralCrisis.label),
  'disease.brainSymptoms': fact('boolean', Disease.shape.brainSymptoms, L.brainSymptoms.label),
  'disease.extracranialStatus': fact('enum', Disease.shape.extracranialStatus, L.extracranialStatus.label),
  'disease.primarySymptoms': fact('enum', primarySymptom, 'Symptoms of the intact primary', { list: primarySymptom.options }),
  'disease.neuro.deficit': fact('enum', Neuro.shape.deficit, L.neuroDeficitSign.label),
  'disease.neuro.ambulatory': fact('enum', Neuro.shape.ambulatory, 'Walking ability now'),
  'disease.neuro.deficitOnsetHours': fact('number', Neuro.shape.deficitOnsetHours, 'Hours since the neurological deficit began', { units: HOURS }),
  'disease.neuro.paraplegiaDurationHours': fact('number', Neuro.shape.paraplegiaDurationHours, 'Hours of complete paraplegia', { units: HOURS }),
  'disease.brain.present': fact('boolean', Brain.shape.present, L.brainPresent.label),
  'disease.brain.count': fact('integer', Brain.shape.count, L.brainCount.label),
  'disease.brain.maxDiameterCm': fact('number', Brain.shape.maxDiameterCm, L.brainMaxDiameterCm.label, { units: CENTIMETRES }),
  'disease.brain.symptomatic': fact('boolean', Brain.shape.symptomatic, L.brainSymptomatic.label),
  'disease.brain.massEffect': fact('boolean', Brain.shape.massEffect, L.brainMassEffect.label),
  'disease.brain.status': fact('enum', Brain.shape.status, L.brainStatus.label),
  'disease.brain.leptomeningeal': fact('boolean', Brain.shape.leptomeningeal, L.leptomeningeal.label),
  'disease.brain.priorRt.technique': fact('enum', brainRt.technique, L.brainPriorRtTechnique.label),
  'disease.brain.priorRt.date': fact('date', brainRt.date, 'Date of the latest brain radiotherapy'),
  'disease.spineLesions.contiguousLevels': fact('integer', SpineLesion.shape.contiguousLevels, L.lesionContiguousLevels.label),
  'disease.spineLesions.sinsTotal': fact('integer', SpineLesion.shape.sinsTotal, L.lesionSins.label),
  'disease.spineLesions.sinsComponents.location': fact('integer', SinsComponents.shape.location, 'SINS location (0–3)'),
  'disease.spineLesions.sinsComponents.pain': fact('integer', SinsComponents.shape.pain, 'SINS pain (0, 1, 3)'),
  'disease.spineLesions.sinsComponents.boneLesion': fact('integer', SinsComponents.shape.boneLesion, 'SINS bone lesion (0–2)'),
  'disease.spineLesions.sinsComponents.alignment': fact('integer', SinsComponents.shape.alignment, 'SINS alignment (0, 2, 4)'),
  'disease.spineLesions.sinsComponents.collapse': fact('integer', SinsComponents.shape.collapse, 'SINS vertebral body collapse (0–3)'),
  'disease.spineLesions.sinsComponents.posterolateral': fact('integer', SinsComponents.shape.posterolateral, 'SINS posterolateral involvement (0, 1, 3)'),
  'disease.spineLesions.bilsky': fact('enum', SpineLesion.shape.bilsky, L.lesionBilsky.label),
  'disease.spineLesions.painNrs': fact('integer', SpineLesion.shape.painNrs, L.lesionPainNrs.label),
  'disease.spineLesions.painType': fact('enum', SpineLesion.shape.painType, L.lesionPainType.label),
  'disease.spineLesions.pathologicFracture': fact('boolean', SpineLesion.shape.pathologicFracture, L.lesionPathologicFracture.label),
  'disease.nonSpineBoneLesions.painNrs': fact('integer', NonSpineBoneLesion.shape.painNrs, L.bonePainNrs.label),
  'disease.nonSpineBoneLesions.mirelsScore': fact('integer', NonSpineBoneLesion.shape.mirelsScore, L.boneMirelsScore.label),
  'disease.nonSpineBoneLesions.pathologicFracture': fact('boolean', NonSpineBoneLesion.shape.pathologicFracture, L.bonePathologicFracture.label),
  'history.boneModifyingAgent.complications': fact('enum', complication, L.bmaComplications.label, { list: complication.options }),
  // §6.8a: `agent: none` only; an agent given is read from the medications (§6.6).
  'history.boneModifyingAgent.agent': fact('enum', bma.agent.extract(['none']), L.bmaAgent.label),
  'history.metastaticLines.progressionPattern': fact('enum', MetastaticLine.shape.progressionPattern, 'Progression pattern on the metastatic line'),
  'history.metastaticLines.maxIldGrade': fact('integer', MetastaticLine.shape.maxIldGrade, 'Worst interstitial lung disease grade on the metastatic line (CTCAE 0–5)'),
  'history.metastaticLines.outcome': fact('enum', MetastaticLine.shape.outcome, 'Outcome of the metastatic line'),
  'history.earlyStageTherapy.setting': fact('enum', EarlyStageTherapy.shape.setting, 'Setting of the early-stage therapy'),
  'preferences.declinesChemotherapy': fact('boolean', Preferences.shape.declinesChemotherapy, L.declinesChemotherapy.label),
  'preferences.goalsOfCare': fact('enum', Preferences.shape.goalsOfCare, L.goalsOfCare.label),
  'preferences.asksAboutPrimarySurgery': fact('boolean', Preferences.shape.asksAboutPrimarySurgery, L.asksAboutPrimarySurgery.label)
}

/** The array prefix of each indexed scope. */
const SCOPES: ReadonlyArray<readonly [Scope, string]> = [
  ['spine', 'disease.spineLesions'],
  ['nonSpine', 'disease.nonSpineBoneLesions'],
  ['line', 'history.metastaticLines'],
  ['early', 'history.earlyStageTherapy']
]

function scopeOf (path: string): { scope: Scope, prefix: string } {
  const found = SCOPES.find(([, prefix]) => path.startsWith(`${prefix}.`))
  return found === undefined ? { scope: 'case', prefix: '' } : { scope: found[0], prefix: found[1] }
}

const LINE_NUMBER_CODE = 'history.metastaticLines.lineNumber'

/** The case-fact path an Observation names (its first CASE_FACT_SYSTEM coding). */
const factCode = (observation: FhirResource): string | undefined =>
  codingsOf(observation.code).find((coding) => coding.system === CASE_FACT_SYSTEM)?.code

/* ----------------------------------------------------------------- targets */

type Target = { ok: true, index: number } | { ok: false, reason: string, ambiguous?: true }

/** The focused resources' `Type/id` (resolved when the reference resolves, else the reference as written). */
function focusKeys (ctx: MappingContext, observation: FhirResource): string[] {
  return focusReferences(observation).map((reference) => {
    const resolved = ctx.resolve(reference, observation)
    return resolved === undefined ? reference : refOf(resolved)
  })
}

/** A lesion fact's lesion: `focus` → the lesion's Condition; several spine levels → the level in `bodySite` (§6.8). */
function lesionTarget (ctx: MappingContext, observation: FhirResource, kind: LesionRef['kind']): Target {
  const keys = focusKeys(ctx, observation)
  const indices = [...new Set(keys.flatMap((key) => (ctx.state.lesionsByCondition.get(key) ?? []).filter((lesion) => lesion.kind === kind).map((lesion) => lesion.index)))]
  const what = kind === 'spine' ? 'spine lesion' : 'non-spine bone lesion'
  if (indices.length === 1) return { ok: true, index: indices[0] as number }
  if (indices.length === 0) return { ok: false, reason: `its focus (${keys.join(', ') || 'none'}) names no ${what} of the record` }
  const levels: readonly string[] = kind === 'spine' ? spineLevelsIn(bodySiteWords(observation.bodySite)) : []
  const matching = indices.filter((index) => levels.includes(String(getAt(ctx.draft, `disease.spineLesions[${index}].level`))))
  if (matching.length === 1) return { ok: true, index: matching[0] as number }
  return { ok: false, reason: `its focus names a Condition with several ${what}s and its bodySite does not name one of them`, ambiguous: true }
}

/** A line fact's line: `focus` → a medication resource among the line's sources; else a lineNumber component. */
function lineTarget (ctx: MappingContext, observation: FhirResource, prefix: string): Target {
  const keys = focusKeys(ctx, observation)
  const pattern = new RegExp(`^${prefix.replace('.', '\\.')}\\[(\\d+)\\]`)
  const indices = new Set<number>()
  for (const [path, source] of Object.entries(ctx.sources)) {
    const match = pattern.exec(path)
    if (match !== null && source.refs.some((ref) => keys.includes(ref))) indices.add(Number(match[1]))
  }
  if (indices.size === 1) return { ok: true, index: [...indices][0] as number }
  if (indices.size > 1) return { ok: false, reason: `its focus (${keys.join(', ')}) belongs to several entries of ${prefix}` }
  if (prefix === 'history.metastaticLines') {
    const component = asArray(observation.component).find((part) => isObject(part) && codingsOf(part.code).some((coding) => coding.system === CASE_FACT_SYSTEM && coding.code === LINE_NUMBER_CODE))
    const lineNumber = isObject(component) ? component.valueInteger : undefined
    const lines = asArray(getAt(ctx.draft, prefix))
    const index = lines.findIndex((line) => isObject(line) && line.lineNumber === lineNumber)
    if (lineNumber !== undefined && index >= 0) return { ok: true, index }
    if (lineNumber !== undefined) return { ok: false, reason: `its lineNumber component (${String(lineNumber)}) names no metastatic line of the record` }
  }
  return { ok: false, reason: `it names no entry of ${prefix} (focus ${keys.join(', ') || 'none'})` }
}

/** The indexed Case path a fact writes, or why it has none. */
function targetPath (ctx: MappingContext, observation: FhirResource, code: string): { ok: true, path: CasePath } | { ok: false, reason: string } {
  const { scope, prefix } = scopeOf(code)
  if (scope === 'case') return { ok: true, path: code }
  const target = scope === 'spine' || scope === 'nonSpine' ? lesionTarget(ctx, observation, scope) : lineTarget(ctx, observation, prefix)
  return target.ok ? { ok: true, path: `${prefix}[${target.index}]${code.slice(prefix.length)}` } : target
}

/* ------------------------------------------------------------------ values */

interface FactValue { value: unknown, shown: string }

/** The value of a fact as typed by its path (§6.8), checked against the Case schema's own field schema. */
function readFactValue (ctx: MappingContext, observation: FhirResource, code: string, spec: FactSpec): Reading<FactValue> {
  const read = readTyped(ctx, observation, spec)
  if (!read.ok) return read
  if (!spec.schema.safeParse(read.value.value).success) {
    if (code === 'history.boneModifyingAgent.agent') return { ok: false, code: 'FHIR_FACT_NOT_ALLOWED', reason: `${code} "${read.value.shown}": only "none" is read from a fact; an agent given comes from the medications` }
    return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `${code} ${read.value.shown} is outside what the Case allows` }
  }
  return read
}

function readTyped (ctx: MappingContext, observation: FhirResource, spec: FactSpec): Reading<FactValue> {
  const unreadable = (what: string): Reading<FactValue> => ({ ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `the fact's value is not ${what}` })
  const ok = (value: unknown, shown = String(value)): Reading<FactValue> => ({ ok: true, value: { value, shown }, display: shown })
  switch (spec.kind) {
    case 'enum': {
      const coded = codingsOf(observation.valueCodeableConcept).find((coding) => coding.system === CASE_FACT_SYSTEM)?.code
      const value = coded ?? (typeof observation.valueString === 'string' ? observation.valueString : undefined)
      return value === undefined ? unreadable(`a valueCodeableConcept coded in ${CASE_FACT_SYSTEM} or a valueString`) : ok(value)
    }
    case 'boolean':
      return typeof observation.valueBoolean === 'boolean' ? ok(observation.valueBoolean) : unreadable('a valueBoolean')
    case 'integer':
      return Number.isInteger(observation.valueInteger) ? ok(observation.valueInteger) : unreadable('an integer (valueInteger)')
    case 'number': {
      const quantity = readQuantity(observation.valueQuantity, spec.units as UnitTable)
      const sent = observation.valueQuantity as Record<string, unknown> | undefined
      if (quantity === 'unknown-unit') {
        return { ok: false, code: 'FHIR_UNIT_UNKNOWN', reason: `the unit "${String(sent?.code ?? sent?.unit ?? '')}" is not one §6.8a accepts (${Object.keys(spec.units as UnitTable).join(', ')})` }
      }
      if (quantity === undefined || quantity.comparator !== undefined) return unreadable('a number (valueQuantity without comparator)')
      return ok(quantity.value, `${String(sent?.value)} ${quantity.unit}`)
    }
    case 'date': {
      const date = calendarDate(ctx, observation.valueDateTime, refOf(observation))
      if (date === undefined) return unreadable('a date (valueDateTime)')
      if (date > ctx.evaluationDate) return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `the date ${date} is after the evaluation date` }
      return ok(date)
    }
  }
}

/* ------------------------------------------------------------------ choice */

interface Chosen { path: CasePath, code: string, spec: FactSpec, value: unknown, entry: SourceEntry, resources: FhirResource[] }

function sourceEntry (spec: FactSpec, shown: string, date: string | undefined, resources: readonly FhirResource[]): SourceEntry {
  return { label: spec.label, display: `${shown} (${shownDate(date)})`, refs: resources.map(refOf), ...(date === undefined ? {} : { date }) }
}

/** The latest fact of one target (§6.8 "the latest per path wins"). */
function chooseSingle (ctx: MappingContext, path: CasePath, code: string, spec: FactSpec, all: ReadonlyArray<Candidate<FactValue>>): Chosen | undefined {
  const chosen = chooseLatest(ctx, all, path, path, (a, b) => a.value === b.value)
  if (chosen === undefined) return undefined
  return { path, code, spec, value: chosen.value.value, entry: sourceEntry(spec, chosen.value.shown, chosen.date, [chosen.resource]), resources: [chosen.resource] }
}

/** A list fact: one Observation per value; the values of the latest date form the list (§6.8). */
function chooseList (ctx: MappingContext, path: CasePath, code: string, spec: FactSpec, all: ReadonlyArray<Candidate<FactValue>>): Chosen | undefined {
  const usable = all.filter((candidate) => candidate.reading.ok)
  const newest = latest(ctx, usable.map((candidate) => ({ item: candidate, resource: candidate.resource, date: candidate.date })), path, () => true)
  for (const candidate of all) {
    if (candidate.reading.ok) continue
    if (newest?.date !== undefined && (candidate.date === undefined || candidate.date < newest.date)) continue
    reportUnusable(ctx, candidate.resource, candidate.date, candidate.reading, path)
  }
  if (newest === undefined) return undefined
  const members = usable.filter((candidate) => candidate.date === newest.date)
  const values = new Set(members.map((candidate) => (candidate.reading as { value: FactValue }).value.value as string))
  const list = (spec.list as readonly string[]).filter((value) => values.has(value))
  const resources = members.map((candidate) => candidate.resource)
  return { path, code, spec, value: list, entry: sourceEntry(spec, list.join(', '), newest.date, resources), resources }
}

/* ------------------------------------------------------------ dependencies */

const SINS_COMPONENTS = Object.keys(SinsComponents.shape)

/**
 * What a fact needs beside it so that the Case stays valid (`api.md`): the neurological details need
 * `neuro.deficit`, the brain details `brain.present`, the brain RT date its technique, SINS components
 * all six, BMA complications an agent; gestational weeks need `pregnant` mapped as true (§6.8).
 */
function requirementOf (path: CasePath): string[] {
  if (path === 'patient.gestationalWeeks') return ['patient.pregnant']
  if (path.startsWith('disease.neuro.') && path !== 'disease.neuro.deficit') return ['disease.neuro.deficit']
  if (path === 'disease.brain.priorRt.date') return ['disease.brain.priorRt.technique']
  if (path.startsWith('disease.brain.') && path !== 'disease.brain.present') return ['disease.brain.present']
  if (path === 'history.boneModifyingAgent.complications') return ['history.boneModifyingAgent.agent']
  const sins = /^(disease\.spineLesions\[\d+\]\.sinsComponents)\./.exec(path)
  if (sins !== null) return SINS_COMPONENTS.map((component) => `${sins[1] as string}.${component}`)
  return []
}

/** Drops the facts whose requirements are neither mapped nor among the chosen facts (until nothing more drops). */
function dropUnsupported (ctx: MappingContext, chosen: Map<CasePath, Chosen>): void {
  let dropped = true
  while (dropped) {
    dropped = false
    for (const [path, fact] of chosen) {
      const missing = requirementOf(path).filter((required) => {
        if (required === 'patient.pregnant') return ctx.draft.patient?.pregnant !== true
        return !chosen.has(required) && getAt(ctx.draft, required) === undefined
      })
      if (missing.length === 0) continue
      chosen.delete(path)
      dropped = true
      const why = path === 'patient.gestationalWeeks' ? 'pregnant is not mapped as true' : `it needs ${missing.join(', ')}, which the record does not give`
      ctx.warn('FHIR_FACT_INCONSISTENT', `${fact.resources.map(refOf).join(', ')}: the fact ${path} was dropped: ${why}.`)
      ctx.gap(path, `${fact.resources.map(refOf).join(', ')}: fact dropped: ${why}`)
    }
  }
}

/* ------------------------------------------------------------------- apply */

const unindexed = (path: CasePath): string => path.replace(/\[\d+\]/g, '')

/** Derived by a section (`ctx.state.derived`), or a medication-derived line field (§6.6, [D]: lines are derived). */
function isDerived (ctx: MappingContext, path: CasePath): boolean {
  return ctx.state.derived.has(path) || ctx.state.derived.has(unindexed(path)) || /^history\.(metastaticLines|earlyStageTherapy)\[\d+\]\./.test(path)
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Writes one chosen fact, unless a value mapped from standard codes disagrees (§6.8). */
function apply (ctx: MappingContext, fact: Chosen): void {
  const existing = getAt(ctx.draft, fact.path)
  const refs = fact.resources.map(refOf).join(', ')
  if (existing !== undefined) {
    const derived = isDerived(ctx, fact.path)
    if (!derived) {
      if (sameValue(existing, fact.value)) return
      ctx.warn('FHIR_FACT_INCONSISTENT', `${refs}: the fact ${fact.path} = ${JSON.stringify(fact.value)} contradicts ${JSON.stringify(existing)} mapped from standard codes; the standard value was kept.`)
      ctx.gap(fact.path, `${refs}: fact ${JSON.stringify(fact.value)} contradicts the value mapped from standard codes`)
      return
    }
    if (!sameValue(existing, fact.value)) {
      ctx.warn('FHIR_FACT_OVERRIDES_DERIVED', `${refs}: the fact ${fact.path} = ${JSON.stringify(fact.value)} overrides the derived ${JSON.stringify(existing)}.`)
    }
  }
  setAt(ctx.draft, fact.path, fact.value)
  ctx.source(fact.path, fact.entry)
}

/* -------------------------------------------------------------- lesion pain */

function readPain (observation: FhirResource): Reading<number> {
  const quantity = readQuantity(observation.valueQuantity, { '': (v) => v, '{score}': (v) => v })
  const value = observation.valueInteger ?? (typeof quantity === 'object' && quantity.comparator === undefined ? quantity.value : undefined)
  if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: 'the pain score is not an integer' }
  if (value < 0 || value > 10) return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `the pain score ${value} is outside 0–10` }
  return { ok: true, value, display: `pain ${value}/10` }
}

/**
 * §6.8: lesion pain also comes as LOINC 72514-3 [U] (0–10) with the lesion's Condition as `focus`;
 * a `painNrs` fact for the same lesion wins.
 */
function mapLesionPain (ctx: MappingContext, factPaths: ReadonlySet<CasePath>): void {
  const byPath = new Map<CasePath, Array<Candidate<number>>>()
  for (const observation of observationsByLoinc(ctx, LOINC_CODES.painSeverity)) {
    if (focusReferences(observation).length === 0) continue
    const spine = lesionTarget(ctx, observation, 'spine')
    const target = spine.ok ? { prefix: 'disease.spineLesions', target: spine } : { prefix: 'disease.nonSpineBoneLesions', target: lesionTarget(ctx, observation, 'nonSpine') }
    if (!target.target.ok) {
      const reason = [spine, target.target].find((failed): failed is Extract<Target, { ok: false }> => !failed.ok && failed.ambiguous === true)?.reason ?? `its focus (${focusKeys(ctx, observation).join(', ')}) names no bone lesion of the record`
      ctx.gap('disease.spineLesions', `${refOf(observation)}: pain score not used: ${reason}`)
      continue
    }
    const path = `${target.prefix}[${target.target.index}].painNrs`
    if (factPaths.has(path)) continue
    const list = byPath.get(path) ?? []
    list.push({ resource: observation, date: resourceDate(ctx, observation), reading: readPain(observation) })
    byPath.set(path, list)
  }
  for (const [path, all] of byPath) {
    const pain = chooseLatest(ctx, all, path, `pain at ${path}`)
    if (pain === undefined) continue
    setAt(ctx.draft, path, pain.value)
    ctx.source(path, { label: L.lesionPainNrs.label, display: `${pain.display} (${shownDate(pain.date)})`, refs: pain.refs, ...(pain.date === undefined ? {} : { date: pain.date }) })
  }
}

/* -------------------------------------------------------------------- main */

/** §6.8 / §6.8a case-fact Observations (after every derivation, so that a fact can override it). */
export function mapFacts (ctx: MappingContext): void {
  const groups = new Map<CasePath, { code: string, spec: FactSpec, candidates: Array<Candidate<FactValue>> }>()
  for (const observation of ctx.ofType('Observation')) {
    if (!isCaseFact(observation) || !statusUsable(ctx, observation)) continue
    const code = factCode(observation) ?? '(no code)'
    const spec = FACT_PATHS[code]
    if (spec === undefined) {
      ctx.warn('FHIR_FACT_NOT_ALLOWED', `${refOf(observation)}: ${code} is not a path read from case facts; safety-relevant values come only from their standard codes.`)
      continue
    }
    const date = resourceDate(ctx, observation)
    const target = targetPath(ctx, observation, code)
    if (!target.ok) {
      ctx.warn('FHIR_FACT_INCONSISTENT', `${refOf(observation)}: the fact ${code} was not used: ${target.reason}.`)
      ctx.gap(code, `${refOf(observation)} (${shownDate(date)}): ${target.reason}`)
      continue
    }
    const reading = readFactValue(ctx, observation, code, spec)
    const group = groups.get(target.path) ?? { code, spec, candidates: [] }
    group.candidates.push({ resource: observation, date, reading })
    groups.set(target.path, group)
  }
  const chosen = new Map<CasePath, Chosen>()
  for (const [path, { code, spec, candidates }] of groups) {
    const fact = spec.list === undefined ? chooseSingle(ctx, path, code, spec, candidates) : chooseList(ctx, path, code, spec, candidates)
    if (fact !== undefined) chosen.set(path, fact)
  }
  dropUnsupported(ctx, chosen)
  for (const fact of chosen.values()) apply(ctx, fact)
  mapLesionPain(ctx, new Set(chosen.keys()))
}
