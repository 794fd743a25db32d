import { z } from 'zod'
import { Agent, Digest, Domain, ER_STATUSES, HER2_STATUSES, OPTION_IDS, OptionId, RefId, RulesetSummary, SPINAL_CORD_COMPRESSIONS, SPINAL_INSTABILITIES, STAGES, Strength, TREATMENT_DECISIONS, Verification } from './common.js'

/** The response of POST /v1/recommendations (spec/api.md "Response"), and its `explain` query parameter. */

const Duration = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/).meta({ description: 'ISO 8601 duration, e.g. P3M, P6W.' })

export const RecommendationOption = z.object({
  id: OptionId,
  label: z.string().min(1).describe('Human-readable name of the option.'),
  strength: Strength.optional().describe('The option\'s own strength; when absent, the item\'s strength applies. An option is offered when its effective strength is not avoid.'),
  detail: z.string().min(1).optional().describe('Option-specific detail (dose, caution).')
}).meta({ id: 'RecommendationOption', description: 'One option of a recommendation.' })

export const Evidence = z.object({
  ref: RefId.describe('The reference, R<n>: its full citation is in the response\'s `references` under this key (and in GET /v1/references).'),
  verification: Verification.describe('The lower of the tag the clinical specification gives this code\'s evidence (Part 2) and the reference\'s own catalogue tag (Part 4, in `references`): verified > partial > unverified.')
}).meta({ id: 'Evidence', description: 'A reference behind an item, by reference (api.md revision 8): the citation itself is in the response\'s `references`, once.' })

export const CitedReference = z.object({
  citation: z.string().min(1).describe('Authors, title, journal, year;volume(issue):pages.'),
  doi: z.string().min(1).optional().describe('Digital Object Identifier, without the doi: prefix.'),
  pmid: z.string().min(1).optional().describe('PubMed identifier.'),
  url: z.string().min(1).optional().describe('Where the item was checked.'),
  verification: Verification.describe('The reference\'s own tag in the catalogue (GET /v1/references). An item citing it may carry a lower one (its evidence[].verification).')
}).meta({ id: 'CitedReference', description: 'The full citation of a reference from the catalogue (GET /v1/references), as a response carries it in `references`.' })
export type CitedReference = z.infer<typeof CitedReference>

export const References = z.record(RefId, CitedReference).meta({
  id: 'References',
  description: 'The full citation of every reference the response\'s items cite (their evidence[].ref), each once and no other, keyed by R<n> in natural order (R2 before R10). Empty when the response has no items.'
})
export type References = z.infer<typeof References>

export const BecauseItem = z.object({
  fact: z.string().min(1).describe('The derived fact the condition tested (see the fact reference in rules/README.md).'),
  label: z.string().min(1).describe('The fact in clinical words, with its unit where one applies, e.g. "LVEF (%)", "Bilsky grade (rank: 0 = 0, 1 = 1a, 2 = 1b, 3 = 1c, 4 = 2, 5 = 3)".'),
  operator: z.string().min(1).describe('The json-rules-engine operator; "not:" in front means the condition held by being false.'),
  value: z.unknown().optional().describe('The value the rule compares with; absent when the rule tests for missing data.'),
  actual: z.unknown().optional().describe('The case\'s value of the fact; absent when the case lacks it (see dataGaps).'),
  inputs: z.array(z.string()).min(1).optional().describe('JSON pointers (RFC 6901) into the request to the fields the fact was derived from, e.g. ["/disease/spineLesions/1/bilsky"]; absent for facts computed from other items (firedCodes, offeredOptions, …). A pointer may name a field the case left out: then `actual` is absent too.')
}).meta({ id: 'BecauseItem', description: 'One condition that made the rule fire, with the case\'s value.' })

