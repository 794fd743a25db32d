import t, { type Test } from 'tap'
import { BUNDLE_TYPES, describeResource, element, indexResources, keepPatientResources, patientResources, readBundle, typeIdOf, warnMalformed, wellFormed, type BundleResult } from '../../src/fhir/bundle.js'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import type { FhirResource } from '../../src/fhir/types.js'
import { bundle, collection, condition, entry, observation, patient, PATIENT_ID } from '../fixtures/small-bundles.js'

type Ok = Extract<BundleResult, { ok: true }>

function ok (t: Test, result: BundleResult): Ok {
  if (!result.ok) throw new Error(`expected a readable Bundle, got ${result.status} ${result.detail}`)
  t.ok(result.ok)
  return result
}

const codes = (result: { warnings: Array<{ code: string }> }): string[] => result.warnings.map((warning) => warning.code)

/* ------------------------------------------------------------ §5 checks */

t.test('§5 row 1: a body that is not a JSON object is a 400 at the root pointer', async (t) => {
  for (const body of [null, 'Bundle', 42, [], undefined]) {
    t.match(readBundle(body), { ok: false, status: 400, path: '', errors: [{ path: '', message: 'must be a JSON object (a FHIR Bundle)' }] }, JSON.stringify(body))
  }
})

t.test('§5 row 1: resourceType other than "Bundle", or absent, is a 400 at /resourceType', async (t) => {
  t.match(readBundle({ resourceType: 'Patient', type: 'collection' }), { ok: false, status: 400, path: '/resourceType', detail: /must be "Bundle"/ })
  t.match(readBundle({ type: 'collection' }), { ok: false, status: 400, path: '/resourceType', errors: [{ message: 'is required' }] })
})

t.test('§5 row 2: collection, transaction, batch and searchset are accepted', async (t) => {
  for (const type of BUNDLE_TYPES) ok(t, readBundle(bundle([entry(patient())], type)))
})

t.test('§5 row 2: document, message, history, the response types and a missing type are a 400 at /type', async (t) => {
  for (const type of ['document', 'message', 'history', 'transaction-response', 'batch-response', 'subscription-notification']) {
    t.match(readBundle(bundle([entry(patient())], type)), { ok: false, status: 400, path: '/type', detail: /collection, transaction, batch or searchset/ }, type)
  }
  const { type: _type, ...untyped } = bundle([entry(patient())])
  t.match(readBundle(untyped), { ok: false, status: 400, path: '/type', errors: [{ message: 'is required' }] })
})

t.test('§5 row 3: entry must be an array of objects', async (t) => {
  t.match(readBundle({ resourceType: 'Bundle', type: 'collection', entry: {} }), { ok: false, status: 400, path: '/entry', detail: /array of Bundle entries/ })
  t.match(readBundle(bundle([entry(patient()), 'x' as unknown as Record<string, unknown>])), { ok: false, status: 400, path: '/entry/1', detail: /a Bundle entry/ })
})

t.test('§5 row 3: a resource, when present, is an object with a string resourceType (path /entry/3/resource/resourceType)', async (t) => {
  const withResource = (resource: unknown): Record<string, unknown> => bundle([entry(patient()), entry(observation('a')), entry(observation('b')), { resource }])
  t.match(readBundle(withResource({ resourceType: 7, id: 'x' })), {
    ok: false, status: 400, path: '/entry/3/resource/resourceType', detail: 'The Bundle fails a structural check at "/entry/3/resource/resourceType": must be a string naming the resource type, e.g. "Observation".'
  })
  t.match(readBundle(withResource({ id: 'x' })), { ok: false, path: '/entry/3/resource/resourceType', errors: [{ message: 'is required' }] })
  t.match(readBundle(withResource({ resourceType: '' })), { ok: false, path: '/entry/3/resource/resourceType', errors: [{ message: 'must not be empty' }] })
  t.match(readBundle(withResource('Observation')), { ok: false, path: '/entry/3/resource', errors: [{ message: 'must be a JSON object (a FHIR resource)' }] })
  t.match(readBundle(withResource(null)), { ok: false, path: '/entry/3/resource' })
})

t.test('§5: every structural failure is listed, the first one in path', async (t) => {
  const result = readBundle(bundle([{ resource: { resourceType: 1 } }, { resource: [] }], 'document'))
  t.match(result, { ok: false, status: 400, path: '/type' })
  t.strictSame(!result.ok && result.status === 400 ? result.errors.map((error) => error.path) : [], ['/type', '/entry/0/resource/resourceType', '/entry/1/resource'])
})

