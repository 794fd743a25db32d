import { z } from 'zod'

/**
 * Shared vocabularies of the contract. Every enum here is normative (spec/api.md): keep the values
 * exactly, the rulesets and the EHR mapping refer to them by name.
 */

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

/** True when `value` is a real calendar date written as YYYY-MM-DD (2026-02-30 is not). */
export function isCalendarDate (value: string): boolean {
  if (!DATE_PATTERN.test(value)) return false
  // Arithmetic rather than Date parsing: this runs for every date of every request.
  const year = Number(value.slice(0, 4))
  const month = Number(value.slice(5, 7))
  const day = Number(value.slice(8, 10))
  if (month < 1 || month > 12 || day < 1) return false
  return day <= (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1] as number)
}

export const IsoDate = z.string()
  .refine(isCalendarDate, { message: 'must be a calendar date written as YYYY-MM-DD, for example 2026-03-01' })
  .meta({ description: 'A calendar date, YYYY-MM-DD.', format: 'date', examples: ['2026-03-01'] })

export const AGENTS = [
  'trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'tucatinib', 'neratinib', 'lapatinib',
  'margetuximab', 'docetaxel', 'paclitaxel', 'nab_paclitaxel', 'capecitabine', 'vinorelbine',
  'eribulin', 'gemcitabine', 'carboplatin', 'anthracycline', 'cyclophosphamide',
  'aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression', 'palbociclib',
  'ribociclib', 'abemaciclib', 'other'
] as const
export const Agent = z.enum(AGENTS).meta({
  id: 'Agent',
  description: 'A drug or drug class given to the patient (t_dm1 = trastuzumab emtansine, t_dxd = trastuzumab deruxtecan).'
})
export type Agent = z.infer<typeof Agent>

/** @see spec/api.md "Option ids" — the only ids an option may carry. */
export const SYSTEMIC_OPTION_IDS = [
  'thp', 'tdxd_pertuzumab', 'tdxd', 'tucatinib_trastuzumab_capecitabine', 'tdm1', 'tucatinib_tdm1',
  'neratinib_capecitabine', 'lapatinib_capecitabine', 'lapatinib_trastuzumab',
  'margetuximab_chemotherapy', 'trastuzumab_chemotherapy', 'endocrine_her2',
  'abemaciclib_trastuzumab_fulvestrant', 'trastuzumab_monotherapy', 'hp_maintenance',
  'endocrine_maintenance', 'palbociclib_maintenance', 'tucatinib_maintenance', 'endocrine_therapy',
  'chemotherapy_without_her2', 'clinical_trial'
] as const
export const LOCAL_OPTION_IDS = [
  'dexamethasone', 'spine_mri_urgent', 'decompressive_surgery', 'spinal_stabilisation',
  'spine_surgery_consult', 'ebrt', 'sbrt_spine', 'postoperative_rt', 'vertebral_augmentation',
  'reirradiation', 'orthopaedic_fixation', 'srs', 'neurosurgical_resection', 'wbrt_memantine_ha',
  'locoregional_therapy_primary', 'upfront_mastectomy', 'metastasis_directed_therapy'
] as const
export const SUPPORTIVE_OPTION_IDS = [
  'biopsy_metastasis', 'her2_ish', 'her2_testing', 'staging_imaging', 'brain_mri', 'spine_mri',
  'iv_hydration', 'calcitonin', 'radionecrosis_workup', 'denosumab',
  'zoledronic_acid', 'pamidronate', 'dental_evaluation', 'calcium_vitamin_d',
  'cardio_oncology_referral', 'palliative_care', 'dpyd_testing', 'contraception_counselling',
  'pregnancy_test', 'antiemetic_prophylaxis', 'patient_education_mscc'
] as const
export const FOLLOW_UP_OPTION_IDS = [
  'restaging_imaging', 'lvef_monitoring', 'ild_monitoring', 'renal_monitoring', 'calcium_monitoring',
  'brain_mri_surveillance', 'spine_mri_on_symptoms', 'toxicity_review'
] as const
export const OPTION_IDS = [
  ...SYSTEMIC_OPTION_IDS, ...LOCAL_OPTION_IDS, ...SUPPORTIVE_OPTION_IDS, ...FOLLOW_UP_OPTION_IDS
] as const
export const OptionId = z.enum(OPTION_IDS).meta({
  id: 'OptionId',
  description: 'Identifier of a therapeutic, diagnostic, supportive or follow-up option (spec/api.md "Option ids").'
})
export type OptionId = z.infer<typeof OptionId>

