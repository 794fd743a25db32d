import {
  AGENTS, ER_STATUSES, HER2_STATUSES, NON_SPINE_SITES, OPTION_IDS, SPINAL_CORD_COMPRESSIONS, SPINAL_INSTABILITIES, SPINE_LEVELS, STAGES,
  TREATMENT_DECISIONS, type RuleScope
} from '../schemas/common.js'
import {
  BILSKY_GRADES, BMA_AGENTS, BMA_COMPLICATIONS, BRAIN_RT_TECHNIQUES, BRAIN_STATUSES, DENTAL_STATUSES, DPYD_STATUSES, EXTRACRANIAL_STATUSES,
  GOALS_OF_CARE, HEART_FAILURE_CLASSES, HER2_IHC_SCORES, HER2_SOURCES, ILD_HISTORIES, JURISDICTIONS, LINE_OUTCOMES, MENOPAUSAL_STATUSES,
  METASTATIC_SITES, NEURO_SIGNS, PAIN_TYPES, PRESENTATIONS, PROGRESSION_PATTERNS, SEXES, SPINE_SURGERY_TYPES
} from '../schemas/case.js'
import { HYPERCALCAEMIA_SEVERITIES } from './classification.js'

/**
 * Every fact a rule may test, with its type, its possible values and when it becomes available.
 * The rule loader rejects a condition on a fact that is not here, a value outside `values`, or a
 * fact that a rule's pass cannot see yet (pass 3 facts describe what passes 1–2 decided; pass 4
 * facts describe the filtered output of pass 3). Missing case data is `null`, never a default.
 * @see spec/clinical-rules.md Part 1 "Derived facts" and "Evaluation passes"
 */

export type FactType = 'boolean' | 'number' | 'string' | 'string[]'
export type FactScope = RuleScope
export interface FactSpec {
  type: FactType
  /** Null is a possible value (the case lacked the data). */
  nullable?: true
  /** The allowed string values (for string facts) or element values (for string[] facts). */
  values?: readonly string[]
  /** The first evaluation pass that can see the fact (1 when absent). */
  pass?: 3 | 4
  scope?: Exclude<FactScope, 'case'>
  description: string
}

// The helpers keep their literal types: FactValueOf reads a fact's TypeScript type from its spec.
const YES_NO = { type: 'boolean' } as const
const nullableBoolean = (description: string) => ({ type: 'boolean', nullable: true, description }) as const
const nullableNumber = (description: string) => ({ type: 'number', nullable: true, description }) as const
const nullableEnum = <const V extends readonly string[]>(values: V, description: string) => ({ type: 'string', nullable: true, values, description }) as const

