import type { Recommendation } from '../schemas/recommendation.js'
import type { Condition, LeafCondition, OperatorName, TopLevelCondition } from '../schemas/rule-file.js'
import { FACT_SLOTS, type FactFrame, type FactValue } from './fact-specs.js'

/**
 * The condition language of the rulesets, compiled to plain predicates, with the exact semantics of
 * json-rules-engine 7's default operators (a fact-value validator, then the comparison), so that the
 * compiled evaluator and the reference evaluator agree on every case (see the differential test).
 * @see node_modules/json-rules-engine/dist/engine-default-operators.js
 */

// json-rules-engine's numberValidator: parseFloat(x).toString() !== 'NaN' (null, booleans and
// non-numeric strings fail; the comparison is then false, never an error). For a number it reduces
// to "not NaN".
const numeric = (fact: FactValue): boolean =>
  typeof fact === 'number' ? !Number.isNaN(fact) : Number.parseFloat(fact as string).toString() !== 'NaN'

export type Predicate = (frame: FactFrame) => boolean

export class UndefinedFactError extends Error {
  override name = 'UndefinedFactError'
}

/** The slot of a catalogue fact; the loader has already rejected any other name. */
export function slotOf (name: string): number {
  const slot = FACT_SLOTS.get(name)
  if (slot === undefined) throw new UndefinedFactError(`Unknown fact: ${name}`)
  return slot
}

/** Like json-rules-engine with allowUndefinedFacts: false, a fact that was never supplied is an error. */
export function factValue (frame: FactFrame, slot: number, name: string): FactValue {
  const value = frame[slot]
  if (value === undefined) throw new UndefinedFactError(`Undefined fact: ${name}`)
  return value
}

/**
 * One closure factory per operator, so that every compiled leaf calls its comparison directly
 * instead of through a table (a call site that sees one operator stays fast). The tests hold every
 * operator, row by row, against json-rules-engine's own default operators.
 */
const LEAF_FACTORIES: Readonly<Record<OperatorName, (slot: number, fact: string, value: unknown) => Predicate>> = {
  equal: (slot, fact, value) => (frame) => factValue(frame, slot, fact) === value,
  notEqual: (slot, fact, value) => (frame) => factValue(frame, slot, fact) !== value,
  in: (slot, fact, value) => (frame) => (value as unknown[]).indexOf(factValue(frame, slot, fact)) > -1,
  notIn: (slot, fact, value) => (frame) => (value as unknown[]).indexOf(factValue(frame, slot, fact)) === -1,
  contains: (slot, fact, value) => (frame) => { const list = factValue(frame, slot, fact); return Array.isArray(list) && list.indexOf(value) > -1 },
  doesNotContain: (slot, fact, value) => (frame) => { const list = factValue(frame, slot, fact); return Array.isArray(list) && list.indexOf(value) === -1 },
  lessThan: (slot, fact, value) => (frame) => { const a = factValue(frame, slot, fact); return numeric(a) && (a as number) < (value as number) },
  lessThanInclusive: (slot, fact, value) => (frame) => { const a = factValue(frame, slot, fact); return numeric(a) && (a as number) <= (value as number) },
  greaterThan: (slot, fact, value) => (frame) => { const a = factValue(frame, slot, fact); return numeric(a) && (a as number) > (value as number) },
  greaterThanInclusive: (slot, fact, value) => (frame) => { const a = factValue(frame, slot, fact); return numeric(a) && (a as number) >= (value as number) }
}

function compileLeaf (leaf: LeafCondition): Predicate {
  return LEAF_FACTORIES[leaf.operator](slotOf(leaf.fact), leaf.fact, leaf.value)
}

/**
 * Leaves a caller takes as satisfied without reading their fact: the order check of a selected
 * medication (src/engine/order-check.ts, spec/ehr-integration.md §7.4) drops a code's "option
 * offered" clause because the clinician is ordering the drug now. The pipeline never passes one.
 */
export type AssumedLeaf = (leaf: LeafCondition) => boolean

const HOLDS: Predicate = () => true

/** Compiles a condition tree once into a closure; `all`/`any` short-circuit (conditions are pure). */
export function compileCondition (condition: Condition | TopLevelCondition, assumed?: AssumedLeaf): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map((child) => compileCondition(child, assumed))
    return (frame) => {
      for (const part of parts) if (!part(frame)) return false
      return true
    }
  }
  if ('any' in condition) {
    const parts = condition.any.map((child) => compileCondition(child, assumed))
    return (frame) => {
      for (const part of parts) if (part(frame)) return true
      return false
    }
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not, assumed)
    return (frame) => !inner(frame)
  }
  return assumed?.(condition) === true ? HOLDS : compileLeaf(condition)
}

/** A because-item as the rule runners build it; the pipeline adds its `label` and `inputs` (fact-lineage.ts). */
export type BecauseItem = Omit<Recommendation['because'][number], 'label' | 'inputs'>

/** The shape both evaluators' traces share; json-rules-engine omits `result` on the root node. */
export interface TraceLike {
  fact?: string
  operator?: string
  value?: unknown
  factResult?: unknown
  result?: boolean
  all?: TraceLike[]
  any?: TraceLike[]
  not?: TraceLike
}

/**
 * The leaf conditions that made the tree come out as `expected`: under `all` every child, under
 * `any` the children that held; under `not` the polarity flips, and a leaf that counted by being
 * false is reported with the operator "not:<operator>".
 */
