import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { cardUuid } from '../../src/cds-hooks/cards.js'
import { PREFETCH_KEYS, renderTemplate } from '../../src/cds-hooks/prefetch.js'
import { discoveryDocument } from '../../src/cds-hooks/services.js'
import { ConfigError, parseConfig } from '../../src/config.js'
import { OVERRIDE_REASON_SYSTEM } from '../../src/fhir/constants.js'
import type { CdsHooksInjection } from '../../src/routes/cds-hooks.js'
import type { KeyValueStore } from '../../src/stores/store.js'
import { captureLogs } from '../fixtures/build-app.js'
import { HOOK_INSTANCE, medicationRequest, orderSelectBody, patientViewBody } from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { assertConformantDiscovery, assertConformantOperationOutcome, assertConformantResponse } from '../support/cds-conformance.js'
import { startFhirServer, type FhirServer, type LoadableBundle } from '../support/fhir-server.js'
import { generatedKey, SANDBOX_ISS, SANDBOX_JKU, sandboxPublicJwks, specPublicJwks, crdKeys, type Jwk } from '../support/jwt-keys.js'
import {
  AUD, jwksServer, jwtMatrix, keyA, MATRIX_BASE as BASE, MATRIX_NOW_MS as NOW_MS, MATRIX_PATHS as PATHS, matrixClients,
  tokenA, type AuthorizationValues, type MatrixRoute, type MatrixRow
} from '../support/jwt-matrix.js'
import { SANDBOX_ORIGIN, SandboxClient, sandboxMedication, type ReplayRequest } from '../support/sandbox-client.js'
import { needThirdParty, readThirdPartyJson, thirdPartyAvailable, thirdPartySkip } from '../support/third-party-fixtures.js'

// spec/ehr-integration.md §9 (the 401 row), §10 and §12.5 ("JWT matrix", "Sandbox replay client"),
// over HTTP with the REAL verifier: the app builds it from the configured clients (cdsHooksOptions),
// with the test clock and a JWKS fetch that serves the allow-listed key sets without a network.

const LOCAL_SANDBOX_ORIGIN = 'http://127.0.0.1:8080'
const JWT_ENV = { CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: BASE, CDS_DISCOVERY_AUTH: 'required', CORS_ORIGINS: `${LOCAL_SANDBOX_ORIGIN},${SANDBOX_ORIGIN}` }
const SECURITY_OUTCOME = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security' }] }
const PREFLIGHT_CORS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-max-age': '600'
}

interface JwtApp { app: FastifyInstance, jwksCalls: string[], lines: Array<Record<string, unknown>> }

/** The app as the server builds it (real verifier, mapper, cards), with the matrix clients unless told otherwise. */
async function jwtApp (env: Record<string, string> = {}, inject: CdsHooksInjection = {}): Promise<JwtApp> {
  const { fetchJwks, calls } = jwksServer()
  const { stream, lines } = captureLogs()
  const app = await buildApp(parseConfig({ ...JWT_ENV, ...env }), {
    logger: { level: 'info', stream },
    knowledgeBase,
    cdsHooks: { clients: matrixClients(), now: () => new Date(NOW_MS), fetchJwks, ...inject }
  })
  return { app, jwksCalls: calls, lines }
}

async function jwtAppFor (t: Test, env: Record<string, string> = {}, inject: CdsHooksInjection = {}): Promise<JwtApp> {
  const built = await jwtApp(env, inject)
  t.teardown(async () => { await built.app.close() })
  return built
}

const FEEDBACK_BODY = { feedback: [{ card: HOOK_INSTANCE, outcome: 'overridden', outcomeTimestamp: '2026-03-01T11:59:00Z' }] }

