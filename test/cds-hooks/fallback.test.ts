import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { FHIR_FETCH_MAX_IN_FLIGHT } from '../../src/cds-hooks/fetch.js'
import { PREFETCH_KEYS } from '../../src/cds-hooks/prefetch.js'
import type { FhirResource } from '../../src/fhir/types.js'
import {
  CLOSED_ISSUER, FHIR_TOKEN, PATIENT_VIEW, TestClock, basesOf, buildPrefetch, callHook, contextOf, dataCardOf, e2eApp, e2eClients, issuerOf,
  listedWarningCodes, patientIdOf, patientViewRequest, recommendationCards, sectionLines, serverFor, type HookReply, type RequestParts
} from '../fixtures/cds-e2e.js'
import { EXAMPLE_NAMES, addResource, fixtureFullUrl, loadBaseBundle, resourceById, type Bundle, type ExampleName } from '../fixtures/fhir/bundles.js'
import { assertConformantOperationOutcome, assertConformantResponse } from '../support/cds-conformance.js'
import { startFhirServer, type FaultKind, type FhirServer } from '../support/fhir-server.js'

/**
 * The `fhirServer` fallback against a real FHIR server (spec/ehr-integration.md §4.3, §12.2): the
 * EHR sends no prefetch, only `fhirServer` + `fhirAuthorization` (Bearer), and the service fetches
 * every key from Medplum with our templates. Real mapper, cards, services, JWT verifier (a key
 * generated here: the issuer's client entry holds the FHIR allow-list, §10.2) and global fetch.
 *
 * Fetch budgets: the tests about WHAT is fetched run with FHIR_FETCH_BUDGET_MS=20000, so that a
 * loaded CI machine cannot turn a slow Medplum search into a partial key; the budget itself is
 * tested with 300 ms against the slow fault route (behaviour asserted, plus a generous bound far
 * below the route's delay, never an exact time).
 */

const SLOW_MS = 10_000
const REQUIRED = PREFETCH_KEYS.filter((spec) => spec.required).map((spec) => spec.key)
const KEY_OF_TYPE: Readonly<Record<string, string[]>> = Object.fromEntries(
  [...new Set(PREFETCH_KEYS.map((spec) => spec.resourceType))].map((type) => [type, PREFETCH_KEYS.filter((spec) => spec.resourceType === type).map((spec) => spec.key)])
)

const clock = new TestClock()
const bundles = new Map<ExampleName, Bundle>(EXAMPLE_NAMES.map((name) => [name, loadBaseBundle(name)]))
const servers = new Map<ExampleName, FhirServer>()
const prefetches = new Map<ExampleName, Record<string, unknown>>()
/** second-line with its denosumab as a medicationReference to a Medication that only the server has (§4.3 last rule). */
const medicationBundle = withMedicationReference(loadBaseBundle('second-line-after-thp'))
let medicationServer: FhirServer
/** The seed on a server without a token: a non-production `openFhirServers` entry (§4.3), the sandbox's case. */
let openServer: FhirServer
/** The seed on a server whose slow route answers after SLOW_MS, far beyond the 300 ms budget of `budgetApp`. */
let slowServer: FhirServer
let app: FastifyInstance
let manyPagesApp: FastifyInstance
let budgetApp: FastifyInstance

t.before(async () => {
  for (const [name, bundle] of bundles) servers.set(name, await serverFor(bundle))
  medicationServer = await serverFor(medicationBundle)
  openServer = await startFhirServer({ bundles: [bundles.get('seed-locally-advanced-painful-vertebra') as Bundle] })
  slowServer = await startFhirServer({ token: FHIR_TOKEN, bundles: [bundles.get('seed-locally-advanced-painful-vertebra') as Bundle], slowMs: SLOW_MS })
  const clients = e2eClients([...servers.values(), medicationServer, slowServer].flatMap(basesOf), [openServer.baseUrl])
  app = await e2eApp(t, { clock, clients, env: { FHIR_FETCH_BUDGET_MS: '20000' } })
  manyPagesApp = await e2eApp(t, { clock, clients, env: { FHIR_FETCH_BUDGET_MS: '20000', FHIR_FETCH_MAX_PAGES: '100' } })
  budgetApp = await e2eApp(t, { clock, clients, env: { FHIR_FETCH_BUDGET_MS: '300' } })
  for (const [name, bundle] of bundles) prefetches.set(name, await buildPrefetch(serverOf(name).baseUrl, patientIdOf(bundle)))
})
t.teardown(async () => {
  for (const server of [...servers.values(), medicationServer, openServer, slowServer]) await server?.close()
})

