import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp, loggerOptions } from '../src/app.js'
import { OVERRIDE_REASONS } from '../src/cds-hooks/cards.js'
import type { CdsClient } from '../src/cds-hooks/clients.js'
import { PREFETCH_CODES, PREFETCH_KEYS } from '../src/cds-hooks/prefetch.js'
import type { CdsHooksInjection } from '../src/routes/cds-hooks.js'
import { parseConfig } from '../src/config.js'
import type { FhirResource } from '../src/fhir/types.js'
import { knowledgeBase } from './fixtures/engine.js'
import { loadBaseBundle, loadExample, resourcesOf, type Bundle } from './fixtures/fhir/bundles.js'
import { generatedKey, signToken, standardClaims } from './support/jwt-keys.js'

/**
 * The PHI canary: every input kind — a JSON Case, a FHIR Bundle (application/fhir+json), CDS Hooks
 * calls with a bearer JWT (verified by the real verifier), feedback — with canary strings planted in
 * names, identifiers, resource ids, free text, the FHIR access token and the JWT itself, sent to the
 * app with the production logger (src/app.ts loggerOptions: level from LOG_LEVEL, redaction) at
 * LOG_LEVEL debug and trace, on the success paths and the error paths (schema error, bad JSON, wrong
 * content type, 413, 401, 422, an internal error). No log line may carry any canary.
 */

const EXAMPLE = 'mescc-not-operable'
const EVALUATION_DATE = (loadExample(EXAMPLE).case.context as { evaluationDate: string }).evaluationDate
const NOW = new Date(`${EVALUATION_DATE}T12:00:00.000Z`)
const PUBLIC_BASE_URL = 'https://cds.example.org'
const PATIENT_VIEW = '/cds-services/her2-mbc-bone-mets'
const ORDER_SELECT = '/cds-services/her2-mbc-order-check'
const FHIR_SERVER = 'https://fhir.zqc-hospital.example/r4'
const ISSUER = 'https://ehr.example.org'
const SIGNING_KEY = generatedKey('ES384', 'phi-canary-key')
const OTHER_KEY = generatedKey('ES384', 'not-registered')

/** Every planted value; "zqc" marks them all, so that one more check catches a canary in any form. */
const CANARY = {
  family: 'Zqcfamily',
  given: 'Zqcgiven',
  mrn: 'ZQC-MRN-7741',
  /** Prefix of every resource id (the Patient's is the CDS Hooks context.patientId too). */
  id: 'zqcid',
  birthDate: '1951-11-23',
  street: 'Zqcstreet 7',
  phone: '+41-zqc-0071',
  narrative: 'Zqcnarrative',
  note: 'Zqcnote lives alone, daughter Zqcdaughter',
  caseId: 'zqc-case',
  comment: 'Zqccomment the patient declined',
  accessToken: 'zqc-fhir-access-token-9f8e7d',
  claim: 'Zqcclaim',
  practitioner: 'Practitioner/zqc-oncologist'
}
const PATIENT_ID = `${CANARY.id}-mescc-patient`

// ---------------------------------------------------------------------------------------------
// Inputs carrying the canaries

