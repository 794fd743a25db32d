import type { Agent, OptionId, Strength } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import { SYSTEMIC_OPTION_IDS } from '../schemas/common.js'
import { ANTI_HER2_AGENTS, HER2_ANTIBODY_ADC_AGENTS } from './history.js'

/**
 * What each option is: its label and, for systemic options, the agents it contains.
 * @see spec/clinical-rules.md Part 1 "Option composition"
 */

export const OPTION_LABELS: Readonly<Record<OptionId, string>> = {
  thp: 'Taxane (docetaxel, paclitaxel or nab-paclitaxel) + trastuzumab + pertuzumab (THP)',
  tdxd_pertuzumab: 'Trastuzumab deruxtecan (T-DXd) + pertuzumab',
  tdxd: 'Trastuzumab deruxtecan (T-DXd)',
  tucatinib_trastuzumab_capecitabine: 'Tucatinib + trastuzumab + capecitabine',
  tdm1: 'Trastuzumab emtansine (T-DM1)',
  tucatinib_tdm1: 'Tucatinib + trastuzumab emtansine (T-DM1)',
  neratinib_capecitabine: 'Neratinib + capecitabine',
  lapatinib_capecitabine: 'Lapatinib + capecitabine',
  lapatinib_trastuzumab: 'Lapatinib + trastuzumab',
  margetuximab_chemotherapy: 'Margetuximab + chemotherapy',
  trastuzumab_chemotherapy: 'Trastuzumab + another chemotherapy (capecitabine, vinorelbine, eribulin or gemcitabine)',
  endocrine_her2: 'Endocrine therapy + trastuzumab (± pertuzumab)',
  abemaciclib_trastuzumab_fulvestrant: 'Abemaciclib + trastuzumab + fulvestrant',
  trastuzumab_monotherapy: 'Trastuzumab alone',
  hp_maintenance: 'Trastuzumab + pertuzumab maintenance (stop the taxane)',
  endocrine_maintenance: 'Endocrine therapy added to trastuzumab + pertuzumab maintenance',
  palbociclib_maintenance: 'Palbociclib added to endocrine + trastuzumab + pertuzumab maintenance',
  tucatinib_maintenance: 'Tucatinib added to trastuzumab + pertuzumab maintenance',
  endocrine_therapy: 'Endocrine therapy alone (no HER2 agent)',
  chemotherapy_without_her2: 'Chemotherapy without a HER2 agent',
  clinical_trial: 'Clinical trial',
  dexamethasone: 'Dexamethasone',
  spine_mri_urgent: 'Urgent whole-spine MRI',
  decompressive_surgery: 'Decompressive surgery ± stabilisation',
  spinal_stabilisation: 'Spinal stabilisation surgery',
  spine_surgery_consult: 'Spine-surgery consultation',
  ebrt: 'Conventional external-beam radiotherapy (EBRT)',
  sbrt_spine: 'Spine stereotactic body radiotherapy (SBRT)',
  postoperative_rt: 'Postoperative radiotherapy',
  vertebral_augmentation: 'Vertebral augmentation (kyphoplasty / vertebroplasty)',
  reirradiation: 'Re-irradiation',
  orthopaedic_fixation: 'Orthopaedic (prophylactic) fixation',
  srs: 'Stereotactic radiosurgery (SRS) to brain metastases',
  neurosurgical_resection: 'Neurosurgical resection of a brain metastasis',
  wbrt_memantine_ha: 'Whole-brain RT with memantine and hippocampal avoidance',
  locoregional_therapy_primary: 'Locoregional therapy of the intact primary (surgery or breast/chest-wall RT)',
  upfront_mastectomy: 'Upfront mastectomy',
  metastasis_directed_therapy: 'Metastasis-directed therapy (SBRT or resection)',
  biopsy_metastasis: 'Biopsy of a metastasis with ER/PR/HER2 re-testing',
  her2_ish: 'HER2 in-situ hybridisation (ISH)',
  her2_testing: 'HER2 testing (IHC, with ISH when IHC 2+)',
  staging_imaging: 'Staging: CT chest/abdomen (± pelvis) and bone scintigraphy or FDG-PET/CT',
  brain_mri: 'Brain MRI',
  spine_mri: 'Whole-spine MRI within 1 week',
  iv_hydration: 'IV isotonic saline hydration',
  calcitonin: 'Calcitonin',
  radionecrosis_workup: 'Radionecrosis work-up (perfusion MRI, MR spectroscopy or PET, or resection) before brain re-irradiation',
  denosumab: 'Denosumab 120 mg SC every 4 weeks',
  zoledronic_acid: 'Zoledronic acid IV every 12 weeks (or every 3–4 weeks)',
  pamidronate: 'Pamidronate 90 mg IV every 3–4 weeks',
  dental_evaluation: 'Dental examination and preventive dentistry',
  calcium_vitamin_d: 'Calcium and vitamin D supplementation',
  cardio_oncology_referral: 'Cardio-oncology referral',
  palliative_care: 'Palliative-care involvement',
  dpyd_testing: 'DPYD genotyping before capecitabine',
  contraception_counselling: 'Contraception counselling',
  pregnancy_test: 'Pregnancy test before the first dose',
  antiemetic_prophylaxis: 'Antiemetic prophylaxis',
  patient_education_mscc: 'Education on cord-compression warning symptoms',
  restaging_imaging: 'Restaging imaging',
  lvef_monitoring: 'LVEF monitoring (echocardiography or MUGA)',
  ild_monitoring: 'ILD monitoring (symptoms, pulse oximetry, chest CT)',
  renal_monitoring: 'Renal monitoring (serum creatinine before each dose)',
  calcium_monitoring: 'Calcium monitoring',
  brain_mri_surveillance: 'Brain MRI surveillance',
  spine_mri_on_symptoms: 'Whole-spine MRI on new back pain or neurological symptoms',
  toxicity_review: 'Toxicity review each cycle'
}

