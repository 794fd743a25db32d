import type { z } from 'zod'
import type { Case } from '../schemas/case.js'
import type { OptionId } from '../schemas/common.js'
import type { DataGap as DataGapSchema } from '../schemas/recommendation.js'
import type { CaseFacts } from './facts.js'
import { hasAntiHer2, lastLine } from './history.js'
import { CAPECITABINE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS, TDXD_OPTIONS } from './options.js'

/**
 * The data-gap table: a missing field that a rule needed, reported with the codes it would have
 * affected, only when it matters for this case. Each row below is one row of Part 1's table, in its
 * order: the field, the codes it affects, what is missing, when it matters (a small named predicate)
 * and the sentence that says what the service assumed instead. Missing values are read from the
 * derived facts (null) wherever a fact carries them; the raw case only where no fact does.
 * Every code a row names must be the code of a loaded rule: `checkDataGapCodes` (load-rules.ts)
 * stops startup otherwise.
 * @see spec/clinical-rules.md Part 1 "Data gaps"
 */

export type DataGap = z.infer<typeof DataGapSchema>

export interface GapContext {
  input: Case
  facts: CaseFacts
  /** Options offered in the final response (effective strength not avoid). */
  offered: ReadonlySet<OptionId>
  /** Codes of the final response. */
  firedCodes: ReadonlySet<string>
}

type SpineLesion = NonNullable<Case['disease']['spineLesions']>[number]
type EarlyEntry = NonNullable<NonNullable<Case['history']>['earlyStageTherapy']>[number]
type MetastaticLine = NonNullable<NonNullable<Case['history']>['metastaticLines']>[number]
type Test = (c: GapContext) => boolean

interface Row {
  /** The field as the table names it; `[]` stands for each entry of a list. */
  field: string
  affects: readonly string[]
  find: (c: GapContext) => Array<{ field: string, message: string }>
}

function offersAny (offered: ReadonlySet<OptionId>, ids: ReadonlySet<OptionId>): boolean {
  for (const id of ids) if (offered.has(id)) return true
  return false
}
const spineLesions = ({ input }: GapContext): readonly SpineLesion[] => input.disease.spineLesions ?? []
const earlyEntries = ({ input }: GapContext): readonly EarlyEntry[] => input.history?.earlyStageTherapy ?? []

// When it matters: the middle column of the table, one predicate each.
const her2AntibodyAdcOffered: Test = ({ offered }) => offersAny(offered, HER2_ANTIBODY_ADC_OPTIONS)
/** CI-03's own condition: an antibody/ADC on the last metastatic line, or (no line) in early-stage therapy with an early relapse. */
const lvefKnownOnAntibodyAdc: Test = ({ facts }) => facts.lvefPercent !== null &&
  (facts.lastLineHasHer2AntibodyAdc === true || (facts.metastaticLineCount === 0 && facts.earlyRelapse === true && facts.earlyStageHer2AntibodyAdc === true))
const tdxdOfferedOrGiven: Test = ({ offered, facts }) => offersAny(offered, TDXD_OPTIONS) || facts.currentAgents.includes('t_dxd')
const renalDosingNeeded: Test = ({ offered, firedCodes }) =>
  firedCodes.has('BMA-01') || offersAny(offered, CAPECITABINE_OPTIONS) || firedCodes.has('SUP-01')
const boneHealthConsidered: Test = ({ facts }) => (facts.inScope === true && facts.metastaticSites.includes('bone')) || facts.onBma === true
const firstBmaStart: Test = ({ facts, firedCodes }) => firedCodes.has('BMA-01') && facts.onBma !== true
const mayBePregnant: Test = ({ facts }) => facts.sex === 'female' && facts.ageYears < 55 && facts.menopausalStatus !== 'postmenopausal'
const pregnant: Test = ({ facts }) => facts.pregnant === true
const mildHypercalcaemia: Test = ({ facts }) => facts.hypercalcaemiaSeverity === 'mild'
const brainProgressingAfterTreatment: Test = ({ facts }) => facts.brainStatus === 'treated_progressing'
const her2Ihc2Plus: Test = ({ facts }) => facts.her2Ihc === '2+'
/** Nothing decides ISH: no ISH result other than not_done, and not both ratio and copy number (the her2Status fact's reading). */
const noDecidingIsh: Test = ({ input: { tumor } }) => (tumor.her2IshResult === undefined || tumor.her2IshResult === 'not_done') &&
  (tumor.her2IshRatio === undefined || tumor.her2IshCopyNumber === undefined)
