import t from 'tap'
import { CASE_FACT_SYSTEM } from '../../src/fhir/constants.js'
import type { MappingContext } from '../../src/fhir/mapping-context.js'
import { spineLevelsIn as spineLevels } from '../../src/fhir/anatomy.js'
import { FACT_PATHS, mapFacts } from '../../src/fhir/sections/facts.js'
import { getAt, setAt } from '../../src/fhir/sections/observation-values.js'
import type { FhirResource } from '../../src/fhir/types.js'
import { caseFact, codes, condition, context, factCode, loinc, observation, quantity, valueInteger, valueString } from '../support/observation-builders.js'

type Json = Record<string, unknown>

const spine = condition('spine')
const femur = condition('femur')
const bool = (value: boolean): Json => ({ valueBoolean: value })
const dateTime = (value: string): Json => ({ valueDateTime: value })
const focus = (reference: string): Json => ({ focus: [{ reference }] })

/**
 * A record as the earlier sections leave it: pregnant mapped true, one spine lesion (T7, Condition/spine),
 * one femur lesion (Condition/femur), one metastatic line (MedicationRequest/m1) and one early-stage entry
 * (MedicationRequest/e1), each with its sources.
 */
function world (resources: FhirResource[], prepare: (ctx: MappingContext) => void = () => {}): MappingContext {
  const ctx = context([spine, femur, ...resources])
  ctx.draft.patient = { pregnant: true }
  ctx.draft.disease = { spineLesions: [{ level: 'T7' }], nonSpineBoneLesions: [{ site: 'femur' }] }
  ctx.state.lesionsByCondition.set('Condition/spine', [{ kind: 'spine', index: 0 }])
  ctx.state.lesionsByCondition.set('Condition/femur', [{ kind: 'nonSpine', index: 0 }])
  ctx.draft.history = {
    metastaticLines: [{ lineNumber: 1, agents: ['trastuzumab', 'pertuzumab'], outcome: 'progression' }],
    earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab'] }]
  }
  ctx.sources['history.metastaticLines[0].agents'] = { label: 'Agents', display: 'trastuzumab, pertuzumab', refs: ['MedicationRequest/m1', 'MedicationRequest/m2'] }
  ctx.sources['history.earlyStageTherapy[0].agents'] = { label: 'Agents', display: 'trastuzumab', refs: ['MedicationRequest/e1'] }
  prepare(ctx)
  mapFacts(ctx)
  return ctx
}

const FOCUS: Record<string, string> = {
  'disease.spineLesions': 'Condition/spine',
  'disease.nonSpineBoneLesions': 'Condition/femur',
  'history.metastaticLines': 'MedicationRequest/m1',
  'history.earlyStageTherapy': 'MedicationRequest/e1'
}
const prefixOf = (path: string): string | undefined => Object.keys(FOCUS).find((prefix) => path.startsWith(`${prefix}.`))
const indexed = (path: string): string => {
  const prefix = prefixOf(path)
  return prefix === undefined ? path : `${prefix}[0]${path.slice(prefix.length)}`
}
const fact = (id: string, path: string, value: Json, date = '2026-05-01', extra: Json = {}): FhirResource => {
  const prefix = prefixOf(path)
  return caseFact(id, path, value, date, { ...(prefix === undefined ? {} : focus(FOCUS[prefix] as string)), ...extra })
}

interface Row {
  path: string
  value: Json
  expected: unknown
  bad: Json
  badCode: string
  with?: Array<[string, Json]>
  prepare?: (ctx: MappingContext) => void
}

const SINS = ['location', 'pain', 'boneLesion', 'alignment', 'collapse', 'posterolateral'] as const
const SINS_VALUES: Record<typeof SINS[number], number> = { location: 3, pain: 1, boneLesion: 2, alignment: 2, collapse: 3, posterolateral: 1 }
const otherSins = (except: string): Array<[string, Json]> => SINS.filter((name) => name !== except).map((name) => [`disease.spineLesions.sinsComponents.${name}`, valueInteger(SINS_VALUES[name])])
const withDeficit: Array<[string, Json]> = [['disease.neuro.deficit', factCode('motor_weakness')]]
const withBrain: Array<[string, Json]> = [['disease.brain.present', bool(true)]]
const withBma = (ctx: MappingContext): void => { (ctx.draft.history as Json).boneModifyingAgent = { agent: 'denosumab' } }

