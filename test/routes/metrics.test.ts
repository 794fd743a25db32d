import t, { type Test } from 'tap'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseConfig } from '../../src/config.js'
import { provenanceRulesets } from '../../src/engine/load-rules.js'
import { Registry } from 'prom-client'
import { shedLoad } from '../../src/plugins/security.js'
import { loadExampleCases } from '../../src/plugins/swagger.js'
import { RecommendationResponse } from '../../src/schemas/recommendation.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { BEARER, fakeCards, fakeMapper, fakeToCase, fakeVerifier, fullPrefetch, patientViewBody, PUBLIC_BASE_URL, TEST_CLIENT } from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { loadBaseBundle } from '../fixtures/fhir/bundles.js'
import { parseExposition, valueOf, type Family } from '../support/prom-text.js'

/**
 * GET /metrics after a mix of requests — a valid case, an invalid one, a 404 and a 405, FHIR input, a
 * CDS Hooks call that reads from a FHIR server, a refused one, feedback — parsed whole by the strict
 * parser of test/support/prom-text.ts, with the series each request fed; and no request data
 * (case id, patient id, hookInstance, URLs, request id, token) in any label.
 */

const V1 = '/v1/recommendations'
const PATIENT_VIEW = '/cds-services/her2-mbc-bone-mets'
const FHIR_SERVER = 'https://fhir-canary-4471.example.org/r4'
const CANARIES = {
  caseId: 'canary-case-9931',
  fhirCaseId: 'canary-fhir-case-2284',
  path: 'canary-path-6150',
  requestId: 'canary-request-7702',
  patientId: 'canary-patient-3319',
  hookInstance: '5d0e7a44-1c2b-4e8e-9f31-7c0a2b9d4e55',
  fhirHost: 'fhir-canary-4471'
}

const example = loadExampleCases()['seed-locally-advanced-painful-vertebra']?.case as Record<string, unknown>
const ALLOWED_LABELS = new Set(['route', 'method', 'status_code', 'reason', 'code', 'strength', 'service', 'outcome', 'result', 'ruleset', 'version',
  'kb_version', 'mapping_version', 'evaluator', 'service_version', 'engine_version', 'le',
  // Node's process metrics.
  'kind', 'type', 'space', 'major', 'minor', 'patch'])

interface Mix { app: FastifyInstance, fetches: string[], expectedCodes: Map<string, number> }

/** The app with JWT on (a fake verifier whose client may read FHIR_SERVER), and the mix of requests. */
async function runMix (t: Test): Promise<Mix> {
  const fetches: string[] = []
  const fakeFetch = async (url: string | URL | Request): Promise<Response> => {
    fetches.push(String(url))
    // The first read answers, the next fails: two outcomes.
    return fetches.length === 1
      ? new Response(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }), { status: 200, headers: { 'content-type': 'application/fhir+json' } })
      : new Response('', { status: 500 })
  }
  const app = await buildTestApp(t, {
    cdsHooks: {
      verifier: fakeVerifier({ ...TEST_CLIENT, openFhirServers: [FHIR_SERVER] }),
      mapResources: fakeMapper().mapResources,
      toCase: fakeToCase(),
      cards: fakeCards().cards,
      fetch: fakeFetch as typeof globalThis.fetch
    }
  }, parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL }))
  const expectedCodes = new Map<string, number>()
  const countCodes = (body: unknown): void => {
    for (const { code, strength } of RecommendationResponse.parse(body).recommendations) expectedCodes.set(`${code} ${strength}`, (expectedCodes.get(`${code} ${strength}`) ?? 0) + 1)
  }

  const valid = await app.inject({ method: 'POST', url: V1, payload: { ...example, caseId: CANARIES.caseId }, headers: { 'x-request-id': CANARIES.requestId } })
  t.equal(valid.statusCode, 200, 'a valid case')
  countCodes(valid.json())
  const invalid = await app.inject({ method: 'POST', url: V1, payload: { ...example, caseId: CANARIES.caseId, patient: { ecog: 9 } } })
  t.equal(invalid.statusCode, 400, 'an invalid case')
  t.equal((await app.inject({ method: 'GET', url: `/v1/${CANARIES.path}?patient=${CANARIES.patientId}` })).statusCode, 404, 'an unknown path')
  t.equal((await app.inject({ method: 'DELETE', url: V1 })).statusCode, 405, 'a known path with the wrong method')

  const bundle = loadBaseBundle('seed-locally-advanced-painful-vertebra')
  const evaluationDate = (example.context as { evaluationDate: string }).evaluationDate
  const fhir = await app.inject({ method: 'POST', url: `${V1}?evaluationDate=${evaluationDate}&caseId=${CANARIES.fhirCaseId}`, payload: JSON.stringify(bundle), headers: { 'content-type': 'application/fhir+json' } })
  t.equal(fhir.statusCode, 200, 'FHIR input')
  countCodes(fhir.json())

  const hook = await app.inject({
    method: 'POST',
    url: PATIENT_VIEW,
    headers: BEARER,
    payload: patientViewBody({
      hookInstance: CANARIES.hookInstance,
      context: { userId: 'Practitioner/doc-1', patientId: CANARIES.patientId },
      prefetch: fullPrefetch({ cardiac: undefined, renal: undefined }, CANARIES.patientId),
      fhirServer: FHIR_SERVER
    })
  })
  t.equal(hook.statusCode, 200, 'a CDS Hooks call')
  const card = (hook.json() as { cards: Array<{ uuid: string }> }).cards[0]?.uuid as string
  t.ok(card)
  const refused = await app.inject({ method: 'POST', url: PATIENT_VIEW, headers: { authorization: 'Bearer forged' }, payload: patientViewBody() })
  t.equal(refused.statusCode, 401, 'a CDS Hooks call with a bad token')
  const feedback = { feedback: [{ card, outcome: 'overridden', outcomeTimestamp: '2026-03-01T10:00:00Z' }] }
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ method: 'POST', url: `${PATIENT_VIEW}/feedback`, headers: BEARER, payload: feedback })).statusCode, 200, 'feedback')
  return { app, fetches, expectedCodes }
}

