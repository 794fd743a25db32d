import t from 'tap'
import { createMetrics, EVALUATION_DURATION_BUCKETS, OTHER, REJECTION_REASONS, rejectionReasonOf, REQUEST_DURATION_BUCKETS, type KnowledgeSource, type ResponseSample } from '../../src/metrics.js'
import { provenanceRulesets } from '../../src/engine/load-rules.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { parseExposition, valueOf, type Family } from '../support/prom-text.js'

/** src/metrics.ts alone: the series each kind of response feeds, and what never becomes a label. */

const NOT_LOADED: KnowledgeSource = { kb: undefined, evaluator: 'compiled' }
const LOADED: KnowledgeSource = { kb: knowledgeBase, evaluator: 'compiled' }
const PATIENT_VIEW = '/cds-services/her2-mbc-bone-mets'

async function scrape (metrics: ReturnType<typeof createMetrics>): Promise<Map<string, Family>> {
  return parseExposition(await metrics.registry.metrics())
}

const sample = (extra: Partial<ResponseSample> = {}): ResponseSample => ({ method: 'POST', route: '/v1/recommendations', status: 200, durationMs: 3, ...extra })

t.test('buckets: request durations below 500 ms, evaluations from 0.5 ms', async (t) => {
  t.ok(REQUEST_DURATION_BUCKETS.every((bucket) => bucket <= 0.5))
  t.equal(REQUEST_DURATION_BUCKETS.at(-1), 0.5)
  t.equal(EVALUATION_DURATION_BUCKETS[0], 0.0005)
})

t.test('rejectionReasonOf: none below 400; a named known reason wins; else by status', async (t) => {
  t.equal(rejectionReasonOf(200), undefined)
  t.equal(rejectionReasonOf(304, 'auth'), undefined)
  t.equal(rejectionReasonOf(503, 'pressure'), 'pressure')
  t.equal(rejectionReasonOf(503, 'no-such-reason'), 'unavailable', 'an unknown name is ignored')
  const byStatus: Array<[number, string]> = [[400, 'validation'], [401, 'auth'], [403, 'auth'], [404, 'not_found'], [405, 'method_not_allowed'], [408, 'timeout'], [412, 'precondition_failed'],
    [413, 'too_large'], [415, 'unsupported_media_type'], [422, 'unprocessable'], [429, 'rate_limit'], [503, 'unavailable'], [418, 'client_error'], [500, 'internal_error'], [502, 'internal_error']]
  for (const [status, reason] of byStatus) t.equal(rejectionReasonOf(status), reason, String(status))
  for (const [, reason] of byStatus) t.ok((REJECTION_REASONS as readonly string[]).includes(reason))
})

t.test('a request: its duration by route, method and status; a rejection by route and reason', async (t) => {
  const metrics = createMetrics(() => NOT_LOADED)
  metrics.recordResponse(sample({ durationMs: 3 }))
  metrics.recordResponse(sample({ durationMs: 700 }))
  metrics.recordResponse(sample({ route: undefined, method: 'GET', status: 404, durationMs: 1 }))
  metrics.recordResponse(sample({ method: 'BREW', status: 400 }))
  metrics.recordResponse(sample({ status: 503, rejectionReason: 'pressure' }))
  const families = await scrape(metrics)
  const v1 = { route: '/v1/recommendations', method: 'POST', status_code: '200' }
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_count', v1), 2)
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_bucket', { ...v1, le: '0.005' }), 1)
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_bucket', { ...v1, le: '0.5' }), 1, 'the 700 ms one is above the top bucket')
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_bucket', { ...v1, le: '+Inf' }), 2)
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_sum', v1), 0.703)
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status_code: '404' }), 1)
  t.equal(valueOf(families, 'http_request_duration_seconds', 'http_request_duration_seconds_count', { route: '/v1/recommendations', method: OTHER, status_code: '400' }), 1, 'an unknown method is "other"')
  t.strictSame(families.get('http_rejections_total')?.samples.map(({ labels, value }) => [labels.route, labels.reason, value]), [
    ['unmatched', 'not_found', 1], ['/v1/recommendations', 'validation', 1], ['/v1/recommendations', 'pressure', 1]
  ])
})

t.test('a recommendations summary: the evaluation duration and each code with its strength', async (t) => {
  const metrics = createMetrics(() => NOT_LOADED)
  metrics.recordResponse(sample({
    summary: {
      evaluationMs: 1.5,
      recommended: [{ code: 'LOC-06', strength: 'urgent' }, { code: 'LOC-06', strength: 'urgent' }, { code: 'SYS-01b', strength: 'recommended' },
        { code: 'patient 42', strength: 'recommended' }, { code: 'BH-01', strength: 'very strong' }, { code: 7, strength: null }, 'LOC-01', null]
    }
  }))
  metrics.recordResponse(sample({ summary: { evaluationMs: -1, recommended: 'LOC-06' } }))
  metrics.recordResponse(sample({ summary: { evaluationMs: '2' } }))
  const families = await scrape(metrics)
  t.equal(valueOf(families, 'cds_evaluation_duration_seconds', 'cds_evaluation_duration_seconds_count', { route: '/v1/recommendations' }), 1, 'only a number ≥ 0 is a duration')
  t.equal(valueOf(families, 'cds_evaluation_duration_seconds', 'cds_evaluation_duration_seconds_sum', { route: '/v1/recommendations' }), 0.0015)
  t.strictSame(families.get('cds_recommendations_total')?.samples.map(({ labels, value }) => [labels.code, labels.strength, value]), [
    ['LOC-06', 'urgent', 2], ['SYS-01b', 'recommended', 1], [OTHER, 'recommended', 1], ['BH-01', OTHER, 1], [OTHER, OTHER, 1]
  ], 'a value outside the code pattern or the strengths is "other"; a non-object item is skipped')
})

