import { CDS_SERVICES } from '../cds-hooks/services.js'

/**
 * The finishing pass over the OpenAPI document that @fastify/swagger and fastify-type-provider-zod
 * build from the routes' zod schemas. It works on the paths alone, keyed on their prefix (the route
 * groups of src/app.ts), so that route modules declare only what is theirs — body, query, success
 * and route-specific errors — and every operation of a group still documents what the group's hooks
 * add: its security, its error body (problem+json, or a FHIR OperationOutcome under /cds-services),
 * and the 401 / 429 / 503 of authentication, rate limit and load shedding. It also gives every
 * operation a stable operationId, and leaves no unused component: the zod provider emits an input
 * and an output copy of every registered schema, so identical copies become one and unused ones go.
 * Checked by `npm run lint:openapi` (Redocly's recommended rules, redocly.yaml).
 */

export type SecurityRequirement = Record<string, string[]>
type ErrorBody = 'problem' | 'operation-outcome'

export interface RouteGroup {
  /** The group's path, or its prefix: an operation belongs to the first group whose prefix is its path or a parent of it. */
  prefix: string
  /** What every error of the group is: RFC 9457 problem+json, or a FHIR OperationOutcome (spec/ehr-integration.md §9). */
  errorBody: ErrorBody
  /** Every operation's security (`[]`: none; `{}` among others: optional), unless the route declares its own. */
  security: SecurityRequirement[]
  /** What any operation of the group can answer whatever its route declares: the group's hooks (auth, rate limit, load shedding). */
  errors: readonly number[]
}

export const API_KEY_SCHEME = 'ApiKey'
export const CDS_HOOKS_JWT_SCHEME = 'CdsHooksJwt'

export const SECURITY_SCHEMES = {
  [API_KEY_SCHEME]: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key for /v1, needed only where the site sets API_KEYS (a site behind an authenticating gateway does not): ' +
      'without a valid key such a site answers 401. The service keeps hashes of the keys only.'
  },
  [CDS_HOOKS_JWT_SCHEME]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The CDS Hooks JWT of a registered EHR (spec/ehr-integration.md §10): signed with a key of its issuer (ES384 or RS384 by default), ' +
      '`aud` = PUBLIC_BASE_URL + the path called, a lifetime of at most JWT_MAX_LIFETIME_S, each (`iss`, `jti`) accepted once. ' +
      'Any failure is a 401 OperationOutcome. CDS_DISCOVERY_AUTH=optional makes it optional on discovery; CDS_HOOKS_JWT=off (never in production) turns it off.'
  }
} as const

export const ROUTE_GROUPS: readonly RouteGroup[] = [
  { prefix: '/v1', errorBody: 'problem', security: [{ [API_KEY_SCHEME]: [] }, {}], errors: [401, 429, 503] },
  { prefix: '/cds-services', errorBody: 'operation-outcome', security: [{ [CDS_HOOKS_JWT_SCHEME]: [] }], errors: [401, 429, 503] },
  // Probes and scrapes: no authentication, no rate limit (a gateway or the network restricts them).
  { prefix: '/health', errorBody: 'problem', security: [], errors: [] },
  { prefix: '/metrics', errorBody: 'problem', security: [], errors: [] }
]

