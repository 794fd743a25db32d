import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createMetrics, type RejectionReason, type ServiceMetrics } from '../metrics.js'

/**
 * Decorates the app with its metrics (src/metrics.ts) and feeds them from one onResponse hook: route
 * pattern, status, duration, the rejection reason a hook named, and the handler's logSummary (codes,
 * counts, timings). Registered on the root before the route groups, so that the hook sees every route.
 */

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics
  }
  interface FastifyRequest {
    /**
     * Why the request is refused, where the status alone does not say it (a 503 from load shedding is
     * `pressure`, not `unavailable`); otherwise the metrics derive it from the status.
     */
    rejectionReason: RejectionReason | undefined
  }
}

async function metricsPlugin (app: FastifyInstance): Promise<void> {
  const metrics = createMetrics(() => app.knowledge)
  app.decorate('metrics', metrics)
  app.decorateRequest('rejectionReason', undefined)

  // Callback style, as app.ts's own hooks: no promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.recordResponse({
      method: request.method,
      // A 404 or 405 from a not-found handler has no route: never the URL itself.
      route: request.is404 ? undefined : request.routeOptions.url,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      rejectionReason: request.rejectionReason,
      summary: request.logSummary
    })
    done()
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x', dependencies: ['knowledge-base'] })
