/**
 * The LOINC and SNOMED CT codes the mapping reads (spec/ehr-integration.md §4.1, §6.4, §6.5, §6.8):
 * one module, shared by the mapping tables of §6 and the prefetch templates of §4.1 (a test checks
 * they agree). Codes marked [U] in the spec are unverified against a terminology release: they are
 * kept here only, so that a correction is a one-line change with a test.
 */

export const LOINC_CODES = {
  her2Ihc: ['85319-2', '18474-7'],
  her2IshResult: ['85318-4', '31150-6'],
  her2IshRatio: ['49683-6'],
  her2IshCopyNumber: ['74860-8'],
  her2Overall: ['48676-1'],
  erPercent: ['85329-1', '14228-1'],
  prPercent: ['85325-9', '14230-7'],
  erPresence: ['85337-4', '40556-3', '16112-5'],
  prPresence: ['85339-0', '40557-1', '16113-3'],
  ecog: ['89247-1'],
  diseaseStatus: ['97509-4'],
  lvef: ['10230-1'],
  /** 2160-0 serum creatinine in mg/dL; 14682-9 in umol/L. */
  creatinine: ['2160-0', '14682-9'],
  /** Measured 24-h creatinine clearance (not Cockcroft–Gault). */
  creatinineClearanceMeasured: ['2164-2'],
  bodyWeight: ['29463-7'],
  /** Albumin-corrected calcium (mmol/L). */
  correctedCalcium: ['29265-6'],
  /** Total calcium, uncorrected (mg/dL): never mapped to correctedCalcium (§6.5). */
  totalCalcium: ['17861-6'],
  /** 62292-8 25-OH D2+D3; 1989-3 25-OH D3 [U]. */
  vitaminD: ['62292-8', '1989-3'],
  pregnancy: ['82810-3'],
  /** Pain severity 0–10 [U] (§6.8, lesion pain with `focus`). */
  painSeverity: ['72514-3'],
  /** [U] the LOINC T/N/M codes. */
  stagingT: ['21905-5', '21899-0'],
  stagingN: ['21906-3', '21900-6'],
  stagingM: ['21907-1', '21901-4'],
  stageGroup: ['21908-9', '21902-2']
} as const

export const SNOMED_STAGING_CODES = {
  stagingT: ['399504009'],
  stagingN: ['399534004'],
  stagingM: ['399387003'],
  stageGroup: ['399537006', '399588009']
} as const

/** Disease-status answers (97509-4), §6.8. */
export const DISEASE_STATUS_ANSWERS = {
  improved: '268910001',
  stable: '359746009',
  worsened: '271299001',
  undetermined: '709137006'
} as const

/* ------------------------------------------------------------------------------------------------
 * §6.3 Conditions and §6.7 Procedures. ICD-10 codes are written with their dot; the mapper compares
 * them without it (an EHR may send `C7951` or `C79.51`). SNOMED subsumption is not available
 * offline (§6.1 rule 6): these lists are seeds, a code is added only with a source and a test.
 * ---------------------------------------------------------------------------------------------- */

/** §6.3 primary breast cancer. ICD-10(-CM): every code under C50. */
export const PRIMARY_BREAST_CANCER_CODES = {
  snomed: ['254837009', '372137005', '408643008'],
  icd10Prefix: 'C50'
} as const

/**
 * §6.3 metastatic sites: the SNOMED and ICD-10(-CM) codes of each `metastaticSites` value. `nodes`
 * is decided by the node table (regional vs distant); `other` takes every other C78.x, C79.x, C7B.x.
 * 94225005 (brain) is [U].
 */
export const METASTATIC_SITE_CODES = {
  leptomeningeal: { snomed: [], icd10: ['C79.32'] },
  brain: { snomed: ['94225005'], icd10: ['C79.31'] },
  bone: { snomed: ['94222008'], icd10: ['C79.5', 'C79.51', 'C79.52'] },
  liver: { snomed: ['94381002'], icd10: ['C78.7'] },
  lung: { snomed: ['94391008'], icd10: ['C78.0', 'C78.00', 'C78.01', 'C78.02'] },
  pleura: { snomed: [], icd10: ['C78.2'] },
  skin_soft_tissue: { snomed: [], icd10: ['C79.2'] },
  /** Secondary malignant neoplasm of axillary lymph nodes; every C77.x (the group table decides). */
  nodes: { snomed: ['94181007'], icd10: [] },
  /** The generic codes of GENERIC_SECONDARY_CODES also classify as `other` until bodySite names a site. */
  other: { snomed: [], icd10: [] }
} as const