export function groupOf (path: string, groups: readonly RouteGroup[] = ROUTE_GROUPS): RouteGroup | undefined {
  return groups.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`))
}

// ---------------------------------------------------------------------------------------------
// operationId

const CDS_PREFIX = '/cds-services'

const pascal = (words: string): string => words.split(/[^A-Za-z0-9]+/).filter((word) => word !== '')
  .map((word) => word[0]?.toUpperCase() + word.slice(1)).join('')

/** The public names of the operations (client generators name their methods after them): change one only with the API's version. */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'POST /v1/recommendations': 'evaluateCase',
  'GET /v1/rulesets': 'listRulesets',
  'GET /v1/references': 'listReferences',
  'GET /health/live': 'checkLiveness',
  'GET /health/ready': 'checkReadiness',
  'GET /metrics': 'getMetrics',
  [`GET ${CDS_PREFIX}`]: 'cdsDiscovery',
  // A CDS service is named after its hook: cdsPatientView, cdsPatientViewFeedback, cdsOrderSelect, …
  ...Object.fromEntries(Object.values(CDS_SERVICES).flatMap(({ id, hook }) => [
    [`POST ${CDS_PREFIX}/${id}`, `cds${pascal(hook)}`],
    [`POST ${CDS_PREFIX}/${id}/feedback`, `cds${pascal(hook)}Feedback`]
  ]))
}

/** The operationId of a route: its public name, else method and path in camelCase (`GET /a/{id}/b-c` → `getAIdBC`). */
export function operationIdOf (method: string, path: string): string {
  return OPERATION_IDS[`${method.toUpperCase()} ${path}`] ?? `${method.toLowerCase()}${pascal(path)}`
}

// ---------------------------------------------------------------------------------------------
// Error responses

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  413: 'ContentTooLarge',
  415: 'UnsupportedMediaType',
  422: 'UnprocessableContent',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'ServiceUnavailable'
}

const RETRY_LATER = 'retry after `Retry-After` seconds'

const ERROR_DESCRIPTIONS: Readonly<Record<ErrorBody, Readonly<Record<number, string>>>> = {
  problem: {
    400: 'Invalid request: the body is not JSON or does not match the schema (an unknown key is refused), or a query parameter is invalid; `errors[]` points at each invalid field.',
    401: 'No valid API key in `X-API-Key` (only where the site sets API_KEYS).',
    413: 'The body is over the size limit.',
    415: 'Unsupported content type.',
    422: 'Valid, but cannot be evaluated; `type` says why.',
    429: `Too many requests from this client (its API key, else its address); ${RETRY_LATER}.`,
    500: 'Internal error: nothing about it is returned; it is logged with the request id.',
    503: `Not ready (the knowledge base is not loaded yet), overloaded, or a shared store is unavailable; retry later (when overloaded: ${RETRY_LATER}).`
  },
  'operation-outcome': {
    400: 'Invalid CDS Hooks request (issue code `invalid`; `expression` names the element).',
    401: 'Missing, invalid, expired or replayed JWT (issue code `security`, no details).',
    412: 'The FHIR data the service needs is neither prefetched nor obtainable from the FHIR server (issue code `processing`).',
    413: 'The body is over the size limit (issue code `too-costly`).',
    415: 'Unsupported content type (issue code `not-supported`).',
    429: `Too many requests from this EHR (its JWT issuer and subject, else its address) (issue code \`throttled\`); ${RETRY_LATER}.`,
    500: 'Internal error (issue code `exception`): nothing about it is returned; it is logged with the request id.',
    503: `Not ready, overloaded, or the token replay or feedback store is unavailable (issue code \`transient\`); retry later (when overloaded: ${RETRY_LATER}).`
  }
}

const ERROR_SCHEMA: Readonly<Record<ErrorBody, string>> = { problem: 'Problem', 'operation-outcome': 'OperationOutcome' }
/** §9: an OperationOutcome is application/fhir+json when Accept asks for it, else application/json. */
const ERROR_MEDIA_TYPES: Readonly<Record<ErrorBody, readonly string[]>> = {
  problem: ['application/problem+json'],
  'operation-outcome': ['application/json', 'application/fhir+json']
}
const ERROR_SUFFIX: Readonly<Record<ErrorBody, string>> = { problem: 'Problem', 'operation-outcome': 'Outcome' }

const HEADERS = {
  RetryAfter: {
    description: 'Seconds to wait before retrying: always sent with 429, and with 503 when the service sheds load.',
    schema: { type: 'integer', minimum: 0 }
  },
  WwwAuthenticate: {
    description: 'The authentication challenge: `ApiKey header="X-API-Key"` on /v1, `Bearer` under /cds-services.',
    schema: { type: 'string' }
  }
} as const
type HeaderName = keyof typeof HEADERS

function headersOf (status: number): Partial<Record<string, HeaderName>> {
  if (status === 429 || status === 503) return { 'Retry-After': 'RetryAfter' }
  if (status === 401) return { 'WWW-Authenticate': 'WwwAuthenticate' }
  return {}
}

// ---------------------------------------------------------------------------------------------
// The document

interface Reference { $ref: string }
interface MediaType { schema?: unknown, [key: string]: unknown }
interface Response { description?: string, content?: Record<string, MediaType>, headers?: Record<string, unknown>, [key: string]: unknown }
interface Operation { operationId?: string, security?: SecurityRequirement[], responses?: Record<string, Response | Reference>, [key: string]: unknown }
interface Components { schemas?: Record<string, unknown>, responses?: Record<string, Response>, headers?: Record<string, unknown>, [key: string]: unknown }
export interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>
  components?: Components
  tags?: Array<{ name: string }>
  servers?: Array<{ url: string, description?: string }>
  [key: string]: unknown
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])
const SCHEMA_REF = '#/components/schemas/'
/** @fastify/swagger's description of a response its route did not describe. */
const UNDESCRIBED = 'Default Response'

