import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import {
  FHIR_FETCH_MAX_BODY_BYTES, FHIR_FETCH_MAX_ENTRIES_PER_KEY, FHIR_FETCH_MAX_IN_FLIGHT, FhirFetcher, fhirAccess, normaliseFhirBase,
  unresolvedMedicationIds, type FetchOptions, type FhirAccess, type KeyFetch
} from '../../src/cds-hooks/fetch.js'
import { PREFETCH_KEYS, type PrefetchKey } from '../../src/cds-hooks/prefetch.js'
import type { CdsClient } from '../../src/cds-hooks/clients.js'
import type { FhirResource } from '../../src/fhir/types.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/** What the local FHIR server saw: path + query, and the Authorization header. */
interface Seen { url: string, authorization?: string, accept?: string }
type Handler = (request: IncomingMessage, response: ServerResponse, base: string) => void | Promise<void>

/** A node:http FHIR server on 127.0.0.1 for one test; `routes` match on the path (before the query). */
async function fhirServer (t: Test, routes: Record<string, Handler>): Promise<{ base: string, seen: Seen[], inFlight: () => number, maxInFlight: () => number }> {
  const seen: Seen[] = []
  let current = 0
  let max = 0
  let base = ''
  const server = createServer((request, response) => {
    current++
    max = Math.max(max, current)
    response.on('close', () => { current-- })
    seen.push({ url: request.url as string, ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }), ...(request.headers.accept === undefined ? {} : { accept: request.headers.accept }) })
    const path = (request.url as string).split('?')[0] as string
    const handler = routes[path.replace(/^\/fhir/, '')] ?? routes['*']
    if (handler === undefined) { response.writeHead(404).end(); return }
    Promise.resolve(handler(request, response, base)).catch(() => { response.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return { base, seen, inFlight: () => current, maxInFlight: () => max }
}

const json = (body: unknown, status = 200): Handler => (_request, response) => {
  response.writeHead(status, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body))
}
const later = (ms: number, handler: Handler): Handler => async (request, response, base) => {
  await new Promise((resolve) => setTimeout(resolve, ms))
  if (!response.destroyed) await handler(request, response, base)
}

const spec = (key: string): PrefetchKey => PREFETCH_KEYS.find((entry) => entry.key === key) as PrefetchKey
const observation = (id: string): FhirResource => ({ resourceType: 'Observation', id, status: 'final', subject: { reference: 'Patient/p1' } })
const searchset = (resources: unknown[], next?: string): Record<string, unknown> => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
  ...(next === undefined ? {} : { link: [{ relation: 'next', url: next }] })
})

const TOKEN = 'secret-fhir-token-123'
const options = (extra: Partial<FetchOptions> = {}): FetchOptions => ({ fetch: globalThis.fetch, budgetMs: 2000, maxPages: 5, ...extra })
const key = (name: string, patientId = 'p1'): KeyFetch => ({ spec: spec(name), patientId })

// ---------------------------------------------------------------------------------------------
// §4.3 conditions

t.test('fhirServer normalisation: lower-case scheme and host, no default port, no trailing slash', async (t) => {
  t.equal(normaliseFhirBase('HTTPS://EHR.Example.org:443/fhir/r4/'), 'https://ehr.example.org/fhir/r4')
  t.equal(normaliseFhirBase('http://ehr.example.org:80/fhir'), 'http://ehr.example.org/fhir')
  t.equal(normaliseFhirBase('http://ehr.example.org:8080/fhir//'), 'http://ehr.example.org:8080/fhir')
  t.equal(normaliseFhirBase('https://ehr.example.org'), 'https://ehr.example.org')
  t.equal(normaliseFhirBase('https://ehr.example.org/Fhir'), 'https://ehr.example.org/Fhir', 'the path keeps its case')
  for (const refused of ['https://user:pw@ehr.example.org/fhir', 'https://user@ehr.example.org/fhir', 'https://ehr.example.org/fhir?x=1', 'https://ehr.example.org/fhir?', 'https://ehr.example.org/fhir#f', 'ftp://ehr.example.org/fhir', 'not a url']) {
    t.equal(normaliseFhirBase(refused), undefined, refused)
  }
})

