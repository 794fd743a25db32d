import type { Case } from '../schemas/case.js'
import type { ErStatus, Her2Status } from '../schemas/common.js'

/**
 * Stage, HER2 and ER classification (spec/clinical-rules.md Part 1, "Derived facts").
 * Pure functions of the validated case.
 */

/** ISH result as the HER2 algorithm reads it: a named result other than not_done, an ASCO/CAP 2018 group 1–5, or none. */
export type IshReading = Exclude<NonNullable<Case['tumor']['her2IshResult']>, 'not_done'> | 1 | 2 | 3 | 4 | 5 | 'none'

/** A distant metastasis means stage IV whatever the presentation says (AJCC 8th). */
export function isMetastatic (disease: Case['disease']): boolean {
  return disease.metastaticSites.length > 0 ||
    disease.ajcc?.m === 'M1' ||
    disease.presentation === 'de_novo_metastatic' ||
    disease.presentation === 'recurrent_metastatic'
}

/**
 * ASCO/CAP 2018 dual-probe ISH group from ratio and mean copy number.
 * @see spec/clinical-rules.md "her2Status"
 */
export function ishGroup (ratio: number, copies: number): 1 | 2 | 3 | 4 | 5 {
  if (ratio >= 2.0) return copies >= 4.0 ? 1 : 2
  if (copies >= 6.0) return 3
  if (copies >= 4.0) return 4
  return 5
}

/** A named ISH result (other than not_done) decides; without it, ratio and copy number give the group. */
export function readIsh (tumor: Case['tumor']): IshReading {
  const result = tumor.her2IshResult
  if (result !== undefined && result !== 'not_done') return result
  if (tumor.her2IshRatio !== undefined && tumor.her2IshCopyNumber !== undefined) {
    return ishGroup(tumor.her2IshRatio, tumor.her2IshCopyNumber)
  }
  return 'none'
}

export function her2Status (tumor: Case['tumor']): Her2Status {
  const ihc = tumor.her2Ihc
  const ish = readIsh(tumor)
  // ISH amplified / group 1 is positive on its own, whatever the IHC.
  if (ihc === '3+' || ish === 'amplified' || ish === 1) return 'positive'
  if (ihc === '0' || ihc === '1+') return 'negative'
  if (ihc === '2+') {
    if (ish === 3) return 'positive'
    if (ish === 'not_amplified' || ish === 2 || ish === 4 || ish === 5) return 'negative'
    return 'equivocal'
  }
  // IHC not done: ISH alone decides.
  if (ish === 'not_amplified' || ish === 5) return 'negative'
  if (ish === 'none') return 'unknown'
  // ISH equivocal, or groups 2–4, cannot be resolved without IHC. Group 3 lands here too.
  return 'equivocal'
}

/** negative < 1 %, low 1–10 %, positive > 10 %. */
export function erStatus (erPercent: number): ErStatus {
  if (erPercent < 1) return 'negative'
  if (erPercent <= 10) return 'low'
  return 'positive'
}

/** Corrected calcium above 10.5 mg/dL (2.62 mmol/L). */
type CorrectedCalcium = Case['patient']['correctedCalcium']
export const HYPERCALCAEMIA_SEVERITIES = ['mild', 'moderate', 'severe'] as const
export type HypercalcaemiaSeverity = typeof HYPERCALCAEMIA_SEVERITIES[number]

/**
 * Calcium thresholds in each unit as the specification writes them. Compared in the unit received,
 * never after converting (1 mmol/L = 4.008 mg/dL; the mmol/L cut-offs are the rounded conventional
 * values), so that a value on a boundary is read as the clinician wrote it.
 */
const CALCIUM_LIMITS = {
  'mg/dL': { high: 10.5, moderate: 12, severe: 14, low: 8.5 },
  'mmol/L': { high: 2.62, moderate: 3.0, severe: 3.5, low: 2.12 }
} as const

export function isHypercalcaemic (calcium: CorrectedCalcium): boolean {
  return calcium !== undefined && calcium.value > CALCIUM_LIMITS[calcium.unit].high
}

/** With hypercalcaemia: severe ≥ 14 mg/dL (≥ 3.5 mmol/L), moderate ≥ 12 (≥ 3.0), else mild; boundaries inclusive. */
export function hypercalcaemiaSeverity (calcium: CorrectedCalcium): HypercalcaemiaSeverity | null {
  if (calcium === undefined || !isHypercalcaemic(calcium)) return null
  const limits = CALCIUM_LIMITS[calcium.unit]
  if (calcium.value >= limits.severe) return 'severe'
  return calcium.value >= limits.moderate ? 'moderate' : 'mild'
}

/** Corrected calcium below this service's lower limit of normal, 8.5 mg/dL (2.12 mmol/L). */
export function isHypocalcaemic (calcium: CorrectedCalcium): boolean {
  return calcium !== undefined && calcium.value < CALCIUM_LIMITS[calcium.unit].low
}
