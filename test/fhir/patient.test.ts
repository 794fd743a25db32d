import t from 'tap'
import { indexResources } from '../../src/fhir/bundle.js'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { BIRTH_SEX_URL, completedYears, mapPatient } from '../../src/fhir/sections/patient.js'
import { missingRequired, NO_HER2_RESULT, REQUIRED_PATHS } from '../../src/fhir/sections/required.js'
import type { FhirResource, MapOptions } from '../../src/fhir/types.js'
import { patient, PATIENT_ID } from '../fixtures/small-bundles.js'

const EVALUATION_DATE = '2026-03-01'

function contextOf (resources: FhirResource[], options: Partial<MapOptions> = {}): MappingContext {
  const index = indexResources(resources.map((resource) => ({ resource })))
  return new MappingContext(index.resources, { patientRef: `Patient/${PATIENT_ID}`, evaluationDate: EVALUATION_DATE, ...options }, index.resolve)
}

/** mapPatient over one Patient with these elements (undefined removes one). */
function mapOne (elements: Record<string, unknown>, options: Partial<MapOptions> = {}): MappingContext {
  const resource = Object.fromEntries(Object.entries(patient(elements)).filter(([, value]) => value !== undefined)) as FhirResource
  const ctx = contextOf([resource], options)
  mapPatient(ctx)
  return ctx
}

const codes = (ctx: MappingContext): string[] => ctx.warnings.map((warning) => warning.code)
const birthSex = (valueCode: unknown): Array<Record<string, unknown>> => [{ url: BIRTH_SEX_URL, valueCode }]

/* --------------------------------------------------------------- context */

t.test('§6.2 context: evaluationDate, jurisdiction and caseId come from the options', async (t) => {
  const ctx = mapOne({}, { jurisdiction: 'EU', caseId: 'tumour-board-7' })
  t.strictSame(ctx.draft.context, { evaluationDate: EVALUATION_DATE, jurisdiction: 'EU' })
  t.equal(ctx.draft.caseId, 'tumour-board-7')
})

t.test('§6.2 context: without jurisdiction and caseId, both stay absent (the Case defaults apply: "other", no echo)', async (t) => {
  const ctx = mapOne({})
  t.strictSame(ctx.draft.context, { evaluationDate: EVALUATION_DATE })
  t.notOk('caseId' in ctx.draft)
})

t.test('§6.2: without a Patient in hand only the context is set', async (t) => {
  const ctx = contextOf([])
  mapPatient(ctx)
  t.strictSame(ctx.draft, { context: { evaluationDate: EVALUATION_DATE } })
})

/* ------------------------------------------------------------- ageYears */

t.test('completedYears: whole years at the date, a birthday counting from its own day', async (t) => {
  t.equal(completedYears('1960-05-02', '2026-05-01'), 65)
  t.equal(completedYears('1960-05-02', '2026-05-02'), 66)
  t.equal(completedYears('1960-05-02', '2026-12-31'), 66)
  t.equal(completedYears('2000-02-29', '2026-02-28'), 25, '29 February: the birthday counts from 1 March in a common year')
  t.equal(completedYears('2000-02-29', '2026-03-01'), 26)
  t.equal(completedYears('2000-02-29', '2028-02-29'), 28)
})

t.test('§6.2 ageYears: completed years of birthDate at evaluationDate, with the Patient as source', async (t) => {
  const ctx = mapOne({ birthDate: '1960-03-02' })
  t.equal(ctx.draft.patient?.ageYears, 65)
  t.strictSame(ctx.sources['patient.ageYears'], { label: 'Age (years)', display: '65 years on 2026-03-01', refs: [`Patient/${PATIENT_ID}`] })
  t.strictSame(ctx.warnings, [])
  t.equal(mapOne({ birthDate: '1960-03-01' }).draft.patient?.ageYears, 66, 'the birthday itself')
})

