import type { OptionId } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import type { CaseFacts } from './facts.js'
import { BONE_MODIFYING_OPTIONS, BRAIN_DIRECTED_OPTIONS, HER2_OPTIONS, isOffered } from './options.js'

/**
 * Safety invariants that hold whatever the rulesets say. The rules are written to respect them;
 * this is the last line of defence, applied to every response. A violation is repaired (the
 * offending option or item is removed) and reported, so tests can prove the rules never need it.
 * @see spec/clinical-rules.md "Principles", issue "safety invariants"
 */

/**
 * What the invariants need to know of an item's rule: whether it may appear out of scope
 * (`allowedOutOfScope`, spec Part 1 scope row: classification and the emergencies that do not wait
 * for HER2). A pipeline `Fired` entry is one.
 */
export interface RuledItem {
  item: Recommendation
  rule: { definition: { event: { params: { allowedOutOfScope?: true | undefined } } } }
}

export interface InvariantResult<T extends RuledItem> { entries: T[], violations: string[] }

export function enforceSafetyInvariants<T extends RuledItem> (entries: readonly T[], facts: CaseFacts): InvariantResult<T> {
  const violations: string[] = []
  const her2Allowed = facts.inScope === true && facts.her2Status === 'positive' && facts.pregnant !== true
  const optionViolation = (item: Recommendation, id: OptionId, offered: boolean): string | undefined => {
    if (BRAIN_DIRECTED_OPTIONS.has(id) && (facts.brainPresent !== true || item.targets === undefined || item.targets.some((target) => target !== 'brain'))) {
      return `${item.code}: brain-directed option ${id} without brain metastases or with a non-brain target`
    }
    if (!offered) return undefined
    if (HER2_OPTIONS.has(id) && !her2Allowed) return `${item.code}: HER2 option ${id} offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)`
    if (BONE_MODIFYING_OPTIONS.has(id) && facts.pregnant === true) return `${item.code}: bone-modifying agent ${id} offered in pregnancy`
    return undefined
  }

  const kept: T[] = []
  for (const entry of entries) {
    const { item } = entry
    if (facts.inScope !== true && entry.rule.definition.event.params.allowedOutOfScope !== true) {
      violations.push(`${item.code}: treatment item in an out-of-scope case`)
      continue
    }
    if (item.options === undefined) {
      kept.push(entry)
      continue
    }
    const options = item.options.filter((option) => {
      const violation = optionViolation(item, option.id, isOffered(item, option))
      if (violation !== undefined) violations.push(violation)
      return violation === undefined
    })
    if (options.length === 0) continue
    kept.push(options.length === item.options.length ? entry : { ...entry, item: { ...item, options } })
  }
  return { entries: kept, violations }
}
