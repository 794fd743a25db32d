import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { cardUuid, orderCardUuid } from '../../src/cds-hooks/cards.js'
import { parseConfig } from '../../src/config.js'
import { OVERRIDE_REASON_SYSTEM } from '../../src/fhir/constants.js'
import { PREFETCH_KEYS } from '../../src/cds-hooks/prefetch.js'
import { mapBundle } from '../../src/fhir/index.js'
import type { FhirResource } from '../../src/fhir/types.js'
import {
  CLOSED_ISSUER, ORDER_SELECT, PATIENT_VIEW, PUBLIC_BASE_URL, TestClock, basesOf, buildPrefetch, callHook, contextOf, dataCardOf, draftOrder, e2eApp, e2eClients,
  expectedCards, fhirGet, FHIR_TOKEN, INCOMPLETE_PREFIX, issuerOf, listedWarningCodes, orderSelectRequest, patientIdOf, patientViewRequest,
  recommendationCards, referencesOf, sectionLines, serverFor, whyReferences, type CardJson, type HookReply, type JsonRecommendation
} from '../fixtures/cds-e2e.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { EXAMPLE_NAMES, loadBaseBundle, loadExample, resourceById, walkObjects, type Bundle, type ExampleName } from '../fixtures/fhir/bundles.js'
import { buildVariant, VARIANTS, type Variant } from '../fixtures/fhir/variants.js'
import { assertConformantOperationOutcome, assertConformantResponse } from '../support/cds-conformance.js'
import type { FhirServer } from '../support/fhir-server.js'
import { SandboxClient, sandboxMedication } from '../support/sandbox-client.js'
import { generatedKey } from '../support/jwt-keys.js'
import { readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/**
 * End-to-end CDS Hooks with the real mapper, card builders, services and JWT verifier
 * (spec/ehr-integration.md §12.4 A last bullets and C; §4; §7): each of our five example bundles is
 * loaded into its own Medplum server (test/support/fhir-server.ts), the prefetch is built by running
 * OUR templates (§4.1) against it, and `patient-view` / `order-select` are called as an EHR would,
 * with a JWT signed by a key generated here; the issuer's client entry gives the jurisdiction, the
 * injected clock the evaluation date. The oracle is the JSON path: POST /v1/recommendations with the
 * example's Case (for §12.4 A) or with the same bundle as FHIR (for the messy variants of §12.4 B).
 *
 * The fhirServer fallback against Medplum (§12.2) is in fallback.test.ts.
 */

type Json = Record<string, any>

const clock = new TestClock()
const bundles = new Map<ExampleName, Bundle>(EXAMPLE_NAMES.map((name) => [name, loadBaseBundle(name)]))
const servers = new Map<ExampleName, FhirServer>()
const prefetches = new Map<ExampleName, Record<string, unknown>>()
let app: FastifyInstance

t.before(async () => {
  // One bundle per server: Medplum searches scan the repository, and are slow under load.
  for (const [name, bundle] of bundles) servers.set(name, await serverFor(bundle))
  // A generous fetch budget: these tests are about what is fetched, not about time (fallback.test.ts tests the budget).
  app = await e2eApp(t, { clock, clients: e2eClients([...servers.values()].flatMap(basesOf)), env: { FHIR_FETCH_BUDGET_MS: '20000' } })
  for (const [name, bundle] of bundles) prefetches.set(name, await buildPrefetch(serverOf(name).baseUrl, patientIdOf(bundle)))
})
t.teardown(async () => { for (const server of servers.values()) await server.close() })

const serverOf = (name: ExampleName): FhirServer => servers.get(name) as FhirServer
const bundleOf = (name: ExampleName): Bundle => bundles.get(name) as Bundle
const prefetchOf = (name: ExampleName): Record<string, unknown> => structuredClone(prefetches.get(name) as Record<string, unknown>)

/** The example's evaluation date on the clock, and the issuer that gives its jurisdiction. */
function at (name: ExampleName): string {
  const { evaluationDate, jurisdiction } = contextOf(name)
  clock.setDate(evaluationDate)
  return issuerOf(jurisdiction)
}

async function postJson (name: ExampleName): Promise<Json> {
  const reply = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: loadExample(name).case })
  if (reply.statusCode !== 200) throw new Error(`${name}: the JSON case gave ${reply.statusCode}`)
  return reply.json()
}

/** The same bundle through POST /v1/recommendations as FHIR, with the example's query (§5). */
async function postFhir (bundle: Bundle, name: ExampleName): Promise<{ status: number, body: Json }> {
  const { evaluationDate, jurisdiction } = contextOf(name)
  const reply = await app.inject({
    method: 'POST',
    url: `/v1/recommendations?${new URLSearchParams({ evaluationDate, jurisdiction }).toString()}`,
    headers: { 'content-type': 'application/fhir+json' },
    payload: JSON.stringify(bundle)
  })
  return { status: reply.statusCode, body: reply.json() }
}

