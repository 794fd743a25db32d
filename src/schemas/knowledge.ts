import { z } from 'zod'
import { Domain, OptionId, Strength } from './common.js'
import { Evidence } from './recommendation.js'
import { Reference } from './rule-file.js'

/** Responses of GET /v1/rulesets, GET /v1/references and the health endpoints. */

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/)

export const RulesetSummary = z.object({
  id: z.string(),
  version: z.string(),
  digest: Digest.describe('sha256 of the ruleset file as loaded.')
}).meta({ id: 'RulesetSummary' })

export const RuleSummary = z.object({
  name: z.string().describe('Stable rule name; the rule.id of the recommendations it makes.'),
  code: z.string(),
  domain: Domain,
  strength: Strength,
  title: z.string(),
  pass: z.int().min(1).max(4).describe('Evaluation pass: 1 classification, 2 safety filters, 3 treatment, 4 codes reading the filtered output.'),
  scope: z.enum(['case', 'spine_lesion', 'bone_lesion']).describe('case: once per evaluation; spine_lesion / bone_lesion: once per lesion.'),
  options: z.array(z.object({ id: OptionId, strength: Strength.optional(), conditional: z.boolean().describe('The option applies only when its own condition holds.') })),
  evidence: z.array(Evidence).min(1)
}).meta({ id: 'RuleSummary' })

export const RulesetCatalogue = z.object({
  rulesets: z.array(RulesetSummary.extend({
    description: z.string(),
    rules: z.array(RuleSummary)
  })),
  references: z.object({ version: z.string(), digest: Digest })
}).meta({ id: 'RulesetCatalogue', description: 'The knowledge base: every ruleset with its digest and every rule with its code, title, strength and evidence.' })
export type RulesetCatalogue = z.infer<typeof RulesetCatalogue>

export const ReferenceCatalogue = z.object({
  version: z.string(),
  digest: Digest,
  retired: z.array(z.string()).describe('Reference numbers that are no longer used and must not be reassigned.'),
  references: z.array(Reference)
}).meta({ id: 'ReferenceCatalogue', description: 'The evidence catalogue (R1…) with DOI / PMID / URL and verification status.' })
export type ReferenceCatalogue = z.infer<typeof ReferenceCatalogue>

export const Live = z.object({ status: z.literal('ok') }).meta({ id: 'Live' })
export const Ready = z.object({ status: z.literal('ok'), rulesets: z.array(RulesetSummary) }).meta({ id: 'Ready' })
