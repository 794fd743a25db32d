import { decodeJwt, decodeProtectedHeader, type FetchImplementation } from 'jose'
import t from 'tap'
import { CdsClient } from '../../src/cds-hooks/clients.js'
import { createJwtVerifier } from '../../src/cds-hooks/jwt.js'
import { parseConfig } from '../../src/config.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { generatedKey, SANDBOX_ISS, SANDBOX_JKU, SANDBOX_KID, sandboxPublicJwks } from '../support/jwt-keys.js'
import { resolvedPrefetch, SANDBOX_ORIGIN, SANDBOX_USER_ID, SandboxClient, sandboxMedication, type ReplayRequest } from '../support/sandbox-client.js'
import { needThirdParty, thirdPartySkip } from '../support/third-party-fixtures.js'

// The sandbox replay client of spec/ehr-integration.md §12.5: its requests have the real sandbox's
// shape, and its tokens pass our verifier with the sandbox issuer configured by jku.

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0)
const BASE = 'https://cds.example.org'
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
// A generated key with the sandbox's kid, so that the shapes are checked without ../shared.
const standIn = { ...generatedKey('ES384', SANDBOX_KID), name: 'stand-in for the sandbox key' }
const client = new SandboxClient({ baseUrl: `${BASE}/`, key: standIn, now: () => NOW_MS, origin: 'http://127.0.0.1:8080' })

function authorizationOf (request: ReplayRequest): string {
  return (request.headers.authorization as string).replace(/^Bearer /, '')
}

t.test('the JWT: ES384, the sandbox kid and jku; iss, aud = the URL called, exp = iat + 300, a UUID jti, no sub', async (t) => {
  const token = client.jwt('/cds-services/her2-mbc-bone-mets')
  t.strictSame(decodeProtectedHeader(token), { alg: 'ES384', typ: 'JWT', kid: SANDBOX_KID, jku: SANDBOX_JKU })
  const payload = decodeJwt(token)
  t.strictSame(Object.keys(payload), ['iss', 'aud', 'exp', 'iat', 'jti'])
  t.equal(payload.iss, SANDBOX_ISS)
  t.equal(payload.aud, `${BASE}/cds-services/her2-mbc-bone-mets`)
  t.equal(payload.iat, NOW_MS / 1000)
  t.equal(payload.exp, NOW_MS / 1000 + 300)
  t.match(payload.jti, UUID_V4)
  t.not(decodeJwt(client.jwt('/cds-services')).jti, payload.jti, 'a new jti per call')
})

