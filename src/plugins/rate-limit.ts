import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ProblemError } from '../errors.js'
import type { KeyValueStore } from '../stores/store.js'

/**
 * The rate limit of a route group (issue 9): @fastify/rate-limit with its counters in our shared store
 * (memory, or Redis shared by the replicas), so that a client over its limit is refused by every
 * replica. Registered inside a group's scope (/v1, /cds-services) after that group's auth hooks: the
 * limiter runs as a route-level onRequest hook, after the scope's own onRequest hooks and after a route's
 * own (the CDS Hooks JWT check), so it keys by the verified client and, without one, by address.
 * Health, metrics and documentation are outside those scopes: never limited.
 *
 * A 429 carries Retry-After; the scope's error handler gives the body (problem+json on /v1, an
 * OperationOutcome `throttled` under /cds-services). When the store cannot count (Redis down) the
 * limiter lets requests through (recommendations keep being answered) and says so once per outage.
 */

export interface RateLimitOptions {
  /** The counters' namespace of the shared store: one per app, shared by every scope, so a client has one budget. */
  store: KeyValueStore
  /** Requests per client and window; 0 turns the limiter off. */
  max: number
  windowMs: number
}

/**
 * What a client over its limit gets: a 429 problem (an OperationOutcome `throttled` under
 * /cds-services), whose Retry-After the plugin has set on the reply.
 */
export class RateLimited extends ProblemError {
  override name = 'RateLimited'
  readonly code = 'RATE_LIMITED'
  constructor (readonly retryAfterS: number) {
    super(429, 'rate-limited', `Too many requests from this client; retry after ${retryAfterS} s.`)
  }
}

/** The client's key: its verified identity (API key id, JWT issuer and subject), else its address (IPv6 by /64). */
export function clientKey (request: FastifyRequest): string {
  return request.clientId ?? `ip:${normalizeIP(request.ip)}`
}

/** One outage state per counters store, whatever the number of scopes using it: one warning per outage. */
const outages = new WeakMap<KeyValueStore, { down: boolean }>()

function outageOf (store: KeyValueStore): { down: boolean } {
  let outage = outages.get(store)
  if (outage === undefined) {
    outage = { down: false }
    outages.set(store, outage)
  }
  return outage
}

type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void

/** The plugin's store interface over ours; a route with its own limit (config.rateLimit) counts under its own prefix. */
class SharedCounters {
  constructor (
    private readonly store: KeyValueStore,
    private readonly prefix: string,
    private readonly outage: { down: boolean },
    private readonly log: FastifyBaseLogger
  ) {}

  incr (key: string, callback: Callback, timeWindow: number): void {
    this.store.increment(this.prefix + key, timeWindow).then(({ count, ttlMs }) => {
      if (this.outage.down) {
        this.outage.down = false
        this.log.info({ event: 'rate_limit_store_back' }, 'rate limiter counting again')
      }
      callback(null, { current: count, ttl: ttlMs })
    }, (error: Error) => {
      if (!this.outage.down) {
        this.outage.down = true
        this.log.warn({ event: 'rate_limit_fail_open', error: error.message }, 'rate limiter cannot count: requests are let through until the store is back')
      }
      callback(error)
    })
  }

  child (route: { method: string | string[], url: string }): SharedCounters {
    return new SharedCounters(this.store, `${this.prefix}${String(route.method)}${route.url}:`, this.outage, this.log)
  }
}

/** The store class the plugin instantiates (it takes a constructor), bound to our store and logger. */
function countersIn (store: KeyValueStore, log: FastifyBaseLogger): new () => SharedCounters {
  const outage = outageOf(store)
  return class extends SharedCounters {
    constructor () { super(store, '', outage, log) }
  }
}

async function rateLimit (app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.max === 0) return
  await app.register(fastifyRateLimit, {
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: clientKey,
    store: countersIn(options.store, app.log),
    // Fail open: a store that cannot count must not stop recommendations (the failure is logged above).
    skipOnError: true,
    errorResponseBuilder: (_request, context) => new RateLimited(Math.ceil(context.ttl / 1000))
  })
}

export default fp(rateLimit, { name: 'rate-limit', fastify: '5.x' })