/** What each route of the matrix is sent: a valid minimal call, so that an accepted token gets the normal answer. */
const ROUTE_CALLS: Readonly<Record<MatrixRoute, { method: 'GET' | 'POST', payload?: Record<string, unknown> }>> = {
  discovery: { method: 'GET' },
  // A Patient without any Condition: not this service's population, so {"cards": []} (§4.4 row 4).
  patientView: { method: 'POST', payload: patientViewBody() },
  orderCheck: { method: 'POST', payload: orderSelectBody(['MedicationRequest/mr-1'], [medicationRequest('mr-1')]) },
  feedback: { method: 'POST', payload: FEEDBACK_BODY }
}

async function callRoute (app: FastifyInstance, route: MatrixRoute, authorization: AuthorizationValues): Promise<LightMyRequestResponse> {
  const call = ROUTE_CALLS[route]
  // An array value gives two raw `authorization` headers (light-my-request writes one line per value).
  const auth = authorization.length === 0 ? {} : { authorization: authorization.length === 1 ? authorization[0] as string : authorization as unknown as string }
  return await app.inject({ method: call.method, url: PATHS[route], headers: auth, ...(call.payload === undefined ? {} : { payload: call.payload }) })
}

/** The normal answer of each route to an accepted token (feedback: an empty body). */
const ACCEPTED_BODY: Readonly<Record<MatrixRoute, unknown>> = {
  discovery: discoveryDocument(),
  patientView: { cards: [] },
  orderCheck: { cards: [] },
  feedback: ''
}

/** Status, WWW-Authenticate and body of a response, to compare with what a row expects in one assertion. */
function outcomeOf (response: LightMyRequestResponse): { status: number, wwwAuthenticate: unknown, body: unknown } {
  let body: unknown = response.body
  try { body = response.json() } catch { /* kept as text: an empty body */ }
  return { status: response.statusCode, wwwAuthenticate: response.headers['www-authenticate'], body }
}

function expectedOutcome (row: MatrixRow, route: MatrixRoute): ReturnType<typeof outcomeOf> {
  return row.expect === 'accepted'
    ? { status: 200, wwwAuthenticate: undefined, body: ACCEPTED_BODY[route] }
    : { status: 401, wwwAuthenticate: 'Bearer', body: SECURITY_OUTCOME }
}

/** The signature segments of the tokens of a request: none of them may reach a log line (§10.1, §10.5). */
const signaturesOf = (values: AuthorizationValues): string[] =>
  values.flatMap((value) => value.split(' ').at(-1)?.split('.')[2] ?? []).filter((signature) => signature.length > 8)

// ---------------------------------------------------------------------------------------------
// §12.5 JWT matrix over HTTP

t.test('JWT matrix (§12.5) over HTTP on discovery, both services and feedback: 200 with the normal answer, or 401 security with WWW-Authenticate: Bearer; never another status', async (t) => {
  if (!thirdPartyAvailable) needThirdParty(t) // the generated-key rows still run
  const rows = jwtMatrix()
  t.ok(rows.some((row) => row.thirdParty === true) === thirdPartyAvailable, 'the spec, sandbox and CRD keys take part when ../shared is there')
  for (const row of rows) {
    // One app per row: its own replay cache and JWKS cache; the four routes share them, as in production.
    const { app, jwksCalls, lines } = await jwtApp()
    try {
      for (const route of Object.keys(PATHS) as MatrixRoute[]) {
        const requests = row.requests(AUD[route])
        const judged = requests.at(-1) as AuthorizationValues
        for (const earlier of requests.slice(0, -1)) t.equal((await callRoute(app, route, earlier)).statusCode, 200, `${row.name} on ${route}: the earlier request is accepted`)
        const logFrom = lines.length
        const response = await callRoute(app, route, judged)
        t.strictSame(outcomeOf(response), expectedOutcome(row, route), `${row.name} on ${route}`)
        const refusals = lines.slice(logFrom).filter((line) => line.msg === 'cds_jwt_rejected').map((line) => line.reason)
        t.strictSame(refusals, row.expect === 'accepted' ? [] : [row.expect], `${row.name} on ${route}: the internal reason is logged`)
        if (row.expect === 'accepted') {
          if (route === 'discovery') assertConformantDiscovery(t, response.json())
          else if (route !== 'feedback') assertConformantResponse(t, response.json())
        } else {
          assertConformantOperationOutcome(t, 401, response.json())
        }
        const logText = JSON.stringify(lines)
        t.ok(requests.flatMap(signaturesOf).every((signature) => !logText.includes(signature)), `${row.name} on ${route}: no token in the logs`)
      }
      t.strictSame([...new Set(jwksCalls)], row.fetches ?? [], `${row.name}: key sets fetched`)
    } finally {
      await app.close()
    }
  }
})