async function patientView (t: Test, name: ExampleName, parts: Omit<Parameters<typeof patientViewRequest>[0], 'patientId'> & { patientId?: string }, iss = at(name)): Promise<HookReply> {
  const reply = await callHook(app, clock, PATIENT_VIEW, patientViewRequest({ patientId: patientIdOf(bundleOf(name)), ...parts }), iss)
  if (reply.status === 200) assertConformantResponse(t, reply.body)
  else assertConformantOperationOutcome(t, reply.status, reply.body)
  return reply
}

const cardView = (card: CardJson): { uuid?: string, indicator: string, summary: string } => ({ ...(card.uuid === undefined ? {} : { uuid: card.uuid }), indicator: card.indicator, summary: card.summary })
const uniqueSorted = (values: readonly string[]): string[] => [...new Set(values)].sort()
/** Warnings a FHIR server makes vanish: the Bundle's structure and the patient rule (a search by patient finds only the patient's resources). */
const BUNDLE_ONLY_WARNINGS = new Set(['FHIR_OTHER_PATIENT_RESOURCE', 'FHIR_NO_SUBJECT', 'FHIR_ENTRY_WITHOUT_RESOURCE', 'FHIR_DUPLICATE_RESOURCE'])

// ---------------------------------------------------------------------------------------------
// §12.4 A: the issue's "done when"