export const FACTS = {
  // --- classification
  metastatic: { ...YES_NO, description: 'metastaticSites non-empty, ajcc.m M1, or a *_metastatic presentation.' },
  stage: { type: 'string', values: STAGES, description: 'IV when metastatic.' },
  stageReclassified: { ...YES_NO, description: 'presentation early/locally_advanced while metastatic.' },
  her2Status: { type: 'string', values: HER2_STATUSES, description: 'ASCO/CAP 2018 reading of IHC and ISH.' },
  her2Ihc: { type: 'string', values: HER2_IHC_SCORES, description: 'tumor.her2Ihc.' },
  her2Source: nullableEnum(HER2_SOURCES, 'tumor.her2Source.'),
  erStatus: { type: 'string', values: ER_STATUSES, description: 'negative < 1 %, low 1–10 %, positive > 10 %.' },
  receptorDiscordance: nullableBoolean('tumor.receptorDiscordance.'),
  inScope: { ...YES_NO, description: 'metastatic and HER2 positive or equivocal.' },
  jurisdiction: { type: 'string', values: JURISDICTIONS, description: 'context.jurisdiction (default other).' },
  presentation: { type: 'string', values: PRESENTATIONS, description: 'disease.presentation.' },
  metastaticSites: { type: 'string[]', values: METASTATIC_SITES, description: 'disease.metastaticSites.' },
  // --- patient
  sex: { type: 'string', values: SEXES, description: 'patient.sex.' },
  ageYears: { type: 'number', description: 'patient.ageYears.' },
  ecog: { type: 'number', description: 'patient.ecog (now).' },
  performanceEcog: { type: 'number', description: 'ecogBeforeDeficit when given, else ecog.' },
  menopausalStatus: nullableEnum(MENOPAUSAL_STATUSES, 'patient.menopausalStatus.'),
  pregnant: nullableBoolean('patient.pregnant (null when not recorded; rules treat it as not pregnant).'),
  gestationalWeeks: nullableNumber('patient.gestationalWeeks (completed weeks; first trimester < 14, second 14–27, third ≥ 28).'),
  surgicalCandidate: nullableBoolean('patient.surgicalCandidate.'),
  estimatedSurvivalMonths: nullableNumber('patient.estimatedSurvivalMonths.'),
  lvefPercent: nullableNumber('patient.lvefPercent.'),
  lvefBaselinePercent: nullableNumber('patient.lvefBaselinePercent.'),
  lvefFallPoints: nullableNumber('lvefBaselinePercent − lvefPercent, when both are known.'),
  heartFailureSymptoms: nullableEnum(HEART_FAILURE_CLASSES, 'patient.heartFailureSymptoms.'),
  ildHistory: nullableEnum(ILD_HISTORIES, 'patient.ildHistory.'),
  maxIldGrade: nullableNumber('The worst maxIldGrade over metastatic lines.'),
  creatinineClearanceMlMin: nullableNumber('patient.creatinineClearanceMlMin.'),
  hypercalcaemia: { ...YES_NO, description: 'Corrected calcium > 10.5 mg/dL (> 2.62 mmol/L).' },
  hypercalcaemiaSeverity: nullableEnum(HYPERCALCAEMIA_SEVERITIES, 'With hypercalcaemia: severe ≥ 14 mg/dL (≥ 3.5 mmol/L), moderate ≥ 12 (≥ 3.0), else mild; compared in the unit received; null without hypercalcaemia.'),
  hypocalcaemia: { ...YES_NO, description: 'Corrected calcium < 8.5 mg/dL (< 2.12 mmol/L), compared in the unit received.' },
  hypercalcaemiaSymptoms: nullableBoolean('patient.hypercalcaemiaSymptoms (null: not recorded, counts as asymptomatic).'),
  vitaminD25OHNgMl: nullableNumber('patient.vitaminD25OHNgMl.'),
  dentalStatus: nullableEnum(DENTAL_STATUSES, 'patient.dentalStatus.'),
  dpydStatus: { type: 'string', values: DPYD_STATUSES, description: 'patient.dpydStatus; absent counts as not_tested.' },
  intensiveTherapyAppropriate: { ...YES_NO, description: 'performanceEcog ≤ 2, goals not comfort-focused, and not estimated survival < 3 months.' },
  comfortCare: { ...YES_NO, description: 'goalsOfCare comfort_focused, or estimated survival < 3 months.' },
  declinesChemotherapy: nullableBoolean('preferences.declinesChemotherapy.'),
  goalsOfCare: nullableEnum(GOALS_OF_CARE, 'preferences.goalsOfCare.'),
  asksAboutPrimarySurgery: nullableBoolean('preferences.asksAboutPrimarySurgery.'),
  // --- disease
  visceralCrisis: nullableBoolean('disease.visceralCrisis.'),
  brainSymptoms: nullableBoolean('disease.brainSymptoms.'),
  extracranialStatus: nullableEnum(EXTRACRANIAL_STATUSES, 'disease.extracranialStatus.'),
  primaryIntact: nullableBoolean('disease.primaryIntact.'),
  primarySymptomatic: { ...YES_NO, description: 'disease.primarySymptoms is non-empty.' },
  totalMetastaticLesions: nullableNumber('disease.totalMetastaticLesions.'),
  oligometastatic: { ...YES_NO, description: '1–5 metastatic lesions and no CNS disease.' },
  // --- spine
  neuroDeficitSign: nullableEnum(NEURO_SIGNS, 'disease.neuro.deficit (null when neuro is not recorded).'),
  neuroDeficit: { ...YES_NO, description: 'motor weakness, sensory level, sphincter dysfunction or paraplegia.' },
  suspectedMscc: { ...YES_NO, description: 'a neurological sign (radicular pain included) with a spine lesion Bilsky ≥ 1c or ungraded, or bone disease without a recorded spine lesion.' },
  deficitLevels: { type: 'string[]', values: SPINE_LEVELS, description: 'With a deficit: the spine lesions with Bilsky ≥ 1c or ungraded.' },
  spinalCordCompression: { type: 'string', values: SPINAL_CORD_COMPRESSIONS, description: 'See the assessment.' },
  spinalInstability: { type: 'string', values: SPINAL_INSTABILITIES, description: 'Worst SINS category.' },
  mesccSurgical: { ...YES_NO, description: 'Deficit from Bilsky 2/3 at one or contiguous levels, operable, prognosis ≥ 3 months (or ECOG ≤ 2), not paraplegic > 48 h.' },
  highGradeCompressionLevels: { type: 'string[]', values: SPINE_LEVELS, description: 'Levels of the spine lesions with Bilsky 2 or 3.' },
  highGradeCompressionPriorRt: { ...YES_NO, description: 'A spine lesion with Bilsky 2 or 3 has had radiotherapy: the radiotherapy after decompression there (LOC-02) is re-irradiation.' },
  spineLesionCount: { type: 'number', description: 'Number of recorded spine lesions.' },
  painfulSpineLesion: { ...YES_NO, description: 'A spine lesion has painNrs ≥ 1.' },
  // --- brain
  brainPresent: { ...YES_NO, description: 'disease.brain.present.' },
  brainCount: nullableNumber('disease.brain.count.'),
  brainMaxDiameterCm: nullableNumber('disease.brain.maxDiameterCm.'),
  brainSymptomatic: nullableBoolean('disease.brain.symptomatic.'),
  brainMassEffect: nullableBoolean('disease.brain.massEffect.'),
  brainStatus: nullableEnum(BRAIN_STATUSES, 'disease.brain.status.'),
  brainPriorRtTechnique: nullableEnum(BRAIN_RT_TECHNIQUES, 'disease.brain.priorRt.technique (the latest brain radiotherapy).'),
  leptomeningeal: { ...YES_NO, description: 'brain.leptomeningeal, or "leptomeningeal" among the sites.' },
  cnsMetastases: { ...YES_NO, description: 'Brain or leptomeningeal disease (never bone or epidural).' },
  // --- history
  monthsSinceLastAntiHer2: nullableNumber('Months (1 decimal) from the last early-stage anti-HER2 dose to the metastatic diagnosis.'),
  earlyRelapse: { ...YES_NO, description: 'monthsSinceLastAntiHer2 ≤ 12.' },
  earlyStageAgents: { type: 'string[]', values: AGENTS, description: 'Agents of every early-stage entry.' },
  earlyStageAntiHer2: { ...YES_NO, description: 'An early-stage entry contains an anti-HER2 agent.' },
  earlyStageHer2AntibodyAdc: { ...YES_NO, description: 'An early-stage entry contains trastuzumab, pertuzumab, T-DM1, T-DXd or margetuximab.' },
  metastaticLineCount: { type: 'number', description: 'Number of metastatic lines recorded.' },
  priorHer2Lines: { type: 'number', description: 'Metastatic lines containing an anti-HER2 agent.' },
  lastLineNumber: nullableNumber('lineNumber of the last metastatic line.'),
  lastLineAgents: { type: 'string[]', values: AGENTS, description: 'Agents of the last metastatic line (empty when none).' },
  lastLineOutcome: nullableEnum(LINE_OUTCOMES, 'Outcome of the last metastatic line.'),
  lastLineProgressionPattern: nullableEnum(PROGRESSION_PATTERNS, 'progressionPattern of the last line.'),
  lastLineHasHer2AntibodyAdc: { ...YES_NO, description: 'The last line contains trastuzumab, pertuzumab, T-DM1, T-DXd or margetuximab.' },
  lastLineToxicAgents: { type: 'string[]', values: AGENTS, description: 'toxicAgents of the last metastatic line (empty when not recorded).' },
  lastLineToxicAgentsRecorded: { ...YES_NO, description: 'The last metastatic line records its toxicAgents.' },
  lastLineDurationDays: nullableNumber('Days from startDate to endDate of the last metastatic line (null when either is absent).'),
  treatmentDecision: { type: 'string', values: TREATMENT_DECISIONS, description: 'start_line: a new line is chosen; continue_line: the current line continues; toxicity_switch: the last line stopped for toxicity while controlled, the HER2 antibodies continue with another partner.' },
  lineOfTherapy: { type: 'number', description: 'priorHer2Lines + earlyRelapse + start_line, at least 1.' },
  priorAgents: { type: 'string[]', values: AGENTS, description: 'Every agent in any history entry.' },
  currentLineNumber: nullableNumber('lineNumber of the current line (continue_line or toxicity_switch).'),
  currentLineAgents: { type: 'string[]', values: AGENTS, description: 'Agents of the current line as recorded (continue_line or toxicity_switch; empty when a new line is being chosen).' },
  currentAgents: { type: 'string[]', values: AGENTS, description: 'The agents given now: the current line\'s, under toxicity_switch only its trastuzumab and pertuzumab.' },
  progressedAgents: { type: 'string[]', values: AGENTS, description: 'Agents the disease progressed on.' },
  her2TherapyPlanned: { ...YES_NO, description: 'In scope, HER2 positive, not pregnant, and a line starts or the current line has an anti-HER2 agent.' },
  onBma: { ...YES_NO, description: 'history.boneModifyingAgent.agent is set and not none.' },
  bmaAgent: nullableEnum(BMA_AGENTS, 'history.boneModifyingAgent.agent.'),
  bmaComplications: { type: 'string[]', values: BMA_COMPLICATIONS, description: 'history.boneModifyingAgent.complications.' },
  // --- pass 3: what passes 1–2 decided
  firedCodes: { type: 'string[]', pass: 3, description: 'Codes of the items emitted by earlier passes.' },
  forbiddenOptions: { type: 'string[]', values: OPTION_IDS, pass: 3, description: 'Options that a pass-2 safety filter marked avoid (CI-06b included, before step 3b decides it), and every HER2 option and clinical_trial while HER2 is equivocal or unknown.' },
  her2TherapyForbidden: { ...YES_NO, pass: 3, description: 'HER2 antibody/ADC options are forbidden (CI-01, CI-03, CI-05, or HER2 equivocal or unknown).' },
  // --- pass 4: the filtered output of pass 3
  offeredOptions: { type: 'string[]', values: OPTION_IDS, pass: 4, description: 'Every option offered (effective strength not avoid) after filtering.' },
  offeredSystemicOption: { ...YES_NO, pass: 4, description: 'A systemic option is offered: an option of the option-composition table, or clinical_trial (spec r6).' },
  offeredCompositionOption: { ...YES_NO, pass: 4, description: 'An option of the option-composition table is offered (clinical_trial alone does not count: CI-05b).' },
  offeredHer2Option: { ...YES_NO, pass: 4, description: 'An option with an anti-HER2 agent is offered.' },
  offeredHer2AntibodyAdcOption: { ...YES_NO, pass: 4, description: 'An option with a HER2 antibody or ADC is offered.' },
  offeredTdxdOption: { ...YES_NO, pass: 4, description: 'tdxd or tdxd_pertuzumab is offered.' },
  offeredCapecitabineOption: { ...YES_NO, pass: 4, description: 'A capecitabine option is offered.' },
  offeredTdm1OrTkiOption: { ...YES_NO, pass: 4, description: 'An option with T-DM1, tucatinib, neratinib or lapatinib is offered.' },
  offeredCnsActiveOption: { ...YES_NO, pass: 4, description: 'tucatinib_trastuzumab_capecitabine or tdxd is offered.' },
  // --- spine lesion scope
  lesionLevel: { type: 'string', values: SPINE_LEVELS, scope: 'spine_lesion', description: 'The lesion\'s level.' },
  lesionSins: { ...nullableNumber('SINS total of the lesion (or the sum of its components).'), scope: 'spine_lesion' },
  lesionBilsky: { ...nullableEnum(BILSKY_GRADES, 'Bilsky grade of the lesion.'), scope: 'spine_lesion' },
  lesionBilskyRank: { ...nullableNumber('Bilsky grade as a rank: 0, 1a 1, 1b 2, 1c 3, 2 4, 3 5.'), scope: 'spine_lesion' },
  lesionPainNrs: { ...nullableNumber('painNrs of the lesion.'), scope: 'spine_lesion' },
  lesionPainType: { ...nullableEnum(PAIN_TYPES, 'painType of the lesion.'), scope: 'spine_lesion' },
  lesionPathologicFracture: { ...nullableBoolean('pathologicFracture of the lesion.'), scope: 'spine_lesion' },
  lesionContiguousLevels: { ...nullableNumber('contiguousLevels of the lesion.'), scope: 'spine_lesion' },
  lesionPriorRt: { type: 'boolean', scope: 'spine_lesion', description: 'The lesion has had radiotherapy.' },
  lesionSurgeryType: { ...nullableEnum(SPINE_SURGERY_TYPES, 'surgery.type of the lesion.'), scope: 'spine_lesion' },
  lesionRtAfterSurgery: { type: 'boolean', scope: 'spine_lesion', description: 'A priorRt dated after the surgery date.' },
  lesionSpinalRtOption: { type: 'string', values: ['ebrt', 'reirradiation'], scope: 'spine_lesion', description: 'The radiotherapy option for this level: reirradiation when it has priorRt, else ebrt.' },
  lesionPostopRtOption: { type: 'string', values: ['postoperative_rt', 'reirradiation'], scope: 'spine_lesion', description: 'After surgery at this level: reirradiation when it has a priorRt not dated after the surgery (an undated course included), else postoperative_rt.' },
  lesionRtSurgeryUndated: { type: 'boolean', scope: 'spine_lesion', description: 'The lesion has priorRt and surgery, and priorRt.date or surgery.date is absent.' },
  lesionDeficit: { type: 'boolean', scope: 'spine_lesion', description: 'The lesion is among deficitLevels.' },
  // --- non-spine bone lesion scope
  boneSite: { type: 'string', values: NON_SPINE_SITES, scope: 'bone_lesion', description: 'The lesion\'s site.' },
  bonePainNrs: { ...nullableNumber('painNrs of the lesion.'), scope: 'bone_lesion' },
  boneMirelsScore: { ...nullableNumber('Mirels score of the lesion.'), scope: 'bone_lesion' },
  bonePathologicFracture: { ...nullableBoolean('pathologicFracture of the lesion.'), scope: 'bone_lesion' },
  bonePriorRt: { type: 'boolean', scope: 'bone_lesion', description: 'The lesion has had radiotherapy.' }
} as const satisfies Record<string, FactSpec>

