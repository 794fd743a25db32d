import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { FetchImplementation } from 'jose'
import { z } from 'zod'
import type { Config } from '../config.js'
import { cardBuilders } from '../cds-hooks/card-builders.js'
import { loadCdsClients, type CdsClient } from '../cds-hooks/clients.js'
import { hoursToMs, recordFeedback, rememberCards } from '../cds-hooks/feedback.js'
import { createJwtVerifier, expectedAudience, hasAuthorization, JwtRejected, ReplayCacheFull, type JwtVerifier, type VerifiedCaller } from '../cds-hooks/jwt.js'
import { operationOutcome, runHook, type CardBuilders, type HookDeps, type IssueText } from '../cds-hooks/service.js'
import { CDS_SERVICES, discoveryDocument, type CdsServiceInfo } from '../cds-hooks/services.js'
import { noteProblem, ProblemError } from '../errors.js'
import { mapResources, toCase } from '../fhir/index.js'
import { withoutMessage } from '../http/loggable-error.js'
import { RequestValidationError } from '../http/validator.js'
import { FEEDBACK_BODY_LIMIT_BYTES, FHIR_BODY_LIMIT_BYTES, sizeInWords } from '../limits.js'
import { registerCors, type AfterAuth } from '../plugins/security.js'
import { FeedbackRequest, OrderSelectRequest, PatientViewRequest } from '../schemas/cds-hooks-request.js'
import { CdsServiceResponse, Discovery, OperationOutcome } from '../schemas/cds-hooks-response.js'
import type { KeyValueStore, SharedStore } from '../stores/store.js'

/**
 * The CDS Hooks services over HTTP (spec/ehr-integration.md §2, §3, §8, §9, §10.4, §10.5), the group
 * registered under the prefix `/cds-services` with its own error and not-found handlers: every error
 * under the prefix is a FHIR OperationOutcome, never problem+json (§9). The group's hooks, in order:
 * CORS, the JWT (sets request.clientId), then `afterAuth` (the rate limiter, see buildApp). The hook
 * flow itself is framework-free (src/cds-hooks/service.ts).
 */

export const CDS_PREFIX = '/cds-services'
/** Bound of the default in-memory store of issued cards and feedback keys (§7.1: bounded). */
export const FEEDBACK_STORE_MAX_ENTRIES = 100_000
/** The namespaces of the app's shared store: Redis key prefixes, or separate bounded maps in memory. */
export const FEEDBACK_NAMESPACE = 'cds-feedback:'
export const REPLAY_NAMESPACE = 'cds-replay:'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified JWT caller of a CDS Hooks call (undefined with CDS_HOOKS_JWT=off, or on optional discovery). */
    cdsCaller: VerifiedCaller | undefined
  }
}

/** What the plugin needs; buildApp fills what the caller (tests) does not inject. */
export interface CdsHooksOptions {
  config: Config
  clients: CdsClient[]
  /** Required when config.cdsHooks.jwt is on. */
  verifier?: JwtVerifier
  /** Issued cards and feedback idempotency (§7.1, §8). */
  store: KeyValueStore
  now: () => Date
  /** Monotonic milliseconds for the fetch budget. */
  clock?: () => number
  fetch: typeof globalThis.fetch
  mapResources: HookDeps['mapResources']
  toCase: HookDeps['toCase']
  cards: CardBuilders
  /** Registered after the JWT hook, before the routes (buildApp's rate limiter). */
  afterAuth?: AfterAuth
}

/**
 * What buildApp's `cdsHooks` option may inject; `fetchJwks` is the fetch of the default verifier's
 * `jku` key sets (tests serve them without a network, §12.5 sandbox replay).
 */
export type CdsHooksInjection = Partial<Omit<CdsHooksOptions, 'config'>> & { fetchJwks?: FetchImplementation }

/**
 * The options with their production defaults: clients from CDS_CLIENTS_FILE, the app's shared store
 * (memory unless REDIS_URL) for issued cards and feedback, the real clock and fetch, the mapper and card
 * builders, and (JWT on) the verifier over the clients with its replay cache in another namespace of the
 * shared store (in memory: JWT_REPLAY_CACHE_MAX entries). An injected `store` serves both (tests).
 */
