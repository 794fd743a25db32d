import { readdirSync } from 'node:fs'
import t from 'tap'
import { CASE_FACT_SYSTEM } from '../../src/fhir/constants.js'
import type { FhirResource } from '../../src/fhir/types.js'
import { EXAMPLE_NAMES, loadBaseBundle, patientOf, resourcesOf, walkObjects, type Bundle } from '../fixtures/fhir/bundles.js'
import { FAULT_KINDS, startFhirServer, toTransaction, type FhirServer, type LoadableBundle } from '../support/fhir-server.js'
import { needThirdParty, readThirdPartyJson, thirdPartyPath } from '../support/third-party-fixtures.js'

/**
 * The in-process Medplum server of spec/ehr-integration.md §12.2 that the `fhirServer` fallback
 * tests call: our five bundles and the seven MITRE bundles load; reads and searches behave as the
 * prefetch templates of §4.1 need; every shim and fault route answers as documented.
 */

const TOKEN = 'fixture-token-0123456789'
const bundles = new Map<string, Bundle>(EXAMPLE_NAMES.map((name) => [name, loadBaseBundle(name)]))

let fhir: FhirServer
t.before(async () => {
  fhir = await startFhirServer({ token: TOKEN, bundles: [...bundles.values()] })
})
t.teardown(async () => { await fhir.close() })

const auth = { authorization: `Bearer ${TOKEN}` }

interface Searchset { resourceType: string, type?: string, entry?: Array<{ resource: FhirResource }>, link?: Array<{ relation: string, url: string }> }

async function get (url: string, headers: Record<string, string> = auth): Promise<{ status: number, body: any, headers: Headers }> {
  const response = await fetch(url, { headers: { accept: 'application/fhir+json', ...headers }, redirect: 'manual' })
  return { status: response.status, body: await response.json(), headers: response.headers }
}

const idsOf = (searchset: Searchset): string[] => (searchset.entry ?? []).map((entry) => entry.resource.id ?? '')

t.test('startup: Medplum indexing once per process, then the bundles (figures for the report)', async (t) => {
  t.comment(`startup ms: index ${fhir.startupMs.index.toFixed(0)}, load of 5 bundles ${fhir.startupMs.load.toFixed(0)}, total ${fhir.startupMs.total.toFixed(0)}`)
  t.ok(fhir.startupMs.index > 0)
  t.ok(fhir.startupMs.total >= fhir.startupMs.index + fhir.startupMs.load - 1)
  t.match(fhir.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/fhir$/)
})

t.test('our five bundles load: every resource reads back, with references rewritten to Type/id', async (t) => {
  for (const [name, bundle] of bundles) {
    for (const resource of resourcesOf(bundle)) {
      const { status, body } = await get(`${fhir.baseUrl}/${resource.resourceType}/${resource.id ?? ''}`)
      t.equal(status, 200, `${name}: ${resource.resourceType}/${resource.id ?? ''}`)
      const references = [...walkObjects(body)].flatMap((object) => typeof object.reference === 'string' ? [object.reference] : [])
      t.ok(references.every((reference) => /^[A-Za-z]+\/[a-z0-9-]+$/.test(reference)), `${resource.id ?? ''}: relative references`)
    }
  }
})

