import { z } from 'zod'
import { Digest, Domain, OptionId, RefId, RULE_SCOPES, RulesetSummary, Strength, Verification } from './common.js'
import { CitedReference } from './recommendation.js'
import { Reference } from './rule-file.js'

/** Responses of GET /v1/rulesets, GET /v1/references and the health endpoints. */

/**
 * A rule's evidence in GET /v1/rulesets, with the full citation. api.md revision 8 moves citations
 * out of the items of a recommendation response (`references`, once); it leaves this review
 * endpoint as it was.
 */
export const CitedEvidence = z.object({
  ref: RefId,
  ...CitedReference.shape,
  verification: Verification.describe('The lower of the tag the clinical specification gives the rule\'s evidence (Part 2) and the reference\'s catalogue tag (Part 4): the tag its recommendations carry.')
}).meta({ id: 'CitedEvidence', description: 'A reference behind a rule, with its full citation and the verification tag the rule\'s recommendations carry.' })

export const RuleSummary = z.object({
  name: z.string().describe('Stable rule name; the rule.id of the recommendations it makes.'),
  code: z.string().describe('Catalogue code; several rules may share one (variants).'),
  domain: Domain,
  strength: Strength,
  title: z.string().describe('Title of the recommendations it makes.'),
  pass: z.int().min(1).max(4).describe('Evaluation pass: 1 classification, 2 safety filters, 3 treatment, 4 codes reading the filtered output.'),
  scope: z.enum(RULE_SCOPES).describe('case: once per evaluation; spine_lesion / bone_lesion: once per lesion.'),
  options: z.array(z.object({ id: OptionId, strength: Strength.optional(), conditional: z.boolean().describe('The option applies only when its own condition holds.') })).describe('Every option the rule can name.'),
  evidence: z.array(CitedEvidence).min(1).describe('The references behind the rule.')
}).meta({ id: 'RuleSummary', description: 'One rule of a ruleset.' })

export const RulesetCatalogue = z.object({
  rulesets: z.array(RulesetSummary.extend({
    description: z.string().describe('What the ruleset covers.'),
    rules: z.array(RuleSummary).describe('Every rule of the ruleset.')
  })).describe('Every ruleset, in evaluation-file order.'),
  references: z.object({
    version: z.string().describe('Version of the reference catalogue.'),
    digest: Digest.describe('sha256 of references.json.')
  }).describe('The reference catalogue the rules cite (GET /v1/references).')
}).meta({ id: 'RulesetCatalogue', description: 'The knowledge base: every ruleset with its digest and every rule with its code, title, strength and evidence.' })
export type RulesetCatalogue = z.infer<typeof RulesetCatalogue>

export const ReferenceCatalogue = z.object({
  version: z.string().describe('Version of the reference catalogue.'),
  digest: Digest.describe('sha256 of references.json.'),
  retired: z.array(z.string()).describe('Reference numbers that are no longer used and must not be reassigned.'),
  references: z.array(Reference).describe('Every reference, R1 upwards.')
}).meta({ id: 'ReferenceCatalogue', description: 'The evidence catalogue (R1…) with DOI / PMID / URL and verification status.' })
export type ReferenceCatalogue = z.infer<typeof ReferenceCatalogue>

const Status = z.literal('ok').describe('Always "ok" in a 200.')
export const Live = z.object({ status: Status }).meta({ id: 'Live', description: 'The process runs.' })
export const Ready = z.object({
  status: z.enum(['ok', 'degraded']).describe('"ok"; "degraded" when a check fails that recommendations do not need (the shared store): CDS Hooks calls with a JWT and feedback then answer 503.'),
  rulesets: z.array(RulesetSummary).describe('Every ruleset loaded.'),
  checks: z.object({
    store: z.object({
      backend: z.enum(['memory', 'redis']).describe('memory (one replica) or redis (REDIS_URL, shared by replicas).'),
      status: z.enum(['ok', 'unreachable']).describe('Whether the store answered a ping just now.')
    }).describe('The shared store: CDS Hooks JWT replay cache, feedback records, rate-limit counters.')
  }).describe('What readiness checked besides the rulesets.')
}).meta({ id: 'Ready', description: 'Every ruleset is loaded and valid; the checks say whether the service is fully ("ok") or partly ("degraded") able to answer.' })
