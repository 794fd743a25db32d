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

/** What an out-of-scope response may contain: classification and the emergencies that do not wait for HER2. */
export const OUT_OF_SCOPE_CODES: ReadonlySet<string> = new Set(['CLS-01', 'CLS-02', 'LOC-01', 'LOC-01b', 'LOC-02', 'LOC-03', 'CNS-02'])

export interface InvariantResult { items: Recommendation[], violations: string[] }

export function enforceSafetyInvariants (items: Recommendation[], facts: CaseFacts): InvariantResult {
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

  const kept: Recommendation[] = []
  for (const item of items) {
    if (facts.inScope !== true && !OUT_OF_SCOPE_CODES.has(item.code)) {
      violations.push(`${item.code}: treatment item in an out-of-scope case`)
      continue
    }
    if (item.options === undefined) {
      kept.push(item)
      continue
    }
    const options = item.options.filter((option) => {
      const violation = optionViolation(item, option.id, isOffered(item, option))
      if (violation !== undefined) violations.push(violation)
      return violation === undefined
    })
    if (options.length === 0) continue
    kept.push(options.length === item.options.length ? item : { ...item, options })
  }
  return { items: kept, violations }
}