/** A taxane is docetaxel, paclitaxel or nab-paclitaxel (spec r6). */
export const TAXANES: readonly Agent[] = ['docetaxel', 'paclitaxel', 'nab_paclitaxel']
const TAXANE = TAXANES
const CHEMOTHERAPY: Agent[] = ['capecitabine', 'vinorelbine', 'eribulin', 'gemcitabine']
const ENDOCRINE: Agent[] = ['aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression']

/** The agents an option may contain ("docetaxel or paclitaxel" lists both). */
export const OPTION_AGENTS: Readonly<Partial<Record<OptionId, readonly Agent[]>>> = {
  thp: [...TAXANE, 'trastuzumab', 'pertuzumab'],
  tdxd_pertuzumab: ['t_dxd', 'pertuzumab'],
  tdxd: ['t_dxd'],
  tucatinib_trastuzumab_capecitabine: ['tucatinib', 'trastuzumab', 'capecitabine'],
  tdm1: ['t_dm1'],
  tucatinib_tdm1: ['tucatinib', 't_dm1'],
  neratinib_capecitabine: ['neratinib', 'capecitabine'],
  lapatinib_capecitabine: ['lapatinib', 'capecitabine'],
  lapatinib_trastuzumab: ['lapatinib', 'trastuzumab'],
  margetuximab_chemotherapy: ['margetuximab', ...CHEMOTHERAPY],
  trastuzumab_chemotherapy: ['trastuzumab', ...CHEMOTHERAPY],
  endocrine_her2: [...ENDOCRINE, 'trastuzumab', 'pertuzumab'],
  abemaciclib_trastuzumab_fulvestrant: ['abemaciclib', 'trastuzumab', 'fulvestrant'],
  trastuzumab_monotherapy: ['trastuzumab'],
  hp_maintenance: ['trastuzumab', 'pertuzumab'],
  endocrine_maintenance: ['trastuzumab', 'pertuzumab', ...ENDOCRINE],
  palbociclib_maintenance: ['trastuzumab', 'pertuzumab', 'palbociclib', ...ENDOCRINE],
  tucatinib_maintenance: ['trastuzumab', 'pertuzumab', 'tucatinib'],
  endocrine_therapy: ENDOCRINE,
  chemotherapy_without_her2: [...TAXANE, ...CHEMOTHERAPY, 'anthracycline', 'carboplatin', 'cyclophosphamide']
}

const optionsContaining = (agents: ReadonlySet<Agent>): ReadonlySet<OptionId> => new Set(
  (Object.entries(OPTION_AGENTS) as Array<[OptionId, readonly Agent[]]>)
    .filter(([, contents]) => contents.some((agent) => agents.has(agent)))
    .map(([id]) => id)
)

export const SYSTEMIC_OPTIONS: ReadonlySet<OptionId> = new Set(SYSTEMIC_OPTION_IDS)
/** The options of the option-composition table: every systemic option but clinical_trial (CI-05b). */
export const SYSTEMIC_DRUG_OPTIONS: ReadonlySet<OptionId> = new Set(Object.keys(OPTION_AGENTS) as OptionId[])
/** "HER2 option": any option with an anti-HER2 agent (antibody, ADC or TKI). */
export const HER2_OPTIONS = optionsContaining(ANTI_HER2_AGENTS)
/** "HER2 antibody/ADC option": any option with trastuzumab, pertuzumab, T-DM1, T-DXd or margetuximab. */
export const HER2_ANTIBODY_ADC_OPTIONS = optionsContaining(HER2_ANTIBODY_ADC_AGENTS)
/** The three options with capecitabine in their id; trastuzumab_chemotherapy is not one (its partner may differ). */
export const CAPECITABINE_OPTIONS: ReadonlySet<OptionId> = new Set<OptionId>(['tucatinib_trastuzumab_capecitabine', 'neratinib_capecitabine', 'lapatinib_capecitabine'])
export const TDXD_OPTIONS: ReadonlySet<OptionId> = new Set<OptionId>(['tdxd', 'tdxd_pertuzumab'])
export const TDM1_OR_TKI_OPTIONS = optionsContaining(new Set<Agent>(['t_dm1', 'tucatinib', 'neratinib', 'lapatinib']))
export const CNS_ACTIVE_OPTIONS: ReadonlySet<OptionId> = new Set<OptionId>(['tucatinib_trastuzumab_capecitabine', 'tdxd'])
/** Brain-directed measures: only with target "brain" and only when brain metastases are present. */
export const BRAIN_DIRECTED_OPTIONS: ReadonlySet<OptionId> = new Set<OptionId>(['srs', 'wbrt_memantine_ha', 'neurosurgical_resection'])
export const BONE_MODIFYING_OPTIONS: ReadonlySet<OptionId> = new Set<OptionId>(['denosumab', 'zoledronic_acid', 'pamidronate'])

/**
 * An option is offered when its effective strength — its own, else its item's — is not avoid. A
 * rule's params and option entries have the same shape (explain.ts reads them before any item exists).
 * @see spec/api.md "Response"
 */
export function isOffered (item: Pick<Recommendation, 'strength'>, option: { strength?: Strength | undefined }): boolean {
  return (option.strength ?? item.strength) !== 'avoid'
}