t.test('the 7 MITRE bundles load as transactions of PUTs, dangling references included', async (t) => {
  if (!needThirdParty(t)) return
  // A server of their own: they share ids across files (a later file overwrites), and searches scan the whole repository.
  const mitre = await startFhirServer({ token: TOKEN })
  t.teardown(async () => { await mitre.close() })
  const files = readdirSync(thirdPartyPath('mcode-thirdparty')).filter((file) => file.endsWith('.json'))
  t.equal(files.length, 7)
  for (const file of files) {
    const bundle = readThirdPartyJson<LoadableBundle>(`mcode-thirdparty/${file}`)
    const written = await mitre.load(bundle)
    const withResource = (bundle.entry ?? []).filter((entry) => entry.resource !== undefined)
    t.equal(written.length, withResource.length, `${file}: one PUT per entry with a resource`)
    const fullUrls = new Set(withResource.flatMap((entry) => entry.fullUrl === undefined ? [] : [entry.fullUrl]))
    const ids = new Set(written)
    for (const typeId of ids) {
      const { status, body } = await get(`${mitre.baseUrl}/${typeId}`)
      t.equal(status, 200, `${file}: ${typeId} reads back`)
      const references = [...walkObjects(body)].flatMap((object) => typeof object.reference === 'string' ? [object.reference] : [])
      t.notOk(references.some((reference) => fullUrls.has(reference)), `${file}: ${typeId}: no reference left to a fullUrl`)
    }
  }
  // A reference to a patient outside the bundle (§12.3) is stored as it is.
  const { body } = await get(`${mitre.baseUrl}/Observation/mCODEECOGPerformanceStatusExample`)
  t.match(body.subject.reference, /^Patient\//)
})

t.test('read: 200 with the resource, 404 with an OperationOutcome', async (t) => {
  const found = await get(`${fhir.baseUrl}/Patient/seed-patient`)
  t.equal(found.status, 200)
  t.match(found.body, { resourceType: 'Patient', id: 'seed-patient', birthDate: '1984-10-21' })
  t.equal(found.headers.get('content-type'), 'application/fhir+json')
  const missing = await get(`${fhir.baseUrl}/Patient/nobody`)
  t.equal(missing.status, 404)
  t.equal(missing.body.resourceType, 'OperationOutcome')
})

t.test('token search with several system|code values, _sort=-date and _count', async (t) => {
  const search = `${fhir.baseUrl}/Observation?patient=Patient/sl-patient&code=http://loinc.org|10230-1,http://loinc.org|2164-2&_sort=-date`
  const all = (await get(search)).body as Searchset
  t.equal(all.type, 'searchset')
  t.strictSame(idsOf(all).sort(), ['sl-crcl', 'sl-lvef', 'sl-lvef-baseline'])
  const dates = (all.entry ?? []).map((entry) => entry.resource.effectiveDateTime as string)
  t.strictSame(dates, [...dates].sort().reverse(), 'newest first')
  t.equal(dates.at(-1), '2019-12-16')
  const capped = (await get(`${search}&_count=2`)).body as Searchset
  t.equal(capped.entry?.length, 2)
  t.notOk(capped.link?.some((link) => link.relation === 'next'), 'Medplum writes no next link')
  const bySystem = (await get(`${fhir.baseUrl}/Observation?patient=Patient/seed-patient&code=${CASE_FACT_SYSTEM}|&_count=200`)).body as Searchset
  t.ok(idsOf(bySystem).includes('seed-fact-presentation'), 'a system-only token finds the case facts')
})

t.test('shim (a): patient=<bare id> finds what patient=Patient/<id> finds', async (t) => {
  const bare = (await get(`${fhir.baseUrl}/Condition?patient=mescc-patient`)).body as Searchset
  const typed = (await get(`${fhir.baseUrl}/Condition?patient=Patient/mescc-patient`)).body as Searchset
  t.strictSame(idsOf(bare).sort(), ['mescc-bone-t2', 'mescc-lung', 'mescc-primary'])
  t.strictSame(idsOf(bare).sort(), idsOf(typed).sort())
})

t.test('shim (b): the paged base pages with same-base next links; the foreign-next base links to the foreign host', async (t) => {
  // Each page reruns the whole search: a server with the seed alone keeps that cheap.
  const small = await startFhirServer({ token: TOKEN, bundles: [bundles.get('seed-locally-advanced-painful-vertebra') as Bundle], pageSize: 10 })
  t.teardown(async () => { await small.close() })
  const query = `/Observation?patient=seed-patient&code=${CASE_FACT_SYSTEM}|&_sort=-date`
  const direct = idsOf((await get(`${small.baseUrl}${query}&_count=200`)).body as Searchset)
  t.ok(direct.length > 20)
  const seen: string[] = []
  let next: string | undefined = `${small.pagedBaseUrl}${query}`
  let pages = 0
  while (next !== undefined) {
    const page = (await get(next)).body as Searchset
    t.ok((page.entry ?? []).length <= 10, 'pages of pageSize')
    seen.push(...idsOf(page))
    next = page.link?.find((link) => link.relation === 'next')?.url
    if (next !== undefined) t.ok(next.startsWith(`${small.pagedBaseUrl}/`) && next.includes('patient=seed-patient'), 'next link at the same base, with the query as sent')
    pages++
  }
  t.equal(pages, Math.ceil(direct.length / 10))
  t.strictSame(seen, direct, 'the pages together are the whole result, in order')

  const first = (await get(`${small.foreignNextBaseUrl}${query}`)).body as Searchset
  const foreignNext = first.link?.find((link) => link.relation === 'next')?.url ?? ''
  t.equal(first.entry?.length, 10)
  t.ok(foreignNext.startsWith(`${small.foreignBaseUrl}/`), 'next link to the foreign host')
  // What a leaking client would do: the log shows it, which is what the §12.2 assertions read.
  const before = small.requests.length
  const foreignPage = await get(foreignNext)
  t.match(foreignPage.body, { resourceType: 'Bundle', type: 'searchset', entry: [] })
  t.match(small.requests.slice(before), [{ host: 'foreign', method: 'GET', url: foreignNext, authorization: true }])
  const read = (await get(`${small.pagedBaseUrl}/Patient/seed-patient`)).body as FhirResource
  t.equal(read.resourceType, 'Patient', 'reads are not paged')
  const failing = await get(`${small.pagedBaseUrl}/Observation?patient=seed-patient&date=notadate`)
  t.equal(failing.status, 400)
  t.equal(failing.body.resourceType, 'OperationOutcome', 'a failed search is passed through')
})

t.test('shim (c): GET {base}/metadata is a minimal R4 CapabilityStatement, without a token', async (t) => {
  const { status, body } = await get(`${fhir.baseUrl}/metadata`, {})
  t.equal(status, 200)
  t.match(body, { resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance', rest: [{ mode: 'server' }] })
})

t.test('shim (d): requests reach the router as url (path and query, base stripped)', async (t) => {
  const { status, body } = await get(`${fhir.baseUrl}/Observation?patient=Patient/bh-patient&code=http://loinc.org|29265-6`)
  t.equal(status, 200)
  t.strictSame(idsOf(body as Searchset), ['bh-calcium'])
})

t.test('shim (e): the bearer token is required; 401 with an OperationOutcome and WWW-Authenticate otherwise', async (t) => {
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }]
  for (const headers of attempts) {
    const { status, body, headers: answer } = await get(`${fhir.baseUrl}/Patient/seed-patient`, headers)
    t.equal(status, 401)
    t.match(body, { resourceType: 'OperationOutcome', issue: [{ code: 'security' }] })
    t.equal(answer.get('www-authenticate'), 'Bearer')
  }
  t.equal((await get(`${fhir.baseUrl}/Patient/seed-patient`)).status, 200)
})

t.test('an open server (no token option) answers without Authorization; indexing is not repeated', async (t) => {
  const open = await startFhirServer({ bundles: [loadBaseBundle('seed-locally-advanced-painful-vertebra')], slowMs: 20, pageSize: 5 })
  t.teardown(async () => { await open.close() })
  t.equal(open.startupMs.index, 0)
  t.comment(`second server in the process: ${open.startupMs.total.toFixed(0)} ms`)
  t.equal((await get(`${open.baseUrl}/Patient/seed-patient`, {})).status, 200)
  t.equal((await get(`${open.baseUrl}/Patient/bh-patient`, {})).status, 404, 'only its own bundles')
  const slow = await get(`${open.faultBaseUrl('slow')}/Patient/seed-patient`, {})
  t.equal(slow.status, 200, 'the slow route answers after slowMs')
  const paged = (await get(`${open.pagedBaseUrl}/Observation?patient=seed-patient`, {})).body as Searchset
  t.equal(paged.entry?.length, 5, 'pageSize')
})

t.test('shim (f): fault routes', async (t) => {
  t.strictSame(FAULT_KINDS, ['401', '500', 'slow', 'redirect', 'outcome'])
  const read = '/Patient/seed-patient'

  const unauthorized = await get(`${fhir.faultBaseUrl('401')}${read}`)
  t.equal(unauthorized.status, 401, '401 even with the right token')
  t.equal(unauthorized.body.resourceType, 'OperationOutcome')

  const failure = await get(`${fhir.faultBaseUrl('500')}${read}`)
  t.equal(failure.status, 500)
  t.match(failure.body, { resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] })

  const redirect = await get(`${fhir.faultBaseUrl('redirect')}${read}?x=1`)
  t.equal(redirect.status, 302)
  t.equal(redirect.headers.get('location'), `${fhir.foreignBaseUrl}${read}?x=1`, 'to the foreign host')

  const outcome = await get(`${fhir.faultBaseUrl('outcome')}${read}`)
  t.equal(outcome.status, 200)
  t.equal(outcome.body.resourceType, 'OperationOutcome', 'a 200 whose body is not the type asked for')

  const started = Date.now()
  await t.rejects(fetch(`${fhir.faultBaseUrl('slow')}${read}`, { headers: auth, signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' })
  t.ok(Date.now() - started < 2900, 'a client with a budget gives up long before the answer (3 s)')

  const onlyProcedures = fhir.faultBaseUrl('500', 'Procedure')
  t.equal((await get(`${onlyProcedures}/Procedure?patient=seed-patient`)).status, 500, 'the faulted type fails')
  t.equal((await get(`${onlyProcedures}/Observation?patient=seed-patient`)).status, 200, 'other types answer')
  t.equal((await get(`${onlyProcedures}/Observation?patient=seed-patient`, {})).status, 401, 'and still need the token')
})

t.test('writes through the adapter; a malformed body is a 500 OperationOutcome; an unknown base is a 404', async (t) => {
  const created = await fetch(`${fhir.baseUrl}/Observation`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'scratch' }, subject: { reference: 'Patient/nobody' } })
  })
  t.equal(created.status, 201)
  const malformed = await fetch(`${fhir.baseUrl}/Observation`, { method: 'POST', headers: auth, body: '{ not json' })
  t.equal(malformed.status, 500)
  t.equal(((await malformed.json()) as FhirResource).resourceType, 'OperationOutcome')
  const unknown = await get(`${fhir.baseUrl.replace(/\/fhir$/, '/other')}/Patient/seed-patient`)
  t.equal(unknown.status, 404)
})

