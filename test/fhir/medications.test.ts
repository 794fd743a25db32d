import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { CASE_FACT_SYSTEM, SYSTEMS } from '../../src/fhir/constants.js'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { History } from '../../src/schemas/case.js'
import {
  agentsOfMedication, BMA_GAP_DAYS, EARLY_STAGE_JOIN_DAYS, intervalWeeksOf, LINE_JOIN_DAYS, mapMedications
} from '../../src/fhir/sections/medications.js'
import type { FhirResource, FhirWarningCode } from '../../src/fhir/types.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/* ------------------------------------------------------------------ helpers */

const EVALUATION_DATE = '2026-03-25'
const PATIENT = 'Patient/p1'

/** The calendar date `days` after `date` (UTC). */
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

type Json = Record<string, unknown>

/** `Type/id`, `#id` (contained) and fullUrl references, as fhir-core's resolver does (§5). */
function resolverOf (resources: readonly FhirResource[], fullUrls: ReadonlyMap<string, FhirResource> = new Map()) {
  return (reference: string, from?: FhirResource): FhirResource | undefined => {
    if (reference.startsWith('#')) {
      return (Array.isArray(from?.contained) ? from.contained as FhirResource[] : []).find((item) => item.id === reference.slice(1))
    }
    return fullUrls.get(reference) ?? resources.find((resource) => `${resource.resourceType}/${resource.id ?? ''}` === reference)
  }
}

interface ContextOptions {
  evaluationDate?: string
  metastaticDiagnosisDate?: string
  primary?: FhirResource[]
  metastatic?: FhirResource[]
  resolve?: MappingContext['resolve']
}

function contextOf (resources: FhirResource[], options: ContextOptions = {}): MappingContext {
  const all = [...(options.primary ?? []), ...(options.metastatic ?? []), ...resources]
  const ctx = new MappingContext(all, { patientRef: PATIENT, evaluationDate: options.evaluationDate ?? EVALUATION_DATE }, options.resolve ?? resolverOf(all))
  if (options.metastaticDiagnosisDate !== undefined) ctx.draft.disease = { metastaticDiagnosisDate: options.metastaticDiagnosisDate }
  ctx.state.primaryConditions.push(...(options.primary ?? []))
  ctx.state.metastaticConditions.push(...(options.metastatic ?? []))
  return ctx
}

function mapped (resources: FhirResource[], options: ContextOptions = {}): MappingContext {
  const ctx = contextOf(resources, options)
  mapMedications(ctx)
  return ctx
}

const codesOf = (ctx: MappingContext): FhirWarningCode[] => ctx.warnings.map((warning) => warning.code)
const warningsOf = (ctx: MappingContext, code: FhirWarningCode): string[] => ctx.warnings.filter((warning) => warning.code === code).map((warning) => warning.message)
const linesOf = (ctx: MappingContext) => ctx.draft.history?.metastaticLines ?? []
const lineAgents = (ctx: MappingContext): string[][] => linesOf(ctx).map((line) => line.agents as string[])

/* drugs */
type Drug = Json
const text = (value: string): Drug => ({ medicationCodeableConcept: { text: value } })
const rxnorm = (code: string, display?: string): Drug => ({
  medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, code, ...(display === undefined ? {} : { display }) }] }
})

let counter = 0
const nextId = (prefix: string): string => `${prefix}${++counter}`

interface RequestOptions { start?: string, end?: string, authoredOn?: string, status?: string, repeat?: Json, id?: string, extra?: Json }
/** A MedicationRequest: boundsPeriod from `start`/`end`, `authoredOn`, and an optional timing.repeat. */
function request (drug: Drug, options: RequestOptions = {}): FhirResource {
  const bounds = options.start === undefined && options.end === undefined
    ? {}
    : { boundsPeriod: { ...(options.start === undefined ? {} : { start: options.start }), ...(options.end === undefined ? {} : { end: options.end }) } }
  const repeat = { ...bounds, ...(options.repeat ?? {}) }
  return {
    resourceType: 'MedicationRequest',
    id: options.id ?? nextId('mr'),
    status: options.status ?? 'active',
    intent: 'order',
    subject: { reference: PATIENT },
    ...drug,
    ...(options.authoredOn === undefined ? {} : { authoredOn: options.authoredOn }),
    ...(Object.keys(repeat).length === 0 ? {} : { dosageInstruction: [{ timing: { repeat } }] }),
    ...(options.extra ?? {})
  }
}

interface EventOptions { date?: string, start?: string, end?: string, status?: string, id?: string, extra?: Json }
function event (resourceType: 'MedicationAdministration' | 'MedicationStatement', drug: Drug, options: EventOptions): FhirResource {
  const period = options.start === undefined && options.end === undefined
    ? {}
    : { effectivePeriod: { ...(options.start === undefined ? {} : { start: options.start }), ...(options.end === undefined ? {} : { end: options.end }) } }
  return {
    resourceType,
    id: options.id ?? nextId(resourceType === 'MedicationStatement' ? 'ms' : 'ma'),
    status: options.status ?? 'completed',
    subject: { reference: PATIENT },
    ...drug,
    ...(options.date === undefined ? {} : { effectiveDateTime: options.date }),
    ...period,
    ...(options.extra ?? {})
  }
}
const administration = (drug: Drug, options: EventOptions): FhirResource => event('MedicationAdministration', drug, options)
const statement = (drug: Drug, options: EventOptions): FhirResource => event('MedicationStatement', drug, options)

/** A 97509-4 disease-status Observation; `answer` a SNOMED code (default 271299001 worsened). */
function diseaseStatus (date: string, options: { answer?: string, pattern?: Json, status?: string, id?: string } = {}): FhirResource {
  return {
    resourceType: 'Observation',
    id: options.id ?? nextId('ds'),
    status: options.status ?? 'final',
    subject: { reference: PATIENT },
    code: { coding: [{ system: SYSTEMS.loinc, code: '97509-4' }] },
    effectiveDateTime: date,
    valueCodeableConcept: { coding: [{ system: SYSTEMS.snomed, code: options.answer ?? '271299001' }] },
    ...(options.pattern === undefined
      ? {}
      : { component: [{ code: { coding: [{ system: CASE_FACT_SYSTEM, code: 'history.metastaticLines.progressionPattern' }] }, ...options.pattern }] })
  }
}
const patternConcept = (code: string): Json => ({ valueCodeableConcept: { coding: [{ system: CASE_FACT_SYSTEM, code }] } })

const condition = (id: string, code: string, system: string = SYSTEMS.snomed): FhirResource => ({
  resourceType: 'Condition', id, subject: { reference: PATIENT }, code: { coding: [{ system, code }] }
})
const PRIMARY = condition('primary', '254837009')
const BONE = condition('bone', '94222008')

/* ------------------------------------------------------------------ the drug of a resource */

