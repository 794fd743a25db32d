import t from 'tap'
import { mapConditions } from '../../src/fhir/sections/conditions.js'
import { mapStaging } from '../../src/fhir/sections/staging.js'
import { boneMet, codes, coded, LNC, observation, run, SCT, text } from '../support/fhir-disease-builders.js'

const sections = [mapConditions, mapStaging]
const CANCER_STAGING = 'http://cancerstaging.org'

const staging = (id: string, code: ReturnType<typeof coded>, value: ReturnType<typeof coded>, date: string | undefined, status = 'final'): ReturnType<typeof observation> =>
  observation(id, code, { valueCodeableConcept: value }, date, status)
const ajccOf = (ctx: ReturnType<typeof run>): unknown => ctx.draft.disease?.ajcc

t.test('§6.8 disease.ajcc T, N and M by every category code (LOINC and SNOMED)', async (t) => {
  const rows: Array<['t' | 'n' | 'm', string, string, string, string]> = [
    ['t', LNC, '21905-5', 'cT3', 'cT3'], ['t', LNC, '21899-0', 'pT2', 'pT2'], ['t', SCT, '399504009', 'cT4b', 'cT4b'],
    ['n', LNC, '21906-3', 'cN2a', 'cN2a'], ['n', LNC, '21900-6', 'pN1mi', 'pN1mi'], ['n', SCT, '399534004', 'cN0', 'cN0'],
    ['m', LNC, '21907-1', 'cM0', 'M0'], ['m', LNC, '21901-4', 'pM1', 'M1'], ['m', SCT, '399387003', 'cM1', 'M1']
  ]
  for (const [key, system, code, written, value] of rows) {
    const ctx = run([staging('s', coded(system, code), coded(CANCER_STAGING, written), '2025-01-10')], sections)
    t.same(ajccOf(ctx), { [key]: value }, `${system} ${code}`)
    t.same(ctx.sources[`disease.ajcc.${key}`], { label: `AJCC ${key.toUpperCase()} category`, display: `${value} (2025-01-10)`, refs: ['Observation/s'], date: '2025-01-10' })
  }
})

t.test('§6.8 values as written, from a code, a display or text ("American Joint Committee on Cancer cT3" → cT3)', async (t) => {
  const ctx = run([
    staging('t', coded(SCT, '399504009'), coded(SCT, '1228938002', 'American Joint Committee on Cancer cT3 (qualifier value)'), '2019-04-01'),
    staging('n', coded(SCT, '399534004'), text('ycN3c'), '2019-04-01'),
    staging('m', coded(SCT, '399387003'), coded(SCT, '1229901006', 'American Joint Committee on Cancer cM0 (qualifier value)'), '2019-04-01')
  ], sections)
  t.same(ajccOf(ctx), { t: 'cT3', n: 'ycN3c', m: 'M0' })
  const others = run([
    staging('t', coded(LNC, '21905-5'), text('cTis (DCIS)'), '2019-04-01'),
    staging('n', coded(LNC, '21906-3'), text('cN0(i+)'), '2019-04-01'),
    staging('m', coded(LNC, '21907-1'), text('cM0(i+)'), '2019-04-01')
  ], sections)
  t.same(ajccOf(others), { t: 'cTis', n: 'cN0', m: 'M0' })
  const bare = run([staging('t', coded(LNC, '21905-5'), text('T1c'), '2019-04-01'), staging('m', coded(LNC, '21907-1'), text('M1'), '2019-04-01')], sections)
  t.same(ajccOf(bare), { t: 'T1c', m: 'M1' })
})

t.test('§6.8 the latest category Observation wins; an unreadable latest value is a gap, not replaced by an older one', async (t) => {
  const ctx = run([
    staging('old', coded(LNC, '21905-5'), text('cT2'), '2024-01-01'),
    staging('new', coded(LNC, '21905-5'), text('cT4a'), '2025-01-01'),
    staging('n-old', coded(LNC, '21906-3'), text('cN1'), '2024-01-01'),
    staging('n-new', coded(LNC, '21906-3'), coded(SCT, '9999999', 'something else'), '2025-01-01')
  ], sections)
  t.same(ajccOf(ctx), { t: 'cT4a' })
  t.same(ctx.gaps['disease.ajcc.n'], ['Observation/n-new: AJCC N category value not readable'])
  t.ok(codes(ctx).includes('FHIR_VALUE_UNREADABLE'))
})

