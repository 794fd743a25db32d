import { randomUUID } from 'node:crypto'
import { SANDBOX_ISS, SANDBOX_JKU, SANDBOX_KID, sandboxKey, signToken, type SigningKey } from './jwt-keys.js'
import { readThirdPartyJson } from './third-party-fixtures.js'

/**
 * The CDS Hooks sandbox replay client (spec/ehr-integration.md §12.5): our own code reproducing the
 * requests the real sandbox (cds-hooks/sandbox) sends, as plain objects for `app.inject`. The real
 * sandbox is not part of CI. What it does, and so what this does:
 * - a preflight (OPTIONS, no JWT) before every call, since it runs in a browser;
 * - a JWT per call: ES384, kid 44823f3d-…, jku its /.well-known/jwks.json, iss
 *   https://sandbox.cds-hooks.org, aud = the exact URL called, exp = iat + 300, jti a UUID, no sub;
 * - service calls { hookInstance (UUID v4), hook, fhirServer, context { patientId, userId } },
 *   `prefetch` only for the keys it resolved, and no `fhirAuthorization` (an open FHIR server);
 * - `order-select` with `selections` and a `draftOrders` Bundle without `type`, holding the Rx View's
 *   one draft MedicationRequest (id request-123);
 * - feedback `{ card, outcome: 'overridden', outcomeTimestamp, overrideReason: { reason: { code, system } } }`.
 */

export const SANDBOX_ORIGIN = 'https://sandbox.cds-hooks.org'
export const SANDBOX_USER_ID = 'Practitioner/COREPRACTITIONER1'
export const SANDBOX_DRAFT_ORDER_ID = 'request-123'
export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm'
const UCUM = 'http://unitsofmeasure.org'

/** One HTTP request, ready for `app.inject({ method, url, headers, payload })`. */
export interface ReplayRequest {
  method: 'GET' | 'POST' | 'OPTIONS'
  /** The path (and query) under the service, e.g. `/cds-services/her2-mbc-bone-mets`. */
  url: string
  headers: Record<string, string>
  payload?: Record<string, unknown>
  /** The `aud` of its JWT (absent on a preflight). */
  aud?: string
}

export interface SandboxClientOptions {
  /** PUBLIC_BASE_URL of the service under test; the JWT's `aud` is this plus the path. */
  baseUrl: string
  /** The browser origin of the preflights (the public sandbox, or a local build such as http://127.0.0.1:8080). */
  origin?: string
  /** The signing key: the sandbox's published key (needs ../shared) unless a test passes another. */
  key?: SigningKey
  /** Milliseconds since the epoch, for `iat`/`exp` (and `authoredOn`). */
  now?: () => number
}

export interface PatientViewOptions {
  serviceId: string
  patientId: string
  fhirServer: string
  /** What the sandbox fetched per prefetch key; keys it could not resolve (undefined, empty) are left out. */
  prefetch?: Record<string, unknown>
}

export interface OrderSelectOptions extends PatientViewOptions {
  /** The RxNorm code and name the Rx View ordered (see `sandboxMedication`). */
  medication: { code: string, display: string }
}

export interface FeedbackOptions {
  serviceId: string
  card: string
  reason: { code: string, system?: string }
  outcomeTimestamp?: string
}

/** A medication of the sandbox's Rx View list (`sandbox/rxnorm-extract.json`), e.g. 200328. */
export function sandboxMedication (code: string): { code: string, display: string } {
  const names = readThirdPartyJson<{ cuiToName: Record<string, string> }>('sandbox/rxnorm-extract.json').cuiToName
  const display = names[code]
  if (display === undefined) throw new Error(`RxNorm ${code} is not in the sandbox extract`)
  return { code, display }
}

/** The prefetch members the sandbox sends: only values it resolved (a non-empty object). */
export function resolvedPrefetch (prefetch: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const kept = Object.entries(prefetch ?? {}).filter(([, value]) =>
    typeof value === 'object' && value !== null && Object.keys(value).length > 0)
  return kept.length === 0 ? undefined : Object.fromEntries(kept)
}

export class SandboxClient {
  private readonly baseUrl: string
  private readonly origin: string
  private readonly now: () => number
  private readonly key: SigningKey

  constructor (options: SandboxClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.origin = options.origin ?? SANDBOX_ORIGIN
    this.now = options.now ?? Date.now
    this.key = options.key ?? sandboxKey()
  }

  /** The sandbox's JWT for a call to `path`: header { alg, typ, kid, jku }, payload { iss, aud, exp, iat, jti }. */
  jwt (path: string): string {
    const iat = Math.round(this.now() / 1000)
    return signToken(this.key, { iss: SANDBOX_ISS, aud: this.baseUrl + path, exp: iat + 300, iat, jti: randomUUID() }, {
      header: { alg: 'ES384', typ: 'JWT', kid: SANDBOX_KID, jku: SANDBOX_JKU }
    })
  }

