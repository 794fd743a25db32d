import type { OptionId } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import type { RuleDefinition } from '../schemas/rule-file.js'
import { compileCondition, compileExplainer, type Explainer, type Predicate } from './conditions.js'
import type { KnowledgeBase, LoadedRuleset } from './load-rules.js'
import { OPTION_LABELS } from './options.js'
import { citationTable, ruleEvidence, type CitationTable } from './references.js'

/**
 * The knowledge base prepared for evaluation, once at startup: every rule's conditions compiled to
 * predicates and explainers, its response parts built and frozen, and the rules grouped by pass and
 * scope in json-rules-engine's priority order. Both rule runners (rule-runners.ts) read it.
 */

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
    /** By reference (api.md revision 8): its entries' citations are in `citations`, for the response's `references`. */
    evidence: Recommendation['evidence']
    rule: Recommendation['rule']
  }
}

export type Pass = 1 | 2 | 3 | 4
export type Scope = RuleDefinition['scope']
export type RuleGroups = ReadonlyMap<string, readonly PreparedRule[]>

export interface PreparedKnowledgeBase extends KnowledgeBase {
  groups: RuleGroups
  /** Every rule by name (a recommendation's rule.id leads back to its rule). */
  rulesByName: ReadonlyMap<string, PreparedRule>
  /** The catalogue as responses cite it, and what each rule's evidence cites (references.ts). */
  citations: CitationTable
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
  const citations = citationTable(kb)
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
          evidence: ruleEvidence(kb, citations, params.evidence),
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
  return Object.freeze({ ...kb, groups, rulesByName, citations })
}
