import { createHash, timingSafeEqual } from 'node:crypto'
import { getHeapStatistics } from 'node:v8'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import helmet from '@fastify/helmet'
import underPressure from '@fastify/under-pressure'
import type { ApiKeyHash, Config } from '../config.js'
import { ProblemError } from '../errors.js'

/**
 * Hardening for a service behind a hospital API gateway: security headers on every response,
 * load shedding, the server's timeouts and trusted proxies, optional API keys for /v1, and the
 * exact-origin CORS of /v1 and /cds-services. The route groups (src/app.ts) choose what applies
 * where: auth and CORS per group, load shedding everywhere but the probes and metrics.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is calling, once a group's auth hook has verified it: `key:<id>` for an API key on /v1,
     * `jwt:<iss> <sub>` for a verified CDS Hooks JWT; undefined otherwise. The rate limiter keys by
     * it (else by request.ip).
     */
    clientId: string | undefined
  }
  interface FastifyContextConfig {
    /** false: the route answers whatever the load (health probes, metrics). */
    loadShedding?: false
  }
}

// ---------------------------------------------------------------------------------------------
// Server options

/**
 * Fastify's timeouts and trusted proxies from the configuration. The defaults suit a gateway in
 * front (README "Configuration"):
 * - keepAliveTimeout 72 s: longer than the usual idle timeout a gateway keeps an upstream
 *   connection open (60 s for AWS ALB, nginx, HAProxy defaults), so the gateway always closes an
 *   idle connection first and never sends a request on one the service has just closed (a 502).
 * - requestTimeout 30 s: the whole request (headers and a body of at most 5 MiB) must arrive
 *   within it. From a gateway on the same network that takes milliseconds; it stops a slow client
 *   that reached the service directly from holding a socket (slowloris). Node checks it every 30 s.
 * - connectionTimeout 60 s: a socket silent that long in the middle of a request or response is
 *   dead (the gateway gave up on it after its own 30–60 s); it is closed. Idle keep-alive sockets
 *   are governed by keepAliveTimeout, not by this.
 * - trustProxy off: request.ip is the peer (the gateway) until TRUST_PROXY names the gateway's
 *   addresses or hop count; then it is the client from X-Forwarded-For. Fastify 5 turns a numeric
 *   trustProxy into "trust nothing" (a hop count cannot tell a proxy from a client that connects
 *   directly and sends X-Forwarded-For), so a hop count is passed as proxy-addr's own function:
 *   trust the nearest `hops` addresses. It is for a service that only the proxies can reach; the
 *   README recommends addresses otherwise.
 */
/** proxy-addr's trust function for a hop count: the socket peer is hop 0. */
export function trustNearestHops (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

export function serverOptions (server: Config['server']): Pick<FastifyServerOptions, 'trustProxy' | 'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout'> {
  return {
    trustProxy: typeof server.trustProxy === 'number' ? trustNearestHops(server.trustProxy) : server.trustProxy,
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.connectionTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs
  }
}

// ---------------------------------------------------------------------------------------------
// Security headers and load shedding (root plugin)

/** How long an overloaded service asks clients to wait: a few of under-pressure's 1 s samples. */
export const OVERLOAD_RETRY_AFTER_S = 10

/**
 * Helmet's defaults, which Swagger UI works under (its scripts and styles are files of its own,
 * test/documentation.test.ts drives it in a browser), minus `upgrade-insecure-requests`: the
 * gateway terminates TLS, and a browser on `npm start`'s plain http://127.0.0.1 must still load
 * the documentation's files.
 */
const HELMET_OPTIONS = {
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }
}

/** V8's heap limit less 10 %: past that, a request would push the process toward an out-of-memory crash. */
export function defaultMaxHeapUsedBytes (): number {
  return Math.floor(getHeapStatistics().heap_size_limit * 0.9)
}

/**
 * under-pressure's thresholds from the configuration (0 turns a check off). Its event-loop delay is
 * the mean delay over each sample (1 s): at 500 ms every request already waits longer than a CDS
 * Hooks client waits for an answer (about 500 ms), so accepting more only makes every answer late.
 */
export function pressureThresholds (loadShedding: Config['loadShedding']): { maxEventLoopDelay: number, maxHeapUsedBytes: number } {
  return {
    maxEventLoopDelay: loadShedding.maxEventLoopDelayMs,
    maxHeapUsedBytes: loadShedding.maxHeapUsedMb === undefined ? defaultMaxHeapUsedBytes() : loadShedding.maxHeapUsedMb * 1024 * 1024
  }
}

/**
 * Under pressure: a 503 with Retry-After, thrown so that the route's group answers in its format
 * (problem+json, or an OperationOutcome under /cds-services); routes marked `loadShedding: false`
 * proceed. The pressure type is the request's log and metrics reason.
 */
export async function shedLoad (request: FastifyRequest, reply: FastifyReply, type: string): Promise<void> {
  if (request.routeOptions.config.loadShedding === false) return
  request.logSummary = { ...request.logSummary, pressure: type }
  request.rejectionReason = 'pressure'
  reply.header('retry-after', String(OVERLOAD_RETRY_AFTER_S))
  throw new ProblemError(503, 'overloaded', `The service is overloaded; retry in ${OVERLOAD_RETRY_AFTER_S} seconds.`)
}

