import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { v1ErrorHandler } from '../errors.js'
import { registerCors, requireApiKey, type AfterAuth } from '../plugins/security.js'
import knowledgeRoutes from './knowledge.js'
import recommendationRoutes from './recommendations.js'

/**
 * The /v1 group (spec/api.md), registered with `{ prefix: '/v1' }`: recommendations, rulesets and
 * references, with the group's hooks in order — CORS (so that a browser can read every answer,
 * a 401 too), the API key (sets request.clientId), then `afterAuth` (the rate limiter, see
 * buildApp) — and its problem+json errors with the /v1 words for 413 and 415.
 */

export interface V1Options {
  config: Config
  afterAuth: AfterAuth
}

export default async function v1Routes (app: FastifyInstance, { config, afterAuth }: V1Options): Promise<void> {
  app.setErrorHandler(v1ErrorHandler)
  // CORS_ORIGINS is shared with /cds-services (spec/ehr-integration.md §10.4): /v1 has no CORS unless it is set.
  if (config.cdsHooks.corsOrigins.length > 0) {
    registerCors(app, {
      origins: config.cdsHooks.corsOrigins,
      allowHeaders: ['Content-Type', 'X-API-Key', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id', 'Retry-After']
    })
  }
  requireApiKey(app, config.apiKeys)
  await afterAuth(app)
  await app.register(recommendationRoutes)
  await app.register(knowledgeRoutes)
}