for (const name of EXAMPLE_NAMES) {
  t.test(`§12.4 A ${name}: patient-view over Medplum gives one card per non-info recommendation of the JSON response, with the bundle's resources in the why lines`, async (t) => {
    const iss = at(name)
    const json = await postJson(name)
    const hookInstance = randomUUID()
    const reply = await patientView(t, name, { prefetch: prefetchOf(name), hookInstance }, iss)
    t.equal(reply.status, 200)

    // Codes in order, indicator = the strength mapping, targets: all read from the card uuid (§7.1).
    const expected = expectedCards(hookInstance, json.recommendations as JsonRecommendation[])
    const cards = recommendationCards(reply.body)
    t.strictSame(cards.map(cardView), expected.map(({ uuid, indicator, summary }) => ({ uuid, indicator, summary })), 'same codes, order, targets, indicators and titles')
    const byCode = new Map((json.recommendations as Json[]).map((item) => [item.code, item]))
    t.strictSame(cards.map((card) => card.source.topic?.code), expected.map(({ code }) => byCode.get(code)?.domain), 'topic = the recommendation\'s domain')

    // The data card (§7.3) when the mapping has warnings or gaps: the FHIR path of /v1 is the oracle.
    const fhir = await postFhir(bundleOf(name), name)
    const mapped = mapBundle(bundleOf(name), contextOf(name))
    if (!('mapping' in mapped)) throw new Error(`${name} does not map`)
    const shown = new Set(expected.map(({ code }) => code))
    const covered = (path: string): boolean => (fhir.body.dataGaps as Json[]).some(({ field }) => path === field || path.startsWith(`${String(field)}.`) || path.startsWith(`${String(field)}[`))
    const expectDataCard = fhir.body.warnings.length > 0 ||
      (fhir.body.dataGaps as Json[]).some((gap) => !(gap.affects as string[]).some((code) => shown.has(code))) ||
      Object.entries(mapped.mapping.gaps).some(([path, reasons]) => reasons.length > 0 && !covered(path))
    const data = dataCardOf(reply.body)
    t.equal(data !== undefined, expectDataCard, expectDataCard ? 'a data card' : 'no data card')
    t.equal(reply.body.cards.at(-1), data ?? reply.body.cards.at(-1), 'the data card comes last')
    t.strictSame(uniqueSorted(listedWarningCodes(data)), uniqueSorted((fhir.body.warnings as Json[]).map((warning) => warning.code as string)),
      'the data card lists the warnings of the same bundle posted to /v1 (mapping and engine)')
    if (data !== undefined) t.equal(data.uuid, cardUuid(hookInstance, 'DATA-QUALITY', []))

    // Lineage (§7.2): the why lines name the bundle's resources, and only those.
    const inBundle = referencesOf(bundleOf(name))
    for (const card of cards) t.ok(sectionLines(card, 'Why you see this').length > 0, `${card.summary.slice(0, 40)}…: why lines`)
    if (cards.length === 0) {
      // Out of scope: every recommendation is info (§7.1), so the data card alone is sent; it names resources too.
      t.ok((json.recommendations as Json[]).every((item) => item.strength === 'info'), 'no card: every recommendation is info')
      const named = sectionLines(data as CardJson, 'Data issues').flatMap((line) => line.match(/\b[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+/g) ?? [])
      t.ok(named.length > 0 && named.every((ref) => inBundle.has(ref)), 'the data card names the bundle\'s resources')
      return
    }
    const refs = cards.flatMap(whyReferences)
    t.ok(refs.some((ref) => /^(Observation|Condition)\//.test(ref)), 'an Observation or Condition of the bundle is named')
    t.strictSame(refs.filter((ref) => !inBundle.has(ref)), [], 'every resource named is one of the bundle\'s')
  })
}

// ---------------------------------------------------------------------------------------------
// §12.4 C

/** bone-health-renal with its measured creatinine clearance (2164-2) below 30 mL/min (§7.4 CI-06b). */
function severeRenalBundle (): Bundle {
  const bundle = loadBaseBundle('bone-health-renal')
  const crcl = resourceById(bundle, 'Observation', 'bh-crcl') as FhirResource & { valueQuantity: { value: number } }
  if (crcl.valueQuantity.value < 30) throw new Error('the base already has CrCl < 30')
  crcl.valueQuantity.value = 25
  return bundle
}

/** A Medplum server and the full prefetch for a bundle built in this file (closed at the end of the test). */
async function prefetchFor (t: Test, bundle: Bundle): Promise<Record<string, unknown>> {
  const server = await serverFor(bundle)
  t.teardown(async () => { await server.close() })
  return await buildPrefetch(server.baseUrl, patientIdOf(bundle))
}

async function orderSelect (t: Test, name: ExampleName, prefetch: Record<string, unknown>, orders: FhirResource[], hookInstance = randomUUID()): Promise<HookReply> {
  const reply = await callHook(app, clock, ORDER_SELECT, orderSelectRequest({ patientId: patientIdOf(bundleOf(name)), prefetch, hookInstance }, orders), at(name))
  if (reply.status === 200) assertConformantResponse(t, reply.body)
  else assertConformantOperationOutcome(t, reply.status, reply.body)
  return reply
}

const CAPECITABINE = { code: '200328', display: 'capecitabine 500 MG Oral Tablet' }

t.test('§12.4 C: order-select for capecitabine (RxNorm 200328) on a case with CrCl < 30 gives a CI-06b warning card', async (t) => {
  const bundle = severeRenalBundle()
  const prefetch = await prefetchFor(t, bundle)
  const patientId = patientIdOf(bundle)
  const hookInstance = randomUUID()
  const reply = await orderSelect(t, 'bone-health-renal', prefetch, [draftOrder('cap-1', patientId, CAPECITABINE.code, CAPECITABINE.display)], hookInstance)
  t.equal(reply.status, 200)
  const card = (reply.body.cards as CardJson[]).find((candidate) => candidate.uuid === orderCardUuid(hookInstance, 'MedicationRequest/cap-1', 'CI-06b'))
  t.ok(card, 'a CI-06b card for the selected order')
  t.equal(card?.indicator, 'warning')
  t.match(card?.summary, /^Avoid capecitabine/)
  t.match(card?.detail, /Selected order: capecitabine 500 MG Oral Tablet/)
  t.ok(card !== undefined && whyReferences(card).includes('Observation/bh-crcl'), 'the why lines name the clearance Observation')
  t.equal(reply.body.cards.length, 1, 'only CI-06b: capecitabine is checked against nothing else (§7.4)')
})

t.test('§12.4 C: the same capecitabine order on each unchanged example gives no card', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const patientId = patientIdOf(bundleOf(name))
    const reply = await orderSelect(t, name, prefetchOf(name), [draftOrder('cap-1', patientId, CAPECITABINE.code, CAPECITABINE.display)])
    t.equal(reply.status, 200, name)
    t.strictSame(reply.body, { cards: [] }, `${name}: no CI-06b (CrCl ≥ 30, DPYD not poor) and nothing else checked`)
  }
})

t.test('§7.4: zoledronic acid (RxNorm 1156253) at CrCl < 30 gives the BMA avoid card; at CrCl 52 none', async (t) => {
  const bundle = severeRenalBundle()
  const patientId = patientIdOf(bundle)
  const order = draftOrder('zol-1', patientId, '1156253', 'zoledronic acid 4 MG Injection')
  const hookInstance = randomUUID()
  const severe = await orderSelect(t, 'bone-health-renal', await prefetchFor(t, bundle), [order], hookInstance)
  t.equal(severe.status, 200)
  const codes = ['BMA-01', 'BMA-04', 'BMA-05', 'BMA-06'].filter((code) =>
    (severe.body.cards as CardJson[]).some((card) => card.uuid === orderCardUuid(hookInstance, 'MedicationRequest/zol-1', code)))
  t.ok(codes.includes('BMA-01') || codes.includes('BMA-04'), `the CrCl < 30 row fires (cards: ${codes.join(', ')})`)
  t.ok((severe.body.cards as CardJson[]).every((card) => card.indicator === 'warning'), 'warning cards')
  t.equal(severe.body.cards.length, codes.length, 'only the codes of the zoledronic acid rows')
  const normal = await orderSelect(t, 'bone-health-renal', prefetchOf('bone-health-renal'), [order])
  t.strictSame(normal.body, { cards: [] }, 'CrCl 52: no card')
})

t.test('§12.4 C: the sandbox\'s own draft order for capecitabine (rxnorm-extract, no draftOrders.type) gives the CI-06b card', { skip: thirdPartySkip }, async (t) => {
  const bundle = severeRenalBundle()
  const prefetch = await prefetchFor(t, bundle)
  at('bone-health-renal')
  // The sandbox's draft MedicationRequest, signed here with our own key: the sandbox issuer is not one of ours.
  const sandbox = new SandboxClient({ baseUrl: PUBLIC_BASE_URL, key: generatedKey('ES384'), now: () => clock.current.getTime() })
  const draft = sandbox.draftMedicationRequest(patientIdOf(bundle), sandboxMedication('200328')) as FhirResource
  const body = orderSelectRequest({ patientId: patientIdOf(bundle), prefetch }, [draft])
  delete (body.context as Json).draftOrders.type
  const reply = await callHook(app, clock, ORDER_SELECT, body, issuerOf('US'))
  t.equal(reply.status, 200)
  assertConformantResponse(t, reply.body)
  t.strictSame((reply.body.cards as CardJson[]).map((card) => card.uuid), [orderCardUuid(body.hookInstance as string, 'MedicationRequest/request-123', 'CI-06b')])
})

t.test('§12.4 C: patient-view on the CrCl < 30 case names the measured clearance behind the renal cards', async (t) => {
  const bundle = severeRenalBundle()
  const prefetch = await prefetchFor(t, bundle)
  const fhir = await postFhir(bundle, 'bone-health-renal')
  const hookInstance = randomUUID()
  const reply = await patientView(t, 'bone-health-renal', { prefetch, hookInstance })
  t.equal(reply.status, 200)
  t.strictSame(recommendationCards(reply.body).map(cardView).map(({ uuid }) => uuid), expectedCards(hookInstance, fhir.body.recommendations).map(({ uuid }) => uuid),
    'the cards of the same bundle over /v1')
  t.ok(recommendationCards(reply.body).some((card) => whyReferences(card).includes('Observation/bh-crcl')), 'a card is there because of Observation/bh-crcl')
})

t.test('§4.4, §12.4 C: one required key missing → 412 naming it, for both hooks; nothing fetched without fhirServer', async (t) => {
  const name: ExampleName = 'seed-locally-advanced-painful-vertebra'
  const required = PREFETCH_KEYS.filter((spec) => spec.required).map((spec) => spec.key)
  t.strictSame(required, ['patient', 'conditions', 'markers', 'ecog', 'diseaseStatus', 'medicationRequests', 'procedures'])
  const before = serverOf(name).requests.length
  for (const key of required) {
    const prefetch = prefetchOf(name)
    delete prefetch[key]
    const reply = await patientView(t, name, { prefetch })
    t.equal(reply.status, 412, `${key} missing: 412`)
    t.equal(reply.body.issue[0].code, 'processing')
    t.equal(reply.body.issue[0].diagnostics, `prefetch keys unavailable: ${key}`)
    const order = await orderSelect(t, name, prefetch, [draftOrder('cap-1', patientIdOf(bundleOf(name)), CAPECITABINE.code, CAPECITABINE.display)])
    t.equal(order.status, 412, `${key} missing: 412 on order-select too`)
    t.equal(order.body.issue[0].diagnostics, `prefetch keys unavailable: ${key}`)
  }
  t.equal(serverOf(name).requests.length, before, 'no request reached the FHIR server')
})

t.test('§4.4: an optional key missing or as an OperationOutcome → 200, FHIR_DATA_UNAVAILABLE naming it in the data card', async (t) => {
  const name: ExampleName = 'bone-health-renal'
  const full = await patientView(t, name, { prefetch: prefetchOf(name) })
  for (const key of PREFETCH_KEYS.filter((spec) => !spec.required).map((spec) => spec.key)) {
    const prefetch = prefetchOf(name)
    prefetch[key] = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'no access' }] }
    const reply = await patientView(t, name, { prefetch })
    t.equal(reply.status, 200, `${key} as an OperationOutcome: 200`)
    const data = dataCardOf(reply.body)
    t.ok(sectionLines(data ?? { summary: '', indicator: 'info', source: { label: '' } }, 'Data issues')
      .some((line) => line.includes(`"${key}"`) && line.endsWith('(FHIR_DATA_UNAVAILABLE)')), `${key}: FHIR_DATA_UNAVAILABLE naming the key`)
  }
  // The cardiac key feeds LVEF only: without it the recommendations stay, and the data card says why LVEF is absent.
  const prefetch = prefetchOf(name)
  delete prefetch.cardiac
  const reply = await patientView(t, name, { prefetch })
  t.equal(reply.status, 200)
  t.ok(listedWarningCodes(dataCardOf(reply.body)).includes('FHIR_DATA_UNAVAILABLE'), 'absent optional key: FHIR_DATA_UNAVAILABLE')
  t.equal(recommendationCards(reply.body).length > 0, recommendationCards(full.body).length > 0, 'still evaluated')
})

