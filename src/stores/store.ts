/**
 * The shared-state interface (issue 9 adds a Redis implementation for replicas): the CDS Hooks
 * (iss, jti) replay cache, feedback idempotency, the issued-card records of feedback, and later the
 * rate-limit counters. Every value is a string with a time to live; the in-memory store is the
 * default and needs nothing installed.
 */
export type PutResult = 'stored' | 'exists' | 'full'

export interface KeyValueStore {
  /** Stores key → value for ttlMs unless the key is present: 'exists'; 'full' when bounded and nothing expired can be evicted. */
  putIfAbsent: (key: string, value: string, ttlMs: number) => Promise<PutResult>
  /** Stores or replaces key → value for ttlMs ('full' as above). */
  put: (key: string, value: string, ttlMs: number) => Promise<Exclude<PutResult, 'exists'>>
  get: (key: string) => Promise<string | undefined>
  close: () => Promise<void>
}
