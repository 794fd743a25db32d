import t from 'tap'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { deriveFields } from '../../src/fhir/sections/derived.js'
import {
  boneMet, codes, coded, condition, doseToVolume, ICD10CM, lateral, LNC, observation, primary, procedure, run, SCT, SESSIONS_URL, text
} from '../support/fhir-disease-builders.js'

const diseaseStatus = (id: string, answer: string | undefined, date: string | undefined, status = 'final'): ReturnType<typeof observation> =>
  observation(id, coded(LNC, '97509-4'), answer === undefined ? {} : { valueCodeableConcept: coded(SCT, answer) }, date, status)
const stageGroup = (id: string, value: string, date = '2024-01-01'): ReturnType<typeof observation> =>
  observation(id, coded(LNC, '21908-9'), { valueCodeableConcept: text(value) }, date)
const presentation = (ctx: ReturnType<typeof run>): unknown => ctx.draft.disease?.presentation

/* ------------------------------------------------------------- presentation */

t.test('§6.8 [D] presentation: de_novo_metastatic within 90 days of the primary\'s date, else recurrent_metastatic', async (t) => {
  const within = run([primary('p', 'left', '2025-01-01'), boneMet('b', 'T7', '2025-04-01')])
  t.equal(presentation(within), 'de_novo_metastatic', '90 days exactly')
  t.same(within.sources['disease.presentation'], {
    label: 'Presentation of the disease',
    display: 'de novo metastatic (metastatic diagnosis 2025-04-01, primary 2025-01-01: 90 days apart)',
    refs: ['Condition/p', 'Condition/b']
  })
  t.equal(presentation(run([primary('p', 'left', '2025-01-01'), boneMet('b', 'T7', '2025-04-02')])), 'recurrent_metastatic', '91 days')
  t.equal(presentation(run([primary('p', 'left', '2025-03-01'), boneMet('b', 'T7', '2025-01-15')])), 'de_novo_metastatic', 'the metastasis found first, 45 days before')
  t.equal(presentation(run([primary('p', 'left', '2019-03-01'), boneMet('b', 'T7', '2025-01-15')])), 'recurrent_metastatic')
  t.ok(within.state.derived.has('disease.presentation'))
  t.same(within.warnings, [])
})

t.test('§6.8 [D] presentation: metastatic with a date unknown → recurrent_metastatic, FHIR_PRESENTATION_ASSUMED', async (t) => {
  const noPrimaryDate = run([primary('p', 'left'), boneMet('b', 'T7', '2025-04-01')])
  t.equal(presentation(noPrimaryDate), 'recurrent_metastatic')
  t.same(codes(noPrimaryDate), ['FHIR_PRESENTATION_ASSUMED'])
  t.match(noPrimaryDate.sources['disease.presentation']?.display, /primary diagnosis unknown/)
  const noMetastaticDate = run([primary('p', 'left', '2025-01-01'), condition('l', coded(SCT, '94381002'))])
  t.equal(presentation(noMetastaticDate), 'recurrent_metastatic')
  t.same(codes(noMetastaticDate), ['FHIR_PRESENTATION_ASSUMED'])
  t.match(noMetastaticDate.sources['disease.presentation']?.display, /metastatic diagnosis unknown/)
})

t.test('§6.8 presentation: M1 without any site is metastatic, dated by the staging (§6.3)', async (t) => {
  const ctx = run([primary('p', 'left', '2025-01-01'), observation('m', coded(LNC, '21907-1'), { valueCodeableConcept: text('cM1') }, '2025-01-20')])
  t.equal(presentation(ctx), 'de_novo_metastatic')
  t.same(ctx.sources['disease.presentation']?.refs, ['Condition/p', 'Observation/m'])
  const groupIv = run([primary('p', 'left', '2019-01-01'), stageGroup('g', 'Stage IV', '2025-01-20')])
  t.equal(presentation(groupIv), 'recurrent_metastatic')
})