t.test('the request log keeps URLs and whether a token came, never the token', async (t) => {
  t.ok(fhir.requests.length > 50)
  t.ok(fhir.requests.some((request) => !request.authorization))
  t.ok(fhir.requests.every((request) => request.url.startsWith('http://127.0.0.1:')))
  t.notOk(JSON.stringify(fhir.requests).includes(TOKEN))
})

t.test('toTransaction: entries without resource dropped, ids from urn:uuid:, fullUrl references rewritten, others kept', async (t) => {
  const transaction = toTransaction({
    entry: [
      { fullUrl: 'urn:uuid:6b1d3c9e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' } },
      { fullUrl: 'urn:uuid:6b1d3c9e-0000-4000-8000-000000000002' },
      {
        fullUrl: 'https://example.org/fhir/Observation/o1',
        resource: { resourceType: 'Observation', id: 'o1', subject: { reference: 'urn:uuid:6b1d3c9e-0000-4000-8000-000000000001' }, focus: [{ reference: 'Condition/elsewhere' }] }
      }
    ]
  })
  t.match(transaction, {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'PUT', url: 'Patient/6b1d3c9e-0000-4000-8000-000000000001' } },
      { resource: { subject: { reference: 'Patient/6b1d3c9e-0000-4000-8000-000000000001' }, focus: [{ reference: 'Condition/elsewhere' }] }, request: { method: 'PUT', url: 'Observation/o1' } }
    ]
  })
  t.equal(transaction.entry?.length, 2)
  t.throws(() => toTransaction({ entry: [{ fullUrl: 'https://example.org/fhir/Patient/x', resource: { resourceType: 'Patient' } }] }), /neither an id nor a urn:uuid/)
  t.strictSame(toTransaction({}).entry, [])
  // Medplum's MemoryRepository validates nothing; an id the router cannot route is what fails.
  await t.rejects(fhir.load({ entry: [{ resource: { resourceType: 'Observation', id: 'a/b' } }] }), /the transaction failed/)
})

