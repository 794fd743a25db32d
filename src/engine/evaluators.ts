import { Engine } from 'json-rules-engine'
import type { OptionId } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import type { RuleDefinition } from '../schemas/rule-file.js'
import { evidenceOf } from './catalogue.js'
import { becauseFromTrace, compileCondition, compileExplainer, type BecauseItem, type Explainer, type Predicate, type TraceLike } from './conditions.js'
import { frameToRecord, type FactFrame } from './fact-catalogue.js'
import type { KnowledgeBase, LoadedRuleset } from './load-rules.js'
import { OPTION_LABELS } from './options.js'

/**
 * Two interchangeable ways to decide which rules fire:
 * - `reference`: json-rules-engine itself, a fresh Engine per run (its run state lives on the
 *   instance, so a shared engine could skip rules under concurrent requests);
 * - `compiled`: every condition compiled once at startup into closures over a fact frame
 *   (conditions.ts), the way ajv compiles a JSON Schema.
 * Both return the same outcomes; the differential test holds them to it.
 */

export type EvaluatorName = 'compiled' | 'reference'
export const EVALUATOR_NAMES: readonly EvaluatorName[] = ['compiled', 'reference']

type ResponseOption = NonNullable<Recommendation['options']>[number]

export interface PreparedRule {
  definition: RuleDefinition
  ruleset: LoadedRuleset
  test: Predicate
  explain: Explainer
  /** One per option: undefined when the option is unconditional. */
  optionTests: Array<Predicate | undefined>
  noteTests: Predicate[]
  /** What every recommendation of this rule shares, built once (frozen: items share them). */
  view: {
    options: readonly ResponseOption[]
    evidence: Recommendation['evidence']
    rule: Recommendation['rule']
  }
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
  /** Every rule by name (a recommendation's rule.id leads back to its rule). */
  rulesByName: ReadonlyMap<string, PreparedRule>
}

export const groupKey = (pass: Pass, scope: Scope): string => `${pass}:${scope}`

function responseOption (option: NonNullable<RuleDefinition['event']['params']['options']>[number]): ResponseOption {
  return Object.freeze({
    id: option.id as OptionId,
    label: option.label ?? OPTION_LABELS[option.id],
    ...(option.strength === undefined ? {} : { strength: option.strength }),
    ...(option.detail === undefined ? {} : { detail: option.detail })
  })
}

/** Compiles every rule's predicates and groups the rules by pass and scope (done once, at startup). */
export function prepareKnowledgeBase (kb: KnowledgeBase): PreparedKnowledgeBase {
  const groups = new Map<string, PreparedRule[]>()
  const rulesByName = new Map<string, PreparedRule>()
  for (const ruleset of kb.rulesets) {
    for (const definition of ruleset.rules) {
      const params = definition.event.params
      const prepared: PreparedRule = {
        definition,
        ruleset,
        test: compileCondition(definition.conditions),
        explain: compileExplainer(definition.conditions),
        optionTests: (params.options ?? []).map((option) => (option.when === undefined ? undefined : compileCondition(option.when))),
        noteTests: (params.notes ?? []).map((note) => compileCondition(note.when)),
        view: Object.freeze({
          options: Object.freeze((params.options ?? []).map(responseOption)),
          evidence: Object.freeze(params.evidence.map((ref) => Object.freeze(evidenceOf(kb, ref)))) as Recommendation['evidence'],
          rule: Object.freeze({ id: definition.name, ruleset: ruleset.id, rulesetVersion: ruleset.version })
        })
      }
      const key = groupKey(definition.pass, definition.scope)
      groups.set(key, [...(groups.get(key) ?? []), prepared])
      rulesByName.set(definition.name, prepared)
    }
  }
  // json-rules-engine runs higher priorities first; keep the same order so outcomes line up.
  for (const rules of groups.values()) rules.sort((a, b) => b.definition.priority - a.definition.priority)
  return Object.freeze({ ...kb, groups, rulesByName })
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
    engine.addRule({ name, priority, conditions, event })
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
