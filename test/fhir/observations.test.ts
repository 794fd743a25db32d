import t from 'tap'
import { CRCL_WEIGHT_MAX_DAYS, mapLvefBaseline, mapObservations, PREGNANCY_STATUS_MAX_AGE_DAYS } from '../../src/fhir/sections/observations.js'
import type { MappingContext } from '../../src/fhir/mapping-context.js'
import type { FhirResource } from '../../src/fhir/types.js'
import {
  caseFact, codes, context, LOINC, loinc, observation, patient, quantity, SNOMED, text, valueCode, valueInteger, valueString
} from '../support/observation-builders.js'

const mapped = (resources: FhirResource[], prepare: (ctx: MappingContext) => void = () => {}): MappingContext => {
  const ctx = context(resources)
  prepare(ctx)
  mapObservations(ctx)
  return ctx
}

/* -------------------------------------------------------------------- ECOG */

t.test('ECOG: the latest valueInteger of 89247-1, with its source', async (t) => {
  const ctx = mapped([observation('a', loinc('89247-1'), valueInteger(2), '2025-01-01'), observation('b', loinc('89247-1'), valueInteger(1), '2026-01-10')])
  t.equal(ctx.draft.patient?.ecog, 1)
  t.same(ctx.sources['patient.ecog'], { label: 'ECOG performance status now (0–4)', display: 'ECOG 1 (2026-01-10)', refs: ['Observation/b'], date: '2026-01-10' })
  t.same(codes(ctx), [])
})

t.test('ECOG by text (no known code) with FHIR_MATCHED_BY_TEXT; a case fact or another known code is never ECOG', async (t) => {
  const byText = mapped([observation('e', text('ECOG performance status'), valueInteger(0))])
  t.equal(byText.draft.patient?.ecog, 0)
  t.same(codes(byText), ['FHIR_MATCHED_BY_TEXT'])
  const fact = mapped([caseFact('f', 'patient.ecogBeforeDeficit', valueInteger(3), '2026-05-01', { code: { coding: [{ system: 'https://her2-mbc-cds.example.org/fhir/CodeSystem/case-fact', code: 'patient.ecogBeforeDeficit' }], text: 'ECOG before the deficit' } })])
  t.equal(fact.draft.patient?.ecog, undefined)
  const known = mapped([observation('l', { coding: [{ system: LOINC, code: '10230-1' }], text: 'LVEF (ECOG clinic)' }, quantity(60, '%'))])
  t.equal(known.draft.patient?.ecog, undefined)
})

t.test('ECOG [D] (variant #6): a later value outside 0–4 is skipped with FHIR_VALUE_OUT_OF_RANGE; the latest in range is used', async (t) => {
  const ctx = mapped([
    observation('old', loinc('89247-1'), valueInteger(0), '2025-01-01'),
    observation('mid', loinc('89247-1'), valueInteger(1), '2025-06-01'),
    observation('new', loinc('89247-1'), valueInteger(-1), '2026-01-01')
  ])
  t.equal(ctx.draft.patient?.ecog, 1)
  t.same(codes(ctx), ['FHIR_VALUE_OUT_OF_RANGE'])
  t.match(ctx.gaps['patient.ecog'], [/Observation\/new \(2026-01-01\): ECOG -1 is outside 0–4/])
  const older = mapped([observation('five', loinc('89247-1'), valueInteger(5), '2024-01-01'), observation('ok', loinc('89247-1'), valueInteger(2), '2025-01-01')])
  t.equal(older.draft.patient?.ecog, 2)
  t.same(codes(older), [], 'an older out-of-range value is superseded and not reported')
})

t.test('ECOG undated (used only without a dated one, FHIR_UNDATED) or dated after evaluationDate (FHIR_FUTURE_DATED)', async (t) => {
  const undated = mapped([observation('e', loinc('89247-1'), valueInteger(2), null)])
  t.equal(undated.draft.patient?.ecog, 2)
  t.same(undated.sources['patient.ecog'], { label: 'ECOG performance status now (0–4)', display: 'ECOG 2 (undated)', refs: ['Observation/e'] })
  t.same(codes(undated), ['FHIR_UNDATED'])
  const future = mapped([observation('e', loinc('89247-1'), valueInteger(7), '2026-07-01'), observation('ok', loinc('89247-1'), valueInteger(1), '2026-05-01')])
  t.equal(future.draft.patient?.ecog, 1)
  t.same(codes(future), ['FHIR_FUTURE_DATED'], 'a future value is not reported as out of range')
})

