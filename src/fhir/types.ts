import type { z } from 'zod'
import type { CaseShape, JURISDICTIONS } from '../schemas/case.js'

/**
 * The shared types of the FHIR → Case mapping (spec/ehr-integration.md §6). Framework-free: nothing
 * under src/fhir imports Fastify.
 */

/** Any FHIR resource, read structurally: unknown elements and extensions pass (§5). */
export interface FhirResource {
  resourceType: string
  id?: string
  [element: string]: unknown
}

/** Every mapping warning code of §6.10 (all start with FHIR_, so equivalence tests can set them apart). */
export const FHIR_WARNING_CODES = [
  'FHIR_OTHER_PATIENT_RESOURCE', 'FHIR_NO_SUBJECT',
  'FHIR_ENTRY_WITHOUT_RESOURCE', 'FHIR_DUPLICATE_RESOURCE', 'FHIR_ELEMENT_MALFORMED',
  'FHIR_PREFETCH_MALFORMED', 'FHIR_DATA_PARTIAL', 'FHIR_DATA_UNAVAILABLE',
  'FHIR_MATCHED_BY_TEXT', 'FHIR_CODE_DISPLAY_CONFLICT', 'FHIR_VALUE_UNREADABLE', 'FHIR_VALUE_OUT_OF_RANGE',
  'FHIR_PARTIAL_DATE', 'FHIR_FUTURE_DATED', 'FHIR_UNDATED', 'FHIR_CONFLICTING_SAME_DATE', 'FHIR_PRELIMINARY_IGNORED', 'FHIR_UNCONFIRMED_CONDITION',
  'FHIR_SEX_FROM_GENDER', 'FHIR_SEX_CONFLICT',
  'FHIR_SITE_UNRECOGNISED', 'FHIR_NODE_LATERALITY_UNKNOWN', 'FHIR_SPINE_LEVEL_UNKNOWN',
  'FHIR_HER2_NUMERIC_SCORE', 'FHIR_HER2_STATUS_WITHOUT_SCORE', 'FHIR_HER2_CONFLICT', 'FHIR_ER_PERCENT_STAND_IN',
  'FHIR_CALCIUM_UNCORRECTED_ONLY', 'FHIR_CALCIUM_UNCORRECTED_HIGH', 'FHIR_CRCL_DERIVED', 'FHIR_CRCL_MEASURED',
  'FHIR_MEDICATION_UNRESOLVED', 'FHIR_HISTORY_UNSPLIT', 'FHIR_LINES_DERIVED_FROM_MEDICATIONS', 'FHIR_LINE_OUTCOME_ASSUMED', 'FHIR_BMA_STALE', 'FHIR_BMA_OSTEOPOROSIS_PRODUCT',
  'FHIR_RT_SITE_WITHOUT_LESION', 'FHIR_PRIOR_RT_LEVEL_UNKNOWN', 'FHIR_PRIOR_RT_INCOMPLETE', 'FHIR_SURGERY_LEVEL_UNKNOWN',
  'FHIR_FACT_NOT_ALLOWED', 'FHIR_FACT_OVERRIDES_DERIVED', 'FHIR_FACT_INCONSISTENT', 'FHIR_PRESENTATION_ASSUMED',
  'FHIR_UNIT_UNKNOWN', 'FHIR_LESION_SITE_UNKNOWN'
] as const
export type FhirWarningCode = typeof FHIR_WARNING_CODES[number]

export interface MappingWarning { code: FhirWarningCode, message: string }

/**
 * Where a Case value came from (§6.1 rule 8): the clinical label (the engine's because[].label words),
 * a display with value, unit and date ("35 % (2026-01-10)"), and the resources as relative references.
 * A stand-in (§6.1 rule 9) keeps the original in `display`; cards show the display, never the stand-in.
 */
export interface SourceEntry {
  label: string
  display: string
  refs: string[]
  date?: string
  standIn?: true
}

/** A Case path as the spec writes it: dotted, with indices for lesions and lines (`disease.spineLesions[0].level`). */
export type CasePath = string

export interface MapOptions {
  /** The one Patient, as `Patient/{id}`. */
  patientRef: string
  /** "Today" (YYYY-MM-DD): nothing later than it is used. */
  evaluationDate: string
  jurisdiction?: typeof JURISDICTIONS[number]
  caseId?: string
}

type DeepPartial<T> = T extends ReadonlyArray<infer E>
  ? Array<DeepPartial<E>>
  : T extends object ? { -readonly [K in keyof T]?: DeepPartial<T[K]> } : T

/** The Case as the mapper builds it: any field may still be missing (then `missing` lists the required ones). */
export type CaseDraft = DeepPartial<z.input<typeof CaseShape>>

export interface MappingResult {
  case: CaseDraft
  sources: Record<CasePath, SourceEntry>
  /** Per Case path: why a value present in FHIR could not be used. */
  gaps: Record<CasePath, string[]>
  warnings: MappingWarning[]
  /** Required Case paths with no value (§6.9), e.g. `patient.ecog`. */
  missing: CasePath[]
}
