import type { OptionId } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import type { FactValues, Pass3FactName, Pass4FactName } from './fact-specs.js'
import type { SafetyFilter } from './filters.js'
import type { Fired } from './fired.js'
import {
  CAPECITABINE_OPTIONS, CNS_ACTIVE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS, HER2_OPTIONS, isOffered,
  SYSTEMIC_DRUG_OPTIONS, SYSTEMIC_OPTIONS, TDM1_OR_TKI_OPTIONS, TDXD_OPTIONS
} from './options.js'

/**
 * The facts that passes 3 and 4 see, as pure functions of what the earlier passes decided. Their
 * return types are records over every pass-3 / pass-4 fact of the catalogue, each of its declared
 * type, so a fact added to the catalogue without a value here (or with one of another type) does
 * not compile.
 * @see spec/clinical-rules.md Part 1 "Evaluation passes"
 */

/**
 * The options of the option-composition table (spec Part 1): the vocabulary's `composition` group.
 * (r6) "A systemic option is an option of this table or `clinical_trial`": SYSTEMIC_OPTIONS is
 * exactly that (test/engine/pass-facts.test.ts holds it).
 */
export const COMPOSITION_OPTIONS: ReadonlySet<OptionId> = SYSTEMIC_DRUG_OPTIONS

const hasAny = (ids: ReadonlySet<OptionId>, set: ReadonlySet<OptionId>): boolean => {
  for (const id of set) if (ids.has(id)) return true
  return false
}

/**
 * Pass-3 facts, from the items of passes 1–2 and the safety filters of pass 2 (the HER2-status
 * filter included). `forbiddenOptions` lists every option a filter forbids before step 3b decides
 * CI-06b: pass-3 rules read what pass 2 decided (decision D7: pass-2 facts only).
 */
export function pass3Facts (early: readonly Fired[], filters: readonly SafetyFilter[]): FactValues<Pass3FactName> {
  const forbidden = new Set<OptionId>()
  for (const filter of filters) for (const id of filter.forbids) forbidden.add(id)
  return {
    firedCodes: early.map(({ item }) => item.code),
    forbiddenOptions: [...forbidden],
    // Every filter that forbids HER2 antibodies (CI-01, CI-03, CI-05, HER2 unresolved) forbids trastuzumab alone.
    her2TherapyForbidden: forbidden.has('trastuzumab_monotherapy')
  }
}

/** The option ids the items offer (effective strength not avoid). */
export function offeredOptionIds (items: readonly Recommendation[]): Set<OptionId> {
  const ids = new Set<OptionId>()
  for (const item of items) {
    for (const option of item.options ?? []) if (isOffered(item, option)) ids.add(option.id)
  }
  return ids
}

/**
 * Pass-4 facts, from the items that passed step 3 (filtered, CI-06b decided), and `firedCodes`
 * rewritten to their codes.
 */
export function pass4Facts (items: readonly Recommendation[]): FactValues<Pass4FactName | 'firedCodes'> {
  const offered = offeredOptionIds(items)
  return {
    firedCodes: items.map((item) => item.code),
    offeredOptions: [...offered],
    offeredSystemicOption: hasAny(offered, SYSTEMIC_OPTIONS),
    offeredCompositionOption: hasAny(offered, COMPOSITION_OPTIONS),
    offeredHer2Option: hasAny(offered, HER2_OPTIONS),
    offeredHer2AntibodyAdcOption: hasAny(offered, HER2_ANTIBODY_ADC_OPTIONS),
    offeredTdxdOption: hasAny(offered, TDXD_OPTIONS),
    offeredCapecitabineOption: hasAny(offered, CAPECITABINE_OPTIONS),
    offeredTdm1OrTkiOption: hasAny(offered, TDM1_OR_TKI_OPTIONS),
    offeredCnsActiveOption: hasAny(offered, CNS_ACTIVE_OPTIONS)
  }
}