/** The derived treatment decision (spec/clinical-rules.md Part 1, `treatmentDecision`). */
export const TREATMENT_DECISIONS = ['start_line', 'continue_line', 'toxicity_switch'] as const
export type TreatmentDecision = typeof TREATMENT_DECISIONS[number]

/*
 * The derived classifications of the response's `assessment` (spec/api.md), which rules test as
 * facts of the same name: the zod enums, the fact catalogue and the engine's types derive from these.
 */
export const STAGES = ['IV', 'non_metastatic'] as const
export const HER2_STATUSES = ['positive', 'negative', 'equivocal', 'unknown'] as const
export type Her2Status = typeof HER2_STATUSES[number]
export const ER_STATUSES = ['positive', 'low', 'negative'] as const
export type ErStatus = typeof ER_STATUSES[number]
export const SPINAL_CORD_COMPRESSIONS = ['none', 'radiological', 'with_neurological_deficit'] as const
export type SpinalCordCompression = typeof SPINAL_CORD_COMPRESSIONS[number]
/** The SINS categories (0–6, 7–12, 13–18), then unknown (a lesion without SINS) and not_applicable (no spine lesion). */
export const SPINAL_INSTABILITIES = ['stable', 'potentially_unstable', 'unstable', 'unknown', 'not_applicable'] as const
export type SpinalInstability = typeof SPINAL_INSTABILITIES[number]

/** What a rule is evaluated for: the case once, or each spine / non-spine bone lesion. */
export const RULE_SCOPES = ['case', 'spine_lesion', 'bone_lesion'] as const
export type RuleScope = typeof RULE_SCOPES[number]

export const STRENGTHS = ['urgent', 'avoid', 'recommended', 'consider', 'info'] as const
export const Strength = z.enum(STRENGTHS).meta({
  id: 'Strength',
  description: 'urgent: same-day action or oncological emergency; recommended: standard of care; consider: an option for MDT or shared decision; avoid: do not do; info: classification or explanation.'
})
export type Strength = z.infer<typeof Strength>

export const DOMAINS = ['classification', 'local_therapy', 'systemic_therapy', 'supportive_care', 'follow_up'] as const
export const Domain = z.enum(DOMAINS).meta({ id: 'Domain', description: 'The part of care a recommendation belongs to.' })
export type Domain = z.infer<typeof Domain>

export const VERIFICATIONS = ['verified', 'partial', 'unverified'] as const
export const Verification = z.enum(VERIFICATIONS).meta({
  id: 'Verification',
  description: 'How far the reference was checked against a retrievable source: verified, partial(ly verified) or unverified.'
})
export type Verification = z.infer<typeof Verification>

export const SPINE_LEVELS = [
  'C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7',
  'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9', 'T10', 'T11', 'T12',
  'L1', 'L2', 'L3', 'L4', 'L5',
  'S1', 'S2', 'S3', 'S4', 'S5'
] as const
export type SpineLevel = typeof SPINE_LEVELS[number]

export const NON_SPINE_SITES = ['femur', 'humerus', 'pelvis', 'rib', 'sternum', 'skull', 'other'] as const

export const RefId = z.string().regex(/^R[1-9]\d*$/).meta({ description: 'Reference catalogue id, R<n> (GET /v1/references).' })

export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/).meta({ description: 'A sha256 digest, "sha256:" and 64 hex digits.' })

/** A ruleset as loaded: served by /health/ready, /v1/rulesets and every response's provenance. */
export const RulesetSummary = z.object({
  id: z.string().describe('Ruleset id.'),
  version: z.string().describe('Ruleset version (semantic versioning).'),
  digest: Digest.describe('sha256 of the ruleset file as loaded.')
}).meta({ id: 'RulesetSummary', description: 'A ruleset as loaded.' })