t.test('CDS Hooks: calls by service and outcome, FHIR reads by outcome, feedback items by result', async (t) => {
  const metrics = createMetrics(() => NOT_LOADED)
  const call = (status: number, summary?: Record<string, unknown>, method = 'POST'): void => { metrics.recordResponse(sample({ method, route: PATIENT_VIEW, status, summary })) }
  call(200, { service: 'her2-mbc-bone-mets', outcome: 'evaluated', evaluationMs: 2, data: { fetch: { statuses: { '2xx': 3, '5xx': 1, timeout: 1, 'https://fhir.example.org/Patient/1': 1, '4xx': 0, network: 'x' } } } })
  call(412, { service: 'her2-mbc-bone-mets', outcome: 'unavailable', data: { fetched: [] } })
  call(200, { service: 'her2-mbc-bone-mets', outcome: 'not_in_population', data: { fetch: { statuses: [] } } })
  call(200, { outcome: 'a patient name', data: 'x' })
  call(401)
  call(500)
  call(200, { outcome: 'evaluated' }, 'GET')
  const feedback = (status: number, summary?: Record<string, unknown>): void => { metrics.recordResponse(sample({ route: `${PATIENT_VIEW}/feedback`, status, summary })) }
  feedback(200, { service: 'her2-mbc-bone-mets', items: 3, repeats: 1 })
  feedback(200, { items: 2, repeats: 2 })
  feedback(200, { items: 1, repeats: 5 })
  feedback(200, { items: 'many', repeats: -1 })
  feedback(503, { items: 4, repeats: 0, reason: 'store_full' })
  metrics.recordResponse(sample({ route: '/cds-services/her2-mbc-order-check', status: 200, summary: { outcome: 'case_incomplete' } }))
  const families = await scrape(metrics)
  t.strictSame(families.get('cds_hooks_calls_total')?.samples.map(({ labels, value }) => [labels.service, labels.outcome, value]), [
    ['her2-mbc-bone-mets', 'evaluated', 1], ['her2-mbc-bone-mets', 'unavailable', 1], ['her2-mbc-bone-mets', 'not_in_population', 1],
    ['her2-mbc-bone-mets', 'rejected', 2], ['her2-mbc-bone-mets', 'failed', 1], ['her2-mbc-order-check', 'case_incomplete', 1]
  ], 'the service from the route; an outcome outside HookOutcome is rejected (4xx, or a 200 without one) or failed (5xx); a GET is not a call')
  t.strictSame(families.get('cds_fhir_fetches_total')?.samples.map(({ labels, value }) => [labels.outcome, value]), [['2xx', 3], ['5xx', 1], ['timeout', 1], [OTHER, 1]])
  t.strictSame(families.get('cds_hooks_feedback_items_total')?.samples.map(({ labels, value }) => [labels.service, labels.result, value]), [
    ['her2-mbc-bone-mets', 'recorded', 2], ['her2-mbc-bone-mets', 'repeat', 4]
  ], 'repeats are bounded by the items; a refused request records nothing')
  t.equal(valueOf(families, 'cds_evaluation_duration_seconds', 'cds_evaluation_duration_seconds_count', { route: PATIENT_VIEW }), 1)
})

t.test('info metrics: none until the knowledge base is loaded, then one series per ruleset and one for the knowledge base', async (t) => {
  let source = NOT_LOADED
  const metrics = createMetrics(() => source)
  let families = await scrape(metrics)
  t.strictSame(families.get('cds_ruleset_info')?.samples, [])
  t.strictSame(families.get('cds_knowledge_base_info')?.samples, [])
  source = LOADED
  families = await scrape(metrics)
  t.strictSame(families.get('cds_ruleset_info')?.samples.map(({ labels, value }) => [labels.ruleset, labels.version, value]),
    provenanceRulesets(knowledgeBase).map(({ id, version }) => [id, version, 1]))
  t.match(families.get('cds_knowledge_base_info')?.samples, [{ labels: { kb_version: /^[0-9a-f]{12}$/, mapping_version: '1.0.0', evaluator: 'compiled', service_version: String, engine_version: String }, value: 1 }])
  t.equal(families.get('cds_knowledge_base_info')?.type, 'gauge')
})

t.test('each app has its own registry; the process metrics are one set shared by all', async (t) => {
  const first = createMetrics(() => NOT_LOADED)
  const second = createMetrics(() => NOT_LOADED)
  t.not(first.registry, second.registry)
  first.recordResponse(sample())
  const name = 'process_cpu_user_seconds_total'
  t.ok(first.registry.getSingleMetric(name))
  t.equal(first.registry.getSingleMetric(name), second.registry.getSingleMetric(name), 'the same metric object')
  t.equal(valueOf(await scrape(second), 'http_request_duration_seconds', 'http_request_duration_seconds_count', { route: '/v1/recommendations', method: 'POST', status_code: '200' }), undefined)
  const families = await scrape(first)
  for (const family of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_resident_memory_bytes', 'nodejs_gc_duration_seconds']) t.ok(families.has(family), family)
})
