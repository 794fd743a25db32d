import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { provenanceRulesets } from '../engine/load-rules.js'
import { exemptFromLoadShedding } from '../plugins/security.js'
import { Live, Ready } from '../schemas/knowledge.js'
import { Problem } from '../schemas/problem.js'
import type { SharedStore } from '../stores/store.js'

export interface HealthOptions {
  /** The shared store, whose reachability readiness reports. */
  store: Pick<SharedStore, 'backend' | 'ping'>
}

/**
 * The health group, registered with `{ prefix: '/health' }`: liveness (the process runs) and
 * readiness. The app listens only once the knowledge base is loaded (src/plugins/knowledge-base.ts),
 * so a probe that reaches readiness finds every ruleset loaded and valid; before that, the port is
 * closed, which a probe counts as not ready. An unreachable store (Redis down) leaves readiness at
 * 200, `degraded`: recommendations need no store, so a gateway keeps routing to this replica; what
 * needs the store (CDS Hooks JWT, feedback) answers 503 meanwhile. Neither probe needs auth, is
 * rate-limited or shed under load: an orchestrator that cannot reach them restarts or drains a
 * replica that is merely busy.
 */
export default async function healthRoutes (app: FastifyInstance, options: HealthOptions): Promise<void> {
  const { store } = options
  exemptFromLoadShedding(app)
  const route = app.withTypeProvider<ZodTypeProvider>()
  route.get('/live', {
    schema: { tags: ['health'], summary: 'Liveness: 200 while the process runs', response: { 200: Live } }
  }, async () => ({ status: 'ok' as const }))

  route.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 200 once every ruleset is loaded and valid (degraded when the shared store is unreachable), else 503',
      response: { 200: Ready, 503: Problem }
    }
  }, async () => {
    const reachable = await store.ping()
    return {
      status: reachable ? 'ok' as const : 'degraded' as const,
      // The same list as every response's provenance: the rulesets and the context adjustments.
      rulesets: provenanceRulesets(app.knowledge.kb),
      checks: { store: { backend: store.backend, status: reachable ? 'ok' as const : 'unreachable' as const } }
    }
  })
}