const client = (extra: Partial<CdsClient> = {}): CdsClient => ({ iss: 'https://ehr.example.org', jku: [], fhirServers: ['https://EHR.example.org:443/fhir/'], openFhirServers: [], ...extra })
const authorization = { access_token: TOKEN, token_type: 'Bearer' }

t.test('condition 1: fhirServer and a Bearer fhirAuthorization', async (t) => {
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: authorization }, client(), true), { access: { base: 'https://ehr.example.org/fhir', token: TOKEN } })
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...authorization, token_type: 'bearer' } }, client(), true), { access: { base: 'https://ehr.example.org/fhir', token: TOKEN } }, 'the token type is case-insensitive (RFC 6749)')
  t.strictSame(fhirAccess({ fhirAuthorization: authorization }, client(), true), { reason: 'no_fhir_server' })
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir' }, client(), true), { reason: 'fhir_server_not_allowed' }, 'no token')
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...authorization, token_type: 'MAC' } }, client(), true), { reason: 'fhir_server_not_allowed' })
})

t.test('condition 2: the normalised fhirServer on the verified issuer\'s allow-list; https only in production', async (t) => {
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: authorization }, undefined, false), { reason: 'no_verified_issuer' })
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/other', fhirAuthorization: authorization }, client(), false), { reason: 'fhir_server_not_allowed' })
  t.strictSame(fhirAccess({ fhirServer: 'https://evil.example.org/fhir', fhirAuthorization: authorization }, client(), false), { reason: 'fhir_server_not_allowed' })
  t.strictSame(fhirAccess({ fhirServer: 'https://ehr.example.org/fhir?x', fhirAuthorization: authorization }, client(), false), { reason: 'fhir_server_not_normalisable' })
  const http = client({ fhirServers: ['http://ehr.example.org/fhir'] })
  t.strictSame(fhirAccess({ fhirServer: 'http://ehr.example.org/fhir', fhirAuthorization: authorization }, http, false), { access: { base: 'http://ehr.example.org/fhir', token: TOKEN } })
  t.strictSame(fhirAccess({ fhirServer: 'http://ehr.example.org/fhir', fhirAuthorization: authorization }, http, true), { reason: 'fhir_server_not_https' })
})

t.test('openFhirServers: queried without a token, outside production only', async (t) => {
  const open = client({ fhirServers: [], openFhirServers: ['http://sandbox.example.org/fhir'] })
  t.strictSame(fhirAccess({ fhirServer: 'http://sandbox.example.org/fhir' }, open, false), { access: { base: 'http://sandbox.example.org/fhir' } })
  t.strictSame(fhirAccess({ fhirServer: 'http://sandbox.example.org/fhir', fhirAuthorization: authorization }, open, false), { access: { base: 'http://sandbox.example.org/fhir' } }, 'the token never goes to an open server')
  t.strictSame(fhirAccess({ fhirServer: 'https://sandbox.example.org/fhir' }, client({ openFhirServers: ['https://sandbox.example.org/fhir'] }), true), { reason: 'fhir_server_not_allowed' })
})

// ---------------------------------------------------------------------------------------------
// Fetching

t.test('a read: 200 Patient → data, with Accept and the token; the patient id URL-encoded', async (t) => {
  const server = await fhirServer(t, { '/Patient/p-1.a': json({ resourceType: 'Patient', id: 'p-1.a' }) })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  const result = await fetcher.fetchKeys([key('patient', 'p-1.a')])
  t.strictSame(result.get('patient'), { state: 'data', resources: [{ resourceType: 'Patient', id: 'p-1.a' }] })
  t.strictSame(server.seen, [{ url: '/fhir/Patient/p-1.a', authorization: `Bearer ${TOKEN}`, accept: 'application/fhir+json' }])
  t.strictSame(fetcher.events, [{ key: 'patient', status: '2xx', durationMs: fetcher.events[0]?.durationMs }])
})

