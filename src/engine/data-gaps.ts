import type { Case } from '../schemas/case.js'
import type { OptionId } from '../schemas/common.js'
import { hasAntiHer2 } from './history.js'
import { CAPECITABINE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS, TDXD_OPTIONS } from './options.js'
import type { CaseFacts } from './facts.js'

/**
 * The data-gap table: a missing field that a rule needed, reported with the codes it would have
 * affected, only when it matters for this case.
 * @see spec/clinical-rules.md Part 1 "Data gaps"
 */

export interface DataGap { field: string, message: string, affects: string[] }

export interface GapContext {
  input: Case
  facts: CaseFacts
  offered: ReadonlySet<OptionId>
  firedCodes: ReadonlySet<string>
}

const offersAny = (offered: ReadonlySet<OptionId>, ids: ReadonlySet<OptionId>): boolean => [...ids].some((id) => offered.has(id))
const SYS_RELAPSE_CODES = ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05']

export function dataGaps ({ input, facts, offered, firedCodes }: GapContext): DataGap[] {
  const { patient, tumor, disease } = input
  const gaps: DataGap[] = []
  const gap = (missing: boolean, field: string, message: string, affects: string[]): void => {
    if (missing) gaps.push({ field, message, affects })
  }

  gap(patient.lvefPercent === undefined && offersAny(offered, HER2_ANTIBODY_ADC_OPTIONS), 'patient.lvefPercent',
    'No LVEF is recorded while a HER2 antibody or ADC is offered: measure LVEF (echocardiography or MUGA) before starting.', ['CI-01', 'CI-02', 'CI-03', 'FU-02'])
  gap(patient.ildHistory === undefined && offersAny(offered, TDXD_OPTIONS), 'patient.ildHistory',
    'No ILD history is recorded while T-DXd is offered: an ILD history would contraindicate it.', ['CI-04'])
  gap(patient.creatinineClearanceMlMin === undefined && (firedCodes.has('BMA-01') || offersAny(offered, CAPECITABINE_OPTIONS)), 'patient.creatinineClearanceMlMin',
    'No creatinine clearance is recorded: zoledronic acid dosing and capecitabine use depend on it.', ['BMA-04', 'CI-06'])
  gap(patient.dentalStatus === undefined && firedCodes.has('BMA-01') && !facts.onBma, 'patient.dentalStatus',
    'No dental status is recorded before a first bone-modifying agent.', ['BMA-02'])
  gap(patient.pregnant === undefined && patient.sex === 'female' && patient.ageYears < 55, 'patient.pregnant',
    'Pregnancy status is not recorded for a woman under 55; she is evaluated as not pregnant.', ['CI-05'])
  gap(tumor.her2IshResult === undefined && tumor.her2Ihc === '2+', 'tumor.her2IshResult',
    'HER2 IHC is 2+ and no ISH result is recorded.', ['CLS-02'])
  gap(patient.dpydStatus === undefined && offersAny(offered, CAPECITABINE_OPTIONS), 'patient.dpydStatus',
    'DPYD status is not recorded while a capecitabine option is offered; it is evaluated as not tested.', ['CI-06'])

  const lesions = disease.spineLesions ?? []
  lesions.forEach((lesion, i) => {
    const base = `disease.spineLesions[${i}]`
    gap(lesion.sinsTotal === undefined && lesion.sinsComponents === undefined, `${base}.sinsTotal`,
      `No SINS is recorded for the ${lesion.level} lesion: its mechanical stability cannot be judged.`, ['LOC-04', 'LOC-05', 'LOC-06', 'LOC-07'])
    gap(lesion.bilsky === undefined, `${base}.bilsky`,
      `No Bilsky grade is recorded for the ${lesion.level} lesion: epidural compression cannot be judged (MRI).`, ['LOC-01b', 'LOC-02', 'LOC-03', 'LOC-06', 'LOC-07'])
    gap(lesion.painNrs === undefined, `${base}.painNrs`,
      `No pain score is recorded for the ${lesion.level} lesion.`, ['LOC-06', 'LOC-07'])
  })
  gap(disease.neuro === undefined && lesions.length > 0, 'disease.neuro',
    'No neurological status is recorded although spine lesions are: it is evaluated as no deficit.', ['LOC-01', 'LOC-02', 'LOC-03'])
  gap(disease.totalMetastaticLesions === undefined && facts.inScope === true, 'disease.totalMetastaticLesions',
    'The number of metastatic lesions is not recorded: oligometastatic disease cannot be judged.', ['OLI-01'])
  const brainPresent = disease.brain?.present === true || disease.metastaticSites.includes('brain')
  gap(brainPresent && disease.brain?.count === undefined, 'disease.brain.count',
    'Brain metastases are present but their number is not recorded.', ['CNS-02', 'CNS-03', 'CNS-04'])

  const early = input.history?.earlyStageTherapy ?? []
  early.forEach((entry, i) => {
    gap(hasAntiHer2(entry.agents) && entry.lastDoseDate === undefined, `history.earlyStageTherapy[${i}].lastDoseDate`,
      'An early-stage anti-HER2 regimen has no last-dose date: the relapse interval cannot be computed from it.', SYS_RELAPSE_CODES)
  })
  gap(disease.metastaticDiagnosisDate === undefined && early.some((entry) => hasAntiHer2(entry.agents)), 'disease.metastaticDiagnosisDate',
    'No metastatic diagnosis date is recorded: the relapse interval is measured to the evaluation date instead.', SYS_RELAPSE_CODES)
  return gaps
}
