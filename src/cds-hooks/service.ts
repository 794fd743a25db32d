import type { Config } from '../config.js'
import type { PreparedKnowledgeBase } from '../engine/knowledge-base.js'
import type { Evaluation, EvaluationBody } from '../engine/recommender.js'
import type { FhirResource, MappingResult, MappingWarning } from '../fhir/types.js'
import { JURISDICTIONS, utcToday, type Case } from '../schemas/case.js'
import type { OrderSelectRequest, PatientViewRequest } from '../schemas/cds-hooks-request.js'
import { ISSUE_TYPE_BY_STATUS, type CdsServiceResponse, type ISSUE_TYPES, type OperationOutcome } from '../schemas/cds-hooks-response.js'
import type { IssuedCard as BuiltCard } from './cards.js'
import type { IssuedCard } from './feedback.js'
import { fhirAccess, FhirFetcher, unresolvedMedicationIds, type FetchedKey, type KeyFetch } from './fetch.js'
import type { VerifiedCaller } from './jwt.js'
import { PREFETCH_KEYS, readKeyValue } from './prefetch.js'
import type { CdsServiceInfo } from './services.js'

/**
 * The CDS Hooks services without the HTTP framework (spec/ehr-integration.md §3, §4, §4.4, §4.5):
 * discovery, and one hook call from a validated request to cards or a 412. The route
 * (src/routes/cds-hooks.ts) does the JWT, the body checks, the errors and the store.
 */

// ---------------------------------------------------------------------------------------------
// §9 OperationOutcome bodies

export function issueCodeFor (status: number): typeof ISSUE_TYPES[number] {
  return ISSUE_TYPE_BY_STATUS[status] ?? (status < 500 ? 'invalid' : 'exception')
}

export interface IssueText { diagnostics?: string, expression?: string[], details?: string }

/**
 * One issue per problem. A 401 says nothing (§9: no details, no diagnostics). `diagnostics` is always
 * our own words: never PHI, a token, a stack trace or an echo of the request.
 */
export function operationOutcome (status: number, issues: readonly IssueText[] = [{}]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((issue) => ({
      severity: 'error' as const,
      code: issueCodeFor(status),
      ...(status === 401 || issue.details === undefined ? {} : { details: { text: issue.details } }),
      ...(status === 401 || issue.diagnostics === undefined ? {} : { diagnostics: issue.diagnostics }),
      ...(issue.expression === undefined || issue.expression.length === 0 ? {} : { expression: issue.expression })
    }))
  }
}

// ---------------------------------------------------------------------------------------------
// §4.2, §4.3: the FHIR data of one call

/** A key's final state (§4.2): `partial` counts as available. */
export type KeyState = 'data' | 'partial' | 'empty' | 'unavailable'

export interface FhirData {
  states: Map<string, KeyState>
  /** Every resource of every key (and the Medications read), in key order. */
  resources: FhirResource[]
  warnings: MappingWarning[]
  log: DataLog
}

export interface DataLog {
  /** Keys whose value came from the client (prefetch), fetched, or neither. */
  prefetched: number
  fetched: string[]
  partial: string[]
  unavailable: string[]
  /** Why nothing was fetched, when something was needed (`fhir_server_not_allowed`…). */
  fetchRefused?: string
  /** OperationOutcome issue codes of prefetch values (their only logged part, §4.2). */
  prefetchIssues?: string[]
  fetch?: { requests: number, statuses: Record<string, number>, durationMs: number, notes: string[], medicationReads: number }
}

export interface DataDeps {
  fetch: typeof globalThis.fetch
  /** Monotonic milliseconds for the fetch budget (tests inject it). */
  clock?: () => number
}

interface DataRequest {
  fhirServer?: string
  fhirAuthorization?: { access_token: string, token_type: string }
  context: { patientId: string }
  prefetch?: Record<string, unknown>
}

const warning = (code: MappingWarning['code'], message: string): MappingWarning => ({ code, message })

/**
 * §4.2 then §4.3: each key from its prefetch value; the absent, unavailable and partial ones from the
 * client's FHIR server when §4.3 allows it; then the Medications that references leave unresolved.
 */
