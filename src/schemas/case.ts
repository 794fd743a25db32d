import { z } from 'zod'
import { Agent, IsoDate, isCalendarDate, NON_SPINE_SITES, SPINE_LEVELS } from './common.js'

/**
 * The `Case` request body of POST /v1/recommendations, field for field as spec/api.md defines it.
 * Objects are strict: an unknown key is a 400, so a misspelt clinical fact is never silently dropped.
 * Everything not marked required may be missing: the rules that need it do not fire and the
 * response lists it under `dataGaps`.
 */

const int = (min: number, max: number) => z.int().min(min).max(max)
const num = (min: number, max: number) => z.number().min(min).max(max)

/*
 * The value lists of the Case fields that rules also test (src/engine/fact-specs.ts takes its
 * `values` from here): each list is written once, the zod enum and the engine's types derive from it.
 */
export const SEXES = ['female', 'male'] as const
export const MENOPAUSAL_STATUSES = ['premenopausal', 'perimenopausal', 'postmenopausal', 'not_applicable', 'unknown'] as const
export const HEART_FAILURE_CLASSES = ['none', 'nyha_i', 'nyha_ii', 'nyha_iii', 'nyha_iv'] as const
export const ILD_HISTORIES = ['none', 'radiation_pneumonitis_no_steroids', 'ild_steroid_requiring', 'current_ild', 'suspected_ild'] as const
export const DENTAL_STATUSES = ['cleared', 'not_assessed', 'invasive_procedure_needed', 'active_onj'] as const
export const DPYD_STATUSES = ['normal', 'intermediate', 'poor', 'not_tested'] as const
export const HER2_IHC_SCORES = ['0', '1+', '2+', '3+', 'not_done'] as const
export const HER2_SOURCES = ['primary', 'metastasis'] as const
export const JURISDICTIONS = ['US', 'EU', 'UK', 'other'] as const
export const PRESENTATIONS = ['early', 'locally_advanced', 'de_novo_metastatic', 'recurrent_metastatic'] as const
export const METASTATIC_SITES = ['bone', 'liver', 'lung', 'pleura', 'distant_nodes', 'brain', 'leptomeningeal', 'skin_soft_tissue', 'other'] as const
export const EXTRACRANIAL_STATUSES = ['responding', 'stable', 'progressing', 'unknown'] as const
/** disease.neuro.deficit: the worst neurological sign from the spine. */
export const NEURO_SIGNS = ['none', 'radicular_pain', 'motor_weakness', 'sensory_level', 'sphincter_dysfunction', 'paraplegia'] as const
/** Bilsky grades in order of severity (the index is the rank that `lesionBilskyRank` compares). */
export const BILSKY_GRADES = ['0', '1a', '1b', '1c', '2', '3'] as const
export const PAIN_TYPES = ['none', 'nonmechanical', 'mechanical', 'radicular'] as const
export const SPINE_SURGERY_TYPES = ['decompression', 'stabilisation', 'augmentation'] as const
export const BRAIN_STATUSES = ['untreated', 'treated_stable', 'treated_progressing'] as const
export const BRAIN_RT_TECHNIQUES = ['srs', 'fractionated_srs', 'wbrt'] as const
export const LINE_OUTCOMES = ['ongoing', 'response', 'progression', 'toxicity', 'completed_planned'] as const
export const PROGRESSION_PATTERNS = ['extracranial', 'cns_only', 'both', 'oligoprogression'] as const
export const BMA_AGENTS = ['none', 'zoledronic_acid', 'denosumab', 'pamidronate'] as const
export const BMA_COMPLICATIONS = ['onj', 'hypocalcemia', 'renal'] as const
export const GOALS_OF_CARE = ['disease_control', 'comfort_focused'] as const

export type NeuroSign = typeof NEURO_SIGNS[number]
export type BilskyGrade = typeof BILSKY_GRADES[number]
export type ExtracranialStatus = typeof EXTRACRANIAL_STATUSES[number]
export type LineOutcome = typeof LINE_OUTCOMES[number]
export type ProgressionPattern = typeof PROGRESSION_PATTERNS[number]

