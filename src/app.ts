import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import type { PreparedKnowledgeBase } from './engine/knowledge-base.js'
import { errorHandler, notFoundHandler } from './errors.js'
import knowledgeBase from './plugins/knowledge-base.js'
import swagger from './plugins/swagger.js'
import cdsHooksRoutes, { CDS_PREFIX, cdsHooksOptions, type CdsHooksInjection } from './routes/cds-hooks.js'
import healthRoutes from './routes/health.js'
import knowledgeRoutes from './routes/knowledge.js'
import recommendationRoutes, { BODY_LIMIT_BYTES } from './routes/recommendations.js'
import { RecommendationResponse } from './schemas/recommendation.js'
import { createSerializerCompiler } from './http/serializer.js'
import { zodValidatorCompiler } from './http/validator.js'

/**
 * buildApp: the one factory the server, the tests and the OpenAPI generator use. It reads no
 * environment and listens on nothing. Order matters: compilers and handlers on the root first,
 * then the knowledge base, the documentation, and the routes.
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
  /** A knowledge base to use instead of loading config.rulesDir; a promise keeps the app not ready until it resolves. */
  knowledgeBase?: PreparedKnowledgeBase | Promise<PreparedKnowledgeBase>
  /** CDS Hooks collaborators to use instead of the real ones (tests): clients, clock, fetch, store, mapper, cards, verifier. */
  cdsHooks?: CdsHooksInjection
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
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'body', 'case'], censor: '[redacted]' }
  }
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    // One line per request of our own (onResponse below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true
  })

  app.setValidatorCompiler(zodValidatorCompiler)
  app.setSerializerCompiler(createSerializerCompiler(new Set([RecommendationResponse])))
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

  await app.register(knowledgeBase, { rulesDir: config.rulesDir, evaluator: config.evaluator, knowledgeBase: options.knowledgeBase })
  await app.register(swagger)
  await app.register(healthRoutes)
  await app.register(knowledgeRoutes)
  await app.register(recommendationRoutes)
  await app.register(cdsHooksRoutes, { prefix: CDS_PREFIX, ...await cdsHooksOptions(config, options.cdsHooks) })
  return app
}