export async function gatherFhirData (request: DataRequest, caller: VerifiedCaller | undefined, config: Config, deps: DataDeps): Promise<FhirData> {
  const patientId = request.context.patientId
  const prefetch = request.prefetch ?? {}
  const states = new Map<string, KeyState>()
  const byKey = new Map<string, FhirResource[]>()
  const warnings: MappingWarning[] = []
  const toFetch: KeyFetch[] = []
  const log: DataLog = { prefetched: 0, fetched: [], partial: [], unavailable: [] }
  const prefetchIssues: string[] = []

  for (const spec of PREFETCH_KEYS) {
    const value = readKeyValue(spec, Object.hasOwn(prefetch, spec.key) ? prefetch[spec.key] : undefined, patientId)
    if (value.state !== 'absent') log.prefetched++
    if (value.state === 'empty') {
      states.set(spec.key, 'empty')
    } else if (value.state === 'data' && value.next === undefined) {
      states.set(spec.key, 'data')
      byKey.set(spec.key, value.resources)
    } else if (value.state === 'data') {
      // A `next` link: follow it (§4.3) or keep the page as partial.
      states.set(spec.key, 'partial')
      byKey.set(spec.key, value.resources)
      toFetch.push({ spec, patientId, continueFrom: { resources: value.resources, next: value.next as string } })
    } else {
      states.set(spec.key, 'unavailable')
      if (value.state === 'unavailable' && value.reason === 'malformed') {
        warnings.push(warning('FHIR_PREFETCH_MALFORMED', `The prefetch value of key "${spec.key}" is not what its template returns; it was not used.`))
      }
      if (value.state === 'unavailable' && value.issueCodes !== undefined) prefetchIssues.push(...value.issueCodes)
      toFetch.push({ spec, patientId })
    }
  }
  if (prefetchIssues.length > 0) log.prefetchIssues = [...new Set(prefetchIssues)]

  const access = fhirAccess(request, caller?.client, config.production)
  let fetcher: FhirFetcher | undefined
  const started = deps.clock?.() ?? performance.now()
  if ('access' in access) {
    const make = (): FhirFetcher => new FhirFetcher(access.access, {
      fetch: deps.fetch,
      budgetMs: config.cdsHooks.fhirFetchBudgetMs,
      maxPages: config.cdsHooks.fhirFetchMaxPages,
      ...(deps.clock === undefined ? {} : { clock: deps.clock })
    })
    if (toFetch.length > 0) {
      fetcher = make()
      const fetched = await fetcher.fetchKeys(toFetch)
      for (const [key, result] of fetched) {
        applyFetched(key, result, states, byKey)
        log.fetched.push(key)
      }
    }
    const ids = unresolvedMedicationIds([...byKey.values()].flat(), access.access.base)
    if (ids.length > 0) {
      fetcher ??= make()
      const medications = await fetcher.readMedications(ids)
      byKey.set('medications', medications)
    }
  } else if (toFetch.length > 0) {
    log.fetchRefused = access.reason
  }
  if (fetcher !== undefined) {
    const statuses: Record<string, number> = {}
    for (const event of fetcher.events) statuses[event.status] = (statuses[event.status] ?? 0) + 1
    log.fetch = {
      requests: fetcher.events.length,
      statuses,
      durationMs: Math.round((deps.clock?.() ?? performance.now()) - started),
      notes: [...new Set(fetcher.notes)],
      medicationReads: fetcher.events.filter((event) => event.key === 'medication').length
    }
  }

  for (const spec of PREFETCH_KEYS) {
    const state = states.get(spec.key)
    if (state === 'partial') {
      log.partial.push(spec.key)
      warnings.push(warning('FHIR_DATA_PARTIAL', `Only part of the data of prefetch key "${spec.key}" arrived; what arrived was used.`))
    } else if (state === 'unavailable') {
      log.unavailable.push(spec.key)
      if (!spec.required) warnings.push(warning('FHIR_DATA_UNAVAILABLE', `The data of prefetch key "${spec.key}" was unavailable; the fields it feeds are absent.`))
    }
  }
  return { states, resources: [...byKey.values()].flat(), warnings, log }
}

function applyFetched (key: string, result: FetchedKey, states: Map<string, KeyState>, byKey: Map<string, FhirResource[]>): void {
  states.set(key, result.state)
  if (result.state === 'data' || result.state === 'partial') byKey.set(key, result.resources)
  else byKey.delete(key)
}

// ---------------------------------------------------------------------------------------------
// §4.5: the selected orders

export interface SelectionCounts { checked: number, otherType: number, notFound: number, otherPatient: number }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Whether a resource's `subject` is the context's patient (the patient rule of §6.1, for draft orders). */
function isForPatient (resource: FhirResource, patientId: string): boolean {
  const reference = isObject(resource.subject) ? resource.subject.reference : undefined
  return typeof reference === 'string' && (reference === `Patient/${patientId}` || reference.endsWith(`/Patient/${patientId}`))
}

/**
 * §4.5: each selection found in `draftOrders` by `resourceType/id`; only MedicationRequests of this
 * patient are checked. The others are ignored and counted (for the log).
 */
