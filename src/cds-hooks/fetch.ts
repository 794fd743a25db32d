import type { FhirResource } from '../fhir/types.js'
import type { CdsClient } from './clients.js'
import { readKeyValue, renderTemplate, type KeyValue, type PrefetchKey } from './prefetch.js'

/**
 * The `fhirServer` fallback of spec/ehr-integration.md §4.3: which server may be queried, with which
 * token, and the fetches themselves under one budget per hook call. Framework-free; `fetch` is
 * injected.
 *
 * Privacy (§4.3, §10.5): the token, the URLs (they hold the patient id) and the bodies are never
 * logged or kept. What this module reports is per key: outcome, pages, entries, status classes.
 */

export const FHIR_FETCH_MAX_IN_FLIGHT = 4
export const FHIR_FETCH_MAX_ENTRIES_PER_KEY = 1000
export const FHIR_FETCH_MAX_BODY_BYTES = 5 * 1024 * 1024
const MEDICATION_ID = /^[A-Za-z0-9\-.]{1,64}$/

/**
 * §4.3 condition 2: lower-case scheme and host (URL does it), default port and trailing `/` removed.
 * Userinfo, a query or a fragment make the URL unusable (undefined), as does anything but http(s).
 */
export function normaliseFhirBase (text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.username !== '' || url.password !== '' || text.includes('?') || text.includes('#')) return undefined
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

/** Where the service may fetch, and whether it sends the token. */
export interface FhirAccess { base: string, token?: string }

export interface AccessRequest {
  fhirServer?: string
  fhirAuthorization?: { access_token: string, token_type: string }
}

/**
 * §4.3 conditions 1 and 2 (condition 3 is a 400 of the request schema): the normalised `fhirServer`
 * on the verified issuer's `fhirServers` with a Bearer token; or, outside production only, on its
 * `openFhirServers`, without a token. https only in production. Otherwise no fetch (`reason` says why,
 * as a code for the log).
 */
export function fhirAccess (request: AccessRequest, client: CdsClient | undefined, production: boolean): { access: FhirAccess } | { reason: string } {
  if (request.fhirServer === undefined) return { reason: 'no_fhir_server' }
  if (client === undefined) return { reason: 'no_verified_issuer' }
  const base = normaliseFhirBase(request.fhirServer)
  if (base === undefined) return { reason: 'fhir_server_not_normalisable' }
  if (production && !base.startsWith('https://')) return { reason: 'fhir_server_not_https' }
  const listed = (bases: readonly string[]): boolean => bases.some((entry) => normaliseFhirBase(entry) === base)
  const authorization = request.fhirAuthorization
  if (listed(client.fhirServers) && authorization !== undefined && authorization.token_type.toLowerCase() === 'bearer') {
    return { access: { base, token: authorization.access_token } }
  }
  if (!production && listed(client.openFhirServers)) return { access: { base } }
  return { reason: 'fhir_server_not_allowed' }
}

export interface FetchOptions {
  fetch: typeof globalThis.fetch
  /** FHIR_FETCH_BUDGET_MS: every request of one hook call shares it. */
  budgetMs: number
  /** FHIR_FETCH_MAX_PAGES per key. */
  maxPages: number
  /** Monotonic milliseconds (tests inject it). */
  clock?: () => number
  maxInFlight?: number
  maxEntries?: number
  maxBodyBytes?: number
}

/** What a key ended as after fetching. `empty` = 404 on a read. */
export type FetchedKey =
  | { state: 'data' | 'partial', resources: FhirResource[] }
  | { state: 'empty' }
  | { state: 'unavailable' }

/** What one fetch did, for the log: status class (`2xx`, `4xx`, `timeout`…) and duration. Never a URL. */
export interface FetchEvent { key: string, status: string, durationMs: number }

/** Where a key starts: its template, or a `next` link of a page already in hand (prefetch). */
export interface KeyFetch {
  spec: PrefetchKey
  patientId: string
  /** Resources already in hand (a partial prefetch value) and the link to continue from. */
  continueFrom?: { resources: FhirResource[], next: string }
}