t.test('ECOG unusable: only out of range, or not a valueInteger → absent; Karnofsky is not converted', async (t) => {
  const five = mapped([observation('e', loinc('89247-1'), valueInteger(5))])
  t.equal(five.draft.patient, undefined)
  t.same(codes(five), ['FHIR_VALUE_OUT_OF_RANGE'])
  const string = mapped([observation('e', loinc('89247-1'), valueString('1'))])
  t.equal(string.draft.patient, undefined)
  t.same(codes(string), ['FHIR_VALUE_UNREADABLE'])
  const karnofsky = mapped([observation('k', loinc('89243-0'), valueInteger(90))])
  t.equal(karnofsky.draft.patient, undefined)
  t.same(codes(karnofsky), [])
})

/* -------------------------------------------------------------------- LVEF */

t.test('LVEF: latest 10230-1 in %, 5–90', async (t) => {
  const ctx = mapped([observation('l', loinc('10230-1'), quantity(60, '%'), '2026-01-10')])
  t.equal(ctx.draft.patient?.lvefPercent, 60)
  t.same(ctx.sources['patient.lvefPercent'], { label: 'LVEF (%)', display: '60 % (2026-01-10)', refs: ['Observation/l'], date: '2026-01-10' })
})

t.test('LVEF unusable: another unit, no unit, outside 5–90, a comparator', async (t) => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['mmHg', quantity(60, 'mm[Hg]'), 'FHIR_UNIT_UNKNOWN'],
    ['no unit', quantity(60), 'FHIR_UNIT_UNKNOWN'],
    ['95 %', quantity(95, '%'), 'FHIR_VALUE_OUT_OF_RANGE'],
    ['4 %', quantity(4, '%'), 'FHIR_VALUE_OUT_OF_RANGE'],
    ['> 50 %', quantity(50, '%', '>'), 'FHIR_VALUE_UNREADABLE'],
    ['no quantity', valueString('normal'), 'FHIR_VALUE_UNREADABLE']
  ]
  for (const [name, value, code] of rows) {
    const ctx = mapped([observation('l', loinc('10230-1'), value)])
    t.equal(ctx.draft.patient?.lvefPercent, undefined, name)
    t.same(codes(ctx), [code], name)
    t.match(ctx.gaps['patient.lvefPercent'], [/Observation\/l \(2026-05-01\)/], name)
  }
})

t.test('lvefBaselinePercent: the latest LVEF dated before the first anti-HER2 date', async (t) => {
  const resources = [
    observation('a', loinc('10230-1'), quantity(66, '%'), '2019-01-01'),
    observation('b', loinc('10230-1'), quantity(64, '%'), '2020-01-15'),
    observation('same-day', loinc('10230-1'), quantity(63, '%'), '2020-02-01'),
    observation('c', loinc('10230-1'), quantity(55, '%'), '2026-01-01')
  ]
  const ctx = context(resources)
  ctx.state.firstAntiHer2Date = '2020-02-01'
  mapLvefBaseline(ctx)
  t.equal(ctx.draft.patient?.lvefBaselinePercent, 64, 'an LVEF on the first anti-HER2 day is not before it')
  t.same(ctx.sources['patient.lvefBaselinePercent'], {
    label: 'LVEF before anti-HER2 therapy (%)',
    display: '64 % (2020-01-15), before the first anti-HER2 agent (2020-02-01)',
    refs: ['Observation/b'],
    date: '2020-01-15'
  })
})

