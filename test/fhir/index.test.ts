import t, { type Test } from 'tap'
import { indexResources } from '../../src/fhir/bundle.js'
import { mapFhir, mapFhirWithState } from '../../src/fhir/map.js'
import { casePath, casePointer, mapBundle, mapResources, toCase, type MappedRecord, type MapError } from '../../src/fhir/index.js'
import type { MappingContext } from '../../src/fhir/mapping-context.js'
import { BIRTH_SEX_URL } from '../../src/fhir/sections/patient.js'
import type { FhirResource, MappingResult } from '../../src/fhir/types.js'
import { bundle, collection, condition, entry, observation, patient, PATIENT_ID } from '../fixtures/small-bundles.js'

const OPTIONS = { evaluationDate: '2026-03-01' }

function mapped (t: Test, result: MappedRecord | MapError): MappedRecord {
  t.ok(result.ok, 'mapped')
  if (!result.ok) throw new Error(result.detail)
  return result
}

const codes = (mapping: MappingResult): string[] => mapping.warnings.map((warning) => warning.code)

/** src/fhir/index.js over the real mapping, with the primary Conditions filled in (the conditions section is written in parallel): every Condition of the patient counts as a primary. */
async function withPrimaryStub (t: Test, seen: { ctx?: MappingContext } = {}): Promise<typeof import('../../src/fhir/index.js')> {
  const map = await t.mockImport<typeof import('../../src/fhir/map.js')>('../../src/fhir/map.js', {
    '../../src/fhir/sections/conditions.js': {
      mapConditions: (ctx: MappingContext) => {
        seen.ctx = ctx
        ctx.state.primaryConditions.push(...ctx.ofType('Condition'))
      }
    }
  })
  return await t.mockImport<typeof import('../../src/fhir/index.js')>('../../src/fhir/index.js', { '../../src/fhir/map.js': map })
}

/* ------------------------------------------------------------ mapBundle */

t.test('mapBundle: a structural error of §5 is returned as is', async (t) => {
  t.match(mapBundle({ resourceType: 'Bundle', type: 'document' }, OPTIONS), { ok: false, status: 400, path: '/type' })
  t.match(mapBundle(collection(observation('o1')), OPTIONS), { ok: false, status: 422, type: 'patient-count' })
})

t.test('mapBundle: the mapping of the one patient, with the Patient, not deceased', async (t) => {
  const body = collection(patient(), observation('o1'))
  const result = mapped(t, mapBundle(body, { ...OPTIONS, jurisdiction: 'UK', caseId: 'c-1' }))
  t.equal(result.patient, (body.entry as Array<{ resource: FhirResource }>)[0]?.resource)
  t.equal(result.deceased, false)
  t.match(result.mapping.case, { caseId: 'c-1', context: { evaluationDate: '2026-03-01', jurisdiction: 'UK' }, patient: { ageYears: 65, sex: 'female' }, tumor: { her2Ihc: 'not_done' }, disease: { metastaticSites: [] } })
  t.strictSame(result.mapping.sources['patient.sex']?.refs, [`Patient/${PATIENT_ID}`])
})

t.test('mapBundle: the Bundle and patient-rule warnings come first, then the sections\' warnings', async (t) => {
  const body = bundle([
    entry(patient({ extension: [], gender: 'female' })),
    { fullUrl: 'urn:uuid:empty' },
    entry(observation('theirs', { subject: { reference: 'Patient/other' } })),
    entry(observation('dup', { valueInteger: 0 })),
    entry(observation('dup', { valueInteger: 2 }))
  ])
  const result = mapped(t, mapBundle(body, OPTIONS))
  t.strictSame(codes(result.mapping).slice(0, 4), ['FHIR_ENTRY_WITHOUT_RESOURCE', 'FHIR_DUPLICATE_RESOURCE', 'FHIR_OTHER_PATIENT_RESOURCE', 'FHIR_SEX_FROM_GENDER'])
})

t.test('mapBundle: hasPrimaryBreastCancer is false without any Condition', async (t) => {
  t.equal(mapped(t, mapBundle(collection(patient(), observation('o1')), OPTIONS)).hasPrimaryBreastCancer, false)
})