t.test('§4.2: a required key sent as an OperationOutcome is fetched when fhirServer is allowed: the same cards, no 412', async (t) => {
  const name: ExampleName = 'mescc-not-operable'
  const server = serverOf(name)
  const hookInstance = randomUUID()
  const full = await patientView(t, name, { prefetch: prefetchOf(name), hookInstance })
  const prefetch = prefetchOf(name)
  prefetch.conditions = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] }
  const before = server.requests.length
  const reply = await patientView(t, name, { prefetch, hookInstance, fhirServer: server.baseUrl, token: FHIR_TOKEN })
  t.strictSame(reply.body, full.body)
  t.strictSame(server.requests.slice(before).map((request) => new URL(request.url).pathname), [`${new URL(server.baseUrl).pathname}/Condition`], 'only the conditions key was fetched')
})

t.test('§4.4 rows 3 and 4 with the real mapper: a deceased patient, or no primary breast cancer Condition → {"cards": []} for both hooks', async (t) => {
  const name: ExampleName = 'seed-locally-advanced-painful-vertebra'
  const patientId = patientIdOf(bundleOf(name))
  const order = [draftOrder('cap-1', patientId, CAPECITABINE.code, CAPECITABINE.display)]
  const deceased = prefetchOf(name)
  ;(deceased.patient as Json).deceasedDateTime = '2026-02-20'
  const noPrimary = prefetchOf(name)
  const conditions = noPrimary.conditions as Json
  conditions.entry = (conditions.entry as Json[]).filter((entry) => entry.resource.id !== 'seed-primary')
  t.equal((conditions.entry as Json[]).length, ((prefetchOf(name).conditions as Json).entry as Json[]).length - 1, 'the primary Condition was taken out')
  for (const prefetch of [deceased, noPrimary]) {
    t.strictSame((await patientView(t, name, { prefetch })).body, { cards: [] })
    t.strictSame((await orderSelect(t, name, prefetch, order)).body, { cards: [] })
  }
})