async function scrape (app: FastifyInstance): Promise<{ text: string, families: Map<string, Family> }> {
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  if (response.statusCode !== 200) throw new Error(`GET /metrics: ${response.statusCode}`)
  return { text: response.body, families: parseExposition(response.body) }
}

const countOf = (families: Map<string, Family>, route: string, method: string, status: number): number | undefined =>
  valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_count', { route, method, status_code: String(status) })

t.test('GET /metrics after a mix of requests: the whole output parses, and each request fed its series', async (t) => {
  const { app, fetches, expectedCodes } = await runMix(t)
  const { families } = await scrape(app)

  t.equal(countOf(families, V1, 'POST', 200), 2, 'the valid case and the FHIR input')
  t.equal(countOf(families, V1, 'POST', 400), 1)
  t.equal(countOf(families, 'unmatched', 'GET', 404), 1, 'a 404 is "unmatched", never its URL')
  t.equal(countOf(families, 'unmatched', 'DELETE', 405), 1)
  t.equal(countOf(families, PATIENT_VIEW, 'POST', 200), 1)
  t.equal(countOf(families, PATIENT_VIEW, 'POST', 401), 1)
  t.equal(countOf(families, `${PATIENT_VIEW}/feedback`, 'POST', 200), 2)

  const rejections = families.get('http_rejections_total')?.samples.map(({ labels, value }) => `${labels.route} ${labels.reason} ${value}`)
  t.strictSame(rejections?.sort(), [`${PATIENT_VIEW} auth 1`, `${V1} validation 1`, 'unmatched method_not_allowed 1', 'unmatched not_found 1'].sort())

  t.equal(valueOf(families, 'cds_evaluation_duration_seconds', 'cds_evaluation_duration_seconds_count', { route: V1 }), 2)
  t.equal(valueOf(families, 'cds_evaluation_duration_seconds', 'cds_evaluation_duration_seconds_count', { route: PATIENT_VIEW }), 1)
  const recommended = new Map(families.get('cds_recommendations_total')?.samples.map(({ labels, value }) => [`${labels.code as string} ${labels.strength as string}`, value]))
  t.ok(expectedCodes.size > 3)
  t.strictSame(recommended, expectedCodes, 'one count per recommendation of the two 200 responses, by code and strength')

  t.strictSame(families.get('cds_hooks_calls_total')?.samples.map(({ labels, value }) => `${labels.service} ${labels.outcome} ${value}`).sort(),
    ['her2-mbc-bone-mets evaluated 1', 'her2-mbc-bone-mets rejected 1'])
  t.equal(fetches.length, 2)
  t.strictSame(families.get('cds_fhir_fetches_total')?.samples.map(({ labels, value }) => `${labels.outcome} ${value}`).sort(), ['2xx 1', '5xx 1'])
  t.strictSame(families.get('cds_hooks_feedback_items_total')?.samples.map(({ labels, value }) => `${labels.service} ${labels.result} ${value}`).sort(),
    ['her2-mbc-bone-mets recorded 1', 'her2-mbc-bone-mets repeat 1'])

  t.strictSame(families.get('cds_ruleset_info')?.samples.map(({ labels }) => `${labels.ruleset}@${labels.version}`), provenanceRulesets(knowledgeBase).map(({ id, version }) => `${id}@${version}`))
  t.equal(families.get('cds_knowledge_base_info')?.samples.length, 1)
  for (const family of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) t.ok(families.has(family), family)
  // The scrape itself shows up in the next one.
  t.equal(countOf((await scrape(app)).families, '/metrics', 'GET', 200), 1)
})