export const Recommendation = z.object({
  code: z.string().regex(/^[A-Z]+-\d{2}[a-z]?$/).describe('Catalogue code from the clinical specification, e.g. LOC-06.'),
  domain: Domain,
  strength: Strength,
  title: z.string().min(1).max(139).describe('Under 140 characters; becomes a CDS Hooks card summary.'),
  detail: z.string().min(1).describe('Plain text or simple Markdown: doses, fractionations, intervals, trial figures.'),
  options: z.array(RecommendationOption).optional().describe('The options the item names, each with its own strength or the item\'s.'),
  targets: z.array(z.string().min(1)).optional().describe('The lesions a local measure is for: a spine level ("T9"), a non-spine bone site ("rib"), "brain" or "breast".'),
  schedule: z.object({
    intervalMin: Duration,
    intervalMax: Duration.optional(),
    note: z.string().min(1).optional().describe('What is checked at each interval.')
  }).optional().describe('Follow-up interval.'),
  evidence: z.array(Evidence).min(1).describe('The references behind the item, each with the item\'s verification tag; the citations are in the response\'s `references`.'),
  rule: z.object({
    id: z.string().min(1).describe('The rule\'s name in its ruleset.'),
    ruleset: z.string().min(1).describe('Id of the ruleset (GET /v1/rulesets).'),
    rulesetVersion: z.string().min(1).describe('Version of the ruleset.')
  }).describe('The rule that fired.'),
  because: z.array(BecauseItem).min(1).describe('The conditions that made the rule fire, with the case\'s values.')
}).meta({ id: 'Recommendation', description: 'One recommendation with its provenance.' })
export type Recommendation = z.infer<typeof Recommendation>

export const Assessment = z.object({
  stage: z.enum(STAGES).describe('AJCC stage: IV whenever a distant metastasis is recorded.'),
  stageReclassified: z.boolean().describe('True when the presentation said early/locally_advanced but metastases exist (AJCC: any M1 is stage IV).'),
  her2Status: z.enum(HER2_STATUSES).describe('ASCO/CAP 2018 interpretation of IHC and ISH.'),
  erStatus: z.enum(ER_STATUSES).describe('negative < 1 %, low 1–10 %, positive > 10 %.'),
  lineOfTherapy: z.int().min(1).describe('The metastatic line being chosen now, after relapse-interval rules; under continue_line and toxicity_switch, the line that continues.'),
  treatmentDecision: z.enum(TREATMENT_DECISIONS).describe('start_line: a new systemic line is chosen; continue_line: the current line continues (oligo- or CNS-only progression is treated locally); toxicity_switch: the last line stopped for toxicity while the disease was controlled — the HER2 antibodies continue with another partner.'),
  monthsSinceLastAntiHer2: z.number().optional().describe('Months (1 decimal) from the last early-stage anti-HER2 dose to metastatic diagnosis.'),
  priorAgents: z.array(Agent).describe('Every agent given in any setting, sorted, unique.'),
  cnsMetastases: z.boolean().describe('Brain or leptomeningeal disease only; bone and epidural disease are never CNS.'),
  spinalCordCompression: z.enum(SPINAL_CORD_COMPRESSIONS).describe('radiological: Bilsky 2/3 without deficit; with_neurological_deficit: a deficit explained by a lesion with Bilsky ≥ 1c (or ungraded), or by bone disease without a recorded spine lesion.'),
  spinalInstability: z.enum(SPINAL_INSTABILITIES).describe('Worst SINS category over spine lesions: 0–6 stable, 7–12 potentially unstable, 13–18 unstable.'),
  oligometastatic: z.boolean().describe('1–5 metastatic lesions and no CNS disease.')
}).meta({ id: 'Assessment', description: 'The derived facts of the case that classify it.' })
export type Assessment = z.infer<typeof Assessment>

export const DataGap = z.object({
  field: z.string().min(1).describe('Dotted path of the missing field, e.g. patient.lvefPercent.'),
  message: z.string().min(1).describe('Why it matters.'),
  affects: z.array(z.string()).min(1).describe('Codes whose firing depended on the missing value.')
}).meta({ id: 'DataGap', description: 'A field the case lacked that a rule needed.' })

export const Warning = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/).describe('STAGE_RECLASSIFIED, STAGING_CONFLICT, NEURO_DEFICIT_UNEXPLAINED, NOT_METASTATIC, GUIDELINE_DIVERGENCE.'),
  message: z.string().min(1).describe('What the warning means for this case.')
}).meta({ id: 'Warning', description: 'Something about the case the clinician should know.' })