type Response = { ok: true, body: unknown } | { ok: false, status: string }

/** A counting semaphore: at most `size` requests in flight. */
class Slots {
  private free: number
  private readonly waiting: Array<() => void> = []
  constructor (size: number) { this.free = size }
  async take (): Promise<void> {
    if (this.free > 0) { this.free--; return }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  give (): void {
    const next = this.waiting.shift()
    if (next === undefined) this.free++
    else next()
  }
}

/** Reads at most `limit` bytes of a body; undefined (and the request aborted) beyond it. */
async function readLimited (response: globalThis.Response, limit: number, abort: () => void): Promise<string | undefined> {
  // A declared length over the limit is refused before reading (a missing or bad header reads as 0 or NaN: not over).
  if (Number(response.headers.get('content-length')) > limit) { abort(); return undefined }
  /* c8 ignore next -- a 200 from fetch always has a body stream; kept for the type */
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) { abort(); await reader.cancel().catch(() => {}); return undefined }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * One hook call's fetches: one deadline (`budgetMs` from construction), at most 4 requests in
 * flight, each with the budget left as its timeout. No redirect is followed; the token goes only to
 * URLs under `base + '/'`.
 */
export class FhirFetcher {
  readonly events: FetchEvent[] = []
  /** Log codes such as `fhir_next_link_foreign`. */
  readonly notes: string[] = []
  private readonly clock: () => number
  private readonly deadline: number
  private readonly slots: Slots
  private readonly maxEntries: number
  private readonly maxBodyBytes: number

  constructor (private readonly access: FhirAccess, private readonly options: FetchOptions) {
    this.clock = options.clock ?? (() => performance.now())
    this.deadline = this.clock() + options.budgetMs
    this.slots = new Slots(options.maxInFlight ?? FHIR_FETCH_MAX_IN_FLIGHT)
    this.maxEntries = options.maxEntries ?? FHIR_FETCH_MAX_ENTRIES_PER_KEY
    this.maxBodyBytes = options.maxBodyBytes ?? FHIR_FETCH_MAX_BODY_BYTES
  }

  /** Whether a URL lies under the allowed base (the only URLs ever requested). */
  underBase (url: string): boolean {
    return url.startsWith(`${this.access.base}/`)
  }

  /** Fetches every key at once (the slots bound the concurrency). */
  async fetchKeys (keys: readonly KeyFetch[]): Promise<Map<string, FetchedKey>> {
    const results = await Promise.all(keys.map(async (key) => [key.spec.key, await this.fetchKey(key)] as const))
    return new Map(results)
  }

  /** Reads `Medication/{id}` for each id (§4.3: medicationReferences that resolve to nothing in hand). */
  async readMedications (ids: readonly string[]): Promise<FhirResource[]> {
    const read = await Promise.all(ids.filter((id) => MEDICATION_ID.test(id)).map(async (id) => {
      const response = await this.request('medication', `${this.access.base}/Medication/${encodeURIComponent(id)}`)
      if (!response.ok) return undefined
      const body = response.body as FhirResource | undefined
      return typeof body === 'object' && body !== null && body.resourceType === 'Medication' && body.id === id ? body : undefined
    }))
    return read.filter((resource): resource is FhirResource => resource !== undefined)
  }

  private async fetchKey ({ spec, patientId, continueFrom }: KeyFetch): Promise<FetchedKey> {
    if (spec.read) {
      const response = await this.request(spec.key, `${this.access.base}/${renderTemplate(spec.template, patientId)}`)
      if (!response.ok) return response.status === '404' ? { state: 'empty' } : { state: 'unavailable' }
      const value = readKeyValue(spec, response.body, patientId)
      return value.state === 'data' ? { state: 'data', resources: value.resources } : { state: 'unavailable' }
    }
    const resources = [...continueFrom?.resources ?? []]
    let pages = continueFrom === undefined ? 0 : 1
    let url: string | undefined = continueFrom?.next ?? `${this.access.base}/${renderTemplate(spec.template, patientId)}`
    const stop = (): FetchedKey => pages > 0 ? { state: 'partial', resources } : { state: 'unavailable' }
    while (url !== undefined) {
      if (!this.underBase(url)) { this.notes.push('fhir_next_link_foreign'); return stop() }
      if (pages >= this.options.maxPages) return stop()
      const response = await this.request(spec.key, url)
      if (!response.ok) return stop()
      const value: KeyValue = readKeyValue(spec, response.body, patientId)
      if (value.state !== 'data') return stop()
      pages++
      const room = this.maxEntries - resources.length
      resources.push(...value.resources.slice(0, room))
      if (value.resources.length > room) return { state: 'partial', resources }
      url = value.next
    }
    return { state: 'data', resources }
  }