export const PriorRt = z.strictObject({
  doseGy: z.number().gt(0).max(200).describe('Total dose in gray (Gy).'),
  fractions: z.int().min(1).max(100).describe('Number of fractions.'),
  technique: z.enum(['conventional', 'sbrt']).describe('conventional external-beam RT or stereotactic body RT (SBRT).'),
  date: IsoDate.optional().describe('Date of the last fraction.')
}).meta({ id: 'PriorRt', description: 'Radiotherapy already given to this lesion.' })

export const SinsComponents = z.strictObject({
  location: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).describe('SINS location: 3 junctional (occiput–C2, C7–T2, T11–L1, L5–S1), 2 mobile spine (C3–C6, L2–L4), 1 semirigid (T3–T10), 0 rigid (S2–S5).'),
  pain: z.union([z.literal(0), z.literal(1), z.literal(3)]).describe('SINS pain: 3 mechanical, 1 occasional non-mechanical, 0 pain-free.'),
  boneLesion: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe('SINS bone lesion: 2 lytic, 1 mixed, 0 blastic.'),
  alignment: z.union([z.literal(0), z.literal(2), z.literal(4)]).describe('SINS alignment: 4 subluxation/translation, 2 de novo deformity, 0 normal.'),
  collapse: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).describe('SINS vertebral body collapse: 3 >50 %, 2 <50 %, 1 no collapse with >50 % body involved, 0 none.'),
  posterolateral: z.union([z.literal(0), z.literal(1), z.literal(3)]).describe('SINS posterolateral involvement: 3 bilateral, 1 unilateral, 0 none.')
}).meta({ id: 'SinsComponents', description: 'The six components of the Spinal Instability Neoplastic Score (Fisher 2010); their sum is the SINS total 0–18.' })

export const SpineLesion = z.strictObject({
  level: z.enum(SPINE_LEVELS).describe('The vertebral level, C1…S5 (the most affected level of the lesion).'),
  contiguousLevels: int(1, 10).optional().describe('How many contiguous vertebral levels the lesion spans (1–10).'),
  sinsTotal: int(0, 18).optional().describe('Spinal Instability Neoplastic Score, 0–18: 0–6 stable, 7–12 potentially unstable, 13–18 unstable. Must equal the sum of sinsComponents when both are given.'),
  sinsComponents: SinsComponents.optional(),
  bilsky: z.enum(BILSKY_GRADES).optional().describe('Bilsky epidural spinal cord compression grade on MRI: 0 bone only, 1a–1c epidural impingement without cord deformation (1c abuts the cord), 2 cord compression with CSF visible, 3 cord compression without CSF.'),
  painNrs: int(0, 10).optional().describe('Pain attributed to this lesion, numeric rating scale 0 (none) – 10 (worst).'),
  painType: z.enum(PAIN_TYPES).optional().describe('mechanical = pain on movement or loading (a SINS instability sign).'),
  pathologicFracture: z.boolean().optional().describe('A pathological (tumour-related) vertebral compression fracture.'),
  priorRt: PriorRt.optional(),
  surgery: z.strictObject({
    type: z.enum(SPINE_SURGERY_TYPES).describe('The spinal procedure done.'),
    date: IsoDate.optional().describe('Date of surgery.')
  }).optional().describe('Spinal surgery already done at this level.')
}).meta({ id: 'SpineLesion', description: 'One vertebral metastasis.' })

export const NonSpineBoneLesion = z.strictObject({
  site: z.enum(NON_SPINE_SITES).describe('Skeletal site of the lesion.'),
  painNrs: int(0, 10).optional().describe('Pain attributed to this lesion, numeric rating scale 0–10.'),
  mirelsScore: int(4, 12).optional().describe('Mirels score for impending pathological fracture of a long bone, 4–12.'),
  pathologicFracture: z.boolean().optional().describe('A pathological fracture is present.'),
  priorRt: PriorRt.optional()
}).meta({ id: 'NonSpineBoneLesion', description: 'One bone metastasis outside the spine.' })