export async function cdsHooksOptions (config: Config, injected: CdsHooksInjection, shared: SharedStore): Promise<CdsHooksOptions> {
  const clients = injected.clients ?? await loadCdsClients(config)
  const now = injected.now ?? (() => new Date())
  const store = injected.store ?? shared.namespace(FEEDBACK_NAMESPACE, { maxEntries: FEEDBACK_STORE_MAX_ENTRIES })
  const verifier = injected.verifier ?? (config.cdsHooks.jwt
    ? createJwtVerifier({
      clients,
      config,
      store: injected.store ?? shared.namespace(REPLAY_NAMESPACE, { maxEntries: config.cdsHooks.jwtReplayCacheMax }),
      now: () => now().getTime(),
      ...(injected.fetchJwks === undefined ? {} : { fetchJwks: injected.fetchJwks })
    })
    : undefined)
  return {
    config,
    clients,
    store,
    now,
    fetch: injected.fetch ?? globalThis.fetch,
    mapResources: injected.mapResources ?? mapResources,
    toCase: injected.toCase ?? toCase,
    cards: injected.cards ?? cardBuilders,
    ...(verifier === undefined ? {} : { verifier }),
    ...(injected.clock === undefined ? {} : { clock: injected.clock })
  }
}

// ---------------------------------------------------------------------------------------------
// §9 errors

const FHIR_JSON = 'application/fhir+json'

/** `application/fhir+json` when Accept asks for it, else `application/json` (§9). */
function outcomeContentType (request: FastifyRequest): string {
  const accept = request.headers.accept ?? ''
  const asks = accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase())
    return type === FHIR_JSON && !parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter))
  })
  return `${asks ? FHIR_JSON : 'application/json'}; charset=utf-8`
}

export function sendOutcome (request: FastifyRequest, reply: FastifyReply, status: number, issues?: readonly IssueText[]): FastifyReply {
  return sendOutcomeBody(request, reply, status, operationOutcome(status, issues))
}

function sendOutcomeBody (request: FastifyRequest, reply: FastifyReply, status: number, body: OperationOutcome): FastifyReply {
  // Serialised here: an error body never goes through a route's response schema.
  return reply.code(status).type(outcomeContentType(request)).send(JSON.stringify(body))
}