t.test('§6.2 ageYears: a birthDate with a time is read by its date', async (t) => {
  t.equal(mapOne({ birthDate: '1960-03-01T23:30:00+02:00' }).draft.patient?.ageYears, 66)
})

t.test('§6.2 ageYears [D §6.1 rule 4]: a partial birth date counts as its first day, FHIR_PARTIAL_DATE', async (t) => {
  const year = mapOne({ birthDate: '1960' })
  t.equal(year.draft.patient?.ageYears, 66, '1960 → 1960-01-01')
  t.strictSame(codes(year), ['FHIR_PARTIAL_DATE'])
  t.equal(year.warnings[0]?.message, 'Patient.birthDate: a partial date (1960) was read as its first day.', 'the warning names the element, not the Patient\'s id')
  t.match(year.sources['patient.ageYears']?.display, /partial birth date read as its first day/)
  const month = mapOne({ birthDate: '1960-04' })
  t.equal(month.draft.patient?.ageYears, 65, '1960-04 → 1960-04-01, after 1 March')
  t.strictSame(codes(month), ['FHIR_PARTIAL_DATE'])
})

t.test('§6.2 ageYears: no birthDate → missing, with a gap', async (t) => {
  const ctx = mapOne({ birthDate: undefined })
  t.equal(ctx.draft.patient?.ageYears, undefined)
  t.strictSame(ctx.gaps['patient.ageYears'], ['the Patient has no birthDate'])
  t.strictSame(ctx.warnings, [])
})

t.test('§6.2 ageYears: a birthDate of the wrong shape counts as absent (FHIR_ELEMENT_MALFORMED)', async (t) => {
  const ctx = mapOne({ birthDate: 19600502 })
  t.equal(ctx.draft.patient?.ageYears, undefined)
  t.strictSame(codes(ctx), ['FHIR_ELEMENT_MALFORMED'])
  t.equal(ctx.warnings[0]?.message, 'the Patient: birthDate is not a string and was ignored.')
  t.strictSame(ctx.gaps['patient.ageYears'], ['the Patient\'s birthDate is not a date string'])
})

t.test('§6.2 ageYears: a birthDate that is not a calendar date is unusable (FHIR_VALUE_UNREADABLE)', async (t) => {
  for (const birthDate of ['unknown', '02/05/1960', '1960-02-30', '1960-13', '196']) {
    const ctx = mapOne({ birthDate })
    t.equal(ctx.draft.patient?.ageYears, undefined, birthDate)
    t.ok(codes(ctx).includes('FHIR_VALUE_UNREADABLE'), birthDate)
    t.strictSame(ctx.gaps['patient.ageYears'], ['the Patient\'s birthDate is not a calendar date'], birthDate)
  }
})

t.test('§6.2 ageYears: a birthDate after evaluationDate is not used (FHIR_FUTURE_DATED)', async (t) => {
  const ctx = mapOne({ birthDate: '2026-03-02' })
  t.equal(ctx.draft.patient?.ageYears, undefined)
  t.strictSame(codes(ctx), ['FHIR_FUTURE_DATED'])
  t.strictSame(ctx.gaps['patient.ageYears'], ['the Patient\'s birthDate is after the evaluation date'])
})

t.test('§6.2 ageYears: an age outside the Case range is mapped as computed (toCase then reports it)', async (t) => {
  t.equal(mapOne({ birthDate: '2010-01-01' }).draft.patient?.ageYears, 16)
})

/* ------------------------------------------------------------------ sex */

t.test('§6.2 sex: us-core-birthsex F → female, M → male, with the Patient as source', async (t) => {
  const female = mapOne({ extension: birthSex('F'), gender: undefined })
  t.equal(female.draft.patient?.sex, 'female')
  t.strictSame(female.sources['patient.sex'], { label: 'Sex', display: 'female (birth sex)', refs: [`Patient/${PATIENT_ID}`] })
  t.strictSame(female.warnings, [])
  const male = mapOne({ extension: birthSex('M'), gender: 'male' })
  t.equal(male.draft.patient?.sex, 'male')
  t.strictSame(male.warnings, [])
})