t.test('no request data in any label: only known label names, values from closed sets, no canary anywhere', async (t) => {
  const { app } = await runMix(t)
  const { text, families } = await scrape(app)
  for (const [name, canary] of Object.entries(CANARIES)) t.notOk(text.includes(canary), `no ${name} in the output`)
  t.notOk(text.includes('Bearer') || text.includes('forged'), 'no token')
  const routes = new Set<string>()
  for (const family of families.values()) {
    for (const sample of family.samples) {
      for (const [label, value] of Object.entries(sample.labels)) {
        if (!ALLOWED_LABELS.has(label)) t.fail(`label ${label} of ${sample.name}`)
        if (label === 'route') routes.add(value)
        if (label === 'code') t.match(value, /^[A-Z]+-\d{2}[a-z]?$/, 'a catalogue code')
        if (label === 'strength') t.ok(['urgent', 'avoid', 'recommended', 'consider', 'info'].includes(value), `strength ${value}`)
      }
    }
  }
  t.strictSame([...routes].sort(), [V1, PATIENT_VIEW, `${PATIENT_VIEW}/feedback`, 'unmatched'].sort(), 'route patterns only')
})

t.test('GET /metrics: the registry\'s content type, HEAD too, not rate-limited, documented as text/plain without security', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], Registry.PROMETHEUS_CONTENT_TYPE)
  t.equal(response.headers['content-type'], app.metrics.registry.contentType)
  t.equal((await app.inject({ method: 'HEAD', url: '/metrics' })).statusCode, 200)
  const route = app.printRoutes({ commonPrefix: false })
  t.match(route, /metrics \(GET, HEAD\)/)
  const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const operation = document.paths['/metrics'].get
  t.equal(operation.operationId, 'getMetrics')
  t.strictSame(operation.security, [])
  t.strictSame(Object.keys(operation.responses['200'].content), ['text/plain'])
  t.equal(operation.responses['200'].content['text/plain'].schema.type, 'string')
  t.ok(document.tags.some((tag: { name: string }) => tag.name === 'metrics'), 'the metrics tag is declared')
})

t.test('each app has its own registry: the requests of one never show in another', async (t) => {
  const first = await buildTestApp(t)
  const second = await buildTestApp(t)
  await first.inject({ method: 'GET', url: '/health/live' })
  t.not(first.metrics.registry, second.metrics.registry)
  t.equal(countOf((await scrape(first)).families, '/health/live', 'GET', 200), 1)
  t.equal(countOf((await scrape(second)).families, '/health/live', 'GET', 200), undefined)
})

t.test('rejection reasons a hook names win over the status; load shedding (the security plugin\'s shedLoad) is pressure', async (t) => {
  const app = await buildTestApp(t)
  // A scope whose error handler answers 503, as load shedding does.
  await app.register(async (scope) => {
    scope.setErrorHandler(async (_error, _request, reply) => await reply.code(503).send({ status: 503 }))
    const unavailable = Object.assign(new Error('Service Unavailable'), { statusCode: 503 })
    scope.get('/test/pressure', async (request, reply) => { await shedLoad(request, reply, 'heapUsedBytes') })
    scope.get('/test/other-error', async () => { throw Object.assign(new Error('down'), { code: 'SOMETHING_ELSE' }) })
    scope.get('/test/named', {
      onRequest: (request: FastifyRequest, _reply: FastifyReply, done: () => void) => { request.rejectionReason = 'rate_limit'; done() }
    }, async () => { throw unavailable })
  })
  for (const url of ['/test/pressure', '/test/other-error', '/test/named']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 503, url)
  const { families } = await scrape(app)
  t.strictSame(families.get('http_rejections_total')?.samples.map(({ labels, value }) => `${labels.route} ${labels.reason} ${value}`), [
    '/test/pressure pressure 1', '/test/other-error unavailable 1', '/test/named rate_limit 1'
  ])
})