  /** The browser's CORS preflight for a call, without any JWT (§10.4). */
  preflight (path: string, method: 'GET' | 'POST'): ReplayRequest {
    return {
      method: 'OPTIONS',
      url: path,
      headers: {
        origin: this.origin,
        'access-control-request-method': method,
        'access-control-request-headers': method === 'POST' ? 'authorization,content-type' : 'authorization'
      }
    }
  }

  /** Discovery: preflight, then GET /cds-services with a JWT. */
  discovery (): [ReplayRequest, ReplayRequest] {
    const path = '/cds-services'
    return [this.preflight(path, 'GET'), { method: 'GET', url: path, headers: this.callHeaders(path, false), aud: this.baseUrl + path }]
  }

  /** patient-view: preflight, then the service call. */
  patientView (options: PatientViewOptions): [ReplayRequest, ReplayRequest] {
    return this.serviceCall(options.serviceId, this.request('patient-view', options, this.baseContext(options)))
  }

  /** order-select from the Rx View: `selections` and a `draftOrders` Bundle without `type`. */
  orderSelect (options: OrderSelectOptions): [ReplayRequest, ReplayRequest] {
    const context = {
      ...this.baseContext(options),
      selections: [`MedicationRequest/${SANDBOX_DRAFT_ORDER_ID}`],
      draftOrders: { resourceType: 'Bundle', entry: [{ resource: this.draftMedicationRequest(options.patientId, options.medication) }] }
    }
    return this.serviceCall(options.serviceId, this.request('order-select', options, context))
  }

  /** Feedback on an overridden card (the sandbox's Dismiss with a reason). */
  feedback (options: FeedbackOptions): [ReplayRequest, ReplayRequest] {
    const path = `/cds-services/${options.serviceId}/feedback`
    const payload = {
      feedback: [{
        card: options.card,
        outcome: 'overridden',
        outcomeTimestamp: options.outcomeTimestamp ?? new Date(this.now()).toISOString(),
        overrideReason: { reason: { code: options.reason.code, ...(options.reason.system === undefined ? {} : { system: options.reason.system }) } }
      }]
    }
    return [this.preflight(path, 'POST'), { method: 'POST', url: path, headers: this.callHeaders(path, true), payload, aud: this.baseUrl + path }]
  }

  /**
   * The Rx View's draft MedicationRequest, with the sandbox's own form defaults (1 `{pill}` daily,
   * a 1-day supply, which also makes it intent `order`); these are the client's UI defaults, not
   * clinical content. `category` is an object, not an array, exactly as the sandbox sends it.
   */
  draftMedicationRequest (patientId: string, medication: { code: string, display: string }): Record<string, unknown> {
    return {
      resourceType: 'MedicationRequest',
      id: SANDBOX_DRAFT_ORDER_ID,
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${patientId}` },
      authoredOn: new Date(this.now()).toISOString().slice(0, 10),
      dosageInstruction: [{
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
        doseAndRate: [{ doseQuantity: { value: 1, system: UCUM, code: '{pill}' } }]
      }],
      dispenseRequest: { expectedSupplyDuration: { value: 1, unit: 'days', system: UCUM, code: 'd' } },
      category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'community' }] },
      medicationCodeableConcept: { text: medication.display, coding: [{ display: medication.display, system: RXNORM_SYSTEM, code: medication.code }] }
    }
  }

  private baseContext (options: PatientViewOptions): Record<string, unknown> {
    return { patientId: options.patientId, userId: SANDBOX_USER_ID }
  }

  private request (hook: string, options: PatientViewOptions, context: Record<string, unknown>): Record<string, unknown> {
    const prefetch = resolvedPrefetch(options.prefetch)
    return {
      hookInstance: randomUUID(),
      hook,
      fhirServer: options.fhirServer,
      context,
      ...(prefetch === undefined ? {} : { prefetch })
    }
  }

  private serviceCall (serviceId: string, payload: Record<string, unknown>): [ReplayRequest, ReplayRequest] {
    const path = `/cds-services/${serviceId}`
    return [this.preflight(path, 'POST'), { method: 'POST', url: path, headers: this.callHeaders(path, true), payload, aud: this.baseUrl + path }]
  }

  private callHeaders (path: string, withBody: boolean): Record<string, string> {
    return {
      origin: this.origin,
      accept: 'application/json',
      authorization: `Bearer ${this.jwt(path)}`,
      ...(withBody ? { 'content-type': 'application/json' } : {})
    }
  }
}
