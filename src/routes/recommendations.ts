import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { sendNotReady } from '../errors.js'
import { Case } from '../schemas/case.js'
import { Problem } from '../schemas/problem.js'
import { ExplainParameter, MAX_EXPLAINED_OPTIONS, RecommendationResponse } from '../schemas/recommendation.js'

/** 1 MiB, as spec/api.md sets for /v1/*. */
export const BODY_LIMIT_BYTES = 1024 * 1024

/** The query string of POST /v1/recommendations: `explain` only (an unknown parameter is a 400, as unknown body keys are). */
export const RecommendationQuery = z.strictObject({
  explain: ExplainParameter.optional().describe(`Up to ${MAX_EXPLAINED_OPTIONS} comma-separated option ids (OptionId), each once, e.g. tdxd,sbrt_spine: the response then carries explanations — for each, in this order, whether it is offered and, when not, why (one reason per rule that can offer it). An unknown id, an empty item, more than ${MAX_EXPLAINED_OPTIONS} ids or a duplicate is a 400.`)
})

/** POST /v1/recommendations: a thin adapter over Recommender.evaluate. */
export default async function recommendationRoutes (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/recommendations', {
    bodyLimit: BODY_LIMIT_BYTES,
    schema: {
      tags: ['recommendations'],
      summary: 'Evaluate one case: guideline-based recommendations with provenance',
      description: 'Takes a structured case (Case) and returns recommendations for local therapy, systemic therapy by line, bone health and follow-up, each with the rule that fired, the case values that made it fire (because), the versioned ruleset and its evidence. With ?explain=tdxd,sbrt_spine the response also says, for each option listed, whether it is offered and, when not, why (explanations). Identical input gives identical output except requestId and provenance.evaluatedAt. Decision support only: the multidisciplinary team decides.',
      body: Case,
      querystring: RecommendationQuery,
      response: { 200: RecommendationResponse, 400: Problem, 413: Problem, 415: Problem, 500: Problem, 503: Problem }
    }
  }, async (request, reply) => {
    const recommender = app.knowledge.recommender
    if (recommender === undefined) return sendNotReady(request, reply)
    const started = process.hrtime.bigint()
    const explain = request.query.explain
    const { body, violations } = await recommender.evaluate(request.body, explain === undefined ? {} : { explain })
    const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6
    // Ids, codes, counts and timings only: never the case, never anything that identifies a patient.
    // The request's single log line (app.ts, onResponse) carries this summary.
    request.logSummary = {
      evaluator: app.knowledge.evaluator,
      rulesets: body.provenance.rulesets.map(({ id, version }) => `${id}@${version}`),
      inScope: body.scope.inScope,
      codes: [...new Set(body.recommendations.map((item) => item.code))],
      recommendations: body.recommendations.length,
      dataGaps: body.dataGaps.length,
      warnings: body.warnings.map((warning) => warning.code),
      ...(explain === undefined ? {} : { explained: explain }),
      evaluationMs: Math.round(evaluationMs * 1000) / 1000
    }
    if (violations.length > 0) request.log.error({ violations }, 'safety invariant repaired')
    return { requestId: request.id, ...body }
  })
}