t.test('§5: unknown elements and extensions pass at every level (passthrough)', async (t) => {
  const body = {
    resourceType: 'Bundle',
    id: 'not_a valid FHIR id!',
    type: 'collection',
    meta: { profile: ['http://example.org/anything'] },
    extension: [{ url: 'http://example.org/x', valueString: 'y' }],
    timestamp: 'not checked',
    entry: [{ fullUrl: 'urn:uuid:1', resource: patient({ madeUp: { deeply: [1, 2] } }), search: { mode: 'match' }, unknownMember: true }]
  }
  const result = ok(t, readBundle(body))
  t.equal(result.resources[0], body.entry[0]?.resource, 'the received objects, not copies')
  t.same(result.warnings, [])
})

t.test('§5: a Bundle without entry is read, and has no Patient (422 patient-count)', async (t) => {
  t.match(readBundle({ resourceType: 'Bundle', type: 'searchset' }), { ok: false, status: 422, type: 'patient-count', path: '/entry', detail: /no Patient/ })
})

t.test('§5 row 4: an entry without resource is skipped with FHIR_ENTRY_WITHOUT_RESOURCE', async (t) => {
  const result = ok(t, readBundle(bundle([entry(patient()), { fullUrl: 'urn:uuid:empty' }, entry(observation('o1'))])))
  t.strictSame(result.resources.map((resource) => resource.id), [PATIENT_ID, 'o1'])
  t.strictSame(result.warnings, [{ code: 'FHIR_ENTRY_WITHOUT_RESOURCE', message: '1 Bundle entry without a resource, or with a DELETE request, was skipped (/entry/1).' }])
})

t.test('§5 row 4: a transaction/batch entry with request.method DELETE is skipped, with or without a resource', async (t) => {
  for (const type of ['transaction', 'batch']) {
    const result = ok(t, readBundle(bundle([
      entry(patient(), { request: { method: 'PUT', url: `Patient/${PATIENT_ID}` } }),
      entry(undefined, { request: { method: 'DELETE', url: 'Observation/gone' } }),
      entry(observation('o2'), { request: { method: 'DELETE', url: 'Observation/o2' } }),
      entry(observation('o3'), { request: { method: 'POST', url: 'Observation' } })
    ], type)))
    t.strictSame(result.resources.map((resource) => resource.id), [PATIENT_ID, 'o3'], type)
    t.strictSame(result.warnings, [{ code: 'FHIR_ENTRY_WITHOUT_RESOURCE', message: '2 Bundle entries without a resource, or with a DELETE request, were skipped (/entry/1, /entry/2).' }], type)
  }
})

t.test('§5 row 5: no Patient, or two different Patients, is a 422 patient-count', async (t) => {
  t.match(readBundle(collection(observation('o1'))), { ok: false, status: 422, type: 'patient-count', detail: 'The Bundle has no Patient resource: it must hold the record of exactly one patient.' })
  t.match(readBundle(collection(patient(), patient({ id: 'pat-2' }))), { ok: false, status: 422, type: 'patient-count', detail: 'The Bundle has 2 different Patient resources: it must hold the record of exactly one patient.' })
  t.match(readBundle(bundle([{ fullUrl: 'urn:uuid:p' }])), { ok: false, status: 422, type: 'patient-count' }, 'an entry without resource is no Patient')
})

t.test('§5 row 5: the same Patient twice (identical) is one Patient', async (t) => {
  const result = ok(t, readBundle(collection(patient(), patient())))
  t.equal(result.resources.length, 1)
  t.strictSame(result.warnings, [])
})

t.test('§5 row 6: a fullUrl or an id of the wrong shape counts as absent, with FHIR_ELEMENT_MALFORMED', async (t) => {
  const result = ok(t, readBundle(bundle([entry(patient(), { fullUrl: 12 as unknown as string }), entry(observation(7 as unknown as string)), entry(observation(8 as unknown as string))])))
  t.strictSame(codes(result), ['FHIR_ELEMENT_MALFORMED', 'FHIR_ELEMENT_MALFORMED'])
  t.match(result.warnings[0]?.message, '/entry/0/fullUrl is not a string')
  t.equal(result.warnings[1]?.message, '2 resources have an id that is not a string; they were read as having none.')
  t.equal(result.resources.length, 3, 'two Observations without a usable id are never duplicates')
  t.equal(result.resources[1]?.id, undefined)
  t.equal(result.resolve('Observation/7'), undefined)
  const single = indexResources([{ resource: observation(true as unknown as string) }])
  t.equal(single.warnings[0]?.message, '1 resource has an id that is not a string; it was read as having none.')
})