t.test('lvefBaselinePercent absent: no anti-HER2 agent, no LVEF before it, or only an undated LVEF', async (t) => {
  const none = context([observation('a', loinc('10230-1'), quantity(66, '%'), '2019-01-01')])
  mapLvefBaseline(none)
  t.equal(none.draft.patient, undefined, 'no firstAntiHer2Date')
  const after = context([observation('a', loinc('10230-1'), quantity(66, '%'), '2021-01-01'), observation('u', loinc('10230-1'), quantity(60, '%'), null)])
  after.state.firstAntiHer2Date = '2020-02-01'
  mapLvefBaseline(after)
  t.equal(after.draft.patient, undefined)
  const unusable = context([observation('a', loinc('10230-1'), quantity(95, '%'), '2019-01-01')])
  unusable.state.firstAntiHer2Date = '2020-02-01'
  mapLvefBaseline(unusable)
  t.equal(unusable.draft.patient, undefined)
  t.match(unusable.gaps['patient.lvefBaselinePercent'], [/outside 5–90/])
})

/* --------------------------------------------------------------- pregnancy */

t.test('pregnancy: answer codes [U] → true / false, within 30 days before evaluationDate [D]', async (t) => {
  t.equal(PREGNANCY_STATUS_MAX_AGE_DAYS, 30)
  const rows: Array<[string, string, string, boolean]> = [
    ['LA15173-0', LOINC, 'LA15173-0', true],
    ['SNOMED 77386006', SNOMED, '77386006', true],
    ['LA26683-5', LOINC, 'LA26683-5', false],
    ['SNOMED 60001007', SNOMED, '60001007', false]
  ]
  for (const [name, system, code, expected] of rows) {
    const ctx = mapped([observation('p', loinc('82810-3'), valueCode(system, code), '2026-05-20')])
    t.equal(ctx.draft.patient?.pregnant, expected, name)
  }
  const edge = mapped([observation('p', loinc('82810-3'), valueCode(LOINC, 'LA15173-0'), '2026-05-02')])
  t.equal(edge.draft.patient?.pregnant, true, 'exactly 30 days before: used')
  t.same(edge.sources['patient.pregnant'], { label: 'Pregnant', display: 'pregnant (2026-05-02)', refs: ['Observation/p'], date: '2026-05-02' })
})

t.test('pregnancy older than 30 days (31, and 60 as variant #18), undated, or an unknown answer → absent with a gap', async (t) => {
  const day31 = mapped([observation('p', loinc('82810-3'), valueCode(LOINC, 'LA26683-5'), '2026-05-01')])
  t.equal(day31.draft.patient, undefined)
  t.same(day31.gaps['patient.pregnant'], ['Observation/p (2026-05-01): not pregnant, older than 30 days'])
  const day60 = mapped([observation('p', loinc('82810-3'), valueCode(LOINC, 'LA26683-5'), '2026-04-02')])
  t.equal(day60.draft.patient, undefined)
  const undated = mapped([observation('p', loinc('82810-3'), valueCode(LOINC, 'LA15173-0'), null)])
  t.equal(undated.draft.patient, undefined)
  t.match(undated.gaps['patient.pregnant'], [/undated/])
  const unknown = mapped([observation('p', loinc('82810-3'), valueCode(LOINC, 'LA4489-6', 'Unknown'), '2026-05-20')])
  t.equal(unknown.draft.patient, undefined)
  t.same(codes(unknown), ['FHIR_VALUE_UNREADABLE'])
})

/* --------------------------------------------------------------- vitamin D */

t.test('vitamin D: 62292-8 or 1989-3 [U]; ng/mL, or nmol/L ÷ 2.496', async (t) => {
  const ng = mapped([observation('d', loinc('62292-8'), quantity(16, 'ng/mL'), '2026-01-10')])
  t.equal(ng.draft.patient?.vitaminD25OHNgMl, 16)
  t.same(ng.sources['patient.vitaminD25OHNgMl'], { label: 'Serum 25-hydroxy vitamin D (ng/mL)', display: '16 ng/mL (2026-01-10)', refs: ['Observation/d'], date: '2026-01-10' })
  const nmol = mapped([observation('d', loinc('1989-3'), quantity(49.9, 'nmol/L'))])
  t.equal(nmol.draft.patient?.vitaminD25OHNgMl, 49.9 / 2.496, 'kept unrounded (below 20 ng/mL stays below)')
  t.equal(nmol.sources['patient.vitaminD25OHNgMl']?.display, '49.9 nmol/L = 19.99 ng/mL (2026-05-01)')
})

