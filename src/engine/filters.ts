import type { Her2Status, OptionId } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import { paramsOf, passOf, withItem, type Fired } from './fired.js'
import { HER2_OPTIONS, isOffered } from './options.js'

/**
 * The safety filters of pass 2 and what they do to the other items (steps 3b–3d).
 * @see spec/clinical-rules.md Part 1 "Evaluation passes" and the closing paragraph of "Data gaps"
 */

type Option = NonNullable<Recommendation['options']>[number]

/** A safety filter: the code that forbids, what it forbids, and the codes it does not filter. */
export interface SafetyFilter {
  /** The code named as forbidding (api.md explanations' `forbiddenBy`). */
  code: string
  forbids: readonly OptionId[]
  /** The one structural exemption (red-team H2/H8): BMA-05 does not filter SUP-01. */
  doesNotFilter: readonly string[]
}

/** Who forbids what: each forbidden option with the filters that forbid it, in pipeline order. */
export type ForbiddenOptions = ReadonlyMap<OptionId, readonly SafetyFilter[]>

/** What step 3c took out of an item, and who forbade it (for a later "why not"). */
export interface Removal {
  code: string
  rule: string
  targets?: string[]
  option: OptionId
  forbiddenBy: string[]
}

/**
 * The HER2-status filter of pass 2: with `her2Status` equivocal or unknown, every HER2 option and
 * (r6, point 7) `clinical_trial` are forbidden. CLS-02 is the item that says so (R with `her2_ish`
 * or `her2_testing`), so it is the code named as forbidding.
 */
export const HER2_STATUS_FILTER: SafetyFilter = Object.freeze({
  code: 'CLS-02',
  forbids: Object.freeze([...HER2_OPTIONS, 'clinical_trial' as const]),
  doesNotFilter: Object.freeze([])
})

export function her2StatusFilter (her2Status: Her2Status): SafetyFilter | undefined {
  return her2Status === 'equivocal' || her2Status === 'unknown' ? HER2_STATUS_FILTER : undefined
}

/** A pass-2 item as a filter: it forbids the options it marks avoid (its offered alternatives are not forbidden). */
export function filterOf (fired: Fired): SafetyFilter {
  const { item } = fired
  return {
    code: item.code,
    forbids: (item.options ?? []).filter((option) => !isOffered(item, option)).map((option) => option.id),
    doesNotFilter: paramsOf(fired).doesNotFilter ?? []
  }
}

/** The filters in force: every pass-2 item, then the HER2-status filter when HER2 is unresolved. */
export function safetyFilters (pass2: readonly Fired[], her2Status: Her2Status): SafetyFilter[] {
  const her2 = her2StatusFilter(her2Status)
  return [...pass2.map(filterOf), ...(her2 === undefined ? [] : [her2])]
}

export function forbiddenMap (filters: readonly SafetyFilter[]): ForbiddenOptions {
  const map = new Map<OptionId, SafetyFilter[]>()
  for (const filter of filters) {
    for (const id of filter.forbids) {
      const by = map.get(id)
      if (by === undefined) map.set(id, [filter])
      else if (!by.includes(filter)) by.push(filter)
    }
  }
  return map
}

/**
 * Who forbids what, as codes (each once, in pipeline order): the summary a "why not" reads. An item
 * whose code a filter exempts is not filtered by it; `Removal.forbiddenBy` gives the codes that
 * applied to each removal.
 */
export function forbiddingCodes (forbidden: ForbiddenOptions): Map<OptionId, string[]> {
  const codes = new Map<OptionId, string[]>()
  for (const [id, filters] of forbidden) codes.set(id, [...new Set(filters.map((filter) => filter.code))])
  return codes
}

/**
 * The codes that forbid `option` in an item of code `code`: every filter that forbids it, less those
 * that exempt that code (BMA-05 for SUP-01). Empty when the item may offer the option.
 */
