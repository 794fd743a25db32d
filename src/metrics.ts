import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'
import type { HookOutcome } from './cds-hooks/service.js'
import { CDS_SERVICES } from './cds-hooks/services.js'
import { knowledgeBaseVersion } from './cds-hooks/cards.js'
import { provenanceRulesets } from './engine/load-rules.js'
import type { PreparedKnowledgeBase } from './engine/knowledge-base.js'
import { MAPPING_VERSION } from './fhir/constants.js'
import { STRENGTHS } from './schemas/common.js'
import { ENGINE_VERSION, SERVICE_INFO } from './service-info.js'

/**
 * The service's Prometheus metrics, framework-free: one Registry per app (never prom-client's global
 * registry — tests build many apps in one process), fed one response at a time by recordResponse
 * (src/plugins/metrics.ts calls it from its onResponse hook) and served by GET /metrics.
 *
 * Every label value comes from a closed set the service defines — route patterns, status codes,
 * reasons, recommendation codes and strengths, ruleset ids and versions, CDS service ids, outcome
 * codes — and is checked against it: a value from a request (a URL, an id, a case value) never
 * becomes a label, so no label can carry patient data, and series stay bounded.
 */

/** Seconds, as Prometheus names them; all below 500 ms, where the service's latency lives. */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5]
/** An evaluation takes about a millisecond; the top buckets catch a pathological case. */
export const EVALUATION_DURATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5]

/** The route label of a request that matched no route (404, 405): never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched'
/** A label value outside its closed set (it should not happen; it keeps a stray value out of the labels). */
export const OTHER = 'other'

/**
 * Why a request was answered with an error. Hooks and handlers may name it (`request.rejectionReason`)
 * where the status alone is ambiguous — a 503 from load shedding is `pressure` — else it follows
 * from the status (rejectionReasonOf).
 */
export const REJECTION_REASONS = [
  'validation', 'auth', 'not_found', 'method_not_allowed', 'timeout', 'precondition_failed', 'too_large',
  'unsupported_media_type', 'unprocessable', 'rate_limit', 'client_error', 'pressure', 'unavailable', 'internal_error'
] as const
export type RejectionReason = typeof REJECTION_REASONS[number]

const REASON_BY_STATUS: Readonly<Record<number, RejectionReason>> = {
  400: 'validation',
  401: 'auth',
  403: 'auth',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'timeout',
  412: 'precondition_failed',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limit',
  503: 'unavailable'
}

const isOneOf = <T extends string>(values: readonly T[], value: unknown): value is T => (values as readonly unknown[]).includes(value)

/** The reason of a status ≥ 400 (undefined below): the one named, when it is a known reason, else the status's. */
export function rejectionReasonOf (status: number, named?: string): RejectionReason | undefined {
  if (status < 400) return undefined
  if (isOneOf(REJECTION_REASONS, named)) return named
  return REASON_BY_STATUS[status] ?? (status < 500 ? 'client_error' : 'internal_error')
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
/** A catalogue code as the recommendation schema writes it (LOC-06, CI-06b). */
const RECOMMENDATION_CODE = /^[A-Z]+-\d{2}[a-z]?$/
/** A FHIR read's outcome as src/cds-hooks/fetch.ts records it: a status class or a named failure. */
const FETCH_OUTCOME = /^(?:[1-5]xx|budget|foreign|timeout|network|too_large|bad_json)$/
/** Record<HookOutcome, …>: a new HookOutcome that is not listed here is a type error. */
const HOOK_OUTCOMES: Readonly<Record<HookOutcome, true>> = {
  unavailable: true,
  patient_not_found: true,
  deceased: true,
  not_in_population: true,
  case_incomplete: true,
  case_inconsistent: true,
  evaluated: true
}
/** The route patterns of the CDS Hooks calls and feedback (the contract's `/cds-services` prefix), by service id. */
interface CdsRoute { service: string, kind: 'call' | 'feedback' }
const CDS_ROUTES: ReadonlyMap<string, CdsRoute> = new Map(Object.keys(CDS_SERVICES).flatMap((service): Array<[string, CdsRoute]> => [
  [`/cds-services/${service}`, { service, kind: 'call' }],
  [`/cds-services/${service}/feedback`, { service, kind: 'feedback' }]
]))

/** One response, as the onResponse hook sees it. */
export interface ResponseSample {
  method: string
  /** The route pattern (`request.routeOptions.url`); undefined when no route matched. */
  route: string | undefined
  status: number
  /** `reply.elapsedTime`. */
  durationMs: number
  /** `request.rejectionReason`, when a hook named it. */
  rejectionReason?: string | undefined
  /** `request.logSummary`: what the handler reported (codes, counts, timings). */
  summary?: Record<string, unknown> | undefined
}

/** What the ruleset info metric reads at each scrape (the knowledge base may load after the app is built). */
export interface KnowledgeSource {
  kb: PreparedKnowledgeBase | undefined
  evaluator: string
}

export interface ServiceMetrics {
  registry: Registry
  recordResponse: (sample: ResponseSample) => void
}

/**
 * Node's process metrics, made once per process: collectDefaultMetrics starts a GC observer and an
 * event-loop monitor per call that are never stopped, so one set is shared by every app's registry
 * (they describe the process, not the app).
 */
let processMetrics: Registry | undefined
function processMetricsRegistry (): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry()
    collectDefaultMetrics({ register: processMetrics })
  }
  return processMetrics
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The `{ code, strength }` pairs of a recommendations summary (`recommended`). */
function recommendedOf (summary: Record<string, unknown>): Array<{ code: string, strength: string }> {
  const recommended = summary.recommended
  if (!Array.isArray(recommended)) return []
  return recommended.filter(isRecord).map(({ code, strength }) => ({
    code: typeof code === 'string' && RECOMMENDATION_CODE.test(code) ? code : OTHER,
    strength: isOneOf(STRENGTHS, strength) ? strength : OTHER
  }))
}