export const Brain = z.strictObject({
  present: z.boolean().describe('Brain (parenchymal) metastases are present.'),
  count: z.int().min(0).max(1000).optional().describe('Number of brain metastases.'),
  maxDiameterCm: z.number().gt(0).max(30).optional().describe('Largest brain metastasis, cm.'),
  symptomatic: z.boolean().optional().describe('Neurological symptoms attributed to the brain metastases.'),
  massEffect: z.boolean().optional().describe('Mass effect on imaging.'),
  status: z.enum(BRAIN_STATUSES).optional().describe('Status of the brain metastases after any local therapy.'),
  leptomeningeal: z.boolean().optional().describe('Leptomeningeal disease. Leptomeningeal disease without parenchymal metastases is { present: false, leptomeningeal: true }.'),
  priorRt: z.strictObject({
    technique: z.enum(BRAIN_RT_TECHNIQUES).describe('srs: single-fraction radiosurgery; fractionated_srs: hypofractionated stereotactic RT; wbrt: whole-brain RT.'),
    date: IsoDate.optional().describe('Date of the last fraction.')
  }).optional().describe('The latest brain radiotherapy, for the radionecrosis-versus-progression work-up and re-irradiation decisions.')
}).meta({ id: 'Brain', description: 'Brain metastases (present = parenchymal). Bone, vertebral and epidural disease is never recorded here: it is not CNS disease.' })

export const Neuro = z.strictObject({
  deficit: z.enum(NEURO_SIGNS)
    .describe('The worst current neurological sign from the spine. radicular_pain is a warning symptom, not a deficit.'),
  ambulatory: z.enum(['independent', 'with_aid', 'non_ambulatory']).optional().describe('Walking ability now.'),
  deficitOnsetHours: z.number().min(0).max(100000).optional().describe('Hours since the deficit began.'),
  paraplegiaDurationHours: z.number().min(0).max(100000).optional().describe('Hours of complete paraplegia (> 48 h argues against decompressive surgery).')
}).meta({ id: 'Neuro', description: 'Neurological status relevant to metastatic epidural spinal cord compression (MESCC).' })

export const Patient = z.strictObject({
  ageYears: int(18, 120).describe('Age in whole years (adults only, 18–120).'),
  sex: z.enum(SEXES).describe('Sex (decides contraception and pregnancy checks).'),
  ecog: int(0, 4).describe('ECOG performance status now, 0 (fully active) – 4 (completely disabled).'),
  ecogBeforeDeficit: int(0, 4).optional().describe('ECOG before an acute neurological event such as cord compression (used for surgical decisions).'),
  menopausalStatus: z.enum(MENOPAUSAL_STATUSES).optional().describe('Menopausal status (endocrine therapy choice, contraception counselling).'),
  pregnant: z.boolean().optional().describe('Currently pregnant. Absent counts as not pregnant (a data gap for women under 55 who are not recorded postmenopausal).'),
  gestationalWeeks: int(0, 44).optional().describe('Completed weeks of gestation, only with pregnant true (CI-05 names the trimester: first < 14, second 14–27, third ≥ 28).'),
  surgicalCandidate: z.boolean().optional().describe('Medically fit for spine surgery.'),
  estimatedSurvivalMonths: num(0, 600).optional().describe('Estimated survival, months.'),
  lvefPercent: num(5, 90).optional().describe('Most recent left-ventricular ejection fraction, %.'),
  lvefBaselinePercent: num(5, 90).optional().describe('LVEF before anti-HER2 therapy, %.'),
  heartFailureSymptoms: z.enum(HEART_FAILURE_CLASSES).optional().describe('Heart-failure symptoms by NYHA class.'),
  ildHistory: z.enum(ILD_HISTORIES).optional()
    .describe('History of interstitial lung disease / pneumonitis.'),
  creatinineClearanceMlMin: num(0, 300).optional().describe('Creatinine clearance by Cockcroft–Gault, mL/min.'),
  correctedCalcium: z.strictObject({
    value: z.number().gt(0).max(100).describe('Albumin-corrected serum calcium.'),
    unit: z.enum(['mg/dL', 'mmol/L']).describe('Unit of the value (hypercalcaemia: > 10.5 mg/dL or > 2.62 mmol/L).')
  }).optional().describe('Albumin-corrected serum calcium with its unit.'),
  hypercalcaemiaSymptoms: z.boolean().optional().describe('Symptoms attributed to hypercalcaemia (confusion, drowsiness, polyuria/polydipsia, vomiting, constipation): they make mild hypercalcaemia urgent when metastatic (SUP-01). Absent counts as asymptomatic.'),
  vitaminD25OHNgMl: num(0, 300).optional().describe('Serum 25-hydroxy vitamin D, ng/mL.'),
  dentalStatus: z.enum(DENTAL_STATUSES).optional()
    .describe('Dental assessment before bone-modifying agents; active_onj = active osteonecrosis of the jaw.'),
  dpydStatus: z.enum(DPYD_STATUSES).optional().describe('DPYD (dihydropyrimidine dehydrogenase) metaboliser status.')
}).meta({ id: 'Patient', description: 'The patient: demographics, performance status and organ function.' })