export function selectedOrders (context: OrderSelectRequest['context']): { orders: SelectedOrder[], draftOrders: FhirResource[], counts: SelectionCounts } {
  const draftOrders = (context.draftOrders.entry ?? []).flatMap((entry) => entry.resource === undefined ? [] : [entry.resource as FhirResource])
  const byRef = new Map(draftOrders.map((resource) => [`${resource.resourceType}/${resource.id ?? ''}`, resource]))
  const counts: SelectionCounts = { checked: 0, otherType: 0, notFound: 0, otherPatient: 0 }
  const orders: SelectedOrder[] = []
  for (const selection of new Set(context.selections)) {
    const resource = byRef.get(selection)
    if (!selection.startsWith('MedicationRequest/')) counts.otherType++
    else if (resource === undefined) counts.notFound++
    else if (!isForPatient(resource, context.patientId)) counts.otherPatient++
    else { orders.push({ selection, resource }); counts.checked++ }
  }
  return { orders, draftOrders, counts }
}

// ---------------------------------------------------------------------------------------------
// §4.4: one hook call

/*
 * What this module needs of the mapper (src/fhir/index.ts) and the card builders (src/cds-hooks/cards.ts),
 * written here as the brief's contracts so that a change on either side shows up as one type error
 * where the route wires them (src/routes/cds-hooks.ts), and so that tests can pass fakes.
 */

export interface MapResourcesOptions { evaluationDate: string, jurisdiction?: typeof JURISDICTIONS[number], caseId?: string }
export interface MappedPatient { mapping: MappingResult, patient: FhirResource, deceased: boolean, hasPrimaryBreastCancer: boolean }
/** The mapper's structural error (the /v1 Bundle checks); in CDS Hooks only a missing Patient can cause one. */
export interface StructuralError { ok: false, status: number, type?: string, path: string, detail: string }
export type CaseResult =
  | { ok: true, case: Case }
  | { ok: false, kind: 'case-incomplete' | 'case-inconsistent', errors: Array<{ path: string, message: string }> }

/** A selected MedicationRequest of `draftOrders` (§4.5), with its selection string (`MedicationRequest/id`). */
export interface SelectedOrder { selection: string, resource: FhirResource }

interface CardInput { hookInstance: string, mapping: MappingResult, kb: PreparedKnowledgeBase, kbPublicUrl?: string }

/** Each builder returns the cards with what their uuid was made from (code, targets), which feedback records (§8). */
export interface CardBuilders {
  /** §7.1: one card per non-info recommendation, then the data card of §7.3 when it applies. */
  patientViewCards: (input: CardInput & { response: EvaluationBody }) => BuiltCard[]
  /** §7.4: `response` is absent when the case is incomplete or inconsistent; `draftOrders` holds every draft (for Medications). */
  orderSelectCards: (input: CardInput & { selections: SelectedOrder[], draftOrders: FhirResource[], caseResult: CaseResult, response?: EvaluationBody }) => BuiltCard[]
  /** §7.3: the incomplete-case card (also for an inconsistent case, §4.4). */
  incompleteCard: (input: CardInput & { caseResult: Extract<CaseResult, { ok: false }> }) => BuiltCard
}

export interface HookDeps extends DataDeps {
  mapResources: (resources: readonly FhirResource[], patientId: string, options: MapResourcesOptions) => MappedPatient | StructuralError
  toCase: (mapping: MappingResult) => CaseResult
  cards: CardBuilders
  now: () => Date
}

export interface HookCall {
  service: CdsServiceInfo
  request: PatientViewRequest | OrderSelectRequest
  caller?: VerifiedCaller
  recommender: { evaluate: (input: Case) => Promise<Evaluation> }
  kb: PreparedKnowledgeBase
  config: Config
}

/** Why a call ended as it did (logged as a code). */
export type HookOutcome = 'unavailable' | 'patient_not_found' | 'deceased' | 'not_in_population' | 'case_incomplete' | 'case_inconsistent' | 'evaluated'

export interface HookLog {
  outcome: HookOutcome
  data: DataLog
  warnings?: string[]
  cards?: number
  selections?: SelectionCounts
  violations?: string[]
  mapMs?: number
  evaluationMs?: number
}

export type HookAnswer =
  | { status: 200, body: CdsServiceResponse, issued: IssuedCard[], log: HookLog }
  | { status: 412, body: OperationOutcome, log: HookLog }

const elapsed = (from: number): number => Math.round((performance.now() - from) * 1000) / 1000

/** The evaluation date (§6.2): EVALUATION_DATE when set, else the clock's UTC date. */
export function evaluationDateOf (config: Config, now: () => Date): string {
  return config.cdsHooks.evaluationDate ?? utcToday(now())
}

/** §6.2: the verified issuer's jurisdiction when it is one the Case knows, else `other`. */
export function jurisdictionOf (caller: VerifiedCaller | undefined): typeof JURISDICTIONS[number] {
  const value = caller?.client.jurisdiction
  return (JURISDICTIONS as readonly string[]).includes(value ?? '') ? value as typeof JURISDICTIONS[number] : 'other'
}

