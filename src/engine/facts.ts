import type { z } from 'zod'
import type { Case } from '../schemas/case.js'
import type { Assessment, Warning } from '../schemas/recommendation.js'
import type { BoneLesionFactName, CaseFactName, FactValues, SpineLesionFactName } from './fact-specs.js'
import { erStatus, her2Status, hypercalcaemiaSeverity, isHypercalcaemic, isHypocalcaemic, isMetastatic } from './classification.js'
import {
  currentAgents, daysBetween, HER2_ANTIBODY_ADC_AGENTS, hasAntiHer2, lastLine, monthsSinceLastAntiHer2, priorAgents,
  progressedAgents, treatmentDecision
} from './history.js'
import { assessSpine, bilskyRank, isHighGradeCompression, sinsScore } from './spine.js'

/**
 * deriveFacts: the validated case → every fact of the catalogue, computed once before any
 * ruleset runs. Pure; "today" is the evaluation date passed in.
 * @see spec/clinical-rules.md Part 1 "Derived facts"
 */

/** Every case-level fact, each of the type its catalogue spec declares. */
export type CaseFacts = FactValues<CaseFactName>
export type SpineLesionFacts = FactValues<SpineLesionFactName>
export type BoneLesionFacts = FactValues<BoneLesionFactName>

/** A warning about the case, as the response's `warnings` carry it. */
export type EngineWarning = z.infer<typeof Warning>

export interface DerivedCase {
  evaluationDate: string
  facts: CaseFacts
  /** One fact set per spine lesion, in the order of the case, with the target label. */
  spineLesions: Array<{ target: string, facts: SpineLesionFacts }>
  boneLesions: Array<{ target: string, facts: BoneLesionFacts }>
  assessment: Assessment
  warnings: EngineWarning[]
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value)