t.test('vitamin D unusable: another unit, out of range', async (t) => {
  t.same(codes(mapped([observation('d', loinc('62292-8'), quantity(16, 'ug/L'))])), ['FHIR_UNIT_UNKNOWN'])
  t.same(codes(mapped([observation('d', loinc('62292-8'), quantity(400, 'ng/mL'))])), ['FHIR_VALUE_OUT_OF_RANGE'])
})

/* ----------------------------------------------------------------- calcium */

t.test('correctedCalcium: 29265-6 in mmol/L or mg/dL, as sent', async (t) => {
  const mmol = mapped([observation('c', loinc('29265-6'), quantity(2.18, 'mmol/L'), '2026-01-10')])
  t.same(mmol.draft.patient?.correctedCalcium, { value: 2.18, unit: 'mmol/L' })
  t.same(mmol.sources['patient.correctedCalcium'], { label: 'Albumin-corrected serum calcium', display: '2.18 mmol/L (2026-01-10)', refs: ['Observation/c'], date: '2026-01-10' })
  const mg = mapped([observation('c', loinc('29265-6'), { valueQuantity: { value: 10.9, unit: 'mg/dl' } })])
  t.same(mg.draft.patient?.correctedCalcium, { value: 10.9, unit: 'mg/dL' }, 'unit text compared case-insensitively')
})

t.test('correctedCalcium unusable: another unit (FHIR_UNIT_UNKNOWN) or a value not above 0', async (t) => {
  const other = mapped([observation('c', loinc('29265-6'), quantity(4.4, 'meq/L'))])
  t.equal(other.draft.patient, undefined)
  t.same(codes(other), ['FHIR_UNIT_UNKNOWN'])
  t.same(codes(mapped([observation('c', loinc('29265-6'), quantity(0, 'mmol/L'))])), ['FHIR_VALUE_OUT_OF_RANGE'])
})

t.test('17861-6 only (variant #13) [D]: never mapped nor corrected; gap and FHIR_CALCIUM_UNCORRECTED_ONLY', async (t) => {
  const ctx = mapped([observation('t', loinc('17861-6'), quantity(8.7, 'mg/dL'), '2026-01-10')])
  t.equal(ctx.draft.patient, undefined)
  t.same(ctx.gaps['patient.correctedCalcium'], ['only uncorrected total calcium (8.7 mg/dL, 2026-01-10)'])
  t.same(codes(ctx), ['FHIR_CALCIUM_UNCORRECTED_ONLY'])
})

t.test('17861-6 only, above 10.5 mg/dL (2.62 mmol/L): FHIR_CALCIUM_UNCORRECTED_HIGH instead', async (t) => {
  const mg = mapped([observation('t', loinc('17861-6'), quantity(11.2, 'mg/dL'))])
  t.same(codes(mg), ['FHIR_CALCIUM_UNCORRECTED_HIGH'])
  t.same(mg.gaps['patient.correctedCalcium'], ['only uncorrected total calcium (11.2 mg/dL, 2026-05-01)'])
  t.same(codes(mapped([observation('t', loinc('17861-6'), quantity(10.5, 'mg/dL'))])), ['FHIR_CALCIUM_UNCORRECTED_ONLY'], '10.5 is not above 10.5')
  t.same(codes(mapped([observation('t', loinc('17861-6'), quantity(2.7, 'mmol/L'))])), ['FHIR_CALCIUM_UNCORRECTED_HIGH'])
})

t.test('17861-6 beside a corrected calcium, or in an unknown unit: no uncorrected-only warning', async (t) => {
  const both = mapped([observation('c', loinc('29265-6'), quantity(2.3, 'mmol/L'), '2025-01-01'), observation('t', loinc('17861-6'), quantity(11.2, 'mg/dL'), '2026-01-01')])
  t.same(both.draft.patient?.correctedCalcium, { value: 2.3, unit: 'mmol/L' })
  t.same(codes(both), [])
  const unit = mapped([observation('t', loinc('17861-6'), quantity(2.3, 'meq/L'))])
  t.same(codes(unit), ['FHIR_UNIT_UNKNOWN'])
})

/* ---------------------------------------------------- creatinine clearance */