// ---------------------------------------------------------------------------------------------
// §10.1 step 1 on a real socket

interface SocketResponse { status: number, headers: Record<string, unknown>, body: string }

async function listening (t: Test, app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

async function overSocket (port: number, method: string, path: string, headers: OutgoingHttpHeaders, body?: unknown): Promise<SocketResponse> {
  return await new Promise<SocketResponse>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    // A new connection per request (no keep-alive agent): a 431 closes the connection it came on.
    const request = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) } }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => { resolve({ status: response.statusCode as number, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }) })
    })
    request.on('error', reject)
    request.end(payload)
  })
}

t.test('a 20 KiB header gets 431 from Node on every route, never a 500; a 9 KiB token under the 16 KiB limit is a 401 (§10.1 step 1)', async (t) => {
  const { app, lines } = await jwtAppFor(t)
  const port = await listening(t, app)
  const huge = { authorization: `Bearer ${'a'.repeat(20 * 1024)}` }
  for (const route of Object.keys(PATHS) as MatrixRoute[]) {
    // No body: Node answers 431 and closes the connection as soon as the header section is over its limit.
    const response = await overSocket(port, ROUTE_CALLS[route].method, PATHS[route], huge)
    t.equal(response.status, 431, `${route}: 431`)
  }
  const padded = tokenA(keyA.es384, AUD.patientView, { claims: { padding: 'x'.repeat(9 * 1024) } })
  const tooLarge = await overSocket(port, 'POST', PATHS.patientView, { authorization: `Bearer ${padded}` }, ROUTE_CALLS.patientView.payload)
  t.equal(tooLarge.status, 401)
  t.equal(tooLarge.headers['www-authenticate'], 'Bearer')
  t.strictSame(JSON.parse(tooLarge.body), SECURITY_OUTCOME)
  t.match(lines.filter((line) => line.msg === 'cds_jwt_rejected'), [{ reason: 'token-too-large' }])
  t.notOk(lines.some((line) => line.level === 50), 'no error logged')
})

t.test('two Authorization headers on a real socket (Node keeps one in request.headers): 401, both tokens valid', async (t) => {
  const { app, lines } = await jwtAppFor(t)
  const port = await listening(t, app)
  // An array value: node:http writes one header line per value.
  const twice = { authorization: [`Bearer ${tokenA(keyA.es384, AUD.discovery)}`, `Bearer ${tokenA(keyA.es384, AUD.discovery)}`] as unknown as string }
  const response = await overSocket(port, 'GET', PATHS.discovery, twice)
  t.equal(response.status, 401)
  t.equal(response.headers['www-authenticate'], 'Bearer')
  t.strictSame(JSON.parse(response.body), SECURITY_OUTCOME)
  t.match(lines.filter((line) => line.msg === 'cds_jwt_rejected'), [{ reason: 'authorization-duplicate' }])
  const once = await overSocket(port, 'GET', PATHS.discovery, { authorization: `Bearer ${tokenA(keyA.es384, AUD.discovery)}` })
  t.equal(once.status, 200, 'one of them alone is accepted')
})