export function deriveFacts (input: Case, evaluationDate: string): DerivedCase {
  const { patient, tumor, disease } = input
  const history = input.history
  const lines = history?.metastaticLines ?? []
  const early = history?.earlyStageTherapy ?? []
  const brain = disease.brain
  const sites = disease.metastaticSites

  const metastatic = isMetastatic(disease)
  const stageReclassified = metastatic && (disease.presentation === 'early' || disease.presentation === 'locally_advanced')
  const her2 = her2Status(tumor)
  const er = erStatus(tumor.erPercent)
  const inScope = metastatic && (her2 === 'positive' || her2 === 'equivocal')
  const performanceEcog = patient.ecogBeforeDeficit ?? patient.ecog

  const months = monthsSinceLastAntiHer2(input, evaluationDate)
  const earlyRelapse = months !== null && months <= 12
  const last = lastLine(lines)
  const decision = treatmentDecision(last, disease.extracranialStatus)
  // A line stopped for toxicity while controlled continues with another partner (toxicity_switch).
  const current = decision === 'continue_line' || decision === 'toxicity_switch' ? last : undefined
  const priorHer2Lines = lines.filter((line) => hasAntiHer2(line.agents)).length
  const lineOfTherapy = Math.max(1, priorHer2Lines + (earlyRelapse ? 1 : 0) + (decision === 'start_line' ? 1 : 0))

  const cnsMetastases = brain?.present === true || brain?.leptomeningeal === true || sites.includes('brain') || sites.includes('leptomeningeal')
  const oligometastatic = disease.totalMetastaticLesions !== undefined &&
    disease.totalMetastaticLesions >= 1 && disease.totalMetastaticLesions <= 5 && !cnsMetastases
  const survival = patient.estimatedSurvivalMonths
  const comfortCare = input.preferences?.goalsOfCare === 'comfort_focused' || (survival !== undefined && survival < 3)
  const intensiveTherapyAppropriate = performanceEcog <= 2 && !comfortCare
  const pregnant = patient.pregnant === true
  const her2TherapyPlanned = inScope && her2 === 'positive' && !pregnant &&
    (decision === 'start_line' || (current !== undefined && hasAntiHer2(current.agents)))

  const spine = assessSpine(input, performanceEcog)
  const spineLesions = disease.spineLesions ?? []
  const bma = history?.boneModifyingAgent
  const ildGrades = lines.flatMap((line) => (line.maxIldGrade === undefined ? [] : [line.maxIldGrade]))
  const lvefFall = patient.lvefPercent !== undefined && patient.lvefBaselinePercent !== undefined
    ? patient.lvefBaselinePercent - patient.lvefPercent
    : null
  const agentsPrior = priorAgents(history)
  const progressed = progressedAgents(lines, disease.extracranialStatus)

  const facts: CaseFacts = {
    metastatic,
    stage: metastatic ? 'IV' : 'non_metastatic',
    stageReclassified,
    her2Status: her2,
    her2Ihc: tumor.her2Ihc,
    her2Source: orNull(tumor.her2Source),
    erStatus: er,
    receptorDiscordance: orNull(tumor.receptorDiscordance),
    inScope,
    jurisdiction: input.context?.jurisdiction ?? 'other',
    presentation: disease.presentation,
    metastaticSites: [...sites],
    sex: patient.sex,
    ageYears: patient.ageYears,
    ecog: patient.ecog,
    performanceEcog,
    menopausalStatus: orNull(patient.menopausalStatus),
    pregnant: orNull(patient.pregnant),
    gestationalWeeks: orNull(patient.gestationalWeeks),
    surgicalCandidate: orNull(patient.surgicalCandidate),
    estimatedSurvivalMonths: orNull(survival),
    lvefPercent: orNull(patient.lvefPercent),
    lvefBaselinePercent: orNull(patient.lvefBaselinePercent),
    lvefFallPoints: lvefFall,
    heartFailureSymptoms: orNull(patient.heartFailureSymptoms),
    ildHistory: orNull(patient.ildHistory),
    maxIldGrade: ildGrades.length > 0 ? Math.max(...ildGrades) : null,
    creatinineClearanceMlMin: orNull(patient.creatinineClearanceMlMin),
    hypercalcaemia: isHypercalcaemic(patient.correctedCalcium),
    hypercalcaemiaSeverity: hypercalcaemiaSeverity(patient.correctedCalcium),
    hypocalcaemia: isHypocalcaemic(patient.correctedCalcium),
    hypercalcaemiaSymptoms: orNull(patient.hypercalcaemiaSymptoms),
    vitaminD25OHNgMl: orNull(patient.vitaminD25OHNgMl),
    dentalStatus: orNull(patient.dentalStatus),
    dpydStatus: patient.dpydStatus ?? 'not_tested',
    intensiveTherapyAppropriate,
    comfortCare,
    declinesChemotherapy: orNull(input.preferences?.declinesChemotherapy),
    goalsOfCare: orNull(input.preferences?.goalsOfCare),
    asksAboutPrimarySurgery: orNull(input.preferences?.asksAboutPrimarySurgery),
    visceralCrisis: orNull(disease.visceralCrisis),
    brainSymptoms: orNull(disease.brainSymptoms),
    extracranialStatus: orNull(disease.extracranialStatus),
    primaryIntact: orNull(disease.primaryIntact),
    primarySymptomatic: (disease.primarySymptoms ?? []).length > 0,
    totalMetastaticLesions: orNull(disease.totalMetastaticLesions),
    oligometastatic,
    neuroDeficitSign: orNull(disease.neuro?.deficit),
    neuroDeficit: spine.neuroDeficit,
    suspectedMscc: spine.suspectedMscc,
    deficitLevels: spine.deficitLevels,
    spinalCordCompression: spine.spinalCordCompression,
    spinalInstability: spine.spinalInstability,
    mesccSurgical: spine.mesccSurgical,
    highGradeCompressionLevels: spine.highGradeLevels,
    highGradeCompressionPriorRt: spineLesions.some((lesion) => isHighGradeCompression(lesion) && lesion.priorRt !== undefined),
    spineLesionCount: spineLesions.length,
    painfulSpineLesion: spineLesions.some((lesion) => (lesion.painNrs ?? 0) >= 1),
    brainPresent: brain?.present === true,
    brainCount: orNull(brain?.count),
    brainMaxDiameterCm: orNull(brain?.maxDiameterCm),
    brainSymptomatic: orNull(brain?.symptomatic),
    brainMassEffect: orNull(brain?.massEffect),
    brainStatus: orNull(brain?.status),
    brainPriorRtTechnique: orNull(brain?.priorRt?.technique),
    leptomeningeal: brain?.leptomeningeal === true || sites.includes('leptomeningeal'),
    cnsMetastases,
    monthsSinceLastAntiHer2: months,
    earlyRelapse,
    earlyStageAgents: [...new Set(early.flatMap((entry) => entry.agents))].sort(),
    earlyStageAntiHer2: early.some((entry) => hasAntiHer2(entry.agents)),
    earlyStageHer2AntibodyAdc: early.some((entry) => entry.agents.some((agent) => HER2_ANTIBODY_ADC_AGENTS.has(agent))),
    metastaticLineCount: lines.length,
    priorHer2Lines,
    lastLineNumber: orNull(last?.lineNumber),
    lastLineAgents: last?.agents ?? [],
    lastLineOutcome: orNull(last?.outcome),
    lastLineProgressionPattern: orNull(last?.progressionPattern),
    lastLineHasHer2AntibodyAdc: (last?.agents ?? []).some((agent) => HER2_ANTIBODY_ADC_AGENTS.has(agent)),
    lastLineToxicAgents: last?.toxicAgents ?? [],
    lastLineToxicAgentsRecorded: last?.toxicAgents !== undefined,
    lastLineDurationDays: last?.startDate !== undefined && last.endDate !== undefined ? daysBetween(last.startDate, last.endDate) : null,
    treatmentDecision: decision,
    lineOfTherapy,
    priorAgents: agentsPrior,
    currentLineNumber: orNull(current?.lineNumber),
    currentLineAgents: current?.agents ?? [],
    currentAgents: currentAgents(current, decision),
    progressedAgents: progressed,
    her2TherapyPlanned,
    onBma: bma !== undefined && bma.agent !== 'none',
    bmaAgent: orNull(bma?.agent),
    bmaComplications: bma?.complications ?? []
  }

  const spineLesionFacts = spineLesions.map((lesion, i) => {
    const rtAfterSurgery = lesion.priorRt?.date !== undefined && lesion.surgery?.date !== undefined &&
      lesion.priorRt.date > lesion.surgery.date
    // An undated course may itself have been the postoperative RT: it counts as given before surgery.
    const rtBeforeSurgery = lesion.priorRt !== undefined && !rtAfterSurgery
    const lesionFacts: SpineLesionFacts = {
      lesionLevel: lesion.level,
      lesionSins: sinsScore(lesion),
      lesionBilsky: orNull(lesion.bilsky),
      lesionBilskyRank: bilskyRank(lesion.bilsky),
      lesionPainNrs: orNull(lesion.painNrs),
      lesionPainType: orNull(lesion.painType),
      lesionPathologicFracture: orNull(lesion.pathologicFracture),
      lesionContiguousLevels: orNull(lesion.contiguousLevels),
      lesionPriorRt: lesion.priorRt !== undefined,
      lesionSurgeryType: orNull(lesion.surgery?.type),
      lesionRtAfterSurgery: rtAfterSurgery,
      lesionSpinalRtOption: lesion.priorRt !== undefined ? 'reirradiation' : 'ebrt',
      lesionPostopRtOption: rtBeforeSurgery ? 'reirradiation' : 'postoperative_rt',
      lesionRtSurgeryUndated: lesion.priorRt !== undefined && lesion.surgery !== undefined &&
        (lesion.priorRt.date === undefined || lesion.surgery.date === undefined),
      lesionDeficit: spine.lesionDeficit[i] === true
    }
    return { target: lesion.level, facts: lesionFacts }
  })

  const boneLesionFacts = (disease.nonSpineBoneLesions ?? []).map((lesion) => {
    const lesionFacts: BoneLesionFacts = {
      boneSite: lesion.site,
      bonePainNrs: orNull(lesion.painNrs),
      boneMirelsScore: orNull(lesion.mirelsScore),
      bonePathologicFracture: orNull(lesion.pathologicFracture),
      bonePriorRt: lesion.priorRt !== undefined
    }
    return { target: lesion.site, facts: lesionFacts }
  })

  const assessment: Assessment = {
    stage: metastatic ? 'IV' : 'non_metastatic',
    stageReclassified,
    her2Status: her2,
    erStatus: er,
    lineOfTherapy,
    treatmentDecision: decision,
    ...(months === null ? {} : { monthsSinceLastAntiHer2: months }),
    priorAgents: agentsPrior,
    cnsMetastases,
    spinalCordCompression: spine.spinalCordCompression,
    spinalInstability: spine.spinalInstability,
    oligometastatic
  }

  return {
    evaluationDate,
    facts,
    spineLesions: spineLesionFacts,
    boneLesions: boneLesionFacts,
    assessment,
    warnings: derivedWarnings(input, metastatic, stageReclassified, spine.unexplainedDeficit)
  }
}