const SEED: ExampleName = 'seed-locally-advanced-painful-vertebra'
const serverOf = (name: ExampleName): FhirServer => servers.get(name) as FhirServer
const patientOf = (name: ExampleName): string => patientIdOf(bundles.get(name) as Bundle)

function withMedicationReference (bundle: Bundle): Bundle {
  const request = resourceById(bundle, 'MedicationRequest', 'sl-denosumab')
  const medication = addResource(bundle, { resourceType: 'Medication', id: 'sl-denosumab-product', code: request.medicationCodeableConcept })
  delete request.medicationCodeableConcept
  request.medicationReference = { reference: fixtureFullUrl(medication) }
  return bundle
}

/** patient-view for the example at its evaluation date, by the issuer of its jurisdiction unless told. */
async function call (t: Test, name: ExampleName, parts: Omit<RequestParts, 'patientId'>, options: { iss?: string, on?: FastifyInstance, patientId?: string } = {}): Promise<HookReply> {
  const { evaluationDate, jurisdiction } = contextOf(name)
  clock.setDate(evaluationDate)
  const body = patientViewRequest({ patientId: options.patientId ?? patientOf(name), ...parts })
  const reply = await callHook(options.on ?? app, clock, PATIENT_VIEW, body, options.iss ?? issuerOf(jurisdiction))
  if (reply.status === 200) assertConformantResponse(t, reply.body)
  else assertConformantOperationOutcome(t, reply.status, reply.body)
  return reply
}

/** The requests a server logged during `action`. */
async function logged<T> (server: FhirServer, action: () => Promise<T>): Promise<{ result: T, requests: FhirServer['requests'] }> {
  const before = server.requests.length
  const result = await action()
  return { result, requests: server.requests.slice(before) }
}

const dataIssues = (reply: HookReply): string[] => sectionLines(dataCardOf(reply.body) ?? { summary: '', indicator: 'info', source: { label: '' } }, 'Data issues')
const linesOf = (reply: HookReply, code: string): string[] => dataIssues(reply).filter((line) => line.endsWith(`(${code})`))
/** The keys the FHIR_DATA_* lines of the data card name. */
const keysNamed = (reply: HookReply, code: string): string[] => linesOf(reply, code).map((line) => /"([A-Za-z]+)"/.exec(line)?.[1] ?? '?').sort()

function expect412 (t: Test, reply: HookReply, keys: readonly string[]): void {
  t.equal(reply.status, 412, `412 for ${keys.join(', ')}`)
  t.equal(reply.body.issue?.[0]?.code, 'processing')
  t.equal(reply.body.issue?.[0]?.diagnostics, `prefetch keys unavailable: ${keys.join(', ')}`)
  t.strictSame(reply.body.issue?.[0]?.expression, keys.map((key) => `prefetch.${key}`))
}

const withToken = (fhirServer: string): Pick<RequestParts, 'fhirServer' | 'token'> => ({ fhirServer, token: FHIR_TOKEN })

// ---------------------------------------------------------------------------------------------
// §12.2 first bullet: the same cards as with prefetch

for (const name of EXAMPLE_NAMES) {
  t.test(`§12.2 ${name}: no prefetch, fhirServer + Bearer token → the same cards as with prefetch, every key fetched once with the token`, async (t) => {
    const server = serverOf(name)
    const hookInstance = randomUUID()
    const withPrefetch = await call(t, name, { prefetch: structuredClone(prefetches.get(name) as Record<string, unknown>), hookInstance })
    const { result: fetched, requests } = await logged(server, async () => await call(t, name, { hookInstance, ...withToken(server.baseUrl) }))
    t.equal(fetched.status, 200)
    t.strictSame(fetched.body, withPrefetch.body, 'the same cards, data card included')
    t.equal(requests.length, PREFETCH_KEYS.length, 'one request per key (one page each, no Medication to read)')
    t.ok(requests.every((request) => request.host === 'fhir' && request.authorization && request.url.startsWith(`${server.baseUrl}/`)), 'each with the token, under the base')
    t.ok(requests.some((request) => request.url === `${server.baseUrl}/Patient/${patientOf(name)}`), 'the Patient read')
  })
}

