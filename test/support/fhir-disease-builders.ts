import { SYSTEMS } from '../../src/fhir/constants.js'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { mapConditions } from '../../src/fhir/sections/conditions.js'
import { deriveFields } from '../../src/fhir/sections/derived.js'
import { mapProcedures } from '../../src/fhir/sections/procedures.js'
import { mapStaging } from '../../src/fhir/sections/staging.js'
import type { FhirResource } from '../../src/fhir/types.js'

/**
 * Small FHIR builders for the tests of the disease sections (§6.3 conditions, §6.8 staging, §6.7
 * procedures, §6.8 derived fields) and a runner that applies them in the order of src/fhir/map.ts.
 */

export const SCT = SYSTEMS.snomed
export const LNC = SYSTEMS.loinc
export const ICD10CM = SYSTEMS.icd10cm
export const ICD10 = SYSTEMS.icd10
export const EVALUATION_DATE = '2026-06-01'
export const LATERALITY_URL = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier'

export interface Concept { coding?: Array<{ system?: string, code?: string, display?: string }>, text?: string, extension?: unknown[] }

/** A CodeableConcept with one coding. */
export const coded = (system: string, code: string, display?: string): Concept => ({ coding: [{ system, code, ...(display === undefined ? {} : { display }) }] })
/** A CodeableConcept with text only. */
export const text = (words: string): Concept => ({ text: words })
/** A bodySite with a laterality qualifier (SNOMED 24028007 right, 7771000 left). */
export const lateral = (site: Concept, side: 'left' | 'right'): Concept => ({
  ...site,
  extension: [{ url: LATERALITY_URL, valueCodeableConcept: coded(SCT, side === 'right' ? '24028007' : '7771000') }]
})

const subject = { reference: 'Patient/p1' }

export interface ConditionOptions { bodySite?: Concept[], onset?: string, recorded?: string, verification?: string }

export function condition (id: string, code: Concept, options: ConditionOptions = {}): FhirResource {
  return {
    resourceType: 'Condition',
    id,
    subject,
    code,
    ...(options.verification === undefined ? {} : { verificationStatus: coded('http://terminology.hl7.org/CodeSystem/condition-ver-status', options.verification) }),
    ...(options.bodySite === undefined ? {} : { bodySite: options.bodySite }),
    ...(options.onset === undefined ? {} : { onsetDateTime: options.onset }),
    ...(options.recorded === undefined ? {} : { recordedDate: options.recorded })
  }
}

/** A primary breast cancer (SNOMED 254837009) on a side. */
export const primary = (id: string, side: 'left' | 'right' | undefined, onset?: string): FhirResource =>
  condition(id, coded(SCT, '254837009', 'Malignant neoplasm of breast'), {
    ...(side === undefined ? {} : { bodySite: [lateral(coded(SCT, '76752008', 'Breast structure'), side)] }),
    ...(onset === undefined ? {} : { onset })
  })

/** A bone metastasis (SNOMED 94222008) at a bodySite given as text. */
export const boneMet = (id: string, site: string | undefined, onset?: string): FhirResource =>
  condition(id, coded(SCT, '94222008', 'Secondary malignant neoplasm of bone'), {
    ...(site === undefined ? {} : { bodySite: [text(site)] }),
    ...(onset === undefined ? {} : { onset })
  })

export function observation (id: string, code: Concept, value: Record<string, unknown>, date: string | undefined, status = 'final'): FhirResource {
  return { resourceType: 'Observation', id, status, subject, code, ...value, ...(date === undefined ? {} : { effectiveDateTime: date }) }
}

export interface ProcedureOptions {
  bodySite?: Concept[]
  performedDateTime?: string
  performedPeriod?: { start?: string, end?: string }
  extension?: unknown[]
  status?: string
  reasonReference?: Array<{ reference: string }>
}

export function procedure (id: string, code: Concept, options: ProcedureOptions = {}): FhirResource {
  const { status = 'completed', ...rest } = options
  return { resourceType: 'Procedure', id, status, subject, code, ...rest }
}

export const DOSE_URL = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume'
export const SESSIONS_URL = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-sessions'
export const TECHNIQUE_URL = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-modality-and-technique'

/** An mCODE dose-delivered-to-volume extension. */
export function doseToVolume (dose: number | undefined, unit: string, fractions?: number): Record<string, unknown> {
  return {
    url: DOSE_URL,
    extension: [
      { url: 'volume', valueReference: { reference: 'BodyStructure/volume' } },
      ...(dose === undefined ? [] : [{ url: 'totalDoseDelivered', valueQuantity: { value: dose, unit, system: 'http://unitsofmeasure.org', code: unit } }]),
      ...(fractions === undefined ? [] : [{ url: 'fractionsDelivered', valueUnsignedInt: fractions }])
    ]
  }
}

/** The trivial resolver of these tests: `Type/id` among the resources. */
export function resolverOf (resources: readonly FhirResource[]): MappingContext['resolve'] {
  return (reference) => resources.find((resource) => `${resource.resourceType}/${resource.id ?? ''}` === reference)
}

export type Section = (ctx: MappingContext) => void

/** The disease sections in the order of src/fhir/map.ts. */
export const DISEASE_SECTIONS: readonly Section[] = [mapConditions, mapStaging, mapProcedures, deriveFields]

/** Builds a context for the resources and runs the sections in order. */
export function run (resources: FhirResource[], sections: readonly Section[] = DISEASE_SECTIONS, evaluationDate = EVALUATION_DATE): MappingContext {
  const ctx = new MappingContext(resources, { patientRef: 'Patient/p1', evaluationDate }, resolverOf(resources))
  for (const section of sections) section(ctx)
  return ctx
}

/** The warning codes of a run, in order. */
export const codes = (ctx: MappingContext): string[] => ctx.warnings.map((warning) => warning.code)