export function becauseFromTrace (node: TraceLike, expected = true): BecauseItem[] {
  if (node.all !== undefined) {
    return node.all.filter((child) => expected || child.result === false).flatMap((child) => becauseFromTrace(child, expected))
  }
  if (node.any !== undefined) {
    return node.any.filter((child) => !expected || child.result === true).flatMap((child) => becauseFromTrace(child, expected))
  }
  if (node.not !== undefined) return becauseFromTrace(node.not, !expected)
  if (node.result !== expected) return []
  return [leafItem(node.fact as string, expected ? node.operator as string : `not:${node.operator as string}`, node.value, node.factResult)]
}

/**
 * One leaf as a because-item, the one conversion both evaluators' explanations share (`because`
 * and the `failed` of api.md `explanations`). Responses carry no null: a missing case value (null
 * fact) or a test for missing data (value null) is told by the absent key.
 */
export function leafItem (fact: string, operator: string, value: unknown, actual: unknown): BecauseItem {
  const item: BecauseItem = { fact, operator }
  if (value !== null) item.value = value
  if (actual !== null) item.actual = actual
  return item
}

export type Explainer = (frame: FactFrame, expected: boolean) => BecauseItem[]
type Collector = (frame: FactFrame, expected: boolean, into: BecauseItem[]) => void

/**
 * Compiles a condition into a closure that yields the same `because` items as becauseFromTrace
 * would from json-rules-engine's trace, without building the trace: only fired rules are
 * explained, and only the branches that decided the outcome are walked. `expected` must be the
 * outcome the condition had on that frame (true for a rule that fired).
 */
export function compileExplainer (condition: Condition | TopLevelCondition, assumed?: AssumedLeaf): Explainer {
  const collect = compileCollector(condition, assumed)
  return (frame, expected) => {
    const items: BecauseItem[] = []
    collect(frame, expected, items)
    return items
  }
}

function compileCollector (condition: Condition | TopLevelCondition, assumed?: AssumedLeaf): Collector {
  if ('all' in condition || 'any' in condition) {
    const isAll = 'all' in condition
    const children = (isAll ? condition.all : condition.any).map((child) => ({ test: compileCondition(child, assumed), collect: compileCollector(child, assumed) }))
    // Under `all` every child agrees with a true outcome; under `any` with a false one. Otherwise
    // only the children whose own result equals the expected outcome explain it.
    return (frame, expected, into) => {
      for (const child of children) {
        if (expected === isAll || child.test(frame) === expected) child.collect(frame, expected, into)
      }
    }
  }
  if ('not' in condition) {
    const inner = compileCollector(condition.not, assumed)
    return (frame, expected, into) => { inner(frame, !expected, into) }
  }
  // An assumed leaf read no fact of the case: it explains nothing.
  if (assumed?.(condition) === true) return () => {}
  const { fact, operator, value } = condition
  const slot = slotOf(fact)
  const negated = `not:${operator}`
  // A collector is only called on a node whose result is the expected one (the root of a rule that
  // fired, then the children chosen above), so the leaf is not tested again here.
  return (frame, expected, into) => {
    into.push(leafItem(fact, expected ? operator : negated, value, factValue(frame, slot, fact)))
  }
}

/*
 * The first failed condition (api.md `explanations`, `failed`): why a condition came out false, as
 * ONE leaf, in the rule's order. `all`: its first false child; `any`: every child was false — its
 * first child; `not`: the inner condition held — the leaf that made it hold. Generally, a node whose
 * outcome was o is explained by its first child whose result was o (under `all` with o false that is
 * the first false child; under `all` with o true, or `any` with o false, every child — the first is
 * reported), and `not` flips o. The leaf is reported as a condition that was false: a leaf that was
 * false as `<operator>`, a leaf that held (under an odd number of `not`s) as `not:<operator>`, the
 * same "not:" that `because` uses for the negation of a leaf.
 */

/** The first failed leaf of a condition on a frame, or undefined when the condition holds. */
export type FirstFailure = (frame: FactFrame) => BecauseItem | undefined
type Decisive = (frame: FactFrame, outcome: boolean) => BecauseItem

/** Compiles the walker once per condition (the compiled evaluator's `failed`). */
export function compileFirstFailure (condition: Condition | TopLevelCondition): FirstFailure {
  const test = compileCondition(condition)
  const decisive = compileDecisive(condition)
  return (frame) => (test(frame) ? undefined : decisive(frame, false))
}

function compileDecisive (condition: Condition | TopLevelCondition): Decisive {
  if ('all' in condition || 'any' in condition) {
    const children = ('all' in condition ? condition.all : condition.any).map((child) => ({ test: compileCondition(child), decisive: compileDecisive(child) }))
    return (frame, outcome) => {
      // Some child has the node's outcome: the node is only asked about the outcome it had.
      const child = children.find((candidate) => candidate.test(frame) === outcome) as typeof children[number]
      return child.decisive(frame, outcome)
    }
  }
  if ('not' in condition) {
    const inner = compileDecisive(condition.not)
    return (frame, outcome) => inner(frame, !outcome)
  }
  const { fact, operator, value } = condition
  const slot = slotOf(fact)
  const negated = `not:${operator}`
  return (frame, outcome) => leafItem(fact, outcome ? negated : operator, value, factValue(frame, slot, fact))
}

/**
 * The same walk over json-rules-engine's trace of a rule that failed (the reference evaluator's
 * `failed`): every node of the trace carries its `result` but the root, whose outcome is given.
 */
export function firstFailureFromTrace (node: TraceLike, outcome = false): BecauseItem {
  const children = node.all ?? node.any
  if (children !== undefined) return firstFailureFromTrace(children.find((child) => child.result === outcome) as TraceLike, outcome)
  if (node.not !== undefined) return firstFailureFromTrace(node.not, !outcome)
  return leafItem(node.fact as string, outcome ? `not:${node.operator as string}` : node.operator as string, node.value, node.factResult)
}