/* ------------------------------------------------------ §4.1 templates */

const P = 'patient={{context.patientId}}'
const L = 'http://loinc.org|'
const S = 'http://snomed.info/sct|'
const codes = (prefix: string, list: string): string => list.split(' ').map((code) => prefix + code).join(',')

/** The prefetch templates of §4.1, written out from the spec's table (not from src: this checks the server against the spec). */
const TEMPLATES: Readonly<Record<string, string>> = {
  patient: 'Patient/{{context.patientId}}',
  conditions: `Condition?${P}&_count=100`,
  markers: `Observation?${P}&code=${codes(L, '48676-1 85319-2 18474-7 85318-4 31150-6 49683-6 74860-8 85337-4 85339-0 40556-3 40557-1 16112-5 16113-3 85329-1 85325-9 14228-1 14230-7')}&_sort=-date&_count=50`,
  ecog: `Observation?${P}&code=${L}89247-1&_sort=-date&_count=5`,
  diseaseStatus: `Observation?${P}&code=${L}97509-4&_sort=-date&_count=50`,
  medicationRequests: `MedicationRequest?${P}&_count=200`,
  procedures: `Procedure?${P}&_count=100`,
  medicationAdministrations: `MedicationAdministration?${P}&_count=200`,
  medicationStatements: `MedicationStatement?${P}&_count=200`,
  cardiac: `Observation?${P}&code=${L}10230-1&_sort=-date&_count=20`,
  renal: `Observation?${P}&code=${codes(L, '2160-0 14682-9 2164-2')}&_sort=-date&_count=10`,
  weight: `Observation?${P}&code=${L}29463-7&_sort=-date&_count=3`,
  calcium: `Observation?${P}&code=${codes(L, '29265-6 17861-6')}&_sort=-date&_count=5`,
  vitaminD: `Observation?${P}&code=${codes(L, '62292-8 1989-3')}&_sort=-date&_count=3`,
  pregnancy: `Observation?${P}&code=${L}82810-3&_sort=-date&_count=1`,
  staging: `Observation?${P}&code=${codes(L, '21908-9 21902-2 21905-5 21906-3 21907-1 21899-0 21900-6 21901-4')},${codes(S, '399537006 399588009 399504009 399534004 399387003')}&_sort=-date&_count=20`,
  facts: `Observation?${P}&code=${CASE_FACT_SYSTEM}|,${L}72514-3&_count=200`
}

