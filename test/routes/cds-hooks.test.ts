import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { parseConfig, type Config } from '../../src/config.js'
import { buildApp } from '../../src/app.js'
import { prefetchTemplates } from '../../src/cds-hooks/prefetch.js'
import { issueCodeFor } from '../../src/cds-hooks/service.js'
import { CDS_SERVICES } from '../../src/cds-hooks/services.js'
import { ISSUE_TYPE_BY_STATUS } from '../../src/schemas/cds-hooks-response.js'
import { cardUuid } from '../../src/cds-hooks/cards.js'
import { withoutMessage } from '../../src/http/loggable-error.js'
import { pointerToExpression, type CdsHooksInjection } from '../../src/routes/cds-hooks.js'
import { Discovery, OperationOutcome } from '../../src/schemas/cds-hooks-response.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { KeyValueStore } from '../../src/stores/store.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import {
  BEARER, EXAMPLE_DATE, HOOK_INSTANCE, PATIENT_ID, PUBLIC_BASE_URL, TEST_CLIENT, exampleCase, fakeCards, fakeMapper, fakeToCase, fakeVerifier,
  built,
  fullPrefetch, medicationRequest, orderSelectBody, patientViewBody
} from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

const PATIENT_VIEW = '/cds-services/her2-mbc-bone-mets'
const ORDER_SELECT = '/cds-services/her2-mbc-order-check'
const FEEDBACK = `${PATIENT_VIEW}/feedback`
const FIXED_NOW = new Date(`${EXAMPLE_DATE}T10:00:00.000Z`)

const jwtConfig = (env: Record<string, string> = {}): Config => parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL, CORS_ORIGINS: 'http://127.0.0.1:8080', ...env })

interface Harness {
  app: FastifyInstance
  mapper: ReturnType<typeof fakeMapper>
  cards: ReturnType<typeof fakeCards>
  verifier: ReturnType<typeof fakeVerifier>
  store: KeyValueStore
}

/** The app with the fakes of test/fixtures/cds-hooks.ts and the real knowledge base; JWT on unless the config says otherwise. */
async function harness (t: Test, setup: { config?: Config, mapper?: ReturnType<typeof fakeMapper>, toCase?: ReturnType<typeof fakeToCase>, inject?: CdsHooksInjection, logger?: unknown } = {}): Promise<Harness> {
  const mapper = setup.mapper ?? fakeMapper()
  const cards = fakeCards()
  const verifier = fakeVerifier()
  const store = new MemoryStore(10_000)
  const app = await buildTestApp(t, {
    ...(setup.logger === undefined ? {} : { logger: setup.logger as never }),
    cdsHooks: { mapResources: mapper.mapResources, toCase: setup.toCase ?? fakeToCase(), cards: cards.cards, verifier, store, now: () => FIXED_NOW, clients: [TEST_CLIENT], ...setup.inject }
  }, setup.config ?? jwtConfig())
  return { app, mapper, cards, verifier, store }
}

const post = async (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = BEARER): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> =>
  await app.inject({ method: 'POST', url, payload: payload as object, headers })

/** Every value of a JSON document, to check that none is empty (§3, §7.1). */
function emptyValues (value: unknown, path = ''): string[] {
  if (value === null || value === '') return [path]
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((item, i) => emptyValues(item, `${path}[${i}]`))
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    return entries.length === 0 ? [path] : entries.flatMap(([key, item]) => emptyValues(item, `${path}.${key}`))
  }
  return []
}

/** The OperationOutcome of an error response: its status, issue code and content type. */
function expectOutcome (t: Test, response: Awaited<ReturnType<FastifyInstance['inject']>>, status: number, code: string, contentType = 'application/json'): OperationOutcome {
  t.equal(response.statusCode, status, `status ${status}`)
  t.match(response.headers['content-type'], new RegExp(`^${contentType.replace('+', '\\+')}`), 'content type')
  const body = OperationOutcome.parse(response.json())
  t.ok(body.issue.length > 0)
  for (const issue of body.issue) t.equal(issue.code, code, `issue code ${code}`)
  t.notMatch(response.body, /at .*\.ts:\d+|Error:|node_modules/, 'no stack trace')
  return body
}

// ---------------------------------------------------------------------------------------------
// §3 Discovery

t.test('discovery: exactly the two services with the §3 fields, and no empty value', async (t) => {
  const { app } = await harness(t)
  const response = await app.inject({ method: 'GET', url: '/cds-services', headers: BEARER })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const body = Discovery.parse(response.json())
  t.strictSame(emptyValues(response.json()), [])
  t.strictSame(body.services.map((service) => [service.id, service.hook, service.hookVersion, service.version]), [
    ['her2-mbc-bone-mets', 'patient-view', '1.0', '2.0.1'],
    ['her2-mbc-order-check', 'order-select', '1.0', '2.0.1']
  ])
  t.strictSame(body.services.map((service) => service.title), [
    'HER2+ metastatic breast cancer with bone metastases: guideline options',
    'HER2+ metastatic breast cancer: medication safety check'
  ])
  const usage = 'Needs the prefetch keys, or fhirServer + fhirAuthorization with read access to Patient, Condition, Observation, MedicationRequest, MedicationAdministration, MedicationStatement, Medication and Procedure. Calls must carry a JWT.'
  for (const service of body.services) {
    t.strictSame(service.prefetch, prefetchTemplates(), `${service.id}: the same keys (§3)`)
    t.equal(service.usageRequirements, usage)
    t.strictSame(Object.keys(service).sort(), ['description', 'hook', 'hookVersion', 'id', 'prefetch', 'title', 'usageRequirements', 'version'])
    for (const topic of [/decision support, not orders/i, /oncologists/, /adults with HER2-positive metastatic breast cancer with bone, including vertebral, metastases/, /not for emergencies/i, /each card names the FHIR data it used/i]) {
      t.match(service.description, topic, `${service.id} ${String(topic)}`)
    }
  }
  t.match(body.services[0]?.description, /not orders/)
  for (const topic of [/T-DXd/, /ILD|interstitial lung disease/, /LVEF/, /pregnancy/, /zoledronic acid or capecitabine at creatinine clearance below 30/, /DPYD/, /ONJ|osteonecrosis of the jaw/]) {
    t.match(body.services[1]?.description, topic, String(topic))
  }
})

t.test('discovery needs a JWT by default (CDS_DISCOVERY_AUTH=required), audience /cds-services', async (t) => {
  const { app, verifier } = await harness(t)
  const denied = await app.inject({ method: 'GET', url: '/cds-services' })
  const body = expectOutcome(t, denied, 401, 'security')
  t.strictSame(body.issue, [{ severity: 'error', code: 'security' }], 'no details, no diagnostics')
  t.equal(denied.headers['www-authenticate'], 'Bearer')
  t.equal((await app.inject({ method: 'GET', url: '/cds-services', headers: BEARER })).statusCode, 200)
  t.strictSame(verifier.audiences, [`${PUBLIC_BASE_URL}/cds-services`, `${PUBLIC_BASE_URL}/cds-services`])
})

t.test('CDS_DISCOVERY_AUTH=optional: no JWT needed, but a JWT that is present is verified', async (t) => {
  const { app, verifier } = await harness(t, { config: jwtConfig({ CDS_DISCOVERY_AUTH: 'optional' }) })
  t.equal((await app.inject({ method: 'GET', url: '/cds-services' })).statusCode, 200)
  t.strictSame(verifier.audiences, [])
  expectOutcome(t, await app.inject({ method: 'GET', url: '/cds-services', headers: { authorization: 'Bearer forged' } }), 401, 'security')
  t.equal((await app.inject({ method: 'GET', url: '/cds-services', headers: BEARER })).statusCode, 200)
  // The services still need one.
  expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody(), {}), 401, 'security')
})

t.test('with CDS_HOOKS_JWT=off no JWT is asked for', async (t) => {
  const { app, verifier } = await harness(t, { config: parseConfig({}) })
  t.equal((await app.inject({ method: 'GET', url: '/cds-services' })).statusCode, 200)
  t.equal((await post(app, PATIENT_VIEW, patientViewBody(), {})).statusCode, 200)
  t.strictSame(verifier.audiences, [])
})