t.test('§4.2, §4.3, §12.4 C: markers as a searchset with a next link at the same base are followed (fhirServer allowed): the same cards', async (t) => {
  const name: ExampleName = 'seed-locally-advanced-painful-vertebra'
  const server = serverOf(name)
  const patientId = patientIdOf(bundleOf(name))
  const markers = (await fhirGet(`${server.pagedBaseUrl}/Observation?patient=${patientId}&code=${markerCodes()}&_sort=-date&_count=50`)).body as Json
  t.ok(markers.link?.some((link: Json) => link.relation === 'next' && String(link.url).startsWith(`${server.pagedBaseUrl}/`)), 'page 1 carries a next link at the same base')
  const hookInstance = randomUUID()
  const full = await patientView(t, name, { prefetch: prefetchOf(name), hookInstance })

  const before = server.requests.length
  const prefetch = { ...prefetchOf(name), markers }
  const reply = await patientView(t, name, { prefetch, hookInstance, fhirServer: server.pagedBaseUrl, token: FHIR_TOKEN })
  t.equal(reply.status, 200)
  t.strictSame(reply.body, full.body, 'the same cards as with the whole markers searchset')
  const followed = server.requests.slice(before)
  t.ok(followed.length > 0 && followed.every((request) => request.url.startsWith(`${server.pagedBaseUrl}/Observation?`) && request.url.includes('_offset=')), 'only the next pages were fetched')
  t.ok(followed.every((request) => request.host === 'fhir' && request.authorization), 'with the token, at the allowed base')
})

t.test('§4.2, §4.3, §12.4 C: a next link to a foreign base is not followed: markers partial, FHIR_DATA_PARTIAL, nothing sent to the foreign host', async (t) => {
  const name: ExampleName = 'seed-locally-advanced-painful-vertebra'
  const server = serverOf(name)
  const patientId = patientIdOf(bundleOf(name))
  const markers = (await fhirGet(`${server.foreignNextBaseUrl}/Observation?patient=${patientId}&code=${markerCodes()}&_sort=-date&_count=50`)).body as Json
  t.ok(markers.link?.some((link: Json) => link.relation === 'next' && String(link.url).startsWith(`${server.foreignBaseUrl}/`)), 'page 1 links to the foreign host')
  for (const access of [{ fhirServer: server.baseUrl, token: FHIR_TOKEN }, {}]) {
    const before = server.requests.length
    const reply = await patientView(t, name, { prefetch: { ...prefetchOf(name), markers }, ...access })
    t.equal(reply.status, 200, 'partial counts as available')
    const lines = sectionLines(dataCardOf(reply.body) ?? { summary: '', indicator: 'info', source: { label: '' } }, 'Data issues')
    const partial = lines.filter((line) => line.endsWith('(FHIR_DATA_PARTIAL)'))
    t.equal(partial.length, 1, 'one FHIR_DATA_PARTIAL line')
    t.match(partial[0], /"markers"/, 'naming markers')
    t.strictSame(server.requests.slice(before), [], `${'fhirServer' in access ? 'fhirServer allowed' : 'no fhirServer'}: no request at all, the foreign host included`)
  }
})

