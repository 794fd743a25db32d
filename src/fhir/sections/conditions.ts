import type { MappingContext } from '../mapping-context.js'

/** §6.3 primary, metastatic sites, regional vs distant nodes, lesions; metastaticDiagnosisDate — TO BE WRITTEN (helper fhir-conditions). */
export function mapConditions (_ctx: MappingContext): void {}
