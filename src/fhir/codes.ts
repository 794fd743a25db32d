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

/**
 * Answer codes of the tumour-marker value classes (§6.4): LOINC answers LA6577-6 / LA6576-8 and SNOMED
 * qualifiers 260385009 / 10828004. As (system, code) pairs, since the systems differ.
 */
export const MARKER_ANSWERS = {
  negative: [['http://loinc.org', 'LA6577-6'], ['http://snomed.info/sct', '260385009']],
  positive: [['http://loinc.org', 'LA6576-8'], ['http://snomed.info/sct', '10828004']]
} as const

/** Pregnancy-status answers (82810-3), §6.5 [U: answer codes]. */
export const PREGNANCY_ANSWERS = {
  pregnant: [['http://loinc.org', 'LA15173-0'], ['http://snomed.info/sct', '77386006']],
  notPregnant: [['http://loinc.org', 'LA26683-5'], ['http://snomed.info/sct', '60001007']]
} as const