export const Tumor = z.strictObject({
  her2Ihc: z.enum(HER2_IHC_SCORES).describe('HER2 immunohistochemistry score.'),
  her2IshResult: z.enum(['amplified', 'not_amplified', 'equivocal', 'not_done']).optional().describe('HER2 in-situ hybridisation result; when given (other than not_done) it decides the ISH group.'),
  her2IshRatio: num(0, 50).optional().describe('Dual-probe HER2/CEP17 ratio.'),
  her2IshCopyNumber: num(0, 100).optional().describe('Mean HER2 signals per cell.'),
  her2Source: z.enum(HER2_SOURCES).optional().describe('Which sample the HER2 result comes from.'),
  erPercent: int(0, 100).describe('Oestrogen-receptor positive tumour cells, %: < 1 negative, 1–10 low, > 10 positive.'),
  prPercent: int(0, 100).optional().describe('Progesterone-receptor positive tumour cells, %.'),
  receptorDiscordance: z.boolean().optional().describe('Receptor results differ between primary and metastasis.')
}).meta({ id: 'Tumor', description: 'Tumour biology.' })

export const Disease = z.strictObject({
  presentation: z.enum(PRESENTATIONS)
    .describe('How the disease presented. A distant metastasis is stage IV whatever this says (the response reclassifies it).'),
  metastaticSites: z.array(z.enum(METASTATIC_SITES)).max(9)
    .refine((sites) => new Set(sites).size === sites.length, { message: 'must not list a site twice' })
    .describe('Sites of distant metastasis (may be empty). Vertebral and epidural disease is "bone", never "brain".'),
  ajcc: z.strictObject({
    t: z.string().min(1).max(16).optional().describe('T category as written, e.g. "cT4b".'),
    n: z.string().min(1).max(16).optional().describe('N category as written, e.g. "cN2".'),
    m: z.enum(['M0', 'M1']).optional().describe('M category.')
  }).optional().describe('AJCC 8th edition TNM.'),
  metastaticDiagnosisDate: IsoDate.optional().describe('Date metastatic disease was diagnosed.'),
  totalMetastaticLesions: int(0, 500).optional().describe('Total count of metastatic lesions (1–5 without CNS disease = oligometastatic).'),
  visceralCrisis: z.boolean().optional().describe('Visceral crisis (severe organ dysfunction from metastases).'),
  brainSymptoms: z.boolean().optional().describe('New headache, seizure, focal deficit or cognitive change.'),
  extracranialStatus: z.enum(EXTRACRANIAL_STATUSES).optional().describe('Extracranial disease now, on the current line. Bone and vertebral disease is extracranial.'),
  primaryIntact: z.boolean().optional().describe('The breast primary is in place (not resected).'),
  primarySymptoms: z.array(z.enum(['ulceration', 'bleeding', 'pain', 'infection', 'local_progression'])).max(5).optional()
    .describe('Symptoms of the intact primary.'),
  neuro: Neuro.optional(),
  spineLesions: z.array(SpineLesion).max(40).optional().describe('Vertebral metastases (at most 40).'),
  nonSpineBoneLesions: z.array(NonSpineBoneLesion).max(40).optional().describe('Bone metastases outside the spine (at most 40).'),
  brain: Brain.optional()
}).meta({ id: 'Disease', description: 'Extent and state of the disease.' })

export const MetastaticLine = z.strictObject({
  lineNumber: z.int().min(1).max(50).describe('Line of therapy for metastatic disease, 1 = first line.'),
  agents: z.array(Agent).min(1).max(12).describe('Every agent of the line.'),
  startDate: IsoDate.optional().describe('First dose of the line.'),
  endDate: IsoDate.optional().describe('Last dose of the line (not before startDate).'),
  outcome: z.enum(LINE_OUTCOMES)
    .describe('ongoing/response: the line is active; progression/toxicity/completed_planned: it has ended.'),
  progressionPattern: z.enum(PROGRESSION_PATTERNS).optional()
    .describe('Where the disease progressed; oligoprogression and cns_only are treated locally while the line continues.'),
  maxIldGrade: int(0, 5).optional().describe('Worst interstitial lung disease grade (CTCAE) on this line.'),
  toxicAgents: z.array(Agent).min(1).max(12).optional().describe('Only with outcome "toxicity": the agents of this line stopped for toxicity, each one of its agents. Trastuzumab or pertuzumab among them means the antibody itself caused it (then the next line is a new line).')
}).meta({ id: 'MetastaticLine', description: 'One line of systemic therapy for metastatic disease.' })