t.test('§4.3: an open server (openFhirServers, non-production) is queried without any token: the same cards', async (t) => {
  const hookInstance = randomUUID()
  const withPrefetch = await call(t, SEED, { prefetch: structuredClone(prefetches.get(SEED) as Record<string, unknown>), hookInstance })
  const { result, requests } = await logged(openServer, async () => await call(t, SEED, { hookInstance, fhirServer: openServer.baseUrl }))
  t.strictSame(result.body, withPrefetch.body)
  t.equal(requests.length, PREFETCH_KEYS.length)
  t.ok(requests.every((request) => !request.authorization), 'no Authorization header')
})

t.test('§4.3: an open server with fhirAuthorization still gets no token (the base is not on fhirServers)', async (t) => {
  const { result, requests } = await logged(openServer, async () => await call(t, SEED, withToken(openServer.baseUrl)))
  t.equal(result.status, 200)
  t.ok(requests.length > 0 && requests.every((request) => !request.authorization))
})

t.test('§4.3: a medicationReference that resolves to nothing in hand is read as Medication/{id}, with the token', async (t) => {
  const name: ExampleName = 'second-line-after-thp'
  const hookInstance = randomUUID()
  const base = await call(t, name, { prefetch: structuredClone(prefetches.get(name) as Record<string, unknown>), hookInstance })
  // The EHR prefetches every key (a MedicationRequest search does not include the Medication).
  const prefetch = await buildPrefetch(medicationServer.baseUrl, patientOf(name))
  const { result, requests } = await logged(medicationServer, async () => await call(t, name, { prefetch, hookInstance, ...withToken(medicationServer.baseUrl) }))
  t.equal(result.status, 200)
  t.strictSame(requests.map((request) => [request.url, request.authorization]), [[`${medicationServer.baseUrl}/Medication/sl-denosumab-product`, true]], 'one read: the Medication')
  t.strictSame(recommendationCards(result.body), recommendationCards(base.body), 'the same recommendation cards as with the drug coded in place')
  t.notOk(listedWarningCodes(dataCardOf(result.body)).includes('FHIR_MEDICATION_UNRESOLVED'))

  const unread = await call(t, name, { prefetch, hookInstance })
  t.ok(listedWarningCodes(dataCardOf(unread.body)).includes('FHIR_MEDICATION_UNRESOLVED'), 'without fhirServer the drug stays unresolved')
  t.notSame(recommendationCards(unread.body), recommendationCards(base.body), 'and the denosumab history is missing from the case')
})

// ---------------------------------------------------------------------------------------------
// §12.2 paging: next links at the same base are followed; to a foreign host never

t.test('§4.3 paging: next links at the same base are followed with the token, up to FHIR_FETCH_MAX_PAGES: the same cards', async (t) => {
  const server = serverOf(SEED)
  const hookInstance = randomUUID()
  const withPrefetch = await call(t, SEED, { prefetch: structuredClone(prefetches.get(SEED) as Record<string, unknown>), hookInstance })
  const { result, requests } = await logged(server, async () => await call(t, SEED, { hookInstance, ...withToken(server.pagedBaseUrl) }, { on: manyPagesApp }))
  t.strictSame(result.body, withPrefetch.body, 'the same cards from pages of 2 entries')
  t.ok(requests.some((request) => request.url.includes('_offset=')), 'later pages were fetched')
  t.ok(requests.every((request) => request.url.startsWith(`${server.pagedBaseUrl}/`) && request.authorization), 'all under the paged base, with the token')
})

