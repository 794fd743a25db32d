import { Redis } from 'ioredis'
import { StoreUnavailable, type KeyValueStore, type PutResult, type SharedStore, type WindowCount } from './store.js'

/**
 * The store shared by replicas (REDIS_URL). One connection per app; each use (replay cache, feedback,
 * rate-limit counters) is a namespace: a key prefix on that connection.
 *
 * A dead or slow Redis must never hang a request, so the client is configured to fail fast: no offline
 * queue (a command while disconnected is refused at once), no resend of unanswered commands after a
 * reconnect (a SET NX sent twice could turn a first use into a "replay"), a timeout on every command,
 * and the same timeout on the socket: a Redis that stays connected but silent (a partition that drops
 * packets) costs one timeout, then the connection is dropped and later commands fail at once until a
 * reconnection succeeds. It reconnects in the background for ever, with a capped back-off, and logs each
 * outage once.
 */

/** Every key of this service starts with it, so that one Redis can serve other applications too. */
export const REDIS_KEY_PREFIX = 'her2-bone-mets-cds:'
/** Loopback or same-cluster Redis answers in about a millisecond: 500 ms means it is not answering. */
export const REDIS_COMMAND_TIMEOUT_MS = 500
export const REDIS_CONNECT_TIMEOUT_MS = 2000
/** Reconnection back-off: 100 ms, 200 ms, … capped at 2 s, for ever. */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 100, 2000)

/** What the store logs with (the app's pino logger fits). */
export interface StoreLogger {
  info: (fields: Record<string, unknown>, message: string) => void
  warn: (fields: Record<string, unknown>, message: string) => void
}

export interface RedisStoreOptions {
  log: StoreLogger
  commandTimeoutMs?: number
  connectTimeoutMs?: number
  /** Prefix of every key (default REDIS_KEY_PREFIX); tests give each run its own. */
  keyPrefix?: string
}

/** The counter of a fixed window in one round trip: the first increment (or a key left without TTL) sets the window. */
const INCREMENT_WINDOW = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`

type ScriptedRedis = Redis & { incrementWindow: (key: string, windowMs: number) => Promise<[number, number]> }

/** A TTL Redis accepts: a whole number of milliseconds, at least 1. */
const pxOf = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs))

/**
 * The outage state of one connection: a warning when it is lost (or the first connection fails), a line
 * when it is back; nothing in between. An outage is what makes ioredis schedule a reconnection: a refused
 * or timed-out connection, a server gone, a socket silent past the timeout (our own QUIT never does).
 */
function watchConnection (client: Redis, log: StoreLogger): void {
  let down = false
  let lastError: (Error & { code?: string }) | undefined
  client.on('error', (error: Error & { code?: string }) => { lastError = error })
  client.on('reconnecting', () => {
    if (down) return
    down = true
    log.warn({ event: 'store_unreachable', backend: 'redis', code: lastError?.code, error: lastError?.message }, 'shared store unreachable: requests that need it are refused with 503 until it is back')
  })
  client.on('ready', () => {
    log.info({ event: 'store_ready', backend: 'redis', recovered: down }, down ? 'shared store reachable again' : 'shared store connected')
    down = false
    lastError = undefined
  })
}

/** Resolves when the first connection attempt is over, connected or not: startup never waits longer than one connect timeout. */
async function firstAttempt (client: Redis): Promise<void> {
  await new Promise<void>((resolve) => {
    const settle = (): void => {
      client.off('ready', settle)
      client.off('reconnecting', settle)
      resolve()
    }
    client.once('ready', settle)
    client.once('reconnecting', settle)
  })
}

export class RedisStore implements SharedStore {
  readonly backend = 'redis' as const

  /**
   * Connects to `url` and resolves once the first attempt is over: connected, or not (then the store
   * answers StoreUnavailable and keeps reconnecting). The URL is never logged (it may hold a password).
   */
  static async connect (url: string, options: RedisStoreOptions): Promise<RedisStore> {
    const timeoutMs = options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS
    const client = new Redis(url, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      connectTimeout: options.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: reconnectDelay,
      maintNotifications: 'disabled',
      connectionName: 'her2-bone-mets-cds'
    })
    client.defineCommand('incrementWindow', { numberOfKeys: 1, lua: INCREMENT_WINDOW })
    watchConnection(client, options.log)
    await firstAttempt(client)
    return new RedisStore(client as ScriptedRedis, options.keyPrefix ?? REDIS_KEY_PREFIX, true)
  }

  private constructor (private readonly client: ScriptedRedis, private readonly prefix: string, private readonly owner: boolean) {}

  async putIfAbsent (key: string, value: string, ttlMs: number): Promise<PutResult> {
    const reply = await this.run(async () => await this.client.set(this.prefix + key, value, 'PX', pxOf(ttlMs), 'NX'))
    return reply === 'OK' ? 'stored' : 'exists'
  }

  async put (key: string, value: string, ttlMs: number): Promise<'stored'> {
    await this.run(async () => await this.client.set(this.prefix + key, value, 'PX', pxOf(ttlMs)))
    return 'stored'
  }

  async get (key: string): Promise<string | undefined> {
    return await this.run(async () => await this.client.get(this.prefix + key)) ?? undefined
  }

  async increment (key: string, windowMs: number): Promise<WindowCount> {
    const [count, ttlMs] = await this.run(async () => await this.client.incrementWindow(this.prefix + key, pxOf(windowMs)))
    return { count, ttlMs }
  }

  /** False at once while disconnected; a connected Redis must answer PING within the command timeout. */
  async ping (): Promise<boolean> {
    if (this.client.status !== 'ready') return false
    try {
      return await this.client.ping() === 'PONG'
    } catch {
      return false
    }
  }

  namespace (prefix: string): KeyValueStore {
    return new RedisStore(this.client, this.prefix + prefix, false)
  }

  /** The owner closes the connection (QUIT when connected, then no reconnection); a namespace leaves it open. */
  async close (): Promise<void> {
    if (!this.owner) return
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined)
    this.client.disconnect()
  }

  private async run<T> (command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (error) {
      throw new StoreUnavailable('redis', 'the Redis store did not answer', { cause: error })
    }
  }
}