function derivedWarnings (input: Case, metastatic: boolean, stageReclassified: boolean, unexplainedDeficit: boolean): EngineWarning[] {
  const warnings: EngineWarning[] = []
  const disease = input.disease
  if (stageReclassified) {
    warnings.push({
      code: 'STAGE_RECLASSIFIED',
      message: `The presentation says "${disease.presentation}", but a distant metastasis is recorded: this is stage IV (AJCC 8th: any T, any N, M1). "Locally advanced" and metastatic are mutually exclusive.`
    })
  }
  if (disease.ajcc?.m === 'M0' && disease.metastaticSites.length > 0) {
    warnings.push({
      code: 'STAGING_CONFLICT',
      message: 'ajcc.m is M0 but metastatic sites are listed; the case is evaluated as metastatic (stage IV). Check the staging record.'
    })
  }
  if (unexplainedDeficit) {
    warnings.push({
      code: 'NEURO_DEFICIT_UNEXPLAINED',
      message: 'A neurological deficit is recorded but every spine lesion is graded below Bilsky 1c on MRI: look for another cause (brain, leptomeninges, nerve root, non-metastatic).'
    })
  }
  if (!metastatic) {
    warnings.push({
      code: 'NOT_METASTATIC',
      message: 'No distant metastasis is recorded: this service covers metastatic disease only.'
    })
  }
  return warnings
}