const female70 = patient({ birthDate: '1956-01-01' })
const creatinine = (value: number, unit = 'mg/dL', date = '2026-02-20', code = '2160-0'): FhirResource => observation('cr', loinc(code), quantity(value, unit), date)
const weight = (value: number, unit = 'kg', date = '2026-02-20', id = 'wt'): FhirResource => observation(id, loinc('29463-7'), quantity(value, unit), date)
const asFemale = (ctx: MappingContext): void => { ctx.draft.patient = { sex: 'female' } }

t.test('CrCl derived by Cockcroft–Gault (variant #14): 52.0 with FHIR_CRCL_DERIVED and three resources in sources', async (t) => {
  const ctx = mapped([female70, creatinine(1.0), weight(62.9)], asFemale)
  t.equal(ctx.draft.patient?.creatinineClearanceMlMin, 52)
  t.same(ctx.sources['patient.creatinineClearanceMlMin'], {
    label: 'Creatinine clearance (mL/min, Cockcroft–Gault)',
    display: '52.0 mL/min by Cockcroft–Gault (1 mg/dL on 2026-02-20, 62.9 kg on 2026-02-20, age 70, female)',
    refs: ['Observation/cr', 'Observation/wt', 'Patient/p1'],
    date: '2026-02-20'
  })
  t.same(codes(ctx), ['FHIR_CRCL_DERIVED'])
})

t.test('CrCl derived [D]: × 0.85 only for female, age at the creatinine date, 1 decimal, µmol/L and lb converted', async (t) => {
  const male = mapped([female70, creatinine(1.0), weight(62.9)], (ctx) => { ctx.draft.patient = { sex: 'male' } })
  t.equal(male.draft.patient?.creatinineClearanceMlMin, 61.2, '70 × 62.9 / 72 = 61.15 → 61.2')
  const birthdayBetween = mapped([patient({ birthDate: '1955-04-01' }), creatinine(1.0, 'mg/dL', '2026-03-01'), weight(62.9, 'kg', '2026-03-01')], asFemale)
  t.equal(birthdayBetween.draft.patient?.creatinineClearanceMlMin, 52, 'age 70 on the creatinine date, although 71 at evaluationDate')
  const umol = mapped([female70, creatinine(88.4, 'umol/L', '2026-02-20', '14682-9'), weight(62.9)], asFemale)
  t.equal(umol.draft.patient?.creatinineClearanceMlMin, 52, '88.4 µmol/L = 1 mg/dL')
  const text = mapped([female70, observation('cr', loinc('14682-9'), { valueQuantity: { value: 88.4, unit: 'µmol/L' } }, '2026-02-20'), weight(62.9)], asFemale)
  t.equal(text.draft.patient?.creatinineClearanceMlMin, 52, 'unit text µmol/L')
  t.match(text.sources['patient.creatinineClearanceMlMin']?.display, /88\.4 µmol\/L = 1 mg\/dL/)
  const pounds = mapped([female70, creatinine(1.0), weight(138.67, '[lb_av]')], asFemale)
  t.equal(pounds.draft.patient?.creatinineClearanceMlMin, 52, '138.67 lb = 62.90 kg')
})

t.test('CrCl derived: the weight nearest the creatinine within 90 days [D]; none within → not derived, with a gap', async (t) => {
  t.equal(CRCL_WEIGHT_MAX_DAYS, 90)
  const nearest = mapped([female70, creatinine(1.0), weight(80, 'kg', '2025-12-01', 'far'), weight(62.9, 'kg', '2026-02-10', 'near')], asFemale)
  t.equal(nearest.draft.patient?.creatinineClearanceMlMin, 52)
  t.same(nearest.sources['patient.creatinineClearanceMlMin']?.refs, ['Observation/cr', 'Observation/near', 'Patient/p1'])
  const equidistant = mapped([female70, creatinine(1.0), weight(80, 'kg', '2026-02-10', 'before'), weight(62.9, 'kg', '2026-03-02', 'after')], asFemale)
  t.same(equidistant.sources['patient.creatinineClearanceMlMin']?.refs, ['Observation/cr', 'Observation/after', 'Patient/p1'], 'equally near: the later')
  const sameDay = mapped([female70, creatinine(1.0), weight(62.9, 'kg', '2026-02-20', 'wa'), weight(80, 'kg', '2026-02-20', 'wb')], asFemale)
  t.same(sameDay.sources['patient.creatinineClearanceMlMin']?.refs, ['Observation/cr', 'Observation/wa', 'Patient/p1'], 'the same day: by id')
  const edge = mapped([female70, creatinine(1.0), weight(62.9, 'kg', '2025-11-22')], asFemale)
  t.equal(edge.draft.patient?.creatinineClearanceMlMin, 52, '90 days before: used')
  const tooFar = mapped([female70, creatinine(1.0), weight(62.9, 'kg', '2025-11-21')], asFemale)
  t.equal(tooFar.draft.patient?.creatinineClearanceMlMin, undefined, '91 days before: not used')
  t.match(tooFar.gaps['patient.creatinineClearanceMlMin'], [/no usable body weight within 90 days/])
})

