import { readdirSync } from 'node:fs'
import fc from 'fast-check'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { canonicalJson, inputDigest } from '../../src/engine/canonical-json.js'
import { FHIR_BODY_LIMIT_BYTES } from '../../src/limits.js'
import { registerFhirParser } from '../../src/routes/fhir-input.js'
import { RecommendationResponse } from '../../src/schemas/recommendation.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { bundle, collection, condition, entry, observation, patient, PATIENT_ID } from '../fixtures/small-bundles.js'
import { appWithStubSections, fhirWithStubSections } from '../fixtures/stub-sections.js'
import { needThirdParty, readThirdPartyJson, thirdPartyPath, thirdPartySkip } from '../support/third-party-fixtures.js'

const FHIR = 'application/fhir+json'
const PROBLEM = /^application\/problem\+json/
const URL_V1 = '/v1/recommendations'

/** A record that the stubbed sections (test/fixtures/stub-sections.ts) map to a complete HER2+ case: bone site, ECOG 1, ER 0 %, IHC 3+, and an LVEF with a gap. */
function completeRecord (extra: Array<Record<string, unknown>> = []): Record<string, unknown> {
  return collection(
    patient(),
    condition('primary', { bodySite: [{ text: 'bone' }] }),
    observation('ecog', { valueInteger: 1 }),
    observation('er', { code: { coding: [{ system: 'http://loinc.org', code: '85329-1' }] }, valueInteger: undefined, valueQuantity: { value: 0, unit: '%' } }),
    observation('her2', { code: { coding: [{ system: 'http://loinc.org', code: '85319-2' }] }, valueInteger: undefined, valueString: '3+' }),
    observation('lvef', { code: { coding: [{ system: 'http://loinc.org', code: '10230-1' }] }, valueInteger: undefined, valueQuantity: { value: 60, unit: 'furlong' } }),
    ...extra as never[]
  )
}

async function stubbedApp (t: Test, logger: BuildOptions['logger'] = false): Promise<FastifyInstance> {
  const { buildApp } = await appWithStubSections(t)
  const app = await buildApp(parseConfig({}), { logger, knowledgeBase })
  t.teardown(async () => { await app.close() })
  return app
}

async function postFhir (app: FastifyInstance, body: unknown, query = '', contentType = FHIR): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: `${URL_V1}${query}`, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } })
}

/* ---------------------------------------------------------------- 200 */

t.test('200: a mapped Bundle gives the RecommendationResponse of the same engine', async (t) => {
  const app = await stubbedApp(t)
  const response = await postFhir(app, completeRecord(), '?evaluationDate=2026-03-01&jurisdiction=US&caseId=board-7')
  t.equal(response.statusCode, 200)
  const body = RecommendationResponse.parse(response.json())
  t.equal(body.requestId, response.headers['x-request-id'])
  t.equal(body.caseId, 'board-7')
  t.equal(body.provenance.evaluationDate, '2026-03-01')
  t.match(body.scope, { inScope: true })
  t.ok(body.recommendations.length > 0)
})

t.test('200: the same response as the mapped Case sent as JSON, except the FHIR additions', async (t) => {
  const app = await stubbedApp(t)
  const record = completeRecord()
  const fhirBody = (await postFhir(app, record, '?evaluationDate=2026-03-01&jurisdiction=US&caseId=board-7')).json()
  const mapped = (await fhirWithStubSections(t)).mapBundle(record, { evaluationDate: '2026-03-01', jurisdiction: 'US', caseId: 'board-7' })
  if (!mapped.ok) throw new Error('expected a mapping')
  const jsonBody = (await app.inject({ method: 'POST', url: URL_V1, payload: mapped.mapping.case as object })).json()
  const strip = (body: Record<string, unknown>): string => canonicalJson({
    ...body,
    requestId: null,
    sources: null,
    provenance: { ...(body.provenance as object), evaluatedAt: null, inputDigest: null },
    warnings: (body.warnings as Array<{ code: string }>).filter((warning) => !warning.code.startsWith('FHIR_')),
    dataGaps: (body.dataGaps as Array<{ message: string }>).map((gap) => ({ ...gap, message: gap.message.replace(/ From the FHIR record: .*$/, '') }))
  })
  t.equal(strip(fhirBody), strip(jsonBody))
})