t.test('§6.8 [D] presentation not metastatic: stage group III → locally_advanced, else early; no stage → early + FHIR_PRESENTATION_ASSUMED', async (t) => {
  const three = run([primary('p', 'left', '2024-01-01'), stageGroup('g', 'Stage IIIB')])
  t.equal(presentation(three), 'locally_advanced')
  t.same(three.sources['disease.presentation'], {
    label: 'Presentation of the disease',
    display: 'locally advanced (no distant metastasis; stage group "Stage IIIB" (2024-01-01))',
    refs: ['Condition/p', 'Observation/g']
  })
  t.equal(presentation(run([primary('p', 'left', '2024-01-01'), stageGroup('g', 'Stage IIA')])), 'early')
  t.equal(presentation(run([stageGroup('g', '0', '2024-01-01')])), 'early')
  const undatedGroup = run([observation('g', coded(LNC, '21908-9'), { valueCodeableConcept: text('IIIC') }, undefined)])
  t.equal(undatedGroup.sources['disease.presentation']?.display, 'locally advanced (no distant metastasis; stage group "IIIC")')
  const none = run([primary('p', 'left', '2024-01-01')])
  t.equal(presentation(none), 'early')
  t.same(codes(none), ['FHIR_PRESENTATION_ASSUMED'])
  t.same(none.sources['disease.presentation']?.refs, ['Condition/p'])
  const nothing = run([])
  t.equal(presentation(nothing), 'early', 'always derived (§6.9)')
  t.same(nothing.draft.disease?.metastaticSites, [])
})

t.test('§6.8 presentation: a regional node alone is not metastatic', async (t) => {
  const ctx = run([
    primary('p', 'left', '2024-01-01'),
    condition('n', coded(SCT, '94181007'), { bodySite: [lateral(text('Axillary lymph node'), 'left')], onset: '2024-01-01' }),
    stageGroup('g', 'IIIA')
  ])
  t.equal(presentation(ctx), 'locally_advanced')
})

/* ------------------------------------------------------------- primaryIntact */

t.test('§6.8 [D] primaryIntact: false after breast surgery, true when de novo without one, else absent', async (t) => {
  const operated = run([
    primary('p', 'left', '2025-01-01'), boneMet('b', 'T7', '2025-01-15'),
    procedure('s2', coded(SCT, '392021009', 'Lumpectomy of breast'), { performedDateTime: '2025-06-01' }),
    procedure('s1', text('Left mastectomy'), { performedDateTime: '2025-03-01' })
  ])
  t.equal(operated.draft.disease?.primaryIntact, false)
  t.same(operated.sources['disease.primaryIntact'], { label: 'Breast primary in place', display: 'no (Left mastectomy, 2025-03-01)', refs: ['Procedure/s2', 'Procedure/s1'], date: '2025-03-01' })
  t.ok(operated.state.derived.has('disease.primaryIntact'))
  const undatedSurgery = run([primary('p', 'left', '2019-01-01'), procedure('s', coded(SCT, '392021009'))])
  t.same(undatedSurgery.sources['disease.primaryIntact'], { label: 'Breast primary in place', display: 'no (breast surgery)', refs: ['Procedure/s'] })
  const deNovo = run([primary('p', 'left', '2025-01-01'), boneMet('b', 'T7', '2025-01-15')])
  t.equal(deNovo.draft.disease?.primaryIntact, true)
  t.same(deNovo.sources['disease.primaryIntact'], { label: 'Breast primary in place', display: 'yes (de novo metastatic, no breast surgery recorded)', refs: ['Condition/p'] })
  const recurrent = run([primary('p', 'left', '2019-01-01'), boneMet('b', 'T7', '2025-01-15')])
  t.equal(recurrent.draft.disease?.primaryIntact, undefined)
  t.notOk(recurrent.state.derived.has('disease.primaryIntact'))
  t.equal(recurrent.sources['disease.primaryIntact'], undefined)
})

/* ------------------------------------------------------------- extracranialStatus */