/** ICD-10(-CM) prefixes: nodes C77.x; `other` any other C78.x, C79.x, C7B.x (§6.3). */
export const SECONDARY_ICD10_PREFIXES = {
  nodes: ['C77'],
  other: ['C78', 'C79', 'C7B']
} as const

/**
 * §6.3 "a generic secondary code (SNOMED 128462008, or any secondary code without a site) takes its
 * site from bodySite". The ICD-10(-CM) codes whose title names no site: C79.8 / C79.89 "other
 * specified sites", C79.9 "unspecified site".
 */
export const GENERIC_SECONDARY_CODES = {
  snomed: ['128462008'],
  icd10: ['C79.8', 'C79.89', 'C79.9']
} as const

/** §6.3 node groups by ICD-10(-CM) code: C77.3 axilla (regional group, side decides); C77.2, C77.4, C77.5 always distant; the rest need a bodySite that names the group. */
export const NODE_GROUP_CODES = {
  axillarySnomed: ['94181007'],
  axillaryIcd10: ['C77.3'],
  distantIcd10: ['C77.2', 'C77.4', 'C77.5'],
  groupFromBodySiteIcd10: ['C77.0', 'C77.1', 'C77.8', 'C77.9']
} as const

/** §6.3 the mCODE laterality qualifier on `bodySite`: SNOMED 24028007 right, 7771000 left [U]. */
export const LATERALITY = {
  extensionUrl: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier',
  right: '24028007',
  left: '7771000'
} as const

/**
 * §6.3 vertebral regions without a level (SNOMED body structures). 122496007 "Structure of lumbar
 * vertebral column" is lumbar (the spec names it); the others are [U] and their region is not
 * stated, so they stand for the whole spine unless their words name a region.
 */
export const SPINE_REGION_CODES = {
  lumbar: ['122496007'],
  unspecified: ['421060004', '35769007', '73903008', '87141009', '122494005']
} as const

/** §6.7 procedures. */
export const PROCEDURE_CODES = {
  /** 1217123003 mCODE Radiotherapy Course Summary; 53438000, 448385000, 445232009. */
  radiotherapy: ['1217123003', '53438000', '448385000', '445232009'],
  /**
   * §6.8a spine surgery needs a SNOMED descendant of 387713003 "surgical procedure". Without
   * subsumption the seed is the concept itself (the spec names no descendant for the spine; the text
   * rule of §6.7 covers the named operations).
   */
  surgicalProcedure: ['387713003'],
  /** 392021009 lumpectomy of breast (breast surgery, §6.7). */
  breastSurgery: ['392021009']
} as const

/** §6.7 mCODE radiotherapy extensions (sub-extensions `totalDoseDelivered`, `fractionsDelivered`). */
export const MCODE_RT_EXTENSIONS = {
  doseDeliveredToVolume: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume',
  sessions: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-sessions',
  modalityAndTechnique: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-modality-and-technique'
} as const

/** §6.8 stage group values of the AJCC code system (`4` is stage IV). */
export const CANCER_STAGING_SYSTEM = 'http://cancerstaging.org'

/**
 * §6.3 the primary's side from an ICD-10-CM C50 code, as the spec writes it: `C50.x1x` right,
 * `C50.x2x` left, i.e. the character at `index` of the code written without its dot (C50 = 0–2, then
 * x = 3, the side digit = 4). NB: ICD-10-CM itself puts the sex there (C50.x1x female, C50.x2x male)
 * and the side in the sixth character (C50.xx1 right, C50.xx2 left, index 5): reported as a spec
 * error; correcting it is this one number.
 */
export const ICD10CM_BREAST_SIDE = { index: 4, right: '1', left: '2' } as const