/** The example's fixture bundle with every resource id prefixed, the Patient identified, and a note on every resource. */
function canaryBundle (relativeReferences = false): Bundle {
  let text = JSON.stringify(loadBaseBundle(EXAMPLE)).replaceAll('mescc-', `${CANARY.id}-mescc-`)
  if (relativeReferences) text = text.replaceAll('https://example.org/fhir/', '')
  const bundle = JSON.parse(text) as Bundle
  for (const resource of resourcesOf(bundle)) {
    if (resource.resourceType === 'Patient') {
      Object.assign(resource, {
        identifier: [{ system: 'urn:oid:2.16.756.5.30.1.123', value: CANARY.mrn }],
        name: [{ use: 'official', family: CANARY.family, given: [CANARY.given], text: `${CANARY.given} ${CANARY.family}` }],
        birthDate: CANARY.birthDate,
        address: [{ line: [CANARY.street], city: 'Zqcville' }],
        telecom: [{ system: 'phone', value: CANARY.phone }],
        text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${CANARY.narrative}</div>` }
      })
    } else {
      Object.assign(resource, { note: [{ text: CANARY.note }] })
    }
  }
  return bundle
}

/** The example case; its one free-text field is the client's correlation id. */
function jsonCase (): Record<string, any> {
  return { ...structuredClone(loadExample(EXAMPLE).case), caseId: CANARY.caseId }
}

const searchset = (resources: FhirResource[]): Record<string, unknown> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) })

/** Whether an Observation carries one of a key's `system|code` tokens (`system|` matches any code of the system). */
function matchesCodes (resource: FhirResource, codes: readonly string[]): boolean {
  const codings = ((resource.code as { coding?: Array<{ system?: string, code?: string }> } | undefined)?.coding ?? [])
  return codings.some((coding) => codes.some((token) => token.endsWith('|') ? token === `${coding.system ?? ''}|` : token === `${coding.system ?? ''}|${coding.code ?? ''}`))
}

/** What an EHR would prefetch for our templates from the canary bundle: every key given (no fetch is needed). */
function canaryPrefetch (): Record<string, unknown> {
  const resources = resourcesOf(canaryBundle(true))
  const prefetch: Record<string, unknown> = {}
  for (const spec of PREFETCH_KEYS) {
    const ofType = resources.filter((resource) => resource.resourceType === spec.resourceType)
    const codes = (PREFETCH_CODES as Record<string, readonly string[]>)[spec.key]
    prefetch[spec.key] = spec.read ? ofType[0] : searchset(codes === undefined ? ofType : ofType.filter((resource) => matchesCodes(resource, codes)))
  }
  return prefetch
}

function hookRequest (hook: 'patient-view' | 'order-select', extraContext: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook,
    hookInstance: randomUUID(),
    fhirServer: FHIR_SERVER,
    fhirAuthorization: { access_token: CANARY.accessToken, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'ehr-client' },
    context: { userId: CANARY.practitioner, patientId: PATIENT_ID, ...extraContext },
    prefetch: canaryPrefetch()
  }
}

const draftOrder: FhirResource = {
  resourceType: 'MedicationRequest',
  id: `${CANARY.id}-order-1`,
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '200328', display: 'capecitabine' }], text: 'capecitabine' },
  note: [{ text: CANARY.note }]
}

// ---------------------------------------------------------------------------------------------
// The app, its logs, and the tokens

interface LoggedApp { app: FastifyInstance, text: () => string, lines: () => Array<Record<string, unknown>>, tokens: string[] }

/** The app with the production logger at `level`, JWT on with one registered EHR, writing its log lines here. */
async function loggedApp (t: Test, level: string, inject: CdsHooksInjection = {}): Promise<LoggedApp> {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { chunks.push(chunk.toString('utf8')); done() } })
  const config = parseConfig({ LOG_LEVEL: level, CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL })
  const client: CdsClient = { iss: ISSUER, jwks: { keys: [SIGNING_KEY.publicJwk as never] }, jku: [], fhirServers: [FHIR_SERVER], openFhirServers: [], jurisdiction: 'US' }
  const app = await buildApp(config, {
    logger: { ...loggerOptions(config), stream },
    knowledgeBase,
    cdsHooks: {
      clients: [client],
      now: () => NOW,
      // Every key is prefetched: a fetch would be a test error, and its message carries no canary.
      fetch: async () => { throw new Error('no FHIR server in this test') },
      ...inject
    }
  })
  t.teardown(async () => { await app.close() })
  const text = (): string => chunks.join('')
  return { app, text, lines: () => text().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>), tokens: [] }
}

/** A fresh JWT of the registered EHR for `path`, with a canary claim; remembered to be looked for in the logs. */
function bearer (logged: LoggedApp, path: string, key = SIGNING_KEY): Record<string, string> {
  const token = signToken(key, { ...standardClaims(ISSUER, PUBLIC_BASE_URL + path, NOW.getTime() / 1000), patient_name: CANARY.claim })
  logged.tokens.push(token)
  return { authorization: `Bearer ${token}` }
}

async function send (t: Test, logged: LoggedApp, request: InjectOptions, status: number, what: string): Promise<LightMyRequestResponse> {
  const response = await logged.app.inject(request)
  t.equal(response.statusCode, status, `${what}: ${status}`, { body: response.body.slice(0, 400) })
  return response
}

/** No canary, token, or token part (header, claims, signature) in any log line. */
function assertNoCanary (t: Test, logged: LoggedApp): void {
  const text = logged.text()
  for (const [name, value] of Object.entries(CANARY)) t.notOk(text.includes(value), `no ${name} canary (${value}) in the logs`)
  t.notMatch(text, /zqc/i, 'no canary in any form')
  for (const token of logged.tokens) {
    const [header, claims, signature] = token.split('.') as [string, string, string]
    t.notOk([token, claims, signature].some((part) => text.includes(part)) || text.includes(`${header}.`), 'no JWT, nor any part of one')
  }
}

const JSON_TYPE = { 'content-type': 'application/json' }
const FHIR_TYPE = { 'content-type': 'application/fhir+json' }
const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------

for (const level of ['debug', 'trace']) {
  t.test(`LOG_LEVEL=${level}: no canary from a JSON case, a FHIR bundle or a CDS Hooks call reaches the logs, on success or error`, async (t) => {
    const logged = await loggedApp(t, level)
    t.equal(logged.app.log.level, level)

    // JSON Case: valid, schema error, bad JSON, wrong content type, over 1 MiB.
    await send(t, logged, { method: 'POST', url: '/v1/recommendations', payload: jsonCase() }, 200, 'JSON case')
    await send(t, logged, { method: 'POST', url: '/v1/recommendations?explain=tdxd,sbrt_spine', payload: jsonCase() }, 200, 'JSON case with explanations')
    await send(t, logged, { method: 'POST', url: `/v1/recommendations?caseId=${CANARY.caseId}`, payload: jsonCase() }, 400, 'JSON case with a query parameter of FHIR input')
    const invalid = { ...jsonCase(), patientName: `${CANARY.given} ${CANARY.family}`, patient: { ...jsonCase().patient, sex: CANARY.family, ageYears: CANARY.birthDate } }
    await send(t, logged, { method: 'POST', url: '/v1/recommendations', payload: invalid }, 400, 'JSON case failing the schema')
    await send(t, logged, { method: 'POST', url: '/v1/recommendations', headers: JSON_TYPE, payload: `{"caseId":"${CANARY.caseId}","name":"${CANARY.family}"` }, 400, 'bad JSON')
    await send(t, logged, { method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'text/plain' }, payload: `${CANARY.family} ${CANARY.mrn}` }, 415, 'text/plain')
    await send(t, logged, { method: 'POST', url: '/v1/recommendations', headers: JSON_TYPE, payload: JSON.stringify({ ...jsonCase(), note: `${CANARY.note} `.repeat(Math.ceil(1.1 * MiB / CANARY.note.length)) }) }, 413, 'JSON over 1 MiB')
    await send(t, logged, { method: 'GET', url: `/v1/patients/${PATIENT_ID}?mrn=${CANARY.mrn}` }, 404, 'a patient id in an unknown path')

    // FHIR Bundle: valid, structural error, incomplete (422), over 5 MiB.
    const fhirUrl = `/v1/recommendations?evaluationDate=${EVALUATION_DATE}&caseId=${CANARY.caseId}-fhir`
    await send(t, logged, { method: 'POST', url: fhirUrl, headers: FHIR_TYPE, payload: JSON.stringify(canaryBundle()) }, 200, 'FHIR bundle')
    await send(t, logged, { method: 'POST', url: fhirUrl, headers: FHIR_TYPE, payload: JSON.stringify({ ...canaryBundle(), entry: { resource: { resourceType: 'Patient', id: PATIENT_ID, name: [{ family: CANARY.family }] } } }) }, 400, 'FHIR bundle failing the structural check')
    const incomplete = canaryBundle()
    incomplete.entry = incomplete.entry.filter((entry) => entry.resource?.resourceType !== 'Observation')
    await send(t, logged, { method: 'POST', url: fhirUrl, headers: FHIR_TYPE, payload: JSON.stringify(incomplete) }, 422, 'FHIR bundle without Observations')
    await send(t, logged, { method: 'POST', url: fhirUrl, headers: FHIR_TYPE, payload: `{"resourceType":"Bundle","type":"collection","id":"${CANARY.mrn}"` }, 400, 'bad FHIR JSON')
    const oversized = canaryBundle()
    oversized.entry.push({ resource: { resourceType: 'Observation', id: `${CANARY.id}-big`, status: 'final', code: { text: 'note' }, note: [{ text: `${CANARY.note} `.repeat(Math.ceil(5.1 * MiB / CANARY.note.length)) }] } })
    await send(t, logged, { method: 'POST', url: fhirUrl, headers: FHIR_TYPE, payload: JSON.stringify(oversized) }, 413, 'FHIR bundle over 5 MiB')

    // CDS Hooks, JWT on: patient-view, order-select, feedback; then invalid body, bad JSON, bad tokens, over 5 MiB.
    const view = await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: bearer(logged, PATIENT_VIEW), payload: hookRequest('patient-view') }, 200, 'patient-view')
    const cards = (view.json() as { cards: Array<{ uuid: string }> }).cards
    t.ok(cards.length > 0, 'patient-view gave cards')
    const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draftOrder }] }
    await send(t, logged, { method: 'POST', url: ORDER_SELECT, headers: bearer(logged, ORDER_SELECT), payload: hookRequest('order-select', { selections: [`MedicationRequest/${draftOrder.id ?? ''}`], draftOrders }) }, 200, 'order-select')
    const feedback = { feedback: [{ card: cards[0]?.uuid, outcome: 'overridden', overrideReason: { reason: OVERRIDE_REASONS[0], userComment: CANARY.comment }, outcomeTimestamp: `${EVALUATION_DATE}T11:59:00Z` }] }
    await send(t, logged, { method: 'POST', url: `${PATIENT_VIEW}/feedback`, headers: bearer(logged, `${PATIENT_VIEW}/feedback`), payload: feedback }, 200, 'feedback')
    const noPatientId = { ...hookRequest('patient-view'), context: { userId: CANARY.practitioner, patient: PATIENT_ID } }
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: bearer(logged, PATIENT_VIEW), payload: noPatientId }, 400, 'patient-view failing the schema')
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: { ...bearer(logged, PATIENT_VIEW), ...JSON_TYPE }, payload: `{"hook":"patient-view","context":{"patientId":"${PATIENT_ID}"` }, 400, 'patient-view, bad JSON')
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: bearer(logged, PATIENT_VIEW, OTHER_KEY), payload: hookRequest('patient-view') }, 401, 'a JWT of an unregistered key')
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: { authorization: `Bearer ${CANARY.accessToken}.${CANARY.claim}.x` }, payload: hookRequest('patient-view') }, 401, 'a malformed bearer token')
    const replayed = bearer(logged, PATIENT_VIEW)
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: replayed, payload: hookRequest('patient-view') }, 200, 'a token once')
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: replayed, payload: hookRequest('patient-view') }, 401, 'the same token replayed')
    const huge = { ...hookRequest('patient-view'), extension: { note: `${CANARY.note} `.repeat(Math.ceil(5.1 * MiB / CANARY.note.length)) } }
    await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: { ...bearer(logged, PATIENT_VIEW), ...JSON_TYPE }, payload: JSON.stringify(huge) }, 413, 'patient-view over 5 MiB')

    const lines = logged.lines()
    t.equal(lines.filter((line) => line.msg === 'request completed').length, 23, 'one line per request: the logs were written')
    t.ok(lines.some((line) => line.msg === 'cds_jwt_rejected'), 'the refused tokens were logged (without themselves)')
    t.ok(lines.some((line) => line.msg === 'cds_feedback'), 'the feedback was audited (without its comment)')
    assertNoCanary(t, logged)
  })
}

t.test('LOG_LEVEL=debug: an internal error while mapping a CDS Hooks call logs the error, not the data its message quotes', async (t) => {
  const logged = await loggedApp(t, 'debug', {
    mapResources: () => { throw new Error(`cannot map Patient/${PATIENT_ID} (${CANARY.family}, born ${CANARY.birthDate})`) }
  })
  await send(t, logged, { method: 'POST', url: PATIENT_VIEW, headers: bearer(logged, PATIENT_VIEW), payload: hookRequest('patient-view') }, 500, 'patient-view whose mapping fails')
  t.ok(logged.lines().some((line) => line.msg === 'unhandled error' && line.level === 50), 'the error is logged')
  assertNoCanary(t, logged)
})

t.test('LOG_LEVEL=debug: an internal error on /v1 logs its type and stack frames, not a message quoting the case', async (t) => {
  const logged = await loggedApp(t, 'debug')
  // A stand-in for any fault below a /v1 handler (the root error handler answers every /v1 route).
  logged.app.post('/v1/phi-canary-fault', async () => { throw new Error(`evaluation failed for ${CANARY.caseId} (${CANARY.family})`) })
  const response = await send(t, logged, { method: 'POST', url: '/v1/phi-canary-fault', payload: jsonCase() }, 500, 'a handler that throws')
  t.notMatch(response.body, /zqc/i, 'nor in the problem')
  t.match(logged.lines().find((line) => line.msg === 'unhandled error'), { level: 50, err: { type: 'Error', stack: /phi-canary\.test\.ts/ } })
  assertNoCanary(t, logged)
})

t.test('the canary check finds a canary when one is logged (the test can fail)', async (t) => {
  const logged = await loggedApp(t, 'trace')
  logged.app.log.trace({ patient: CANARY.family }, 'a careless line')
  t.match(logged.text(), CANARY.family)
})