/** `/context/selections/0` → `context.selections[0]` (the FHIRPath-like `expression` of §9). */
export function pointerToExpression (pointer: string): string {
  return pointer.split('/').slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => /^\d+$/.test(segment) ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`, '')
}

const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, { status: number, diagnostics: string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, diagnostics: 'Unsupported content type: send application/json or application/fhir+json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, diagnostics: 'The request body is larger than this endpoint accepts.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, diagnostics: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, diagnostics: 'The request body is empty.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, diagnostics: 'The Content-Length header does not match the body.' }
}

/** One issue per invalid field: what is wrong, and where as a FHIRPath-like expression (§9). */
function fieldIssues (errors: ReadonlyArray<{ path: string, message: string }>): IssueText[] {
  return errors.map((entry) => {
    const expression = pointerToExpression(entry.path)
    return { diagnostics: `${expression === '' ? 'The request body' : expression} ${entry.message}.`, ...(expression === '' ? {} : { expression: [expression] }) }
  })
}

export function cdsErrorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ProblemError) {
    // The problem's detail is safe by construction (our own words); a 401 carries none (operationOutcome).
    noteProblem(request, error.type)
    return sendOutcome(request, reply, error.status, error.extra.errors === undefined ? [{ diagnostics: error.detail }] : fieldIssues(error.extra.errors))
  }
  if (error instanceof RequestValidationError) {
    noteProblem(request, 'validation')
    return sendOutcome(request, reply, 400, fieldIssues(error.errors))
  }
  const known = error.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[error.code]
  if (known !== undefined) return sendOutcome(request, reply, known.status, [{ diagnostics: known.diagnostics }])
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if (status === 429 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '1')
  if (status < 500) return sendOutcome(request, reply, status, [{ diagnostics: `The request was rejected (${error.code ?? 'client error'}).` }])
  request.log.error({ err: withoutMessage(error) }, 'unhandled error')
  return sendOutcome(request, reply, status === 503 ? 503 : 500, [{ diagnostics: 'An internal error occurred; it has been logged with the request id.' }])
}

/** 404 for unknown paths under the prefix, 405 (with Allow) for a known path with the wrong method (§2, §9). */
export function cdsNotFoundHandler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] as string
  // OPTIONS answers every path under the prefix (preflight, §10.4), so it does not make a path known.
  const allowed = ['GET', 'POST'].filter((method) => method !== request.method && this.hasRoute({ method, url: path }))
  if (allowed.length > 0) {
    reply.header('allow', [...allowed, 'OPTIONS'].join(', '))
    return sendOutcome(request, reply, 405, [{ diagnostics: `${request.method} is not allowed here; use ${allowed.join(' or ')}.` }])
  }
  return sendOutcome(request, reply, 404, [{ diagnostics: 'No CDS service at this path; see GET /cds-services.' }])
}

// ---------------------------------------------------------------------------------------------

const ErrorResponses = { 400: OperationOutcome, 401: OperationOutcome, 413: OperationOutcome, 415: OperationOutcome, 500: OperationOutcome, 503: OperationOutcome }

export default async function cdsHooksRoutes (app: FastifyInstance, options: CdsHooksOptions): Promise<void> {
  const { config, store } = options
  const publicBaseUrl = config.cdsHooks.publicBaseUrl
  if (config.cdsHooks.jwt && (publicBaseUrl === undefined || options.verifier === undefined)) {
    throw new Error('CDS_HOOKS_JWT=on needs PUBLIC_BASE_URL (the JWT audience) and a verifier')
  }
  const cardTtlMs = hoursToMs(config.cdsHooks.feedbackCardTtlH)
  const deps: HookDeps = {
    fetch: options.fetch,
    mapResources: options.mapResources,
    toCase: options.toCase,
    cards: options.cards,
    now: options.now,
    ...(options.clock === undefined ? {} : { clock: options.clock })
  }

  app.decorateRequest('cdsCaller', undefined)
  app.setErrorHandler(cdsErrorHandler)
  app.setNotFoundHandler(cdsNotFoundHandler)
  // §2: application/json (fastify's own parser, any charset) or application/fhir+json; anything else is a 415.
  if (!app.hasContentTypeParser(FHIR_JSON)) app.addContentTypeParser(FHIR_JSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  // §10.4: a listed origin is echoed on every response under the prefix (errors too), so that a browser
  // client can read it; preflights (OPTIONS on any path under the prefix) need no JWT.
  registerCors(app, { origins: config.cdsHooks.corsOrigins, allowHeaders: ['Authorization', 'Content-Type'] })

  // §10.1: the JWT of every call, its audience the public URL of the routed path; discovery's may be
  // optional (§10.3). Unknown paths (404, 405) and preflights need none.
  if (config.cdsHooks.jwt) {
    const verifier = options.verifier as JwtVerifier
    const discoveryOptional = config.cdsHooks.discoveryAuth === 'optional'
    app.addHook('onRequest', async (request, reply) => {
      const path = request.routeOptions.url
      if (path === undefined || request.method === 'OPTIONS') return
      if (discoveryOptional && path === CDS_PREFIX && !hasAuthorization(request.raw.rawHeaders)) return
      try {
        request.cdsCaller = await verifier.verify({ rawHeaders: request.raw.rawHeaders }, expectedAudience(publicBaseUrl as string, path))
      } catch (error) {
        if (error instanceof ReplayCacheFull) {
          // Full (memory) or unreachable (Redis): never an unchecked accept (§10.1 step 8).
          const event = error.storeFailed ? 'cds_jwt_replay_store_unavailable' : 'cds_jwt_replay_cache_full'
          request.log.warn({ event }, event)
          throw new ProblemError(503, 'replay-cache-full', 'The service cannot check tokens for replay right now; retry later.')
        }
        if (error instanceof JwtRejected) {
          request.log.warn({ event: 'cds_jwt_rejected', ...error.logFields() }, 'cds_jwt_rejected')
          reply.header('www-authenticate', 'Bearer')
          throw new ProblemError(401, 'unauthorized', 'The bearer token was refused.')
        }
        throw error
      }
      const { iss, sub } = request.cdsCaller
      request.clientId = sub === undefined ? `jwt:${iss}` : `jwt:${iss} ${sub}`
    })
  }
  await options.afterAuth?.(app)
  const callerLog = (request: FastifyRequest): Record<string, string> => {
    const caller = request.cdsCaller
    if (caller === undefined) return {}
    return { iss: caller.iss, jti: caller.jti, ...(caller.tenant === undefined ? {} : { tenant: caller.tenant }) }
  }

  const typed = app.withTypeProvider<ZodTypeProvider>()

  // `/cds-services` exactly: the JWT audience has no trailing slash (§10.1 step 5).
  typed.get('/', {
    prefixTrailingSlash: 'no-slash',
    schema: {
      tags: ['cds-hooks'],
      summary: 'CDS Hooks discovery',
      description: 'The two CDS services of this server (CDS Hooks 2.0.1): her2-mbc-bone-mets (patient-view) and her2-mbc-order-check (order-select), with their prefetch templates. Needs a JWT unless CDS_DISCOVERY_AUTH=optional. Errors are FHIR OperationOutcome.',
      response: { 200: Discovery, 401: OperationOutcome, 503: OperationOutcome }
    }
  }, async (request) => {
    request.logSummary = { ...callerLog(request) }
    return discoveryDocument()
  })

  for (const service of Object.values(CDS_SERVICES)) registerService(service)

  function registerService (service: CdsServiceInfo): void {
    const path = `/${service.id}`
    typed.post(path, {
      bodyLimit: FHIR_BODY_LIMIT_BYTES,
      schema: {
        tags: ['cds-hooks'],
        summary: `CDS Hooks ${service.hook}: ${service.title}`,
        description: `${service.hook} service (hookVersion 1.0). Body: a CDS Hooks request (application/json or application/fhir+json, at most ${sizeInWords(FHIR_BODY_LIMIT_BYTES)}) with the prefetch keys of discovery, or fhirServer + fhirAuthorization. 200 with cards (possibly none); 412 OperationOutcome when required FHIR data is unavailable. Errors are FHIR OperationOutcome (application/fhir+json when Accept asks for it).`,
        body: service.hook === 'patient-view' ? PatientViewRequest : OrderSelectRequest,
        response: { 200: CdsServiceResponse, 412: OperationOutcome, ...ErrorResponses }
      }
    }, async (request, reply) => {
      const body = request.body as PatientViewRequest | OrderSelectRequest
      request.logSummary = { service: service.id, hookInstance: body.hookInstance, ...callerLog(request) }
      const { recommender, kb } = app.knowledge
      const answer = await runHook({ service, request: body, caller: request.cdsCaller, recommender, kb, config }, deps)
      request.logSummary = { ...request.logSummary, ...answer.log }
      if (answer.log.violations !== undefined) request.log.error({ violations: answer.log.violations }, 'safety invariant repaired')
      if (answer.status === 412) return await sendOutcomeBody(request, reply, 412, answer.body)
      const unstored = await rememberCards(store, answer.issued, cardTtlMs)
      if (unstored > 0) request.logSummary.cardsNotRemembered = unstored
      return answer.body
    })

    typed.post(`${path}/feedback`, {
      bodyLimit: FEEDBACK_BODY_LIMIT_BYTES,
      schema: {
        tags: ['cds-hooks'],
        summary: `CDS Hooks feedback on the cards of ${service.id}`,
        description: `Feedback (CDS Hooks 2.0.1): 1 to 100 items, at most ${sizeInWords(FEEDBACK_BODY_LIMIT_BYTES)}. 200 with an empty body once valid; a repeat of (card, outcome, outcomeTimestamp) is a no-op; a card never issued (or expired) is accepted too. Errors are FHIR OperationOutcome.`,
        body: FeedbackRequest,
        response: { 200: z.undefined().describe('Empty body.'), ...ErrorResponses }
      }
    }, async (request, reply) => {
      const items = request.body.feedback
      request.logSummary = { service: service.id, items: items.length, ...callerLog(request) }
      const result = await recordFeedback(store, service.id, items, request.cdsCaller, cardTtlMs)
      // One audit line per item recorded (§8): ids and codes only.
      for (const audit of result.audits) request.log.info(audit, 'cds_feedback')
      request.logSummary.repeats = result.repeats
      if (!result.ok) {
        request.logSummary.reason = result.failure
        return await sendOutcome(request, reply, 503, [{ diagnostics: 'Feedback cannot be recorded right now; retry later.' }])
      }
      return await reply.code(200).send()
    })
  }

  app.addHook('onClose', async () => { await store.close() })
}