t.test('a preflight without JWT before every call', async (t) => {
  const calls = [
    client.discovery(),
    client.patientView({ serviceId: 'her2-mbc-bone-mets', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4' }),
    client.orderSelect({ serviceId: 'her2-mbc-order-check', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4', medication: { code: '1', display: 'one' } }),
    client.feedback({ serviceId: 'her2-mbc-bone-mets', card: '5b3a4c5e-0000-4000-8000-000000000000', reason: { code: 'x' } })
  ]
  for (const [preflight, call] of calls) {
    t.equal(preflight.method, 'OPTIONS')
    t.equal(preflight.url, call.url)
    t.notOk('authorization' in preflight.headers, `${call.url}: no Authorization on the preflight`)
    t.equal(preflight.headers.origin, 'http://127.0.0.1:8080')
    t.equal(preflight.headers['access-control-request-method'], call.method)
    t.equal(preflight.aud, undefined)
    t.equal(call.headers.origin, 'http://127.0.0.1:8080')
    t.equal(decodeJwt(authorizationOf(call)).aud, call.aud)
    t.equal(call.aud, BASE + call.url)
  }
  t.equal(calls[0]?.[0].headers['access-control-request-headers'], 'authorization')
  t.equal(calls[1]?.[0].headers['access-control-request-headers'], 'authorization,content-type')
  t.equal(calls[0]?.[1].method, 'GET')
  t.notOk('content-type' in (calls[0]?.[1].headers ?? {}), 'discovery has no body')
  t.equal(new SandboxClient({ baseUrl: BASE, key: standIn }).preflight('/cds-services', 'GET').headers.origin, SANDBOX_ORIGIN, 'the public sandbox origin by default')
})

t.test('patient-view: UUID v4 hookInstance, the sandbox user, prefetch only for resolved keys, no fhirAuthorization', async (t) => {
  const patient = { resourceType: 'Patient', id: 'p1' }
  const [, call] = client.patientView({
    serviceId: 'her2-mbc-bone-mets',
    patientId: 'p1',
    fhirServer: 'https://fhir.example.org/r4',
    prefetch: { patient, conditions: undefined, markers: {}, broken: null, observations: { resourceType: 'Bundle', type: 'searchset' } }
  })
  const body = call.payload as Record<string, unknown>
  t.strictSame(Object.keys(body), ['hookInstance', 'hook', 'fhirServer', 'context', 'prefetch'])
  t.match(body.hookInstance, UUID_V4)
  t.equal(body.hook, 'patient-view')
  t.strictSame(body.context, { patientId: 'p1', userId: SANDBOX_USER_ID })
  t.strictSame(Object.keys(body.prefetch as object), ['patient', 'observations'])
  t.notOk('fhirAuthorization' in body)
  t.equal(call.headers['content-type'], 'application/json')
  t.equal(call.headers.accept, 'application/json')

  const [, bare] = client.patientView({ serviceId: 'her2-mbc-bone-mets', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4', prefetch: { patient: undefined } })
  t.notOk('prefetch' in (bare.payload as object), 'no prefetch member when nothing resolved')
  t.not((bare.payload as { hookInstance: string }).hookInstance, body.hookInstance, 'a new hookInstance per call')
  t.equal(resolvedPrefetch(undefined), undefined)
})

t.test('order-select: selections and a draftOrders Bundle without type, one draft MedicationRequest', async (t) => {
  const [, call] = client.orderSelect({ serviceId: 'her2-mbc-order-check', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4', medication: { code: '200328', display: 'capecitabine 500 MG Oral Tablet' } })
  const body = call.payload as { hook: string, context: { selections: string[], draftOrders: { resourceType: string, type?: string, entry: Array<{ resource: Record<string, unknown> }> }, userId: string } }
  t.equal(body.hook, 'order-select')
  t.equal(body.context.userId, SANDBOX_USER_ID)
  t.strictSame(body.context.selections, ['MedicationRequest/request-123'])
  t.equal(body.context.draftOrders.resourceType, 'Bundle')
  t.notOk('type' in body.context.draftOrders, 'draftOrders without type, as the sandbox sends it')
  t.equal(body.context.draftOrders.entry.length, 1)
  const order = body.context.draftOrders.entry[0]?.resource
  t.match(order, {
    resourceType: 'MedicationRequest',
    id: 'request-123',
    status: 'draft',
    subject: { reference: 'Patient/p1' },
    authoredOn: '2026-03-01',
    medicationCodeableConcept: { text: 'capecitabine 500 MG Oral Tablet', coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '200328' }] }
  })
})

t.test('feedback: one overridden item with a reason { code, system } and an RFC 3339 timestamp', async (t) => {
  const [, call] = client.feedback({ serviceId: 'her2-mbc-bone-mets', card: 'c1', reason: { code: 'patient-declined', system: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes' } })
  t.equal(call.url, '/cds-services/her2-mbc-bone-mets/feedback')
  t.strictSame(call.payload, {
    feedback: [{
      card: 'c1',
      outcome: 'overridden',
      outcomeTimestamp: '2026-03-01T12:00:00.000Z',
      overrideReason: { reason: { code: 'patient-declined', system: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes' } }
    }]
  })
  const [, withoutSystem] = client.feedback({ serviceId: 's', card: 'c', reason: { code: 'x' }, outcomeTimestamp: '2026-03-01T13:00:00+01:00' })
  t.strictSame((withoutSystem.payload as { feedback: Array<{ overrideReason: unknown, outcomeTimestamp: string }> }).feedback[0], {
    card: 'c', outcome: 'overridden', outcomeTimestamp: '2026-03-01T13:00:00+01:00', overrideReason: { reason: { code: 'x' } }
  })
})

t.test('with the real sandbox key: every call verifies against the sandbox issuer configured by jku', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const fetched: string[] = []
  const fetchJwks: FetchImplementation = async (url) => {
    fetched.push(url)
    return new Response(JSON.stringify(sandboxPublicJwks()), { status: 200 })
  }
  const verifier = createJwtVerifier({
    clients: [CdsClient.parse({ iss: SANDBOX_ISS, jku: [SANDBOX_JKU], fhirServers: [], openFhirServers: [] })],
    config: parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: BASE }),
    store: new MemoryStore(100, () => NOW_MS),
    now: () => NOW_MS,
    fetchJwks
  })
  const sandbox = new SandboxClient({ baseUrl: BASE, now: () => NOW_MS })
  const medication = sandboxMedication('200328')
  t.strictSame(medication, { code: '200328', display: 'capecitabine 500 MG Oral Tablet' })
  t.throws(() => sandboxMedication('0'), /not in the sandbox extract/)
  const calls = [
    sandbox.discovery()[1],
    sandbox.patientView({ serviceId: 'her2-mbc-bone-mets', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4' })[1],
    sandbox.orderSelect({ serviceId: 'her2-mbc-order-check', patientId: 'p1', fhirServer: 'https://fhir.example.org/r4', medication })[1],
    sandbox.feedback({ serviceId: 'her2-mbc-bone-mets', card: 'c1', reason: { code: 'x' } })[1]
  ]
  for (const call of calls) {
    const caller = await verifier.verify({ rawHeaders: ['authorization', call.headers.authorization as string] }, call.aud as string)
    t.equal(caller.iss, SANDBOX_ISS, `${call.method} ${call.url}`)
  }
  t.strictSame(fetched, [SANDBOX_JKU], 'the sandbox key set, fetched once')
})
