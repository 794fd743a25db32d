import { BILSKY_GRADES, sumSinsComponents, type Case, type NeuroSign } from '../schemas/case.js'
import { SPINE_LEVELS, type SpinalCordCompression, type SpinalInstability, type SpineLevel } from '../schemas/common.js'

/**
 * Spine facts: SINS, Bilsky, cord compression and surgical candidacy for MESCC.
 * @see spec/clinical-rules.md Part 1 "Derived facts"
 */

type SpineLesion = NonNullable<Case['disease']['spineLesions']>[number]
export type SinsCategory = Exclude<SpinalInstability, 'unknown' | 'not_applicable'>

/** The ranks (index in BILSKY_GRADES, as `lesionBilskyRank`) that thresholds compare against: 1c = 3, 2 = 4. */
export const BILSKY_1C_RANK = BILSKY_GRADES.indexOf('1c')
export const BILSKY_2_RANK = BILSKY_GRADES.indexOf('2')

/** Neurological signs that are deficits; radicular pain is a warning symptom, not a deficit. */
const DEFICITS: ReadonlySet<NeuroSign> = new Set<NeuroSign>(['motor_weakness', 'sensory_level', 'sphincter_dysfunction', 'paraplegia'])

export function bilskyRank (grade: SpineLesion['bilsky']): number | null {
  return grade === undefined ? null : BILSKY_GRADES.indexOf(grade)
}

/** `sinsTotal`, or the sum of `sinsComponents` (the schema guarantees the two agree when both are given). */
export function sinsScore (lesion: SpineLesion): number | null {
  if (lesion.sinsTotal !== undefined) return lesion.sinsTotal
  if (lesion.sinsComponents === undefined) return null
  return sumSinsComponents(lesion.sinsComponents)
}

/** 0–6 stable, 7–12 potentially unstable, 13–18 unstable (Fisher 2010). */
export function sinsCategory (score: number): SinsCategory {
  if (score <= 6) return 'stable'
  if (score <= 12) return 'potentially_unstable'
  return 'unstable'
}

/** The worst SINS category; unknown when a lesion lacks SINS and none is unstable. */
export function spinalInstability (lesions: SpineLesion[]): SpinalInstability {
  if (lesions.length === 0) return 'not_applicable'
  const categories = lesions.map((lesion) => {
    const score = sinsScore(lesion)
    return score === null ? null : sinsCategory(score)
  })
  if (categories.includes('unstable')) return 'unstable'
  if (categories.includes(null)) return 'unknown'
  return categories.includes('potentially_unstable') ? 'potentially_unstable' : 'stable'
}

export function levelIndex (level: SpineLevel): number {
  return SPINE_LEVELS.indexOf(level)
}

/**
 * True when the levels lie at one level or at contiguous levels in the order C1…S5
 * (C7–T1, T12–L1 and L5–S1 are neighbours).
 */
export function areContiguous (levels: SpineLevel[]): boolean {
  const indices = [...new Set(levels.map(levelIndex))].sort((a, b) => a - b)
  return indices.every((index, i) => i === 0 || index - (indices[i - 1] as number) === 1)
}

export function isNeuroDeficit (neuro: Case['disease']['neuro']): boolean {
  return neuro !== undefined && DEFICITS.has(neuro.deficit)
}

/** A lesion that could explain a neurological deficit: Bilsky ≥ 1c, or not graded yet. */
export function couldCompressCord (lesion: SpineLesion): boolean {
  const rank = bilskyRank(lesion.bilsky)
  return rank === null || rank >= BILSKY_1C_RANK
}

export function isHighGradeCompression (lesion: SpineLesion): boolean {
  const rank = bilskyRank(lesion.bilsky)
  return rank !== null && rank >= BILSKY_2_RANK
}

export interface SpineAssessment {
  neuroDeficit: boolean
  suspectedMscc: boolean
  /** With a deficit or radicular pain: levels of the lesions that may explain it, in the order the case lists them. */
  deficitLevels: SpineLevel[]
  /** One flag per spine lesion: it may explain a deficit (radicular pain alone never sets it). */
  lesionDeficit: boolean[]
  unexplainedDeficit: boolean
  spinalCordCompression: SpinalCordCompression
  spinalInstability: SpinalInstability
  highGradeLevels: SpineLevel[]
  mesccSurgical: boolean
}

export function assessSpine (input: Case, performanceEcog: number): SpineAssessment {
  const disease = input.disease
  const lesions = disease.spineLesions ?? []
  const neuro = disease.neuro
  const neuroDeficit = isNeuroDeficit(neuro)
  // An absent neuro record is never a symptom (data gap); radicular pain counts among the
  // neurological symptoms of cord compression (NICE NG234), though it is not a deficit.
  const anySign = neuro !== undefined && neuro.deficit !== 'none'

  // Whatever the sites: NICE NG234 applies to any patient with cancer and neurological symptoms.
  const suspectedMscc = anySign && (lesions.some(couldCompressCord) || lesions.length === 0)
  const compressing = lesions.map(couldCompressCord)
  const lesionDeficit = compressing.map((could) => neuroDeficit && could)
  const deficitLevels = anySign ? lesions.filter((_, i) => compressing[i]).map((lesion) => lesion.level) : []
  const unexplainedDeficit = neuroDeficit && lesions.length > 0 && deficitLevels.length === 0

  const highGrade = lesions.filter(isHighGradeCompression)
  const highGradeLevels = highGrade.map((lesion) => lesion.level)
  let spinalCordCompression: SpinalCordCompression = 'none'
  if (neuroDeficit && (deficitLevels.length > 0 || lesions.length === 0)) {
    spinalCordCompression = 'with_neurological_deficit'
  } else if (highGrade.length > 0) {
    spinalCordCompression = 'radiological'
  }

  const survival = input.patient.estimatedSurvivalMonths
  const prognosisAllowsSurgery = survival !== undefined ? survival >= 3 : performanceEcog <= 2
  const longParaplegia = neuro?.deficit === 'paraplegia' && (neuro.paraplegiaDurationHours ?? 0) > 48
  const mesccSurgical = neuroDeficit &&
    highGrade.length > 0 &&
    input.patient.surgicalCandidate !== false &&
    prognosisAllowsSurgery &&
    areContiguous(highGradeLevels) &&
    !longParaplegia

  return {
    neuroDeficit,
    suspectedMscc,
    deficitLevels,
    lesionDeficit,
    unexplainedDeficit,
    spinalCordCompression,
    spinalInstability: spinalInstability(lesions),
    highGradeLevels,
    mesccSurgical
  }
}
