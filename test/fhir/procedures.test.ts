import t from 'tap'
import { mapConditions } from '../../src/fhir/sections/conditions.js'
import { mapProcedures } from '../../src/fhir/sections/procedures.js'
import { mapStaging } from '../../src/fhir/sections/staging.js'
import {
  boneMet, codes, coded, condition, DOSE_URL, doseToVolume, ICD10CM, primary, procedure, run, SCT, SESSIONS_URL, TECHNIQUE_URL, text
} from '../support/fhir-disease-builders.js'

const sections = [mapConditions, mapStaging, mapProcedures]
const spine = (ctx: ReturnType<typeof run>): unknown => ctx.draft.disease?.spineLesions
const RT = coded(SCT, '53438000', 'Radiation therapy procedure or service')
const COURSE_SUMMARY = coded(SCT, '1217123003', 'Radiotherapy course of treatment')
const rtCourse = (id: string, site: string, dose: number | undefined, unit: string, fractions: number | undefined, date = '2025-03-01', code = COURSE_SUMMARY): ReturnType<typeof procedure> =>
  procedure(id, code, { bodySite: [text(site)], performedDateTime: date, extension: [doseToVolume(dose, unit, fractions)] })

/* ------------------------------------------------------------- radiotherapy */

t.test('§6.7 radiotherapy is recognised by each SNOMED code and by text (FHIR_MATCHED_BY_TEXT)', async (t) => {
  for (const code of ['1217123003', '53438000', '448385000', '445232009']) {
    const ctx = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', 800, 'cGy', 1, '2025-03-01', coded(SCT, code))], sections)
    t.same(spine(ctx), [{ level: 'T7', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-03-01' } }], code)
    t.same(ctx.warnings, [])
  }
  for (const words of ['Palliative radiotherapy', 'Radiation to spine', 'Irradiation', 'SBRT', 'SABR', 'Stereotactic treatment']) {
    const ctx = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', 20, 'Gy', 5, '2025-03-01', text(words))], sections)
    t.equal((ctx.draft.disease?.spineLesions?.[0]?.priorRt as { doseGy?: number } | undefined)?.doseGy, 20, words)
    t.same(codes(ctx), ['FHIR_MATCHED_BY_TEXT'])
  }
})

t.test('§12.4 B #12: RT (53438000) to L5 without dose → FHIR_PRIOR_RT_INCOMPLETE; a course summary 800 cGy / 1 fraction → {8, 1, conventional}', async (t) => {
  const base = [primary('p', 'left', '2025-01-01'), boneMet('l5', 'L5', '2025-01-10')]
  const noDose = run([...base, procedure('rt', RT, { bodySite: [text('L5 vertebra')], performedDateTime: '2025-02-01' })], sections)
  t.same(spine(noDose), [{ level: 'L5' }], '[D] no priorRt: the engine treats the level as not irradiated')
  t.same(codes(noDose), ['FHIR_PRIOR_RT_INCOMPLETE'])
  t.same(noDose.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on 2025-02-01 without dose/fractions (Procedure/rt)'])
  const summary = run([...base, rtCourse('rt', 'L5', 800, 'cGy', 1, '2025-02-01')], sections)
  t.same(spine(summary), [{ level: 'L5', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-02-01' } }])
  t.same(summary.sources['disease.spineLesions[0].priorRt'], {
    label: 'Radiotherapy already given to the lesion',
    display: '8 Gy in 1 fraction, conventional (2025-02-01)',
    refs: ['Procedure/rt'],
    date: '2025-02-01'
  })
  t.same(summary.warnings, [])
})

t.test('§6.7 dose: cGy ÷ 100 or Gy, the largest volume dose; fractions of that volume, else mcode-radiotherapy-sessions', async (t) => {
  const volumes = procedure('rt', COURSE_SUMMARY, {
    bodySite: [text('T7')],
    performedDateTime: '2025-03-01',
    extension: [doseToVolume(2000, 'cGy', 5), doseToVolume(30, 'Gy', 10), doseToVolume(undefined, 'Gy', 3), { url: SESSIONS_URL, valueUnsignedInt: 12 }]
  })
  t.same(spine(run([boneMet('b', 'T7'), volumes], sections)), [{ level: 'T7', priorRt: { doseGy: 30, fractions: 10, technique: 'conventional', date: '2025-03-01' } }])
  const sessions = procedure('rt', COURSE_SUMMARY, {
    bodySite: [text('T7')],
    performedDateTime: '2025-03-01',
    extension: [doseToVolume(2400, 'cGy'), { url: SESSIONS_URL, valueUnsignedInt: 6 }]
  })
  t.same(spine(run([boneMet('b', 'T7'), sessions], sections)), [{ level: 'T7', priorRt: { doseGy: 24, fractions: 6, technique: 'conventional', date: '2025-03-01' } }])
  const noFractions = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', 2000, 'cGy', undefined)], sections)
  t.same(spine(noFractions), [{ level: 'T7' }])
  t.same(noFractions.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on 2025-03-01 without fractions (Procedure/rt)'])
  t.same(codes(noFractions), ['FHIR_PRIOR_RT_INCOMPLETE'])
  const noDose = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', undefined, 'cGy', 5)], sections)
  t.same(noDose.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on 2025-03-01 without dose (Procedure/rt)'])
})

t.test('§6.1 rule 7: a dose in an unknown unit is unusable (FHIR_UNIT_UNKNOWN), and the course incomplete', async (t) => {
  const ctx = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', 8, 'rad', 1)], sections)
  t.same(spine(ctx), [{ level: 'T7' }])
  t.same(codes(ctx), ['FHIR_UNIT_UNKNOWN', 'FHIR_PRIOR_RT_INCOMPLETE'])
})

t.test('a dose or fraction count out of the Case range is unusable (FHIR_VALUE_OUT_OF_RANGE)', async (t) => {
  for (const [dose, fractions] of [[30000, 10], [800, 0], [800, 101], [800, 2.5]] as const) {
    const ctx = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', dose, 'cGy', fractions)], sections)
    t.same(spine(ctx), [{ level: 'T7' }], `${dose} cGy / ${fractions}`)
    t.same(codes(ctx), ['FHIR_VALUE_OUT_OF_RANGE'])
    t.match(ctx.gaps['disease.spineLesions[0].priorRt'], [/out of range/])
  }
})

t.test('§6.7 [D] technique: sbrt by stereotactic|SBRT|SABR in the procedure or the modality-and-technique extension, else conventional', async (t) => {
  const sbrtCode = run([boneMet('b', 'T7'), rtCourse('rt', 'T7', 2400, 'cGy', 1, '2025-03-01', { coding: [{ system: SCT, code: '1217123003', display: 'Stereotactic body radiotherapy course' }] })], sections)
  t.equal((spine(sbrtCode) as Array<{ priorRt: { technique: string } }>)[0]?.priorRt.technique, 'sbrt')
  t.match(sbrtCode.sources['disease.spineLesions[0].priorRt']?.display, /SBRT/)
  const extension = procedure('rt', COURSE_SUMMARY, {
    bodySite: [text('T7')],
    performedDateTime: '2025-03-01',
    extension: [doseToVolume(2700, 'cGy', 3), { url: TECHNIQUE_URL, extension: [{ url: 'modality', valueCodeableConcept: coded(SCT, '1156505006', 'Photon') }, { url: 'technique', valueCodeableConcept: text('SABR') }] }]
  })
  t.equal((spine(run([boneMet('b', 'T7'), extension], sections)) as Array<{ priorRt: { technique: string } }>)[0]?.priorRt.technique, 'sbrt')
  const topLevel = procedure('rt', COURSE_SUMMARY, {
    bodySite: [text('T7')], performedDateTime: '2025-03-01', extension: [doseToVolume(2700, 'cGy', 3), { url: TECHNIQUE_URL, valueCodeableConcept: text('SBRT') }]
  })
  t.equal((spine(run([boneMet('b', 'T7'), topLevel], sections)) as Array<{ priorRt: { technique: string } }>)[0]?.priorRt.technique, 'sbrt')
  const conventional = procedure('rt', COURSE_SUMMARY, {
    bodySite: [text('T7')], performedDateTime: '2025-03-01', extension: [doseToVolume(3000, 'cGy', 10), { url: TECHNIQUE_URL, extension: [{ url: 'technique', valueCodeableConcept: text('3D conformal') }] }]
  })
  t.equal((spine(run([boneMet('b', 'T7'), conventional], sections)) as Array<{ priorRt: { technique: string } }>)[0]?.priorRt.technique, 'conventional')
})

t.test('§6.7 date: performedPeriod.end (cut to evaluationDate), else performedDateTime, else performedPeriod.start', async (t) => {
  const period = (performedPeriod: { start?: string, end?: string }): unknown => {
    const ctx = run([boneMet('b', 'T7'), procedure('rt', COURSE_SUMMARY, { bodySite: [text('T7')], performedPeriod, extension: [doseToVolume(3000, 'cGy', 10)] })], sections)
    return (spine(ctx) as Array<{ priorRt?: { date?: string } }>)[0]?.priorRt?.date
  }
  t.equal(period({ start: '2025-03-01', end: '2025-03-14' }), '2025-03-14')
  t.equal(period({ start: '2025-03-01' }), '2025-03-01')
  t.equal(period({ start: '2026-05-20', end: '2026-06-10' }), '2026-06-01', 'an end after evaluationDate is cut to it')
  const undated = run([boneMet('b', 'T7'), procedure('rt', COURSE_SUMMARY, { bodySite: [text('T7')], extension: [doseToVolume(800, 'cGy', 1)] })], sections)
  t.same(spine(undated), [{ level: 'T7', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional' } }])
  t.same(codes(undated), ['FHIR_UNDATED'])
  t.same(undated.sources['disease.spineLesions[0].priorRt'], { label: 'Radiotherapy already given to the lesion', display: '8 Gy in 1 fraction, conventional', refs: ['Procedure/rt'] })
  const noDoseUndated = run([boneMet('b', 'T7'), procedure('rt', RT, { bodySite: [text('T7')] })], sections)
  t.same(noDoseUndated.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on an unknown date without dose/fractions (Procedure/rt)'])
})

t.test('§6.1 rules 3 and 4: not-done, preparation and future procedures are ignored', async (t) => {
  const ctx = run([
    boneMet('b', 'T7'),
    procedure('nd', COURSE_SUMMARY, { status: 'not-done', bodySite: [text('T7')], performedDateTime: '2025-01-01', extension: [doseToVolume(800, 'cGy', 1)] }),
    procedure('prep', COURSE_SUMMARY, { status: 'preparation', bodySite: [text('T7')], performedDateTime: '2025-01-01', extension: [doseToVolume(800, 'cGy', 1)] }),
    procedure('future', COURSE_SUMMARY, { bodySite: [text('T7')], performedPeriod: { start: '2026-06-02' }, extension: [doseToVolume(800, 'cGy', 1)] })
  ], sections)
  t.same(spine(ctx), [{ level: 'T7' }])
  t.same(codes(ctx), ['FHIR_FUTURE_DATED'])
  const inProgress = run([boneMet('b', 'T7'), procedure('ip', COURSE_SUMMARY, { status: 'in-progress', bodySite: [text('T7')], performedPeriod: { start: '2026-05-25' }, extension: [doseToVolume(2000, 'cGy', 5)] })], sections)
  t.equal((spine(inProgress) as Array<{ priorRt?: unknown }>)[0]?.priorRt !== undefined, true, 'in-progress is used')
})

t.test('§6.7 several courses to one lesion: the latest; an incomplete newer course still warns and gaps', async (t) => {
  const ctx = run([
    boneMet('b', 'T7'),
    rtCourse('old', 'T7', 800, 'cGy', 1, '2024-01-01'),
    rtCourse('new', 'T7', 2000, 'cGy', 5, '2025-01-01'),
    procedure('newest', RT, { bodySite: [text('T7')], performedDateTime: '2025-06-01' })
  ], sections)
  t.same(spine(ctx), [{ level: 'T7', priorRt: { doseGy: 20, fractions: 5, technique: 'conventional', date: '2025-01-01' } }])
  t.same(ctx.sources['disease.spineLesions[0].priorRt']?.refs, ['Procedure/new'])
  t.same(codes(ctx), ['FHIR_PRIOR_RT_INCOMPLETE'])
  t.same(ctx.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on 2025-06-01 without dose/fractions (Procedure/newest)'])
})

t.test('§6.7 one course over several levels goes to each lesion; levels without a lesion are passed over', async (t) => {
  const ctx = run([boneMet('a', 'T7'), boneMet('b', 'T9'), rtCourse('rt', 'T7-T9', 2000, 'cGy', 5)], sections)
  const rt = { doseGy: 20, fractions: 5, technique: 'conventional', date: '2025-03-01' }
  t.same(spine(ctx), [{ level: 'T7', priorRt: rt }, { level: 'T9', priorRt: rt }])
  t.same(ctx.warnings, [])
})

t.test('§6.7 no lesion at the target → ignored with FHIR_RT_SITE_WITHOUT_LESION', async (t) => {
  const level = run([boneMet('b', 'T7'), rtCourse('rt', 'L2', 800, 'cGy', 1)], sections)
  t.same(spine(level), [{ level: 'T7' }])
  t.same(codes(level), ['FHIR_RT_SITE_WITHOUT_LESION'])
  const acetabulum = run([boneMet('b', 'T7'), procedure('rt', RT, { bodySite: [coded(SCT, '719537008', 'Bone structure of right acetabulum')], performedDateTime: '2019-05-01' })], sections)
  t.same(codes(acetabulum), ['FHIR_RT_SITE_WITHOUT_LESION'], 'third-party Patient02: RT to the acetabulum without a lesion')
  const noBodySite = run([boneMet('b', 'T7'), procedure('rt', COURSE_SUMMARY, { performedDateTime: '2025-01-01', extension: [doseToVolume(800, 'cGy', 1)] })], sections)
  t.same(codes(noBodySite), ['FHIR_RT_SITE_WITHOUT_LESION'])
  t.same(spine(noBodySite), [{ level: 'T7' }])
})

t.test('RT to a site that is not bone (breast, chest wall) is not a lesion course and adds nothing', async (t) => {
  const ctx = run([primary('p', 'right'), boneMet('b', 'T7'), procedure('rt', coded(SCT, '445232009', 'Boost radiation therapy'), { bodySite: [coded(SCT, '73056007', 'Right breast structure')], performedDateTime: '2019-04-01' })], sections)
  t.same(spine(ctx), [{ level: 'T7' }])
  t.same(ctx.warnings, [])
  t.same(ctx.gaps, {})
})

t.test('§6.7 [D] RT to a vertebral region without a level: FHIR_PRIOR_RT_LEVEL_UNKNOWN and a gap on the priorRt of every spine lesion in that region', async (t) => {
  const ctx = run([
    boneMet('t', 'T12'), boneMet('l2', 'L2'), boneMet('l4', 'L4'),
    procedure('rt', RT, { bodySite: [coded(SCT, '122496007', 'Structure of lumbar vertebral column')], performedDateTime: '2019-11-01' })
  ], sections)
  t.same(spine(ctx), [{ level: 'T12' }, { level: 'L2' }, { level: 'L4' }])
  t.same(codes(ctx), ['FHIR_PRIOR_RT_LEVEL_UNKNOWN'])
  const gap = ['radiotherapy on 2019-11-01 to the lumbar spine without a level; it may have included this level (Procedure/rt)']
  t.same(ctx.gaps['disease.spineLesions[1].priorRt'], gap)
  t.same(ctx.gaps['disease.spineLesions[2].priorRt'], gap)
  t.equal(ctx.gaps['disease.spineLesions[0].priorRt'], undefined, 'T12 is not lumbar')
  const whole = run([boneMet('t', 'T12'), boneMet('c', 'C3'), boneMet('s', 'S1'), procedure('rt', RT, { bodySite: [text('Spine')], performedDateTime: '2019-11-01' })], sections)
  t.same(Object.keys(whole.gaps).sort(), ['disease.spineLesions[0].priorRt', 'disease.spineLesions[1].priorRt', 'disease.spineLesions[2].priorRt'], 'a spine without a region: every lesion')
  const noLesion = run([boneMet('t', 'T12'), procedure('rt', RT, { bodySite: [coded(SCT, '122496007')], performedDateTime: '2019-11-01' })], sections)
  t.same(codes(noLesion), ['FHIR_PRIOR_RT_LEVEL_UNKNOWN', 'FHIR_RT_SITE_WITHOUT_LESION'], 'no lesion in the region')
})

t.test('§6.7 RT to a non-spine bone site → the non-spine lesion of that site', async (t) => {
  const ctx = run([boneMet('f', 'Left femur'), boneMet('h', 'Humerus'), rtCourse('rt', 'Left femur', 800, 'cGy', 1)], sections)
  t.same(ctx.draft.disease?.nonSpineBoneLesions, [{ site: 'femur', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-03-01' } }, { site: 'humerus' }])
  t.same(ctx.sources['disease.nonSpineBoneLesions[0].priorRt']?.refs, ['Procedure/rt'])
  const incomplete = run([boneMet('f', 'Left femur'), procedure('rt', RT, { bodySite: [text('Femur')], performedDateTime: '2025-03-01' })], sections)
  t.same(incomplete.gaps['disease.nonSpineBoneLesions[0].priorRt'], ['radiotherapy on 2025-03-01 without dose/fractions (Procedure/rt)'])
})

t.test('RT to a site with several non-spine lesions: reasonReference decides, else not attributed', async (t) => {
  const lesions = [boneMet('lf', 'Left femur'), boneMet('rf', 'Right femur')]
  const byReason = run([...lesions, { ...rtCourse('rt', 'Femur', 800, 'cGy', 1), reasonReference: [{ reference: 'Condition/rf' }, { reference: 'Condition/unknown' }, {}] }], sections)
  t.same(byReason.draft.disease?.nonSpineBoneLesions, [{ site: 'femur' }, { site: 'femur', priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-03-01' } }])
  const ambiguous = run([...lesions, rtCourse('rt', 'Femur', 800, 'cGy', 1)], sections)
  t.same(ambiguous.draft.disease?.nonSpineBoneLesions, [{ site: 'femur' }, { site: 'femur' }])
  t.same(codes(ambiguous), ['FHIR_RT_SITE_WITHOUT_LESION'])
  t.same(ambiguous.gaps['disease.nonSpineBoneLesions[1].priorRt'], ['radiotherapy to the femur not attributed to one of its lesions (Procedure/rt)'])
})

/* ------------------------------------------------------------- brain */

const brainMet = condition('brain', coded(ICD10CM, 'C79.31'), { onset: '2025-01-01' })
const brainRt = (id: string, words: string, fractions: number | undefined, date = '2025-02-01'): ReturnType<typeof procedure> =>
  procedure(id, { ...RT, text: words }, { bodySite: [text('Brain')], performedDateTime: date, extension: fractions === undefined ? [] : [{ url: SESSIONS_URL, valueUnsignedInt: fractions }] })
const brainOf = (ctx: ReturnType<typeof run>): unknown => ctx.draft.disease?.brain

t.test('§6.7 [D] brain RT → disease.brain.priorRt: wbrt, srs in 1 fraction, fractionated_srs in 2–5', async (t) => {
  t.same(brainOf(run([brainMet, brainRt('rt', 'Whole brain radiotherapy', 10)], sections)), { priorRt: { technique: 'wbrt', date: '2025-02-01' } })
  t.same(brainOf(run([brainMet, brainRt('rt', 'WBRT', undefined)], sections)), { priorRt: { technique: 'wbrt', date: '2025-02-01' } }, 'WBRT needs no fractions')
  t.same(brainOf(run([brainMet, brainRt('rt', 'Stereotactic radiosurgery', 1)], sections)), { priorRt: { technique: 'srs', date: '2025-02-01' } })
  t.same(brainOf(run([brainMet, brainRt('rt', 'SRS', 3)], sections)), { priorRt: { technique: 'fractionated_srs', date: '2025-02-01' } })
  t.same(brainOf(run([brainMet, brainRt('rt', 'Stereotactic radiotherapy', 5)], sections)), { priorRt: { technique: 'fractionated_srs', date: '2025-02-01' } })
  const source = run([brainMet, brainRt('rt', 'SRS', 3)], sections).sources['disease.brain.priorRt']
  t.same(source, { label: 'Technique of the latest brain radiotherapy', display: 'fractionated radiosurgery, 3 fractions (2025-02-01)', refs: ['Procedure/rt'], date: '2025-02-01' })
  const cerebral = run([brainMet, procedure('rt', coded(SCT, '53438000'), { bodySite: [text('Cerebral hemisphere')], performedDateTime: '2025-02-01', extension: [doseToVolume(2000, 'cGy', 1)] })], sections)
  t.same(codes(cerebral), ['FHIR_PRIOR_RT_INCOMPLETE'], 'brain RT of no stated technique')
  t.same(cerebral.gaps['disease.brain.priorRt'], ['brain radiotherapy on 2025-02-01 without a recognisable technique (Procedure/rt)'])
})

t.test('§6.7 brain RT: radiosurgery in 6+ fractions or without fractions is incomplete; the latest course wins', async (t) => {
  for (const fractions of [6, undefined]) {
    const ctx = run([brainMet, brainRt('rt', 'Radiosurgery', fractions)], sections)
    t.equal(brainOf(ctx), undefined, `${String(fractions)} fractions`)
    t.same(codes(ctx), ['FHIR_PRIOR_RT_INCOMPLETE'])
  }
  const latestWins = run([brainMet, brainRt('a', 'WBRT', 10, '2024-01-01'), brainRt('b', 'SRS', 1, '2025-01-01')], sections)
  t.same(brainOf(latestWins), { priorRt: { technique: 'srs', date: '2025-01-01' } })
})

t.test('§6.7 brain RT without a brain site is ignored (FHIR_RT_SITE_WITHOUT_LESION), leptomeningeal only included', async (t) => {
  const none = run([boneMet('b', 'T7'), brainRt('rt', 'WBRT', 10)], sections)
  t.equal(brainOf(none), undefined)
  t.same(codes(none), ['FHIR_RT_SITE_WITHOUT_LESION'])
  const lepto = run([condition('l', coded(ICD10CM, 'C79.32')), brainRt('rt', 'WBRT', 10)], sections)
  t.equal(brainOf(lepto), undefined)
  t.ok(codes(lepto).includes('FHIR_RT_SITE_WITHOUT_LESION'))
})

/* ------------------------------------------------------------- spine surgery */

const surgery = (id: string, words: string, site: string | undefined, date = '2025-04-01', code = coded(SCT, '387713003', 'Surgical procedure')): ReturnType<typeof procedure> =>
  procedure(id, { ...code, text: words }, { ...(site === undefined ? {} : { bodySite: [text(site)] }), performedDateTime: date })

t.test('§6.7 / §6.8a spine surgery at a level: type by text (decompression, stabilisation, augmentation) and date', async (t) => {
  const types: Array<[string, string]> = [
    ['Laminectomy', 'decompression'], ['Decompressive surgery', 'decompression'],
    ['Posterior fusion', 'stabilisation'], ['Stabilization', 'stabilisation'], ['Stabilisation', 'stabilisation'], ['Pedicle screw fixation', 'stabilisation'], ['Instrumentation', 'stabilisation'],
    ['Vertebroplasty', 'augmentation'], ['Kyphoplasty', 'augmentation'], ['Vertebral augmentation', 'augmentation']
  ]
  for (const [words, type] of types) {
    const ctx = run([boneMet('b', 'T7'), surgery('s', words, 'T7 vertebra')], sections)
    t.same(spine(ctx), [{ level: 'T7', surgery: { type, date: '2025-04-01' } }], words)
    t.same(ctx.warnings, [], `${words}: by the surgical code`)
  }
  const source = run([boneMet('b', 'T7'), surgery('s', 'Laminectomy', 'T7')], sections).sources['disease.spineLesions[0].surgery']
  t.same(source, { label: 'Spinal surgery already done at the level', display: 'decompression (2025-04-01)', refs: ['Procedure/s'], date: '2025-04-01' })
})

t.test('§6.8a a named spine operation by text alone is surgery (FHIR_MATCHED_BY_TEXT); imaging with a level is not', async (t) => {
  const byText = run([boneMet('b', 'L1'), procedure('s', text('Kyphoplasty L1'), { bodySite: [text('L1')], performedDateTime: '2025-04-01' })], sections)
  t.same(spine(byText), [{ level: 'L1', surgery: { type: 'augmentation', date: '2025-04-01' } }])
  t.same(codes(byText), ['FHIR_MATCHED_BY_TEXT'])
  const imaging = run([boneMet('b', 'L1'), procedure('mri', coded(SCT, '241645001', 'MRI of lumbar spine'), { bodySite: [text('L1')], performedDateTime: '2025-04-01' })], sections)
  t.same(spine(imaging), [{ level: 'L1' }])
  t.same(imaging.warnings, [])
})

t.test('§6.7 spine surgery without a level: FHIR_SURGERY_LEVEL_UNKNOWN; surgery elsewhere is not spine surgery', async (t) => {
  const region = run([boneMet('b', 'L1'), surgery('s', 'Laminectomy', 'Lumbar spine')], sections)
  t.same(spine(region), [{ level: 'L1' }])
  t.same(codes(region), ['FHIR_SURGERY_LEVEL_UNKNOWN'])
  t.same(region.gaps['disease.spineLesions'], ['Procedure/s: spine surgery without a vertebral level; not attributed to a lesion.'])
  const noSite = run([boneMet('b', 'L1'), procedure('s', text('Vertebroplasty'), { performedDateTime: '2025-04-01' })], sections)
  t.same(codes(noSite), ['FHIR_MATCHED_BY_TEXT', 'FHIR_SURGERY_LEVEL_UNKNOWN'])
  const femur = run([boneMet('f', 'Left femur'), surgery('s', 'Intramedullary fixation', 'Left femur')], sections)
  t.same(femur.warnings, [])
  t.same(femur.draft.disease?.nonSpineBoneLesions, [{ site: 'femur' }])
  const generic = run([boneMet('b', 'L1'), procedure('s', coded(SCT, '387713003'), { performedDateTime: '2025-04-01' })], sections)
  t.same(generic.warnings, [], 'a surgical procedure without a site or a named spine operation')
})

t.test('§6.7 spine surgery: no lesion at the level, or no type stated, is a gap; the latest surgery wins', async (t) => {
  const noLesion = run([boneMet('b', 'L1'), surgery('s', 'Laminectomy', 'T4')], sections)
  t.same(spine(noLesion), [{ level: 'L1' }])
  t.same(noLesion.gaps['disease.spineLesions'], ['spine surgery at T4 where no spine lesion is recorded (Procedure/s)'])
  const noType = run([boneMet('b', 'L1'), surgery('s', 'Spine operation', 'L1')], sections)
  t.same(spine(noType), [{ level: 'L1' }])
  t.same(noType.gaps['disease.spineLesions[0].surgery'], ['spine surgery at L1 whose type (decompression, stabilisation, augmentation) is not stated (Procedure/s)'])
  const notDone = run([boneMet('b', 'L1'), { ...surgery('s', 'Laminectomy', 'L1'), status: 'not-done' }, { ...surgery('f', 'Laminectomy', 'L1', '2026-06-02') }], sections)
  t.same(spine(notDone), [{ level: 'L1' }], 'not-done and future surgeries are ignored')
  t.same(codes(notDone), ['FHIR_FUTURE_DATED'])
  const latest = run([boneMet('b', 'L1'), surgery('a', 'Vertebroplasty', 'L1', '2024-01-01'), surgery('b', 'Posterior fusion', 'L1', '2025-01-01')], sections)
  t.same(spine(latest), [{ level: 'L1', surgery: { type: 'stabilisation', date: '2025-01-01' } }])
})

/* ------------------------------------------------------------- breast surgery */

t.test('§6.7 breast surgery: 392021009, or a named operation with a breast site → ctx.state.breastSurgeries', async (t) => {
  const lumpectomy = run([procedure('s', coded(SCT, '392021009', 'Lumpectomy of breast'), { performedDateTime: '2019-03-01' })], sections)
  t.same(lumpectomy.state.breastSurgeries, [{ ref: 'Procedure/s', display: 'Lumpectomy of breast', date: '2019-03-01' }])
  t.same(lumpectomy.warnings, [])
  const words: Array<[string, string | undefined, boolean]> = [
    ['Left mastectomy', undefined, true], ['Breast-conserving surgery', undefined, true], ['Quadrantectomy', 'Left breast', true],
    ['Lumpectomy', 'Left breast', true], ['Lumpectomy', 'Back', false], ['Lumpectomy', undefined, false]
  ]
  for (const [name, site, expected] of words) {
    const ctx = run([procedure('s', text(name), { ...(site === undefined ? {} : { bodySite: [text(site)] }), performedDateTime: '2019-03-01' })], sections)
    t.equal(ctx.state.breastSurgeries !== undefined, expected, `${name} / ${String(site)}`)
  }
  const undated = run([procedure('s', coded(SCT, '392021009'))], sections)
  t.same(undated.state.breastSurgeries, [{ ref: 'Procedure/s', display: 'breast surgery' }])
  t.equal(run([procedure('s', coded(SCT, '392021009'), { status: 'not-done' })], sections).state.breastSurgeries, undefined)
})

t.test('the mCODE dose extension read defensively: a malformed extension is no dose', async (t) => {
  const malformed = procedure('rt', COURSE_SUMMARY, { bodySite: [text('T7')], performedDateTime: '2025-03-01', extension: [{ url: DOSE_URL, extension: 'x' }, 'y', { url: SESSIONS_URL, valueUnsignedInt: '5' }] })
  const ctx = run([boneMet('b', 'T7'), malformed], sections)
  t.same(ctx.gaps['disease.spineLesions[0].priorRt'], ['radiotherapy on 2025-03-01 without dose/fractions (Procedure/rt)'])
})

t.test('§6.7 as written: "WBRT" or "SRS" alone is not in the radiotherapy text pattern (an RT code is needed; see report)', async (t) => {
  const ctx = run([brainMet, procedure('rt', text('WBRT'), { bodySite: [text('Brain')], performedDateTime: '2025-02-01' })], sections)
  t.equal(brainOf(ctx), undefined)
  t.same(ctx.warnings, [])
})

t.test('RT edge cases: no spine lesions at all, sessions as positiveInt or integer, reasons that name no lesion, undated brain RT and surgery', async (t) => {
  const noSpine = run([boneMet('f', 'Femur'), rtCourse('rt', 'L2', 800, 'cGy', 1)], sections)
  t.same(codes(noSpine), ['FHIR_RT_SITE_WITHOUT_LESION'])
  const noRegion = run([boneMet('f', 'Femur'), procedure('rt', RT, { bodySite: [text('Lumbar spine')], performedDateTime: '2025-01-01' })], sections)
  t.same(codes(noRegion), ['FHIR_PRIOR_RT_LEVEL_UNKNOWN', 'FHIR_RT_SITE_WITHOUT_LESION'])
  for (const key of ['valuePositiveInt', 'valueInteger']) {
    const ctx = run([boneMet('b', 'T7'), procedure('rt', COURSE_SUMMARY, { bodySite: [text('T7')], performedDateTime: '2025-03-01', extension: [doseToVolume(2000, 'cGy'), { url: SESSIONS_URL, [key]: 5 }] })], sections)
    t.equal((spine(ctx) as Array<{ priorRt?: { fractions?: number } }>)[0]?.priorRt?.fractions, 5, key)
  }
  const reasons = run([
    primary('p', 'left'), boneMet('s', 'T7'), boneMet('lf', 'Left femur'), boneMet('rf', 'Right femur'),
    { ...rtCourse('rt', 'Femur', 800, 'cGy', 1), reasonReference: [{ reference: 'Condition/p' }, { reference: 'Condition/s' }] }
  ], sections)
  t.same(codes(reasons), ['FHIR_RT_SITE_WITHOUT_LESION'], 'reasons naming no femur lesion do not decide')
  const brainUndated = run([condition('br', coded(ICD10CM, 'C79.31')), procedure('rt', { ...RT, text: 'WBRT' }, { bodySite: [text('Brain')] })], sections)
  t.same(brainUndated.draft.disease?.brain, { priorRt: { technique: 'wbrt' } })
  t.same(brainUndated.sources['disease.brain.priorRt'], { label: 'Technique of the latest brain radiotherapy', display: 'whole-brain radiotherapy', refs: ['Procedure/rt'] })
  const surgeryUndated = run([boneMet('b', 'T7'), procedure('s', text('Vertebroplasty'), { bodySite: [text('T7')] })], sections)
  t.same(spine(surgeryUndated), [{ level: 'T7', surgery: { type: 'augmentation' } }])
})