const isReference = (value: unknown): value is Reference => typeof value === 'object' && value !== null && '$ref' in value

/** Every `$ref` under a node. */
function refsIn (node: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) refsIn(item, found)
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.add(value)
      else refsIn(value, found)
    }
  }
  return found
}

/** A deep copy with every `$ref` that `rename` maps replaced. */
function renameRefs<T> (node: T, rename: ReadonlyMap<string, string>): T {
  return JSON.parse(JSON.stringify(node), (key, value: unknown) => key === '$ref' && typeof value === 'string' ? rename.get(value) ?? value : value) as T
}

/**
 * fastify-type-provider-zod emits every registered schema twice, as `XInput` (request side) and `X`
 * (response side). Where the two are the same JSON Schema (refs to collapsed copies counted as the
 * same), `XInput` goes and its refs point at `X`: a request and a response then share one type.
 */
function collapseInputCopies (document: OpenApiDocument): OpenApiDocument {
  const schemas = document.components?.schemas ?? {}
  const inputName = (name: string): string => `${name}Input`
  let same = new Set(Object.keys(schemas).filter((name) => inputName(name) in schemas))
  // Greatest fixpoint: assume every pair the same, drop those that differ once refs are renamed, until stable.
  for (let changed = true; changed;) {
    const rename = new Map([...same].map((name) => [SCHEMA_REF + inputName(name), SCHEMA_REF + name]))
    const next = new Set([...same].filter((name) => JSON.stringify(renameRefs(schemas[inputName(name)], rename)) === JSON.stringify(schemas[name])))
    changed = next.size !== same.size
    same = next
  }
  const rename = new Map([...same].map((name) => [SCHEMA_REF + inputName(name), SCHEMA_REF + name]))
  const renamed = renameRefs(document, rename)
  for (const name of same) delete renamed.components?.schemas?.[inputName(name)]
  return renamed
}

/** Drops the schemas that nothing outside components.schemas reaches (through any chain of refs). */
function pruneSchemas (document: OpenApiDocument): void {
  const schemas = document.components?.schemas
  if (schemas === undefined) return
  const pending = [...refsIn({ ...document, components: { ...document.components, schemas: {} } })]
  const reached = new Set<string>()
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    const name = ref.startsWith(SCHEMA_REF) ? ref.slice(SCHEMA_REF.length) : undefined
    if (name === undefined || reached.has(name)) continue
    reached.add(name)
    pending.push(...refsIn(schemas[name]))
  }
  for (const name of Object.keys(schemas)) if (!reached.has(name)) delete schemas[name]
}

/** A response's own description, else its schema's (a referenced component's), else `fallback`. */
function describedResponse (response: Response, schemas: Record<string, unknown>, fallback: string): Response {
  if (response.description !== undefined && response.description !== UNDESCRIBED) return response
  const schema = Object.values(response.content ?? {})[0]?.schema as { description?: unknown, $ref?: string } | undefined
  const target = schema?.$ref?.startsWith(SCHEMA_REF) === true ? schemas[schema.$ref.slice(SCHEMA_REF.length)] as { description?: unknown } | undefined : schema
  return { ...response, description: typeof target?.description === 'string' ? target.description : fallback }
}

/** Adds the components that the group responses refer to, as they are first used. */
class ErrorComponents {
  readonly responses: Record<string, Response> = {}
  readonly headers: Partial<Record<HeaderName, unknown>> = {}

  /** The shared response of `status` for a group's error body. */
  ref (status: number, errorBody: ErrorBody): Reference {
    const name = `${STATUS_NAMES[status] ?? `Status${status}`}${ERROR_SUFFIX[errorBody]}`
    if (!(name in this.responses)) {
      const headers = Object.entries(headersOf(status)).map(([header, component]) => {
        this.headers[component as HeaderName] = HEADERS[component as HeaderName]
        return [header, { $ref: `#/components/headers/${component}` }]
      })
      this.responses[name] = {
        description: ERROR_DESCRIPTIONS[errorBody][status] ?? `Error ${status}.`,
        ...(headers.length === 0 ? {} : { headers: Object.fromEntries(headers) }),
        content: errorContent(errorBody, { $ref: SCHEMA_REF + ERROR_SCHEMA[errorBody] })
      }
    }
    return { $ref: `#/components/responses/${name}` }
  }
}