/** The FHIR reads of a CDS Hooks call by outcome (`data.fetch.statuses` of its summary). */
function fetchOutcomesOf (summary: Record<string, unknown>): Array<[outcome: string, count: number]> {
  const statuses = isRecord(summary.data) && isRecord(summary.data.fetch) ? summary.data.fetch.statuses : undefined
  if (!isRecord(statuses)) return []
  return Object.entries(statuses).flatMap(([outcome, count]) => typeof count === 'number' && count > 0
    ? [[FETCH_OUTCOME.test(outcome) ? outcome : OTHER, count] as [string, number]]
    : [])
}

const count = (value: unknown): number => typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0

export function createMetrics (knowledge: () => KnowledgeSource): ServiceMetrics {
  const registry = new Registry()
  const registers = [registry]

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by route pattern (unmatched for no route), method and status code.',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers
  })
  const rejections = new Counter({
    name: 'http_rejections_total',
    help: 'Responses with a status of 400 or more, by route pattern and reason (validation, auth, rate_limit, pressure, unavailable, not_found, too_large, ...).',
    labelNames: ['route', 'reason'] as const,
    registers
  })
  const evaluationDuration = new Histogram({
    name: 'cds_evaluation_duration_seconds',
    help: 'Time the engine took to evaluate one case, by route pattern (POST /v1/recommendations or a CDS Hooks service).',
    labelNames: ['route'] as const,
    buckets: EVALUATION_DURATION_BUCKETS,
    registers
  })
  // Counted in a plain map and handed to prom-client at each scrape: a labelled inc costs about a
  // microsecond (label hashing and checks), and a response carries fifteen or so recommendations.
  const recommendationCounts = new Map<string, { code: string, strength: string, count: number }>()
  const recommendations = new Counter({
    name: 'cds_recommendations_total',
    help: 'Recommendations returned by POST /v1/recommendations, by catalogue code and strength.',
    labelNames: ['code', 'strength'] as const,
    registers,
    collect () {
      recommendations.reset()
      for (const { code, strength, count } of recommendationCounts.values()) recommendations.inc({ code, strength }, count)
    }
  })
  const countRecommendation = (code: string, strength: string): void => {
    const key = `${code} ${strength}`
    const entry = recommendationCounts.get(key)
    if (entry === undefined) recommendationCounts.set(key, { code, strength, count: 1 })
    else entry.count++
  }
  const hookCalls = new Counter({
    name: 'cds_hooks_calls_total',
    help: 'CDS Hooks service calls by service and outcome (evaluated, not_in_population, case_incomplete, unavailable, ...; rejected or failed when refused before the hook ran).',
    labelNames: ['service', 'outcome'] as const,
    registers
  })
  const fhirFetches = new Counter({
    name: 'cds_fhir_fetches_total',
    help: 'FHIR reads made for CDS Hooks calls, by outcome (status class 2xx/4xx/5xx, or timeout, network, budget, too_large, bad_json, foreign).',
    labelNames: ['outcome'] as const,
    registers
  })
  const feedbackItems = new Counter({
    name: 'cds_hooks_feedback_items_total',
    help: 'CDS Hooks feedback items accepted, by service and result (recorded, or repeat of one already recorded).',
    labelNames: ['service', 'result'] as const,
    registers
  })
  // Info metrics (value 1, the facts in the labels), read from the knowledge base at each scrape.
  const rulesetInfo = new Gauge({
    name: 'cds_ruleset_info',
    help: 'The rulesets loaded (value 1): ruleset id and version, as every response\'s provenance lists them.',
    labelNames: ['ruleset', 'version'] as const,
    registers,
    collect () {
      rulesetInfo.reset()
      const { kb } = knowledge()
      if (kb !== undefined) for (const { id, version } of provenanceRulesets(kb)) rulesetInfo.set({ ruleset: id, version }, 1)
    }
  })
  const knowledgeInfo = new Gauge({
    name: 'cds_knowledge_base_info',
    help: 'The knowledge base loaded (value 1): its version (as CDS Hooks cards show it), the FHIR mapping version, the rule evaluator, the service and json-rules-engine versions.',
    labelNames: ['kb_version', 'mapping_version', 'evaluator', 'service_version', 'engine_version'] as const,
    registers,
    collect () {
      knowledgeInfo.reset()
      const { kb, evaluator } = knowledge()
      if (kb === undefined) return
      knowledgeInfo.set({
        kb_version: knowledgeBaseVersion(provenanceRulesets(kb)),
        mapping_version: MAPPING_VERSION,
        evaluator,
        service_version: SERVICE_INFO.version,
        engine_version: ENGINE_VERSION
      }, 1)
    }
  })
  // getMetricsAsArray returns the metric objects themselves (typed as their plain shape).
  for (const metric of processMetricsRegistry().getMetricsAsArray() as unknown as Metric[]) registry.registerMetric(metric)

  function recordCdsHooks (cds: CdsRoute, status: number, summary: Record<string, unknown>): void {
    if (cds.kind === 'feedback') {
      // Only a 200 recorded its items; a refused request is counted among the rejections.
      if (status !== 200) return
      const items = count(summary.items)
      const repeats = Math.min(count(summary.repeats), items)
      if (items > repeats) feedbackItems.inc({ service: cds.service, result: 'recorded' }, items - repeats)
      if (repeats > 0) feedbackItems.inc({ service: cds.service, result: 'repeat' }, repeats)
      return
    }
    const outcome = typeof summary.outcome === 'string' && Object.hasOwn(HOOK_OUTCOMES, summary.outcome)
      ? summary.outcome
      : status < 500 ? 'rejected' : 'failed'
    hookCalls.inc({ service: cds.service, outcome })
    for (const [fetchOutcome, reads] of fetchOutcomesOf(summary)) fhirFetches.inc({ outcome: fetchOutcome }, reads)
  }

  function recordResponse (sample: ResponseSample): void {
    const route = sample.route ?? UNMATCHED_ROUTE
    const method = isOneOf(HTTP_METHODS, sample.method) ? sample.method : OTHER
    requestDuration.observe({ route, method, status_code: String(sample.status) }, sample.durationMs / 1000)
    const reason = rejectionReasonOf(sample.status, sample.rejectionReason)
    if (reason !== undefined) rejections.inc({ route, reason })
    const summary = sample.summary ?? {}
    const evaluationMs = summary.evaluationMs
    if (typeof evaluationMs === 'number' && evaluationMs >= 0) evaluationDuration.observe({ route }, evaluationMs / 1000)
    for (const { code, strength } of recommendedOf(summary)) countRecommendation(code, strength)
    const cds = CDS_ROUTES.get(route)
    if (cds !== undefined && sample.method === 'POST') recordCdsHooks(cds, sample.status, summary)
  }

  return { registry, recordResponse }
}