/** Every allowed path of §6.8 / §6.8a: a value that maps, and one that does not. */
const ROWS: Row[] = [
  { path: 'patient.ecogBeforeDeficit', value: valueInteger(2), expected: 2, bad: valueInteger(5), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'patient.menopausalStatus', value: factCode('postmenopausal'), expected: 'postmenopausal', bad: factCode('menopausal'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'patient.surgicalCandidate', value: bool(true), expected: true, bad: valueString('yes'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'patient.estimatedSurvivalMonths', value: quantity(6, 'mo'), expected: 6, bad: quantity(1, 'a'), badCode: 'FHIR_UNIT_UNKNOWN' },
  { path: 'patient.heartFailureSymptoms', value: valueString('nyha_ii'), expected: 'nyha_ii', bad: valueString('class 2'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'patient.ildHistory', value: factCode('none'), expected: 'none', bad: valueInteger(0), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'patient.dentalStatus', value: factCode('cleared'), expected: 'cleared', bad: factCode('ok'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'patient.dpydStatus', value: factCode('normal'), expected: 'normal', bad: factCode('fast'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'patient.hypercalcaemiaSymptoms', value: bool(false), expected: false, bad: valueInteger(1), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'patient.gestationalWeeks', value: valueInteger(20), expected: 20, bad: valueInteger(45), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'tumor.her2Source', value: factCode('metastasis'), expected: 'metastasis', bad: factCode('lymph_node'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'tumor.receptorDiscordance', value: bool(true), expected: true, bad: valueString('true'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.presentation', value: factCode('de_novo_metastatic'), expected: 'de_novo_metastatic', bad: factCode('metastatic'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.primaryIntact', value: bool(true), expected: true, bad: {}, badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.totalMetastaticLesions', value: valueInteger(3), expected: 3, bad: valueInteger(-1), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.visceralCrisis', value: bool(false), expected: false, bad: valueInteger(0), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.brainSymptoms', value: bool(true), expected: true, bad: valueInteger(1), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.extracranialStatus', value: factCode('stable'), expected: 'stable', bad: factCode('better'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.primarySymptoms', value: factCode('pain'), expected: ['pain'], bad: factCode('itch'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.neuro.deficit', value: factCode('motor_weakness'), expected: 'motor_weakness', bad: factCode('weak'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.neuro.ambulatory', value: factCode('with_aid'), expected: 'with_aid', bad: factCode('walks'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withDeficit },
  { path: 'disease.neuro.deficitOnsetHours', value: quantity(2, 'd'), expected: 48, bad: quantity(2, 'mo'), badCode: 'FHIR_UNIT_UNKNOWN', with: withDeficit },
  { path: 'disease.neuro.paraplegiaDurationHours', value: quantity(36, 'h'), expected: 36, bad: quantity(-1, 'h'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withDeficit },
  { path: 'disease.brain.present', value: bool(true), expected: true, bad: valueString('yes'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.brain.count', value: valueInteger(2), expected: 2, bad: valueInteger(-2), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withBrain },
  { path: 'disease.brain.maxDiameterCm', value: quantity(15, 'mm'), expected: 1.5, bad: quantity(0, 'cm'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withBrain },
  { path: 'disease.brain.symptomatic', value: bool(true), expected: true, bad: valueString('y'), badCode: 'FHIR_VALUE_UNREADABLE', with: withBrain },
  { path: 'disease.brain.massEffect', value: bool(false), expected: false, bad: valueString('n'), badCode: 'FHIR_VALUE_UNREADABLE', with: withBrain },
  { path: 'disease.brain.status', value: factCode('untreated'), expected: 'untreated', bad: factCode('treated'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withBrain },
  { path: 'disease.brain.leptomeningeal', value: bool(false), expected: false, bad: valueInteger(0), badCode: 'FHIR_VALUE_UNREADABLE', with: withBrain },
  { path: 'disease.brain.priorRt.technique', value: factCode('srs'), expected: 'srs', bad: factCode('sbrt'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: withBrain },
  { path: 'disease.brain.priorRt.date', value: dateTime('2025-03-01T10:00:00Z'), expected: '2025-03-01', bad: dateTime('2026-07-01'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', with: [...withBrain, ['disease.brain.priorRt.technique', factCode('wbrt')]] },
  { path: 'disease.spineLesions.contiguousLevels', value: valueInteger(2), expected: 2, bad: valueInteger(11), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.spineLesions.sinsTotal', value: valueInteger(12), expected: 12, bad: valueInteger(19), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  ...SINS.map((name): Row => ({
    path: `disease.spineLesions.sinsComponents.${name}`,
    value: valueInteger(SINS_VALUES[name]),
    expected: SINS_VALUES[name],
    bad: valueInteger(name === 'alignment' ? 1 : 5),
    badCode: 'FHIR_VALUE_OUT_OF_RANGE',
    with: otherSins(name)
  })),
  { path: 'disease.spineLesions.bilsky', value: valueString('1c'), expected: '1c', bad: valueString('4'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.spineLesions.painNrs', value: valueInteger(7), expected: 7, bad: valueInteger(11), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.spineLesions.painType', value: factCode('mechanical'), expected: 'mechanical', bad: factCode('sharp'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.spineLesions.pathologicFracture', value: bool(true), expected: true, bad: valueString('yes'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'disease.nonSpineBoneLesions.painNrs', value: valueInteger(4), expected: 4, bad: valueInteger(-1), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.nonSpineBoneLesions.mirelsScore', value: valueInteger(9), expected: 9, bad: valueInteger(3), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'disease.nonSpineBoneLesions.pathologicFracture', value: bool(false), expected: false, bad: valueString('no'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'history.boneModifyingAgent.complications', value: factCode('onj'), expected: ['onj'], bad: factCode('fracture'), badCode: 'FHIR_VALUE_OUT_OF_RANGE', prepare: withBma },
  { path: 'history.boneModifyingAgent.agent', value: factCode('none'), expected: 'none', bad: factCode('denosumab'), badCode: 'FHIR_FACT_NOT_ALLOWED' },
  { path: 'history.metastaticLines.progressionPattern', value: factCode('oligoprogression'), expected: 'oligoprogression', bad: factCode('local'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'history.metastaticLines.maxIldGrade', value: valueInteger(2), expected: 2, bad: valueInteger(6), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'history.metastaticLines.outcome', value: factCode('toxicity'), expected: 'toxicity', bad: factCode('stopped'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'history.earlyStageTherapy.setting', value: factCode('neoadjuvant'), expected: 'neoadjuvant', bad: factCode('perioperative'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'preferences.declinesChemotherapy', value: bool(true), expected: true, bad: valueString('yes'), badCode: 'FHIR_VALUE_UNREADABLE' },
  { path: 'preferences.goalsOfCare', value: factCode('comfort_focused'), expected: 'comfort_focused', bad: factCode('comfort'), badCode: 'FHIR_VALUE_OUT_OF_RANGE' },
  { path: 'preferences.asksAboutPrimarySurgery', value: bool(false), expected: false, bad: valueInteger(0), badCode: 'FHIR_VALUE_UNREADABLE' }
]

const supporting = (row: Row): FhirResource[] => (row.with ?? []).map(([path, value], i) => fact(`with${i}`, path, value))

t.test('the test table covers every allowed path of §6.8 and §6.8a', async (t) => {
  t.same(ROWS.map((row) => row.path).sort(), Object.keys(FACT_PATHS).sort())
})

t.test('every allowed path maps its typed value, with a source', async (t) => {
  for (const row of ROWS) {
    const ctx = world([fact('f', row.path, row.value, '2026-04-10'), ...supporting(row)], row.prepare)
    const path = indexed(row.path)
    t.same(getAt(ctx.draft, path), row.expected, row.path)
    t.ok((ctx.sources[path]?.label.length ?? 0) > 0, `${row.path}: labelled`)
    t.ok(ctx.sources[path]?.refs.includes('Observation/f'), `${row.path}: refs`)
    t.equal(ctx.sources[path]?.date, '2026-04-10', `${row.path}: date`)
  }
})

t.test('every allowed path refuses a value of the wrong type or outside the Case schema, with a gap', async (t) => {
  for (const row of ROWS) {
    const before = world(supporting(row), row.prepare)
    const ctx = world([fact('f', row.path, row.bad), ...supporting(row)], row.prepare)
    const path = indexed(row.path)
    t.same(getAt(ctx.draft, path), getAt(before.draft, path), `${row.path}: unchanged`)
    t.ok(codes(ctx).includes(row.badCode), `${row.path}: ${row.badCode}`)
    t.match(ctx.gaps[path], [/Observation\/f \(2026-05-01\)/], `${row.path}: gap`)
  }
})

/* ------------------------------------------------------------- values */

t.test('number facts convert units of the same dimension (§6.8a): d and wk to mo and h, mm to cm', async (t) => {
  const rows: Array<[string, Json, number]> = [
    ['patient.estimatedSurvivalMonths', quantity(30.4375, 'd'), 1],
    ['patient.estimatedSurvivalMonths', quantity(13.045, 'wk'), 13.045 * 7 / 30.4375],
    ['disease.neuro.deficitOnsetHours', quantity(1, 'wk'), 168]
  ]
  for (const [path, value, expected] of rows) {
    const ctx = world([fact('f', path, value), fact('d', 'disease.neuro.deficit', factCode('paraplegia'))])
    t.equal(getAt(ctx.draft, path), expected, `${path} ${JSON.stringify(value)}`)
  }
  const display = world([fact('f', 'patient.estimatedSurvivalMonths', quantity(14, 'd'), '2026-04-10')])
  t.equal(display.sources['patient.estimatedSurvivalMonths']?.display, '14 d (2026-04-10)', 'the display keeps the unit sent')
})

t.test('an integer fact needs valueInteger', async (t) => {
  const ctx = world([fact('f', 'disease.totalMetastaticLesions', valueString('3'))])
  t.equal(ctx.draft.disease?.totalMetastaticLesions, undefined)
  t.same(codes(ctx), ['FHIR_VALUE_UNREADABLE'])
})

t.test('setAt creates the objects and arrays a path needs', async (t) => {
  const target = {}
  setAt(target, 'a.b[1].c', 1)
  t.same(target, { a: { b: [undefined, { c: 1 }] } })
})

t.test('number facts: no unit, or a comparator, is unusable', async (t) => {
  t.ok(codes(world([fact('f', 'patient.estimatedSurvivalMonths', quantity(6))])).includes('FHIR_UNIT_UNKNOWN'))
  t.ok(codes(world([fact('f', 'patient.estimatedSurvivalMonths', quantity(6, 'mo', '<'))])).includes('FHIR_VALUE_UNREADABLE'))
})

t.test('a date fact reads a partial date as its first day (FHIR_PARTIAL_DATE); no valueDateTime is unreadable', async (t) => {
  const ctx = world([fact('p', 'disease.brain.present', bool(true)), fact('t', 'disease.brain.priorRt.technique', factCode('srs')), fact('f', 'disease.brain.priorRt.date', dateTime('2025-03'))])
  t.equal(ctx.draft.disease?.brain?.priorRt?.date, '2025-03-01')
  t.ok(codes(ctx).includes('FHIR_PARTIAL_DATE'))
  const missing = world([fact('p', 'disease.brain.present', bool(true)), fact('t', 'disease.brain.priorRt.technique', factCode('srs')), fact('f', 'disease.brain.priorRt.date', valueString('March'))])
  t.ok(codes(missing).includes('FHIR_VALUE_UNREADABLE'))
})

/* -------------------------------------------------------- not allowed */

t.test('a fact for any other path is ignored with FHIR_FACT_NOT_ALLOWED (safety values come from standard codes)', async (t) => {
  for (const path of ['tumor.her2Ihc', 'patient.ecog', 'patient.pregnant', 'disease.spineLesions[0].bilsky', 'disease.metastaticSites']) {
    const ctx = world([caseFact('f', path, valueString('3+'))])
    t.same(codes(ctx), ['FHIR_FACT_NOT_ALLOWED'], path)
    t.equal(ctx.draft.tumor, undefined, path)
  }
  t.equal(world([caseFact('f', 'patient.ecog', valueInteger(0))]).draft.patient?.ecog, undefined)
  const noCode = world([observation('f', { coding: [{ system: CASE_FACT_SYSTEM }] }, bool(true))])
  t.same(codes(noCode), ['FHIR_FACT_NOT_ALLOWED'], 'a case-fact coding without a code')
})

t.test('boneModifyingAgent.agent: only "none"; never against an agent mapped from the medications (FHIR_FACT_INCONSISTENT)', async (t) => {
  const none = world([fact('f', 'history.boneModifyingAgent.agent', factCode('none'))])
  t.same(none.draft.history?.boneModifyingAgent, { agent: 'none' })
  const given = world([fact('f', 'history.boneModifyingAgent.agent', factCode('none'))], withBma)
  t.same(given.draft.history?.boneModifyingAgent, { agent: 'denosumab' })
  t.ok(codes(given).includes('FHIR_FACT_INCONSISTENT'))
  t.match(given.gaps['history.boneModifyingAgent.agent'], [/contradicts the value mapped from standard codes/])
})

t.test('a preliminary fact is not used', async (t) => {
  const ctx = world([fact('f', 'patient.surgicalCandidate', bool(true), '2026-05-01', { status: 'preliminary' })])
  t.equal(ctx.draft.patient?.surgicalCandidate, undefined)
  t.same(codes(ctx), ['FHIR_PRELIMINARY_IGNORED'])
})

/* ------------------------------------------------------------- latest */

t.test('the latest fact per path wins; same date, different values → FHIR_CONFLICTING_SAME_DATE', async (t) => {
  const ctx = world([fact('a', 'patient.dentalStatus', factCode('not_assessed'), '2025-01-01'), fact('b', 'patient.dentalStatus', factCode('cleared'), '2026-01-01')])
  t.equal(ctx.draft.patient?.dentalStatus, 'cleared')
  t.same(ctx.sources['patient.dentalStatus'], { label: 'Dental status before bone-modifying agents', display: 'cleared (2026-01-01)', refs: ['Observation/b'], date: '2026-01-01' })
  const tie = world([fact('a', 'patient.dentalStatus', factCode('not_assessed')), fact('b', 'patient.dentalStatus', factCode('cleared'))])
  t.ok(codes(tie).includes('FHIR_CONFLICTING_SAME_DATE'))
  const same = world([fact('a', 'patient.dentalStatus', factCode('cleared')), fact('b', 'patient.dentalStatus', valueString('cleared'))])
  t.same(codes(same), [], 'the same value twice is no conflict')
})

t.test('lists take the values of the latest date (primarySymptoms, complications)', async (t) => {
  const ctx = world([
    fact('old', 'disease.primarySymptoms', factCode('ulceration'), '2025-01-01'),
    fact('a', 'disease.primarySymptoms', factCode('pain'), '2026-01-01'),
    fact('b', 'disease.primarySymptoms', factCode('bleeding'), '2026-01-01'),
    fact('c', 'disease.primarySymptoms', factCode('bleeding'), '2026-01-01'),
    fact('bad', 'disease.primarySymptoms', factCode('itch'), '2025-06-01')
  ])
  t.same(ctx.draft.disease?.primarySymptoms, ['bleeding', 'pain'], 'in the order of the Case enum, once each')
  t.same(ctx.sources['disease.primarySymptoms']?.refs, ['Observation/a', 'Observation/b', 'Observation/c'])
  t.same(codes(ctx), [], 'an older unusable value is superseded')
  const complications = world([fact('a', 'history.boneModifyingAgent.complications', factCode('onj')), fact('b', 'history.boneModifyingAgent.complications', factCode('renal'))], withBma)
  t.same(complications.draft.history?.boneModifyingAgent, { agent: 'denosumab', complications: ['onj', 'renal'] })
  const undated = world([fact('a', 'disease.primarySymptoms', factCode('pain'), '2026-01-01', { effectiveDateTime: undefined })])
  t.same(undated.draft.disease?.primarySymptoms, ['pain'])
  t.ok(codes(undated).includes('FHIR_UNDATED'))
})

/* ------------------------------------------------- derived and standard */

t.test('a fact overrides a derived field, with FHIR_FACT_OVERRIDES_DERIVED when it differs', async (t) => {
  const derive = (ctx: MappingContext): void => {
    (ctx.draft.disease as Json).presentation = 'recurrent_metastatic'
    ctx.state.derived.add('disease.presentation')
  }
  const differs = world([fact('f', 'disease.presentation', factCode('de_novo_metastatic'))], derive)
  t.equal(differs.draft.disease?.presentation, 'de_novo_metastatic')
  t.same(codes(differs), ['FHIR_FACT_OVERRIDES_DERIVED'])
  t.same(differs.sources['disease.presentation']?.refs, ['Observation/f'])
  const agrees = world([fact('f', 'disease.presentation', factCode('recurrent_metastatic'))], derive)
  t.same(codes(agrees), [])
  t.same(agrees.sources['disease.presentation']?.refs, ['Observation/f'])
  const line = world([fact('f', 'history.metastaticLines.outcome', factCode('response'))])
  t.equal(line.draft.history?.metastaticLines?.[0]?.outcome, 'response', 'line fields derived from the medications (§6.6) are overridable')
  t.same(codes(line), ['FHIR_FACT_OVERRIDES_DERIVED'])
})

t.test('a fact never overrides a value mapped from standard codes (FHIR_FACT_INCONSISTENT); an equal one keeps its source', async (t) => {
  const procedure = (ctx: MappingContext): void => {
    (ctx.draft.disease as Json).brain = { present: true, priorRt: { technique: 'wbrt' } }
    ctx.sources['disease.brain.priorRt.technique'] = { label: 'x', display: 'WBRT', refs: ['Procedure/rt'] }
  }
  const differs = world([fact('f', 'disease.brain.priorRt.technique', factCode('srs'))], procedure)
  t.equal(differs.draft.disease?.brain?.priorRt?.technique, 'wbrt')
  t.same(codes(differs), ['FHIR_FACT_INCONSISTENT'])
  const equal = world([fact('f', 'disease.brain.priorRt.technique', factCode('wbrt'))], procedure)
  t.same(codes(equal), [])
  t.same(equal.sources['disease.brain.priorRt.technique']?.refs, ['Procedure/rt'])
})

/* ------------------------------------------------------- dependencies */

t.test('gestationalWeeks is dropped with FHIR_FACT_INCONSISTENT unless pregnant is mapped as true', async (t) => {
  const notPregnant = world([fact('f', 'patient.gestationalWeeks', valueInteger(20))], (ctx) => { ctx.draft.patient = {} })
  t.equal(notPregnant.draft.patient?.gestationalWeeks, undefined)
  t.same(codes(notPregnant), ['FHIR_FACT_INCONSISTENT'])
  t.match(notPregnant.gaps['patient.gestationalWeeks'], [/pregnant is not mapped as true/])
  const pregnant = world([fact('f', 'patient.gestationalWeeks', valueInteger(20))])
  t.equal(pregnant.draft.patient?.gestationalWeeks, 20)
})

t.test('facts that need a sibling are dropped without it (the Case would not validate): neuro, brain, brain RT date, SINS components, BMA complications', async (t) => {
  const rows: Array<[string, FhirResource[], string]> = [
    ['neuro.ambulatory without neuro.deficit', [fact('f', 'disease.neuro.ambulatory', factCode('independent'))], 'disease.neuro.ambulatory'],
    ['brain.count without brain.present', [fact('f', 'disease.brain.count', valueInteger(2))], 'disease.brain.count'],
    ['brain RT date without technique', [fact('p', 'disease.brain.present', bool(true)), fact('f', 'disease.brain.priorRt.date', dateTime('2025-01-01'))], 'disease.brain.priorRt.date'],
    ['five SINS components of six', otherSins('pain').map(([path, value], i) => fact(`s${i}`, path, value)), 'disease.spineLesions[0].sinsComponents.location'],
    ['complications without an agent', [fact('f', 'history.boneModifyingAgent.complications', factCode('onj'))], 'history.boneModifyingAgent.complications']
  ]
  for (const [name, resources, path] of rows) {
    const ctx = world(resources)
    t.equal(getAt(ctx.draft, path), undefined, name)
    t.ok(codes(ctx).includes('FHIR_FACT_INCONSISTENT'), name)
    t.match(ctx.gaps[path], [/fact dropped: it needs/], name)
  }
  const chain = world([fact('t', 'disease.brain.priorRt.technique', factCode('srs')), fact('d', 'disease.brain.priorRt.date', dateTime('2025-01-01'))])
  t.equal(chain.draft.disease?.brain, undefined, 'without brain.present the technique drops, and then the date')
  const derivedPresent = world([fact('f', 'disease.brain.count', valueInteger(2))], (ctx) => { (ctx.draft.disease as Json).brain = { present: true } })
  t.same(derivedPresent.draft.disease?.brain, { present: true, count: 2 }, 'brain.present mapped by another section suffices')
})

/* --------------------------------------------------------------- lesions */

t.test('lesion facts: focus → the lesion\'s Condition; a Condition with several levels needs the level in bodySite', async (t) => {
  const twoLevels = condition('two')
  const prepare = (ctx: MappingContext): void => {
    (ctx.draft.disease as Json).spineLesions = [{ level: 'T7' }, { level: 'L1' }, { level: 'L2' }]
    ctx.state.lesionsByCondition.set('Condition/two', [{ kind: 'spine', index: 1 }, { kind: 'spine', index: 2 }])
  }
  const byLevel = world([twoLevels, caseFact('f', 'disease.spineLesions.bilsky', valueString('2'), '2026-05-01', { ...focus('Condition/two'), bodySite: { text: 'Lumbar vertebra 2' } })], prepare)
  const listed = world([twoLevels, caseFact('f', 'disease.spineLesions.bilsky', valueString('1b'), '2026-05-01', { ...focus('Condition/two'), bodySite: [{ text: 'L1' }] })], prepare)
  t.equal(listed.draft.disease?.spineLesions?.[1]?.bilsky, '1b', 'a bodySite sent as a list')
  t.equal(byLevel.draft.disease?.spineLesions?.[2]?.bilsky, '2')
  t.equal(byLevel.draft.disease?.spineLesions?.[1]?.bilsky, undefined)
  t.ok(byLevel.sources['disease.spineLesions[2].bilsky'])
  const noLevel = world([twoLevels, caseFact('f', 'disease.spineLesions.bilsky', valueString('2'), '2026-05-01', focus('Condition/two'))], prepare)
  t.same(codes(noLevel), ['FHIR_FACT_INCONSISTENT'])
  t.match(noLevel.gaps['disease.spineLesions.bilsky'], [/several spine lesions/])
  const unknownFocus = world([caseFact('f', 'disease.spineLesions.bilsky', valueString('2'), '2026-05-01', focus('Condition/nowhere'))])
  t.match(unknownFocus.gaps['disease.spineLesions.bilsky'], [/names no spine lesion of the record/])
  const noFocus = world([caseFact('f', 'disease.nonSpineBoneLesions.mirelsScore', valueInteger(9))])
  t.match(noFocus.gaps['disease.nonSpineBoneLesions.mirelsScore'], [/focus \(none\) names no non-spine bone lesion/])
  const wrongKind = world([caseFact('f', 'disease.nonSpineBoneLesions.mirelsScore', valueInteger(9), '2026-05-01', focus('Condition/spine'))])
  t.ok(codes(wrongKind).includes('FHIR_FACT_INCONSISTENT'), 'a spine Condition has no non-spine lesion')
  const severalBones = world([caseFact('f', 'disease.nonSpineBoneLesions.mirelsScore', valueInteger(9), '2026-05-01', focus('Condition/femur'))], (ctx) => {
    ctx.state.lesionsByCondition.set('Condition/femur', [{ kind: 'nonSpine', index: 0 }, { kind: 'nonSpine', index: 1 }])
  })
  t.match(severalBones.gaps['disease.nonSpineBoneLesions.mirelsScore'], [/several non-spine bone lesions/])
  const perLesion = world([fact('a', 'disease.spineLesions.painNrs', valueInteger(3), '2025-01-01'), fact('b', 'disease.spineLesions.painNrs', valueInteger(6), '2026-01-01')])
  t.equal(perLesion.draft.disease?.spineLesions?.[0]?.painNrs, 6, 'the latest per path and lesion')
})

t.test('spine level parser (§6.3, §6.8a): T7, t 7, Th7, T-7, thoracic vertebra 7; levels outside the spine ignored', async (t) => {
  t.same(spineLevels(['T7']), ['T7'])
  t.same(spineLevels(['t 7', 'Th7', 'T-7']), ['T7'])
  t.same(spineLevels(['thoracic vertebra 7']), ['T7'])
  t.same(spineLevels(['Lumbar vertebrae 5 and S1']), ['S1', 'L5'])
  t.same(spineLevels(['C8', 'L6', 'T13', 'S6', 'T0']), [])
})

t.test('lesion pain from LOINC 72514-3 [U] with the lesion as focus; a painNrs fact for the lesion wins', async (t) => {
  const pain = (id: string, value: Json, extra: Json = focus('Condition/spine'), date = '2026-05-01'): FhirResource => observation(id, loinc('72514-3'), value, date, extra)
  const loincOnly = world([pain('p', valueInteger(6)), pain('b', quantity(3), focus('Condition/femur'))])
  t.equal(loincOnly.draft.disease?.spineLesions?.[0]?.painNrs, 6)
  t.equal(loincOnly.draft.disease?.nonSpineBoneLesions?.[0]?.painNrs, 3)
  t.same(loincOnly.sources['disease.spineLesions[0].painNrs'], { label: 'Pain at the lesion (NRS 0–10)', display: 'pain 6/10 (2026-05-01)', refs: ['Observation/p'], date: '2026-05-01' })
  const factWins = world([pain('p', valueInteger(6), focus('Condition/spine'), '2026-05-20'), fact('f', 'disease.spineLesions.painNrs', valueInteger(2))])
  t.equal(factWins.draft.disease?.spineLesions?.[0]?.painNrs, 2)
  t.same(codes(factWins), [])
  const undatedScore = world([pain('p', quantity(5, '{score}'), focus('Condition/spine'), '2026-05-01')].map((resource) => ({ ...resource, effectiveDateTime: undefined })))
  t.equal(undatedScore.draft.disease?.spineLesions?.[0]?.painNrs, 5, '{score} unit')
  t.same(undatedScore.sources['disease.spineLesions[0].painNrs'], { label: 'Pain at the lesion (NRS 0–10)', display: 'pain 5/10 (undated)', refs: ['Observation/p'] })
  const outOfRange = world([pain('p', valueInteger(11))])
  t.equal(outOfRange.draft.disease?.spineLesions?.[0]?.painNrs, undefined)
  t.same(codes(outOfRange), ['FHIR_VALUE_OUT_OF_RANGE'])
  t.same(codes(world([pain('p', valueString('severe'))])), ['FHIR_VALUE_UNREADABLE'])
  const noFocus = world([pain('p', valueInteger(6), {})])
  t.equal(noFocus.draft.disease?.spineLesions?.[0]?.painNrs, undefined)
  t.same(noFocus.gaps, {}, 'pain without a focus is not a lesion pain')
  const elsewhere = world([pain('p', valueInteger(6), focus('Condition/nowhere'))])
  t.same(elsewhere.gaps['disease.spineLesions'], ['Observation/p: pain score not used: its focus (Condition/nowhere) names no bone lesion of the record'])
  const ambiguous = world([pain('p', valueInteger(6), focus('Condition/femur'))], (ctx) => {
    ctx.state.lesionsByCondition.set('Condition/femur', [{ kind: 'nonSpine', index: 0 }, { kind: 'nonSpine', index: 1 }])
  })
  t.match(ambiguous.gaps['disease.spineLesions'], [/pain score not used: its focus names a Condition with several non-spine bone lesions/])
})

/* ----------------------------------------------------------------- lines */

t.test('line facts name their line by focus → one of its medication resources, or by a lineNumber component', async (t) => {
  const byFocus = world([caseFact('f', 'history.metastaticLines.maxIldGrade', valueInteger(1), '2026-05-01', focus('MedicationRequest/m2'))])
  t.equal(byFocus.draft.history?.metastaticLines?.[0]?.maxIldGrade, 1)
  const lineNumber = (n: number): Json => ({ component: [{ code: { coding: [{ system: CASE_FACT_SYSTEM, code: 'history.metastaticLines.lineNumber' }] }, valueInteger: n }] })
  const byNumber = world([caseFact('f', 'history.metastaticLines.maxIldGrade', valueInteger(3), '2026-05-01', lineNumber(1))])
  t.equal(byNumber.draft.history?.metastaticLines?.[0]?.maxIldGrade, 3)
  const noLine = world([caseFact('f', 'history.metastaticLines.maxIldGrade', valueInteger(3), '2026-05-01', lineNumber(4))])
  t.same(codes(noLine), ['FHIR_FACT_INCONSISTENT'])
  t.match(noLine.gaps['history.metastaticLines.maxIldGrade'], [/lineNumber component \(4\) names no metastatic line/])
  const noTarget = world([caseFact('f', 'history.metastaticLines.outcome', factCode('response'))])
  t.match(noTarget.gaps['history.metastaticLines.outcome'], [/names no entry of history.metastaticLines \(focus none\)/])
  const nothing = world([caseFact('f', 'history.earlyStageTherapy.setting', factCode('neoadjuvant'))])
  t.match(nothing.gaps['history.earlyStageTherapy.setting'], [/names no entry of history.earlyStageTherapy \(focus none\)/])
  const shared = world([caseFact('f', 'history.metastaticLines.maxIldGrade', valueInteger(1), '2026-05-01', focus('MedicationRequest/m1'))], (ctx) => {
    (ctx.draft.history?.metastaticLines as Json[]).push({ lineNumber: 2, agents: ['t_dxd'], outcome: 'ongoing' })
    ctx.sources['history.metastaticLines[1].agents'] = { label: 'Agents', display: 't_dxd', refs: ['MedicationRequest/m1'] }
  })
  t.match(shared.gaps['history.metastaticLines.maxIldGrade'], [/belongs to several entries/])
})