t.test('OPTIONS preflight without JWT: 204 with the §10.4 CORS headers for a listed origin, none for another; the verifier is not asked', async (t) => {
  const { app, lines } = await jwtAppFor(t)
  for (const route of Object.keys(PATHS) as MatrixRoute[]) {
    for (const origin of [LOCAL_SANDBOX_ORIGIN, SANDBOX_ORIGIN]) {
      const response = await app.inject({ method: 'OPTIONS', url: PATHS[route], headers: { origin, 'access-control-request-method': ROUTE_CALLS[route].method, 'access-control-request-headers': 'authorization,content-type' } })
      t.equal(response.statusCode, 204, `${route} from ${origin}`)
      t.match(response.headers, { ...PREFLIGHT_CORS, 'access-control-allow-origin': origin }, `${route} from ${origin}: CORS headers`)
      t.equal(response.headers['access-control-allow-credentials'], undefined, 'no credentials')
    }
    const other = await app.inject({ method: 'OPTIONS', url: PATHS[route], headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
    t.equal(other.statusCode, 204)
    t.equal(other.headers['access-control-allow-origin'], undefined, `${route}: an origin not listed gets no CORS headers`)
    t.equal(other.headers['access-control-allow-methods'], undefined)
  }
  t.notOk(lines.some((line) => line.msg === 'cds_jwt_rejected'), 'no JWT was asked for')
})

t.test('the audience is the routed path (§10.1 step 5): a query string or a percent-encoded path does not change it; HEAD on discovery needs the JWT too', async (t) => {
  const { app } = await jwtAppFor(t)
  const call = async (method: 'GET' | 'HEAD' | 'POST', url: string, aud?: string): Promise<number> => (await app.inject({
    method,
    url,
    headers: aud === undefined ? {} : { authorization: `Bearer ${tokenA(keyA.es384, aud)}` },
    ...(method === 'POST' ? { payload: ROUTE_CALLS.patientView.payload } : {})
  })).statusCode
  t.equal(await call('GET', '/cds-services?x=1', AUD.discovery), 200)
  t.equal(await call('GET', '/cds-services?x=1', `${AUD.discovery}?x=1`), 401, 'a token for the URL with its query is refused')
  t.equal(await call('HEAD', '/cds-services'), 401)
  t.equal(await call('HEAD', '/cds-services', AUD.discovery), 200)
  t.equal(await call('POST', '/cds-services/%68er2-mbc-bone-mets', AUD.patientView), 200, 'a percent-encoded path: the routed path is the audience')
  t.equal(await call('POST', `${PATHS.patientView}?x=1`, AUD.patientView), 200)
  t.equal(await call('POST', `${PATHS.patientView}?x=1`), 401)
})

// ---------------------------------------------------------------------------------------------
// §10.1 step 8: replay

t.test('replay: the same token twice on each route, the second is a 401', async (t) => {
  const { app, lines } = await jwtAppFor(t)
  for (const route of Object.keys(PATHS) as MatrixRoute[]) {
    const token = [`Bearer ${tokenA(keyA.es384, AUD[route])}`]
    t.equal((await callRoute(app, route, token)).statusCode, 200, `${route}: first`)
    const second = await callRoute(app, route, token)
    t.strictSame(outcomeOf(second), { status: 401, wwwAuthenticate: 'Bearer', body: SECURITY_OUTCOME }, `${route}: second`)
  }
  t.strictSame(lines.filter((line) => line.msg === 'cds_jwt_rejected').map((line) => line.reason), ['replayed', 'replayed', 'replayed', 'replayed'])
})

t.test('JWT_REPLAY_CACHE_MAX=1: the cache is full after one token, the next is a 503 transient, never an unchecked accept', async (t) => {
  const { app, lines } = await jwtAppFor(t, { JWT_REPLAY_CACHE_MAX: '1' })
  t.equal((await callRoute(app, 'patientView', [`Bearer ${tokenA(keyA.es384, AUD.patientView)}`])).statusCode, 200)
  for (const route of Object.keys(PATHS) as MatrixRoute[]) {
    const response = await callRoute(app, route, [`Bearer ${tokenA(keyA.es384, AUD[route])}`])
    t.equal(response.statusCode, 503, `${route}: 503`)
    t.equal(response.headers['www-authenticate'], undefined, 'not a 401')
    assertConformantOperationOutcome(t, 503, response.json())
    t.match(response.json(), { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] })
  }
  t.equal(lines.filter((line) => line.msg === 'cds_jwt_replay_cache_full').length, 4)
  // The verification still comes first: a bad token is a 401 even when the cache is full.
  t.equal((await callRoute(app, 'discovery', ['Bearer not.a.token'])).statusCode, 401)
})

t.test('a replay store that fails is a 503 transient too, never a 500', async (t) => {
  const failing: KeyValueStore = {
    putIfAbsent: async () => { throw new Error('connection refused') },
    put: async () => 'stored',
    get: async () => undefined,
    increment: async () => ({ count: 1, ttlMs: 1 }),
    ping: async () => false,
    close: async () => {}
  }
  const { app, lines } = await jwtAppFor(t, {}, { store: failing })
  const response = await callRoute(app, 'discovery', [`Bearer ${tokenA(keyA.es384, AUD.discovery)}`])
  t.equal(response.statusCode, 503)
  t.match(response.json(), { issue: [{ code: 'transient' }] })
  t.notMatch(response.body, /connection refused/)
  t.notOk(lines.some((line) => line.level === 50), 'no error logged')
})

// ---------------------------------------------------------------------------------------------
// §10.3 CDS_DISCOVERY_AUTH=optional

t.test('CDS_DISCOVERY_AUTH=optional: discovery without a token is a 200; a token that is present is verified; the services still need one', async (t) => {
  const { app } = await jwtAppFor(t, { CDS_DISCOVERY_AUTH: 'optional' })
  const open = await callRoute(app, 'discovery', [])
  t.equal(open.statusCode, 200)
  t.strictSame(open.json(), ACCEPTED_BODY.discovery)
  for (const [name, values] of [
    ['a bad signature', [`Bearer ${tokenA(keyA.es384, AUD.discovery).slice(0, -4)}AAAA`]],
    ['a service token', [`Bearer ${tokenA(keyA.es384, AUD.patientView)}`]],
    ['Basic', ['Basic dXNlcjpwYXNz']],
    ['garbage', ['Bearer garbage']],
    ['an empty Authorization', ['']]
  ] as Array<[string, AuthorizationValues]>) {
    t.strictSame(outcomeOf(await callRoute(app, 'discovery', values)), { status: 401, wwwAuthenticate: 'Bearer', body: SECURITY_OUTCOME }, name)
  }
  t.equal((await callRoute(app, 'discovery', [`Bearer ${tokenA(keyA.es384, AUD.discovery)}`])).statusCode, 200, 'a valid token')
  for (const route of ['patientView', 'orderCheck', 'feedback'] as const) {
    t.equal((await callRoute(app, route, [])).statusCode, 401, `${route} without a token`)
  }
})

// ---------------------------------------------------------------------------------------------
// §12.5 Sandbox replay client

/** The two sandbox patients of the replay: one without any Condition (like the sandbox's default patient), one with a HER2-negative breast cancer (MITRE). */
const BARE_PATIENT = { resourceType: 'Patient', id: 'sandbox-bare-patient', gender: 'female', birthDate: '1960-01-01' }
const MITRE_FILE = 'mcode-thirdparty/ctm-app.TrialMatching_Patient01.json'
const MITRE_PATIENT = 'mCODETrialMatchingPatientExample01'

/** What the sandbox resolves itself: the templates run against its FHIR server, only the keys it could read (`keys`). */
async function sandboxPrefetch (fhirBase: string, patientId: string, keys: readonly string[]): Promise<Record<string, unknown>> {
  const prefetch: Record<string, unknown> = {}
  for (const spec of PREFETCH_KEYS.filter(({ key }) => keys.includes(key))) {
    const response = await fetch(`${fhirBase}/${renderTemplate(spec.template, patientId)}`, { headers: { accept: 'application/fhir+json' } })
    if (response.ok) prefetch[spec.key] = await response.json()
  }
  return prefetch
}

async function replay (t: Test, app: FastifyInstance, [preflight, call]: [ReplayRequest, ReplayRequest], origin: string): Promise<LightMyRequestResponse> {
  const before = await app.inject({ method: preflight.method, url: preflight.url, headers: preflight.headers })
  t.equal(before.statusCode, 204, `preflight ${call.url}`)
  t.match(before.headers, { ...PREFLIGHT_CORS, 'access-control-allow-origin': origin }, `preflight ${call.url}: CORS`)
  const response = await app.inject({ method: call.method, url: call.url, headers: call.headers, ...(call.payload === undefined ? {} : { payload: call.payload }) })
  t.equal(response.headers['access-control-allow-origin'], origin, `${call.method} ${call.url}: the origin echoed`)
  return response
}

t.test('sandbox replay (§12.5): the sandbox issuer by its jku, its FHIR server open; preflight, discovery, patient-view, order-select, feedback', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const fhir: FhirServer = await startFhirServer({ bundles: [{ entry: [{ resource: BARE_PATIENT }] }, readThirdPartyJson<LoadableBundle>(MITRE_FILE)] })
  t.teardown(async () => { await fhir.close() })
  // The configuration as an operator writes it (CDS_CLIENTS_FILE, non-production): loadCdsClients reads it.
  const dir = t.testdir({})
  const clientsFile = join(dir, 'clients.json')
  writeFileSync(clientsFile, JSON.stringify([{ iss: SANDBOX_ISS, jku: [SANDBOX_JKU], openFhirServers: [fhir.baseUrl] }]))
  const jwksFetched: string[] = []
  const sandboxJwks = sandboxPublicJwks()
  const { stream, lines } = captureLogs()
  const app = await buildApp(parseConfig({ ...JWT_ENV, CDS_CLIENTS_FILE: clientsFile, CORS_ORIGINS: SANDBOX_ORIGIN }), {
    logger: { level: 'info', stream },
    knowledgeBase,
    cdsHooks: {
      now: () => new Date(NOW_MS),
      fetchJwks: async (url) => {
        jwksFetched.push(url)
        return url === SANDBOX_JKU ? new Response(JSON.stringify(sandboxJwks), { status: 200 }) : new Response('', { status: 404 })
      }
    }
  })
  t.teardown(async () => { await app.close() })
  const sandbox = new SandboxClient({ baseUrl: BASE, now: () => NOW_MS })

  const discovery = await replay(t, app, sandbox.discovery(), SANDBOX_ORIGIN)
  t.equal(discovery.statusCode, 200)
  assertConformantDiscovery(t, discovery.json())

  // The patient without any Condition: the sandbox resolved every key.
  const bareView = await replay(t, app, sandbox.patientView({
    serviceId: 'her2-mbc-bone-mets',
    patientId: BARE_PATIENT.id,
    fhirServer: fhir.baseUrl,
    prefetch: await sandboxPrefetch(fhir.baseUrl, BARE_PATIENT.id, PREFETCH_KEYS.map(({ key }) => key))
  }), SANDBOX_ORIGIN)
  t.equal(bareView.statusCode, 200)
  t.equal(bareView.body, '{"cards":[]}')

  // The MITRE patient: the sandbox resolved only patient and conditions; the service fetches the rest
  // from the open server, without a token (§4.3, openFhirServers outside production).
  const resolved = await sandboxPrefetch(fhir.baseUrl, MITRE_PATIENT, ['patient', 'conditions'])
  t.strictSame(Object.keys(resolved), ['patient', 'conditions'])
  const fetchedBefore = fhir.requests.length
  const [viewPreflight, viewCall] = sandbox.patientView({ serviceId: 'her2-mbc-bone-mets', patientId: MITRE_PATIENT, fhirServer: fhir.baseUrl, prefetch: resolved })
  const view = await replay(t, app, [viewPreflight, viewCall], SANDBOX_ORIGIN)
  t.equal(view.statusCode, 200, 'never an error')
  const viewCards = (view.json() as { cards: Array<{ uuid: string, summary: string }> }).cards
  assertConformantResponse(t, view.json())
  const hookInstance = (viewCall.payload as { hookInstance: string }).hookInstance
  const dataCards = new Set(['DATA-QUALITY', 'CASE-INCOMPLETE'].map((code) => cardUuid(hookInstance, code, [])))
  t.ok(viewCards.every((card) => dataCards.has(card.uuid)), 'no guideline card for a HER2-negative patient, at most the data card')
  const viewLog = lines.find((line) => line.msg === 'request completed' && line.hookInstance === hookInstance)
  t.match(viewLog, { status: 200, data: { prefetched: 2, partial: [], unavailable: [] } }, 'two keys prefetched, none unavailable')
  t.equal((viewLog?.data as { fetched: string[] }).fetched.length, PREFETCH_KEYS.length - 2, 'the others fetched')
  const serviceFetches = fhir.requests.slice(fetchedBefore)
  t.ok(serviceFetches.length > 0, 'the keys the sandbox did not resolve are fetched from its open FHIR server')
  t.ok(serviceFetches.every((request) => request.host === 'fhir' && !request.authorization), 'without any Authorization')
  t.notOk(serviceFetches.some((request) => /\/(Patient\/|Condition\?)/.test(request.url)), 'the prefetched keys are not fetched again')

  // order-select from the Rx View: capecitabine, draftOrders without type.
  const order = await replay(t, app, sandbox.orderSelect({
    serviceId: 'her2-mbc-order-check',
    patientId: MITRE_PATIENT,
    fhirServer: fhir.baseUrl,
    medication: sandboxMedication('200328'),
    prefetch: await sandboxPrefetch(fhir.baseUrl, MITRE_PATIENT, PREFETCH_KEYS.map(({ key }) => key))
  }), SANDBOX_ORIGIN)
  t.equal(order.statusCode, 200, 'never an error')
  assertConformantResponse(t, order.json())
  const bareOrder = await replay(t, app, sandbox.orderSelect({
    serviceId: 'her2-mbc-order-check', patientId: BARE_PATIENT.id, fhirServer: fhir.baseUrl, medication: sandboxMedication('200328')
  }), SANDBOX_ORIGIN)
  t.equal(bareOrder.statusCode, 200)
  t.equal(bareOrder.body, '{"cards":[]}', 'no prefetch at all: everything fetched from the open server')

  // Feedback on a card shown (or, without one, a card never issued: accepted too, §8).
  const card = viewCards[0]?.uuid ?? randomUUID()
  for (const serviceId of ['her2-mbc-bone-mets', 'her2-mbc-order-check']) {
    const feedback = await replay(t, app, sandbox.feedback({ serviceId, card, reason: { code: 'patient-refuses', system: OVERRIDE_REASON_SYSTEM } }), SANDBOX_ORIGIN)
    t.equal(feedback.statusCode, 200, `feedback on ${serviceId}`)
    t.equal(feedback.body, '')
  }
  t.strictSame(jwksFetched, [SANDBOX_JKU], 'the sandbox key set, fetched once for every call')

  // A sandbox token replayed (the browser retrying the same request) is refused.
  const [, again] = sandbox.discovery()
  t.equal((await app.inject({ method: 'GET', url: again.url, headers: again.headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: again.url, headers: again.headers })).statusCode, 401)

  // §10.5: no error, and neither a token nor a patient id in the logs.
  t.notOk(lines.some((line) => (line.level as number) >= 50), 'no error logged')
  const logText = JSON.stringify(lines)
  t.notOk(logText.includes(MITRE_PATIENT) || logText.includes(BARE_PATIENT.id), 'no patient id logged')
  t.notOk(logText.includes((again.headers.authorization as string).split('.')[2] as string), 'no token logged')
})