t.test('§6.8 [D] extracranialStatus from the latest 97509-4: improved, stable, worsened, undetermined', async (t) => {
  const answers: Array<[string, string]> = [['268910001', 'responding'], ['359746009', 'stable'], ['271299001', 'progressing'], ['709137006', 'unknown']]
  for (const [answer, status] of answers) {
    const ctx = run([boneMet('b', 'T7', '2025-01-01'), diseaseStatus('s', answer, '2026-03-16')])
    t.equal(ctx.draft.disease?.extracranialStatus, status, answer)
    t.same(ctx.sources['disease.extracranialStatus'], { label: 'Extracranial disease on the current line', display: `${status} (2026-03-16)`, refs: ['Observation/s'], date: '2026-03-16' })
    t.ok(ctx.state.derived.has('disease.extracranialStatus'))
  }
  const latest = run([diseaseStatus('a', '271299001', '2026-01-01'), diseaseStatus('b', '359746009', '2026-03-01'), diseaseStatus('c', '268910001', '2026-04-01', 'preliminary')])
  t.equal(latest.draft.disease?.extracranialStatus, 'stable', 'the latest usable one')
  t.ok(codes(latest).includes('FHIR_PRELIMINARY_IGNORED'))
  const undated = run([diseaseStatus('a', '271299001', undefined)])
  t.same(undated.sources['disease.extracranialStatus'], { label: 'Extracranial disease on the current line', display: 'progressing', refs: ['Observation/a'] })
})

t.test('§6.8 extracranialStatus: not derived with a brain or leptomeningeal site (a gap); unreadable answer (a gap)', async (t) => {
  for (const code of ['C79.31', 'C79.32']) {
    const ctx = run([condition('c', coded(ICD10CM, code), { onset: '2025-01-01' }), diseaseStatus('s', '359746009', '2026-03-16')])
    t.equal(ctx.draft.disease?.extracranialStatus, undefined, code)
    t.same(ctx.gaps['disease.extracranialStatus'], ['the disease status (97509-4) is not read as extracranial while brain or leptomeningeal metastases are recorded'])
  }
  const unreadable = run([diseaseStatus('s', '1234567', '2026-03-16'), diseaseStatus('old', '359746009', '2025-03-16')])
  t.equal(unreadable.draft.disease?.extracranialStatus, undefined)
  t.same(unreadable.gaps['disease.extracranialStatus'], ['Observation/s: disease status value not recognised'])
  t.ok(codes(unreadable).includes('FHIR_VALUE_UNREADABLE'))
  const none = run([diseaseStatus('s', undefined, '2026-03-16', 'cancelled')])
  t.same(none.gaps, {})
  t.equal(none.draft.disease?.extracranialStatus, undefined)
  const future = run([diseaseStatus('s', '359746009', '2026-07-01')])
  t.equal(future.draft.disease?.extracranialStatus, undefined)
  t.ok(codes(future).includes('FHIR_FUTURE_DATED'))
})

/* ------------------------------------------------------------- brain.present */

t.test('§6.8 brain.present: true when a brain site exists; never false from absence', async (t) => {
  const ctx = run([condition('br', coded(SCT, '94225005'), { onset: '2025-01-01' })])
  t.same(ctx.draft.disease?.brain, { present: true })
  t.same(ctx.sources['disease.brain.present'], { label: 'Brain metastases present', display: 'yes (brain metastasis recorded)', refs: ['Condition/br'] })
  t.ok(ctx.state.derived.has('disease.brain.present'))
  const none = run([boneMet('b', 'T7')])
  t.equal(none.draft.disease?.brain, undefined)
  t.notOk(none.state.derived.has('disease.brain.present'))
  const lepto = run([condition('l', coded(ICD10CM, 'C79.32'))])
  t.equal(lepto.draft.disease?.brain, undefined, 'leptomeningeal alone sets nothing')
})

t.test('§6.8 brain.present joins the brain priorRt of §6.7', async (t) => {
  const ctx = run([
    condition('br', coded(ICD10CM, 'C79.31'), { onset: '2025-01-01' }),
    procedure('rt', { ...coded(SCT, '53438000'), text: 'SRS' }, { bodySite: [text('Brain')], performedDateTime: '2025-02-01', extension: [{ url: SESSIONS_URL, valueUnsignedInt: 1 }] })
  ])
  t.same(ctx.draft.disease?.brain, { priorRt: { technique: 'srs', date: '2025-02-01' }, present: true })
})

/* ------------------------------------------------------------- whole chain */