t.test('a read: 404 → null (empty); 401, 403, 500, another patient, an OperationOutcome → unavailable', async (t) => {
  const server = await fhirServer(t, {
    '/Patient/gone': json({ resourceType: 'OperationOutcome' }, 404),
    '/Patient/a401': json({}, 401),
    '/Patient/a403': json({}, 403),
    '/Patient/a500': json({}, 500),
    '/Patient/other': json({ resourceType: 'Patient', id: 'someone-else' }),
    '/Patient/oo': json({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] })
  })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  t.strictSame((await fetcher.fetchKeys([key('patient', 'gone')])).get('patient'), { state: 'empty' })
  for (const id of ['a401', 'a403', 'a500', 'other', 'oo']) t.strictSame((await fetcher.fetchKeys([key('patient', id)])).get('patient'), { state: 'unavailable' }, id)
  t.strictSame(fetcher.events.map((event) => event.status), ['4xx', '4xx', '4xx', '5xx', '2xx', '2xx'])
})

t.test('a search follows next links under the base, with the token, up to the page limit', async (t) => {
  const server = await fhirServer(t, {
    '/Observation': (_request, response, base) => json(searchset([observation('a')], `${base}/page?n=2`))(_request, response, base),
    '/page': (request, response, base) => {
      const n = Number(new URL(request.url as string, 'http://x').searchParams.get('n'))
      json(searchset([observation(`p${n}`)], `${base}/page?n=${n + 1}`))(request, response, base)
    }
  })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options({ maxPages: 3 }))
  const result = await fetcher.fetchKeys([key('markers')])
  t.strictSame(result.get('markers'), { state: 'partial', resources: [observation('a'), observation('p2'), observation('p3')] }, 'three pages, then partial')
  t.equal(server.seen.length, 3)
  t.ok(server.seen.every((seen) => seen.authorization === `Bearer ${TOKEN}`))
  t.match(server.seen[0]?.url, /^\/fhir\/Observation\?patient=p1&code=http:\/\/loinc\.org\|48676-1,/)
})

t.test('FHIR_FETCH_MAX_PAGES defaults to 5 (config) and a search without next is complete', async (t) => {
  const server = await fhirServer(t, { '/Condition': json(searchset([{ resourceType: 'Condition', id: 'c1' }])) })
  const fetcher = new FhirFetcher({ base: server.base }, options())
  t.strictSame((await fetcher.fetchKeys([key('conditions')])).get('conditions'), { state: 'data', resources: [{ resourceType: 'Condition', id: 'c1' }] })
  t.equal(server.seen[0]?.authorization, undefined, 'no token for an open server')
})

t.test('a next link outside the base is not followed: the key is partial, and the foreign host sees nothing', async (t) => {
  const foreign = await fhirServer(t, { '*': json(searchset([observation('stolen')])) })
  const server = await fhirServer(t, {
    '/Observation': json(searchset([observation('a')], `${foreign.base}/Observation?page=2`))
  })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  t.strictSame((await fetcher.fetchKeys([key('markers')])).get('markers'), { state: 'partial', resources: [observation('a')] })
  t.equal(foreign.seen.length, 0)
  t.strictSame(fetcher.notes, ['fhir_next_link_foreign'])
  // A base that is a string prefix of another host is not "under" it.
  t.notOk(fetcher.underBase(`${server.base}evil/Observation`))
})

t.test('no redirect is followed: a 302 is a failure and its target sees nothing', async (t) => {
  const foreign = await fhirServer(t, { '*': json({ resourceType: 'Patient', id: 'p1' }) })
  const server = await fhirServer(t, {
    '/Patient/p1': (_request, response) => { response.writeHead(302, { location: `${foreign.base}/Patient/p1` }).end() }
  })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  t.strictSame((await fetcher.fetchKeys([key('patient')])).get('patient'), { state: 'unavailable' })
  t.equal(foreign.seen.length, 0)
  t.strictSame(fetcher.events.map((event) => event.status), ['3xx'])
})