/** Marks every route a scope registers from now on as answered under pressure (probes must answer to be useful). */
export function exemptFromLoadShedding (scope: FastifyInstance): void {
  scope.addHook('onRoute', (routeOptions) => {
    routeOptions.config = { ...routeOptions.config, loadShedding: false }
  })
}

export interface SecurityOptions {
  config: Config
  /** under-pressure's sampling period (default 1 s); tests shorten it. */
  pressureSampleIntervalMs?: number
}

async function securityPlugin (app: FastifyInstance, options: SecurityOptions): Promise<void> {
  app.decorateRequest('clientId', undefined)
  await app.register(helmet, HELMET_OPTIONS)
  await app.register(underPressure, {
    ...pressureThresholds(options.config.loadShedding),
    ...(options.pressureSampleIntervalMs === undefined ? {} : { sampleInterval: options.pressureSampleIntervalMs }),
    pressureHandler: shedLoad
  })
}

/** On the root: security headers on every response, and load shedding (with its exemptions) on every route. */
export default fp(securityPlugin, { name: 'security', fastify: '5.x' })

// ---------------------------------------------------------------------------------------------
// API keys (/v1)

/**
 * What an API group (/v1, /cds-services) registers after its auth hooks and before its routes: the
 * rate limiter (buildApp), which then runs once request.clientId is known.
 */
export type AfterAuth = (scope: FastifyInstance) => Promise<void>

export const API_KEY_HEADER = 'x-api-key'

interface KeyDigest { id: string, digest: Buffer }

/** The id of the key whose SHA-256 is the sent key's, comparing with every hash in constant time. */
export function matchApiKey (keys: readonly KeyDigest[], sent: string): string | undefined {
  const digest = createHash('sha256').update(sent, 'utf8').digest()
  let matched: string | undefined
  // Every hash is compared, matched or not: the time taken says nothing about which key (or how much of one) matched.
  for (const key of keys) {
    if (timingSafeEqual(digest, key.digest) && matched === undefined) matched = key.id
  }
  return matched
}

/**
 * With keys configured, every request of the scope needs one in X-API-Key (CORS preflights aside:
 * browsers send them without): else 401 with WWW-Authenticate. A match sets request.clientId to
 * `key:<id>`. Without keys the scope stays open (a gateway authenticates). The key is never logged:
 * only its id, or why it was refused.
 */
export function requireApiKey (scope: FastifyInstance, keys: readonly ApiKeyHash[]): void {
  if (keys.length === 0) return
  const digests: KeyDigest[] = keys.map(({ id, sha256 }) => ({ id, digest: Buffer.from(sha256, 'hex') }))
  scope.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'OPTIONS') {
      done()
      return
    }
    const sent = request.headers[API_KEY_HEADER]
    const id = typeof sent === 'string' ? matchApiKey(digests, sent) : undefined
    if (id === undefined) {
      request.logSummary = { ...request.logSummary, auth: sent === undefined ? 'api_key_missing' : 'api_key_invalid' }
      reply.header('www-authenticate', 'ApiKey header="X-API-Key"')
      done(new ProblemError(401, 'unauthorized', sent === undefined
        ? 'This API needs an API key in the X-API-Key header.'
        : 'The API key in the X-API-Key header is not valid.'))
      return
    }
    request.clientId = `key:${id}`
    request.logSummary = { ...request.logSummary, apiKey: id }
    done()
  })
}

// ---------------------------------------------------------------------------------------------
// CORS (exact origins)

export interface CorsPolicy {
  /** Exact origins (CORS_ORIGINS); any other origin gets no CORS header. */
  origins: readonly string[]
  /** The request headers a browser may send (preflight Access-Control-Allow-Headers). */
  allowHeaders: readonly string[]
  /** The response headers a browser script may read besides the safelisted ones. */
  exposeHeaders?: readonly string[]
}

/**
 * Exact-origin CORS for a scope (spec/ehr-integration.md §10.4): a listed origin is echoed on every
 * response of the scope, errors included (so a browser client can read them), with `Vary: Origin`;
 * preflights (OPTIONS on any path of the scope) are answered 204 without authentication, with the
 * methods, the allowed headers and a 10-minute Max-Age for a listed origin and no CORS header for
 * any other. No credentials.
 */
export function registerCors (scope: FastifyInstance, policy: CorsPolicy): void {
  const origins = new Set(policy.origins)
  const expose = policy.exposeHeaders === undefined ? {} : { 'access-control-expose-headers': policy.exposeHeaders.join(', ') }
  const preflightHeaders = {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': policy.allowHeaders.join(', '),
    'access-control-max-age': '600'
  }
  const listed = (request: FastifyRequest): boolean => request.headers.origin !== undefined && origins.has(request.headers.origin)

  scope.addHook('onRequest', (request, reply, done) => {
    reply.header('vary', 'Origin')
    if (listed(request)) reply.header('access-control-allow-origin', request.headers.origin).headers(expose)
    done()
  })
  const preflight = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (listed(request)) reply.headers(preflightHeaders)
    return await reply.code(204).send()
  }
  scope.options('/', { prefixTrailingSlash: 'no-slash', schema: { hide: true } }, preflight)
  scope.options('/*', { schema: { hide: true } }, preflight)
}