t.test('mapBundle: hasPrimaryBreastCancer is ctx.state.primaryConditions.length > 0 (stub conditions section)', async (t) => {
  const seen: { ctx?: MappingContext } = {}
  const stubbed = await withPrimaryStub(t, seen)
  t.equal(mapped(t, stubbed.mapBundle(collection(patient(), condition('c1')), OPTIONS)).hasPrimaryBreastCancer, true)
  t.equal(mapped(t, stubbed.mapBundle(collection(patient(), condition('c2', { subject: { reference: 'Patient/other' } })), OPTIONS)).hasPrimaryBreastCancer, false, 'another patient\'s Condition never counts')
  t.equal(seen.ctx?.options.patientRef, `Patient/${PATIENT_ID}`)
})

t.test('mapBundle: sections see only the patient\'s resources, and resolve only to them (and to contained resources)', async (t) => {
  const seen: { ctx?: MappingContext } = {}
  const stubbed = await withPrimaryStub(t, seen)
  const contained = { resourceType: 'Medication', id: 'm', code: { text: 'x' } }
  const request = { resourceType: 'MedicationRequest', id: 'mr', status: 'active', contained: [contained], subject: { reference: `Patient/${PATIENT_ID}` } }
  mapped(t, stubbed.mapBundle(collection(patient(), observation('mine'), observation('theirs', { subject: { reference: 'Patient/other' } }), { resourceType: 'Practitioner', id: 'dr' }, request), OPTIONS))
  const ctx = seen.ctx as MappingContext
  t.strictSame(ctx.resources.map((resource) => resource.id), [PATIENT_ID, 'mine', 'mr'])
  t.equal(ctx.resolve('Observation/mine')?.id, 'mine')
  t.equal(ctx.resolve('Observation/theirs'), undefined, 'another patient\'s resource is out of reach')
  t.equal(ctx.resolve('Practitioner/dr'), undefined, 'a resource dropped by the patient rule is out of reach')
  t.equal(ctx.resolve('#m', request)?.id, 'm', 'a contained resource of a kept resource')
})

t.test('mapBundle: a Patient without an id is found through its fullUrl', async (t) => {
  const seen: { ctx?: MappingContext } = {}
  const stubbed = await withPrimaryStub(t, seen)
  const { id: _id, ...anonymous } = patient()
  const body = bundle([entry(anonymous as FhirResource, { fullUrl: 'urn:uuid:p' }), entry(observation('o1', { subject: { reference: 'urn:uuid:p' } }))])
  const result = mapped(t, stubbed.mapBundle(body, OPTIONS))
  t.equal(seen.ctx?.options.patientRef, 'urn:uuid:p')
  t.strictSame(seen.ctx?.resources.map((resource) => resource.id), [undefined, 'o1'])
  t.equal(result.mapping.case.patient?.ageYears, 65)
  const nowhere = mapped(t, stubbed.mapBundle(bundle([entry(anonymous as FhirResource)]), OPTIONS))
  t.equal(seen.ctx?.options.patientRef, 'Patient', 'neither id nor fullUrl: nothing can refer to it')
  t.equal(nowhere.mapping.case.patient?.sex, 'female')
})

t.test('mapBundle: a Patient whose id has the wrong shape is found through its fullUrl', async (t) => {
  const seen: { ctx?: MappingContext } = {}
  const stubbed = await withPrimaryStub(t, seen)
  const result = mapped(t, stubbed.mapBundle(bundle([entry(patient({ id: 0 }), { fullUrl: 'urn:uuid:p0' }), entry(condition('c1', { subject: { reference: 'urn:uuid:p0' } }))]), OPTIONS))
  t.equal(seen.ctx?.options.patientRef, 'urn:uuid:p0')
  t.equal(result.hasPrimaryBreastCancer, true)
  t.equal(result.patient.id, undefined)
  t.match(result.mapping.warnings, [{ code: 'FHIR_ELEMENT_MALFORMED' }])
})

t.test('mapBundle: deceasedBoolean true or a deceasedDateTime means deceased', async (t) => {
  t.equal(mapped(t, mapBundle(collection(patient({ deceasedBoolean: true })), OPTIONS)).deceased, true)
  t.equal(mapped(t, mapBundle(collection(patient({ deceasedDateTime: '2025-12-24' })), OPTIONS)).deceased, true)
  t.equal(mapped(t, mapBundle(collection(patient({ deceasedBoolean: false })), OPTIONS)).deceased, false)
  t.equal(mapped(t, mapBundle(collection(patient({ deceasedDateTime: '' })), OPTIONS)).deceased, false)
})

t.test('mapFhir is mapFhirWithState without the state', async (t) => {
  const index = indexResources([{ resource: patient() }])
  const options = { ...OPTIONS, patientRef: `Patient/${PATIENT_ID}` }
  t.strictSame(mapFhir(index.resources, options, index.resolve), mapFhirWithState(index.resources, options, index.resolve).result)
})