const spineOrBoneDisease: Test = ({ facts }) => facts.spineLesionCount > 0 || facts.metastaticSites.includes('bone')
const lastLineStoppedForToxicity: Test = ({ facts }) => facts.lastLineOutcome === 'toxicity'
const paraplegiaWithHighGradeCompression: Test = ({ facts }) =>
  facts.neuroDeficitSign === 'paraplegia' && facts.highGradeCompressionLevels.length > 0
/** SYS-02's declines form and SYS-08 read it: first line, ER positive, ECOG ≥ 2 or chemotherapy declined. */
const endocrineFirstLineCandidate: Test = ({ facts }) => facts.inScope === true && facts.treatmentDecision === 'start_line' &&
  facts.lineOfTherapy === 1 && facts.erStatus === 'positive' && (facts.ecog >= 2 || facts.declinesChemotherapy === true)
const inScope: Test = ({ facts }) => facts.inScope === true
const brainMetastasesPresent: Test = ({ facts }) => facts.brainPresent === true || facts.metastaticSites.includes('brain')
const brainPresent: Test = ({ facts }) => facts.brainPresent === true
const capecitabineOffered: Test = ({ offered }) => offersAny(offered, CAPECITABINE_OPTIONS)
const earlyStageAntiHer2: Test = ({ facts }) => facts.earlyStageAntiHer2 === true
/** LOC-10's question: a lesion with a radiotherapy course and a decompression or stabilisation. */
const irradiatedAndOperated = (lesion: SpineLesion): boolean =>
  lesion.priorRt !== undefined && (lesion.surgery?.type === 'decompression' || lesion.surgery?.type === 'stabilisation')

/** A case-level row: one gap when the field is missing and it matters. */
function row (field: string, affects: readonly string[], missing: Test, matters: Test, message: string): Row {
  return { field, affects, find: (c) => (missing(c) && matters(c) ? [{ field, message }] : []) }
}

/** A row for each spine lesion, with its index in the path and its level in the message. */
function lesionRow (key: string, affects: readonly string[], missing: (lesion: SpineLesion) => boolean, message: (level: string) => string): Row {
  return {
    field: `disease.spineLesions[].${key}`,
    affects,
    find: (c) => spineLesions(c).flatMap((lesion, i) => (missing(lesion) ? [{ field: `disease.spineLesions[${i}].${key}`, message: message(lesion.level) }] : []))
  }
}

const SYS_RELAPSE_CODES = ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05']
const LOC_10_UNDATED = (what: string) => (level: string) =>
  `The ${level} lesion has had radiotherapy and surgery, but the ${what} is not recorded: the radiotherapy may have been the postoperative course, so radiotherapy after the surgery is offered only as re-irradiation to consider. Record the date and whether postoperative radiotherapy was given.`

