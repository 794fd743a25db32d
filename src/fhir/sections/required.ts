import type { MappingContext } from '../mapping-context.js'
import type { CasePath } from '../types.js'

/**
 * §6.9 Required `Case` fields. Runs after every section. First it completes the fields that are never
 * missing: `tumor.her2Ihc` (`not_done` plus a gap when no section set it, §6.4 "nothing usable") and
 * `disease.metastaticSites` (the list may be empty). Then it lists the required paths still without
 * a value: 422 case-incomplete on /v1, the data card on CDS Hooks.
 */

/** The required fields that can be missing (§6.9). */
export const REQUIRED_PATHS = ['patient.ageYears', 'patient.sex', 'patient.ecog', 'tumor.erPercent'] as const

/** §6.4 "nothing usable": the gap of a tumour without a HER2 result. */
export const NO_HER2_RESULT = 'no HER2 result in the record'

export function missingRequired (ctx: MappingContext): CasePath[] {
  completeHer2Ihc(ctx)
  const disease = ctx.draft.disease ??= {}
  disease.metastaticSites ??= []
  const missing: CasePath[] = REQUIRED_PATHS.filter((path) => valueAt(ctx.draft, path) === undefined)
  // `presentation` is always derived (§6.8, derived.ts); listing it when absent keeps a section's
  // omission a 422 case-incomplete rather than an unexplained schema failure.
  if (disease.presentation === undefined) missing.push('disease.presentation')
  return missing
}

/**
 * `tumor.her2Ihc` is never missing: when no section set it, `not_done` (HER2 status then `unknown`,
 * and CLS-02 asks for testing). The gap "no HER2 result in the record" is added only when no section
 * recorded why a HER2 result was unusable (their reasons say more).
 */
function completeHer2Ihc (ctx: MappingContext): void {
  const tumor = ctx.draft.tumor ??= {}
  if (tumor.her2Ihc !== undefined) return
  tumor.her2Ihc = 'not_done'
  if ((ctx.gaps['tumor.her2Ihc'] ?? []).length === 0) ctx.gap('tumor.her2Ihc', NO_HER2_RESULT)
}

/** The value at a dotted path without indices (`patient.ecog`). */
function valueAt (draft: object, path: string): unknown {
  let value: unknown = draft
  for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
  return value
}