/* ---------------------------------------------------------- mapResources */

t.test('mapResources: the patient with id = patientId, its resources, duplicates merged', async (t) => {
  const resources = [patient(), observation('o1'), observation('o1'), patient({ id: 'pat-2' }), observation('o2', { subject: { reference: 'Patient/pat-2' } })]
  const result = mapped(t, mapResources(resources, PATIENT_ID, OPTIONS))
  t.equal(result.patient.id, PATIENT_ID)
  t.equal(result.mapping.case.patient?.ageYears, 65)
  t.match(result.mapping.warnings, [{ code: 'FHIR_OTHER_PATIENT_RESOURCE', message: /2 resources .* \(1 Patient, 1 Observation\)/ }])
})

t.test('mapResources: values that are not resources are ignored', async (t) => {
  const result = mapped(t, mapResources([patient(), null, 'x', { resourceType: '' }, { id: 'no-type' }] as unknown as FhirResource[], PATIENT_ID, OPTIONS))
  t.equal(result.patient.id, PATIENT_ID)
})

t.test('mapResources: no Patient with the context patientId → the patient-count error, without the id', async (t) => {
  const result = mapResources([patient({ id: 'someone-else' }), observation('o1')], 'PID-SECRET', OPTIONS)
  t.match(result, { ok: false, status: 422, type: 'patient-count', path: '' })
  t.notMatch(JSON.stringify(result), /PID-SECRET/)
})

t.test('mapResources: the patient sees resources that refer to it by any reference form', async (t) => {
  const seen: { ctx?: MappingContext } = {}
  const stubbed = await withPrimaryStub(t, seen)
  const result = mapped(t, stubbed.mapResources([patient(), condition('c1', { subject: { reference: `https://fhir.example.org/r4/Patient/${PATIENT_ID}` } })], PATIENT_ID, OPTIONS))
  t.equal(result.hasPrimaryBreastCancer, true)
  t.equal(seen.ctx?.options.patientRef, `Patient/${PATIENT_ID}`)
})

/* ---------------------------------------------------------------- toCase */

function mappingOf (draft: Record<string, unknown>, extra: Partial<MappingResult> = {}): MappingResult {
  return { case: draft, sources: {}, gaps: {}, warnings: [], missing: [], ...extra }
}

const COMPLETE = {
  context: { evaluationDate: '2026-03-01' },
  patient: { ageYears: 64, sex: 'female', ecog: 1 },
  tumor: { her2Ihc: '3+', erPercent: 0 },
  disease: { presentation: 'de_novo_metastatic', metastaticSites: ['bone'] }
}

t.test('casePointer and casePath: dotted Case paths with indices ↔ JSON pointers', async (t) => {
  t.equal(casePointer('patient.ecog'), '/patient/ecog')
  t.equal(casePointer('disease.spineLesions[0].level'), '/disease/spineLesions/0/level')
  t.equal(casePointer('history.metastaticLines[1].agents[0]'), '/history/metastaticLines/1/agents/0')
  t.equal(casePath('/patient/ecog'), 'patient.ecog')
  t.equal(casePath('/disease/spineLesions/0/level'), 'disease.spineLesions[0].level')
  t.equal(casePath('/history/metastaticLines/1/agents/0'), 'history.metastaticLines[1].agents[0]')
  t.equal(casePath('/disease/spineLesions/1/bilsky'), 'disease.spineLesions[1].bilsky')
  t.equal(casePath('/history/metastaticLines/0/agents/2'), 'history.metastaticLines[0].agents[2]')
  t.equal(casePath('/a~1b/c~0d'), 'a/b.c~d', 'RFC 6901 escapes')
  t.equal(casePath(''), '')
})

t.test('toCase: a complete mapping is a validated Case', async (t) => {
  const result = toCase(mappingOf(COMPLETE))
  t.ok(result.ok)
  t.strictSame(result.ok ? result.case : undefined, COMPLETE)
})

