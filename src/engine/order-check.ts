import type { Case } from '../schemas/case.js'
import type { Condition, LeafCondition, RuleOptionEntry, TopLevelCondition } from '../schemas/rule-file.js'
import { compileCondition, compileExplainer, type AssumedLeaf, type BecauseItem, type Explainer, type Predicate } from './conditions.js'
import { factSpec, newFactFrame, writeFacts, type FactFrame } from './fact-specs.js'
import { withLineage, type LinedBecauseItem } from './fact-lineage.js'
import { deriveFacts } from './facts.js'
import type { PreparedKnowledgeBase, PreparedRule } from './knowledge-base.js'
import { isOffered } from './options.js'

/**
 * The order check of a selected medication (spec/ehr-integration.md §7.4, CDS Hooks `order-select`):
 * whether a safety code of the knowledge base "holds" on a case while the clinician is ordering the
 * drug now. Framework-free, like the rest of the engine; the card builder (src/cds-hooks/cards.ts)
 * decides which codes apply to which agent.
 *
 * A code holds when one of its *avoid rows* holds: a rule with that code that names an option with
 * an effective strength of avoid (CI-04's avoid row, not its suspected-ILD rows; the pregnancy rows
 * of CI-05, not its out-of-scope emergency rows; BMA-04's two rows below 30 mL/min). The row holds
 * when its condition holds and one of its avoid entries is the entry that holds for its option
 * (its own `when`, as the pipeline reads it: the first entry for an option that holds wins) — so
 * BMA-01's rows count only below 30 mL/min, where their zoledronic acid and pamidronate entries
 * are avoid.
 *
 * "Without its option-offered clause" [D]: the clauses about what the evaluation offers are taken
 * as satisfied — leaves on the pass-4 facts (`offeredOptions`, `offered…Option`) and on
 * `firedCodes` (BMA-04's "a bone-modifying agent is recommended", i.e. BMA-01 fired) — and CI-06b's
 * `onlyWhenAvoidedOptionProposed` is not read. Every other leaf is evaluated on the facts that
 * deriveFacts derives from the case, the very facts the Recommender starts from. A row that tests
 * another pass-3 fact, or a lesion rule, cannot be decided this way: preparing it throws.
 */

/** The clauses about offered options (and emitted codes) that the order check takes as satisfied. */
export const isOfferedOptionClause: AssumedLeaf = (leaf) => leaf.fact === 'firedCodes' || factSpec(leaf.fact)?.pass === 4

export class OrderCheckError extends Error {
  override name = 'OrderCheckError'
}

interface HeldEntry { index: number, test: Predicate, explain: Explainer }

interface AvoidRow {
  prepared: PreparedRule
  test: Predicate
  explain: Explainer
  /** One per avoid entry: whether it is the entry that holds for its option, and why. */
  entries: HeldEntry[]
}

/** What the order check found for one code: the row that held and why, in clinical words. */
export interface OrderCheckFinding {
  code: string
  rule: PreparedRule
  because: LinedBecauseItem[]
  /** The indices, in the rule's options (and `view.options`), of its avoid entries that hold. */
  avoided: number[]
}

const HOLDS: Predicate = () => true
const NOTHING: Explainer = () => []

function leavesOf (condition: Condition | TopLevelCondition): LeafCondition[] {
  if ('all' in condition) return condition.all.flatMap(leavesOf)
  if ('any' in condition) return condition.any.flatMap(leavesOf)
  if ('not' in condition) return leavesOf(condition.not)
  return [condition]
}