t.test('§12.4 B #9–#12 at mapper level on one seed-like patient', async (t) => {
  const seed = [primary('p', 'left', '2026-01-10'), boneMet('l5', 'L5', '2026-01-20')]
  // #9: the L5 bodySite replaced by the lumbar column.
  const column = run([primary('p', 'left', '2026-01-10'), condition('b', coded(SCT, '94222008'), { bodySite: [coded(SCT, '122496007', 'Structure of lumbar vertebral column')], onset: '2026-01-20' })])
  t.equal(column.draft.disease?.spineLesions, undefined)
  t.same(column.draft.disease?.metastaticSites, ['bone'])
  t.ok(codes(column).includes('FHIR_SPINE_LEVEL_UNKNOWN'))
  t.ok(column.gaps['disease.spineLesions'] !== undefined)
  // #10: axillary nodes on the same side, an unknown side, the opposite side.
  const nodes = (side?: 'left' | 'right'): ReturnType<typeof condition> =>
    condition(`n-${side ?? 'x'}`, coded(SCT, '94181007'), { bodySite: [side === undefined ? text('Axillary lymph node') : lateral(text('Axillary lymph node'), side)], onset: '2026-01-20' })
  const withNodes = run([...seed, nodes('left'), nodes(), nodes('right')])
  t.same(withNodes.draft.disease?.metastaticSites, ['bone', 'distant_nodes'])
  t.same(withNodes.gaps['disease.metastaticSites'], ['Condition/n-x: regional lymph-node metastasis whose side relative to the primary is unknown; not counted as a distant site.'])
  // #11: 128462008 with bodySite "L5 vertebra" is identical to the seed.
  const generic = run([primary('p', 'left', '2026-01-10'), condition('l5', coded(SCT, '128462008'), { bodySite: [text('L5 vertebra')], onset: '2026-01-20' })])
  const plain = run(seed)
  t.same(generic.draft, plain.draft)
  t.same(generic.warnings, plain.warnings)
  // #12: RT without dose, then a course summary of 800 cGy in 1 fraction.
  const noDose = run([...seed, procedure('rt', coded(SCT, '53438000'), { bodySite: [text('L5')], performedDateTime: '2026-02-01' })])
  t.same(noDose.draft, plain.draft, 'recommendations identical: no priorRt')
  t.same(codes(noDose), ['FHIR_PRIOR_RT_INCOMPLETE'])
  const course = run([...seed, procedure('rt', coded(SCT, '1217123003'), { bodySite: [text('L5')], performedDateTime: '2026-02-01', extension: [doseToVolume(800, 'cGy', 1)] })])
  t.same(course.draft.disease?.spineLesions, [{ level: 'L5', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2026-02-01' } }])
  t.equal(course.draft.disease?.presentation, 'de_novo_metastatic')
  t.equal(course.draft.disease?.primaryIntact, true)
})

t.test('the derivations read only the draft and state: run alone on nothing, or after a fact-like brain site', async (t) => {
  const ctx = run([], [deriveFields])
  t.equal(ctx.draft.disease?.presentation, 'early')
  t.same(codes(ctx), ['FHIR_PRESENTATION_ASSUMED'])
  const brain = new MappingContext([diseaseStatus('s', '359746009', '2026-03-16')], { patientRef: 'Patient/p1', evaluationDate: '2026-06-01' }, () => undefined)
  brain.draft.disease = { metastaticSites: ['brain'] }
  deriveFields(brain)
  t.same(brain.draft.disease.brain, { present: true })
  t.same(brain.sources['disease.brain.present']?.refs, [])
  t.ok(brain.gaps['disease.extracranialStatus'] !== undefined)
  const status = run([diseaseStatus('s', '359746009', '2026-03-16')], [deriveFields])
  t.equal(status.draft.disease?.extracranialStatus, 'stable')
})

t.test('§6.8 primaryIntact: the display names the first dated breast surgery; undated ones come last', async (t) => {
  const ctx = run([
    primary('p', 'left', '2019-01-01'),
    procedure('u', coded(SCT, '392021009', 'Lumpectomy of breast')),
    procedure('d', text('Right mastectomy'), { performedDateTime: '2020-01-01' }),
    procedure('v', coded(SCT, '392021009', 'Lumpectomy of breast')),
    procedure('e', text('Left mastectomy'), { performedDateTime: '2019-06-01' })
  ])
  t.equal(ctx.sources['disease.primaryIntact']?.display, 'no (Left mastectomy, 2019-06-01)')
})
