import { Engine } from 'json-rules-engine'
import { becauseFromTrace, type BecauseItem, type TraceLike } from './conditions.js'
import { frameToRecord, type FactFrame } from './fact-specs.js'
import type { PreparedRule } from './knowledge-base.js'

/**
 * Two interchangeable ways to decide which rules fire:
 * - `reference`: json-rules-engine itself, a fresh Engine per run (its run state lives on the
 *   instance, so a shared engine could skip rules under concurrent requests);
 * - `compiled`: every condition compiled once at startup into closures over a fact frame
 *   (conditions.ts), the way ajv compiles a JSON Schema.
 * Both return the same outcomes; the differential test holds them to it.
 */

export const RULE_RUNNER_NAMES = ['compiled', 'reference'] as const
export type RuleRunnerName = typeof RULE_RUNNER_NAMES[number]

export interface RuleOutcome {
  prepared: PreparedRule
  because: BecauseItem[]
  /** One per option of the rule: whether the option belongs to this firing. */
  optionHolds: boolean[]
  noteHolds: boolean[]
}

export function runCompiled (rules: readonly PreparedRule[], frame: FactFrame): RuleOutcome[] {
  const outcomes: RuleOutcome[] = []
  for (const prepared of rules) {
    if (!prepared.test(frame)) continue
    outcomes.push({
      prepared,
      // Only fired rules are explained (the same items json-rules-engine's trace gives).
      because: prepared.explain(frame, true),
      optionHolds: prepared.optionTests.map((test) => test === undefined || test(frame)),
      noteHolds: prepared.noteTests.map((test) => test(frame))
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
export async function runReference (rules: readonly PreparedRule[], frame: FactFrame): Promise<RuleOutcome[]> {
  const facts = frameToRecord(frame)
  const engine = new Engine([], { allowUndefinedFacts: false })
  for (const prepared of rules) {
    const { name, priority, conditions, event } = prepared.definition
    // The engine is asked only which rules fire and why (name, conditions): the outcome's item is
    // built from the prepared rule. json-rules-engine deep-clones each fired rule's event into its
    // result, and the full event (detail, options, evidence) was a third of this evaluator's time.
    engine.addRule({ name, priority, conditions, event: { type: event.type } })
    event.params.options?.forEach((option, i) => {
      if (option.when !== undefined) engine.addRule({ name: `${name}${OPTION_SUFFIX}${i}`, priority, conditions: option.when, event: { type: 'option' } })
    })
    event.params.notes?.forEach((note, i) => {
      engine.addRule({ name: `${name}${NOTE_SUFFIX}${i}`, priority, conditions: note.when, event: { type: 'note' } })
    })
  }
  const { results } = await engine.run(facts)
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