t.test('CDS_HOOKS_JWT=on needs PUBLIC_BASE_URL', async (t) => {
  await t.rejects(buildTestApp(t, { cdsHooks: { verifier: fakeVerifier() } }, parseConfig({ CDS_HOOKS_JWT: 'on' })), /PUBLIC_BASE_URL/)
})

// ---------------------------------------------------------------------------------------------
// §10.1: JWT outcomes on every route

t.test('each route verifies the JWT with its own audience (§10.1 step 5)', async (t) => {
  const { app, verifier } = await harness(t)
  await post(app, PATIENT_VIEW, patientViewBody())
  await post(app, ORDER_SELECT, orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')]))
  await post(app, FEEDBACK, { feedback: [{ card: HOOK_INSTANCE, outcome: 'overridden', outcomeTimestamp: '2026-01-01T00:00:00Z' }] })
  await post(app, `${ORDER_SELECT}/feedback`, { feedback: [{ card: HOOK_INSTANCE, outcome: 'overridden', outcomeTimestamp: '2026-01-01T00:00:00Z' }] })
  t.strictSame(verifier.audiences, [
    `${PUBLIC_BASE_URL}${PATIENT_VIEW}`, `${PUBLIC_BASE_URL}${ORDER_SELECT}`, `${PUBLIC_BASE_URL}${FEEDBACK}`, `${PUBLIC_BASE_URL}${ORDER_SELECT}/feedback`
  ])
})

t.test('401 security (no details) with WWW-Authenticate: Bearer on a rejected token, before the body is read', async (t) => {
  const { app, mapper } = await harness(t)
  for (const [url, payload] of [[PATIENT_VIEW, patientViewBody()], [ORDER_SELECT, {}], [FEEDBACK, 'not json']] as const) {
    const response = await app.inject({ method: 'POST', url, payload: payload as string, headers: { authorization: 'Bearer forged', 'content-type': 'application/json' } })
    const body = expectOutcome(t, response, 401, 'security')
    t.strictSame(body.issue, [{ severity: 'error', code: 'security' }], url)
    t.equal(response.headers['www-authenticate'], 'Bearer', url)
  }
  expectOutcome(t, await app.inject({ method: 'POST', url: PATIENT_VIEW, payload: patientViewBody(), headers: { authorization: ['Bearer good', 'Bearer good'] as unknown as string } }), 401, 'security')
  t.equal(mapper.calls.length, 0)
})

t.test('a full replay cache is a 503 transient, never an unchecked accept', async (t) => {
  const { app, mapper } = await harness(t)
  const response = await post(app, PATIENT_VIEW, patientViewBody(), { authorization: 'Bearer full' })
  expectOutcome(t, response, 503, 'transient')
  t.equal(mapper.calls.length, 0)
})

t.test('an unexpected verifier failure is a 500 exception', async (t) => {
  const { app } = await harness(t, { inject: { verifier: { verify: async () => { throw new Error('boom at secret place') } } } })
  const response = await post(app, PATIENT_VIEW, patientViewBody())
  expectOutcome(t, response, 500, 'exception')
  t.notMatch(response.body, /boom|secret/)
})

// ---------------------------------------------------------------------------------------------
// §4.4, in its order

t.test('§4.4 otherwise: evaluate with the Recommender; one card per non-info recommendation, the records kept for feedback', async (t) => {
  const { app, mapper, cards, store } = await harness(t)
  const response = await post(app, PATIENT_VIEW, patientViewBody())
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const body = response.json() as { cards: Array<{ uuid: string, summary: string }> }
  const [, input] = cards.calls.find(([builder]) => builder === 'patientViewCards') as [string, { response: { recommendations: Array<{ code: string, strength: string, targets?: string[] }> }, hookInstance: string, kb: unknown, mapping: unknown }]
  t.equal(input.hookInstance, HOOK_INSTANCE)
  t.equal(input.kb, knowledgeBase)
  const shown = input.response.recommendations.filter((item) => item.strength !== 'info')
  t.ok(shown.length > 0)
  t.equal(body.cards.length, shown.length)
  t.equal(mapper.calls[0]?.patientId, PATIENT_ID)
  // Every card's record is in the store: service, hookInstance, code and targets.
  const first = shown[0] as { code: string, targets?: string[] }
  const record = JSON.parse(await store.get(`cds:card:${cardUuid(HOOK_INSTANCE, first.code, first.targets ?? [])}`) as string)
  t.strictSame(record, { service: 'her2-mbc-bone-mets', hookInstance: HOOK_INSTANCE, code: first.code, targets: first.targets ?? [] })
})

t.test('the mapper gets every prefetched resource; evaluationDate is EVALUATION_DATE, else the clock\'s UTC date', async (t) => {
  const fixed = await harness(t, { config: jwtConfig({ EVALUATION_DATE: '2026-01-05' }) })
  const observation = { resourceType: 'Observation', id: 'o1', status: 'final', subject: { reference: `Patient/${PATIENT_ID}` } }
  await post(fixed.app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ ecog: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: observation }] } }) }))
  t.equal(fixed.mapper.calls[0]?.options.evaluationDate, '2026-01-05')
  t.strictSame(fixed.mapper.calls[0]?.resources, [{ resourceType: 'Patient', id: PATIENT_ID }, observation])
  const clock = await harness(t)
  await post(clock.app, PATIENT_VIEW, patientViewBody())
  t.equal(clock.mapper.calls[0]?.options.evaluationDate, EXAMPLE_DATE, 'the injected clock\'s date')
  t.equal(FIXED_NOW.toISOString().slice(0, 10), EXAMPLE_DATE)
})

t.test('jurisdiction: the verified issuer\'s, else other', async (t) => {
  const us = await harness(t)
  await post(us.app, PATIENT_VIEW, patientViewBody())
  t.equal(us.mapper.calls[0]?.options.jurisdiction, 'US')
  const odd = await harness(t, { inject: { verifier: fakeVerifier({ ...TEST_CLIENT, jurisdiction: 'Mars' as 'other' }) } })
  await post(odd.app, PATIENT_VIEW, patientViewBody())
  t.equal(odd.mapper.calls[0]?.options.jurisdiction, 'other')
  const none = await harness(t, { inject: { verifier: fakeVerifier({ ...TEST_CLIENT, jurisdiction: undefined }) } })
  await post(none.app, PATIENT_VIEW, patientViewBody())
  t.equal(none.mapper.calls[0]?.options.jurisdiction, 'other')
  const off = await harness(t, { config: parseConfig({}) })
  await post(off.app, PATIENT_VIEW, patientViewBody(), {})
  t.equal(off.mapper.calls[0]?.options.jurisdiction, 'other', 'no verified issuer')
})

t.test('§4.4 row 1: a required key unavailable → 412 naming the keys, shaped like the spec\'s example', async (t) => {
  const { app, mapper } = await harness(t)
  const response = await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ markers: undefined, procedures: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] } }) }))
  const body = expectOutcome(t, response, 412, 'processing')
  t.equal(body.issue.length, 1)
  t.equal(body.issue[0]?.diagnostics, 'prefetch keys unavailable: markers, procedures')
  t.strictSame(body.issue[0]?.expression, ['prefetch.markers', 'prefetch.procedures'])
  t.notMatch(response.body, new RegExp(PATIENT_ID))
  t.equal(mapper.calls.length, 0)
})

t.test('the 412 has the shape of the spec\'s operation-outcome-412.json', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const example = readThirdPartyJson<{ issue: Array<Record<string, unknown>> } & Record<string, unknown>>('cds-hooks-spec/examples/operation-outcome-412.json')
  const { app } = await harness(t)
  const ours = (await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ ecog: undefined }) }))).json() as typeof example
  t.equal(ours.resourceType, example.resourceType)
  t.strictSame(Object.keys(ours.issue[0] as object).sort(), Object.keys(example.issue[0] as object).sort())
  t.equal(ours.issue[0]?.severity, example.issue[0]?.severity)
  t.equal(ours.issue[0]?.code, example.issue[0]?.code)
})

