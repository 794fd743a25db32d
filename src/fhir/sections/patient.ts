import type { MappingContext } from '../mapping-context.js'

/** §6.2 patient.ageYears, patient.sex; context and caseId from options — TO BE WRITTEN (helper fhir-core). */
export function mapPatient (_ctx: MappingContext): void {}
