import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { provenanceRulesets } from '../engine/load-rules.js'
import { sendNotReady } from '../errors.js'
import { Live, Ready } from '../schemas/knowledge.js'
import { Problem } from '../schemas/problem.js'

/** Liveness (the process runs) and readiness (every ruleset loaded and valid). */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  const route = app.withTypeProvider<ZodTypeProvider>()
  route.get('/health/live', {
    schema: { tags: ['health'], summary: 'Liveness: 200 while the process runs', response: { 200: Live } }
  }, async () => ({ status: 'ok' as const }))

  route.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 200 once every ruleset is loaded and valid, else 503',
      response: { 200: Ready, 503: Problem }
    }
  }, async (request, reply) => {
    const kb = app.knowledge.kb
    if (kb === undefined) return sendNotReady(request, reply)
    // The same list as every response's provenance: the rulesets and the context adjustments.
    return { status: 'ok' as const, rulesets: provenanceRulesets(kb) }
  })
}
