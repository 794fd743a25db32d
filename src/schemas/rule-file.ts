import { z } from 'zod'
import { Domain, OptionId, RefId, Strength, Verification } from './common.js'

/**
 * The format of a `rules/*.json` ruleset: json-rules-engine rules whose `event.params` carry the
 * whole recommendation (json-rules-engine drops custom rule properties from its results).
 * Deliberately narrower than json-rules-engine: no `path`, no fact-valued `value`, no condition
 * `priority` and no condition references, so that every condition is a plain comparison of one
 * derived fact with a literal, and the compiled evaluator can match json-rules-engine exactly.
 * @see rules/README.md
 */

export const OPERATORS = [
  'equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain',
  'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'
] as const
export type OperatorName = typeof OPERATORS[number]

const Literal = z.union([z.string(), z.number(), z.boolean(), z.null()])
const LiteralValue = z.union([Literal, z.array(Literal)])

export const LeafCondition = z.strictObject({
  fact: z.string().min(1),
  operator: z.enum(OPERATORS),
  value: LiteralValue
})
export type LeafCondition = z.infer<typeof LeafCondition>

export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition }
export const Condition: z.ZodType<Condition> = z.lazy(() => z.union([
  LeafCondition,
  z.strictObject({ all: z.array(Condition).min(1) }),
  z.strictObject({ any: z.array(Condition).min(1) }),
  z.strictObject({ not: Condition })
]))
export type TopLevelCondition = { all: Condition[] } | { any: Condition[] } | { not: Condition }
export const TopLevelCondition: z.ZodType<TopLevelCondition> = z.union([
  z.strictObject({ all: z.array(Condition).min(1) }),
  z.strictObject({ any: z.array(Condition).min(1) }),
  z.strictObject({ not: Condition })
])

export const RuleOption = z.strictObject({
  id: OptionId,
  /** Absent: the item's strength applies. */
  strength: Strength.optional(),
  label: z.string().min(1).optional(),
  detail: z.string().min(1).optional(),
  /** The option is part of the item only when this holds (same condition language as the rule). */
  when: TopLevelCondition.optional()
})
export type RuleOption = z.infer<typeof RuleOption>

export const RuleNote = z.strictObject({ when: TopLevelCondition, text: z.string().min(1) })

const Duration = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/)

export const RuleParams = z.strictObject({
  code: z.string().regex(/^(CLS|SYS|CI|LOC|PRIM|OLI|CNS|BMA|FU)-\d{2}[a-z]?$/),
  domain: Domain,
  strength: Strength,
  title: z.string().min(1).max(139),
  detail: z.string().min(1),
  /** Sentences appended to the detail when their condition holds. */
  notes: z.array(RuleNote).optional(),
  options: z.array(RuleOption).optional(),
  /** Fixed targets ("brain", "breast"). Lesion-scoped rules get their lesion as target instead. */
  targets: z.array(z.string().min(1)).min(1).optional(),
  /** A string[] fact whose value becomes the targets (no `targets` field when it is empty). */
  targetsFact: z.enum(['deficitLevels', 'highGradeCompressionLevels']).optional(),
  schedule: z.strictObject({ intervalMin: Duration, intervalMax: Duration.optional(), note: z.string().min(1).optional() }).optional(),
  evidence: z.array(RefId).min(1),
  /** A warning the response carries when this rule fires. */
  warning: z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]*$/), message: z.string().min(1) }).optional(),
  /**
   * For safety filters that only make sense when the option they forbid was proposed (CI-06b: "a
   * capecitabine option would otherwise be offered"): the item forbids in pass 3 as usual, but is
   * dropped from the response when no pass-3 item proposed any of its avoided options.
   */
  onlyWhenAvoidedOptionProposed: z.literal(true).optional()
})
export type RuleParams = z.infer<typeof RuleParams>

export const RuleDefinition = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { message: 'must be "<ruleset>/<kebab-case-name>"' }),
  /** json-rules-engine priority (higher runs first); order never changes results here. */
  priority: z.int().min(1).max(100),
  /** Evaluation pass 1–4 (spec/clinical-rules.md "Evaluation passes"). */
  pass: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  /** case: once per evaluation; spine_lesion / bone_lesion: once per lesion with that lesion as target. */
  scope: z.enum(['case', 'spine_lesion', 'bone_lesion']),
  conditions: TopLevelCondition,
  event: z.strictObject({ type: z.literal('recommendation'), params: RuleParams })
})
export type RuleDefinition = z.infer<typeof RuleDefinition>

export const RulesetFile = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: z.string().min(1),
  rules: z.array(RuleDefinition).min(1)
})
export type RulesetFile = z.infer<typeof RulesetFile>

export const Reference = z.strictObject({
  ref: RefId,
  citation: z.string().min(1).describe('Authors, title, journal, year;volume(issue):pages.'),
  doi: z.string().min(1).optional().describe('Digital Object Identifier, without the doi: prefix.'),
  pmid: z.string().regex(/^\d+$/).optional().describe('PubMed identifier.'),
  url: z.url().optional().describe('Where the item was checked.'),
  verification: Verification,
  note: z.string().min(1).optional().describe('Which parts were verified, partly verified or not, and caveats.')
}).meta({ id: 'Reference', description: 'One entry of the evidence catalogue.' })
export type Reference = z.infer<typeof Reference>

export const ReferencesFile = z.strictObject({
  id: z.literal('references'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: z.string().min(1),
  retired: z.array(RefId).optional(),
  references: z.array(Reference).min(1)
})
export type ReferencesFile = z.infer<typeof ReferencesFile>