t.test('§6.2 sex: the birth sex extension is found among other extensions', async (t) => {
  const ctx = mapOne({ extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [] }, ...birthSex('M')], gender: undefined })
  t.equal(ctx.draft.patient?.sex, 'male')
})

t.test('§6.2 sex [D]: without a usable birth sex (UNK, ASKU, OTH, absent), gender female/male with FHIR_SEX_FROM_GENDER', async (t) => {
  for (const extension of [birthSex('UNK'), birthSex('ASKU'), birthSex('OTH'), [], undefined]) {
    for (const gender of ['female', 'male'] as const) {
      const ctx = mapOne({ extension, gender })
      t.equal(ctx.draft.patient?.sex, gender, `${JSON.stringify(extension)} ${gender}`)
      t.strictSame(codes(ctx), ['FHIR_SEX_FROM_GENDER'])
      t.strictSame(ctx.sources['patient.sex'], { label: 'Sex', display: `${gender} (administrative gender; no birth sex recorded)`, refs: [`Patient/${PATIENT_ID}`] })
    }
  }
})

t.test('§6.2 sex: birth sex and gender disagree → the birth sex, FHIR_SEX_CONFLICT', async (t) => {
  const ctx = mapOne({ extension: birthSex('F'), gender: 'male' })
  t.equal(ctx.draft.patient?.sex, 'female')
  t.strictSame(ctx.warnings, [{ code: 'FHIR_SEX_CONFLICT', message: 'the Patient: the birth sex (female) and the administrative gender (male) disagree; the birth sex was used.' }])
})

t.test('§6.2 sex: gender other/unknown beside a usable birth sex is no conflict', async (t) => {
  for (const gender of ['other', 'unknown']) {
    const ctx = mapOne({ extension: birthSex('M'), gender })
    t.equal(ctx.draft.patient?.sex, 'male', gender)
    t.strictSame(ctx.warnings, [], gender)
  }
})

t.test('§6.2 sex [D]: no usable birth sex and gender other/unknown/absent → missing, never guessed, with a gap', async (t) => {
  const unknown = mapOne({ extension: birthSex('UNK'), gender: 'unknown' })
  t.equal(unknown.draft.patient?.sex, undefined)
  t.strictSame(unknown.gaps['patient.sex'], ['birth sex "UNK" (only F and M are used) and administrative gender "unknown" (other and unknown are never guessed)'])
  t.strictSame(unknown.warnings, [])
  const other = mapOne({ extension: undefined, gender: 'other' })
  t.equal(other.draft.patient?.sex, undefined)
  t.strictSame(other.gaps['patient.sex'], ['no birth sex (us-core-birthsex) and administrative gender "other" (other and unknown are never guessed)'])
  const none = mapOne({ extension: undefined, gender: undefined })
  t.strictSame(none.gaps['patient.sex'], ['no birth sex (us-core-birthsex) and no administrative gender'])
})

t.test('§6.2 sex: a code that is not a short token is never quoted back', async (t) => {
  const ctx = mapOne({ extension: birthSex('Jane Doe, born 1960'), gender: 'not a gender value at all' })
  t.strictSame(ctx.gaps['patient.sex'], ['birth sex an unrecognised value (only F and M are used) and administrative gender an unrecognised value (other and unknown are never guessed)'])
})

