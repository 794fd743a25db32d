import type { KeyValueStore, PutResult } from './store.js'

/**
 * The default store: one process's memory, bounded. When full, expired entries are evicted first;
 * if none has expired the write is refused ('full'), never silently dropped: the replay cache then
 * answers 503 rather than accepting a token unchecked (spec/ehr-integration.md §10.1 step 8).
 */
export class MemoryStore implements KeyValueStore {
  private readonly entries = new Map<string, { value: string, expiresAt: number }>()

  constructor (private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  async putIfAbsent (key: string, value: string, ttlMs: number): Promise<PutResult> {
    if (this.live(key) !== undefined) return 'exists'
    return await this.put(key, value, ttlMs)
  }

  async put (key: string, value: string, ttlMs: number): Promise<Exclude<PutResult, 'exists'>> {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries && !this.evictExpired()) return 'full'
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs })
    return 'stored'
  }

  async get (key: string): Promise<string | undefined> {
    return this.live(key)?.value
  }

  async close (): Promise<void> {
    this.entries.clear()
  }

  private live (key: string): { value: string, expiresAt: number } | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry
    this.entries.delete(key)
    return undefined
  }

  /** Removes every expired entry; true when at least one was removed. */
  private evictExpired (): boolean {
    const now = this.now()
    let evicted = false
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) { this.entries.delete(key); evicted = true }
    }
    return evicted
  }
}
