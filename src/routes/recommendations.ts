import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ProblemError } from '../errors.js'
import { FhirBundle } from '../fhir/bundle.js'
import { RequestValidationError } from '../http/validator.js'
import { FHIR_BODY_LIMIT_BYTES, JSON_BODY_LIMIT_BYTES, sizeInWords } from '../limits.js'
import { Case, CaseShape, JURISDICTIONS } from '../schemas/case.js'
import { isCalendarDate } from '../schemas/common.js'
import { parseClinically } from '../schemas/field-errors.js'
import { Problem } from '../schemas/problem.js'
import { ExplainParameter, MAX_EXPLAINED_OPTIONS, RecommendationResponse } from '../schemas/recommendation.js'
import { evaluateFhirInput, FHIR_MEDIA_TYPE, FHIR_ONLY_QUERY, registerFhirParser, type FhirQuery } from './fhir-input.js'

/**
 * A calendar date as IsoDate checks it, but without IsoDate's OpenAPI example: Swagger UI's "Try it
 * out" fills examples in, and this parameter belongs to FHIR input only (a JSON Case with it is a 400).
 */
const QueryDate = z.string().refine(isCalendarDate, { message: 'must be a calendar date written as YYYY-MM-DD, for example 2026-03-01' }).meta({ format: 'date' })

/**
 * The query string of POST /v1/recommendations: `explain`, and for FHIR input `evaluationDate`,
 * `jurisdiction` and `caseId` (typed as the Case fields). An unknown parameter is a 400, as unknown
 * body keys are.
 */
export const RecommendationQuery = z.strictObject({
  explain: ExplainParameter.optional().describe(`Up to ${MAX_EXPLAINED_OPTIONS} comma-separated option ids (OptionId), each once, e.g. tdxd,sbrt_spine: the response then carries explanations — for each, in this order, whether it is offered and, when not, why (one reason per rule that can offer it). An unknown id, an empty item, more than ${MAX_EXPLAINED_OPTIONS} ids or a duplicate is a 400.`),
  evaluationDate: QueryDate.optional().describe('FHIR input only (a JSON Case sets context.evaluationDate): "today" for the mapping and every interval (default: the server\'s UTC date). Nothing in the record dated after it is used.'),
  jurisdiction: z.enum(JURISDICTIONS).optional().describe('FHIR input only (a JSON Case sets context.jurisdiction): where the patient is treated (default "other").'),
  caseId: CaseShape.shape.caseId.describe('FHIR input only (a JSON Case sets caseId): a client correlation id, echoed in the response. Never a patient identifier.')
})

const DESCRIPTION = [
  'Takes a structured case (Case) and returns recommendations for local therapy, systemic therapy by line, bone health and follow-up, each with the rule that fired, the case values that made it fire (because), the versioned ruleset and its evidence by reference (evidence[].ref; the full citation of each reference the items cite is in references, once).',
  'With ?explain=tdxd,sbrt_spine the response also says, for each option listed, whether it is offered and, when not, why (explanations).',
  `FHIR input: send a FHIR R4 Bundle (mCODE) as application/fhir+json (body limit ${sizeInWords(FHIR_BODY_LIMIT_BYTES)}; a JSON Case keeps ${sizeInWords(JSON_BODY_LIMIT_BYTES)}), with the optional query parameters evaluationDate, jurisdiction and caseId. The Bundle is mapped to a Case (only structure is checked: unknown elements and extensions pass) and evaluated by the same engine; because[].inputs then point into the mapped Case, sources names the FHIR resources behind each Case field, the mapping's FHIR_* warnings are appended to warnings and its reasons to the dataGaps messages, and inputDigest is over the received Bundle.`,
  'FHIR input adds 422 problems: patient-count (no Patient, or more than one), patient-deceased, no-breast-cancer, case-incomplete and case-inconsistent (errors[] with JSON pointers into the mapped Case).',
  'Identical input gives identical output except requestId and provenance.evaluatedAt. Decision support only: the multidisciplinary team decides.'
].join(' ')

/** POST /v1/recommendations (in the /v1 group): a thin adapter over Recommender.evaluate, for a JSON Case or a FHIR Bundle. */
export default async function recommendationRoutes (app: FastifyInstance): Promise<void> {
  registerFhirParser(app)
  app.withTypeProvider<ZodTypeProvider>().post('/recommendations', {
    // No route bodyLimit: it would override the parsers' own (application/json: the server's JSON_BODY_LIMIT_BYTES; FHIR: FHIR_BODY_LIMIT_BYTES).
    schema: {
      tags: ['recommendations'],
      summary: 'Evaluate one case (a Case, or a FHIR Bundle): guideline-based recommendations with provenance',
      description: DESCRIPTION,
      body: { content: { 'application/json': { schema: Case }, [FHIR_MEDIA_TYPE]: { schema: FhirBundle } } },
      querystring: RecommendationQuery,
      response: { 200: RecommendationResponse, 400: Problem, 413: Problem, 415: Problem, 422: Problem, 500: Problem, 503: Problem }
    }
  }, async (request) => {
    const { recommender } = app.knowledge
    const started = process.hrtime.bigint()
    const query = request.query as FhirQuery
    const explain = query.explain
    let evaluation: { body: Omit<RecommendationResponse, 'requestId'>, violations: string[] }
    if (request.mediaType === FHIR_MEDIA_TYPE) {
      evaluation = await evaluateFhirInput(request, recommender, query)
    } else {
      const fhirOnly = FHIR_ONLY_QUERY.filter((name) => query[name] !== undefined)
      if (fhirOnly.length > 0) {
        throw new ProblemError(400, 'validation', `Invalid query parameter ${fhirOnly.join(', ')}: only FHIR input (application/fhir+json) takes it; a JSON Case carries it in its body.`, {
          errors: fhirOnly.map((name) => ({ path: `/${name}`, message: 'is a query parameter of FHIR input only; set it in the Case instead' }))
        })
      }
      // A request without a body (hence without a content type) meets no body schema: validate it here as
      // Fastify would (it hands a validator null for an absent body).
      const input = request.mediaType === 'application/json' ? { ok: true as const, value: request.body as Case } : parseClinically(Case, request.body ?? null)
      if (!input.ok) throw new RequestValidationError(input.errors)
      evaluation = await recommender.evaluate(input.value, explain === undefined ? {} : { explain })
    }
    const { body, violations } = evaluation
    const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6
    // Ids, codes, counts and timings only: never the case, never anything that identifies a patient.
    // The request's single log line (app.ts, onResponse) carries this summary.
    request.logSummary = {
      ...request.logSummary,
      evaluator: app.knowledge.evaluator,
      rulesets: body.provenance.rulesets.map(({ id, version }) => `${id}@${version}`),
      inScope: body.scope.inScope,
      codes: [...new Set(body.recommendations.map((item) => item.code))],
      // Each item's code and strength (src/metrics.ts counts them).
      recommended: body.recommendations.map(({ code, strength }) => ({ code, strength })),
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
