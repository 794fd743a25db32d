import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { referenceCatalogue, rulesetCatalogue } from '../engine/review-catalogue.js'
import { sendNotReady } from '../errors.js'
import { ReferenceCatalogue, RulesetCatalogue } from '../schemas/knowledge.js'
import { Problem } from '../schemas/problem.js'

/** The knowledge base for review: rulesets with digests and rules, and the evidence catalogue. */
export default async function knowledgeRoutes (app: FastifyInstance): Promise<void> {
  const route = app.withTypeProvider<ZodTypeProvider>()
  route.get('/v1/rulesets', {
    schema: {
      tags: ['knowledge base'],
      summary: 'Every ruleset with id, version and sha256 digest, and every rule with its code, title, strength and evidence',
      response: { 200: RulesetCatalogue, 503: Problem }
    }
  }, async (request, reply) => {
    const kb = app.knowledge.kb
    if (kb === undefined) return sendNotReady(request, reply)
    return rulesetCatalogue(kb)
  })

  route.get('/v1/references', {
    schema: {
      tags: ['knowledge base'],
      summary: 'The evidence catalogue (R1…): citation, DOI / PMID / URL, verification status',
      response: { 200: ReferenceCatalogue, 503: Problem }
    }
  }, async (request, reply) => {
    const kb = app.knowledge.kb
    if (kb === undefined) return sendNotReady(request, reply)
    return referenceCatalogue(kb)
  })
}