t.test('§6.2 sex: elements of the wrong shape count as absent (FHIR_ELEMENT_MALFORMED)', async (t) => {
  const extensionObject = mapOne({ extension: { url: BIRTH_SEX_URL, valueCode: 'M' }, gender: 'female' })
  t.equal(extensionObject.draft.patient?.sex, 'female', 'extension as an object: no birth sex, so the gender')
  t.strictSame(codes(extensionObject), ['FHIR_ELEMENT_MALFORMED', 'FHIR_SEX_FROM_GENDER'])
  t.equal(extensionObject.warnings[0]?.message, 'the Patient: extension is not a list of objects and was ignored.')
  const valueCode = mapOne({ extension: birthSex({ code: 'F' }), gender: 'male' })
  t.equal(valueCode.draft.patient?.sex, 'male')
  t.strictSame(codes(valueCode), ['FHIR_ELEMENT_MALFORMED', 'FHIR_SEX_FROM_GENDER'])
  t.equal(valueCode.warnings[0]?.message, 'the Patient: the us-core-birthsex valueCode is not a string and was ignored.')
  const gender = mapOne({ extension: undefined, gender: ['female'] })
  t.equal(gender.draft.patient?.sex, undefined)
  t.strictSame(codes(gender), ['FHIR_ELEMENT_MALFORMED'])
  t.strictSame(gender.gaps['patient.sex'], ['no birth sex (us-core-birthsex) and no administrative gender'])
})

t.test('§6.2: no warning, gap or source names the Patient\'s id except as a source reference', async (t) => {
  const ctx = mapOne({ id: 'MRN-SECRET-42', birthDate: '1960', gender: 'male', extension: birthSex('F') })
  t.notMatch(JSON.stringify([ctx.warnings, ctx.gaps]), /MRN-SECRET-42/)
  t.strictSame(ctx.sources['patient.sex']?.refs, ['Patient/MRN-SECRET-42'])
})

/* ------------------------------------------------------------- §6.9 */

t.test('§6.9: the required fields without a value are listed as missing', async (t) => {
  const ctx = contextOf([])
  t.strictSame(missingRequired(ctx), [...REQUIRED_PATHS, 'disease.presentation'])
  t.strictSame(REQUIRED_PATHS, ['patient.ageYears', 'patient.sex', 'patient.ecog', 'tumor.erPercent'])
})

t.test('§6.9: a required field with a value is not missing (0 is a value)', async (t) => {
  const ctx = contextOf([])
  Object.assign(ctx.draft, { patient: { ageYears: 64, sex: 'female', ecog: 0 }, tumor: { erPercent: 0 }, disease: { presentation: 'de_novo_metastatic' } })
  t.strictSame(missingRequired(ctx), [])
})

t.test('§6.9: tumor.her2Ihc is never missing — not_done plus the gap "no HER2 result in the record"', async (t) => {
  const ctx = contextOf([])
  missingRequired(ctx)
  t.equal(ctx.draft.tumor?.her2Ihc, 'not_done')
  t.strictSame(ctx.gaps['tumor.her2Ihc'], [NO_HER2_RESULT])
  t.equal(NO_HER2_RESULT, 'no HER2 result in the record')
})

t.test('§6.9: her2Ihc set by a section is kept, without a gap', async (t) => {
  const ctx = contextOf([])
  ctx.draft.tumor = { her2Ihc: '3+' }
  missingRequired(ctx)
  t.equal(ctx.draft.tumor.her2Ihc, '3+')
  t.equal(ctx.gaps['tumor.her2Ihc'], undefined)
})

t.test('§6.9: her2Ihc not set but a section recorded why: not_done, and the section\'s reasons stand alone', async (t) => {
  const ctx = contextOf([])
  ctx.gap('tumor.her2Ihc', 'Observation/h1: value "weird" unreadable')
  missingRequired(ctx)
  t.equal(ctx.draft.tumor?.her2Ihc, 'not_done')
  t.strictSame(ctx.gaps['tumor.her2Ihc'], ['Observation/h1: value "weird" unreadable'])
})

t.test('§6.9: metastaticSites is always present: [] when no section set it, else as set', async (t) => {
  const empty = contextOf([])
  missingRequired(empty)
  t.strictSame(empty.draft.disease?.metastaticSites, [])
  const set = contextOf([])
  set.draft.disease = { metastaticSites: ['bone'], presentation: 'recurrent_metastatic' }
  t.notOk(missingRequired(set).includes('disease.presentation'))
  t.strictSame(set.draft.disease.metastaticSites, ['bone'])
})
