import { Engine } from 'json-rules-engine'
import type { OptionId } from '../schemas/common.js'
import type { Explanation, Reason, Recommendation } from '../schemas/recommendation.js'
import type { RuleOption, TopLevelCondition } from '../schemas/rule-file.js'
import { compileFirstFailure, firstFailureFromTrace, type BecauseItem, type FirstFailure, type TraceLike } from './conditions.js'
import { frameToRecord, type FactFrame } from './fact-specs.js'
import type { PreparedKnowledgeBase, PreparedRule } from './knowledge-base.js'
import type { RuleRunnerName, RuleOutcome } from './rule-runners.js'
import { withLineage, type LineageContext } from './fact-lineage.js'
import { isOffered } from './options.js'

/**
 * "Why not": api.md revision 8, `?explain=` and the response's `explanations`. Framework-free and
 * outside the pipeline: the pipeline only records, when explanations are asked for, what each rule
 * run saw (RuleRun) and hands over the final items and who forbids what (ForbiddenBy). For each
 * option asked about:
 * - offered (an item offers it with an effective strength other than avoid): `offeredBy`, the codes
 *   of those items, sorted and unique;
 * - otherwise `reasons`, in knowledge-base order (ruleset file, then rule), one per run (per lesion
 *   for lesion rules, with `target`) of every rule with an entry for the option:
 *   - the rule can offer it (an entry whose effective strength — its own, else the item's — is not
 *     avoid) and did not fire: `not_fired`, `failed` = its first false condition;
 *   - it fired and no entry for the option held: `option_condition`, `failed` = the first false
 *     condition of the first entry that can offer it (several entries with exclusive `when`s
 *     describe one option; the first that holds wins, as in the pipeline);
 *   - it fired and the entry that held is avoid: `avoid` (also for a rule whose entries are all
 *     avoid — such a rule is reported only where it fired: one that did not fire says nothing
 *     about this case);
 *   - it fired and offered the option, yet nothing offers it now: `forbidden`, `forbiddenBy` = the
 *     codes that forbid it for this rule's code (filter exemptions are the ForbiddenBy's to apply).
 *     This covers an item dropped because it had nothing left to offer (step 3d: every option it
 *     offered was forbidden, this one included). With no forbidding code the option was removed by
 *     the safety invariants (invariants.ts, the last line of defence: e.g. a treatment item in an
 *     out-of-scope case): `forbidden` without `forbiddenBy`;
 *   - a lesion rule when the case records no lesion of its kind (it ran for none): one `not_fired`
 *     without `target` and without `failed` — no condition of it was evaluated.
 * `failed` is a because-item (conditions.ts `leafItem`), computed by the evaluator in use: the
 * compiled walker, or json-rules-engine's own failure trace; the differential test holds them equal.
 */

/** One rule run of the pipeline, as the explanation needs it: recorded only when asked for. */
export interface RuleRun {
  rules: readonly PreparedRule[]
  /** A copy of the fact frame as these rules saw it. */
  frame: FactFrame
  /** The lesion (level or site) of a lesion-rule run. */
  target?: string
  /** The request and lesion the run read, for the lineage (label, inputs) of a failed condition. */
  lineage: LineageContext
  outcomes: readonly RuleOutcome[]
}

/** The codes that forbid `option` in an item of code `code` (empty when none does). */
export type ForbiddenBy = (option: OptionId, code: string) => readonly string[]

/** The first false condition of `condition` on `frame` (undefined when it holds), as an evaluator finds it. */
export type FailureFinder = (condition: TopLevelCondition, frame: FactFrame) => BecauseItem | undefined | Promise<BecauseItem | undefined>

export interface ExplainContext {
  kb: PreparedKnowledgeBase
  runs: readonly RuleRun[]
  /** The response's items, after every filter and the invariants. */
  items: readonly Recommendation[]
  forbiddenBy: ForbiddenBy
  firstFailure: FailureFinder
}

/**
 * Records a rule run (a copy of its frame: the pipeline goes on writing into it) when `runs` is
 * defined, and passes the outcomes through.
 */
export function recordRun (
  runs: RuleRun[] | undefined, request: { rules: readonly PreparedRule[], frame: FactFrame, target?: string, lineage: LineageContext }, outcomes: RuleOutcome[]
): RuleOutcome[] {
  runs?.push({ rules: request.rules, frame: request.frame.slice(), ...(request.target === undefined ? {} : { target: request.target }), lineage: request.lineage, outcomes })
  return outcomes
}

const compiledWalkers = new WeakMap<TopLevelCondition, FirstFailure>()

