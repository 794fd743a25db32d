import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { referenceCatalogue, rulesetCatalogue } from '../engine/review-catalogue.js'
import { ReferenceCatalogue, RulesetCatalogue } from '../schemas/knowledge.js'
import { Problem } from '../schemas/problem.js'

/** The knowledge base for review: rulesets with digests and rules, and the evidence catalogue (in the /v1 group). */
export default async function knowledgeRoutes (app: FastifyInstance): Promise<void> {
  const route = app.withTypeProvider<ZodTypeProvider>()
  route.get('/rulesets', {
    schema: {
      tags: ['knowledge base'],
      summary: 'Every ruleset with id, version and sha256 digest, and every rule with its code, title, strength and evidence',
      response: { 200: RulesetCatalogue, 503: Problem }
    }
  }, async () => rulesetCatalogue(app.knowledge.kb))

  route.get('/references', {
    schema: {
      tags: ['knowledge base'],
      summary: 'The evidence catalogue (R1…): citation, DOI / PMID / URL, verification status',
      response: { 200: ReferenceCatalogue, 503: Problem }
    }
  }, async () => referenceCatalogue(app.knowledge.kb))
}