export const Provenance = z.object({
  service: z.object({ name: z.string().describe('Service name.'), version: z.string().describe('Service version.') }).describe('The service that answered.'),
  rulesets: z.array(RulesetSummary).describe('Every ruleset evaluated.'),
  engine: z.object({
    name: z.literal('json-rules-engine').describe('The rule language and reference engine.'),
    version: z.string().describe('json-rules-engine version.')
  }).describe('The rule engine.'),
  evaluationDate: z.string().describe('The "today" used for every interval.'),
  evaluatedAt: z.string().describe('RFC 3339 UTC timestamp of the evaluation.'),
  inputDigest: Digest.describe('sha256 of the request body in RFC 8785 (JCS) canonical form.')
}).meta({ id: 'Provenance', description: 'What produced this response, for audit.' })

/** The options a request may ask about (`?explain=`), at most this many (spec/api.md revision 8). */
export const MAX_EXPLAINED_OPTIONS = 10

const OPTION_ID_SET: ReadonlySet<string> = new Set(OPTION_IDS)
/** An item is named in a message only when it is a short, safe token (never arbitrary client text). */
const SAFE_ITEM = /^[A-Za-z0-9_-]{1,64}$/

/**
 * `?explain=tdxd,sbrt_spine` (spec/api.md revision 8): up to 10 comma-separated option ids, each
 * once. An empty item, an unknown id, more than 10 ids or a duplicate is a 400 naming `explain`.
 * The OpenAPI example sits on the input string: zod leaves a transform's examples out of the input
 * schema, and @fastify/swagger lifts it to the parameter, which Swagger UI's "Try it out" fills in.
 */
export const ExplainParameter = z.string().meta({ examples: ['tdxd,sbrt_spine'] }).transform((text, ctx): OptionId[] => {
  const items = text.split(',')
  const problem = (message: string): void => { ctx.addIssue({ code: 'custom', message, input: text }) }
  if (items.length > MAX_EXPLAINED_OPTIONS) problem(`lists ${items.length} option ids; at most ${MAX_EXPLAINED_OPTIONS} may be explained at once`)
  const seen = new Set<string>()
  items.forEach((item, i) => {
    const which = SAFE_ITEM.test(item) ? `"${item}"` : `item ${i + 1}`
    if (item === '') problem(`item ${i + 1} is empty: separate option ids with single commas`)
    else if (!OPTION_ID_SET.has(item)) problem(`${which} is not an option id (see OptionId)`)
    else if (seen.has(item)) problem(`${which} is listed twice`)
    seen.add(item)
  })
  return items as OptionId[]
})

export const REASON_KINDS = ['not_fired', 'option_condition', 'forbidden', 'avoid'] as const

export const Reason = z.object({
  code: z.string().regex(/^[A-Z]+-\d{2}[a-z]?$/).describe('Catalogue code of the rule this reason is about.'),
  rule: z.string().min(1).describe('The rule\'s name in its ruleset (GET /v1/rulesets).'),
  target: z.string().min(1).optional().describe('For a rule evaluated once per lesion: the lesion (spine level or bone site) this reason is about. Absent for case rules, and for a lesion rule when the case records no lesion of its kind (the rule was evaluated for none).'),
  kind: z.enum(REASON_KINDS).describe('not_fired: the rule did not fire (failed says why); option_condition: it fired but the option\'s own condition was false (failed says why); forbidden: it offered the option and the option was removed — by the safety filters named in forbiddenBy (its item may have been dropped with it when it had nothing left to offer), or, without forbiddenBy, by the service\'s safety invariants (e.g. a treatment item in an out-of-scope case); avoid: the rule fired and names the option only as something to avoid.'),
  failed: BecauseItem.optional().describe('not_fired and option_condition (when the rule was evaluated): the first condition, in the rule\'s order, that was false, with the case\'s value. "not:" in front of the operator: the negated condition was false (the inner one held).'),
  forbiddenBy: z.array(z.string().min(1)).min(1).optional().describe('forbidden: the codes of the safety items that forbid the option (sorted). CLS-02 stands for the HER2-status filter: no HER2-directed option or clinical trial until HER2 is positive.')
}).meta({ id: 'Reason', description: 'Why one rule does not offer the option (one per rule that can offer it, per lesion for lesion rules; rules that fired and name it only as avoid too).' })
export type Reason = z.infer<typeof Reason>