  /** One GET under the budget, in a slot; logged as a status class and a duration (never the URL). */
  private async request (key: string, url: string): Promise<Response> {
    await this.slots.take()
    const started = this.clock()
    try {
      const response = await this.attempt(url, this.deadline - started)
      this.events.push({ key, status: response.ok ? '2xx' : statusClass(response.status), durationMs: Math.round(this.clock() - started) })
      return response
    } finally {
      this.slots.give()
    }
  }

  /** A parsed 200 body, or why not: a status, `budget`, `timeout`, `network`, `too_large`, `bad_json`. */
  private async attempt (url: string, left: number): Promise<Response> {
    if (left <= 0) return { ok: false, status: 'budget' }
    /* c8 ignore next -- every caller checks underBase first; kept so that no path can send the token elsewhere */
    if (!this.underBase(url)) return { ok: false, status: 'foreign' }
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort() }, left)
    const response = await this.get(url, controller)
      .catch((): Response => ({ ok: false, status: controller.signal.aborted ? 'timeout' : 'network' }))
    clearTimeout(timer)
    return response
  }

  private async get (url: string, controller: AbortController): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' }
    if (this.access.token !== undefined) headers.authorization = `Bearer ${this.access.token}`
    const response = await this.options.fetch(url, { method: 'GET', headers, redirect: 'manual', signal: controller.signal })
    if (response.status !== 200) {
      // A redirect is a failure (§4.3): with redirect 'manual' it arrives as a 3xx (an opaque 0 in browsers).
      await response.body?.cancel().catch(() => {})
      return { ok: false, status: response.status === 0 ? '3xx' : String(response.status) }
    }
    const text = await readLimited(response, this.maxBodyBytes, () => { controller.abort() })
    if (text === undefined) return { ok: false, status: 'too_large' }
    try {
      return { ok: true, body: JSON.parse(text) as unknown }
    } catch {
      return { ok: false, status: 'bad_json' }
    }
  }
}

/** `200` → `2xx`; failure classes pass as they are. */
function statusClass (status: string): string {
  return /^\d{3}$/.test(status) ? `${status[0] as string}xx` : status
}

const MEDICATION_USERS = new Set(['MedicationRequest', 'MedicationAdministration', 'MedicationStatement'])

/**
 * The Medication ids to read (§4.3, §6.6): `medicationReference`s of the medication resources that
 * are neither contained (`#id`) nor a Medication in hand. Relative `Medication/{id}` references, and
 * absolute ones under the allowed base; anything else cannot be read from this server.
 */
export function unresolvedMedicationIds (resources: readonly FhirResource[], base: string): string[] {
  const inHand = new Set(resources.filter((resource) => resource.resourceType === 'Medication').map((resource) => resource.id))
  const ids = new Set<string>()
  for (const resource of resources) {
    if (!MEDICATION_USERS.has(resource.resourceType)) continue
    const reference = (resource.medicationReference as { reference?: unknown } | undefined)?.reference
    if (typeof reference !== 'string') continue
    const relative = reference.startsWith(`${base}/`) ? reference.slice(base.length + 1) : reference
    const match = /^Medication\/([^/]+)(\/_history\/[^/]+)?$/.exec(relative)
    const id = match?.[1]
    if (id !== undefined && MEDICATION_ID.test(id) && !inHand.has(id)) ids.add(id)
  }
  return [...ids]
}