t.test('CrCl derived needs a dated creatinine, a birth date and a sex; each missing piece is a gap', async (t) => {
  const noSex = mapped([female70, creatinine(1.0), weight(62.9)])
  t.match(noSex.gaps['patient.creatinineClearanceMlMin'], [/sex unknown/])
  const noBirth = mapped([patient(), creatinine(1.0), weight(62.9)], asFemale)
  t.match(noBirth.gaps['patient.creatinineClearanceMlMin'], [/birth date unknown/])
  const noPatient = mapped([creatinine(1.0), weight(62.9)], asFemale)
  t.match(noPatient.gaps['patient.creatinineClearanceMlMin'], [/birth date unknown/])
  const undated = mapped([female70, observation('cr', loinc('2160-0'), quantity(1.0, 'mg/dL'), null), weight(62.9)], asFemale)
  t.match(undated.gaps['patient.creatinineClearanceMlMin'], [/undated/])
  const zero = mapped([female70, creatinine(0), weight(62.9)], asFemale)
  t.same(codes(zero), ['FHIR_VALUE_OUT_OF_RANGE'])
  for (const ctx of [noSex, noBirth, noPatient, undated, zero]) t.equal(ctx.draft.patient?.creatinineClearanceMlMin, undefined)
})

t.test('CrCl derived outside 0–300 → FHIR_VALUE_OUT_OF_RANGE, and the measured clearance is tried', async (t) => {
  const ctx = mapped([female70, creatinine(0.1), weight(62.9), observation('m', loinc('2164-2'), quantity(80, 'mL/min'))], asFemale)
  t.equal(ctx.draft.patient?.creatinineClearanceMlMin, 80)
  t.same(codes(ctx), ['FHIR_VALUE_OUT_OF_RANGE', 'FHIR_CRCL_MEASURED'])
})

t.test('CrCl measured 2164-2 in mL/min when CG cannot be derived: its own label and FHIR_CRCL_MEASURED', async (t) => {
  const ctx = mapped([observation('m', loinc('2164-2'), quantity(52, 'mL/min'), '2026-01-10')])
  t.equal(ctx.draft.patient?.creatinineClearanceMlMin, 52)
  t.same(ctx.sources['patient.creatinineClearanceMlMin'], {
    label: 'Creatinine clearance (mL/min): measured 24-h creatinine clearance (not Cockcroft–Gault)',
    display: '52 mL/min, measured 24-h clearance (2026-01-10)',
    refs: ['Observation/m'],
    date: '2026-01-10'
  })
  t.same(codes(ctx), ['FHIR_CRCL_MEASURED'])
})

t.test('CrCl: derived CG is preferred over a measured clearance; mL/min/1.73 m² is not a clearance in mL/min; nothing → absent', async (t) => {
  const both = mapped([female70, creatinine(1.0), weight(62.9), observation('m', loinc('2164-2'), quantity(90, 'mL/min'), '2026-05-01')], asFemale)
  t.equal(both.draft.patient?.creatinineClearanceMlMin, 52)
  t.same(codes(both), ['FHIR_CRCL_DERIVED'])
  const normalised = mapped([observation('m', loinc('2164-2'), quantity(52, 'mL/min/{1.73_m2}'))])
  t.equal(normalised.draft.patient, undefined)
  t.same(codes(normalised), ['FHIR_UNIT_UNKNOWN'])
  const nothing = mapped([])
  t.equal(nothing.draft.patient, undefined)
  t.same(codes(nothing), [])
})
