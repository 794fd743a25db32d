import { z } from 'zod'
import { Domain, OptionId, RefId, RULE_SCOPES, Strength, Verification } from './common.js'
import { KnownOptionId, VocabularyName } from './option-vocabulary.js'

/**
 * The format of a `rules/*.json` ruleset: json-rules-engine rules whose `event.params` carry the
 * whole recommendation (json-rules-engine drops custom rule properties from its results).
 * Deliberately narrower than json-rules-engine: no `path`, no fact-valued `value` and no condition
 * `priority`, so that every condition is a plain comparison of one derived fact with a literal, and
 * the compiled evaluator can match json-rules-engine exactly. A file may name conditions and refer
 * to them (`{ "condition": "<name>" }`); the loader inlines every reference before these schemas
 * see the file, so a loaded rule never holds one.
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

/**
 * Named conditions of one ruleset (json-rules-engine's `setCondition` idea), e.g. `sbrt-candidate`:
 * any condition of the same file — a rule's `conditions`, an option's or a note's `when`, or an entry
 * of `all`/`any`/`not` — may be written `{ "condition": "sbrt-candidate" }`. A named condition may
 * itself refer to others. Validated after inlining (src/engine/load-rules.ts `inlineNamedConditions`).
 */
export const ConditionName = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'must be kebab-case, e.g. "sbrt-candidate"' })
export const NamedConditions = z.record(ConditionName, Condition)

/** One option of a rule, by id: what the item offers (or, with strength avoid, says not to do). */
export const RuleOptionEntry = z.strictObject({
  id: KnownOptionId,
  /** Absent: the item's strength applies. */
  strength: Strength.optional(),
  label: z.string().min(1).optional(),
  detail: z.string().min(1).optional(),
  /** The option is part of the item only when this holds (same condition language as the rule). */
  when: TopLevelCondition.optional()
})
export type RuleOptionEntry = z.infer<typeof RuleOptionEntry>

/**
 * Every option of a named group of `rules/options.json` ("every HER2 option"), expanded at load
 * time into one entry per id of the group, in the vocabulary's order, each with this entry's
 * strength, detail and condition (no label: each id keeps its own). An entry for the same id written
 * earlier in the list wins, as between any two entries for one id (the first that holds).
 */
export const RuleOptionGroup = z.strictObject({
  group: VocabularyName,
  strength: Strength.optional(),
  detail: z.string().min(1).optional(),
  when: TopLevelCondition.optional()
})
export type RuleOptionGroup = z.infer<typeof RuleOptionGroup>

/** An option entry as written in a ruleset file: an option id, or a group of them. */
export const RuleOption = z.union([RuleOptionEntry, RuleOptionGroup])
export type RuleOption = z.infer<typeof RuleOption>

export const RuleNote = z.strictObject({ when: TopLevelCondition, text: z.string().min(1) })

/**
 * A cited reference: its id, or its id with the tag Part 2 of the clinical specification attaches to
 * it in this code's row. The evidence item carries the lower of that tag and the catalogue's
 * (Part 4) tag; a bare id carries the catalogue's.
 */
export const RuleEvidence = z.union([RefId, z.strictObject({ ref: RefId, verification: Verification })])
export type RuleEvidence = z.infer<typeof RuleEvidence>
export const evidenceRef = (evidence: RuleEvidence): string => (typeof evidence === 'string' ? evidence : evidence.ref)

const Duration = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/)

export const RuleParams = z.strictObject({
  code: z.string().regex(/^(CLS|SYS|CI|LOC|PRIM|OLI|CNS|BMA|SUP|FU)-\d{2}[a-z]?$/),
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
  evidence: z.array(RuleEvidence).min(1),
  /** A warning the response carries when this rule fires. */
  warning: z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]*$/), message: z.string().min(1) }).optional(),
  /**
   * For safety filters that only make sense when the option they forbid was proposed (CI-06b: "a
   * capecitabine option would otherwise be offered"): the item forbids in pass 3 as usual, but is
   * dropped from the response when no pass-3 item proposed any of its avoided options.
   */
  onlyWhenAvoidedOptionProposed: z.literal(true).optional(),
  /**
   * The item may appear out of scope (HER2 negative or unknown, or not metastatic): classification
   * and the emergencies that do not wait for HER2 status. Every other item is in-scope only.
   */
  allowedOutOfScope: z.literal(true).optional(),
  /**
   * Pass-2 filters only: the codes this filter does not filter (BMA-05 does not remove SUP-01's
   * antiresorptives: spec/clinical-rules.md "Data gaps", the one stated exemption).
   */
  doesNotFilter: z.array(z.string().min(1)).min(1).optional(),
  /**
   * The item is "consider" after filtering (step 3c) unless one of these options is still offered
   * (SYS-12: without tucatinib–trastuzumab–capecitabine, T-DXd or T-DM1 the menu is C).
   */
  considerUnlessOffered: z.array(OptionId).min(1).optional(),
  /**
   * Pass 3: the item keeps its strength when every option it offers is "consider" (BMA-01, whose C
   * options time or choose the agent while starting a BMA stays R). Other recommended items of pass
   * 3 whose offered options are all C become C.
   */
  strengthNotCappedByOptions: z.literal(true).optional()
})
export type RuleParams = z.infer<typeof RuleParams>

/** A rule as written in a ruleset file (its options may name groups). */
export const RuleSource = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { message: 'must be "<ruleset>/<kebab-case-name>"' }),
  /** json-rules-engine priority (higher runs first); order never changes results here. */
  priority: z.int().min(1).max(100),
  /** Evaluation pass 1–4 (spec/clinical-rules.md "Evaluation passes"). */
  pass: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  /** case: once per evaluation; spine_lesion / bone_lesion: once per lesion with that lesion as target. */
  scope: z.enum(RULE_SCOPES),
  conditions: TopLevelCondition,
  event: z.strictObject({ type: z.literal('recommendation'), params: RuleParams })
})
export type RuleSource = z.infer<typeof RuleSource>

/** `event.params` as loaded: every option entry an id entry. */
export type LoadedRuleParams = Omit<RuleParams, 'options'> & { options?: RuleOptionEntry[] }
/**
 * A rule as loaded, the one both evaluators see: its option groups expanded
 * (`src/engine/option-vocabulary.ts`, called by `parseRuleset`).
 */
export type RuleDefinition = Omit<RuleSource, 'event'> & { event: Omit<RuleSource['event'], 'params'> & { params: LoadedRuleParams } }

export const RulesetFile = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: z.string().min(1),
  /** Named conditions, already inlined into the rules where they are referenced. */
  conditions: NamedConditions.optional(),
  rules: z.array(RuleSource).min(1)
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
