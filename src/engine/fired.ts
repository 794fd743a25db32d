import type { Recommendation } from '../schemas/recommendation.js'
import type { RuleParams } from '../schemas/rule-file.js'
import type { PreparedRule } from './knowledge-base.js'

/**
 * An item and the rule that made it, kept together through the pipeline until the response is
 * assembled: the steps read the rule's pass and params (filters, exemptions, strength caps, scope
 * permission) from it, never by looking a rule up again by name.
 */
export interface Fired {
  rule: PreparedRule
  item: Recommendation
}

export const paramsOf = (fired: Fired): RuleParams => fired.rule.definition.event.params
export const passOf = (fired: Fired): 1 | 2 | 3 | 4 => fired.rule.definition.pass

/** The same fired rule with another item (an unchanged item keeps its object). */
export const withItem = (fired: Fired, item: Recommendation): Fired => (item === fired.item ? fired : { rule: fired.rule, item })