/* --------------------------------------------------------- references */

t.test('references (1): fullUrl exactly, urn:uuid or absolute', async (t) => {
  const observationFullUrl = 'https://ehr.example.org/fhir/Observation/o1'
  const result = ok(t, readBundle(bundle([
    entry(patient(), { fullUrl: 'urn:uuid:6f1b2a52-1d7e-4c07-9a3b-0c8e7d2b1a11' }),
    entry(observation('o1'), { fullUrl: observationFullUrl })
  ])))
  t.equal(result.resolve('urn:uuid:6f1b2a52-1d7e-4c07-9a3b-0c8e7d2b1a11')?.resourceType, 'Patient')
  t.equal(result.resolve(observationFullUrl)?.id, 'o1')
  t.equal(result.resolve('urn:uuid:00000000-0000-0000-0000-000000000000'), undefined, 'an unknown urn:uuid resolves to nothing')
})

t.test('references (1): a fullUrl resolves a resource that has no id', async (t) => {
  const { id: _id, ...anonymous } = observation('x')
  const result = ok(t, readBundle(bundle([entry(patient()), entry(anonymous as FhirResource, { fullUrl: 'urn:uuid:anon' })])))
  t.equal(result.resolve('urn:uuid:anon'), result.resources[1])
})

t.test('references (2): relative Type/id, with /_history/n stripped', async (t) => {
  const result = ok(t, readBundle(collection(patient(), observation('o.1-a'))))
  t.equal(result.resolve(`Patient/${PATIENT_ID}`)?.resourceType, 'Patient')
  t.equal(result.resolve('Observation/o.1-a')?.id, 'o.1-a')
  t.equal(result.resolve('Observation/o.1-a/_history/3')?.id, 'o.1-a')
  t.equal(result.resolve('Observation/unknown'), undefined)
  t.equal(result.resolve('Condition/o.1-a'), undefined, 'the type is part of the key')
})

t.test('references (3): an absolute URL ending in Type/id (history stripped)', async (t) => {
  const result = ok(t, readBundle(collection(patient(), observation('o1'))))
  t.equal(result.resolve(`https://other.example.org/fhir/R4/Patient/${PATIENT_ID}`)?.resourceType, 'Patient')
  t.equal(result.resolve('http://ehr.example.org/Observation/o1/_history/2')?.id, 'o1')
  t.equal(result.resolve('https://ehr.example.org/Observation?code=89247-1'), undefined, 'a search URL names no resource')
})

t.test('references (4): #id resolves to a resource contained in the referring resource', async (t) => {
  const medication = { resourceType: 'Medication', id: 'med', code: { text: 'trastuzumab' } }
  const request = { resourceType: 'MedicationRequest', id: 'mr', contained: [{ resourceType: 'Medication', id: 'other' }, medication, 'junk'], medicationReference: { reference: '#med' }, subject: { reference: `Patient/${PATIENT_ID}` } }
  const result = ok(t, readBundle(collection(patient(), request)))
  t.equal(result.resolve('#med', request), medication)
  t.equal(result.resolve('#', request), request, '"#" is the container itself')
  t.equal(result.resolve('#missing', request), undefined)
  t.equal(result.resolve('#med'), undefined, 'without the referring resource nothing is contained')
  t.equal(result.resolve('#med', patient()), undefined, 'a resource without contained')
})

t.test('references: anything else resolves to nothing', async (t) => {
  const result = ok(t, readBundle(collection(patient())))
  for (const reference of ['', 'Patient', 'patient/pat-1', `/Patient/${PATIENT_ID}`, `foo/Patient/${PATIENT_ID}`, 42 as unknown as string]) {
    t.equal(result.resolve(reference), undefined, String(reference))
  }
})

t.test('typeIdOf: the Type/id of relative and absolute references', async (t) => {
  t.equal(typeIdOf('Observation/abc'), 'Observation/abc')
  t.equal(typeIdOf('Observation/abc/_history/12'), 'Observation/abc')
  t.equal(typeIdOf('https://h.example/fhir/Observation/abc'), 'Observation/abc')
  t.equal(typeIdOf('https://h.example/fhir/Observation/abc/_history/1'), 'Observation/abc')
  t.equal(typeIdOf('urn:uuid:abc'), undefined)
  t.equal(typeIdOf('Observation/' + 'x'.repeat(65)), undefined, 'ids are at most 64 characters')
  t.equal(typeIdOf('Observation/a b'), undefined)
})