t.test('§4.4: every required key is named when missing; an optional one never makes a 412', async (t) => {
  const { app } = await harness(t)
  for (const key of ['patient', 'conditions', 'markers', 'ecog', 'diseaseStatus', 'medicationRequests', 'procedures']) {
    const body = (await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ [key]: undefined }) }))).json() as OperationOutcome
    t.equal(body.issue[0]?.diagnostics, `prefetch keys unavailable: ${key}`, key)
  }
  for (const key of ['medicationAdministrations', 'medicationStatements', 'cardiac', 'renal', 'weight', 'calcium', 'vitaminD', 'pregnancy', 'staging', 'facts']) {
    t.equal((await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ [key]: undefined }) }))).statusCode, 200, key)
  }
})

t.test('§4.4 row 2: patient null → 412 "patient not found"', async (t) => {
  const { app, mapper } = await harness(t)
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ patient: null }) })), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'patient not found')
  t.equal(mapper.calls.length, 0)
})

t.test('§4.2: a patient value of another patient is unavailable (412 naming patient)', async (t) => {
  const { app } = await harness(t)
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ patient: { resourceType: 'Patient', id: 'someone-else' } }) })), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'prefetch keys unavailable: patient')
})

t.test('a structural error of the mapper (no usable Patient) is a 412 "patient not found"', async (t) => {
  const { app } = await harness(t, { mapper: fakeMapper({ structuralError: true }) })
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody()), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'patient not found')
})

t.test('§4.4 row 3: a deceased patient → {"cards": []}, for both hooks', async (t) => {
  const { app, cards } = await harness(t, { mapper: fakeMapper({ deceased: true }) })
  for (const [url, body] of [[PATIENT_VIEW, patientViewBody()], [ORDER_SELECT, orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')])]] as const) {
    const response = await post(app, url, body)
    t.equal(response.statusCode, 200)
    t.equal(response.body, '{"cards":[]}')
  }
  t.strictSame(cards.calls, [])
})

t.test('§4.4 row 4: no primary breast cancer → {"cards": []}', async (t) => {
  const { app, cards } = await harness(t, { mapper: fakeMapper({ hasPrimaryBreastCancer: false }) })
  t.equal((await post(app, PATIENT_VIEW, patientViewBody())).body, '{"cards":[]}')
  t.strictSame(cards.calls, [])
})

t.test('§4.4 row 5: an incomplete or inconsistent case → 200 with the data card (order-select: §7.4)', async (t) => {
  for (const kind of ['case-incomplete', 'case-inconsistent'] as const) {
    const { app, cards, store } = await harness(t, { toCase: fakeToCase(kind) })
    const response = await post(app, PATIENT_VIEW, patientViewBody())
    t.equal(response.statusCode, 200, kind)
    const body = response.json() as { cards: Array<{ uuid: string }> }
    t.strictSame(body.cards.map((card) => card.uuid), [cardUuid(HOOK_INSTANCE, 'CASE-INCOMPLETE', [])])
    const [builder, input] = cards.calls[0] as [string, { caseResult: { kind: string } }]
    t.equal(builder, 'incompleteCard')
    t.equal(input.caseResult.kind, kind)
    t.match(JSON.parse(await store.get(`cds:card:${body.cards[0]?.uuid ?? ''}`) as string), { code: 'CASE-INCOMPLETE' })
    const order = await post(app, ORDER_SELECT, orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')]))
    t.equal(order.statusCode, 200)
    const [orderBuilder, orderInput] = cards.calls[1] as [string, { caseResult: { ok: boolean }, response?: unknown }]
    t.equal(orderBuilder, 'orderSelectCards')
    t.equal(orderInput.caseResult.ok, false)
    t.equal(orderInput.response, undefined)
  }
})

t.test('a real incomplete case (no ECOG) reaches the data card through toCase', async (t) => {
  const { patient, ...rest } = exampleCase() as { patient: Record<string, unknown> }
  const { ecog: _ecog, ...withoutEcog } = patient
  const { app, cards } = await harness(t, { mapper: fakeMapper({ case: { ...rest, patient: withoutEcog } }) })
  t.equal((await post(app, PATIENT_VIEW, patientViewBody())).statusCode, 200)
  t.equal(cards.calls[0]?.[0], 'incompleteCard')
})

// ---------------------------------------------------------------------------------------------
// §4.2 warnings that reach the cards

const warningsGiven = (calls: ReturnType<typeof fakeCards>['calls']): string[] =>
  ((calls[0]?.[1] as { mapping: { warnings: Array<{ code: string }> } }).mapping.warnings).map((warning) => warning.code)

t.test('an optional key unavailable adds FHIR_DATA_UNAVAILABLE; a malformed one FHIR_PREFETCH_MALFORMED too', async (t) => {
  const mapper = fakeMapper({ warnings: [{ code: 'FHIR_UNDATED', message: 'from the mapper' }] })
  const { app, cards } = await harness(t, { mapper })
  const response = await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ cardiac: undefined, renal: 'Observation/1', calcium: { resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] } }) }))
  t.equal(response.statusCode, 200)
  t.strictSame(warningsGiven(cards.calls), ['FHIR_UNDATED', 'FHIR_PREFETCH_MALFORMED', 'FHIR_DATA_UNAVAILABLE', 'FHIR_DATA_UNAVAILABLE', 'FHIR_DATA_UNAVAILABLE'])
  const messages = (cards.calls[0]?.[1] as { mapping: { warnings: Array<{ message: string }> } }).mapping.warnings.map((warning) => warning.message).join(' ')
  for (const key of ['cardiac', 'renal', 'calcium']) t.match(messages, `"${key}"`)
})

t.test('a searchset with a next link and no fetch access: the key is partial, counts as available, FHIR_DATA_PARTIAL', async (t) => {
  const { app, cards, mapper } = await harness(t)
  const markers = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'm1' } }], link: [{ relation: 'next', url: 'https://ehr.example.org/fhir/Observation?page=2' }] }
  const response = await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ markers }) }))
  t.equal(response.statusCode, 200)
  t.strictSame(warningsGiven(cards.calls), ['FHIR_DATA_PARTIAL'])
  t.ok(mapper.calls[0]?.resources.some((resource) => resource.id === 'm1'))
})

// ---------------------------------------------------------------------------------------------
// §4.3 the fhirServer fallback, end to end (a local node:http FHIR server)