export const EarlyStageTherapy = z.strictObject({
  setting: z.enum(['neoadjuvant', 'adjuvant', 'post_neoadjuvant']).describe('When it was given relative to surgery.'),
  agents: z.array(Agent).min(1).max(12).describe('Every agent of the regimen.'),
  lastDoseDate: IsoDate.optional().describe('Date of the last dose (decides the relapse interval after anti-HER2 therapy).')
}).meta({ id: 'EarlyStageTherapy', description: 'Systemic therapy for early breast cancer.' })

export const History = z.strictObject({
  earlyStageTherapy: z.array(EarlyStageTherapy).max(20).optional().describe('(Neo)adjuvant and post-neoadjuvant regimens for early disease.'),
  metastaticLines: z.array(MetastaticLine).max(30).optional().describe('Lines of therapy for metastatic disease, each with a unique lineNumber.'),
  boneModifyingAgent: z.strictObject({
    agent: z.enum(BMA_AGENTS).describe('The agent given (none: never started).'),
    startDate: IsoDate.optional(),
    intervalWeeks: z.union([z.literal(3), z.literal(4), z.literal(12)]).optional().describe('Dosing interval in weeks.'),
    complications: z.array(z.enum(BMA_COMPLICATIONS)).max(3).optional().describe('Complications so far (onj = osteonecrosis of the jaw).')
  }).optional().describe('Bone-modifying agent given so far.')
}).meta({ id: 'History', description: 'Treatment history.' })

export const Preferences = z.strictObject({
  declinesChemotherapy: z.boolean().optional().describe('The patient declines cytotoxic chemotherapy.'),
  goalsOfCare: z.enum(GOALS_OF_CARE).optional().describe('comfort_focused: no intensive systemic therapy.'),
  asksAboutPrimarySurgery: z.boolean().optional().describe('The patient asks about surgery of the intact primary.')
}).meta({ id: 'Preferences', description: 'The patient\'s stated preferences.' })

export const CaseShape = z.strictObject({
  caseId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, { message: 'may contain only letters, digits and . _ : -' })
    .optional().describe('A client correlation id, echoed in the response. Never a patient identifier.'),
  context: z.strictObject({
    evaluationDate: IsoDate.optional().describe('"Today" for every interval computed (default: the server\'s UTC date).'),
    jurisdiction: z.enum(JURISDICTIONS).optional().describe('Where the patient is treated; drug approval differs (default "other").')
  }).optional().describe('The evaluation context: date and jurisdiction.'),
  patient: Patient,
  tumor: Tumor,
  disease: Disease,
  history: History.optional(),
  preferences: Preferences.optional()
})

type CaseInput = z.infer<typeof CaseShape>

/** The SINS total that the six components add up to. */
export function sumSinsComponents (components: z.infer<typeof SinsComponents>): number {
  return Object.values(components).reduce<number>((total, score) => total + score, 0)
}

export interface ConsistencyIssue { path: Array<string | number>, message: string }

/** The server's "today" as YYYY-MM-DD in UTC, the default evaluationDate. */
export function utcToday (now: Date = new Date()): string {
  return now.toISOString().slice(0, 10)
}

/**
 * The cross-field checks of spec/api.md ("Consistency checks are 400s, with the field path").
 * Pure: returns the issues instead of throwing so that it can be tested without zod.
 */
