import type { Condition, LeafCondition, OperatorName, TopLevelCondition } from '../schemas/rule-file.js'
import type { FactValue, Facts } from './fact-catalogue.js'

/**
 * The condition language of the rulesets, compiled to plain predicates, with the exact semantics of
 * json-rules-engine 7's default operators (a fact-value validator, then the comparison), so that the
 * compiled evaluator and the reference evaluator agree on every case (see the differential test).
 * @see node_modules/json-rules-engine/dist/engine-default-operators.js
 */

type Comparison = (fact: FactValue, value: unknown) => boolean

// json-rules-engine's numberValidator: parseFloat(x).toString() !== 'NaN' (null, booleans and
// non-numeric strings fail; the comparison is then false, never an error).
const isNumeric = (fact: unknown): boolean => Number.parseFloat(fact as string).toString() !== 'NaN'

export const OPERATOR_IMPLEMENTATIONS: Readonly<Record<OperatorName, Comparison>> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as unknown[]).indexOf(a) > -1,
  notIn: (a, b) => (b as unknown[]).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumeric(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => isNumeric(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => isNumeric(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => isNumeric(a) && (a as number) >= (b as number)
}

export type Predicate = (facts: Facts) => boolean

export class UndefinedFactError extends Error {
  override name = 'UndefinedFactError'
}

/** Like json-rules-engine with allowUndefinedFacts: false, a fact that was never supplied is an error. */
export function factValue (facts: Facts, name: string): FactValue {
  const value = facts[name]
  if (value === undefined) throw new UndefinedFactError(`Undefined fact: ${name}`)
  return value
}

function compileLeaf (leaf: LeafCondition): Predicate {
  const compare = OPERATOR_IMPLEMENTATIONS[leaf.operator]
  const { fact, value } = leaf
  return (facts) => compare(factValue(facts, fact), value)
}

/** Compiles a condition tree once into a closure; `all`/`any` short-circuit (conditions are pure). */
export function compileCondition (condition: Condition | TopLevelCondition): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map(compileCondition)
    return (facts) => parts.every((part) => part(facts))
  }
  if ('any' in condition) {
    const parts = condition.any.map(compileCondition)
    return (facts) => parts.some((part) => part(facts))
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not)
    return (facts) => !inner(facts)
  }
  return compileLeaf(condition)
}

/** A condition tree with every node's outcome, shaped like json-rules-engine's RuleResult.conditions. */
export type TraceNode =
  | { fact: string, operator: string, value: unknown, factResult: unknown, result: boolean }
  | { all: TraceNode[], result: boolean }
  | { any: TraceNode[], result: boolean }
  | { not: TraceNode, result: boolean }

/** Evaluates every node (no short-circuit), as json-rules-engine does within one priority level. */
export function traceCondition (condition: Condition | TopLevelCondition, facts: Facts): TraceNode {
  if ('all' in condition) {
    const all = condition.all.map((child) => traceCondition(child, facts))
    return { all, result: all.every((node) => node.result) }
  }
  if ('any' in condition) {
    const any = condition.any.map((child) => traceCondition(child, facts))
    return { any, result: any.some((node) => node.result) }
  }
  if ('not' in condition) {
    const not = traceCondition(condition.not, facts)
    return { not, result: !not.result }
  }
  const factResult = factValue(facts, condition.fact)
  return {
    fact: condition.fact,
    operator: condition.operator,
    value: condition.value,
    factResult,
    result: OPERATOR_IMPLEMENTATIONS[condition.operator](factResult, condition.value)
  }
}

/** One condition that made a rule fire; `value`/`actual` are absent when null (missing data). */
export interface BecauseItem { fact: string, operator: string, value?: unknown, actual?: unknown }

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
  // Responses carry no null: a missing case value (null fact) or a test for missing data (value
  // null) is told by the absent key.
  return [{
    fact: node.fact as string,
    operator: expected ? node.operator as string : `not:${node.operator as string}`,
    ...(node.value === null ? {} : { value: node.value }),
    ...(node.factResult === null ? {} : { actual: node.factResult })
  }]
}