t.test('drug from medicationCodeableConcept: an RxNorm code of the table → its agent, no warning', async (t) => {
  const ctx = mapped([statement(rxnorm('1158877', 'capecitabine Oral Product'), { date: '2025-01-10' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine']])
  t.notOk(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'))
  t.notOk(codesOf(ctx).includes('FHIR_CODE_DISPLAY_CONFLICT'))
})

t.test('drug from medicationReference to a contained Medication (ctx.resolve with #id)', async (t) => {
  const resource = request({ medicationReference: { reference: '#med' } }, { start: '2025-01-10' })
  resource.contained = [{ resourceType: 'Medication', id: 'med', code: { coding: [{ system: SYSTEMS.rxnorm, code: '200328' }] } }]
  const ctx = mapped([resource], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine']])
})

t.test('drug from a contained Medication when the resolver does not look into contained', async (t) => {
  const resource = request({ medicationReference: { reference: '#med' } }, { start: '2025-01-10' })
  resource.contained = [{ resourceType: 'Medication', id: 'med', code: { text: 'Enhertu 100 MG' } }]
  const ctx = mapped([resource], { metastaticDiagnosisDate: '2024-01-01', resolve: () => undefined })
  t.strictSame(lineAgents(ctx), [['t_dxd']])
  t.ok(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'))
})

t.test('drug from medicationReference to a Medication in hand', async (t) => {
  const medication: FhirResource = { resourceType: 'Medication', id: 'm1', code: { coding: [{ system: SYSTEMS.rxnorm, code: '1601377' }] } }
  const ctx = mapped([medication, administration({ medicationReference: { reference: 'Medication/m1' } }, { date: '2025-02-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['palbociclib']])
})

t.test('drug from medicationReference.display when the Medication is not in hand (as text)', async (t) => {
  const ctx = mapped([administration({ medicationReference: { reference: 'Medication/absent', display: 'Kadcyla 160 MG' } }, { date: '2025-02-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['t_dm1']])
  t.strictSame(warningsOf(ctx, 'FHIR_MATCHED_BY_TEXT').length, 1)
  t.match(warningsOf(ctx, 'FHIR_MATCHED_BY_TEXT')[0], /MedicationAdministration\/ma\d+: the drug "Kadcyla 160 MG" was recognised by its name/)
})

t.test('drug from medicationReference.display when the Medication in hand has no code', async (t) => {
  const medication: FhirResource = { resourceType: 'Medication', id: 'm2', code: { coding: [{}] } }
  const ctx = mapped([medication, administration({ medicationReference: { reference: 'Medication/m2', display: 'eribulin' } }, { date: '2025-02-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['eribulin']])
})

t.test('a reference to something that is not a Medication falls back to the display', async (t) => {
  const ctx = mapped([PRIMARY, administration({ medicationReference: { reference: 'Condition/primary', display: 'vinorelbine' } }, { date: '2025-02-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['vinorelbine']])
})

t.test('no drug at all: FHIR_MEDICATION_UNRESOLVED, and the resource is not used', async (t) => {
  const ctx = mapped([
    administration({}, { date: '2025-02-01', id: 'none' }),
    administration({ medicationReference: { reference: 'Medication/absent' } }, { date: '2025-02-01', id: 'dangling' }),
    administration({ medicationCodeableConcept: {} }, { date: '2025-02-01', id: 'empty' }),
    administration({ medicationCodeableConcept: 'capecitabine' }, { date: '2025-02-01', id: 'malformed' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(ctx.draft.history, undefined)
  t.strictSame(warningsOf(ctx, 'FHIR_MEDICATION_UNRESOLVED').map((message) => message.split(':')[0]), [
    'MedicationAdministration/none', 'MedicationAdministration/dangling', 'MedicationAdministration/empty', 'MedicationAdministration/malformed'
  ])
})

t.test('an unresolved medication linked to the cancer still counts, as Agent other', async (t) => {
  const ctx = mapped([administration({}, { date: '2025-02-01', extra: { reasonReference: [{ reference: 'Condition/primary' }] } })], { primary: [PRIMARY], metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['other']])
  t.ok(codesOf(ctx).includes('FHIR_MEDICATION_UNRESOLVED'))
})

/* ------------------------------------------------------------------ status (§6.1 rule 3) */

t.test('status filter: the usable statuses are read, the others ignored', async (t) => {
  const usable: Array<['MedicationRequest' | 'MedicationAdministration' | 'MedicationStatement', string]> = [
    ['MedicationRequest', 'active'], ['MedicationRequest', 'completed'], ['MedicationRequest', 'stopped'], ['MedicationRequest', 'on-hold'],
    ['MedicationAdministration', 'completed'], ['MedicationAdministration', 'in-progress'], ['MedicationAdministration', 'stopped'],
    ['MedicationStatement', 'active'], ['MedicationStatement', 'completed'], ['MedicationStatement', 'stopped'], ['MedicationStatement', 'on-hold']
  ]
  const ignored: Array<['MedicationRequest' | 'MedicationAdministration' | 'MedicationStatement', string]> = [
    ['MedicationRequest', 'draft'], ['MedicationRequest', 'cancelled'], ['MedicationRequest', 'entered-in-error'], ['MedicationRequest', 'unknown'],
    ['MedicationAdministration', 'not-done'], ['MedicationAdministration', 'on-hold'], ['MedicationAdministration', 'entered-in-error'], ['MedicationAdministration', 'unknown'],
    ['MedicationStatement', 'intended'], ['MedicationStatement', 'not-taken'], ['MedicationStatement', 'entered-in-error'], ['MedicationStatement', 'unknown']
  ]
  const build = (type: string, status: string): FhirResource => type === 'MedicationRequest'
    ? request(text('capecitabine'), { start: '2025-01-01', status })
    : event(type as 'MedicationStatement', text('capecitabine'), { date: '2025-01-01', status })
  for (const [type, status] of usable) {
    t.strictSame(lineAgents(mapped([build(type, status)], { metastaticDiagnosisDate: '2024-01-01' })), [['capecitabine']], `${type} ${status} used`)
  }
  for (const [type, status] of ignored) {
    t.equal(mapped([build(type, status)], { metastaticDiagnosisDate: '2024-01-01' }).draft.history, undefined, `${type} ${status} ignored`)
  }
})

t.test('a MedicationRequest with doNotPerform true is not an exposure', async (t) => {
  const ctx = mapped([request(text('capecitabine'), { start: '2025-01-01', extra: { doNotPerform: true } })], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(ctx.draft.history, undefined)
})

/* ------------------------------------------------------------------ dates (§6.6 table, §6.1 rule 4) */

t.test('MedicationRequest dates: boundsPeriod start and end', async (t) => {
  const ctx = mapped([request(text('capecitabine'), { start: '2025-01-10', end: '2025-06-30', authoredOn: '2024-12-20' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-01-10' })
  t.equal(ctx.sources['history.metastaticLines[0].startDate']?.display, '2025-01-10')
  // A second line makes the first one end: its endDate is the bounds end.
  const two = mapped([
    request(text('capecitabine'), { start: '2025-01-10', end: '2025-06-30', authoredOn: '2024-12-20' }),
    request(text('eribulin'), { start: '2025-08-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(two)[0], { startDate: '2025-01-10', endDate: '2025-06-30' })
})

t.test('MedicationRequest dates: authoredOn without boundsPeriod.start; the last date is then the first', async (t) => {
  const ctx = mapped([
    request(text('capecitabine'), { authoredOn: '2025-01-10' }),
    request(text('eribulin'), { authoredOn: '2025-08-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-01-10', endDate: '2025-01-10' })
})

t.test('MedicationRequest dates: several dosage instructions give the earliest start and the latest end', async (t) => {
  const resource = request(text('capecitabine'), {})
  resource.dosageInstruction = [
    { timing: { repeat: { boundsPeriod: { start: '2025-03-01', end: '2025-04-01' } } } },
    { timing: { repeat: { boundsPeriod: { start: '2025-01-10', end: '2025-02-01' } } } },
    { text: 'no timing' }
  ]
  const ctx = mapped([resource, request(text('eribulin'), { start: '2025-08-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-01-10', endDate: '2025-04-01' })
})

t.test('MedicationAdministration and MedicationStatement dates: effectiveDateTime, effectivePeriod', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { date: '2025-01-10T09:30:00+01:00' }),
    statement(text('eribulin'), { start: '2025-03-01', end: '2025-05-31' }),
    administration(text('vinorelbine'), { start: '2025-07-01', end: '2025-08-15' }),
    statement(text('gemcitabine'), { date: '2025-10-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(linesOf(ctx).map((line) => [line.startDate, line.endDate]), [
    ['2025-01-10', '2025-01-10'], ['2025-03-01', '2025-05-31'], ['2025-07-01', '2025-08-15'], ['2025-10-01', undefined]
  ])
})

t.test('MedicationStatement without an effective date: dateAsserted, with FHIR_PARTIAL_DATE', async (t) => {
  const resource = statement(text('capecitabine'), { id: 'asserted' })
  resource.dateAsserted = '2025-02-03'
  const ctx = mapped([resource], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-02-03' })
  t.match(warningsOf(ctx, 'FHIR_PARTIAL_DATE'), [/MedicationStatement\/asserted: no effective date/])
})

t.test('a partial date counts as its first day, with FHIR_PARTIAL_DATE', async (t) => {
  const ctx = mapped([statement(text('capecitabine'), { date: '2025-02' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-02-01' })
  t.ok(codesOf(ctx).includes('FHIR_PARTIAL_DATE'))
})

t.test('an undated medication is not placed: FHIR_UNDATED and a gap', async (t) => {
  const ctx = mapped([statement(text('capecitabine'), { id: 'undated' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(ctx.draft.history, undefined)
  t.match(warningsOf(ctx, 'FHIR_UNDATED'), [/MedicationStatement\/undated/])
  t.match(ctx.gaps.history, [/MedicationStatement\/undated has no date/])
})

t.test('§6.1 rule 4: a start after evaluationDate is ignored (FHIR_FUTURE_DATED); an end after it is cut', async (t) => {
  const future = mapped([request(text('capecitabine'), { start: addDays(EVALUATION_DATE, 1), id: 'future' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(future.draft.history, undefined)
  t.match(warningsOf(future, 'FHIR_FUTURE_DATED'), [/MedicationRequest\/future: starts after the evaluation date/])
  const onTheDay = mapped([request(text('capecitabine'), { start: EVALUATION_DATE })], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(onTheDay)[0], { startDate: EVALUATION_DATE }, 'a start on the evaluation date is used')
  const cut = mapped([
    request(text('capecitabine'), { start: '2025-01-01', end: '2027-01-01' }),
    diseaseStatus('2026-01-10')
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(cut)[0], { outcome: 'progression', endDate: EVALUATION_DATE })
  const bma = mapped([request(text('Xgeva'), { start: '2025-01-01', end: '2027-01-01' })])
  t.strictSame(bma.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: '2025-01-01' })
  t.equal(bma.sources['history.boneModifyingAgent.agent']?.date, EVALUATION_DATE, 'the cut last date')
})

t.test('an end before the start counts as the start', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { start: '2025-03-01', end: '2025-01-01' }),
    administration(text('eribulin'), { date: '2025-06-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { startDate: '2025-03-01', endDate: '2025-03-01' })
})

/* ------------------------------------------------------------------ matching (§6.6 rules 1–4) */

t.test('rule 2: text only → agents, with FHIR_MATCHED_BY_TEXT naming the resource', async (t) => {
  const ctx = mapped([administration(text('ado-trastuzumab emtansine 100 MG'), { date: '2025-01-01', id: 'tdm1' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['t_dm1']])
  t.match(warningsOf(ctx, 'FHIR_MATCHED_BY_TEXT'), [/MedicationAdministration\/tdm1: the drug "ado-trastuzumab emtansine 100 MG"/])
})

t.test('rule 2: the codings\' displays when there is no text; a code outside the table falls back to them', async (t) => {
  const ctx = mapped([administration(rxnorm('904425', 'Paclitaxel 100 MG Injection'), { date: '2025-01-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['paclitaxel']])
  t.ok(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'))
})

t.test('rule 2: one text naming several agents gives them all (Phesgo)', async (t) => {
  const ctx = mapped([administration(text('Phesgo'), { date: '2025-01-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['trastuzumab', 'pertuzumab']])
})

t.test('rule 3: code and text disagree → the code wins, FHIR_CODE_DISPLAY_CONFLICT', async (t) => {
  const resource = statement({ medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, code: '1158877' }], text: 'Paclitaxel 100 MG Injection' } }, { date: '2025-01-01', id: 'conflict' })
  const ctx = mapped([resource], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine']])
  t.match(warningsOf(ctx, 'FHIR_CODE_DISPLAY_CONFLICT'), [/MedicationStatement\/conflict: the code and the text "Paclitaxel 100 MG Injection" name different drugs/])
  t.notOk(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'))
})

t.test('rule 3: code and text agree (an SBD with its brand) → no conflict', async (t) => {
  const ctx = mapped([statement(rxnorm('213293', 'capecitabine 500 MG Oral Tablet [Xeloda]'), { date: '2025-01-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine']])
  t.notOk(codesOf(ctx).includes('FHIR_CODE_DISPLAY_CONFLICT'))
})

t.test('rule 4: an unmatched drug not linked to the cancer is ignored, without a warning', async (t) => {
  const ctx = mapped([statement(text('ondansetron 8 MG'), { date: '2025-01-01' })], { primary: [PRIMARY], metastaticDiagnosisDate: '2024-01-01' })
  t.equal(ctx.draft.history, undefined)
  t.strictSame(ctx.warnings, [])
})

t.test('rule 4: an unmatched drug linked to the cancer is Agent other', async (t) => {
  const cases: Array<[string, Json]> = [
    ['reasonReference to the primary', { reasonReference: [{ reference: 'Condition/primary' }] }],
    ['reasonReference to a secondary', { reasonReference: [{ reference: 'Condition/bone' }] }],
    ['reasonCode SNOMED primary', { reasonCode: [{ coding: [{ system: SYSTEMS.snomed, code: '408643008' }] }] }],
    ['reasonCode SNOMED secondary', { reasonCode: [{ coding: [{ system: SYSTEMS.snomed, code: '128462008' }] }] }],
    ['reasonCode ICD-10-CM C50.911', { reasonCode: [{ coding: [{ system: SYSTEMS.icd10cm, code: 'C50.911' }] }] }],
    ['reasonCode ICD-10 C79.51', { reasonCode: [{ coding: [{ system: SYSTEMS.icd10, code: 'C79.51' }] }] }],
    ['reasonCode ICD-10-CM without its dot, C7951', { reasonCode: [{ coding: [{ system: SYSTEMS.icd10cm, code: 'C7951' }] }] }],
    ['reasonCode SNOMED axillary node secondary', { reasonCode: [{ coding: [{ system: SYSTEMS.snomed, code: '94181007' }] }] }],
    ['mcode-procedure-intent extension', { extension: [{ url: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent', valueCodeableConcept: { text: 'palliative' } }] }]
  ]
  for (const [name, extra] of cases) {
    const ctx = mapped([statement(text('investigational agent XY-1'), { date: '2025-01-01', extra })], { primary: [PRIMARY], metastatic: [BONE], metastaticDiagnosisDate: '2024-01-01' })
    t.strictSame(lineAgents(ctx), [['other']], name)
    t.notOk(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'), `${name}: by code or reference`)
  }
})

t.test('rule 4: a reasonCode recognised by text links the drug, with FHIR_MATCHED_BY_TEXT', async (t) => {
  for (const reason of ['Malignant neoplasm of breast', 'metastatic disease']) {
    const ctx = mapped([statement(text('investigational agent XY-1'), { date: '2025-01-01', extra: { reasonCode: [{ text: reason }] } })], { metastaticDiagnosisDate: '2024-01-01' })
    t.strictSame(lineAgents(ctx), [['other']], reason)
    t.match(warningsOf(ctx, 'FHIR_MATCHED_BY_TEXT'), [/its reason was recognised as the cancer by its text/])
  }
})

t.test('rule 4 unusable: other Conditions, other codes, other extensions do not link', async (t) => {
  const hypertension = condition('htn', '38341003')
  const cases: Array<[string, Json]> = [
    ['reasonReference to another Condition', { reasonReference: [{ reference: 'Condition/htn' }] }],
    ['reasonReference that does not resolve', { reasonReference: [{ reference: 'Condition/absent' }, 'malformed', { display: 'no reference' }] }],
    ['reasonCode of another disease', { reasonCode: [{ coding: [{ system: SYSTEMS.snomed, code: '38341003' }, { system: 'http://example.org', code: 'C50' }, { system: SYSTEMS.icd10cm }], text: 'Hypertension' }] }],
    ['reasonCode ICD-10 not cancer', { reasonCode: [{ coding: [{ system: SYSTEMS.icd10cm, code: 'I10' }] }] }],
    ['breast without a cancer word', { reasonCode: [{ text: 'breast pain' }] }],
    ['another extension', { extension: [{ url: 'http://example.org/intent' }, 'malformed'] }]
  ]
  for (const [name, extra] of cases) {
    const ctx = mapped([hypertension, statement(text('investigational agent XY-1'), { date: '2025-01-01', extra })], { primary: [PRIMARY], metastatic: [BONE], metastaticDiagnosisDate: '2024-01-01' })
    t.equal(ctx.draft.history, undefined, name)
  }
})

t.test('bone agents: by code, by name and brand; never a line agent', async (t) => {
  const ctx = mapped([
    statement(rxnorm('1156253'), { date: '2025-06-01' }),
    administration(text('capecitabine'), { date: '2025-06-01' })
  ], { metastaticDiagnosisDate: '2024-01-01', evaluationDate: '2025-07-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine']])
  t.match(ctx.draft.history?.boneModifyingAgent, { agent: 'zoledronic_acid' })
  const named: Array<[string, string]> = [['pamidronate disodium', 'pamidronate'], ['Zometa 4 MG', 'zoledronic_acid'], ['Xgeva', 'denosumab'], ['Aredia', 'pamidronate']]
  for (const [name, agent] of named) {
    const one = mapped([administration(text(name), { date: '2025-06-01' })], { evaluationDate: '2025-07-01' })
    t.match(one.draft.history?.boneModifyingAgent, { agent }, name)
    t.equal(one.draft.history?.metastaticLines, undefined, `${name}: no line`)
    t.notOk(codesOf(one).includes('FHIR_HISTORY_UNSPLIT'), `${name}: no therapy, no FHIR_HISTORY_UNSPLIT`)
  }
})

t.test('[D] osteoporosis products map to their bone agent, with FHIR_BMA_OSTEOPOROSIS_PRODUCT', async (t) => {
  const products: Array<[string, string]> = [['Prolia 60 MG', 'denosumab'], ['Reclast', 'zoledronic_acid'], ['Aclasta', 'zoledronic_acid']]
  for (const [brand, agent] of products) {
    const ctx = mapped([administration(text(brand), { date: '2025-06-01', id: 'osteo' })], { evaluationDate: '2025-07-01' })
    t.match(ctx.draft.history?.boneModifyingAgent, { agent }, brand)
    t.match(warningsOf(ctx, 'FHIR_BMA_OSTEOPOROSIS_PRODUCT'), [new RegExp(`MedicationAdministration/osteo: "${brand}" is an osteoporosis product; it was read as ${agent}`)])
  }
  t.notOk(codesOf(mapped([administration(text('Xgeva'), { date: '2025-06-01' })], { evaluationDate: '2025-07-01' })).includes('FHIR_BMA_OSTEOPOROSIS_PRODUCT'), 'Xgeva is not one')
})

/* ------------------------------------------------------------------ agentsOfMedication (§4.5) */

t.test('agentsOfMedication: medicationCodeableConcept, contained or draftOrders Medication, display, unresolved', async (t) => {
  const draftMedication: FhirResource = { resourceType: 'Medication', id: 'cap', code: { coding: [{ system: SYSTEMS.rxnorm, code: '200328', display: 'capecitabine 500 MG Oral Tablet' }] } }
  const draftOrders = (reference: string): FhirResource | undefined => reference === 'Medication/cap' ? draftMedication : undefined
  const order = (drug: Drug): FhirResource => ({ resourceType: 'MedicationRequest', id: 'o1', status: 'draft', intent: 'order', ...drug })

  t.strictSame(agentsOfMedication(draftOrders, order(rxnorm('200328', 'capecitabine 500 MG Oral Tablet'))),
    { agents: ['capecitabine'], display: 'capecitabine 500 MG Oral Tablet', matchedBy: 'code' })
  t.strictSame(agentsOfMedication(draftOrders, order({ medicationReference: { reference: 'Medication/cap' } })),
    { agents: ['capecitabine'], display: 'capecitabine 500 MG Oral Tablet', matchedBy: 'code' }, 'a draftOrders Medication')
  const contained = order({ medicationReference: { reference: '#z' } })
  contained.contained = [{ resourceType: 'Medication', id: 'z', code: { coding: [{ system: SYSTEMS.rxnorm, code: '1156253' }], text: 'Paclitaxel 100 MG Injection' } }, 'junk']
  t.strictSame(agentsOfMedication(draftOrders, contained),
    { agents: [], bma: 'zoledronic_acid', display: 'Paclitaxel 100 MG Injection', matchedBy: 'code', codeDisplayConflict: true }, 'a contained Medication')
  t.strictSame(agentsOfMedication(draftOrders, order(text('Prolia'))),
    { agents: [], bma: 'denosumab', display: 'Prolia', matchedBy: 'text', osteoporosisProduct: true })
  t.strictSame(agentsOfMedication(draftOrders, order(rxnorm('2169297'))),
    { agents: [], display: 'code 2169297', matchedBy: 'none' }, 'an unknown drug: no agent, the code as display')
  t.strictSame(agentsOfMedication(draftOrders, order({})),
    { agents: [], display: 'unidentified medication', matchedBy: 'none', unresolved: true })
  const ctx = contextOf([draftMedication])
  t.strictSame(agentsOfMedication(ctx, order({ medicationReference: { reference: 'Medication/cap' } })).agents, ['capecitabine'], 'with a MappingContext')
})

/* ------------------------------------------------------------------ grouping: split (§6.6 [D]) */

t.test('[D] without metastaticDiagnosisDate nothing is split: all lines, FHIR_HISTORY_UNSPLIT', async (t) => {
  const ctx = mapped([administration(text('docetaxel'), { date: '2019-01-01' }), administration(text('eribulin'), { date: '2025-01-01' })])
  t.strictSame(lineAgents(ctx), [['docetaxel'], ['eribulin']])
  t.equal(ctx.draft.history?.earlyStageTherapy, undefined)
  t.strictSame(codesOf(ctx).filter((code) => code === 'FHIR_HISTORY_UNSPLIT').length, 1)
  t.strictSame(mapped([]).warnings, [], 'no medication: no warning')
  t.equal(mapped([]).draft.history, undefined)
})

t.test('[D] split on metastaticDiagnosisDate: a first date before it is early-stage, on or after it metastatic', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { start: '2023-03-01', end: '2023-06-01' }),
    administration(text('eribulin'), { date: '2023-04-03' })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(ctx.draft.history?.earlyStageTherapy, [{ setting: 'adjuvant', agents: ['docetaxel'], lastDoseDate: '2023-06-01' }], 'spanning the date: early by its first date')
  t.strictSame(lineAgents(ctx), [['eribulin']])
  t.notOk(codesOf(ctx).includes('FHIR_HISTORY_UNSPLIT'))
})

/* ------------------------------------------------------------------ earlyStageTherapy [D] */

t.test('[D] earlyStageTherapy: endocrine and CDK4/6 entries apart from the others; setting adjuvant; agents unique and sorted', async (t) => {
  const ctx = mapped([
    administration(text('trastuzumab'), { start: '2019-01-10', end: '2019-12-20' }),
    administration(text('docetaxel'), { start: '2019-01-10', end: '2019-04-01' }),
    administration(text('Herceptin'), { start: '2019-02-10', end: '2019-03-01' }),
    statement(text('letrozole'), { start: '2019-06-01', end: '2022-06-01' }),
    statement(text('abemaciclib'), { start: '2019-07-01', end: '2021-07-01' }),
    statement(text('goserelin'), { start: '2019-06-01', end: '2021-06-01' })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(ctx.draft.history?.earlyStageTherapy, [
    { setting: 'adjuvant', agents: ['docetaxel', 'trastuzumab'], lastDoseDate: '2019-12-20' },
    { setting: 'adjuvant', agents: ['abemaciclib', 'aromatase_inhibitor', 'ovarian_suppression'], lastDoseDate: '2022-06-01' }
  ])
  t.equal(ctx.draft.history?.metastaticLines, undefined)
  t.notOk(codesOf(ctx).includes('FHIR_LINES_DERIVED_FROM_MEDICATIONS'), 'no line, no lines warning')
})

t.test('earlyStageTherapy entries are ordered by start; on the same start the non-endocrine entry first', async (t) => {
  const ctx = mapped([
    statement(text('tamoxifen'), { start: '2018-01-01', end: '2018-03-01' }),
    statement(text('letrozole'), { start: '2019-01-01', end: '2021-01-01' }),
    administration(text('trastuzumab'), { start: '2019-01-01', end: '2019-12-01' })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(ctx.draft.history?.earlyStageTherapy?.map((entry) => entry.agents), [['tamoxifen'], ['trastuzumab'], ['aromatase_inhibitor']])
})

t.test(`[D] earlyStageTherapy: an exposure joins within ${EARLY_STAGE_JOIN_DAYS} days of the entry's latest last date, else opens an entry`, async (t) => {
  t.equal(EARLY_STAGE_JOIN_DAYS, 90)
  const joined = mapped([
    administration(text('docetaxel'), { start: '2019-01-01', end: '2019-03-01' }),
    administration(text('cyclophosphamide'), { date: addDays('2019-03-01', 90) })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(joined.draft.history?.earlyStageTherapy, [{ setting: 'adjuvant', agents: ['cyclophosphamide', 'docetaxel'], lastDoseDate: addDays('2019-03-01', 90) }])
  const apart = mapped([
    administration(text('docetaxel'), { start: '2019-01-01', end: '2019-03-01' }),
    administration(text('cyclophosphamide'), { date: addDays('2019-03-01', 91) })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(apart.draft.history?.earlyStageTherapy, [
    { setting: 'adjuvant', agents: ['docetaxel'], lastDoseDate: '2019-03-01' },
    { setting: 'adjuvant', agents: ['cyclophosphamide'], lastDoseDate: addDays('2019-03-01', 91) }
  ])
})

t.test('earlyStageTherapy sources: agents, setting and lastDoseDate with the resources', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { start: '2019-01-01', end: '2019-03-01', id: 'doc' }),
    administration(text('trastuzumab'), { start: '2019-01-01', end: '2019-12-01', id: 'tra' })
  ], { metastaticDiagnosisDate: '2023-04-03' })
  t.strictSame(ctx.sources['history.earlyStageTherapy[0].agents'], {
    label: 'Agents of (neo)adjuvant therapy', display: 'docetaxel, trastuzumab (2019-01-01 to 2019-12-01)', refs: ['MedicationAdministration/doc', 'MedicationAdministration/tra'], date: '2019-01-01'
  })
  t.match(ctx.sources['history.earlyStageTherapy[0].setting'], { display: /^adjuvant/, refs: ['MedicationAdministration/doc', 'MedicationAdministration/tra'] })
  t.match(ctx.sources['history.earlyStageTherapy[0].lastDoseDate'], { display: '2019-12-01', refs: ['MedicationAdministration/tra'] })
  t.match(ctx.sources['history.earlyStageTherapy'], { display: 'docetaxel, trastuzumab (last dose 2019-12-01)' })
})

/* ------------------------------------------------------------------ metastaticLines [D] */

t.test(`[D] lines: an agent started within ${LINE_JOIN_DAYS} days of the line's first date joins it; later, a new agent starts the next line`, async (t) => {
  t.equal(LINE_JOIN_DAYS, 28)
  const joined = mapped([administration(text('docetaxel'), { date: '2025-01-01' }), administration(text('trastuzumab'), { date: addDays('2025-01-01', 28) })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(joined), [['docetaxel', 'trastuzumab']])
  const next = mapped([administration(text('docetaxel'), { date: '2025-01-01' }), administration(text('trastuzumab'), { date: addDays('2025-01-01', 29) })], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(next), [['docetaxel'], ['trastuzumab']])
  t.strictSame(linesOf(next).map((line) => line.lineNumber), [1, 2], 'numbered from 1')
})

t.test('[D] lines: an agent already in the line joins it however late; endocrine agents always join', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { date: '2025-01-01' }),
    administration(text('trastuzumab'), { date: '2025-01-01' }),
    administration(text('trastuzumab'), { date: '2025-09-01' }),
    statement(text('letrozole'), { start: '2025-10-01', end: '2026-01-01' }),
    administration(text('Ibrance'), { date: '2025-11-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['docetaxel', 'trastuzumab', 'aromatase_inhibitor'], ['palbociclib']], 'palbociclib added later starts a line')
})

t.test('lines: on the same first date, an endocrine partner joins the new line rather than the old one', async (t) => {
  const ctx = mapped([
    administration(text('capecitabine'), { date: '2025-01-01' }),
    statement(text('fulvestrant'), { date: '2025-06-01' }),
    statement(text('palbociclib'), { date: '2025-06-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(lineAgents(ctx), [['capecitabine'], ['palbociclib', 'fulvestrant']])
})

t.test('[D] lines: endDate for every line but an ongoing last line; startDate the first date', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { start: '2024-02-01', end: '2024-06-01' }),
    administration(text('trastuzumab'), { start: '2024-02-01', end: '2024-12-01' }),
    administration(text('Enhertu'), { start: '2025-01-10', end: '2026-03-01' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(linesOf(ctx), [
    { lineNumber: 1, agents: ['docetaxel', 'trastuzumab'], startDate: '2024-02-01', endDate: '2024-12-01', outcome: 'progression' },
    { lineNumber: 2, agents: ['t_dxd'], startDate: '2025-01-10', outcome: 'ongoing' }
  ])
})

t.test('[D] outcome: progression from a worsened 97509-4 after the line start and before the next line start', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { start: '2024-02-01', end: '2024-12-01' }),
    administration(text('Enhertu'), { start: '2025-01-10', end: '2026-03-01' }),
    diseaseStatus('2024-11-20', { id: 'w1', pattern: patternConcept('extracranial') }),
    diseaseStatus('2026-03-01', { id: 'w2', pattern: { valueString: 'oligoprogression' } })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(linesOf(ctx), [
    { lineNumber: 1, agents: ['docetaxel'], startDate: '2024-02-01', endDate: '2024-12-01', outcome: 'progression', progressionPattern: 'extracranial' },
    { lineNumber: 2, agents: ['t_dxd'], startDate: '2025-01-10', endDate: '2026-03-01', outcome: 'progression', progressionPattern: 'oligoprogression' }
  ])
  t.notOk(codesOf(ctx).includes('FHIR_LINE_OUTCOME_ASSUMED'))
  t.strictSame(ctx.sources['history.metastaticLines[0].outcome'], {
    label: 'Outcome of metastatic line 1', display: 'progression (disease status worsened, 2024-11-20)', refs: ['Observation/w1'], date: '2024-11-20'
  })
  t.strictSame(ctx.sources['history.metastaticLines[1].progressionPattern'], {
    label: 'Progression pattern on metastatic line 2', display: 'oligoprogression (2026-03-01)', refs: ['Observation/w2'], date: '2026-03-01'
  })
})

t.test('[D] outcome: the latest worsened Observation of the window gives the pattern', async (t) => {
  const ctx = mapped([
    administration(text('Enhertu'), { start: '2025-01-10', end: '2026-03-01' }),
    diseaseStatus('2025-06-01', { pattern: patternConcept('cns_only') }),
    diseaseStatus('2026-02-01', { pattern: patternConcept('both') })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { outcome: 'progression', progressionPattern: 'both' })
})

t.test('[D] outcome unusable: worsened on the line start, on the next line start, after evaluationDate, not final, not worsened', async (t) => {
  const resources = [
    administration(text('docetaxel'), { start: '2024-02-01', end: '2024-12-01' }),
    administration(text('Enhertu'), { start: '2025-01-10', end: '2026-03-01' }),
    diseaseStatus('2024-02-01'),
    diseaseStatus('2025-01-10'),
    diseaseStatus(addDays(EVALUATION_DATE, 1)),
    diseaseStatus('2025-06-01', { status: 'preliminary' }),
    diseaseStatus('2025-07-01', { answer: '359746009' }),
    { resourceType: 'Observation', id: 'other', status: 'final', code: { coding: [{ system: SYSTEMS.loinc, code: '89247-1' }] }, effectiveDateTime: '2025-08-01', valueCodeableConcept: { coding: [{ system: SYSTEMS.snomed, code: '271299001' }] } },
    { resourceType: 'Observation', id: 'undated', status: 'final', code: { coding: [{ system: SYSTEMS.loinc, code: '97509-4' }] }, valueCodeableConcept: { coding: [{ system: SYSTEMS.snomed, code: '271299001' }] } }
  ]
  const ctx = mapped(resources, { metastaticDiagnosisDate: '2024-01-01' })
  t.strictSame(linesOf(ctx).map((line) => line.outcome), ['progression', 'ongoing'])
  t.match(warningsOf(ctx, 'FHIR_LINE_OUTCOME_ASSUMED'), [/Metastatic line 1 \(from 2024-02-01\): no worsened disease status before line 2 started \(2025-01-10\); progression was assumed/])
  t.ok(codesOf(ctx).includes('FHIR_PRELIMINARY_IGNORED'))
  t.match(ctx.sources['history.metastaticLines[0].outcome'], { display: 'progression (assumed: line 2 started 2025-01-10)' })
  t.match(ctx.sources['history.metastaticLines[1].outcome'], { display: 'ongoing (no worsened disease status since 2025-01-10)' })
  t.equal(ctx.sources['history.metastaticLines[1].endDate'], undefined, 'an ongoing last line has no endDate')
})

t.test('[D] outcome: a worsened Observation on the evaluation date ends the last line', async (t) => {
  const ctx = mapped([administration(text('Enhertu'), { start: '2025-01-10', end: '2026-03-01' }), diseaseStatus(EVALUATION_DATE)], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(linesOf(ctx)[0], { outcome: 'progression', endDate: '2026-03-01' })
  t.equal(linesOf(ctx)[0]?.progressionPattern, undefined, 'no component, no pattern')
})

t.test('progressionPattern unusable: a value outside the enum → FHIR_VALUE_UNREADABLE and a gap', async (t) => {
  for (const pattern of [patternConcept('everywhere'), { valueString: 'bone' }, { valueCodeableConcept: { coding: [{ system: 'http://example.org', code: 'both' }] } }]) {
    const ctx = mapped([administration(text('Enhertu'), { start: '2025-01-10' }), diseaseStatus('2026-01-01', { id: 'bad', pattern })], { metastaticDiagnosisDate: '2024-01-01' })
    t.match(linesOf(ctx)[0], { outcome: 'progression' })
    t.equal(linesOf(ctx)[0]?.progressionPattern, undefined)
    t.match(warningsOf(ctx, 'FHIR_VALUE_UNREADABLE'), [/Observation\/bad: the progression pattern is not one of/])
    t.match(ctx.gaps['history.metastaticLines[0].progressionPattern'], [/Observation\/bad/])
  }
})

t.test('[D] FHIR_LINES_DERIVED_FROM_MEDICATIONS whenever lines are derived; lines sources', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { date: '2025-01-01', id: 'a' }),
    administration(text('trastuzumab'), { start: '2025-01-01', end: '2025-06-01', id: 'b' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(warningsOf(ctx, 'FHIR_LINES_DERIVED_FROM_MEDICATIONS'), [/The 1 metastatic line was derived from medication dates/])
  t.strictSame(ctx.sources['history.metastaticLines[0].agents'], {
    label: 'Agents of metastatic line 1', display: 'docetaxel, trastuzumab (from 2025-01-01)', refs: ['MedicationAdministration/a', 'MedicationAdministration/b'], date: '2025-01-01'
  })
  t.match(ctx.sources['history.metastaticLines[0].lineNumber'], { display: '1 (derived from the medication record)' })
  t.match(ctx.sources['history.metastaticLines[0].startDate'], { display: '2025-01-01', refs: ['MedicationAdministration/a', 'MedicationAdministration/b'] })
  t.match(ctx.sources['history.metastaticLines'], { display: '1 line derived from the medication record' })
  const two = mapped([administration(text('docetaxel'), { date: '2025-01-01', id: 'c' }), administration(text('eribulin'), { date: '2025-06-01', id: 'd' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.match(warningsOf(two, 'FHIR_LINES_DERIVED_FROM_MEDICATIONS'), [/The 2 metastatic lines were derived/])
  t.match(two.sources['history.metastaticLines[0].endDate'], { display: '2025-01-01', refs: ['MedicationAdministration/c'] })
  t.strictSame(two.sources['history.metastaticLines[0].outcome']?.refs, ['MedicationAdministration/c'], 'an assumed outcome names only the line\'s own resources')
  const lineOfRef = (ref: string): string[] => Object.entries(two.sources)
    .filter(([path, source]) => /^history\.metastaticLines\[\d+\]/.test(path) && source.refs.includes(ref)).map(([path]) => path.slice(0, path.indexOf(']') + 1))
  t.strictSame([...new Set(lineOfRef('MedicationAdministration/d'))], ['history.metastaticLines[1]'], 'each medication resource belongs to the sources of one line only')
})

/* ------------------------------------------------------------------ firstAntiHer2Date */

t.test('state.firstAntiHer2Date: the first date of any anti-HER2 agent, early-stage included', async (t) => {
  const ctx = mapped([
    administration(text('docetaxel'), { date: '2018-12-01' }),
    administration(text('Nerlynx'), { date: '2020-01-01' }),
    administration(text('trastuzumab'), { date: '2019-01-10' }),
    administration(text('Enhertu'), { date: '2025-01-10' })
  ], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(ctx.state.firstAntiHer2Date, '2019-01-10')
  const none = mapped([administration(text('docetaxel'), { date: '2018-12-01' }), administration(text('Xgeva'), { date: '2018-12-01' })], { metastaticDiagnosisDate: '2024-01-01' })
  t.equal(none.state.firstAntiHer2Date, undefined, 'no anti-HER2 agent')
  for (const name of ['pertuzumab', 'Kadcyla', 'Enhertu', 'Tukysa', 'neratinib', 'Tykerb', 'margetuximab']) {
    t.equal(mapped([administration(text(name), { date: '2025-02-02' })]).state.firstAntiHer2Date, '2025-02-02', name)
  }
})

/* ------------------------------------------------------------------ boneModifyingAgent [D] */

t.test('[D] boneModifyingAgent: the most recent bone agent; startDate of its latest run without a gap over 26 weeks', async (t) => {
  t.equal(BMA_GAP_DAYS, 182)
  const ctx = mapped([
    administration(text('zoledronic acid'), { date: '2022-01-01' }),
    administration(text('Xgeva'), { date: '2023-01-01', id: 'x1' }),
    administration(text('Xgeva'), { date: addDays('2023-01-01', 182), id: 'x2' }),
    administration(text('Xgeva'), { date: '2025-06-01', id: 'x3' }),
    administration(text('Xgeva'), { date: addDays('2025-06-01', 182), id: 'x4' }),
    administration(text('Xgeva'), { date: '2026-03-01', id: 'x5' })
  ])
  t.strictSame(ctx.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: '2025-06-01' }, 'a 182-day gap continues the run; the gap before 2025-06-01 ends the previous one')
  t.strictSame(ctx.sources['history.boneModifyingAgent.startDate'], { label: 'Start of the bone-modifying agent', display: '2025-06-01', refs: ['MedicationAdministration/x3'], date: '2025-06-01' })
  t.strictSame(ctx.sources['history.boneModifyingAgent.agent']?.refs, ['MedicationAdministration/x3', 'MedicationAdministration/x4', 'MedicationAdministration/x5'])
  t.match(ctx.sources['history.boneModifyingAgent'], { label: 'Bone-modifying agent given', display: /^denosumab \(Xgeva\) since 2025-06-01, last 2026-03-01/ })
  const split = mapped([
    administration(text('Xgeva'), { date: '2025-06-01' }),
    administration(text('Xgeva'), { date: addDays('2025-06-01', 183) })
  ])
  t.strictSame(split.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: addDays('2025-06-01', 183) }, 'a gap of 183 days starts a new run')
  const switched = mapped([
    administration(text('Xgeva'), { date: '2025-01-01' }),
    administration(text('Zometa'), { date: '2025-12-01' })
  ])
  t.strictSame(switched.draft.history?.boneModifyingAgent, { agent: 'zoledronic_acid', startDate: '2025-12-01' }, 'the most recent agent wins')
})

t.test('boneModifyingAgent ties on the last date: the later first date, then the later resource in the bundle', async (t) => {
  const byFirst = mapped([
    administration(text('Zometa'), { date: '2026-03-01' }),
    administration(text('Xgeva'), { start: '2025-01-01', end: '2026-03-01' })
  ])
  t.match(byFirst.draft.history?.boneModifyingAgent, { agent: 'zoledronic_acid' })
  const byOrder = mapped([
    administration(text('Zometa'), { date: '2026-03-01' }),
    administration(text('Xgeva'), { date: '2026-03-01' })
  ])
  t.match(byOrder.draft.history?.boneModifyingAgent, { agent: 'denosumab' })
})

t.test('[D] boneModifyingAgent: a last date more than 26 weeks before evaluationDate → not set, FHIR_BMA_STALE', async (t) => {
  const stale = mapped([administration(text('Xgeva'), { date: addDays(EVALUATION_DATE, -183), id: 'old' })])
  t.equal(stale.draft.history, undefined)
  t.match(warningsOf(stale, 'FHIR_BMA_STALE'), [/MedicationAdministration\/old: the last denosumab .* is more than 26 weeks before the evaluation date/])
  t.match(stale.gaps['history.boneModifyingAgent'], [/more than 26 weeks old/])
  const recent = mapped([administration(text('Xgeva'), { date: addDays(EVALUATION_DATE, -182) })])
  t.match(recent.draft.history?.boneModifyingAgent, { agent: 'denosumab' }, '182 days is not stale')
  t.notOk(codesOf(recent).includes('FHIR_BMA_STALE'))
})

t.test('[D] intervalWeeks from a MedicationRequest timing.repeat: 3, 4, 12 weeks; 1 month → 4; 3 months → 12', async (t) => {
  const cases: Array<[Json, number | undefined]> = [
    [{ frequency: 1, period: 3, periodUnit: 'wk' }, 3],
    [{ period: 4, periodUnit: 'wk' }, 4],
    [{ frequency: 1, period: 12, periodUnit: 'wk' }, 12],
    [{ frequency: 2, period: 8, periodUnit: 'wk' }, 4],
    [{ frequency: 1, period: 1, periodUnit: 'mo' }, 4],
    [{ frequency: 1, period: 3, periodUnit: 'mo' }, 12],
    [{ frequency: 1, period: 2, periodUnit: 'wk' }, undefined],
    [{ frequency: 1, period: 2, periodUnit: 'mo' }, undefined],
    [{ frequency: 1, period: 28, periodUnit: 'd' }, undefined],
    [{ frequency: 0, period: 4, periodUnit: 'wk' }, undefined],
    [{ frequency: '1', period: 4, periodUnit: 'wk' }, undefined],
    [{ frequency: 1, periodUnit: 'wk' }, undefined]
  ]
  for (const [repeat, weeks] of cases) t.equal(intervalWeeksOf(repeat), weeks, JSON.stringify(repeat))
  t.equal(intervalWeeksOf('every 4 weeks'), undefined)
})

t.test('intervalWeeks mapped from the most recent MedicationRequest of the run; unusable → absent with a gap', async (t) => {
  const ctx = mapped([
    request(text('Xgeva'), { start: '2025-01-01', end: '2025-06-01', repeat: { frequency: 1, period: 3, periodUnit: 'mo' } }),
    request(text('Xgeva 120 MG'), { start: '2025-07-01', end: '2026-03-01', repeat: { frequency: 1, period: 4, periodUnit: 'wk' }, id: 'latest' }),
    administration(text('Xgeva'), { date: '2026-03-10' })
  ])
  t.strictSame(ctx.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: '2025-01-01', intervalWeeks: 4 })
  t.strictSame(ctx.sources['history.boneModifyingAgent.intervalWeeks'], { label: 'Dosing interval of the bone-modifying agent (weeks)', display: 'every 4 weeks', refs: ['MedicationRequest/latest'], date: '2025-07-01' })
  const unusable = mapped([request(text('Xgeva'), { start: '2025-07-01', end: '2026-03-01', repeat: { frequency: 1, period: 28, periodUnit: 'd' }, id: 'days' })])
  t.strictSame(unusable.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: '2025-07-01' })
  t.match(unusable.gaps['history.boneModifyingAgent.intervalWeeks'], [/MedicationRequest\/days: dosing of 1 per 28 d is not every 3, 4 or 12 weeks/])
  const noTiming = mapped([request(text('Xgeva'), { start: '2025-07-01', end: '2026-03-01' }), administration(text('Xgeva'), { date: '2026-03-10' })])
  t.strictSame(noTiming.draft.history?.boneModifyingAgent, { agent: 'denosumab', startDate: '2025-07-01' }, 'boundsPeriod only: no interval, no gap')
  t.equal(noTiming.gaps['history.boneModifyingAgent.intervalWeeks'], undefined)
})

t.test('intervalWeeks: of two requests on the same date the later in the bundle; dosage without timing skipped', async (t) => {
  const junk = request(text('Xgeva'), { authoredOn: '2025-06-01', id: 'junk' })
  junk.dosageInstruction = ['junk', { text: 'monthly' }, { timing: { code: { text: 'Q4W' } } }]
  const ctx = mapped([
    request(text('Xgeva'), { start: '2025-07-01', end: '2026-03-01', repeat: { period: 12, periodUnit: 'wk' } }),
    request(text('Xgeva'), { start: '2025-07-01', end: '2026-03-01', repeat: { period: 3, periodUnit: 'wk' } }),
    junk
  ])
  t.match(ctx.draft.history?.boneModifyingAgent, { intervalWeeks: 3 })
  const noPeriod = mapped([request(text('Xgeva'), { start: '2025-07-01', end: '2026-03-01', repeat: { periodUnit: 'wk' }, id: 'np' })])
  t.match(noPeriod.gaps['history.boneModifyingAgent.intervalWeeks'], [/MedicationRequest\/np: dosing of 1 per \? wk is not/])
})

t.test('[D] an active MedicationRequest without boundsPeriod.end lasts one day (§6.6 "else the first date"): it can be stale', async (t) => {
  const ctx = mapped([request(text('Xgeva'), { start: '2023-05-02', status: 'active', repeat: { period: 4, periodUnit: 'wk' } })])
  t.equal(ctx.draft.history, undefined)
  t.ok(codesOf(ctx).includes('FHIR_BMA_STALE'))
})

/* ------------------------------------------------------------------ §12.4 B variants 7 and 8 (second-line example) */

type ExampleHistory = { earlyStageTherapy: Array<{ agents: string[] }>, metastaticLines: unknown[], boneModifyingAgent: unknown }
const secondLine = JSON.parse(readFileSync(new URL('../../openapi/examples/second-line-after-thp.json', import.meta.url), 'utf8')) as {
  case: { context: { evaluationDate: string }, disease: { metastaticDiagnosisDate: string }, history: ExampleHistory }
}

/** The second-line example's treatment timeline (§12.4 authoring notes), each drug named by `drug`. */
function secondLineResources (drug: (name: 'docetaxel' | 'carboplatin' | 'trastuzumab' | 'pertuzumab' | 'denosumab') => Drug): FhirResource[] {
  return [
    request(drug('docetaxel'), { start: '2019-12-02', end: '2020-03-16', status: 'completed', id: 'early-docetaxel' }),
    request(drug('carboplatin'), { start: '2019-12-02', end: '2020-03-16', status: 'completed', id: 'early-carboplatin' }),
    request(drug('trastuzumab'), { start: '2019-12-02', end: '2020-06-22', status: 'completed', id: 'early-trastuzumab' }),
    request(drug('pertuzumab'), { start: '2019-12-02', end: '2020-06-22', status: 'completed', id: 'early-pertuzumab' }),
    request(drug('docetaxel'), { start: '2023-04-17', end: '2023-08-21', status: 'completed', id: 'docetaxel' }),
    request(drug('trastuzumab'), { start: '2023-04-17', end: '2026-03-16', status: 'stopped', id: 'trastuzumab' }),
    request(drug('pertuzumab'), { start: '2023-04-17', end: '2026-03-16', status: 'stopped', id: 'pertuzumab' }),
    request(drug('denosumab'), { start: '2023-05-02', end: '2026-03-16', repeat: { frequency: 1, period: 4, periodUnit: 'wk' }, id: 'denosumab' }),
    diseaseStatus('2026-03-16', { id: 'progression', pattern: patternConcept('extracranial') })
  ]
}

function secondLineContext (resources: FhirResource[]): MappingContext {
  return mapped(resources, {
    evaluationDate: secondLine.case.context.evaluationDate,
    metastaticDiagnosisDate: secondLine.case.disease.metastaticDiagnosisDate
  })
}

function assertSecondLineHistory (t: Test, ctx: MappingContext, bone: unknown): void {
  const expected = secondLine.case.history
  const history = ctx.draft.history
  t.strictSame(history?.earlyStageTherapy, expected.earlyStageTherapy.map((entry) => ({ ...entry, agents: [...entry.agents].sort() })), 'earlyStageTherapy (agents sorted, §6.6)')
  t.strictSame(history?.metastaticLines, expected.metastaticLines, 'metastaticLines')
  t.strictSame(history?.boneModifyingAgent, bone, 'boneModifyingAgent')
  t.ok(History.safeParse(history).success, 'the mapped history passes the Case schema')
}

t.test('§12.4 B7: drugs as text only ("Herceptin", "Perjeta", "Taxotere", "Xgeva") give the second-line example\'s history', async (t) => {
  const names = { docetaxel: 'Taxotere', carboplatin: 'carboplatin', trastuzumab: 'Herceptin', pertuzumab: 'Perjeta', denosumab: 'Xgeva' } as const
  const ctx = secondLineContext(secondLineResources((name) => text(names[name])))
  assertSecondLineHistory(t, ctx, secondLine.case.history.boneModifyingAgent)
  t.ok(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'))
  t.ok(codesOf(ctx).includes('FHIR_LINES_DERIVED_FROM_MEDICATIONS'))
  t.notOk(codesOf(ctx).includes('FHIR_LINE_OUTCOME_ASSUMED'))
  t.equal(ctx.state.firstAntiHer2Date, '2019-12-02')
  t.strictSame(ctx.sources['history.boneModifyingAgent.intervalWeeks']?.refs, ['MedicationRequest/denosumab'])
  t.strictSame(ctx.sources['history.metastaticLines[0].progressionPattern']?.refs, ['Observation/progression'])
  t.strictSame(ctx.sources['history.metastaticLines[0].agents']?.refs, ['MedicationRequest/docetaxel', 'MedicationRequest/trastuzumab', 'MedicationRequest/pertuzumab'])
})

t.test('§12.4 B8: RxNorm codings plus one 1156253 labelled "Paclitaxel 100 MG Injection" → zoledronic acid + FHIR_CODE_DISPLAY_CONFLICT', async (t) => {
  // The seed has no RxNorm code for docetaxel, carboplatin, trastuzumab, pertuzumab or denosumab (it holds oral
  // products only), so those stay RxNorm codings the table does not know, matched through their displays.
  const ctx = secondLineContext([
    ...secondLineResources((name) => ({ medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, display: name }] } })),
    statement({ medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, code: '1156253', display: 'Paclitaxel 100 MG Injection' }], text: 'Paclitaxel 100 MG Injection' } }, { date: '2026-03-20', id: 'zoledronic' })
  ])
  assertSecondLineHistory(t, ctx, { agent: 'zoledronic_acid', startDate: '2026-03-20' })
  t.match(warningsOf(ctx, 'FHIR_CODE_DISPLAY_CONFLICT'), [/MedicationStatement\/zoledronic/])
  t.notOk(lineAgents(ctx).flat().includes('paclitaxel'), 'the code wins: no paclitaxel in any line')
})

/* ------------------------------------------------------------------ §12.3 MITRE bundles */

interface Bundle { entry: Array<{ fullUrl?: string, resource?: FhirResource }> }

/** The bundle's resources, duplicates by Type/id reduced to the last (fhir-core's rule, §5), with a fullUrl-aware resolver. */
function thirdPartyContext (file: string, evaluationDate: string): MappingContext {
  const bundle = readThirdPartyJson<Bundle>(`mcode-thirdparty/${file}`)
  const byRef = new Map<string, FhirResource>()
  const fullUrls = new Map<string, FhirResource>()
  for (const entry of bundle.entry) {
    if (entry.resource === undefined) continue
    byRef.delete(`${entry.resource.resourceType}/${entry.resource.id ?? ''}`)
    byRef.set(`${entry.resource.resourceType}/${entry.resource.id ?? ''}`, entry.resource)
    if (entry.fullUrl !== undefined) fullUrls.set(entry.fullUrl, entry.resource)
  }
  const resources = [...byRef.values()]
  return contextOf(resources, { evaluationDate, resolve: resolverOf(resources, fullUrls) })
}

t.test('§12.3 Patient02: 1156253 zoledronic acid, 1158877 capecitabine, alpelisib ignored, FHIR_HISTORY_UNSPLIT', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = thirdPartyContext('ctm-app.TrialMatching_Patient02.json', '2020-03-01')
  const zoledronic = ctx.resources.find((resource) => resource.id === 'mCODETrialMatchingCancerMedicationStatement02PatientExample02') as FhirResource
  t.match(agentsOfMedication(ctx, zoledronic), { agents: [], bma: 'zoledronic_acid', matchedBy: 'code' })
  mapMedications(ctx)
  t.strictSame(lineAgents(ctx), [['aromatase_inhibitor'], ['palbociclib', 'fulvestrant'], ['capecitabine'], ['abemaciclib', 'tamoxifen'], ['gemcitabine']])
  t.notOk(lineAgents(ctx).flat().includes('other'), 'alpelisib (unmatched, not linked to the cancer) is ignored')
  t.ok(codesOf(ctx).includes('FHIR_HISTORY_UNSPLIT'), 'no dated metastasis')
  t.match(warningsOf(ctx, 'FHIR_BMA_STALE'), [/MedicationStatement\/mCODETrialMatchingCancerMedicationStatement02PatientExample02: the last zoledronic acid \(2019-06-01\)/])
  t.notOk(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'), 'every drug by code')
  t.ok(History.safeParse(ctx.draft.history).success, 'the mapped history passes the Case schema')

  const early = thirdPartyContext('ctm-app.TrialMatching_Patient02.json', '2019-06-15')
  mapMedications(early)
  t.strictSame(early.draft.history?.boneModifyingAgent, { agent: 'zoledronic_acid', startDate: '2019-06-01' }, 'at 2019-06-15 the zoledronic acid is current')
})

t.test('§12.3 Patient01: leuprolide, fulvestrant, abemaciclib 1946828, ribociclib by code', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = thirdPartyContext('ctm-app.TrialMatching_Patient01.json', '2020-03-01')
  mapMedications(ctx)
  // 2019-04-01 abemaciclib with leuprolide and fulvestrant; 2019-06-01 ribociclib (a new agent after 61 days) with fulvestrant.
  t.strictSame(lineAgents(ctx), [['abemaciclib', 'ovarian_suppression', 'fulvestrant'], ['ribociclib', 'fulvestrant']])
  t.notOk(codesOf(ctx).includes('FHIR_MATCHED_BY_TEXT'), 'every drug by code')
})

t.test('§12.3 ctm-bct: five statements sharing one id → the last (583214 paclitaxel); 1156253 alone → zoledronic acid + conflict', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = thirdPartyContext('ctm-bct.patient_data.json', '2017-08-01')
  const statements = ctx.ofType('MedicationStatement')
  t.equal(statements.length, 1, 'one statement after deduplication (fhir-core warns FHIR_DUPLICATE_RESOURCE)')
  mapMedications(ctx)
  t.strictSame(lineAgents(ctx), [['paclitaxel']])
  t.notOk(codesOf(ctx).includes('FHIR_CODE_DISPLAY_CONFLICT'))

  const bundle = readThirdPartyJson<Bundle>('mcode-thirdparty/ctm-bct.patient_data.json')
  const zoledronic = bundle.entry.map((entry) => entry.resource).find((resource) =>
    resource?.resourceType === 'MedicationStatement' && JSON.stringify(resource.medicationCodeableConcept).includes('"1156253"')) as FhirResource
  const alone = mapped([zoledronic], { evaluationDate: '2017-08-01' })
  t.strictSame(alone.draft.history, { boneModifyingAgent: { agent: 'zoledronic_acid', startDate: '2017-07-28' } })
  t.match(warningsOf(alone, 'FHIR_CODE_DISPLAY_CONFLICT'), [/"Paclitaxel 100 MG Injection"/])
})
