import { Engine } from 'json-rules-engine'
import type { RuleDefinition } from '../schemas/rule-file.js'
import { becauseFromTrace, compileCondition, traceCondition, type BecauseItem, type Predicate, type TraceLike } from './conditions.js'
import type { Facts } from './fact-catalogue.js'
import type { KnowledgeBase, LoadedRuleset } from './load-rules.js'

/**
 * Two interchangeable ways to decide which rules fire:
 * - `reference`: json-rules-engine itself, a fresh Engine per run (its run state lives on the
 *   instance, so a shared engine could skip rules under concurrent requests);
 * - `compiled`: every condition compiled once at startup into closures (conditions.ts).
 * Both return the same outcomes; the differential test holds them to it.
 */

export type EvaluatorName = 'compiled' | 'reference'
export const EVALUATOR_NAMES: readonly EvaluatorName[] = ['compiled', 'reference']

export interface PreparedRule {
  definition: RuleDefinition
  ruleset: LoadedRuleset
  test: Predicate
  /** One per option: undefined when the option is unconditional. */
  optionTests: Array<Predicate | undefined>
  noteTests: Predicate[]
}

export interface RuleOutcome {
  prepared: PreparedRule
  because: BecauseItem[]
  /** One per option of the rule: whether the option belongs to this firing. */
  optionHolds: boolean[]
  noteHolds: boolean[]
}

export type Pass = 1 | 2 | 3 | 4
export type Scope = RuleDefinition['scope']
export type RuleGroups = ReadonlyMap<string, readonly PreparedRule[]>

export interface PreparedKnowledgeBase extends KnowledgeBase {
  groups: RuleGroups
}

export const groupKey = (pass: Pass, scope: Scope): string => `${pass}:${scope}`

/** Compiles every rule's predicates and groups the rules by pass and scope (done once, at startup). */
export function prepareKnowledgeBase (kb: KnowledgeBase): PreparedKnowledgeBase {
  const groups = new Map<string, PreparedRule[]>()
  for (const ruleset of kb.rulesets) {
    for (const definition of ruleset.rules) {
      const params = definition.event.params
      const prepared: PreparedRule = {
        definition,
        ruleset,
        test: compileCondition(definition.conditions),
        optionTests: (params.options ?? []).map((option) => (option.when === undefined ? undefined : compileCondition(option.when))),
        noteTests: (params.notes ?? []).map((note) => compileCondition(note.when))
      }
      const key = groupKey(definition.pass, definition.scope)
      groups.set(key, [...(groups.get(key) ?? []), prepared])
    }
  }
  // json-rules-engine runs higher priorities first; keep the same order so outcomes line up.
  for (const rules of groups.values()) rules.sort((a, b) => b.definition.priority - a.definition.priority)
  return Object.freeze({ ...kb, groups })
}

export function runCompiled (rules: readonly PreparedRule[], facts: Facts): RuleOutcome[] {
  const outcomes: RuleOutcome[] = []
  for (const prepared of rules) {
    if (!prepared.test(facts)) continue
    outcomes.push({
      prepared,
      // Only fired rules are traced: the trace evaluates every node, as json-rules-engine does.
      because: becauseFromTrace(traceCondition(prepared.definition.conditions, facts)),
      optionHolds: prepared.optionTests.map((test) => test === undefined || test(facts)),
      noteHolds: prepared.noteTests.map((test) => test(facts))
    })
  }
  return outcomes
}

const OPTION_SUFFIX = '#option-'
const NOTE_SUFFIX = '#note-'

/**
 * json-rules-engine as the oracle. Option and note conditions become rules of their own in the same
 * run (`<name>#option-<i>`), so that every condition the knowledge base holds is decided by the
 * engine itself.
 */
export async function runReference (rules: readonly PreparedRule[], facts: Facts): Promise<RuleOutcome[]> {
  const engine = new Engine([], { allowUndefinedFacts: false })
  for (const prepared of rules) {
    const { name, priority, conditions, event } = prepared.definition
    engine.addRule({ name, priority, conditions, event })
    event.params.options?.forEach((option, i) => {
      if (option.when !== undefined) engine.addRule({ name: `${name}${OPTION_SUFFIX}${i}`, priority, conditions: option.when, event: { type: 'option' } })
    })
    event.params.notes?.forEach((note, i) => {
      engine.addRule({ name: `${name}${NOTE_SUFFIX}${i}`, priority, conditions: note.when, event: { type: 'note' } })
    })
  }
  const { results } = await engine.run({ ...facts })
  const passed = new Map(results.map((result) => [result.name as string, result]))
  const outcomes: RuleOutcome[] = []
  for (const prepared of rules) {
    const { name, event } = prepared.definition
    const result = passed.get(name)
    if (result === undefined) continue
    outcomes.push({
      prepared,
      because: becauseFromTrace(result.conditions as unknown as TraceLike),
      optionHolds: (event.params.options ?? []).map((option, i) => option.when === undefined || passed.has(`${name}${OPTION_SUFFIX}${i}`)),
      noteHolds: (event.params.notes ?? []).map((_, i) => passed.has(`${name}${NOTE_SUFFIX}${i}`))
    })
  }
  return outcomes
}

export type RuleRunner = (rules: readonly PreparedRule[], facts: Facts) => RuleOutcome[] | Promise<RuleOutcome[]>

export const RUNNERS: Readonly<Record<EvaluatorName, RuleRunner>> = { compiled: runCompiled, reference: runReference }