t.test('200: the mapper\'s FHIR_* warnings are appended to the engine\'s warnings', async (t) => {
  const app = await stubbedApp(t)
  const record = completeRecord([observation('theirs', { subject: { reference: 'Patient/someone-else' } })])
  const body = (await postFhir(app, record, '?evaluationDate=2026-03-01')).json()
  const codes = (body.warnings as Array<{ code: string }>).map((warning) => warning.code)
  t.ok(codes.includes('FHIR_OTHER_PATIENT_RESOURCE'))
  const firstFhir = codes.findIndex((code) => code.startsWith('FHIR_'))
  t.ok(codes.slice(firstFhir).every((code) => code.startsWith('FHIR_')), 'after the engine\'s warnings')
})

t.test('200: the mapper\'s gap reasons are appended to the engine\'s data gap for the same field', async (t) => {
  const app = await stubbedApp(t)
  const body = (await postFhir(app, completeRecord(), '?evaluationDate=2026-03-01')).json()
  const lvef = (body.dataGaps as Array<{ field: string, message: string }>).find((gap) => gap.field === 'patient.lvefPercent')
  t.match(lvef?.message, /\. From the FHIR record: Observation\/lvef: unit "furlong" is not a percentage\.$/)
  const others = (body.dataGaps as Array<{ field: string, message: string }>).filter((gap) => gap.field !== 'patient.lvefPercent')
  t.ok(others.every((gap) => !gap.message.includes('From the FHIR record')), 'other gaps keep the engine\'s message')
})

t.test('200: inputDigest is over the received Bundle (JCS), not over the mapped Case', async (t) => {
  const app = await stubbedApp(t)
  const record = completeRecord()
  const body = (await postFhir(app, record, '?evaluationDate=2026-03-01')).json()
  t.equal(body.provenance.inputDigest, inputDigest(record))
  const spaced = JSON.stringify(Object.fromEntries(Object.entries(record).reverse()), null, 2)
  t.equal((await postFhir(app, spaced, '?evaluationDate=2026-03-01')).json().provenance.inputDigest, inputDigest(record), 'key order and spacing do not matter')
})

t.test('200: sources give the FHIR resources behind each Case field; a JSON Case has none', async (t) => {
  const app = await stubbedApp(t)
  const body = (await postFhir(app, completeRecord(), '?evaluationDate=2026-03-01')).json()
  t.strictSame(body.sources['patient.sex'], { label: 'Sex', display: 'female (birth sex)', refs: [`Patient/${PATIENT_ID}`] })
  t.strictSame(body.sources['tumor.erPercent'], { label: 'ER (% of cells)', display: '0 %', refs: ['Observation/er'] })
  const mapped = (await fhirWithStubSections(t)).mapBundle(completeRecord(), { evaluationDate: '2026-03-01' })
  if (!mapped.ok) throw new Error('expected a mapping')
  t.notOk('sources' in (await app.inject({ method: 'POST', url: URL_V1, payload: mapped.mapping.case as object })).json())
})

t.test('200: without evaluationDate the server\'s UTC date is used, for the mapping too', async (t) => {
  const app = await stubbedApp(t)
  const body = (await postFhir(app, completeRecord())).json()
  t.equal(body.provenance.evaluationDate, new Date().toISOString().slice(0, 10))
  t.notOk('caseId' in body)
})