export type FactName = keyof typeof FACTS
export type FactValue = boolean | number | string | readonly string[] | null

/** The TypeScript type of a spec's values: its `type`, narrowed to its `values`, with null when nullable. */
type ValueOfSpec<S> =
  (S extends { type: 'boolean' } ? boolean
    : S extends { type: 'number' } ? number
      : S extends { type: 'string', values: ReadonlyArray<infer V> } ? V
        : S extends { type: 'string' } ? string
          : S extends { type: 'string[]', values: ReadonlyArray<infer V> } ? readonly V[]
            : readonly string[]) |
  (S extends { nullable: true } ? null : never)
/** The value type of a catalogue fact (a string where the catalogue declares a number does not compile). */
export type FactValueOf<K extends FactName> = ValueOfSpec<(typeof FACTS)[K]>
/** Values for the named facts, each of its declared type. */
export type FactValues<K extends FactName> = { [N in K]: FactValueOf<N> }
export type Facts = Readonly<Record<string, FactValue>>

type FactsWhere<P> = { [K in FactName]: (typeof FACTS)[K] extends P ? K : never }[FactName]
export type SpineLesionFactName = FactsWhere<{ scope: 'spine_lesion' }>
export type BoneLesionFactName = FactsWhere<{ scope: 'bone_lesion' }>
export type Pass3FactName = FactsWhere<{ pass: 3 }>
export type Pass4FactName = FactsWhere<{ pass: 4 }>
export type CaseFactName = Exclude<FactName, SpineLesionFactName | BoneLesionFactName | Pass3FactName | Pass4FactName>