/* --------------------------------------------------------- duplicates */

t.test('duplicates: identical entries with the same Type/id are one, without a warning', async (t) => {
  const result = ok(t, readBundle(collection(patient(), observation('o1'), { ...observation('o1') })))
  t.equal(result.resources.length, 2)
  t.strictSame(result.warnings, [])
})

t.test('duplicates: identical means JCS-equal, whatever the key order', async (t) => {
  const reordered = Object.fromEntries(Object.entries(observation('o1')).reverse()) as FhirResource
  const result = ok(t, readBundle(collection(patient(), observation('o1'), reordered)))
  t.equal(result.resources.length, 2)
  t.strictSame(result.warnings, [])
})

t.test('duplicates: entries that differ only in their narrative (text) are identical (§5: narratives are ignored)', async (t) => {
  const first = observation('o1', { text: { status: 'generated', div: '<div>ECOG 1</div>' } })
  const second = observation('o1', { text: { status: 'generated', div: '<div>ECOG one, seen in clinic</div>' } })
  const result = ok(t, readBundle(collection(patient(), first, second)))
  t.equal(result.resources.length, 2)
  t.equal(result.resources[1], first, 'the first is kept')
  t.strictSame(result.warnings, [])
})

t.test('duplicates: different content → the last in bundle order wins, FHIR_DUPLICATE_RESOURCE', async (t) => {
  const first = observation('o1', { valueInteger: 0 })
  const last = observation('o1', { valueInteger: 4 })
  const result = ok(t, readBundle(bundle([
    entry(first, { fullUrl: 'urn:uuid:first' }), entry(patient()), entry(observation('o2')), entry(last, { fullUrl: 'urn:uuid:last' })
  ])))
  t.strictSame(result.resources.map((resource) => resource.id), [PATIENT_ID, 'o2', 'o1'], 'the winner takes its own (last) position')
  t.equal(result.resources[2], last)
  t.strictSame(result.warnings, [{ code: 'FHIR_DUPLICATE_RESOURCE', message: 'Observation/o1 appears more than once with different content; the last one in the Bundle was used.' }])
  t.equal(result.resolve('Observation/o1'), last)
  t.equal(result.resolve('urn:uuid:first'), last, 'the fullUrl of the replaced entry resolves to the winner')
})

t.test('duplicates: a Patient is never named by its id in the warning', async (t) => {
  const result = ok(t, readBundle(collection(patient({ gender: 'male' }), patient())))
  t.strictSame(result.warnings, [{ code: 'FHIR_DUPLICATE_RESOURCE', message: 'the Patient appears more than once with different content; the last one in the Bundle was used.' }])
  t.equal(result.resources[0]?.gender, 'female')
})

t.test('describeResource: Type/id, "the Patient", or a resource without an id', async (t) => {
  t.equal(describeResource(observation('o1')), 'Observation/o1')
  t.equal(describeResource(patient()), 'the Patient')
  t.equal(describeResource({ resourceType: 'Observation' }), 'a Observation without an id')
})

/* ------------------------------------------------------- patient rule */

function patientRule (...resources: FhirResource[]): ReturnType<typeof keepPatientResources> & { all: FhirResource[] } {
  const index = indexResources(resources.map((resource, i) => ({ resource, fullUrl: `urn:uuid:${i}` })))
  const one = index.resources.find((resource) => resource.resourceType === 'Patient' && resource.id === PATIENT_ID)
  return { ...keepPatientResources(index.resources, one, index.resolve), all: index.resources }
}

t.test('patient rule: a subject (or patient) that resolves to the one Patient is used, in every reference form', async (t) => {
  const kept = patientRule(
    patient(),
    observation('relative'),
    observation('absolute', { subject: { reference: `https://ehr.example.org/fhir/Patient/${PATIENT_ID}` } }),
    observation('history', { subject: { reference: `Patient/${PATIENT_ID}/_history/4` } }),
    observation('fullUrl', { subject: { reference: 'urn:uuid:0' } }),
    { resourceType: 'AllergyIntolerance', id: 'al', patient: { reference: `Patient/${PATIENT_ID}` } }
  )
  t.strictSame(kept.resources.map((resource) => resource.id), [PATIENT_ID, 'relative', 'absolute', 'history', 'fullUrl', 'al'])
  t.strictSame(kept.warnings, [])
})

