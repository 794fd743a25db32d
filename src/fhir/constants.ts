/**
 * The EHR-integration constants of spec/ehr-integration.md ("Constants"): one module, imported by the
 * mapper, the CDS Hooks services, the fixture bundles and the tests. The two CodeSystem URLs are
 * identifiers, not locators: changing them breaks integrations.
 */

/** The version of the FHIR → Case mapping (card footers and logs). Bump it when a mapping rule changes. */
export const MAPPING_VERSION = '1.0.0'

export const CDS_HOOKS_SPEC_VERSION = '2.0.1'
export const HOOK_VERSION = '1.0'
export const CASE_FACT_SYSTEM = 'https://her2-mbc-cds.example.org/fhir/CodeSystem/case-fact'
export const CARD_TOPIC_SYSTEM = 'https://her2-mbc-cds.example.org/fhir/CodeSystem/card-topic'
export const CARD_UUID_NAMESPACE = '895dfa3a-ca69-4e73-bf30-fcb5b620e849'
export const OVERRIDE_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes'

/** Code systems, compared exactly (§6.1 rule 6). */
export const SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  ucum: 'http://unitsofmeasure.org',
  caseFact: CASE_FACT_SYSTEM
} as const
