import { z } from 'zod'
import { NON_SPINE_SITES, OptionId, SPINE_LEVELS } from './common.js'

/**
 * The format of `rules/context-adjustments.json`: patient-wide context that the engine applies to
 * every item it affects, so that each card is safe to read on its own (spec/clinical-rules.md,
 * Revision 7). The clinical content — which options, which targets, which words — is data that a
 * clinician reviews like a ruleset; the engine only applies it (src/engine/adjustments.ts).
 */

const Text = z.string().min(1)

/**
 * `pregnancyRt` (spec/clinical-rules.md Part 1, derived facts): when `pregnant`, every radiotherapy
 * option of a pass-3 item with an effective strength of R or C becomes C, an urgent one keeps U, and
 * each carries the fetal-dose caveat; near the uterus (red-team M8) also the second caveat.
 */
export const PregnancyRtAdjustment = z.strictObject({
  /** The radiotherapy option ids. */
  options: z.array(OptionId).min(1),
  /** Targets whose field lies near the uterus: spine levels or non-spine sites. */
  nearUterusTargets: z.array(z.enum([...SPINE_LEVELS, ...NON_SPINE_SITES])).min(1),
  /** Appended to the detail of every offered radiotherapy option in pregnancy. */
  caveat: Text,
  /** Appended after `caveat` when one of the item's targets is in `nearUterusTargets`. */
  nearUterusCaveat: Text
})
export type PregnancyRtAdjustment = z.infer<typeof PregnancyRtAdjustment>

export const ContextAdjustmentsFile = z.strictObject({
  id: z.literal('context-adjustments'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: Text,
  pregnancyRt: PregnancyRtAdjustment
})
export type ContextAdjustmentsFile = z.infer<typeof ContextAdjustmentsFile>