t.test('§4.2, §7.3: when a partial markers key leaves ER % missing, the incomplete-case cards say the markers arrived only in part', async (t) => {
  const name: ExampleName = 'seed-locally-advanced-painful-vertebra'
  const server = serverOf(name)
  const patientId = patientIdOf(bundleOf(name))
  const markers = (await fhirGet(`${server.foreignNextBaseUrl}/Observation?patient=${patientId}&code=${markerCodes()}&_sort=-date&_count=50`)).body as Json
  // The EHR's first page holds the HER2 result only; ER is on a page the service may not fetch (a foreign next link).
  markers.entry = (markers.entry as Json[]).filter((entry) => entry.resource.id === 'seed-her2-ihc')
  t.equal(markers.entry.length, 1)
  const prefetch = { ...prefetchOf(name), markers }
  const view = await patientView(t, name, { prefetch })
  t.strictSame((view.body.cards as CardJson[]).map((card) => card.summary), [`${INCOMPLETE_PREFIX}ER % missing`])
  const received = sectionLines(view.body.cards[0], 'Data not received in full')
  t.equal(received.length, 1)
  t.match(received[0], /"markers".*\(FHIR_DATA_PARTIAL\)$/, 'the partial key is named: ER % may be in the record')
  const order = await orderSelect(t, name, prefetch, [draftOrder('cap-1', patientId, CAPECITABINE.code, CAPECITABINE.display)])
  t.strictSame(sectionLines(order.body.cards[0], 'Data not received in full'), received, 'the order-select card too')
})

/** The markers template's code list (§4.1), as the EHR renders it. */
function markerCodes (): string {
  const template = PREFETCH_KEYS.find((spec) => spec.key === 'markers')?.template ?? ''
  return /code=([^&]+)/.exec(template)?.[1] ?? ''
}

// ---------------------------------------------------------------------------------------------
// §12.4 B through patient-view: the messy variants, each in its own Medplum server, give the cards
// of the same bundle posted to /v1 as FHIR.

interface VariantCall { hookInstance: string, prefetch: Record<string, unknown>, reply: HookReply, fhir: { status: number, body: Json } }
/** Each variant is called once (its Medplum server, prefetch and call take most of a second); later tests read the result. */
const variantCalls = new Map<string, VariantCall>()

async function variantCall (t: Test, variant: Variant): Promise<VariantCall> {
  const done = variantCalls.get(variant.id)
  if (done !== undefined) return done
  const bundle = buildVariant(variant)
  const server = await serverFor(bundle)
  const patientId = patientIdOf(bundle)
  const prefetch = await buildPrefetch(server.baseUrl, patientId).finally(async () => { await server.close() })
  const fhir = await postFhir(bundle, variant.base)
  const hookInstance = randomUUID()
  const reply = await callHook(app, clock, PATIENT_VIEW, patientViewRequest({ patientId, prefetch: structuredClone(prefetch), hookInstance }), at(variant.base))
  t.equal(reply.status, 200)
  assertConformantResponse(t, reply.body)
  const call = { hookInstance, prefetch, reply, fhir }
  variantCalls.set(variant.id, call)
  return call
}

const variantById = (id: string): Variant => VARIANTS.find((candidate) => candidate.id === id) as Variant

t.test('§12.4 B variants through patient-view: the cards of the same bundle over /v1', async (t) => {
  for (const variant of VARIANTS) {
    t.test(`${variant.id}: ${variant.change}`, async (t) => {
      const { hookInstance, reply, fhir } = await variantCall(t, variant)
      if (variant.expect.response === 'rejected') {
        t.equal(fhir.status, 422, '/v1 rejects it as case-incomplete')
        t.equal(reply.body.cards.length, 1, 'one card: the incomplete-case card (§7.3)')
        const [card] = reply.body.cards as CardJson[]
        t.equal(card?.uuid, cardUuid(hookInstance, 'CASE-INCOMPLETE', []))
        t.equal(card?.indicator, 'info')
        t.ok(card?.summary.startsWith(INCOMPLETE_PREFIX), card?.summary ?? 'no card')
        const paths = (fhir.body.errors as Json[]).map((error) => String(error.path).slice(1).replaceAll('/', '.'))
        for (const path of paths) t.ok(sectionLines(card as CardJson, 'Missing').some((line) => line.includes(`(${path})`)), `lists ${path}`)
        return
      }
      t.equal(fhir.status, 200)
      const cards = recommendationCards(reply.body)
      t.strictSame(cards.map(cardView), expectedCards(hookInstance, fhir.body.recommendations).map(({ uuid, indicator, summary }) => ({ uuid, indicator, summary })),
        'one card per non-info recommendation of the /v1 response')
      for (const code of variant.expect.absentCodes ?? []) {
        t.notOk((fhir.body.recommendations as Json[]).some((item) => item.code === code), `${code} absent`)
      }
      const fhirCodes = uniqueSorted((fhir.body.warnings as Json[]).map((warning) => warning.code as string).filter((code) => !BUNDLE_ONLY_WARNINGS.has(code)))
      t.strictSame(uniqueSorted(listedWarningCodes(dataCardOf(reply.body))), fhirCodes, 'the data card lists the /v1 warnings (less those of the Bundle structure)')
      for (const code of (variant.expect.warnings ?? []).filter((code) => !BUNDLE_ONLY_WARNINGS.has(code))) {
        t.ok(listedWarningCodes(dataCardOf(reply.body)).includes(code), `${code} on the data card`)
      }
    })
  }
})

t.test('v15b (sex unknown) → only the card "HER2+ MBC guidance unavailable: Sex missing"', async (t) => {
  const { reply } = await variantCall(t, variantById('v15b'))
  t.strictSame((reply.body.cards as CardJson[]).map((card) => card.summary), [`${INCOMPLETE_PREFIX}Sex missing`])
  t.match(sectionLines(reply.body.cards[0], 'Missing')[0], /^- Sex \(patient\.sex\) — searched: Patient us-core-birthsex extension, then Patient\.gender — /)
})

