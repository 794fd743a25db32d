import { MappingContext, type MappingState } from './mapping-context.js'
import { mapPatient } from './sections/patient.js'
import { mapConditions } from './sections/conditions.js'
import { mapStaging } from './sections/staging.js'
import { mapMarkers } from './sections/markers.js'
import { mapObservations, mapLvefBaseline } from './sections/observations.js'
import { mapMedications } from './sections/medications.js'
import { mapProcedures } from './sections/procedures.js'
import { deriveFields } from './sections/derived.js'
import { mapFacts } from './sections/facts.js'
import { missingRequired } from './sections/required.js'
import type { FhirResource, MapOptions, MappingResult } from './types.js'

/**
 * mapFhir: FHIR R4 resources of one patient → a `Case` with the source of every value, the gaps and
 * the warnings (spec/ehr-integration.md §6). Pure and framework-free: the /v1 FHIR input and the
 * CDS Hooks services both call it.
 *
 * `resources` are the patient's resources after the patient rule (§6.1 rule 1) and deduplication;
 * `resolve` resolves a reference as §5 says. The sections run in this order because each reads what
 * the ones before it wrote (`ctx.state`): conditions give the primary, the sites and the lesions;
 * staging completes the metastatic date; medications need that date; the LVEF baseline needs the
 * first anti-HER2 date; procedures need the lesions; facts come after every derivation so that a fact
 * can override it (§6.8).
 */
export function mapFhir (resources: readonly FhirResource[], options: MapOptions, resolve: MappingContext['resolve']): MappingResult {
  return mapFhirWithState(resources, options, resolve).result
}

/** mapFhir, also returning the state the sections shared (src/fhir/index.ts reads the primary Conditions). */
export function mapFhirWithState (resources: readonly FhirResource[], options: MapOptions, resolve: MappingContext['resolve']): { result: MappingResult, state: MappingState } {
  const ctx = new MappingContext(resources, options, resolve)
  const sections = [
    mapPatient, mapConditions, mapStaging, mapMarkers, mapObservations, mapMedications, mapLvefBaseline,
    mapProcedures, deriveFields, mapFacts
  ]
  for (const section of sections) section(ctx)
  // missingRequired first: it completes the fields that are never missing (§6.9) before the draft is returned.
  const missing = missingRequired(ctx)
  return { result: { case: ctx.draft, sources: ctx.sources, gaps: ctx.gaps, warnings: ctx.warnings, missing }, state: ctx.state }
}