t.test('§6.1 unusable staging: preliminary (FHIR_PRELIMINARY_IGNORED), cancelled, future dated; no text fallback on the code', async (t) => {
  const ctx = run([
    staging('pre', coded(LNC, '21905-5'), text('cT3'), '2025-01-01', 'preliminary'),
    staging('can', coded(LNC, '21906-3'), text('cN1'), '2025-01-01', 'cancelled'),
    staging('fut', coded(LNC, '21907-1'), text('cM1'), '2026-07-01'),
    staging('txt', text('Clinical T category'), text('cT2'), '2025-01-01'),
    staging('grp', coded(LNC, '21908-9'), text('Stage IV'), '2025-01-01', 'entered-in-error')
  ], sections)
  t.equal(ajccOf(ctx), undefined)
  t.same(codes(ctx), ['FHIR_PRELIMINARY_IGNORED', 'FHIR_FUTURE_DATED'])
  t.equal(ctx.state.latestStageGroup, undefined)
  t.equal(ctx.draft.disease?.metastaticDiagnosisDate, undefined)
})

t.test('§6.8 without an M category the latest stage group gives M1 for IV, M0 for 0–III (every stage-group code)', async (t) => {
  const groups: Array<[string, string, ReturnType<typeof coded>, string]> = [
    [LNC, '21908-9', coded(CANCER_STAGING, '4'), 'M1'],
    [LNC, '21902-2', coded(CANCER_STAGING, '3C'), 'M0'],
    [SCT, '399537006', coded(SCT, '261638004', 'Stage 3A (qualifier value)'), 'M0'],
    [SCT, '399588009', coded(CANCER_STAGING, 'IV', 'IV'), 'M1'],
    [LNC, '21908-9', text('Stage IIB'), 'M0'],
    [LNC, '21908-9', text('Stage 0'), 'M0'],
    [LNC, '21908-9', coded(SCT, '1234', 'AJCC stage IVA'), 'M1'],
    [LNC, '21908-9', text('IIIA'), 'M0'],
    [LNC, '21908-9', text('stage iv'), 'M1']
  ]
  for (const [system, code, value, m] of groups) {
    const ctx = run([staging('g', coded(system, code), value, '2025-01-10')], sections)
    t.equal(ctx.draft.disease?.ajcc?.m, m, `${code} ${JSON.stringify(value)}`)
    t.same(ctx.sources['disease.ajcc.m']?.refs, ['Observation/g'])
  }
  const source = run([staging('g', coded(LNC, '21908-9'), coded(CANCER_STAGING, '4'), '2022-01-02')], sections).sources['disease.ajcc.m']
  t.same(source, { label: 'AJCC M category', display: 'M1 from stage group IV ("4") (2022-01-02)', refs: ['Observation/g'], date: '2022-01-02' })
  const state = run([staging('g', coded(LNC, '21908-9'), text('Stage IIIB'), '2025-01-10')], sections).state.latestStageGroup
  t.same(state, { stage: 3, written: 'Stage IIIB', ref: 'Observation/g', date: '2025-01-10' })
})

t.test('§6.8 an M category wins over the stage group (third-party eom_patient_1: cM0 with stage group 4 → M0)', async (t) => {
  const ctx = run([
    staging('g', coded(LNC, '21908-9'), coded(CANCER_STAGING, '4'), '2022-01-02'),
    staging('m', coded(SCT, '399387003'), coded(SCT, '1229901006', 'American Joint Committee on Cancer cM0 (qualifier value)'), '2019-04-01')
  ], sections)
  t.equal(ctx.draft.disease?.ajcc?.m, 'M0')
  t.equal(ctx.state.latestStageGroup?.stage, 4, 'the stage group is still recorded')
})

t.test('§6.8 an unreadable stage group is a gap on ajcc.m only when no M category was read', async (t) => {
  const ctx = run([staging('g', coded(LNC, '21908-9'), coded(SCT, '1234'), '2025-01-10')], sections)
  t.equal(ctx.draft.disease?.ajcc, undefined)
  t.same(ctx.gaps['disease.ajcc.m'], ['Observation/g: AJCC stage group value not readable'])
  t.equal(ctx.state.latestStageGroup, undefined)
  const withM = run([staging('g', coded(LNC, '21908-9'), text('Stage X'), '2025-01-10'), staging('m', coded(LNC, '21907-1'), text('cM0'), '2025-01-10')], sections)
  t.equal(withM.gaps['disease.ajcc.m'], undefined)
  t.ok(codes(withM).includes('FHIR_VALUE_UNREADABLE'))
  const noValue = run([observation('g', coded(LNC, '21908-9'), {}, '2025-01-10')], sections)
  t.match(noValue.gaps['disease.ajcc.m'], [/not readable/], 'no valueCodeableConcept at all')
})