/**
 * The compiled evaluator keeps facts in a frame: one array slot per catalogue fact, so that a
 * compiled condition reads `frame[slot]` instead of looking a name up in an object. Slots a pass or
 * scope does not supply stay undefined (reading one is an error, as in json-rules-engine).
 */
export const FACT_NAMES = Object.keys(FACTS) as FactName[]
export const FACT_SLOTS: ReadonlyMap<string, number> = new Map(FACT_NAMES.map((name, slot) => [name, slot]))
export type FactFrame = Array<FactValue | undefined>

export function newFactFrame (): FactFrame {
  return new Array<FactValue | undefined>(FACT_NAMES.length).fill(undefined)
}

/** Writes named facts into their slots; the type admits catalogue names only (a misspelt name does not compile). */
export function writeFacts (frame: FactFrame, facts: Readonly<Partial<Record<FactName, FactValue>>>): FactFrame {
  for (const name in facts) frame[FACT_SLOTS.get(name) as number] = facts[name as FactName]
  return frame
}

/** The supplied facts of a frame as a plain object (what json-rules-engine is given). */
export function frameToRecord (frame: FactFrame): Record<string, FactValue> {
  const record: Record<string, FactValue> = {}
  frame.forEach((value, slot) => { if (value !== undefined) record[FACT_NAMES[slot] as string] = value })
  return record
}

export function factSpec (name: string): FactSpec | undefined {
  return Object.hasOwn(FACTS, name) ? (FACTS as Record<string, FactSpec>)[name] : undefined
}