// ---------------------------------------------------------------------------------------------
// §10.2 production refusals at startup

const PRODUCTION_ENV = { NODE_ENV: 'production', CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: BASE }
const SAFE_ENTRY = {
  iss: 'https://ehr.example.org',
  jwks: { keys: [generatedKey('ES384', 'ehr-es384').publicJwk] },
  fhirServers: ['https://ehr.example.org/fhir/r4']
}

function clientsFileWith (t: Test, entries: unknown[]): string {
  const path = join(t.testdir({}), 'clients.json')
  writeFileSync(path, JSON.stringify(entries))
  return path
}

async function buildProduction (t: Test, entries: unknown[]): Promise<FastifyInstance> {
  const app = await buildApp(parseConfig({ ...PRODUCTION_ENV, CDS_CLIENTS_FILE: clientsFileWith(t, entries) }), { logger: false, knowledgeBase })
  t.teardown(async () => { await app.close() })
  return app
}

t.test('production: buildApp starts with a safe clients file (the control of the refusals below)', async (t) => {
  const app = await buildProduction(t, [SAFE_ENTRY])
  t.equal((await app.inject({ method: 'GET', url: '/cds-services' })).statusCode, 401, 'JWT on')
})

t.test('production: buildApp refuses to start without CDS_HOOKS_JWT, even without any clients file (§10.1: forced on)', async (t) => {
  await t.rejects(buildApp(parseConfig({ NODE_ENV: 'production' }), { logger: false, knowledgeBase }), /refusing to start in production \(NODE_ENV=production\): CDS_HOOKS_JWT is off/)
})