/** The compiled evaluator's finder: each condition's walker compiled once, on first use. */
export const compiledFirstFailure: FailureFinder = (condition, frame) => {
  let walker = compiledWalkers.get(condition)
  if (walker === undefined) {
    walker = compileFirstFailure(condition)
    compiledWalkers.set(condition, walker)
  }
  return walker(frame)
}

/** The reference evaluator's finder: a fresh json-rules-engine with just this condition, and its failure trace. */
export async function referenceFirstFailure (condition: TopLevelCondition, frame: FactFrame): Promise<BecauseItem | undefined> {
  const engine = new Engine([], { allowUndefinedFacts: false })
  engine.addRule({ name: 'explain', conditions: condition, event: { type: 'explain' } })
  const { failureResults } = await engine.run(frameToRecord(frame))
  const failure = failureResults[0]
  return failure === undefined ? undefined : firstFailureFromTrace(failure.conditions as unknown as TraceLike)
}

export const FAILURE_FINDERS: Readonly<Record<RuleRunnerName, FailureFinder>> = { compiled: compiledFirstFailure, reference: referenceFirstFailure }

/** The entry for `option` in this firing: the first whose condition held (as the pipeline keeps it). */
const heldEntry = (outcome: RuleOutcome, option: OptionId): RuleOption | undefined =>
  outcome.prepared.definition.event.params.options?.find((entry, i) => entry.id === option && outcome.optionHolds[i] === true)

/** The explanations, in the order asked. */
/** A failed condition in clinical words, with the request fields of its fact (as `because` items are). */
const lined = (failed: BecauseItem, run: RuleRun): NonNullable<Reason['failed']> => withLineage([failed], run.lineage)[0] as NonNullable<Reason['failed']>

export async function explainOptions (explain: readonly OptionId[], context: ExplainContext): Promise<Explanation[]> {
  const runsByRule = new Map<PreparedRule, RuleRun[]>()
  for (const run of context.runs) {
    for (const prepared of run.rules) {
      const runs = runsByRule.get(prepared)
      if (runs === undefined) runsByRule.set(prepared, [run])
      else runs.push(run)
    }
  }
  const explanations: Explanation[] = []
  for (const option of explain) {
    const offeredBy = [...new Set(context.items
      .filter((item) => item.options?.some((entry) => entry.id === option && isOffered(item, entry)) === true)
      .map((item) => item.code))].sort()
    if (offeredBy.length > 0) {
      explanations.push({ option, offered: true, offeredBy })
      continue
    }
    const reasons: Reason[] = []
    for (const ruleset of context.kb.rulesets) {
      for (const definition of ruleset.rules) {
        const prepared = context.kb.rulesByName.get(definition.name) as PreparedRule
        reasons.push(...await ruleReasons(prepared, option, runsByRule.get(prepared) ?? [], context))
      }
    }
    explanations.push({ option, offered: false, reasons })
  }
  return explanations
}

/** The reasons one rule gives for not offering `option`: one per run, none when it has no entry for it. */
async function ruleReasons (prepared: PreparedRule, option: OptionId, runs: readonly RuleRun[], context: ExplainContext): Promise<Reason[]> {
  const { name, conditions, event: { params } } = prepared.definition
  const entries = (params.options ?? []).filter((entry) => entry.id === option)
  if (entries.length === 0) return []
  // The first entry that can offer the option; undefined when the rule names it only as avoid.
  const offering = entries.find((entry) => isOffered(params, entry))
  if (runs.length === 0) return offering === undefined ? [] : [{ code: params.code, rule: name, kind: 'not_fired' }]
  const reasons: Reason[] = []
  for (const run of runs) {
    const base = { code: params.code, rule: name, ...(run.target === undefined ? {} : { target: run.target }) }
    const outcome = run.outcomes.find((candidate) => candidate.prepared === prepared)
    if (outcome === undefined) {
      // The rule did not fire, so its condition has a first false leaf.
      if (offering !== undefined) reasons.push({ ...base, kind: 'not_fired', failed: lined(await context.firstFailure(conditions, run.frame) as BecauseItem, run) })
      continue
    }
    const held = heldEntry(outcome, option)
    if (held === undefined) {
      // No entry held: the one that could offer it has a `when` (an unconditional entry always holds).
      if (offering !== undefined) reasons.push({ ...base, kind: 'option_condition', failed: lined(await context.firstFailure(offering.when as TopLevelCondition, run.frame) as BecauseItem, run) })
    } else if (!isOffered(params, held)) {
      reasons.push({ ...base, kind: 'avoid' })
    } else {
      const forbiddenBy = [...new Set(context.forbiddenBy(option, params.code))].sort()
      reasons.push({ ...base, kind: 'forbidden', ...(forbiddenBy.length === 0 ? {} : { forbiddenBy }) })
    }
  }
  return reasons
}