t.test('§4.3 paging: past FHIR_FETCH_MAX_PAGES (5) a key is partial: FHIR_DATA_PARTIAL names it, its first pages are used', async (t) => {
  const server = serverOf(SEED)
  const prefetch = prefetches.get(SEED) as Record<string, { entry?: unknown[] }>
  // Pages of 2 entries: a key with more than 10 entries is cut at 5 pages.
  const large = PREFETCH_KEYS.filter((spec) => !spec.read && (prefetch[spec.key]?.entry?.length ?? 0) > 10).map((spec) => spec.key).sort()
  t.ok(large.length > 0, `the seed has keys of more than 10 entries (${large.join(', ')})`)
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(server.pagedBaseUrl)))
  t.equal(result.status, 200, 'partial keys count as available')
  t.strictSame(keysNamed(result, 'FHIR_DATA_PARTIAL'), large)
  for (const key of large) {
    const template = PREFETCH_KEYS.find((spec) => spec.key === key)?.template.split('?')[0] as string
    const pages = requests.filter((request) => request.url.startsWith(`${server.pagedBaseUrl}/${template}?`) && request.url.includes(`_count=${/_count=(\d+)/.exec(PREFETCH_KEYS.find((spec) => spec.key === key)?.template ?? '')?.[1] ?? ''}`))
    t.equal(pages.length, 5, `${key}: 5 pages, no more`)
  }
})

t.test('§4.3: a next link to a foreign host is not followed and gets no token: the keys are partial', async (t) => {
  const server = serverOf(SEED)
  const prefetch = prefetches.get(SEED) as Record<string, { entry?: unknown[] }>
  // The foreign-next base pages by 2 and links page 2 to another origin.
  const cut = PREFETCH_KEYS.filter((spec) => !spec.read && (prefetch[spec.key]?.entry?.length ?? 0) > 2).map((spec) => spec.key).sort()
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(server.foreignNextBaseUrl)))
  t.strictSame(requests.filter((request) => request.host === 'foreign'), [], 'nothing reached the foreign host')
  t.equal(requests.length, PREFETCH_KEYS.length, 'one request per key: no next page anywhere')
  t.ok(requests.every((request) => request.url.startsWith(`${server.foreignNextBaseUrl}/`) && request.authorization))
  t.equal(result.status, 200)
  t.ok(recommendationCards(result.body).length > 0, 'what arrived still makes a complete case: evaluated')
  t.strictSame(keysNamed(result, 'FHIR_DATA_PARTIAL'), cut, 'FHIR_DATA_PARTIAL names every key cut by the foreign link')
})

// ---------------------------------------------------------------------------------------------
// §12.2: redirects and faults → unavailable keys → 412 (required) or a warning (optional)

t.test('§4.3: a 302 is not followed and the token is not sent to its target: 412 naming every required key', async (t) => {
  const server = serverOf(SEED)
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(server.faultBaseUrl('redirect'))))
  expect412(t, result, REQUIRED)
  t.strictSame(requests.filter((request) => request.host === 'foreign'), [], 'the redirect target got nothing')
  t.equal(requests.length, PREFETCH_KEYS.length, 'one request per key, no retry')
})

t.test('§4.3: a redirect on an optional key only: 200, FHIR_DATA_UNAVAILABLE names it, the token stays home', async (t) => {
  const server = serverOf(SEED)
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(server.faultBaseUrl('redirect', 'MedicationStatement'))))
  t.equal(result.status, 200)
  t.strictSame(keysNamed(result, 'FHIR_DATA_UNAVAILABLE'), ['medicationStatements'])
  t.strictSame(requests.filter((request) => request.host === 'foreign'), [])
})

const FAULTS: readonly FaultKind[] = ['401', '500', 'outcome']