t.test('production: buildApp refuses to start with the sandbox issuer or its jku in the clients file', async (t) => {
  await t.rejects(buildProduction(t, [SAFE_ENTRY, { iss: SANDBOX_ISS, jku: [SANDBOX_JKU] }]), ConfigError)
  await t.rejects(buildProduction(t, [{ iss: SANDBOX_ISS, jku: [SANDBOX_JKU] }]),
    /refusing to start in production \(NODE_ENV=production\): client https:\/\/sandbox\.cds-hooks\.org: a published test issuer .*; client https:\/\/sandbox\.cds-hooks\.org: jku https:\/\/sandbox\.cds-hooks\.org\/\.well-known\/jwks\.json is a published test issuer's key set/)
  await t.rejects(buildProduction(t, [{ ...SAFE_ENTRY, openFhirServers: ['https://open.example.org/fhir'] }]), /openFhirServers must be empty in production/)
})

t.test('production: buildApp refuses to start with a published test key in the clients file, under any issuer', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const publicOnly = (keys: Jwk[]): Jwk[] => keys.filter((key) => key.d === undefined)
  const published: Array<[string, Jwk[]]> = [
    ['CDS Hooks spec example-kid', specPublicJwks().keys],
    ['CDS Hooks sandbox', sandboxPublicJwks().keys],
    ['Inferno CRD ES384', publicOnly(crdKeys().publicJwks.keys).filter((key) => key.alg === 'ES384')],
    ['Inferno CRD RS384', publicOnly(crdKeys().publicJwks.keys).filter((key) => key.alg === 'RS384')]
  ]
  for (const [name, keys] of published) {
    const entry = { ...SAFE_ENTRY, jwks: { keys: [...SAFE_ENTRY.jwks.keys, ...keys] } }
    await t.rejects(buildProduction(t, [entry]), new RegExp(`refusing to start in production .*is the published test key "${name}"`), name)
  }
})