export function consistencyIssues (input: CaseInput, today: string): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = []
  const evaluationDate = input.context?.evaluationDate ?? today
  // A date that is not a calendar date already has its own error; comparing it would only add noise.
  const notAfterEvaluation = (date: string | undefined, path: Array<string | number>): void => {
    if (date !== undefined && isCalendarDate(date) && date > evaluationDate) {
      issues.push({ path, message: `is ${date}, after the evaluation date ${evaluationDate}; a recorded event cannot lie in the future` })
    }
  }

  const disease = input.disease
  notAfterEvaluation(disease.metastaticDiagnosisDate, ['disease', 'metastaticDiagnosisDate'])
  disease.spineLesions?.forEach((lesion, i) => {
    const base = ['disease', 'spineLesions', i]
    if (lesion.sinsTotal !== undefined && lesion.sinsComponents !== undefined) {
      const sum = sumSinsComponents(lesion.sinsComponents)
      if (sum !== lesion.sinsTotal) {
        issues.push({ path: [...base, 'sinsTotal'], message: `is ${lesion.sinsTotal} but the SINS components add up to ${sum}` })
      }
    }
    notAfterEvaluation(lesion.priorRt?.date, [...base, 'priorRt', 'date'])
    notAfterEvaluation(lesion.surgery?.date, [...base, 'surgery', 'date'])
  })
  disease.nonSpineBoneLesions?.forEach((lesion, i) => {
    notAfterEvaluation(lesion.priorRt?.date, ['disease', 'nonSpineBoneLesions', i, 'priorRt', 'date'])
  })

  const brain = disease.brain
  notAfterEvaluation(brain?.priorRt?.date, ['disease', 'brain', 'priorRt', 'date'])
  if (brain !== undefined && !brain.present) {
    // Leptomeningeal disease without parenchymal metastases is { present: false, leptomeningeal: true },
    // and may carry the brain RT it had (e.g. WBRT).
    const parenchymal = ['count', 'maxDiameterCm', 'symptomatic', 'massEffect', 'status', ...(brain.leptomeningeal === true ? [] : ['priorRt'] as const)] as const
    for (const key of parenchymal) {
      if (brain[key] !== undefined) {
        issues.push({ path: ['disease', 'brain', key], message: 'is given while brain.present is false; remove it or set brain.present to true' })
      }
    }
    if (disease.metastaticSites.includes('brain')) {
      issues.push({ path: ['disease', 'brain', 'present'], message: 'is false while metastaticSites lists "brain"; the two must agree' })
    }
  }

  const patient = input.patient
  if (patient.gestationalWeeks !== undefined && patient.pregnant !== true) {
    issues.push({ path: ['patient', 'gestationalWeeks'], message: 'is given while patient.pregnant is not true; remove it or record the pregnancy' })
  }

  const history = input.history
  history?.earlyStageTherapy?.forEach((entry, i) => {
    notAfterEvaluation(entry.lastDoseDate, ['history', 'earlyStageTherapy', i, 'lastDoseDate'])
  })
  const seenLines = new Set<number>()
  history?.metastaticLines?.forEach((line, i) => {
    const base = ['history', 'metastaticLines', i]
    if (seenLines.has(line.lineNumber)) {
      issues.push({ path: [...base, 'lineNumber'], message: `repeats line number ${line.lineNumber}; each metastatic line must have its own number` })
    }
    seenLines.add(line.lineNumber)
    if (line.startDate !== undefined && line.endDate !== undefined && line.endDate < line.startDate) {
      issues.push({ path: [...base, 'endDate'], message: `is ${line.endDate}, before the line's startDate ${line.startDate}` })
    }
    if (line.toxicAgents !== undefined) {
      if (line.outcome !== 'toxicity') {
        issues.push({ path: [...base, 'toxicAgents'], message: `is given on a line whose outcome is "${line.outcome}"; toxicAgents belongs only to a line stopped for toxicity` })
      }
      line.toxicAgents.forEach((agent, j) => {
        if (!line.agents.includes(agent)) issues.push({ path: [...base, 'toxicAgents', j], message: `is "${agent}", which is not among the line's agents` })
      })
    }
    notAfterEvaluation(line.startDate, [...base, 'startDate'])
    notAfterEvaluation(line.endDate, [...base, 'endDate'])
  })
  notAfterEvaluation(history?.boneModifyingAgent?.startDate, ['history', 'boneModifyingAgent', 'startDate'])
  return issues
}

export const Case = CaseShape.superRefine((input, ctx) => {
  for (const issue of consistencyIssues(input, utcToday())) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message })
  }
}).meta({
  id: 'Case',
  description: 'A structured case of HER2-positive (or HER2-unresolved) breast cancer with bone metastases. Only patient (ageYears, sex, ecog), tumor (her2Ihc, erPercent) and disease (presentation, metastaticSites) are required; unknown keys are rejected.'
})
export type Case = z.infer<typeof Case>