t.test('§4.3: 401, 500 and an OperationOutcome body make a key unavailable: 412 naming the required keys, a warning for optional ones', async (t) => {
  const server = serverOf(SEED)
  /** The prefetch without the keys of `type`: only those are fetched, from the route that fails for that type. */
  const without = (type: string): Pick<RequestParts, 'prefetch'> => {
    const prefetch = structuredClone(prefetches.get(SEED) as Record<string, unknown>)
    for (const key of KEY_OF_TYPE[type] ?? []) delete prefetch[key]
    return { prefetch }
  }
  for (const kind of FAULTS) {
    // The whole server fails: nothing but the token reaches Medplum.
    expect412(t, await call(t, SEED, withToken(server.faultBaseUrl(kind))), REQUIRED)
    expect412(t, await call(t, SEED, { ...without('Procedure'), ...withToken(server.faultBaseUrl(kind, 'Procedure')) }), ['procedures'])
    expect412(t, await call(t, SEED, { ...without('Condition'), ...withToken(server.faultBaseUrl(kind, 'Condition')) }), ['conditions'])
    expect412(t, await call(t, SEED, { ...without('Patient'), ...withToken(server.faultBaseUrl(kind, 'Patient')) }), ['patient'])
    // Every Observation key fails: the three required ones make the 412.
    expect412(t, await call(t, SEED, { ...without('Observation'), ...withToken(server.faultBaseUrl(kind, 'Observation')) }), REQUIRED.filter((key) => KEY_OF_TYPE.Observation?.includes(key)))
    const optional = await call(t, SEED, { ...without('MedicationAdministration'), ...withToken(server.faultBaseUrl(kind, 'MedicationAdministration')) })
    t.equal(optional.status, 200, `${kind} on an optional key: 200`)
    t.strictSame(keysNamed(optional, 'FHIR_DATA_UNAVAILABLE'), ['medicationAdministrations'], `${kind}: FHIR_DATA_UNAVAILABLE names the key`)
  }
  // The same fault on every key of the server, not only on a prefetch gap: the optional key is still just a warning.
  const whole = await call(t, SEED, withToken(server.faultBaseUrl('500', 'MedicationStatement')))
  t.equal(whole.status, 200)
  t.strictSame(keysNamed(whole, 'FHIR_DATA_UNAVAILABLE'), ['medicationStatements'])
})

t.test('§4.3: a 401 is never retried, with another token or without', async (t) => {
  const server = serverOf(SEED)
  const { requests } = await logged(server, async () => await call(t, SEED, { fhirServer: server.baseUrl, token: 'not-the-token' }))
  t.equal(requests.length, PREFETCH_KEYS.length, 'one request per key')
  t.ok(requests.every((request) => request.authorization))
})

t.test('§4.3, §4.4: a Patient read that finds nothing (404) is null: 412 "patient not found"', async (t) => {
  const reply = await call(t, SEED, withToken(serverOf(SEED).baseUrl), { patientId: 'no-such-patient' })
  t.equal(reply.status, 412)
  t.equal(reply.body.issue[0].diagnostics, 'patient not found')
})

t.test('§4.3 budget: a server slower than FHIR_FETCH_BUDGET_MS (300 ms) → every key unavailable, 412, without waiting for it', async (t) => {
  const { result, requests } = await logged(slowServer, async () => await call(t, SEED, withToken(slowServer.faultBaseUrl('slow')), { on: budgetApp }))
  expect412(t, result, REQUIRED)
  // At most 4 requests in flight (§4.3): the first ones wait out the budget; the keys still queued at the deadline are never sent.
  t.ok(requests.length >= FHIR_FETCH_MAX_IN_FLIGHT && requests.length < PREFETCH_KEYS.length, `${requests.length} requests: the first ${FHIR_FETCH_MAX_IN_FLIGHT}, not every key`)
  t.ok(result.ms < SLOW_MS, `answered in ${Math.round(result.ms)} ms, before the server would have (${SLOW_MS} ms)`)
})

t.test('§4.3 budget: only the optional key fetched is slow → 200 with FHIR_DATA_UNAVAILABLE, within the budget', async (t) => {
  const prefetch = structuredClone(prefetches.get(SEED) as Record<string, unknown>)
  delete prefetch.medicationStatements
  const { result, requests } = await logged(slowServer, async () => await call(t, SEED, { prefetch, ...withToken(slowServer.faultBaseUrl('slow', 'MedicationStatement')) }, { on: budgetApp }))
  t.equal(result.status, 200)
  t.strictSame(keysNamed(result, 'FHIR_DATA_UNAVAILABLE'), ['medicationStatements'])
  t.equal(requests.length, 1, 'only the missing key was fetched')
  t.ok(result.ms < SLOW_MS, `answered in ${Math.round(result.ms)} ms`)
})

// ---------------------------------------------------------------------------------------------
// §12.2: no fetch without the allow-list

t.test('§4.3: an issuer without the server on its allow-list gets no fetch at all: 412', async (t) => {
  const server = serverOf(SEED)
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(server.baseUrl), { iss: CLOSED_ISSUER }))
  expect412(t, result, REQUIRED)
  t.strictSame(requests, [], 'no request')
})