t.test('patient rule: the Patient itself and Medication resources have no subject and are kept', async (t) => {
  const kept = patientRule(patient(), { resourceType: 'Medication', id: 'm1', code: { text: 'capecitabine' } })
  t.strictSame(kept.resources.map((resource) => resource.resourceType), ['Patient', 'Medication'])
  t.strictSame(kept.warnings, [])
})

t.test('patient rule: resources of another patient are dropped, FHIR_OTHER_PATIENT_RESOURCE with a count', async (t) => {
  const kept = patientRule(
    patient(),
    observation('mine'),
    observation('theirs-1', { subject: { reference: 'Patient/someone-else' } }),
    observation('theirs-2', { subject: { reference: 'urn:uuid:nowhere' } }),
    condition('theirs-3', { subject: { reference: 'Group/g1' } })
  )
  t.strictSame(kept.resources.map((resource) => resource.id), [PATIENT_ID, 'mine'])
  t.strictSame(kept.warnings, [{ code: 'FHIR_OTHER_PATIENT_RESOURCE', message: '3 resources that belong to another patient (or to no patient in the Bundle) were not used (2 Observation, 1 Condition).' }])
  t.notMatch(kept.warnings[0]?.message, /someone-else|theirs/, 'counts, never ids')
})

t.test('patient rule: another Patient resource (CDS Hooks data) is dropped as another patient\'s', async (t) => {
  const kept = patientRule(patient(), patient({ id: 'pat-2' }), observation('theirs', { subject: { reference: 'Patient/pat-2' } }))
  t.strictSame(kept.resources.map((resource) => resource.id), [PATIENT_ID])
  t.strictSame(kept.warnings, [{ code: 'FHIR_OTHER_PATIENT_RESOURCE', message: '2 resources that belong to another patient (or to no patient in the Bundle) were not used (1 Patient, 1 Observation).' }])
})

t.test('patient rule: a resource without a subject reference is dropped, FHIR_NO_SUBJECT with a count', async (t) => {
  const { subject: _subject, ...orphan } = observation('orphan')
  const kept = patientRule(
    patient(),
    orphan as FhirResource,
    observation('identifier-only', { subject: { identifier: { value: 'MRN-1' }, display: 'Jane' } }),
    { resourceType: 'Practitioner', id: 'dr' }
  )
  t.strictSame(kept.resources.map((resource) => resource.id), [PATIENT_ID])
  t.strictSame(kept.warnings, [{ code: 'FHIR_NO_SUBJECT', message: '3 resources without a subject reference were not used (2 Observation, 1 Practitioner).' }])
})

t.test('patient rule: a subject of the wrong shape counts as absent, with FHIR_ELEMENT_MALFORMED', async (t) => {
  const kept = patientRule(patient(), observation('string-subject', { subject: `Patient/${PATIENT_ID}` }), observation('number-reference', { subject: { reference: 7 } }))
  t.strictSame(kept.resources.map((resource) => resource.id), [PATIENT_ID])
  t.strictSame(codes(kept), ['FHIR_ELEMENT_MALFORMED', 'FHIR_NO_SUBJECT'])
  t.equal(kept.warnings[0]?.message, '2 resources have a subject of the wrong shape (2 Observation); read as having none.')
  t.equal(kept.warnings[1]?.message, '2 resources without a subject reference were not used (2 Observation).')
  const one = patientRule(patient(), observation('x', { subject: 'Patient' }))
  t.equal(one.warnings[0]?.message, '1 resource has a subject of the wrong shape (1 Observation); read as having none.')
  t.equal(one.warnings[1]?.message, '1 resource without a subject reference was not used (1 Observation).')
})

t.test('patient rule: one resource of another patient is counted in the singular', async (t) => {
  const kept = patientRule(patient(), observation('theirs', { subject: { reference: 'Patient/x' } }))
  t.equal(kept.warnings[0]?.message, '1 resource that belongs to another patient (or to no patient in the Bundle) was not used (1 Observation).')
})