t.test('200: a charset parameter is allowed', async (t) => {
  const app = await stubbedApp(t)
  for (const contentType of ['application/fhir+json; charset=utf-8', 'application/fhir+json;charset=UTF-8', 'Application/FHIR+JSON']) {
    t.equal((await postFhir(app, completeRecord(), '?evaluationDate=2026-03-01', contentType)).statusCode, 200, contentType)
  }
})

t.test('200: ?explain= works for FHIR input as for a Case', async (t) => {
  const app = await stubbedApp(t)
  const body = (await postFhir(app, completeRecord(), '?evaluationDate=2026-03-01&explain=tdxd,sbrt_spine')).json()
  t.strictSame(body.explanations.map((explanation: { option: string }) => explanation.option), ['tdxd', 'sbrt_spine'])
})

t.test('200: a Bundle over 1 MiB (but under 5 MiB) is accepted: the FHIR limit is its own', async (t) => {
  const app = await stubbedApp(t)
  const narrative = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(2 * 1024 * 1024)}</div>` }
  const response = await postFhir(app, completeRecord([{ resourceType: 'Medication', id: 'big', text: narrative }]), '?evaluationDate=2026-03-01')
  t.equal(response.statusCode, 200)
})

/* ---------------------------------------------------------- 413 / 415 */

t.test('413: a FHIR body over 5 MiB, with the FHIR limit in the detail', async (t) => {
  const app = await buildTestApp(t)
  const payload = JSON.stringify({ resourceType: 'Bundle', type: 'collection', padding: 'x'.repeat(FHIR_BODY_LIMIT_BYTES) })
  const response = await postFhir(app, payload)
  t.equal(response.statusCode, 413)
  t.match(response.headers['content-type'], PROBLEM)
  t.match(response.json(), { status: 413, type: /payload-too-large$/, detail: 'The request body is larger than the 5 MiB limit of FHIR input.' })
})

t.test('413: a JSON Case keeps its 1 MiB limit', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: URL_V1, payload: `{"caseId":"${'x'.repeat(1024 * 1024)}"}`, headers: { 'content-type': 'application/json' } })
  t.equal(response.statusCode, 413)
  t.equal(response.json().detail, 'The request body is larger than the 1 MiB limit.')
})

t.test('registerFhirParser: its own parser and limit in its context, replacing one inherited from a parent', async (t) => {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  app.addContentTypeParser(FHIR, { parseAs: 'string', bodyLimit: 10 }, (_request, _body, done) => { done(null, { inherited: true }) })
  await app.register(async (child) => {
    registerFhirParser(child)
    child.post('/echo', async (request) => request.body)
  })
  const response = await app.inject({ method: 'POST', url: '/echo', payload: JSON.stringify({ resourceType: 'Bundle', padding: 'x'.repeat(100) }), headers: { 'content-type': FHIR } })
  t.equal(response.statusCode, 200)
  t.match(response.json(), { resourceType: 'Bundle' })
})

t.test('415: another content type, naming both accepted ones', async (t) => {
  const app = await buildTestApp(t)
  for (const contentType of ['application/fhir+xml', 'text/plain', 'application/xml']) {
    const response = await postFhir(app, collection(patient()), '', contentType)
    t.equal(response.statusCode, 415, contentType)
    t.match(response.headers['content-type'], PROBLEM)
    t.equal(response.json().detail, 'Unsupported content type: send a Case as application/json, or a FHIR Bundle as application/fhir+json.')
  }
})

/* ---------------------------------------------------------------- 400 */

t.test('400: malformed JSON and an empty body, without echoing the body', async (t) => {
  const app = await buildTestApp(t)
  const malformed = await postFhir(app, '{"resourceType": "Bundle", SECRET-NAME')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json(), { type: /invalid-json$/, detail: 'The request body is not valid JSON.' })
  t.notMatch(malformed.body, /SECRET/)
  t.equal((await postFhir(app, '')).statusCode, 400)
  t.equal((await postFhir(app, '{"__proto__": {"polluted": true}}')).statusCode, 400, 'prototype poisoning is refused')
})

t.test('400: the structural checks of §5, with errors[] as JSON pointers into the Bundle', async (t) => {
  const app = await buildTestApp(t)
  const cases: Array<[unknown, string]> = [
    [[], ''],
    [{ resourceType: 'Patient', type: 'collection' }, '/resourceType'],
    [bundle([entry(patient())], 'document'), '/type'],
    [bundle([entry(patient())], 'history'), '/type'],
    [{ resourceType: 'Bundle', type: 'collection', entry: 'x' }, '/entry'],
    [bundle([entry(patient()), 'x' as never]), '/entry/1'],
    [bundle([entry(patient()), entry(observation('a')), entry(observation('b')), { resource: { resourceType: 3 } }]), '/entry/3/resource/resourceType']
  ]
  for (const [body, path] of cases) {
    const response = await postFhir(app, body)
    t.equal(response.statusCode, 400, path)
    t.match(response.headers['content-type'], PROBLEM)
    t.match(response.json(), { status: 400, type: /validation$/, detail: 'The FHIR Bundle fails a structural check (only structure is checked; unknown elements pass).', errors: [{ path }] }, path)
  }
  const several = (await postFhir(app, { resourceType: 'Bundle', type: 'message', entry: [{ resource: 7 }] })).json()
  t.equal(several.detail, 'The FHIR Bundle fails 2 structural checks (only structure is checked; unknown elements pass).')
})

t.test('400: query parameters typed as the Case fields; an unknown one stays a 400', async (t) => {
  const app = await buildTestApp(t)
  for (const query of ['?evaluationDate=2026-02-30', '?evaluationDate=yesterday', '?jurisdiction=FR', '?caseId=has%20space', `?caseId=${'x'.repeat(65)}`, '?explain=nothing', '?patientId=1']) {
    const response = await postFhir(app, collection(patient()), query)
    t.equal(response.statusCode, 400, query)
    t.match(response.json(), { type: /validation$/, detail: /^Invalid query parameter/ }, query)
  }
})

t.test('400: evaluationDate, jurisdiction and caseId are FHIR-input parameters; a JSON Case carries them in its body', async (t) => {
  const app = await buildTestApp(t)
  const mapped = (await fhirWithStubSections(t)).mapBundle(completeRecord(), { evaluationDate: '2026-03-01' })
  if (!mapped.ok) throw new Error('expected a mapping')
  const response = await app.inject({ method: 'POST', url: `${URL_V1}?caseId=x&jurisdiction=US`, payload: mapped.mapping.case as object })
  t.equal(response.statusCode, 400)
  t.match(response.json(), {
    type: /validation$/,
    detail: 'Invalid query parameter jurisdiction, caseId: only FHIR input (application/fhir+json) takes it; a JSON Case carries it in its body.',
    errors: [{ path: '/jurisdiction' }, { path: '/caseId' }]
  })
})

/* ---------------------------------------------------------------- 422 */

t.test('422 patient-count: no Patient, or more than one', async (t) => {
  const app = await buildTestApp(t)
  for (const body of [collection(observation('o1')), collection(patient(), patient({ id: 'pat-2' }))]) {
    const response = await postFhir(app, body)
    t.equal(response.statusCode, 422)
    t.match(response.headers['content-type'], PROBLEM)
    t.match(response.json(), { status: 422, title: 'Unprocessable Entity', type: /\/problems\/patient-count$/, instance: URL_V1, detail: /exactly one patient/ })
  }
})

t.test('422 patient-deceased: deceasedBoolean true or a deceasedDateTime', async (t) => {
  const app = await buildTestApp(t)
  for (const deceased of [{ deceasedBoolean: true }, { deceasedDateTime: '2025-11-30' }]) {
    const response = await postFhir(app, collection(patient(deceased), condition('c1')))
    t.equal(response.statusCode, 422)
    t.match(response.json(), { type: /\/problems\/patient-deceased$/, detail: 'The Patient is recorded as deceased; no recommendations are given.' })
  }
})

t.test('422 no-breast-cancer: no primary breast cancer Condition', async (t) => {
  const app = await buildTestApp(t)
  const response = await postFhir(app, collection(patient(), observation('ecog')))
  t.equal(response.statusCode, 422)
  t.match(response.json(), { type: /\/problems\/no-breast-cancer$/, detail: /no primary breast cancer Condition/ })
  t.notOk('errors' in response.json())
})

t.test('422 case-incomplete: one error per missing required field, a JSON pointer into the Case and the FHIR data looked for', async (t) => {
  const app = await stubbedApp(t)
  const record = collection(patient({ birthDate: undefined }), condition('primary', { bodySite: [{ text: 'bone' }] }), observation('theirs', { subject: { reference: 'Patient/other' } }))
  const response = await postFhir(app, record, '?evaluationDate=2026-03-01')
  t.equal(response.statusCode, 422)
  const body = response.json()
  t.match(body, { type: /\/problems\/case-incomplete$/, detail: /lacks required Case fields/ })
  t.strictSame(body.errors.map((error: { path: string }) => error.path), ['/patient/ageYears', '/patient/ecog', '/tumor/erPercent'])
  t.match(body.errors[0].message, /^Looked for Patient.birthDate to compute the age; none was usable: the Patient has no birthDate\.$/)
  t.match(body.errors[1].message, /^Looked for an ECOG performance status Observation \(LOINC 89247-1\).*none was found for this patient \(resources that belong to another patient are never used\)\.$/)
})

t.test('422 case-inconsistent: the mapped Case fails the Case schema or a consistency check', async (t) => {
  const app = await stubbedApp(t)
  const record = completeRecord()
  ;((record.entry as Array<{ resource: Record<string, unknown> }>)[0] as { resource: Record<string, unknown> }).resource.birthDate = '2012-01-01'
  const response = await postFhir(app, record, '?evaluationDate=2026-03-01')
  t.equal(response.statusCode, 422)
  t.match(response.json(), {
    type: /\/problems\/case-inconsistent$/,
    errors: [{ path: '/patient/ageYears', message: `must be at least 18 (mapped from Patient/${PATIENT_ID}: 14 years on 2026-03-01)` }]
  })
})

/* -------------------------------------------------------- never a 5xx */

t.test('never a 5xx: arbitrary JSON and Bundle-like bodies are a 4xx or a 200', async (t) => {
  const app = await stubbedApp(t)
  const resource = fc.record({
    resourceType: fc.oneof(fc.constantFrom('Patient', 'Observation', 'Condition', 'MedicationRequest', 'Medication', 'Procedure'), fc.anything()),
    id: fc.oneof(fc.constantFrom(PATIENT_ID, 'a', 'b'), fc.anything()),
    subject: fc.oneof(fc.constant({ reference: `Patient/${PATIENT_ID}` }), fc.anything()),
    birthDate: fc.oneof(fc.constantFrom('1960', '1960-05-02', '2030-01-01'), fc.anything()),
    gender: fc.anything(),
    extension: fc.anything(),
    valueInteger: fc.anything(),
    bodySite: fc.anything(),
    deceasedBoolean: fc.anything()
  }, { requiredKeys: ['resourceType'] })
  const body = fc.oneof(
    fc.anything(),
    fc.record({
      resourceType: fc.constant('Bundle'),
      type: fc.constantFrom('collection', 'transaction', 'batch', 'searchset', 'document'),
      entry: fc.array(fc.record({ fullUrl: fc.anything(), resource, request: fc.oneof(fc.constant({ method: 'DELETE' }), fc.anything()) }, { requiredKeys: [] }), { maxLength: 6 })
    })
  )
  await fc.assert(fc.asyncProperty(body, async (value) => {
    const text = JSON.stringify(value) ?? 'null'
    const response = await postFhir(app, text, '?evaluationDate=2026-03-01')
    return response.statusCode < 500
  }), { numRuns: 150 })
  t.pass('no 5xx')
})

t.test('never a 5xx: the third-party MITRE bundles (§12.3)', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const app = await buildTestApp(t)
  const files = readdirSync(thirdPartyPath('mcode-thirdparty')).filter((name) => name.endsWith('.json'))
  t.equal(files.length, 7)
  for (const file of files) {
    const response = await postFhir(app, readThirdPartyJson(`mcode-thirdparty/${file}`), '?evaluationDate=2026-03-01')
    t.ok(response.statusCode < 500, `${file}: ${response.statusCode}`)
  }
  const empty = await postFhir(app, readThirdPartyJson('mcode-thirdparty/ctm-service.patient_data_empty-cgv.json'))
  t.match(empty.json(), { status: 422, type: /\/problems\/patient-count$/ }, 'an entry without resource, another patient\'s Observation, no Patient: 422 patient-count')
})

/* --------------------------------------------------------------- logs */

t.test('logs: counts and codes only, never patient data (PHI)', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await stubbedApp(t, { level: 'info', stream })
  const secrets = { id: 'MRN-77-SECRET', name: 'Ottilie Secretname', birthDate: '1961-07-13', reference: 'urn:uuid:secret-fullurl' }
  const record = completeRecord([observation('theirs', { subject: { reference: 'Patient/OTHER-PERSON-SECRET' } })])
  const entries = record.entry as Array<{ resource: Record<string, unknown>, fullUrl: string }>
  Object.assign(entries[0]?.resource ?? {}, { id: secrets.id, name: [{ text: secrets.name }], birthDate: secrets.birthDate })
  for (const item of entries.slice(1, -1)) item.resource.subject = { reference: `Patient/${secrets.id}` }
  const ok = await postFhir(app, record, '?evaluationDate=2026-03-01&caseId=board-7')
  t.equal(ok.statusCode, 200)
  const incomplete = await postFhir(app, collection(patient({ id: secrets.id, name: [{ text: secrets.name }] }), condition('c', { subject: { reference: `Patient/${secrets.id}` }, bodySite: [{ text: 'bone' }] })), '?evaluationDate=2026-03-01')
  t.equal(incomplete.statusCode, 422)
  const logged = JSON.stringify(lines)
  for (const secret of [...Object.values(secrets), 'OTHER-PERSON-SECRET', 'Secretname']) t.notMatch(logged, secret, `no ${secret} in the logs`)
  const completed = lines.filter((line) => line.msg === 'request completed')
  t.match(completed[0], { input: 'fhir', mappingVersion: String, resources: 7, status: 200, fhirWarnings: ['FHIR_OTHER_PATIENT_RESOURCE'] })
  t.match(completed[1], { input: 'fhir', status: 422, problem: 'case-incomplete', fields: 2 })
})

/* ------------------------------------------------------------- OpenAPI */

t.test('OpenAPI: the FHIR body, its 5 MiB limit, the 422 and the sources member are documented', async (t) => {
  const app = await buildTestApp(t)
  const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const operation = document.paths['/v1/recommendations'].post
  t.strictSame(Object.keys(operation.requestBody.content), ['application/json', 'application/fhir+json'])
  t.strictSame(operation.requestBody.content['application/fhir+json'].schema, { $ref: '#/components/schemas/FhirBundle' })
  t.match(operation.description, /application\/fhir\+json \(body limit 5 MiB; a JSON Case keeps 1 MiB\)/)
  t.ok(operation.responses['422'])
  t.strictSame(operation.parameters.map((parameter: { name: string }) => parameter.name), ['explain', 'evaluationDate', 'jurisdiction', 'caseId'])
  t.match(document.components.schemas.RecommendationResponse.properties.sources.description, /^Present only for FHIR input/)
})