t.test('an opaque redirect (status 0, as browsers report redirect: manual) is a failure', async (t) => {
  const calls: Array<RequestInit | undefined> = []
  const fetch: typeof globalThis.fetch = async (_url, init) => { calls.push(init); return Response.error() }
  const fetcher = new FhirFetcher({ base: 'https://ehr.example.org/fhir', token: TOKEN }, options({ fetch }))
  t.strictSame((await fetcher.fetchKeys([key('patient')])).get('patient'), { state: 'unavailable' })
  t.strictSame(fetcher.events.map((event) => event.status), ['3xx'])
  t.equal(calls[0]?.redirect, 'manual')
  t.equal(calls[0]?.method, 'GET')
})

t.test('one budget for the call: a slow server times out within it; pages already in hand make the key partial', async (t) => {
  const server = await fhirServer(t, {
    '/Patient/p1': later(2000, json({ resourceType: 'Patient', id: 'p1' })),
    '/Observation': (request, response, base) => json(searchset([observation('a')], `${base}/slow`))(request, response, base),
    '/slow': later(2000, json(searchset([observation('b')])))
  })
  const fetcher = new FhirFetcher({ base: server.base }, options({ budgetMs: 300 }))
  const started = performance.now()
  const result = await fetcher.fetchKeys([key('patient'), key('markers')])
  const took = performance.now() - started
  t.ok(took < 1000, `the budget holds (${Math.round(took)} ms)`)
  t.strictSame(result.get('patient'), { state: 'unavailable' })
  t.strictSame(result.get('markers'), { state: 'partial', resources: [observation('a')] })
  t.ok(fetcher.events.some((event) => event.status === 'timeout'))
  // Once the budget is spent, nothing more is requested.
  const before = server.seen.length
  t.strictSame((await fetcher.fetchKeys([key('conditions')])).get('conditions'), { state: 'unavailable' })
  t.equal(server.seen.length, before)
  t.equal(fetcher.events.at(-1)?.status, 'budget')
})

t.test('each request\'s timeout is the budget left (injected clock)', async (t) => {
  let now = 0
  const server = await fhirServer(t, {
    '/Patient/p1': json({ resourceType: 'Patient', id: 'p1' }),
    '/Condition': later(1000, json(searchset([])))
  })
  const fetcher = new FhirFetcher({ base: server.base }, options({ budgetMs: 2000, clock: () => now }))
  now = 1800
  t.strictSame((await fetcher.fetchKeys([key('patient')])).get('patient'), { state: 'data', resources: [{ resourceType: 'Patient', id: 'p1' }] }, '200 ms left is enough for a quick answer')
  const started = performance.now()
  t.strictSame((await fetcher.fetchKeys([key('conditions')])).get('conditions'), { state: 'unavailable' })
  const took = performance.now() - started
  t.ok(took >= 150 && took < 900, `a slow answer is cut at the budget left (${Math.round(took)} ms)`)
  now = 2000
  t.strictSame((await fetcher.fetchKeys([key('patient')])).get('patient'), { state: 'unavailable' })
  t.equal(server.seen.length, 2, 'nothing is requested once the budget is spent')
})

t.test('at most 4 requests in flight', async (t) => {
  t.equal(FHIR_FETCH_MAX_IN_FLIGHT, 4)
  const server = await fhirServer(t, { '*': later(50, json(searchset([]))) })
  const fetcher = new FhirFetcher({ base: server.base }, options())
  const keys = PREFETCH_KEYS.filter((entry) => !entry.read).map((entry) => ({ spec: entry, patientId: 'p1' }))
  t.ok(keys.length > 8)
  const result = await fetcher.fetchKeys(keys)
  t.equal(server.maxInFlight(), 4)
  t.ok([...result.values()].every((value) => value.state === 'data'))
})