function errorContent (errorBody: ErrorBody, schema: unknown): Record<string, MediaType> {
  return Object.fromEntries(ERROR_MEDIA_TYPES[errorBody].map((type) => [type, { schema }]))
}

/** An error status: 4xx, 5xx, their ranges, and `default` (what is not declared: errors, in practice). */
const isError = (status: string): boolean => status === 'default' || /^[45]/.test(status)
const statusOrder = (status: string): number => status === 'default' ? 1000 : Number.parseInt(status.replace(/X/g, '0'), 10)

/**
 * A group's errors in its error body: a response its route left undescribed with the group's error
 * schema becomes the group's shared response; any other keeps its schema and description under the
 * group's error media types. The group's own errors are added where the route has not declared them.
 */
function groupResponses (responses: Record<string, Response | Reference>, group: RouteGroup | undefined, components: ErrorComponents, schemas: Record<string, unknown>): Record<string, Response | Reference> {
  const result: Record<string, Response | Reference> = {}
  for (const [status, response] of Object.entries(responses)) {
    if (isReference(response)) {
      result[status] = response
    } else if (group === undefined || !isError(status)) {
      result[status] = describedResponse(response, schemas, isError(status) ? `Error ${status}.` : 'Success.')
    } else {
      const schema = Object.values(response.content ?? {})[0]?.schema
      const standard = (response.description === undefined || response.description === UNDESCRIBED) &&
        isReference(schema) && schema.$ref === SCHEMA_REF + ERROR_SCHEMA[group.errorBody]
      result[status] = standard && /^\d+$/.test(status)
        ? components.ref(Number(status), group.errorBody)
        : { ...describedResponse(response, schemas, `Error ${status}.`), ...(schema === undefined ? {} : { content: errorContent(group.errorBody, schema) }) }
    }
  }
  if (group !== undefined) for (const status of group.errors) result[status] ??= components.ref(status, group.errorBody)
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => statusOrder(a) - statusOrder(b)))
}

export interface FinishOptions {
  groups?: readonly RouteGroup[]
  servers: Array<{ url: string, description?: string }>
}

/** The finishing pass (see the top of this file). */
export function finishDocument (input: OpenApiDocument, { groups = ROUTE_GROUPS, servers }: FinishOptions): OpenApiDocument {
  const document = collapseInputCopies(input)
  const schemas = document.components?.schemas ?? {}
  const components = new ErrorComponents()
  const paths: Record<string, Record<string, Operation>> = {}
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const group = groupOf(path, groups)
    paths[path] = Object.fromEntries(Object.entries(item).map(([method, operation]) => {
      if (!HTTP_METHODS.has(method)) return [method, operation]
      const { operationId, security: ownSecurity, responses, ...rest } = operation
      // Outside every group an operation stays without security: Redocly's security-defined rule then flags the new group.
      const security = ownSecurity ?? group?.security
      return [method, {
        operationId: operationId ?? operationIdOf(method, path),
        ...rest,
        ...(security === undefined ? {} : { security }),
        responses: groupResponses(responses ?? {}, group, components, schemas)
      }]
    }))
  }
  const usedTags = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((operation) => (operation.tags as string[] | undefined) ?? [])))
  const finished: OpenApiDocument = {
    ...document,
    servers,
    ...(document.tags === undefined ? {} : { tags: document.tags.filter(({ name }) => usedTags.has(name)) }),
    paths,
    components: {
      ...document.components,
      ...(Object.keys(components.responses).length === 0 ? {} : { responses: { ...document.components?.responses, ...components.responses } }),
      ...(Object.keys(components.headers).length === 0 ? {} : { headers: { ...document.components?.headers, ...components.headers } })
    }
  }
  pruneSchemas(finished)
  return finished
}

/**
 * The servers that "Try it out" can call: the public URL (PUBLIC_BASE_URL, with the gateway's path
 * if it has one) when set, and the host that serves the document itself (`/`, resolved by Swagger
 * UI against the page: same origin, so neither CORS nor the page's CSP stands in the way).
 */
export function serversFor (publicBaseUrl: string | undefined): Array<{ url: string, description: string }> {
  const self = { url: '/', description: 'The host serving this document' }
  return publicBaseUrl === undefined ? [self] : [{ url: publicBaseUrl, description: 'The public URL (PUBLIC_BASE_URL)' }, self]
}
