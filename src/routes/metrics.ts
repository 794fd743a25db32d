import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { exemptFromLoadShedding } from '../plugins/security.js'

/**
 * GET /metrics: the app's registry in the Prometheus text format. Its own scope, with no API key, JWT
 * or rate limit (a scraper polls it; the gateway should not route it from outside). Registered after
 * the metrics plugin, which decorates `app.metrics`.
 */

const DESCRIPTION = [
  'Prometheus text exposition format (version 0.0.4): request durations by route pattern and status, rejections by reason,',
  'evaluation durations, recommendations by code and strength, CDS Hooks calls, FHIR reads and feedback by outcome,',
  'the rulesets and knowledge base loaded (info metrics), and Node.js process metrics.',
  'Labels carry route patterns, codes and versions only, never request data. For a scraper inside the deployment: not rate-limited, no authentication.'
].join(' ')

export default async function metricsRoutes (app: FastifyInstance): Promise<void> {
  // Answered under load: a scraper must see the pressure that sheds the other routes.
  exemptFromLoadShedding(app)
  app.get('/metrics', {
    // @fastify/rate-limit reads this route option: a scraper is never throttled.
    config: { rateLimit: false },
    schema: {
      tags: ['metrics'],
      summary: 'Prometheus metrics',
      description: DESCRIPTION,
      operationId: 'getMetrics',
      security: [],
      response: {
        200: {
          description: 'The metrics in the Prometheus text format.',
          content: { 'text/plain': { schema: z.string().describe('Prometheus text exposition format 0.0.4.') } }
        }
      }
    }
  }, async (_request, reply) => {
    const { registry } = app.metrics
    const text = await registry.metrics()
    return await reply.type(registry.contentType).send(text)
  })
}
