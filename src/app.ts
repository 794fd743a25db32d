import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import type { PreparedKnowledgeBase } from './engine/knowledge-base.js'
import { errorHandler, notFoundHandler } from './errors.js'
import { JSON_BODY_LIMIT_BYTES } from './limits.js'
import knowledgeBase from './plugins/knowledge-base.js'
import metrics from './plugins/metrics.js'
import rateLimit from './plugins/rate-limit.js'
import security, { serverOptions, type AfterAuth } from './plugins/security.js'
import swagger from './plugins/swagger.js'
import cdsHooksRoutes, { CDS_PREFIX, cdsHooksOptions, type CdsHooksInjection } from './routes/cds-hooks.js'
import healthRoutes from './routes/health.js'
import metricsRoutes from './routes/metrics.js'
import v1Routes from './routes/v1.js'
import { RecommendationResponse } from './schemas/recommendation.js'
import { constantJson, createSerializerCompiler } from './http/serializer.js'
import { zodValidatorCompiler } from './http/validator.js'
import { createStore, MEMORY_STORE_MAX_ENTRIES, type SharedStore } from './stores/index.js'

/** The rate limiter's namespace of the shared store (its counters, one per client and window). */
export const RATE_LIMIT_NAMESPACE = 'rate-limit:'

/**
 * buildApp: the one factory the server, the tests and the OpenAPI generator use. It reads no
 * environment and listens on nothing. Order matters: compilers and handlers on the root first, then
 * the knowledge base (awaited: the app is ready only once it is loaded), the security plugin
 * (headers, load shedding), the documentation, and the route groups — each a Fastify scope with a
 * prefix and hooks of its own:
 *
 *   /health        probes: no auth, no rate limit, never shed under load
 *   /metrics       (metrics helper) the same
 *   /documentation Swagger UI and the OpenAPI document (src/plugins/swagger.ts; @fastify/swagger-ui
 *                  registers it as a scope with that prefix)
 *   /v1            CORS (when CORS_ORIGINS is set), API key (when API_KEYS is set), rate limit;
 *                  problem+json with the /v1 413/415 words
 *   /cds-services  CORS, JWT (CDS_HOOKS_JWT), rate limit; every error a FHIR OperationOutcome
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** What a handler adds to the request's one log line (ids, codes, counts, timings; never case data). */
    logSummary: Record<string, unknown> | undefined
  }
}

export interface BuildOptions {
  /** Overrides the logger built from config.logLevel (tests pass a stream or false). */
  logger?: FastifyServerOptions['logger']
  /** A knowledge base to use instead of loading config.rulesDir; a promise is awaited (the app is not ready before it resolves). */
  knowledgeBase?: PreparedKnowledgeBase | Promise<PreparedKnowledgeBase>
  /** CDS Hooks collaborators to use instead of the real ones (tests): clients, clock, fetch, store, mapper, cards, verifier. */
  cdsHooks?: CdsHooksInjection
  /** under-pressure's sampling period instead of 1 s (tests force pressure with tiny thresholds and a short period). */
  pressureSampleIntervalMs?: number
  /** The shared store instead of the one config.store gives (tests); the caller closes it. */
  store?: SharedStore
}

/** A client-supplied request id is echoed only when it is a short, safe token. */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestIdFrom (header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID()
}

/** The service's logger (tests add a stream to it): the configured level, bodies and credentials redacted. */
export function loggerOptions (config: Config): { level: string, redact: { paths: string[], censor: string } } {
  return {
    level: config.logLevel,
    // Never log bodies or credentials, whatever a plugin tries to log.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.body', 'body', 'case'], censor: '[redacted]' }
  }
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    // One line per request of our own (onResponse below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ...serverOptions(config.server)
  })

  app.setValidatorCompiler(zodValidatorCompiler)
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')

  // Callback-style hooks: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  app.decorateRequest('logSummary', undefined)
  // One log line per request: route, status and duration, plus the handler's summary.
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({
      ...request.logSummary,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000
    }, 'request completed')
    done()
  })

  // One store per app: the replay cache, feedback records and rate-limit counters are namespaces of it.
  const store = options.store ?? await createStore(config, app.log)
  if (options.store === undefined) app.addHook('onClose', async () => { await store.close() })
  try {
    await registerPlugins(app, config, options, store)
  } catch (error) {
    // A failed startup must not leave a Redis connection keeping the process alive.
    if (options.store === undefined) await store.close()
    throw error
  }
  return app
}

async function registerPlugins (app: FastifyInstance, config: Config, options: BuildOptions, store: SharedStore): Promise<void> {
  await app.register(knowledgeBase, { rulesDir: config.rulesDir, evaluator: config.evaluator, knowledgeBase: options.knowledgeBase })
  // Before any route, once the knowledge base is loaded: the recommendations writer encodes its strings once.
  app.setSerializerCompiler(createSerializerCompiler(new Set([RecommendationResponse]), constantJson(app.knowledge.recommender.constantStrings())))
  // Helmet on every response; under-pressure on every route but those exempted (health, metrics); request.clientId.
  // After the knowledge base: its synchronous load must not count as event-loop delay (under-pressure
  // reads a sample without a single tick as an infinite delay, and would shed the first requests).
  await app.register(security, { config, ...(options.pressureSampleIntervalMs === undefined ? {} : { pressureSampleIntervalMs: options.pressureSampleIntervalMs }) })
  // Before the route groups: its onResponse hook must see every one of them.
  await app.register(metrics)
  await app.register(swagger, { publicBaseUrl: config.cdsHooks.publicBaseUrl })

  await app.register(healthRoutes, { prefix: '/health', store })
  // Its own scope: no API key, no rate limit, and answered under load (a scraper must see the pressure).
  await app.register(metricsRoutes)

  // What the /v1 and /cds-services scopes register after their auth hooks (API key, JWT: request.clientId
  // is set) and before their routes: the rate limiter, keyed by request.clientId ?? request.ip, one
  // counters namespace shared by both groups. Its 429 is a ProblemError, so each group answers in its format.
  const limit = { store: store.namespace(RATE_LIMIT_NAMESPACE, { maxEntries: MEMORY_STORE_MAX_ENTRIES }), ...config.rateLimit }
  const afterAuth: AfterAuth = async (scope) => { await scope.register(rateLimit, limit) }

  await app.register(v1Routes, { prefix: '/v1', config, afterAuth })
  await app.register(cdsHooksRoutes, { prefix: CDS_PREFIX, ...await cdsHooksOptions(config, options.cdsHooks ?? {}, store), afterAuth })
}