export function forbiddenBy (forbidden: ForbiddenOptions, option: OptionId, code: string): string[] {
  const filters = forbidden.get(option)
  if (filters === undefined) return []
  const codes: string[] = []
  for (const filter of filters) {
    if (!filter.doesNotFilter.includes(code) && !codes.includes(filter.code)) codes.push(filter.code)
  }
  return codes
}

/**
 * Step 3b. A filter with `onlyWhenAvoidedOptionProposed` (CI-06b) stays only when a pass-3 item
 * proposes one of its avoided options with an effective strength other than avoid AND no other
 * filter would remove that option from that item ("a capecitabine option would otherwise be
 * offered": when CI-01, CI-03, CI-05 or the HER2-status filter already removes every proposed
 * capecitabine option, CI-06b does not fire — that filter's item already lists them). A filter that
 * does not stay forbids nothing either. Returns the pass-2 items that stay.
 * @see spec/clinical-rules.md Part 1, CI-06b row and "Evaluation passes" (b); Revision 6 (b)
 */
export function decideConditionalFilters (pass2: readonly Fired[], her2Status: Her2Status, proposed: readonly Fired[]): Fired[] {
  if (!pass2.some((fired) => paramsOf(fired).onlyWhenAvoidedOptionProposed === true)) return [...pass2]
  const filters = safetyFilters(pass2, her2Status)
  return pass2.filter((fired, i) => {
    if (paramsOf(fired).onlyWhenAvoidedOptionProposed !== true) return true
    const own = filters[i] as SafetyFilter
    const others = forbiddenMap(filters.filter((filter) => filter !== own))
    return proposed.some(({ item }) => (item.options ?? []).some((option) =>
      own.forbids.includes(option.id) && isOffered(item, option) && forbiddenBy(others, option.id, item.code).length === 0))
  })
}

/**
 * Steps 3c and 3d. (c) Every forbidden option leaves every item that offers it — the alternatives
 * of the pass-2 items included (CI-01's `endocrine_therapy` leaves CI-01 when CI-05 forbids it) —
 * unless the forbidding filter exempts the item's code (BMA-05 and SUP-01); an option whose
 * effective strength is avoid stays: that is how an item says what not to do. (d) An item of pass 3
 * that offered at least one option and offers none after (c) is dropped; items that never offered
 * an option stay. The same step after pass 4 (the Data-gaps paragraph: no other code offers a
 * forbidden option) drops a pass-4 item emptied the same way. Items of passes 1 and 2 are never
 * dropped here: a filter's card must stay while its forbids act, and (d) names pass 3 only.
 * What was removed is appended to `removals`.
 */
export function applyForbidden (fired: readonly Fired[], forbidden: ForbiddenOptions, removals: Removal[]): Fired[] {
  if (forbidden.size === 0) return [...fired]
  const kept: Fired[] = []
  for (const entry of fired) {
    const { item } = entry
    if (item.options === undefined) {
      kept.push(entry)
      continue
    }
    let removed = false
    const options = item.options.filter((option) => {
      if (!isOffered(item, option)) return true
      const by = forbiddenBy(forbidden, option.id, item.code)
      if (by.length === 0) return true
      removals.push({ code: item.code, rule: item.rule.id, ...(item.targets === undefined ? {} : { targets: item.targets }), option: option.id, forbiddenBy: by })
      removed = true
      return false
    })
    if (!removed) {
      kept.push(entry)
    } else if (passOf(entry) >= 3 && !options.some((option) => isOffered(item, option))) {
      continue
    } else {
      kept.push(withItem(entry, withOptions(item, options)))
    }
  }
  return kept
}

/** The item with these options (no `options` member when none is left: responses carry no empty arrays). */
function withOptions (item: Recommendation, options: Option[]): Recommendation {
  if (options.length > 0) return { ...item, options }
  const { options: _options, ...rest } = item
  return rest
}