t.test('patientResources: the patient rule for Patient/{id}; an unknown patient keeps nothing but Medications', async (t) => {
  const all = [patient(), observation('o1'), { resourceType: 'Medication', id: 'm' }] as FhirResource[]
  const index = indexResources(all.map((resource) => ({ resource })))
  t.strictSame(patientResources(index.resources, `Patient/${PATIENT_ID}`, index.resolve).resources.map((resource) => resource.id), [PATIENT_ID, 'o1', 'm'])
  const unknown = patientResources(index.resources, 'Patient/nobody', index.resolve)
  t.strictSame(unknown.resources.map((resource) => resource.id), ['m'])
  t.strictSame(codes(unknown), ['FHIR_OTHER_PATIENT_RESOURCE'])
  t.strictSame(patientResources(index.resources, 'Observation/o1', index.resolve).resources.map((resource) => resource.id), ['m'], 'a reference to a non-Patient is no patient')
})

/* ----------------------------------------------------- element shapes */

function context (): MappingContext {
  const index = indexResources([{ resource: patient() }])
  return new MappingContext(index.resources, { patientRef: `Patient/${PATIENT_ID}`, evaluationDate: '2026-03-01' }, index.resolve)
}

t.test('element: an element of the expected shape is returned as is; an absent one is undefined without a warning', async (t) => {
  const ctx = context()
  const resource = observation('o1', { interpretation: [{ text: 'high' }], valueString: '3+', valueBoolean: false, valueQuantity: { value: 2.5 } })
  t.strictSame(element(ctx, resource, 'interpretation', 'objects'), [{ text: 'high' }])
  t.equal(element(ctx, resource, 'valueString', 'string'), '3+')
  t.equal(element(ctx, resource, 'valueInteger', 'integer'), 1)
  t.equal(element(ctx, resource, 'valueBoolean', 'boolean'), false)
  t.strictSame(element(ctx, resource, 'valueQuantity', 'object'), { value: 2.5 })
  t.equal(wellFormed(ctx, resource, 'valueQuantity.value', 2.5, 'number'), 2.5)
  t.equal(element(ctx, resource, 'note', 'objects'), undefined)
  t.strictSame(ctx.warnings, [])
})

t.test('element: the wrong shape counts as absent, with FHIR_ELEMENT_MALFORMED (e.g. interpretation as an object)', async (t) => {
  const ctx = context()
  const resource = observation('o1', { interpretation: { text: 'high' }, valueString: 3, valueInteger: 1.5, valueBoolean: 'yes', valueQuantity: [1], method: 'x' })
  t.equal(element(ctx, resource, 'interpretation', 'objects'), undefined)
  t.equal(element(ctx, resource, 'valueString', 'string'), undefined)
  t.equal(element(ctx, resource, 'valueInteger', 'integer'), undefined)
  t.equal(element(ctx, resource, 'valueBoolean', 'boolean'), undefined)
  t.equal(element(ctx, resource, 'valueQuantity', 'object'), undefined)
  t.equal(wellFormed(ctx, resource, 'valueQuantity.value', Number.NaN, 'number'), undefined)
  t.equal(wellFormed(ctx, resource, 'valueQuantity.value', '2', 'number'), undefined)
  t.strictSame(ctx.warnings.map((warning) => warning.message), [
    'Observation/o1: interpretation is not a list of objects and was ignored.',
    'Observation/o1: valueString is not a string and was ignored.',
    'Observation/o1: valueInteger is not a whole number and was ignored.',
    'Observation/o1: valueBoolean is not true or false and was ignored.',
    'Observation/o1: valueQuantity is not an object and was ignored.',
    'Observation/o1: valueQuantity.value is not a number and was ignored.'
  ])
  t.ok(ctx.warnings.every((warning) => warning.code === 'FHIR_ELEMENT_MALFORMED'))
})

t.test('element: in a list of objects, the items that are not objects are dropped and the others kept', async (t) => {
  const ctx = context()
  t.strictSame(element(ctx, condition('c1', { bodySite: [{ text: 'T7' }, 'T8', null] }), 'bodySite', 'objects'), [{ text: 'T7' }])
  t.equal(element(ctx, condition('c2', { bodySite: ['T8'] }), 'bodySite', 'objects'), undefined)
  t.strictSame(ctx.warnings.map((warning) => warning.message), ['Condition/c1: bodySite is not a list of objects and was ignored.', 'Condition/c2: bodySite is not a list of objects and was ignored.'])
})

t.test('warnMalformed: a section may warn for a shape it checks itself', async (t) => {
  const ctx = context()
  warnMalformed(ctx, patient(), 'extension[0].valueCode')
  t.strictSame(ctx.warnings, [{ code: 'FHIR_ELEMENT_MALFORMED', message: 'the Patient: extension[0].valueCode has an unexpected shape and was ignored.' }])
})