/** The entry at `index` holds for its option: its own `when` holds and no earlier entry for the same option does. */
function heldEntry (entries: readonly RuleOptionEntry[], index: number): HeldEntry {
  const entry = entries[index] as RuleOptionEntry
  const own = entry.when === undefined ? HOLDS : compileCondition(entry.when, isOfferedOptionClause)
  const earlier = entries.slice(0, index).filter((other) => other.id === entry.id)
    .map((other) => (other.when === undefined ? HOLDS : compileCondition(other.when, isOfferedOptionClause)))
  return {
    index,
    test: (frame) => own(frame) && !earlier.some((test) => test(frame)),
    explain: entry.when === undefined ? NOTHING : compileExplainer(entry.when, isOfferedOptionClause)
  }
}

/** The rule as an avoid row, or undefined when it names no option to avoid. */
function avoidRow (prepared: PreparedRule): AvoidRow | undefined {
  const { definition } = prepared
  const params = definition.event.params
  const entries = params.options ?? []
  const avoided = entries.flatMap((entry, index) => (isOffered(params, entry) ? [] : [index]))
  if (avoided.length === 0) return undefined
  const fail = (message: string): never => { throw new OrderCheckError(`rule "${definition.name}" (${params.code}): ${message}`) }
  if (definition.scope !== 'case') fail(`a ${definition.scope} rule cannot be checked against an order (no lesion is being evaluated)`)
  const conditions = [definition.conditions, ...entries.flatMap((entry) => (entry.when === undefined ? [] : [entry.when]))]
  for (const leaf of conditions.flatMap(leavesOf)) {
    if (factSpec(leaf.fact)?.pass !== undefined && !isOfferedOptionClause(leaf)) fail(`fact "${leaf.fact}" describes what the evaluation decided; the order check reads the case's own facts only`)
  }
  return {
    prepared,
    test: compileCondition(definition.conditions, isOfferedOptionClause),
    explain: compileExplainer(definition.conditions, isOfferedOptionClause),
    entries: avoided.map((index) => heldEntry(entries, index))
  }
}

const rowsByKnowledgeBase = new WeakMap<PreparedKnowledgeBase, Map<string, readonly AvoidRow[]>>()

/** The avoid rows of a code, in knowledge-base order, compiled once per knowledge base. */
export function avoidRowsOf (kb: PreparedKnowledgeBase, code: string): readonly AvoidRow[] {
  let byCode = rowsByKnowledgeBase.get(kb)
  if (byCode === undefined) rowsByKnowledgeBase.set(kb, byCode = new Map())
  let rows = byCode.get(code)
  if (rows === undefined) {
    rows = kb.rulesets.flatMap((ruleset) => ruleset.rules)
      .filter((definition) => definition.event.params.code === code)
      .flatMap((definition) => avoidRow(kb.rulesByName.get(definition.name) as PreparedRule) ?? [])
    byCode.set(code, rows)
  }
  return rows
}

/** The case's own facts in a frame (pass-3 and pass-4 slots stay unset: no row reads them). */
export function caseFactFrame (input: Case, evaluationDate: string): FactFrame {
  return writeFacts(newFactFrame(), deriveFacts(input, evaluationDate).facts)
}

/**
 * The codes, in the order given, that hold on the case without their option-offered clause, each
 * with the first of its avoid rows that holds and that row's conditions as because-items (with the
 * condition of the avoid entry that held, e.g. BMA-01's "creatinine clearance below 30 mL/min").
 */
export function checkOrderCodes (kb: PreparedKnowledgeBase, input: Case, evaluationDate: string, codes: readonly string[]): OrderCheckFinding[] {
  const frame = caseFactFrame(input, evaluationDate)
  const findings: OrderCheckFinding[] = []
  for (const code of codes) {
    for (const row of avoidRowsOf(kb, code)) {
      if (!row.test(frame)) continue
      const held = row.entries.filter((candidate) => candidate.test(frame))
      const entry = held[0]
      if (entry === undefined) continue
      const because: BecauseItem[] = [...row.explain(frame, true), ...entry.explain(frame, true)]
      findings.push({ code, rule: row.prepared, because: withLineage(because, { input }), avoided: held.map(({ index }) => index) })
      break
    }
  }
  return findings
}