t.test('v15b through order-select: a capecitabine order cannot be checked → one info card "Order check unavailable: Sex missing"', async (t) => {
  const { prefetch } = await variantCall(t, variantById('v15b'))
  const hookInstance = randomUUID()
  const patientId = patientIdOf(bundleOf('seed-locally-advanced-painful-vertebra'))
  const reply = await orderSelect(t, 'seed-locally-advanced-painful-vertebra', structuredClone(prefetch), [draftOrder('cap-1', patientId, CAPECITABINE.code, CAPECITABINE.display)], hookInstance)
  t.equal(reply.status, 200)
  t.strictSame((reply.body.cards as CardJson[]).map((card) => [card.uuid, card.indicator, card.summary]), [[cardUuid(hookInstance, 'CASE-INCOMPLETE', []), 'info', 'Order check unavailable: Sex missing']])
  t.match(sectionLines(reply.body.cards[0], 'Selected orders'), ['- capecitabine 500 MG Oral Tablet'])
})

t.test('v09 (L5 as the lumbar column) → no LOC-06 card, the spine level warning on the data card', async (t) => {
  const { hookInstance, reply } = await variantCall(t, variantById('v09'))
  const seedCards = recommendationCards((await patientView(t, 'seed-locally-advanced-painful-vertebra', { prefetch: prefetchOf('seed-locally-advanced-painful-vertebra'), hookInstance })).body)
  const loc06 = cardUuid(hookInstance, 'LOC-06', ['L5'])
  t.ok(seedCards.some((card) => card.uuid === loc06), 'the seed has its LOC-06 card for L5')
  t.notOk(recommendationCards(reply.body).some((card) => card.uuid === loc06 || /vertebral metastasis: palliative/i.test(card.summary)), 'the variant has none')
  t.ok(listedWarningCodes(dataCardOf(reply.body)).includes('FHIR_SPINE_LEVEL_UNKNOWN'))
})

t.test('v12b (an RT course summary to L5) → LOC-09 instead of LOC-06', async (t) => {
  const { hookInstance, reply, fhir } = await variantCall(t, variantById('v12b'))
  const loc09 = (fhir.body.recommendations as JsonRecommendation[]).find((item) => item.code === 'LOC-09')
  t.ok(loc09, 'LOC-09 in the /v1 response')
  t.ok(recommendationCards(reply.body).some((card) => card.uuid === cardUuid(hookInstance, 'LOC-09', loc09?.targets ?? [])), 'a LOC-09 card')
  t.notOk(recommendationCards(reply.body).some((card) => card.uuid === cardUuid(hookInstance, 'LOC-06', ['L5'])), 'no LOC-06 card')
})

t.test('the jurisdiction is the issuer\'s (§6.2): the same record under a US issuer gives the cards of the case with jurisdiction US', async (t) => {
  const name: ExampleName = 'second-line-after-thp'
  t.equal(contextOf(name).jurisdiction, 'UK')
  const example = loadExample(name).case
  const asUs = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { ...example, context: { ...example.context, jurisdiction: 'US' } } })
  t.equal(asUs.statusCode, 200)
  const hookInstance = randomUUID()
  at(name)
  const reply = await patientView(t, name, { prefetch: prefetchOf(name), hookInstance }, CLOSED_ISSUER)
  t.equal(reply.status, 200, 'the closed issuer (US) is answered from the prefetch alone')
  t.strictSame(recommendationCards(reply.body).map(cardView), expectedCards(hookInstance, asUs.json().recommendations).map(({ uuid, indicator, summary }) => ({ uuid, indicator, summary })))
})

// ---------------------------------------------------------------------------------------------
// §12.3: the MITRE bundles through CDS Hooks (each in its own Medplum server, prefetch built by our templates)

interface MitreExpectation {
  file: string
  /** The Patient of the file. */
  patientId?: string
  /** Out of scope: no recommendation card, the data card with these codes. */
  warnings?: string[]
  /** Incomplete: the summary of the one card. */
  incomplete?: string
}

const MITRE: readonly MitreExpectation[] = [
  { file: 'ctm-app.TrialMatching_Patient01.json', patientId: 'mCODETrialMatchingPatientExample01', warnings: ['FHIR_NODE_LATERALITY_UNKNOWN', 'FHIR_ER_PERCENT_STAND_IN', 'FHIR_SEX_FROM_GENDER'] },
  { file: 'ctm-app.TrialMatching_Patient02.json', patientId: 'mCODETrialMatchingPatientExample02', warnings: ['FHIR_RT_SITE_WITHOUT_LESION', 'FHIR_HISTORY_UNSPLIT'] },
  { file: 'ctm-service.eom_patient_1.json', patientId: 'Ancora-13', warnings: ['STAGING_CONFLICT'] },
  { file: 'ctm-service.patient_data.json', patientId: '1e208b6b-77f1-4808-a32b-9f9caf1ec334', incomplete: 'ECOG performance status missing' },
  { file: 'ctm-service.patient_data_missing_birthdate_invalid_ecog_karnofsky.json', patientId: '1e208b6b-77f1-4808-a32b-9f9caf1ec334', incomplete: 'Age, ECOG performance status, ER % missing' },
  { file: 'ctm-bct.patient_data.json', patientId: '1e208b6b-77f1-4808-a32b-9f9caf1ec334', incomplete: 'ECOG performance status, ER % missing' },
  { file: 'ctm-service.patient_data_empty-cgv.json' }
]