/** The §4.4 table, in its order, for both hooks. */
export async function runHook (call: HookCall, deps: HookDeps): Promise<HookAnswer> {
  const { request, config } = call
  const data = await gatherFhirData(request, call.caller, config, deps)
  const required = PREFETCH_KEYS.filter((spec) => spec.required && data.states.get(spec.key) === 'unavailable').map((spec) => spec.key)
  if (required.length > 0) {
    return {
      status: 412,
      body: operationOutcome(412, [{
        details: 'Required FHIR data is unavailable: send the prefetch keys or allow access to the FHIR server.',
        diagnostics: `prefetch keys unavailable: ${required.join(', ')}`,
        expression: required.map((key) => `prefetch.${key}`)
      }]),
      log: { outcome: 'unavailable', data: data.log }
    }
  }
  const patientNotFound = (): HookAnswer => ({
    status: 412,
    body: operationOutcome(412, [{ diagnostics: 'patient not found', expression: ['prefetch.patient'] }]),
    log: { outcome: 'patient_not_found', data: data.log }
  })
  if (data.states.get('patient') === 'empty') return patientNotFound()

  const mapStarted = performance.now()
  const mapped = deps.mapResources(data.resources, request.context.patientId, {
    evaluationDate: evaluationDateOf(config, deps.now),
    jurisdiction: jurisdictionOf(call.caller)
  })
  // The patient is in hand (checked above), so a structural error can only mean the Patient was not usable.
  if (!('mapping' in mapped)) return patientNotFound()
  const mapping: MappingResult = { ...mapped.mapping, warnings: [...mapped.mapping.warnings, ...data.warnings] }
  const mapMs = elapsed(mapStarted)
  const base = { data: data.log, mapMs, warnings: [...new Set(mapping.warnings.map((item) => item.code))] }
  if (mapped.deceased) return noCards({ ...base, outcome: 'deceased' })
  if (!mapped.hasPrimaryBreastCancer) return noCards({ ...base, outcome: 'not_in_population' })

  const caseResult = deps.toCase(mapping)
  const hookInstance = request.hookInstance
  const kbPublicUrl = config.cdsHooks.kbPublicUrl === undefined ? {} : { kbPublicUrl: config.cdsHooks.kbPublicUrl }
  const selection = request.hook === 'order-select' ? selectedOrders(request.context) : undefined
  const selectionLog = selection === undefined ? {} : { selections: selection.counts }
  if (!caseResult.ok) {
    const outcome = caseResult.kind === 'case-incomplete' ? 'case_incomplete' : 'case_inconsistent'
    const cards = selection === undefined
      ? [deps.cards.incompleteCard({ hookInstance, mapping, caseResult, kb: call.kb, ...kbPublicUrl })]
      : deps.cards.orderSelectCards({ hookInstance, selections: selection.orders, draftOrders: selection.draftOrders, caseResult, mapping, kb: call.kb, ...kbPublicUrl })
    return cardsAnswer(call, cards, { ...base, ...selectionLog, outcome })
  }

  const evaluationStarted = performance.now()
  const { body: response, violations } = await call.recommender.evaluate(caseResult.case)
  const evaluationMs = elapsed(evaluationStarted)
  const cards = selection === undefined
    ? deps.cards.patientViewCards({ hookInstance, response, mapping, kb: call.kb, ...kbPublicUrl })
    : deps.cards.orderSelectCards({ hookInstance, selections: selection.orders, draftOrders: selection.draftOrders, caseResult, response, mapping, kb: call.kb, ...kbPublicUrl })
  return cardsAnswer(call, cards, { ...base, ...selectionLog, outcome: 'evaluated', evaluationMs, ...(violations.length > 0 ? { violations } : {}) })
}

/** `{"cards": []}` (§4.4 rows 3 and 4). */
function noCards (log: HookLog): HookAnswer {
  return { status: 200, body: { cards: [] }, issued: [], log: { ...log, cards: 0 } }
}

/** 200 with the cards, and the record of each issued card for feedback (§7.1, §8): its service, hookInstance, code and targets. */
function cardsAnswer (call: HookCall, built: readonly BuiltCard[], log: HookLog): HookAnswer {
  const issued: IssuedCard[] = built.flatMap(({ card, code, targets }) => card.uuid === undefined
    ? []
    : [{ uuid: card.uuid, record: { service: call.service.id, hookInstance: call.request.hookInstance, code, targets: [...targets] } }])
  return { status: 200, body: { cards: built.map(({ card }) => card) }, issued, log: { ...log, cards: built.length } }
}