async function localFhir (t: Test, token: string, patientId = PATIENT_ID): Promise<{ base: string, seen: Array<{ url: string, authorization?: string }> }> {
  const seen: Array<{ url: string, authorization?: string }> = []
  const server = createServer((request, response) => {
    seen.push({ url: request.url as string, ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }) })
    if (request.headers.authorization !== `Bearer ${token}`) { response.writeHead(401).end(); return }
    const path = (request.url as string).split('?')[0] as string
    const body = path === `/fhir/Patient/${patientId}`
      ? { resourceType: 'Patient', id: patientId }
      : path === '/fhir/Medication/med-1'
        ? { resourceType: 'Medication', id: 'med-1' }
        : {
            resourceType: 'Bundle',
            type: 'searchset',
            entry: path === '/fhir/MedicationRequest'
              ? [{ resource: { resourceType: 'MedicationRequest', id: 'mr-9', status: 'active', subject: { reference: `Patient/${patientId}` }, medicationReference: { reference: 'Medication/med-1' } } }]
              : []
          }
    response.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`, seen }
}

t.test('no prefetch, fhirServer on the issuer\'s allow-list: every key is fetched with the token, and the Medications behind references', async (t) => {
  const token = 'fhir-token-abc'
  const fhir = await localFhir(t, token)
  const client = { ...TEST_CLIENT, fhirServers: [`${fhir.base}/`] }
  const { app, mapper, cards } = await harness(t, { inject: { verifier: fakeVerifier(client) } })
  const fhirAuthorization = { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' }
  const response = await post(app, PATIENT_VIEW, patientViewBody({ prefetch: undefined, fhirServer: fhir.base, fhirAuthorization }))
  t.equal(response.statusCode, 200)
  t.equal(fhir.seen.length, 18, '17 keys and one Medication read')
  t.ok(fhir.seen.every((seen) => seen.authorization === `Bearer ${token}`))
  t.ok(fhir.seen.some((seen) => seen.url === '/fhir/Medication/med-1'))
  t.strictSame(mapper.calls[0]?.resources.map((resource) => `${resource.resourceType}/${resource.id ?? ''}`), ['Patient/pat-1', 'MedicationRequest/mr-9', 'Medication/med-1'])
  t.strictSame(warningsGiven(cards.calls), [])
})

t.test('markers as a searchset with a next link: followed under the same base; a foreign base is not followed (partial)', async (t) => {
  const token = 'tok-next'
  const fhir = await localFhir(t, token)
  const foreign = await localFhir(t, token)
  const client = { ...TEST_CLIENT, fhirServers: [fhir.base] }
  const { stream, lines } = captureLogs()
  const { app, cards, mapper } = await harness(t, { logger: { level: 'info', stream }, inject: { verifier: fakeVerifier(client) } })
  const fhirAuthorization = { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'cds' }
  const markers = (next: string): unknown => ({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'page-1' } }], link: [{ relation: 'next', url: next }] })
  t.equal((await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ markers: markers(`${fhir.base}/Observation?page=2`) }), fhirServer: fhir.base, fhirAuthorization }))).statusCode, 200)
  t.strictSame(fhir.seen, [{ url: '/fhir/Observation?page=2', authorization: `Bearer ${token}` }])
  t.strictSame(warningsGiven(cards.calls), [], 'complete: no FHIR_DATA_PARTIAL')
  t.ok(mapper.calls[0]?.resources.some((resource) => resource.id === 'page-1'))
  t.equal((await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ markers: markers(`${foreign.base}/Observation?page=2`) }), fhirServer: fhir.base, fhirAuthorization }))).statusCode, 200)
  t.equal(foreign.seen.length, 0, 'the foreign host never sees the token')
  t.strictSame(warningsGiven([cards.calls[1] as never]), ['FHIR_DATA_PARTIAL'])
  const summaries = lines.filter((line) => line.msg === 'request completed')
  t.match(summaries[1], { data: { partial: ['markers'], fetch: { notes: ['fhir_next_link_foreign'] } } })
})

t.test('a fhirServer not on the allow-list gets no fetch: a missing required key stays a 412', async (t) => {
  const fhir = await localFhir(t, 'tok')
  const { app } = await harness(t)
  const fhirAuthorization = { access_token: 'tok', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'cds' }
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ markers: undefined }), fhirServer: fhir.base, fhirAuthorization })), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'prefetch keys unavailable: markers')
  t.equal(fhir.seen.length, 0)
})

t.test('a required key the server refuses (401) → 412', async (t) => {
  const fhir = await localFhir(t, 'right-token')
  const client = { ...TEST_CLIENT, fhirServers: [fhir.base] }
  const { app } = await harness(t, { inject: { verifier: fakeVerifier(client) } })
  const fhirAuthorization = { access_token: 'wrong-token', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'cds' }
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ ecog: undefined }), fhirServer: fhir.base, fhirAuthorization })), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'prefetch keys unavailable: ecog')
  t.equal(fhir.seen.length, 1, 'only the missing key is fetched, once, never retried')
})

// ---------------------------------------------------------------------------------------------
// §2, §9 request errors

t.test('400 invalid with the element in expression: hook mismatch, patientId, selections, cds-r-1', async (t) => {
  const { app, mapper } = await harness(t)
  const cases: Array<[string, string, unknown, string]> = [
    ['hook mismatch', PATIENT_VIEW, patientViewBody({ hook: 'order-select' }), 'hook'],
    ['hook mismatch (order)', ORDER_SELECT, { ...orderSelectBody(['MedicationRequest/a'], []), hook: 'patient-view' }, 'hook'],
    ['patientId', PATIENT_VIEW, patientViewBody({ context: { userId: 'u', patientId: 'a/b' } }), 'context.patientId'],
    ['userId', PATIENT_VIEW, patientViewBody({ context: { patientId: PATIENT_ID } }), 'context.userId'],
    ['hookInstance', PATIENT_VIEW, patientViewBody({ hookInstance: '42' }), 'hookInstance'],
    ['ord-1', ORDER_SELECT, orderSelectBody(['MedicationRequest'], []), 'context.selections[0]'],
    ['cds-r-1', PATIENT_VIEW, patientViewBody({ fhirAuthorization: { access_token: 'a', token_type: 'Bearer', expires_in: 1, scope: 's', subject: 'c' } }), 'fhirServer'],
    ['fhirAuthorization.patient', PATIENT_VIEW, patientViewBody({ fhirServer: 'https://x.org/fhir', fhirAuthorization: { access_token: 'a', token_type: 'Bearer', expires_in: 1, scope: 's', subject: 'c', patient: 'other' } }), 'fhirAuthorization.patient'],
    ['prefetch not an object', PATIENT_VIEW, patientViewBody({ prefetch: [1] }), 'prefetch']
  ]
  for (const [name, url, payload, expression] of cases) {
    const response = await post(app, url, payload)
    const body = expectOutcome(t, response, 400, 'invalid')
    t.strictSame(body.issue.map((issue) => issue.expression?.[0]), [expression], name)
    t.match(body.issue[0]?.diagnostics, new RegExp(`^${expression.replace(/[.[\]]/g, '\\$&')} `), name)
    t.notMatch(response.body, /secret|a\/b/, 'no echo of the value')
  }
  t.equal(mapper.calls.length, 0)
})

t.test('unknown members of the request are ignored, never a 400 (§1)', async (t) => {
  const { app } = await harness(t)
  const response = await post(app, PATIENT_VIEW, patientViewBody({ extension: { 'com.example': true }, fhirServer: 'https://ehr.example.org/fhir', context: { userId: 'u', patientId: PATIENT_ID, encounterId: 'e' } }))
  t.equal(response.statusCode, 200)
})

t.test('the body must be a JSON object: invalid JSON and an empty body are 400', async (t) => {
  const { app } = await harness(t)
  expectOutcome(t, await app.inject({ method: 'POST', url: PATIENT_VIEW, payload: '{"hook":', headers: { ...BEARER, 'content-type': 'application/json' } }), 400, 'invalid')
  expectOutcome(t, await app.inject({ method: 'POST', url: PATIENT_VIEW, payload: '', headers: { ...BEARER, 'content-type': 'application/json' } }), 400, 'invalid')
  const none = expectOutcome(t, await app.inject({ method: 'POST', url: PATIENT_VIEW, headers: BEARER }), 400, 'invalid')
  t.equal(none.issue[0]?.expression, undefined, 'the whole body has no expression')
})

t.test('content types: application/json and application/fhir+json, with a charset; anything else 415 not-supported', async (t) => {
  const { app } = await harness(t)
  const payload = JSON.stringify(patientViewBody())
  for (const type of ['application/json', 'application/json; charset=utf-8', 'application/fhir+json', 'application/fhir+json; charset=UTF-8']) {
    t.equal((await app.inject({ method: 'POST', url: PATIENT_VIEW, payload, headers: { ...BEARER, 'content-type': type } })).statusCode, 200, type)
  }
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
    expectOutcome(t, await app.inject({ method: 'POST', url: PATIENT_VIEW, payload, headers: { ...BEARER, 'content-type': type } }), 415, 'not-supported')
  }
})

t.test('413 too-costly: over 5 MiB on a service, over 64 KiB on feedback, over 1 MiB on an unknown path under the prefix', async (t) => {
  const { app } = await harness(t)
  const padding = (bytes: number): string => 'x'.repeat(bytes)
  t.equal((await post(app, PATIENT_VIEW, patientViewBody({ padding: padding(4 * 1024 * 1024) }))).statusCode, 200, '4 MiB passes')
  expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ padding: padding(5 * 1024 * 1024) })), 413, 'too-costly')
  const item = { card: HOOK_INSTANCE, outcome: 'overridden', outcomeTimestamp: '2026-01-01T00:00:00Z' }
  expectOutcome(t, await post(app, FEEDBACK, { feedback: [{ ...item, padding: padding(64 * 1024) }] }), 413, 'too-costly')
  expectOutcome(t, await post(app, '/cds-services/unknown', { padding: padding(1024 * 1024) }), 413, 'too-costly')
})

t.test('404 not-found for an unknown service (and its feedback) under the prefix', async (t) => {
  const { app } = await harness(t)
  for (const url of ['/cds-services/unknown', '/cds-services/unknown/feedback', '/cds-services/her2-mbc-bone-mets/x', '/cds-services/']) {
    expectOutcome(t, await post(app, url, patientViewBody()), 404, 'not-found')
  }
  expectOutcome(t, await app.inject({ method: 'GET', url: '/cds-services/unknown' }), 404, 'not-found')
  // Outside the prefix, errors stay problem+json (§9).
  t.match((await app.inject({ method: 'GET', url: '/cds-servicesX' })).headers['content-type'], /^application\/problem\+json/)
})

t.test('405 not-supported with Allow for a known path and the wrong method', async (t) => {
  const { app } = await harness(t)
  const cases: Array<[string, string, string]> = [
    ['GET', PATIENT_VIEW, 'POST, OPTIONS'],
    ['PUT', ORDER_SELECT, 'POST, OPTIONS'],
    ['GET', FEEDBACK, 'POST, OPTIONS'],
    ['POST', '/cds-services', 'GET, OPTIONS'],
    ['DELETE', '/cds-services', 'GET, OPTIONS']
  ]
  for (const [method, url, allow] of cases) {
    const response = await app.inject({ method: method as 'GET', url })
    expectOutcome(t, response, 405, 'not-supported')
    t.equal(response.headers.allow, allow, `${method} ${url}`)
  }
})

t.test('OperationOutcomes are application/fhir+json when Accept asks for it', async (t) => {
  const { app } = await harness(t)
  const fhir = { accept: 'application/fhir+json' }
  expectOutcome(t, await app.inject({ method: 'GET', url: '/cds-services/nope', headers: fhir }), 404, 'not-found', 'application/fhir+json')
  expectOutcome(t, await app.inject({ method: 'GET', url: '/cds-services', headers: { accept: 'application/json, application/fhir+json;q=0.5' } }), 401, 'security', 'application/fhir+json')
  expectOutcome(t, await app.inject({ method: 'GET', url: '/cds-services', headers: { accept: 'application/fhir+json;q=0' } }), 401, 'security', 'application/json')
  expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ patient: null }) }), { ...BEARER, ...fhir }), 412, 'processing', 'application/fhir+json')
  expectOutcome(t, await post(app, PATIENT_VIEW, { hook: 'x' }, { ...BEARER, ...fhir }), 400, 'invalid', 'application/fhir+json')
  // A successful response stays application/json (§2).
  t.match((await post(app, PATIENT_VIEW, patientViewBody(), { ...BEARER, ...fhir })).headers['content-type'], /^application\/json/)
})

t.test('500 exception: nothing of the error leaves the service, nor its message the log; 429 throttled with Retry-After; another 4xx is invalid', async (t) => {
  const { stream, lines } = captureLogs()
  const failing = await harness(t, { logger: { level: 'info', stream }, mapper: fakeMapper({ throws: new Error('cannot read Observation/secret-123 of patient pat-1') }) })
  const response = await post(failing.app, PATIENT_VIEW, patientViewBody())
  const body = expectOutcome(t, response, 500, 'exception')
  t.notMatch(response.body, /secret|pat-1|Observation/)
  t.equal(body.issue.length, 1)
  const logged = lines.find((line) => line.msg === 'unhandled error') as { err: { type: string, stack: string } }
  t.equal(logged.err.type, 'Error')
  t.match(logged.err.stack, /^\s+at /)
  t.notOk(JSON.stringify(lines).includes('secret-123'), 'the message is not logged')
  t.strictSame(withoutMessage(Object.assign(new Error('x'), { stack: undefined, code: 'E_X' }) as never), { type: 'Error', code: 'E_X' })
  const throttled = await harness(t, { mapper: fakeMapper({ throws: Object.assign(new Error('slow down'), { statusCode: 429 }) }) })
  const limited = await post(throttled.app, PATIENT_VIEW, patientViewBody())
  expectOutcome(t, limited, 429, 'throttled')
  t.equal(limited.headers['retry-after'], '1')
  const gone = await harness(t, { mapper: fakeMapper({ throws: Object.assign(new Error('gone'), { statusCode: 410 }) }) })
  expectOutcome(t, await post(gone.app, PATIENT_VIEW, patientViewBody()), 410, 'invalid')
  const unavailable = await harness(t, { mapper: fakeMapper({ throws: Object.assign(new Error('x'), { statusCode: 503 }) }) })
  expectOutcome(t, await post(unavailable.app, PATIENT_VIEW, patientViewBody()), 503, 'transient')
  const odd = await harness(t, { mapper: fakeMapper({ throws: Object.assign(new Error('x'), { statusCode: 302 }) }) })
  expectOutcome(t, await post(odd.app, PATIENT_VIEW, patientViewBody()), 500, 'exception')
})

t.test('a 20 KiB header gets 431 from Node, never a 500 (§10.1 step 1)', async (t) => {
  const { app } = await harness(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const status = await new Promise<number>((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: '/cds-services', headers: { authorization: `Bearer ${'a'.repeat(20 * 1024)}` } }, (response) => {
      response.resume()
      resolve(response.statusCode as number)
    })
    request.on('error', reject)
    request.end()
  })
  t.equal(status, 431)
})

t.test('pointerToExpression: JSON pointers as FHIRPath-like element paths', async (t) => {
  t.equal(pointerToExpression('/context/patientId'), 'context.patientId')
  t.equal(pointerToExpression('/context/selections/0'), 'context.selections[0]')
  t.equal(pointerToExpression('/feedback/2/overrideReason/reason/code'), 'feedback[2].overrideReason.reason.code')
  t.equal(pointerToExpression('/prefetch/a~1b~0c'), 'prefetch.a/b~c')
  t.equal(pointerToExpression(''), '')
})

// ---------------------------------------------------------------------------------------------
// §10.4 CORS

t.test('preflight: answered without a JWT; a listed origin is echoed with the §10.4 headers', async (t) => {
  const { app, verifier } = await harness(t)
  for (const url of ['/cds-services', PATIENT_VIEW, FEEDBACK, '/cds-services/anything']) {
    const response = await app.inject({ method: 'OPTIONS', url, headers: { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'POST' } })
    t.equal(response.statusCode, 204, url)
    t.equal(response.headers['access-control-allow-origin'], 'http://127.0.0.1:8080')
    t.equal(response.headers['access-control-allow-methods'], 'GET, POST, OPTIONS')
    t.equal(response.headers['access-control-allow-headers'], 'Authorization, Content-Type')
    t.equal(response.headers['access-control-max-age'], '600')
    t.equal(response.headers['access-control-allow-credentials'], undefined, 'no credentials')
  }
  t.strictSame(verifier.audiences, [])
})

t.test('preflight from an origin not listed (exact match): no CORS headers', async (t) => {
  const { app } = await harness(t)
  for (const origin of ['http://127.0.0.1:8081', 'http://127.0.0.1:8080/', 'https://127.0.0.1:8080', 'null']) {
    const response = await app.inject({ method: 'OPTIONS', url: PATIENT_VIEW, headers: { origin } })
    t.equal(response.statusCode, 204)
    t.equal(response.headers['access-control-allow-origin'], undefined, origin)
    t.equal(response.headers['access-control-allow-methods'], undefined, origin)
  }
  const none = await harness(t, { config: parseConfig({}) })
  t.equal((await none.app.inject({ method: 'OPTIONS', url: PATIENT_VIEW, headers: { origin: 'http://127.0.0.1:8080' } })).headers['access-control-allow-origin'], undefined, 'none by default')
})

t.test('a listed origin is echoed on the responses too, errors included', async (t) => {
  const { app } = await harness(t)
  const origin = { origin: 'http://127.0.0.1:8080' }
  const ok = await post(app, PATIENT_VIEW, patientViewBody(), { ...BEARER, ...origin })
  t.equal(ok.headers['access-control-allow-origin'], 'http://127.0.0.1:8080')
  t.match(ok.headers.vary, /Origin/)
  t.equal((await app.inject({ method: 'GET', url: '/cds-services', headers: origin })).headers['access-control-allow-origin'], 'http://127.0.0.1:8080', 'on a 401')
  t.equal((await post(app, PATIENT_VIEW, patientViewBody(), { ...BEARER, origin: 'http://evil.example' })).headers['access-control-allow-origin'], undefined)
  // /v1 has no CORS.
  t.equal((await app.inject({ method: 'GET', url: '/health/live', headers: origin })).headers['access-control-allow-origin'], undefined)
})

// ---------------------------------------------------------------------------------------------
// §4.5 order-select

t.test('§4.5: only selected MedicationRequests of draftOrders, of this patient, are checked; the rest are counted', async (t) => {
  const { logger, lines } = (() => { const captured = captureLogs(); return { logger: { level: 'info', stream: captured.stream }, lines: captured.lines } })()
  const { app, cards, store } = await harness(t, { logger })
  const nutrition = { resourceType: 'NutritionOrder', id: 'diet-1', patient: { reference: `Patient/${PATIENT_ID}` } }
  const drafts = [medicationRequest('mr-1'), medicationRequest('mr-2'), medicationRequest('mr-other', 'Patient/someone-else'), nutrition, { resourceType: 'MedicationRequest', id: 'mr-nosubject' }]
  const selections = ['MedicationRequest/mr-1', 'NutritionOrder/diet-1', 'MedicationRequest/missing', 'MedicationRequest/mr-other', 'MedicationRequest/mr-nosubject', 'MedicationRequest/mr-1']
  const response = await post(app, ORDER_SELECT, orderSelectBody(selections, drafts))
  t.equal(response.statusCode, 200)
  const [, input] = cards.calls.find(([builder]) => builder === 'orderSelectCards') as [string, { selections: Array<{ selection: string }>, draftOrders: unknown[], response: unknown, caseResult: { ok: boolean } }]
  t.strictSame(input.selections.map((order) => order.selection), ['MedicationRequest/mr-1'], 'mr-2 is a draft but not selected')
  t.equal(input.draftOrders.length, drafts.length, 'the whole draftOrders for Medication lookups')
  t.ok(input.caseResult.ok)
  t.ok(input.response !== undefined)
  const body = response.json() as { cards: Array<{ uuid: string }> }
  t.equal(body.cards.length, 1)
  // The order card's record names its code and its selection.
  t.strictSame(JSON.parse(await store.get(`cds:card:${body.cards[0]?.uuid ?? ''}`) as string), { service: 'her2-mbc-order-check', hookInstance: HOOK_INSTANCE, code: 'CI-06b', targets: ['MedicationRequest/mr-1'] })
  const summary = lines.find((line) => line.msg === 'request completed' && line.service === 'her2-mbc-order-check')
  t.strictSame(summary?.selections, { checked: 1, otherType: 1, notFound: 1, otherPatient: 2 })
})

t.test('§4.5: draft orders never reach the mapper (they are context, not prefetch)', async (t) => {
  const { app, mapper } = await harness(t)
  await post(app, ORDER_SELECT, orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')]))
  t.notOk(mapper.calls[0]?.resources.some((resource) => resource.id === 'mr-1'))
})

t.test('the hook library order-select context and the Inferno request (no draftOrders.type) are answered', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const { app, cards } = await harness(t)
  const { context } = readThirdPartyJson<{ context: { patientId: string } }>('cds-hooks-library/order-select.r4.context.json')
  const library = await post(app, ORDER_SELECT, { hook: 'order-select', hookInstance: HOOK_INSTANCE, context, prefetch: fullPrefetch({}, context.patientId) })
  t.equal(library.statusCode, 200)
  const [, input] = cards.calls.at(-1) as [string, { selections: Array<{ selection: string }> }]
  t.strictSame(input.selections.map((order) => order.selection), ['MedicationRequest/smart-MedicationRequest-103'])
  // Inferno's fixture has no prefetch and a fhirServer we may not query: 412. Its draft order's subject is another patient than context.patientId.
  const inferno = readThirdPartyJson<{ context: { patientId: string } }>('inferno-crd/order_select_hook_request.json')
  expectOutcome(t, await post(app, ORDER_SELECT, inferno), 412, 'processing')
  t.equal((await post(app, ORDER_SELECT, { ...inferno, prefetch: fullPrefetch({}, inferno.context.patientId) })).statusCode, 200)
  const [, infernoInput] = cards.calls.at(-1) as [string, { selections: unknown[] }]
  t.strictSame(infernoInput.selections, [], 'the selected MedicationRequest is for Patient/1288992, not Patient/example')
})

// ---------------------------------------------------------------------------------------------
// §8 feedback

const feedbackItem = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ card: HOOK_INSTANCE, outcome: 'overridden', outcomeTimestamp: '2026-01-02T03:04:05Z', ...extra })

async function feedbackHarness (t: Test): Promise<Harness & { lines: Array<Record<string, unknown>> }> {
  const { stream, lines } = captureLogs()
  return { ...await harness(t, { logger: { level: 'info', stream } }), lines }
}
const audits = (lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> => lines.filter((line) => line.msg === 'cds_feedback')

t.test('feedback: 200 with an empty body; one cds_feedback audit line per item', async (t) => {
  const { app, lines } = await feedbackHarness(t)
  const response = await post(app, FEEDBACK, { feedback: [feedbackItem({ overrideReason: { reason: { code: 'patient-refuses', system: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes' }, userComment: 'planted comment text' } }), feedbackItem({ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'accepted', acceptedSuggestions: [{ id: 's' }] })] })
  t.equal(response.statusCode, 200)
  t.equal(response.body, '')
  const events = audits(lines)
  t.equal(events.length, 2)
  t.match(events[0], {
    event: 'cds_feedback',
    service: 'her2-mbc-bone-mets',
    card: HOOK_INSTANCE,
    matched: false,
    outcome: 'overridden',
    reasonSystem: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes',
    reasonCode: 'patient-refuses',
    userComment: true,
    iss: TEST_CLIENT.iss,
    tenant: 'tenant-1',
    jti: /^jti-/
  })
  t.equal(events[1]?.userComment, false)
  t.notOk(JSON.stringify(lines).includes('planted comment text'), 'the userComment is never logged')
})

t.test('feedback is idempotent on (card, outcome, outcomeTimestamp)', async (t) => {
  const { app, lines } = await feedbackHarness(t)
  const item = feedbackItem()
  t.equal((await post(app, FEEDBACK, { feedback: [item] })).statusCode, 200)
  t.equal((await post(app, FEEDBACK, { feedback: [item, item] })).statusCode, 200)
  t.equal((await post(app, FEEDBACK, { feedback: [{ ...item, card: HOOK_INSTANCE.toUpperCase() }] })).statusCode, 200)
  t.equal(audits(lines).length, 1, 'repeats (any letter case of the uuid) are no-ops')
  await post(app, FEEDBACK, { feedback: [{ ...item, outcomeTimestamp: '2026-01-02T03:04:06Z' }, { ...item, outcome: 'accepted', acceptedSuggestions: [] }] })
  t.equal(audits(lines).length, 3, 'another timestamp or outcome is another event')
  const completed = lines.filter((line) => line.msg === 'request completed' && line.route === FEEDBACK)
  t.strictSame(completed.map((line) => line.repeats), [0, 2, 1, 0])
})

t.test('feedback on a card we issued is matched, with its code and targets; on another service\'s card or an unknown one, unmatched', async (t) => {
  const { app, lines } = await feedbackHarness(t)
  const issued = (await post(app, PATIENT_VIEW, patientViewBody())).json() as { cards: Array<{ uuid: string }> }
  const card = issued.cards[0]?.uuid as string
  await post(app, FEEDBACK, { feedback: [feedbackItem({ card })] })
  await post(app, `${ORDER_SELECT}/feedback`, { feedback: [feedbackItem({ card, outcomeTimestamp: '2026-02-02T00:00:00+01:00' })] })
  await post(app, FEEDBACK, { feedback: [feedbackItem({ card: '9368d37b-283f-44a0-93ea-547cebab93ed' })] })
  const events = audits(lines)
  t.match(events[0], { matched: true, card, code: /^[A-Z]+-\d{2}[a-z]?$/ })
  t.strictSame([events[1]?.matched, events[1]?.service, events[1]?.code], [false, 'her2-mbc-order-check', undefined])
  t.strictSame([events[2]?.matched, events[2]?.code], [false, undefined])
})

t.test('a card record past FEEDBACK_CARD_TTL_H (default 168 h) is unmatched', async (t) => {
  let now = 0
  const store = new MemoryStore(100, () => now)
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream }, inject: { store } })
  t.equal(parseConfig({}).cdsHooks.feedbackCardTtlH, 168)
  const card = ((await post(app, PATIENT_VIEW, patientViewBody())).json() as { cards: Array<{ uuid: string }> }).cards[0]?.uuid as string
  now = 168 * 3600 * 1000 - 1
  await post(app, FEEDBACK, { feedback: [feedbackItem({ card })] })
  now = 168 * 3600 * 1000
  await post(app, FEEDBACK, { feedback: [feedbackItem({ card, outcomeTimestamp: '2026-01-03T00:00:00Z' })] })
  t.strictSame(audits(lines).map((line) => line.matched), [true, false])
})

t.test('feedback rows cds-fb-1..3 and the other checks are 400 invalid with the element', async (t) => {
  const { app } = await harness(t)
  const cases: Array<[string, unknown, string]> = [
    ['cds-fb-1 outcome', { feedback: [feedbackItem({ outcome: 'dismissed' })] }, 'feedback[0].outcome'],
    ['cds-fb-2 acceptedSuggestions', { feedback: [feedbackItem({ outcome: 'accepted' })] }, 'feedback[0].acceptedSuggestions'],
    ['cds-fb-3 empty overrideReason', { feedback: [feedbackItem({ overrideReason: {} })] }, 'feedback[0].overrideReason'],
    ['cds-fb-3 reason without code', { feedback: [feedbackItem({ overrideReason: { reason: { system: 'x', display: 'y' } } })] }, 'feedback[0].overrideReason.reason.code'],
    ['userComment over 1000', { feedback: [feedbackItem({ overrideReason: { userComment: 'c'.repeat(1001) } })] }, 'feedback[0].overrideReason.userComment'],
    ['card not a UUID', { feedback: [feedbackItem({ card: 'card-1' })] }, 'feedback[0].card'],
    ['timestamp without offset', { feedback: [feedbackItem({ outcomeTimestamp: '2026-01-02T03:04:05' })] }, 'feedback[0].outcomeTimestamp'],
    ['no items', { feedback: [] }, 'feedback'],
    ['101 items', { feedback: Array.from({ length: 101 }, () => feedbackItem()) }, 'feedback']
  ]
  for (const [name, payload, expression] of cases) {
    const body = expectOutcome(t, await post(app, FEEDBACK, payload), 400, 'invalid')
    t.strictSame(body.issue.map((issue) => issue.expression?.[0]), [expression], name)
  }
  t.equal((await post(app, FEEDBACK, { feedback: [feedbackItem({ overrideReason: { reason: { code: 'x' } }, extension: { a: 1 } })], extension: {} })).statusCode, 200, 'unknown members are ignored; a reason outside our codes is recorded as given')
})

t.test('the CDS Hooks spec\'s feedback examples are accepted', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const { app, lines } = await feedbackHarness(t)
  for (const file of ['feedback-accepted.json', 'feedback-overridden.json', 'feedback-overridden-with-reason.json']) {
    const response = await post(app, FEEDBACK, readThirdPartyJson(`cds-hooks-spec/examples/${file}`))
    t.equal(response.statusCode, 200, file)
    t.equal(response.body, '')
  }
  t.notOk(JSON.stringify(lines).includes('A comment entered by the clinician.'))
  t.match(audits(lines)[2], { reasonCode: 'd7ecf885', reasonSystem: 'https://example.com/cds-hooks/override-reason-system', userComment: true })
})

t.test('a full feedback store is a 503; the items before it stay recorded, so a retry repeats them', async (t) => {
  const store = new MemoryStore(2)
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream }, inject: { store } })
  const items = [feedbackItem(), feedbackItem({ outcomeTimestamp: '2026-01-02T03:04:06Z' }), feedbackItem({ outcomeTimestamp: '2026-01-02T03:04:07Z' })]
  expectOutcome(t, await post(app, FEEDBACK, { feedback: items }), 503, 'transient')
  t.equal(audits(lines).length, 2)
})

t.test('cards that do not fit in a full store are still sent (their feedback will be unmatched)', async (t) => {
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream }, inject: { store: new MemoryStore(0) } })
  const response = await post(app, PATIENT_VIEW, patientViewBody())
  t.equal(response.statusCode, 200)
  const summary = lines.find((line) => line.msg === 'request completed' && line.route === PATIENT_VIEW)
  t.equal(summary?.cardsNotRemembered, (response.json() as { cards: unknown[] }).cards.length)
})

// ---------------------------------------------------------------------------------------------
// §10.5 logs

t.test('logs: hookInstance, service, iss, tenant, jti, counts, timings and codes; never a token, a patient id, a URL or a body', async (t) => {
  const token = 'planted-token-5f1e'
  const patientId = 'planted-patient-77'
  const fhir = await localFhir(t, token, patientId)
  const client = { ...TEST_CLIENT, fhirServers: [fhir.base] }
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'trace', stream }, inject: { verifier: fakeVerifier(client) } })
  const fhirAuthorization = { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'cds', patient: patientId }
  const context = { userId: 'Practitioner/planted-user-3', patientId }
  const called = await post(app, PATIENT_VIEW, {
    ...patientViewBody({ context, fhirServer: fhir.base, fhirAuthorization }),
    prefetch: fullPrefetch({ markers: undefined, cardiac: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', diagnostics: `no access to ${patientId}` }] } }, patientId)
  })
  t.equal(called.statusCode, 200)
  await post(app, PATIENT_VIEW, { ...patientViewBody({ context }), prefetch: fullPrefetch({ patient: null }, patientId) })
  await post(app, PATIENT_VIEW, { ...patientViewBody({ context: { ...context, patientId: `${patientId}/x` } }) })
  await post(app, ORDER_SELECT, orderSelectBody([`MedicationRequest/${patientId}`], [medicationRequest(patientId, `Patient/${patientId}`)], { context: { ...context, selections: [`MedicationRequest/${patientId}`], draftOrders: { resourceType: 'Bundle', entry: [] } } }))
  await post(app, PATIENT_VIEW, patientViewBody(), { authorization: `Bearer ${token}` })
  const text = JSON.stringify(lines)
  for (const secret of [token, patientId, 'planted-user-3', fhir.base, '127.0.0.1', 'Bearer']) t.notOk(text.includes(secret), `never logged: ${secret}`)
  const summary = lines.find((line) => line.msg === 'request completed' && line.route === PATIENT_VIEW) as Record<string, unknown>
  t.match(summary, {
    service: 'her2-mbc-bone-mets',
    hookInstance: HOOK_INSTANCE,
    iss: TEST_CLIENT.iss,
    tenant: 'tenant-1',
    jti: /^jti-/,
    outcome: 'evaluated',
    status: 200,
    cards: Number,
    mapMs: Number,
    evaluationMs: Number,
    data: { prefetched: 16, fetched: ['markers', 'cardiac'], partial: [], unavailable: [], prefetchIssues: ['forbidden'], fetch: { requests: 2, statuses: { '2xx': 2 }, durationMs: Number, notes: [], medicationReads: 0 } }
  })
  t.match(lines.find((line) => line.msg === 'cds_jwt_rejected'), { reason: 'signature-invalid', iss: 'https://unknown.example.org', jti: 'jti-bad' })
})

t.test('the refusal to fetch is logged as a code', async (t) => {
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream } })
  await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ cardiac: undefined }), fhirServer: 'https://elsewhere.example.org/fhir' }))
  const summary = lines.find((line) => line.msg === 'request completed' && line.route === PATIENT_VIEW)
  t.match(summary, { data: { fetchRefused: 'fhir_server_not_allowed', unavailable: ['cardiac'] }, warnings: ['FHIR_DATA_UNAVAILABLE'] })
})

t.test('the service ids of discovery are the routes', async (t) => {
  t.strictSame(Object.values(CDS_SERVICES).map((service) => service.id), ['her2-mbc-bone-mets', 'her2-mbc-order-check'])
})

// ---------------------------------------------------------------------------------------------
// Smaller paths

t.test('issue codes of statuses §9 does not list: another 4xx is invalid, another 5xx exception', async (t) => {
  t.equal(issueCodeFor(418), 'invalid')
  t.equal(issueCodeFor(502), 'exception')
  t.strictSame(Object.entries(ISSUE_TYPE_BY_STATUS), [['400', 'invalid'], ['401', 'security'], ['404', 'not-found'], ['405', 'not-supported'], ['412', 'processing'], ['413', 'too-costly'], ['415', 'not-supported'], ['429', 'throttled'], ['500', 'exception'], ['503', 'transient']])
})

t.test('without an injected verifier, the one built from the configured clients is used', async (t) => {
  for (const store of [undefined, new MemoryStore(10)]) {
    const app = await buildTestApp(t, { cdsHooks: { mapResources: fakeMapper().mapResources, toCase: fakeToCase(), cards: fakeCards().cards, clients: [], ...(store === undefined ? {} : { store }) } }, jwtConfig())
    // No client is configured, so no token can verify.
    expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody()), 401, 'security')
  }
  const open = await buildTestApp(t, { cdsHooks: { clients: [] } }, parseConfig({}))
  t.equal((await open.inject({ method: 'GET', url: '/cds-services' })).statusCode, 200, 'JWT off: no verifier at all')
  // The real mapper, clock and card builders: a bare Patient without any Condition is not this service's population.
  const bare = await post(open, PATIENT_VIEW, patientViewBody(), {})
  t.equal(bare.statusCode, 200)
  t.equal(bare.body, '{"cards":[]}')
})

t.test('the fetch budget runs on the injected monotonic clock: once it is spent, nothing is fetched', async (t) => {
  const fhir = await localFhir(t, 'tok')
  let now = 0
  const { app } = await harness(t, { inject: { verifier: fakeVerifier({ ...TEST_CLIENT, fhirServers: [fhir.base] }), clock: () => (now += 5000) } })
  const fhirAuthorization = { access_token: 'tok', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'cds' }
  const body = expectOutcome(t, await post(app, PATIENT_VIEW, patientViewBody({ prefetch: fullPrefetch({ ecog: undefined }), fhirServer: fhir.base, fhirAuthorization })), 412, 'processing')
  t.equal(body.issue[0]?.diagnostics, 'prefetch keys unavailable: ecog')
  t.equal(fhir.seen.length, 0)
})

t.test('KB_PUBLIC_URL reaches the card builders', async (t) => {
  const { app, cards } = await harness(t, { config: jwtConfig({ KB_PUBLIC_URL: 'https://kb.example.org/about' }) })
  await post(app, PATIENT_VIEW, patientViewBody())
  t.equal((cards.calls[0]?.[1] as { kbPublicUrl?: string }).kbPublicUrl, 'https://kb.example.org/about')
  const without = await harness(t)
  await post(without.app, PATIENT_VIEW, patientViewBody())
  t.notOk('kbPublicUrl' in (without.cards.calls[0]?.[1] as object))
})

t.test('a safety-invariant repair of the engine is logged as an error', async (t) => {
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream } })
  const real = app.knowledge.recommender as NonNullable<typeof app.knowledge.recommender>
  app.knowledge.recommender = { evaluate: async (input: Parameters<typeof real.evaluate>[0]) => ({ ...await real.evaluate(input), violations: ['INV-TEST repaired'] }) } as unknown as typeof real
  t.equal((await post(app, PATIENT_VIEW, patientViewBody())).statusCode, 200)
  t.match(lines.find((line) => line.msg === 'safety invariant repaired'), { level: 50, violations: ['INV-TEST repaired'] })
})

t.test('a card without a uuid is sent and not remembered', async (t) => {
  const fake = fakeCards()
  const store = new MemoryStore(10)
  const { app } = await harness(t, { inject: { store, cards: { ...fake.cards, patientViewCards: () => [built({ summary: 'no uuid', indicator: 'info', source: { label: 'x' } }, 'X', [])] } } })
  const response = await post(app, PATIENT_VIEW, patientViewBody())
  t.strictSame(response.json(), { cards: [{ summary: 'no uuid', indicator: 'info', source: { label: 'x' } }] })
})

t.test('draftOrders entries without a resource, or a resource without id, are skipped', async (t) => {
  const { app, cards } = await harness(t)
  const body = orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')])
  const context = body.context as { draftOrders: { entry: unknown[] } }
  context.draftOrders.entry.push({ fullUrl: 'urn:uuid:1' }, { resource: { resourceType: 'MedicationRequest' } })
  t.equal((await post(app, ORDER_SELECT, body)).statusCode, 200)
  const [, input] = cards.calls.at(-1) as [string, { selections: Array<{ selection: string }>, draftOrders: unknown[] }]
  t.strictSame(input.selections.map((order) => order.selection), ['MedicationRequest/mr-1'])
  t.equal(input.draftOrders.length, 2)
  // A draftOrders Bundle without entries: nothing is found.
  t.equal((await post(app, ORDER_SELECT, { ...body, context: { ...body.context as object, draftOrders: { resourceType: 'Bundle' } } })).statusCode, 200)
  t.strictSame((cards.calls.at(-1)?.[1] as { selections: unknown[] }).selections, [])
})

t.test('a caller without tenant, and no caller at all (JWT off): the logs and audits carry what is known', async (t) => {
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream }, inject: { verifier: fakeVerifier(TEST_CLIENT, null) } })
  await post(app, PATIENT_VIEW, patientViewBody())
  await post(app, FEEDBACK, { feedback: [feedbackItem()] })
  const summary = lines.find((line) => line.msg === 'request completed' && line.route === PATIENT_VIEW) as Record<string, unknown>
  t.equal(summary.iss, TEST_CLIENT.iss)
  t.notOk('tenant' in summary)
  t.notOk('tenant' in (audits(lines)[0] as object))
  const off = captureLogs()
  const open = await harness(t, { config: parseConfig({}), logger: { level: 'info', stream: off.stream } })
  await post(open.app, FEEDBACK, { feedback: [feedbackItem()] }, {})
  const audit = audits(off.lines)[0] as Record<string, unknown>
  t.notOk('iss' in audit || 'jti' in audit || 'tenant' in audit)
})

t.test('feedback audits bound long client strings; an unreadable card record is unmatched', async (t) => {
  const store = new MemoryStore(10)
  await store.put(`cds:card:${HOOK_INSTANCE}`, '{not json', 60_000)
  const { stream, lines } = captureLogs()
  const { app } = await harness(t, { logger: { level: 'info', stream }, inject: { store } })
  await post(app, FEEDBACK, { feedback: [feedbackItem({ overrideReason: { reason: { code: 'c'.repeat(500), system: 's'.repeat(300) } } })] })
  const audit = audits(lines)[0] as Record<string, string | boolean>
  t.equal(audit.matched, false)
  t.equal(audit.reasonCode, `${'c'.repeat(200)}…`)
  t.equal(audit.reasonSystem, `${'s'.repeat(200)}…`)
})

t.test('JWT on without PUBLIC_BASE_URL (the audience) does not start, even with the clients injected', async (t) => {
  await t.rejects(buildApp(parseConfig({ CDS_HOOKS_JWT: 'on' }), { logger: false, knowledgeBase, cdsHooks: { clients: [TEST_CLIENT] } }),
    /CDS_HOOKS_JWT=on needs PUBLIC_BASE_URL/)
})