const render = (template: string, patientId: string): string => template.replace('{{context.patientId}}', encodeURIComponent(patientId))

/** What a search template should find in a bundle, worked out from the bundle itself. */
function expectedMatches (bundle: Bundle, rendered: string): { type: string, ids: string[], count: number, sorted: boolean } {
  const [type = '', search = ''] = rendered.split('?')
  const params = new URLSearchParams(search)
  const tokens = params.get('code')?.split(',').map((token) => token.split('|') as [string, string])
  const matches = (resource: FhirResource): boolean => resource.resourceType === type && (tokens === undefined ||
    ((resource.code as { coding?: Array<{ system?: string, code?: string }> }).coding ?? []).some((coding) => tokens.some(([system, code]) => coding.system === system && (code === '' || coding.code === code))))
  return { type, ids: resourcesOf(bundle).filter(matches).map((resource) => resource.id ?? '').sort(), count: Number(params.get('_count')), sorted: params.get('_sort') === '-date' }
}

t.test('§4.1: every prefetch template, rendered for each of our bundles, returns exactly the matching resources', async (t) => {
  for (const [name, bundle] of bundles) {
    // One server per bundle: a search scans the whole repository, so a lean one answers in a fraction of the time.
    const own = await startFhirServer({ token: TOKEN, bundles: [bundle] })
    t.teardown(async () => { await own.close() })
    const patient = patientOf(bundle)
    const found = new Map<string, number>()
    for (const [key, template] of Object.entries(TEMPLATES)) {
      const rendered = render(template, patient.id ?? '')
      const { status, body } = await get(`${own.baseUrl}/${rendered}`)
      t.equal(status, 200, `${name}: ${key}`)
      if (key === 'patient') {
        t.match(body, { resourceType: 'Patient', id: patient.id }, `${name}: patient`)
        continue
      }
      const expected = expectedMatches(bundle, rendered)
      const searchset = body as Searchset
      t.equal(searchset.type, 'searchset')
      t.ok((searchset.entry ?? []).every((entry) => entry.resource.resourceType === expected.type), `${name}: ${key} returns ${expected.type}s`)
      t.ok(expected.ids.length <= expected.count, `${name}: ${key}: our bundles fit in one page`)
      t.strictSame(idsOf(searchset).sort(), expected.ids, `${name}: ${key} finds exactly its resources`)
      if (expected.sorted) {
        const dates = (searchset.entry ?? []).map((entry) => entry.resource.effectiveDateTime as string)
        t.strictSame(dates, [...dates].sort().reverse(), `${name}: ${key} newest first`)
      }
      found.set(key, expected.ids.length)
    }
    t.comment(`${name}: ${[...found].filter(([, count]) => count > 0).map(([key, count]) => `${key} ${count}`).join(', ')}`)
  }
})

t.test('§4.1: the templates reach every resource of our bundles (nothing a mapper needs is out of their reach)', async (t) => {
  for (const [name, bundle] of bundles) {
    const patient = patientOf(bundle)
    const reached = new Set<string>([patient.id ?? ''])
    for (const template of Object.values(TEMPLATES).filter((candidate) => candidate.includes('?'))) {
      for (const id of expectedMatches(bundle, render(template, patient.id ?? '')).ids) reached.add(id)
    }
    t.strictSame(resourcesOf(bundle).map((resource) => resource.id ?? '').filter((id) => !reached.has(id)), [], `${name}: every resource is fetched by some key`)
  }
})