t.test('§4.3 condition 2: fhirServer is compared normalised (upper-case scheme and host, a trailing slash): fetched, under the listed base', async (t) => {
  const server = serverOf(SEED)
  const written = server.baseUrl.replace('http://127.0.0.1', 'HTTP://127.0.0.1') + '/'
  const { result, requests } = await logged(server, async () => await call(t, SEED, withToken(written)))
  t.equal(result.status, 200)
  t.equal(requests.length, PREFETCH_KEYS.length)
  t.ok(requests.every((request) => request.url.startsWith(`${server.baseUrl}/`) && !request.url.includes('//Patient') && request.authorization))
})

t.test('§4.3: no fetch either for a base not on the list, a base with userinfo or a query, or a token that is not Bearer', async (t) => {
  const server = serverOf(SEED)
  const withUserinfo = server.baseUrl.replace('http://', 'http://user:pass@')
  const cases: Array<[string, Omit<RequestParts, 'patientId'>]> = [
    ['the foreign host', withToken(server.foreignBaseUrl)],
    ['userinfo', withToken(withUserinfo)],
    ['a query', withToken(`${server.baseUrl}?tenant=1`)],
    ['a sub-path of an allowed base', withToken(`${server.baseUrl}/Patient`)]
  ]
  for (const [what, parts] of cases) {
    const { result, requests } = await logged(server, async () => await call(t, SEED, parts))
    expect412(t, result, REQUIRED)
    t.strictSame(requests, [], `${what}: no request`)
  }
  const body = patientViewRequest({ patientId: patientOf(SEED), ...withToken(server.baseUrl) })
  ;(body.fhirAuthorization as Record<string, string>).token_type = 'MAC'
  clock.setDate(contextOf(SEED).evaluationDate)
  const { result, requests } = await logged(server, async () => await callHook(app, clock, PATIENT_VIEW, body, issuerOf('EU')))
  t.equal(result.status, 412, 'token_type MAC: 412')
  t.strictSame(requests, [], 'token_type MAC: no request')
})

t.test('§4.3 condition 3: fhirAuthorization.patient other than context.patientId is a 400, before any fetch', async (t) => {
  const server = serverOf(SEED)
  const body = patientViewRequest({ patientId: patientOf(SEED), ...withToken(server.baseUrl) })
  ;(body.fhirAuthorization as Record<string, string>).patient = 'someone-else'
  clock.setDate(contextOf(SEED).evaluationDate)
  const { result, requests } = await logged(server, async () => await callHook(app, clock, PATIENT_VIEW, body, issuerOf('EU')))
  t.equal(result.status, 400)
  assertConformantOperationOutcome(t, 400, result.body)
  t.strictSame(requests, [])
  ;(body.fhirAuthorization as Record<string, string>).patient = patientOf(SEED)
  const same = await callHook(app, clock, PATIENT_VIEW, { ...body, hookInstance: randomUUID() }, issuerOf('EU'))
  t.equal(same.status, 200, 'the same patient: fetched and answered')
})

t.test('a fetched record from a FHIR server never carries the token into the cards', async (t) => {
  const reply = await call(t, SEED, withToken(serverOf(SEED).baseUrl))
  t.notMatch(JSON.stringify(reply.body), FHIR_TOKEN)
  t.notMatch(JSON.stringify(reply.body), serverOf(SEED).baseUrl, 'nor the FHIR server URL')
})

t.test('the closed issuer is still answered from a full prefetch (the allow-list only gates fetching)', async (t) => {
  const reply = await call(t, SEED, { prefetch: structuredClone(prefetches.get(SEED) as Record<string, unknown>) }, { iss: CLOSED_ISSUER })
  t.equal(reply.status, 200)
  t.ok(recommendationCards(reply.body).length > 0)
  t.ok(dataIssues(reply).length > 0)
})

/** Sanity of the fixtures this file relies on: the medication variant really moved the drug behind a reference. */
t.test('fixture: the medication bundle references a Medication that the prefetch searches do not return', async (t) => {
  const request = resourceById(medicationBundle, 'MedicationRequest', 'sl-denosumab') as FhirResource & { medicationReference?: { reference: string } }
  t.equal(request.medicationReference?.reference, 'https://example.org/fhir/Medication/sl-denosumab-product')
  const prefetch = await buildPrefetch(medicationServer.baseUrl, patientOf('second-line-after-thp'))
  t.notMatch(JSON.stringify(prefetch), '"resourceType":"Medication"')
})