t.test('at most 1000 entries per key: the rest makes the key partial', async (t) => {
  t.equal(FHIR_FETCH_MAX_ENTRIES_PER_KEY, 1000)
  const many = (from: number, count: number): unknown[] => Array.from({ length: count }, (_, i) => observation(`o${from + i}`))
  const server = await fhirServer(t, {
    '/Observation': (request, response, base) => json(searchset(many(0, 600), `${base}/p2`))(request, response, base),
    '/p2': (request, response, base) => json(searchset(many(600, 600), `${base}/p3`))(request, response, base)
  })
  const fetcher = new FhirFetcher({ base: server.base }, options())
  const result = await fetcher.fetchKeys([key('markers')])
  const value = result.get('markers') as { state: string, resources: unknown[] }
  t.equal(value.state, 'partial')
  t.equal(value.resources.length, 1000)
  t.equal(server.seen.length, 2, 'no page after the limit')
})

t.test('a body over 5 MiB is aborted (declared or streamed)', async (t) => {
  t.equal(FHIR_FETCH_MAX_BODY_BYTES, 5 * 1024 * 1024)
  const big = JSON.stringify(searchset([{ resourceType: 'Observation', id: 'x', note: 'x'.repeat(FHIR_FETCH_MAX_BODY_BYTES) }]))
  const server = await fhirServer(t, {
    '/Observation': (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': String(Buffer.byteLength(big)) })
      response.end(big)
    },
    '/Condition': (_request, response) => {
      // Chunked, no Content-Length: the limit is counted as the body streams.
      response.writeHead(200, { 'content-type': 'application/fhir+json' })
      response.write(big.slice(0, 1024 * 1024))
      response.end(big.slice(1024 * 1024))
    }
  })
  const fetcher = new FhirFetcher({ base: server.base }, options())
  const result = await fetcher.fetchKeys([key('markers'), key('conditions')])
  t.strictSame(result.get('markers'), { state: 'unavailable' })
  t.strictSame(result.get('conditions'), { state: 'unavailable' })
  t.strictSame(fetcher.events.map((event) => event.status).sort(), ['too_large', 'too_large'])
  const small = new FhirFetcher({ base: server.base }, options({ maxBodyBytes: 100 }))
  t.strictSame((await small.fetchKeys([key('conditions')])).get('conditions'), { state: 'unavailable' })
})

t.test('bad JSON, a non-Bundle body and a network error are unavailable', async (t) => {
  const server = await fhirServer(t, {
    '/Observation': (_request, response) => { response.writeHead(200).end('{not json') },
    '/Condition': json({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] }),
    '/Procedure': (_request, response) => { response.destroy() }
  })
  const fetcher = new FhirFetcher({ base: server.base }, options())
  const result = await fetcher.fetchKeys([key('markers'), key('conditions'), key('procedures')])
  t.strictSame([...result.values()], [{ state: 'unavailable' }, { state: 'unavailable' }, { state: 'unavailable' }])
  t.strictSame(fetcher.events.map((event) => event.status).sort(), ['2xx', 'bad_json', 'network'])
})

t.test('continuing a prefetched page: its resources count, and its next link is followed', async (t) => {
  const server = await fhirServer(t, { '/page2': json(searchset([observation('b')])) })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  const result = await fetcher.fetchKeys([{ spec: spec('markers'), patientId: 'p1', continueFrom: { resources: [observation('a')], next: `${server.base}/page2` } }])
  t.strictSame(result.get('markers'), { state: 'data', resources: [observation('a'), observation('b')] })
  const failing = new FhirFetcher({ base: server.base }, options())
  const partial = await failing.fetchKeys([{ spec: spec('markers'), patientId: 'p1', continueFrom: { resources: [observation('a')], next: `${server.base}/missing` } }])
  t.strictSame(partial.get('markers'), { state: 'partial', resources: [observation('a')] })
})

