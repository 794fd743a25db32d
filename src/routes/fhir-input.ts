import type { FastifyInstance, FastifyRequest } from 'fastify'
import { inputDigest } from '../engine/canonical-json.js'
import type { Recommender } from '../engine/recommender.js'
import { FHIR_MEDIA_TYPE, ProblemError } from '../errors.js'
import { MAPPING_VERSION } from '../fhir/constants.js'
import { mapBundle, toCase, type FhirMapOptions } from '../fhir/index.js'
import type { MappingResult } from '../fhir/types.js'
import { utcToday, type JURISDICTIONS } from '../schemas/case.js'
import type { OptionId } from '../schemas/common.js'
import type { FieldError } from '../schemas/field-errors.js'
import { FHIR_BODY_LIMIT_BYTES } from '../limits.js'
import type { RecommendationResponse } from '../schemas/recommendation.js'

/**
 * FHIR input on POST /v1/recommendations (spec/ehr-integration.md §5): a Bundle sent as
 * application/fhir+json is mapped to a Case (src/fhir) and evaluated by the same Recommender. The
 * route (recommendations.ts) validates the structure with the FhirBundle schema; this module does
 * the rest: 422s, the evaluation, and the FHIR additions to the response.
 */

export { FHIR_MEDIA_TYPE }

/** The query parameters that only FHIR input takes (a JSON Case carries them in its body). */
export const FHIR_ONLY_QUERY = ['evaluationDate', 'jurisdiction', 'caseId'] as const

export interface FhirQuery {
  explain?: OptionId[]
  evaluationDate?: string
  jurisdiction?: typeof JURISDICTIONS[number]
  caseId?: string
}

/**
 * The parser of application/fhir+json (a charset parameter is allowed): Fastify's own JSON parser
 * (prototype poisoning refused), with the 5 MiB limit of FHIR input; a JSON Case keeps 1 MiB. Added
 * in the routes' own context, so CDS Hooks routes register theirs freely.
 */
export function registerFhirParser (app: FastifyInstance): void {
  if (app.hasContentTypeParser(FHIR_MEDIA_TYPE)) app.removeContentTypeParser(FHIR_MEDIA_TYPE)
  app.addContentTypeParser(FHIR_MEDIA_TYPE, { parseAs: 'string', bodyLimit: FHIR_BODY_LIMIT_BYTES }, app.getDefaultJsonParser('error', 'error'))
}

/** The problem types of FHIR input (§5), each `…/problems/<type>`. */
export type FhirProblemType = 'patient-count' | 'patient-deceased' | 'no-breast-cancer' | 'case-incomplete' | 'case-inconsistent'

const PROBLEM_DETAILS: Readonly<Record<Exclude<FhirProblemType, 'patient-count'>, string>> = {
  'patient-deceased': 'The Patient is recorded as deceased; no recommendations are given.',
  'no-breast-cancer': 'The record has no primary breast cancer Condition: the patient is outside this service\'s population.',
  'case-incomplete': 'The FHIR record lacks required Case fields; each error says what was looked for and why nothing was usable.',
  'case-inconsistent': 'The Case mapped from the FHIR record fails a consistency check; each error names the field and the resources behind it.'
}

/** A 422 of FHIR input; the error handler logs its type as the request's problem. */
function fhirProblem (request: FastifyRequest, type: FhirProblemType, detail: string, errors?: FieldError[]): ProblemError {
  if (errors !== undefined) request.logSummary = { ...request.logSummary, fields: errors.length }
  return new ProblemError(422, type, detail, errors === undefined ? {} : { errors })
}

/** The mapping's FHIR additions to the engine's response (§5 "Success"). */
export function withFhirMapping (body: Omit<RecommendationResponse, 'requestId'>, mapping: MappingResult, bundle: unknown): Omit<RecommendationResponse, 'requestId'> {
  return {
    ...body,
    dataGaps: body.dataGaps.map((gap) => {
      const reasons = mapping.gaps[gap.field] ?? []
      return reasons.length === 0 ? gap : { ...gap, message: `${gap.message} From the FHIR record: ${reasons.join('; ')}.` }
    }),
    warnings: [...body.warnings, ...mapping.warnings],
    provenance: { ...body.provenance, inputDigest: inputDigest(bundle) },
    sources: mapping.sources
  }
}

/**
 * Evaluates a Bundle: the mapping (§6), then in order (as §4.4 for CDS Hooks) 422 patient-count,
 * patient-deceased, no-breast-cancer, case-incomplete, case-inconsistent (thrown as ProblemError);
 * else the Recommender's response with the FHIR warnings, gap reasons, digest and sources. Logs
 * carry counts and codes only.
 */
export async function evaluateFhirInput (request: FastifyRequest, recommender: Recommender, query: FhirQuery): Promise<{ body: Omit<RecommendationResponse, 'requestId'>, violations: string[] }> {
  const options: FhirMapOptions = {
    evaluationDate: query.evaluationDate ?? utcToday(),
    ...(query.jurisdiction === undefined ? {} : { jurisdiction: query.jurisdiction }),
    ...(query.caseId === undefined ? {} : { caseId: query.caseId })
  }
  const mapped = mapBundle(request.body, options)
  request.logSummary = { ...request.logSummary, input: 'fhir', mappingVersion: MAPPING_VERSION }
  if (!mapped.ok) {
    /* c8 ignore next 2 -- the route's body schema is FhirBundle, the same check: a structural 400 never reaches the handler */
    if (mapped.status === 400) throw new ProblemError(400, 'validation', mapped.detail, { errors: mapped.errors })
    throw fhirProblem(request, 'patient-count', mapped.detail)
  }
  const { mapping } = mapped
  request.logSummary = {
    ...request.logSummary,
    // A Bundle without `entry` has no Patient and stopped at patient-count above.
    resources: (request.body as { entry: unknown[] }).entry.length,
    fhirWarnings: [...new Set(mapping.warnings.map((warning) => warning.code))]
  }
  if (mapped.deceased) throw fhirProblem(request, 'patient-deceased', PROBLEM_DETAILS['patient-deceased'])
  if (!mapped.hasPrimaryBreastCancer) throw fhirProblem(request, 'no-breast-cancer', PROBLEM_DETAILS['no-breast-cancer'])
  const built = toCase(mapping)
  if (!built.ok) throw fhirProblem(request, built.kind, PROBLEM_DETAILS[built.kind], built.errors)
  const { body, violations } = await recommender.evaluate(built.case, query.explain === undefined ? {} : { explain: query.explain })
  return { body: withFhirMapping(body, mapping, request.body), violations }
}
