import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { provenanceRulesets } from '../engine/load-rules.js'
import { exemptFromLoadShedding } from '../plugins/security.js'
import { Live, Ready } from '../schemas/knowledge.js'
import { Problem } from '../schemas/problem.js'

/**
 * The health group, registered with `{ prefix: '/health' }`: liveness (the process runs) and
 * readiness. The app listens only once the knowledge base is loaded (src/plugins/knowledge-base.ts),
 * so a probe that reaches readiness finds every ruleset loaded and valid; before that, the port is
 * closed, which a probe counts as not ready. Neither probe needs auth, is rate-limited or shed
 * under load: an orchestrator that cannot reach them restarts or drains a replica that is merely busy.
 */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  exemptFromLoadShedding(app)
  const route = app.withTypeProvider<ZodTypeProvider>()
  route.get('/live', {
    schema: { tags: ['health'], summary: 'Liveness: 200 while the process runs', response: { 200: Live } }
  }, async () => ({ status: 'ok' as const }))

  route.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 200 once every ruleset is loaded and valid, else 503',
      response: { 200: Ready, 503: Problem }
    }
  }, async () => {
    // The same list as every response's provenance: the rulesets and the context adjustments.
    return { status: 'ok' as const, rulesets: provenanceRulesets(app.knowledge.kb) }
  })
}