const ROWS: readonly Row[] = [
  row('patient.lvefPercent', ['CI-01', 'CI-02', 'CI-03', 'FU-02'], ({ facts }) => facts.lvefPercent === null, her2AntibodyAdcOffered,
    'No LVEF is recorded while a HER2 antibody or ADC is offered: no LVEF-based cardiac caution could be applied. Measure LVEF (echocardiography or MUGA) before starting.'),
  row('patient.lvefBaselinePercent', ['CI-03'], ({ facts }) => facts.lvefBaselinePercent === null, lvefKnownOnAntibodyAdc,
    'No baseline LVEF is recorded: the fall in LVEF on HER2 antibody or ADC therapy could not be measured, so a significant fall was not looked for. Record the LVEF from before HER2 therapy.'),
  row('patient.ildHistory', ['CI-04'], ({ facts }) => facts.ildHistory === null, tdxdOfferedOrGiven,
    'No history of interstitial lung disease is recorded while T-DXd is offered or given: it was evaluated as none. A history of ILD would contraindicate T-DXd or call for investigation first.'),
  row('patient.creatinineClearanceMlMin', ['BMA-04', 'CI-06', 'CI-06b', 'SUP-01'], ({ facts }) => facts.creatinineClearanceMlMin === null, renalDosingNeeded,
    'No creatinine clearance is recorded: zoledronic acid, capecitabine and hypercalcaemia treatment were not adjusted to renal function, and no renal caution was applied. Check creatinine before dosing.'),
  row('patient.correctedCalcium', ['SUP-01', 'BMA-01', 'BMA-03'], ({ input }) => input.patient.correctedCalcium === undefined, boneHealthConsidered,
    'No corrected calcium is recorded: calcium was evaluated as normal (no hypercalcaemia, no hypocalcaemia). Check calcium before a bone-modifying agent and before calcium supplements.'),
  row('patient.dentalStatus', ['BMA-02'], ({ facts }) => facts.dentalStatus === null, firstBmaStart,
    'No dental status is recorded before a first bone-modifying agent: it was evaluated as not yet cleared and without active osteonecrosis of the jaw.'),
  row('patient.pregnant', ['CI-05'], ({ facts }) => facts.pregnant === null, mayBePregnant,
    'Pregnancy status is not recorded for a woman under 55 who is not recorded as postmenopausal: she was evaluated as not pregnant. Confirm before systemic therapy, radiotherapy or imaging with ionising radiation.'),
  row('patient.gestationalWeeks', ['CI-05'], ({ facts }) => facts.gestationalWeeks === null, pregnant,
    'The pregnancy is recorded without the gestational age: the trimester could not be named in the pregnancy caution. Record the gestational weeks.'),
  row('patient.hypercalcaemiaSymptoms', ['SUP-01'], ({ facts }) => facts.hypercalcaemiaSymptoms === null, mildHypercalcaemia,
    'Mild hypercalcaemia is recorded without saying whether it causes symptoms: it was evaluated as asymptomatic, so its treatment is not marked urgent. Record the symptoms.'),
  row('disease.brain.priorRt', ['CNS-03', 'CNS-04', 'CNS-06'], ({ facts }) => facts.brainPriorRtTechnique === null, brainProgressingAfterTreatment,
    'Brain metastases are progressing after treatment but no prior brain radiotherapy is recorded: it was evaluated as none (no prior whole-brain radiotherapy). The technique and date are needed to tell radionecrosis from progression and to plan re-irradiation.'),
  row('tumor.her2IshResult', ['CLS-02'], noDecidingIsh, her2Ihc2Plus,
    'HER2 IHC is 2+ and no ISH result decides it: HER2 was evaluated as equivocal, and no HER2-directed option is offered until ISH resolves it.'),
  lesionRow('sinsTotal', ['LOC-04', 'LOC-05', 'LOC-06', 'LOC-07'], (lesion) => lesion.sinsTotal === undefined && lesion.sinsComponents === undefined,
    (level) => `No SINS is recorded for the ${level} lesion: its mechanical stability is unknown, so no stabilisation or surgical consultation could be proposed for instability. Score SINS (CT).`),
  lesionRow('bilsky', ['LOC-01b', 'LOC-02', 'LOC-03', 'LOC-04', 'LOC-08', 'LOC-06', 'LOC-07'], (lesion) => lesion.bilsky === undefined,
    (level) => `No Bilsky grade is recorded for the ${level} lesion: epidural compression is unknown. It counts as possible cord compression with neurological symptoms, but no item for high-grade compression and no vertebral augmentation could be proposed. Grade it on MRI.`),
  lesionRow('painNrs', ['LOC-06', 'LOC-07'], (lesion) => lesion.painNrs === undefined,
    (level) => `No pain score is recorded for the ${level} lesion: neither radiotherapy for pain nor the advice against treating a painless lesion could be given. Record the pain score (0–10).`),
  lesionRow('priorRt.date', ['LOC-10'], (lesion) => irradiatedAndOperated(lesion) && lesion.priorRt?.date === undefined, LOC_10_UNDATED('date of the radiotherapy')),
  lesionRow('surgery.date', ['LOC-10'], (lesion) => irradiatedAndOperated(lesion) && lesion.surgery?.date === undefined, LOC_10_UNDATED('date of the surgery')),
  row('disease.neuro', ['LOC-01', 'LOC-02', 'LOC-03', 'CLS-05'], ({ facts }) => facts.neuroDeficitSign === null, spineOrBoneDisease,
    'No neurological status is recorded: it was evaluated as no neurological symptom, so no spinal cord compression item could be proposed. Examine and record it.'),
  {
    field: 'history.metastaticLines[].toxicAgents',
    affects: ['SYS-14'],
    find: (c) => {
      if (c.facts.lastLineToxicAgentsRecorded === true || !lastLineStoppedForToxicity(c)) return []
      // A last line stopped for toxicity means the case records its metastatic lines.
      const lines = (c.input.history as NonNullable<Case['history']>).metastaticLines as MetastaticLine[]
      const index = lines.indexOf(lastLine(lines) as MetastaticLine)
      return [{
        field: `history.metastaticLines[${index}].toxicAgents`,
        message: 'The last metastatic line stopped for toxicity without the agents that caused it: the HER2 antibodies were assumed not to be the cause, so continuing them with another partner is offered only for consideration. Record which agent was toxic.'
      }]
    }
  },
  row('disease.extracranialStatus', ['SYS-14'], ({ facts }) => facts.extracranialStatus === null || facts.extracranialStatus === 'unknown', lastLineStoppedForToxicity,
    'The last metastatic line stopped for toxicity but the extracranial disease status is not recorded or unknown: the disease was not assumed controlled, so the next treatment is planned as a new line rather than a switch of the toxic partner. Restage to decide.'),
  row('disease.neuro.paraplegiaDurationHours', ['LOC-02', 'LOC-03'], ({ input }) => input.disease.neuro?.paraplegiaDurationHours === undefined, paraplegiaWithHighGradeCompression,
    'Paraplegia is recorded without its duration: it was evaluated as not excluding decompressive surgery (paraplegia of more than 48 hours would). Record when it began.'),
  row('disease.visceralCrisis', ['SYS-02', 'SYS-08'], ({ facts }) => facts.visceralCrisis === null, endocrineFirstLineCandidate,
    'Visceral crisis is not recorded: it was evaluated as no visceral crisis, which allows endocrine-based first-line options. Record it.'),
  row('disease.totalMetastaticLesions', ['OLI-01'], ({ facts }) => facts.totalMetastaticLesions === null, inScope,
    'The number of metastatic lesions is not recorded: the disease was evaluated as not oligometastatic.'),
  row('disease.brain.count', ['CNS-02', 'CNS-03', 'CNS-04'], ({ facts }) => facts.brainCount === null, brainMetastasesPresent,
    'Brain metastases are present but their number is not recorded: radiosurgery or whole-brain radiotherapy could not be chosen by the number of lesions.'),
  row('disease.brain.symptomatic', ['CNS-02', 'CNS-05'], ({ facts }) => facts.brainSymptomatic === null, brainPresent,
    'Whether the brain metastases cause symptoms is not recorded: they were evaluated as asymptomatic (no urgent item on that ground), and deferring local therapy is not offered. Record it.'),
  row('disease.brain.massEffect', ['CNS-02', 'CNS-05'], ({ facts }) => facts.brainMassEffect === null, brainPresent,
    'Whether the brain metastases cause mass effect is not recorded: it was evaluated as absent (no urgent item on that ground), and deferring local therapy is not offered. Record it.'),
  row('patient.dpydStatus', ['CI-06'], ({ input }) => input.patient.dpydStatus === undefined, capecitabineOffered,
    'DPYD status is not recorded while a capecitabine option is offered: it was evaluated as not tested.'),
  {
    field: 'history.earlyStageTherapy[].lastDoseDate',
    affects: SYS_RELAPSE_CODES,
    find: (c) => earlyEntries(c).flatMap((entry, i) => (hasAntiHer2(entry.agents) && entry.lastDoseDate === undefined
      ? [{
          field: `history.earlyStageTherapy[${i}].lastDoseDate`,
          message: 'An early-stage anti-HER2 regimen has no last-dose date: the relapse interval was computed without it, which may miss an early relapse.'
        }]
      : []))
  },
  row('disease.metastaticDiagnosisDate', SYS_RELAPSE_CODES, ({ input }) => input.disease.metastaticDiagnosisDate === undefined, earlyStageAntiHer2,
    'No metastatic diagnosis date is recorded: the relapse interval was measured to the evaluation date instead.')
]

/** Every row's field and the codes it names (the load check holds them to the loaded rules). */
export const DATA_GAP_ROWS: ReadonlyArray<{ field: string, affects: readonly string[] }> = ROWS.map(({ field, affects }) => ({ field, affects }))

export function dataGaps (context: GapContext): DataGap[] {
  const gaps: DataGap[] = []
  for (const r of ROWS) for (const { field, message } of r.find(context)) gaps.push({ field, message, affects: [...r.affects] })
  return gaps
}
