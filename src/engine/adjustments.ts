import type { OptionId, Strength } from '../schemas/common.js'
import type { PregnancyRtAdjustment } from '../schemas/context-adjustments.js'
import type { Recommendation } from '../schemas/recommendation.js'
import { paramsOf, passOf, withItem, type Fired } from './fired.js'
import { isOffered } from './options.js'

/**
 * Adjustments the engine makes to items after their rules fired, so that every card is safe to
 * read on its own (Revision 7): the pregnancy radiotherapy caveat (step 3a) and the item strength
 * read from the options it still offers (after step 3c).
 * @see spec/clinical-rules.md Part 1, `pregnancyRt` and "Option composition" (red-team L6)
 */

type Option = NonNullable<Recommendation['options']>[number]

/** The `pregnancyRt` data of rules/context-adjustments.json, as sets (built once per knowledge base). */
export interface PreparedPregnancyRt {
  options: ReadonlySet<OptionId>
  nearUterusTargets: ReadonlySet<string>
  caveat: string
  nearUterusCaveat: string
}

export function preparePregnancyRt (data: PregnancyRtAdjustment): PreparedPregnancyRt {
  return Object.freeze({
    options: new Set(data.options),
    nearUterusTargets: new Set<string>(data.nearUterusTargets),
    caveat: data.caveat,
    nearUterusCaveat: data.nearUterusCaveat
  })
}

/**
 * Step 3a, `pregnancyRt` (r7): in pregnancy every offered radiotherapy option of the item with an
 * effective strength of R or C becomes C (defer non-urgent RT); an urgent one keeps U. Either way
 * its detail carries the fetal-dose caveat, and for a target near the uterus (red-team M8: L1–S5,
 * pelvis, femur) also the caveat that the fetal dose is usually unacceptable. Avoid entries are not
 * given, so they get no caveat. The caller applies it to pass-3 items only — the out-of-scope
 * emergency codes (LOC-01…LOC-03, CNS-02, SUP-01) are pass-3 items too.
 */
export function applyPregnancyRt (item: Recommendation, rt: PreparedPregnancyRt): Recommendation {
  const isRt = (option: Option): boolean => rt.options.has(option.id) && isOffered(item, option)
  if (item.options === undefined || !item.options.some(isRt)) return item
  const nearUterus = item.targets?.some((target) => rt.nearUterusTargets.has(target)) === true
  const caveat = nearUterus ? `${rt.caveat} ${rt.nearUterusCaveat}` : rt.caveat
  const options = item.options.map((option): Option => {
    if (!isRt(option)) return option
    // R (its own or the item's) becomes C; C stays C; U stays U.
    const strength = (option.strength ?? item.strength) === 'recommended' ? 'consider' : option.strength
    return {
      id: option.id,
      label: option.label,
      ...(strength === undefined ? {} : { strength }),
      detail: option.detail === undefined ? caveat : `${option.detail} ${caveat}`
    }
  })
  return { ...item, options }
}

/** The item at strength C; options that took the item's strength keep the one they had. */
function lowered (item: Recommendation): Recommendation {
  const was: Strength = item.strength
  const options = item.options?.map((option) => (option.strength === undefined ? { ...option, strength: was } : option))
  return { ...item, strength: 'consider', ...(options === undefined ? {} : { options }) }
}

/**
 * The strength of a pass-3 item read from what it still offers after step 3c (CI-06b included):
 * - `considerUnlessOffered` (SYS-12, red-team M14): C when none of those options is still offered
 *   by the item — an urgent or recommended item is lowered, others keep theirs;
 * - red-team L6: an item of strength R whose offered options (at least one) are all C is C — the
 *   item is never stronger than every option it offers. It only lowers; U, A and I items keep their
 *   strength, and `strengthNotCappedByOptions` (BMA-01) is the exception.
 * Items of other passes are returned unchanged (pass-2 filter items keep their strength).
 */
export function adjustStrength (fired: Fired): Fired {
  if (passOf(fired) !== 3) return fired
  const params = paramsOf(fired)
  let item = fired.item
  const offered = (item.options ?? []).filter((option) => isOffered(item, option))
  const unless = params.considerUnlessOffered
  if (unless !== undefined && (item.strength === 'recommended' || item.strength === 'urgent') &&
    !offered.some((option) => unless.includes(option.id))) {
    item = lowered(item)
  }
  if (item.strength === 'recommended' && params.strengthNotCappedByOptions !== true && offered.length > 0 &&
    offered.every((option) => (option.strength ?? item.strength) === 'consider')) {
    item = lowered(item)
  }
  return withItem(fired, item)
}