t.test('the spec\'s pagination example: page 2 is fetched from the same base', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const example = readThirdPartyJson<{ prefetch: { orders: { link: Array<{ relation: string, url: string }>, entry: unknown[] } } }>('cds-hooks-spec/examples/prefetch-pagination-example.json')
  const page2 = { resourceType: 'MedicationRequest', id: 'rx-page-2', status: 'active', subject: { reference: 'Patient/1288992' } }
  const server = await fhirServer(t, { '/MedicationRequest': json(searchset([page2])) })
  // The example's base is https://ehr.example.org/fhir: the test serves it at the local base.
  const next = (example.prefetch.orders.link.find((link) => link.relation === 'next') as { url: string }).url.replace('https://ehr.example.org/fhir', server.base)
  const first = (example.prefetch.orders.entry as Array<{ resource: FhirResource }>).map((entry) => entry.resource)
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  const result = await fetcher.fetchKeys([{ spec: spec('medicationRequests'), patientId: '1288992', continueFrom: { resources: first, next } }])
  t.strictSame(result.get('medicationRequests'), { state: 'data', resources: [...first, page2] })
  t.equal(server.seen[0]?.url, '/fhir/MedicationRequest?patient=1288992&_count=1&_page=2')
})

t.test('Medication reads for unresolved medicationReferences (§4.3)', async (t) => {
  const server = await fhirServer(t, {
    '/Medication/m1': json({ resourceType: 'Medication', id: 'm1' }),
    '/Medication/m2': json({}, 404),
    '/Medication/m3': json({ resourceType: 'Medication', id: 'other' }),
    '/Medication/m4': json({ resourceType: 'Substance', id: 'm4' })
  })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN }, options())
  t.strictSame(await fetcher.readMedications(['m1', 'm2', 'm3', 'm4', 'bad id']), [{ resourceType: 'Medication', id: 'm1' }])
  t.equal(server.seen.length, 4, 'an id outside the FHIR id alphabet is never requested')
  t.ok(fetcher.events.every((event) => event.key === 'medication'))
})

t.test('which medicationReferences are unresolved', async (t) => {
  const base = 'https://ehr.example.org/fhir'
  const uses = (reference: string, type = 'MedicationRequest'): FhirResource => ({ resourceType: type, id: reference, medicationReference: { reference } })
  const resources: FhirResource[] = [
    uses('Medication/m1'),
    uses('Medication/m1', 'MedicationStatement'),
    uses(`${base}/Medication/m2`, 'MedicationAdministration'),
    uses('Medication/m3/_history/2'),
    uses('#contained'),
    uses('https://elsewhere.org/fhir/Medication/m4'),
    uses('urn:uuid:5b7c'),
    uses('Medication/in-hand'),
    uses('Medication/m5', 'Observation'),
    uses('Medication/bad id'),
    { resourceType: 'MedicationRequest', id: 'cc', medicationCodeableConcept: { text: 'x' } },
    { resourceType: 'MedicationRequest', id: 'n', medicationReference: { display: 'x' } },
    { resourceType: 'Medication', id: 'in-hand' }
  ]
  t.strictSame(unresolvedMedicationIds(resources, base), ['m1', 'm2', 'm3'])
})

t.test('nothing the fetcher reports holds a URL, a token or a patient id', async (t) => {
  const server = await fhirServer(t, { '*': json({}, 500) })
  const fetcher = new FhirFetcher({ base: server.base, token: TOKEN } satisfies FhirAccess, options())
  await fetcher.fetchKeys(PREFETCH_KEYS.map((entry) => ({ spec: entry, patientId: 'planted-patient-42' })))
  const reported = JSON.stringify({ events: fetcher.events, notes: fetcher.notes })
  for (const secret of [TOKEN, 'planted-patient-42', '127.0.0.1', 'http']) t.notOk(reported.includes(secret), secret)
})