t.test('§6.3 last paragraph: without a Condition date, the earliest M1 or stage IV Observation dates the metastatic diagnosis', async (t) => {
  const ctx = run([
    staging('m-late', coded(LNC, '21907-1'), text('cM1'), '2025-03-01'),
    staging('g-early', coded(LNC, '21908-9'), coded(CANCER_STAGING, '4'), '2025-02-01'),
    staging('g-early-2', coded(LNC, '21902-2'), text('Stage IV'), '2025-02-01'),
    staging('m0', coded(LNC, '21907-1'), text('cM0'), '2024-01-01'),
    staging('future', coded(LNC, '21907-1'), text('cM1'), '2026-07-01'),
    staging('undated', coded(LNC, '21907-1'), text('cM1'), undefined)
  ], sections)
  t.equal(ctx.draft.disease?.metastaticDiagnosisDate, '2025-02-01')
  t.same(ctx.sources['disease.metastaticDiagnosisDate'], {
    label: 'Date metastatic disease was diagnosed',
    display: '2025-02-01 (earliest stage IV staging)',
    refs: ['Observation/g-early', 'Observation/g-early-2'],
    date: '2025-02-01'
  })
  const mFirst = run([staging('m', coded(LNC, '21907-1'), text('cM1'), '2025-01-05'), staging('g', coded(LNC, '21908-9'), text('IV'), '2025-02-01')], sections)
  t.equal(mFirst.sources['disease.metastaticDiagnosisDate']?.display, '2025-01-05 (earliest M1 staging)')
  const conditionDate = run([boneMet('b', 'T7', '2025-06-01'), staging('m', coded(LNC, '21907-1'), text('cM1'), '2025-01-05')], sections)
  t.equal(conditionDate.draft.disease?.metastaticDiagnosisDate, '2025-06-01', 'a Condition date comes first')
  t.equal(run([staging('m', coded(LNC, '21907-1'), text('cM0'), '2025-01-05')], sections).draft.disease?.metastaticDiagnosisDate, undefined)
})

t.test('§6.1 rule 5 applies to staging: undated used only without a dated one, same-date conflicts warned', async (t) => {
  const undated = run([staging('t', coded(LNC, '21905-5'), text('cT2'), undefined)], sections)
  t.same(ajccOf(undated), { t: 'cT2' })
  t.same(undated.sources['disease.ajcc.t'], { label: 'AJCC T category', display: 'cT2', refs: ['Observation/t'] })
  t.same(codes(undated), ['FHIR_UNDATED'])
  const tie = run([staging('a', coded(LNC, '21905-5'), text('cT2'), '2025-01-01'), staging('b', coded(LNC, '21905-5'), text('cT3'), '2025-01-01')], sections)
  t.same(codes(tie), ['FHIR_CONFLICTING_SAME_DATE'])
  const noStage = run([staging('g', coded(LNC, '21908-9'), text('IIIA'), undefined)], sections)
  t.same(noStage.sources['disease.ajcc.m'], { label: 'AJCC M category', display: 'M0 from stage group III ("IIIA")', refs: ['Observation/g'] })
})

t.test('§6.8 reading values defensively: codings without code or display, no value, unreadable M, a bare "IV"', async (t) => {
  const ctx = run([
    staging('t', coded(LNC, '21905-5'), { coding: [{ system: CANCER_STAGING }, { system: SCT, display: 'cT2' }] }, '2025-01-10'),
    observation('n', coded(LNC, '21906-3'), {}, '2025-01-10'),
    staging('m', coded(LNC, '21907-1'), text('MX'), '2025-01-10')
  ], sections)
  t.same(ajccOf(ctx), { t: 'cT2' })
  t.same(ctx.gaps['disease.ajcc.n'], ['Observation/n: AJCC N category value not readable'])
  t.same(ctx.gaps['disease.ajcc.m'], ['Observation/m: AJCC M category value not readable'])
  const group = run([staging('g', coded(LNC, '21908-9'), { coding: [{ system: CANCER_STAGING, display: 'Clinical group IV' }] }, '2025-01-10')], sections)
  t.equal(group.draft.disease?.ajcc?.m, 'M1', 'a display with "IV"')
  t.equal(group.state.latestStageGroup?.written, 'Clinical group IV')
  const codeOnly = run([staging('g', coded(LNC, '21908-9'), { coding: [{ system: CANCER_STAGING, code: '2B' }] }, '2025-01-10')], sections)
  t.equal(codeOnly.state.latestStageGroup?.written, '2B', 'written: the code when no words')
  const nothingWritten = run([staging('g', coded(LNC, '21908-9'), { coding: [{ system: SCT }], text: '' }, '2025-01-10')], sections)
  t.match(nothingWritten.gaps['disease.ajcc.m'], [/not readable/])
})