export const Explanation = z.object({
  option: OptionId,
  offered: z.boolean().describe('Whether an item offers the option (an effective strength other than avoid).'),
  offeredBy: z.array(z.string().min(1)).min(1).optional().describe('When offered: the codes of the items offering it (sorted, unique).'),
  reasons: z.array(Reason).optional().describe('When not offered: one reason per rule that can offer the option, in knowledge-base order (per lesion for lesion rules), and one per fired rule that names it only as avoid. Empty when no rule can offer it.')
}).meta({ id: 'Explanation', description: 'Why an option asked about with ?explain= is, or is not, offered.' })
export type Explanation = z.infer<typeof Explanation>

/** Where a Case value of FHIR input came from (spec/ehr-integration.md §6.1 rule 8; src/fhir/types.ts SourceEntry). */
export const FhirSource = z.object({
  label: z.string().min(1).describe('The field in clinical words (the words of because[].label), e.g. "LVEF (%)".'),
  display: z.string().min(1).describe('The value as the record gave it, with unit and date, e.g. "35 % (2026-01-10)". For a stand-in, the original ("positive, no percentage given").'),
  refs: z.array(z.string().min(1)).describe('The FHIR resources behind the value, as relative references (Observation/abc).'),
  date: z.string().min(1).optional().describe('The date of the source, YYYY-MM-DD.'),
  standIn: z.literal(true).optional().describe('True when the record gave only a category and the Case holds a stand-in value for it (e.g. ER positive → 11 %); show the display, never the stand-in.')
}).meta({ id: 'FhirSource', description: 'The FHIR resources behind one field of the mapped Case.' })

export const RecommendationResponse = z.object({
  requestId: z.string().describe('The request id, also sent as the x-request-id header.'),
  caseId: z.string().optional().describe('The caseId of the request, echoed.'),
  scope: z.object({
    inScope: z.boolean().describe('Metastatic and HER2 positive or equivocal.'),
    pathway: z.enum(['her2_positive_metastatic', 'her2_status_pending', 'out_of_scope']).describe('her2_positive_metastatic: in scope with HER2 positive; her2_status_pending: in scope while HER2 is equivocal (IHC 2+ without a deciding ISH result) — no HER2-directed option until it is resolved; out_of_scope: inScope false.'),
    reason: z.string().min(1).optional().describe('Why the case is out of scope, or why HER2 status is pending.')
  }).describe('Whether the case belongs to this service; out of scope: only classification and emergencies.'),
  assessment: Assessment,
  recommendations: z.array(Recommendation).describe('Ordered by strength (urgent, avoid, recommended, consider, info), then domain, code and target.'),
  dataGaps: z.array(DataGap).describe('Missing fields that rules needed, with the codes they affect.'),
  warnings: z.array(Warning).describe('Warnings about the case.'),
  provenance: Provenance,
  disclaimer: z.string().describe('Decision support for clinicians; the multidisciplinary team decides.'),
  references: References,
  explanations: z.array(Explanation).optional().describe('Only when the request asks ?explain=: for each option asked, in the order asked, whether it is offered and, when not, why (one reason per rule that can offer it). Both evaluators give identical explanations.'),
  sources: z.record(z.string(), FhirSource).optional().describe('Present only for FHIR input (application/fhir+json): the source references of the mapped Case, per Case path (dotted, with indices: patient.lvefPercent, disease.spineLesions[0].level). because[].inputs point into the mapped Case; this says which FHIR resources each field came from.')
}).meta({ id: 'RecommendationResponse', description: 'The recommendations for one case with their provenance.' })
export type RecommendationResponse = z.infer<typeof RecommendationResponse>
