/**
 * The shared-state interface: the CDS Hooks (iss, jti) replay cache, feedback idempotency, the
 * issued-card records of feedback, and the rate-limit counters. Every value is a string (or a counter)
 * with a time to live. The in-memory store is the default and needs nothing installed; the Redis store
 * (REDIS_URL) is shared by replicas.
 *
 * A store that cannot answer (Redis down, a command timed out) throws StoreUnavailable, quickly: the
 * caller decides what that means (the replay check and feedback answer 503; the rate limiter lets the
 * request through). It never hangs a request and never reports a write it could not make.
 */
export type PutResult = 'stored' | 'exists' | 'full'

/** A counter of a fixed window: its value after the increment, and the time left in its window. */
export interface WindowCount { count: number, ttlMs: number }

export interface KeyValueStore {
  /** Stores key → value for ttlMs unless the key is present: 'exists'; 'full' when bounded and nothing expired can be evicted. */
  putIfAbsent: (key: string, value: string, ttlMs: number) => Promise<PutResult>
  /** Stores or replaces key → value for ttlMs ('full' as above). */
  put: (key: string, value: string, ttlMs: number) => Promise<Exclude<PutResult, 'exists'>>
  get: (key: string) => Promise<string | undefined>
  /**
   * Adds one to the counter `key`; the first increment starts its window of windowMs (a fixed window:
   * later increments do not extend it). Throws StoreUnavailable when it cannot count, also when a
   * bounded store is full: a counter is never silently dropped.
   */
  increment: (key: string, windowMs: number) => Promise<WindowCount>
  /** Whether the store answers now (readiness); never throws. */
  ping: () => Promise<boolean>
  close: () => Promise<void>
}

export type StoreBackend = 'memory' | 'redis'

/**
 * The one store an app owns (createStore): it hands each use its own namespace, so that the replay
 * cache, the feedback records and the rate-limit counters never share a key.
 */
export interface SharedStore extends KeyValueStore {
  readonly backend: StoreBackend
  /**
   * A view whose keys are prefixed with `prefix`. In memory it is a store of its own, bounded by
   * maxEntries (default: this store's bound); in Redis it shares the connection and maxEntries does
   * not apply (Redis's own memory policy bounds it). Closing a view does not close the shared store.
   */
  namespace: (prefix: string, options?: { maxEntries?: number }) => KeyValueStore
}

/** The store could not answer: unreachable, timed out, or full for a counter. The cause is kept for the log. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable'
  constructor (readonly backend: StoreBackend, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