t.test('§12.3 through patient-view: the seven MITRE bundles give no 5xx, no HER2 card, and the outcomes of the spec', { skip: thirdPartySkip }, async (t) => {
  clock.setDate('2026-06-01')
  for (const expectation of MITRE) {
    const bundle = readThirdPartyJson<Bundle>(`mcode-thirdparty/${expectation.file}`)
    const server = await serverFor(bundle)
    t.teardown(async () => { await server.close() })
    // Every patient the file names, its own and the others its resources point at (§12.3: files mix patients).
    const named = new Set([...walkObjects(bundle)].flatMap((object) => typeof object.reference === 'string' && /(^|\/)Patient\/[^/]+$/.test(object.reference) ? [object.reference.split('/').pop() as string] : []))
    if (expectation.patientId !== undefined) named.add(expectation.patientId)
    for (const patientId of named) {
      const prefetch = await buildPrefetch(server.baseUrl, patientId)
      const reply = await callHook(app, clock, PATIENT_VIEW, patientViewRequest({ patientId, prefetch }), issuerOf('US'))
      t.ok(reply.status < 500, `${expectation.file} ${patientId}: no 5xx`)
      if (patientId !== expectation.patientId) {
        t.equal(reply.status, 412, `${expectation.file}: ${patientId} has no Patient in the file`)
        t.equal(reply.body.issue?.[0]?.diagnostics, 'patient not found')
        assertConformantOperationOutcome(t, reply.status, reply.body)
        continue
      }
      t.equal(reply.status, 200, `${expectation.file}: 200`)
      assertConformantResponse(t, reply.body)
      if (expectation.incomplete !== undefined) {
        t.strictSame((reply.body.cards as CardJson[]).map((card) => card.summary), [`${INCOMPLETE_PREFIX}${expectation.incomplete}`])
        continue
      }
      t.strictSame(recommendationCards(reply.body), [], `${expectation.file}: out of scope, no recommendation card (no HER2 card)`)
      const listed = listedWarningCodes(dataCardOf(reply.body))
      for (const code of expectation.warnings ?? []) t.ok(listed.includes(code), `${expectation.file}: ${code} on the data card`)
    }
    if (expectation.patientId === undefined) t.ok(named.size > 0, `${expectation.file}: its resources name patients that are not in it`)
  }
})

// ---------------------------------------------------------------------------------------------
// §8 feedback on the cards the real builders issued

t.test('§8: feedback on an issued card is matched to its code and targets; an unknown card is accepted unmatched', async (t) => {
  const { stream, lines } = captureLogs()
  const config = parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL, FHIR_FETCH_BUDGET_MS: '20000' })
  const logged = await buildTestApp(t, { logger: { level: 'info', stream }, cdsHooks: { clients: e2eClients([]), now: clock.now } }, config)
  const name: ExampleName = 'mescc-not-operable'
  const iss = at(name)
  const json = await postJson(name)
  const hookInstance = randomUUID()
  const view = await callHook(logged, clock, PATIENT_VIEW, patientViewRequest({ patientId: patientIdOf(bundleOf(name)), prefetch: prefetchOf(name), hookInstance }), iss)
  t.equal(view.status, 200)
  const expected = expectedCards(hookInstance, json.recommendations as JsonRecommendation[])
  const first = expected[0] as NonNullable<typeof expected[number]>
  const item = (json.recommendations as Json[]).find((candidate) => candidate.code === first.code) as Json
  const outcomeTimestamp = clock.current.toISOString()
  const feedback = (card: string): Record<string, unknown> => ({
    feedback: [{ card, outcome: 'overridden', outcomeTimestamp, overrideReason: { reason: { code: 'patient-refuses', system: OVERRIDE_REASON_SYSTEM }, userComment: 'planted-comment-93b1' } }]
  })
  const sent = await callHook(logged, clock, `${PATIENT_VIEW}/feedback`, feedback(first.uuid), iss)
  t.equal(sent.status, 200)
  t.equal(sent.body, undefined, '200 with an empty body')
  const unknown = await callHook(logged, clock, `${PATIENT_VIEW}/feedback`, feedback(randomUUID()), iss)
  t.equal(unknown.status, 200, 'a card never issued is accepted too')
  const audits = lines.filter((line) => line.event === 'cds_feedback')
  t.match(audits[0], { service: 'her2-mbc-bone-mets', card: first.uuid, matched: true, code: first.code, targets: item.targets ?? [], outcome: 'overridden', reasonCode: 'patient-refuses' })
  t.match(audits[1], { matched: false })
  t.notOk(JSON.stringify(lines).includes('planted-comment-93b1'), 'the user comment is never logged')
})