t.test('toCase §6.9: missing fields → case-incomplete, one error per field, what was looked for and why nothing was usable', async (t) => {
  const result = toCase(mappingOf({}, {
    missing: ['patient.ageYears', 'patient.sex', 'patient.ecog', 'tumor.erPercent', 'disease.presentation'],
    gaps: { 'patient.ageYears': ['the Patient has no birthDate'], 'patient.ecog': ['Observation/e1: value 5 is outside 0–4', 'Observation/e2: preliminary'] }
  }))
  t.match(result, { ok: false, kind: 'case-incomplete' })
  t.strictSame(result.ok ? [] : result.errors, [
    { path: '/patient/ageYears', message: 'Looked for Patient.birthDate to compute the age; none was usable: the Patient has no birthDate.' },
    { path: '/patient/sex', message: 'Looked for the US Core birth sex extension (us-core-birthsex), then Patient.gender (female or male); none was found for this patient.' },
    { path: '/patient/ecog', message: 'Looked for an ECOG performance status Observation (LOINC 89247-1) with status final, amended or corrected and a whole-number value 0–4; none was usable: Observation/e1: value 5 is outside 0–4; Observation/e2: preliminary.' },
    { path: '/tumor/erPercent', message: 'Looked for an oestrogen receptor Observation (LOINC 85329-1, 14228-1, 85337-4, 40556-3, 16112-5) with a percentage of cells or a positive or negative result; none was found for this patient.' },
    { path: '/disease/presentation', message: 'Looked for the metastatic sites, the staging and a disease.presentation case fact to derive the presentation; none was found for this patient.' }
  ])
})

t.test('toCase: when resources of another patient were set aside, the message says they are never used', async (t) => {
  const result = toCase(mappingOf({}, { missing: ['patient.ecog'], warnings: [{ code: 'FHIR_OTHER_PATIENT_RESOURCE', message: '1 resource …' }] }))
  t.match(result.ok ? undefined : result.errors[0]?.message, /none was found for this patient \(resources that belong to another patient are never used\)\.$/)
})

t.test('toCase: a path without a known description still says what was looked for', async (t) => {
  const result = toCase(mappingOf({}, { missing: ['disease.somethingNew'] }))
  t.strictSame(result.ok ? [] : result.errors, [{ path: '/disease/somethingNew', message: 'Looked for disease.somethingNew; none was found for this patient.' }])
})

t.test('toCase §6.9: a schema failure of the mapped Case → case-inconsistent, naming the resources behind the field', async (t) => {
  const result = toCase(mappingOf({ ...COMPLETE, patient: { ...COMPLETE.patient, ageYears: 16 } }, {
    sources: { 'patient.ageYears': { label: 'Age (years)', display: '16 years on 2026-03-01', refs: ['Patient/p'] } }
  }))
  t.match(result, { ok: false, kind: 'case-inconsistent' })
  t.strictSame(result.ok ? [] : result.errors, [{ path: '/patient/ageYears', message: 'must be at least 18 (mapped from Patient/p: 16 years on 2026-03-01)' }])
})

t.test('toCase §6.9: a consistency check of api.md (SINS components vs total, both from facts) → case-inconsistent', async (t) => {
  const lesion = { level: 'T7', sinsTotal: 9, sinsComponents: { location: 1, pain: 1, boneLesion: 2, alignment: 0, collapse: 1, posterolateral: 1 } }
  const result = toCase(mappingOf({ ...COMPLETE, disease: { ...COMPLETE.disease, spineLesions: [lesion] } }, {
    sources: { 'disease.spineLesions[0].sinsTotal': { label: 'SINS total', display: '9 (2026-02-20)', refs: ['Observation/sins'] } }
  }))
  t.match(result, { ok: false, kind: 'case-inconsistent' })
  t.strictSame(result.ok ? [] : result.errors, [{ path: '/disease/spineLesions/0/sinsTotal', message: 'is 9 but the SINS components add up to 6 (mapped from Observation/sins: 9 (2026-02-20))' }])
})

t.test('toCase: an inconsistency with no source keeps the schema\'s message', async (t) => {
  const result = toCase(mappingOf({ ...COMPLETE, patient: { ...COMPLETE.patient, gestationalWeeks: 12 } }))
  t.strictSame(result.ok ? [] : result.errors, [{ path: '/patient/gestationalWeeks', message: 'is given while patient.pregnant is not true; remove it or record the pregnancy' }])
})

t.test('end to end: a Patient alone is incomplete (ECOG, ER), its age and sex mapped', async (t) => {
  const result = mapped(t, mapBundle(collection(patient({ extension: [{ url: BIRTH_SEX_URL, valueCode: 'F' }] })), OPTIONS))
  const built = toCase(result.mapping)
  t.match(built, { ok: false, kind: 'case-incomplete' })
  const paths = built.ok ? [] : built.errors.map((error) => error.path)
  t.strictSame(paths.filter((path) => path.startsWith('/patient') || path.startsWith('/tumor')), ['/patient/ecog', '/tumor/erPercent'])
})
