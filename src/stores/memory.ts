import { StoreUnavailable, type KeyValueStore, type PutResult, type SharedStore, type WindowCount } from './store.js'

/**
 * The default store: one process's memory, bounded. When full, expired entries are evicted first;
 * if none has expired the write is refused ('full'), never silently dropped: the replay cache then
 * answers 503 rather than accepting a token unchecked (spec/ehr-integration.md §10.1 step 8).
 */
export class MemoryStore implements SharedStore {
  readonly backend = 'memory' as const
  private readonly entries = new Map<string, { value: string, expiresAt: number }>()
  private readonly namespaces: MemoryStore[] = []

  constructor (private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  async putIfAbsent (key: string, value: string, ttlMs: number): Promise<PutResult> {
    if (this.live(key) !== undefined) return 'exists'
    return await this.put(key, value, ttlMs)
  }

  async put (key: string, value: string, ttlMs: number): Promise<Exclude<PutResult, 'exists'>> {
    if (!this.entries.has(key) && !this.hasRoom()) return 'full'
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs })
    return 'stored'
  }

  async get (key: string): Promise<string | undefined> {
    return this.live(key)?.value
  }

  async increment (key: string, windowMs: number): Promise<WindowCount> {
    const entry = this.live(key)
    if (entry !== undefined) {
      const count = Number(entry.value) + 1
      entry.value = String(count)
      return { count, ttlMs: entry.expiresAt - this.now() }
    }
    if (!this.hasRoom()) throw new StoreUnavailable('memory', 'the memory store is full: no counter has expired')
    this.entries.set(key, { value: '1', expiresAt: this.now() + windowMs })
    return { count: 1, ttlMs: windowMs }
  }

  async ping (): Promise<boolean> {
    return true
  }

  /** Separate maps need no key prefix: a namespace is a store of its own with its own bound. */
  namespace (_prefix: string, options: { maxEntries?: number } = {}): KeyValueStore {
    const store = new MemoryStore(options.maxEntries ?? this.maxEntries, this.now)
    this.namespaces.push(store)
    return store
  }

  async close (): Promise<void> {
    this.entries.clear()
    for (const store of this.namespaces) await store.close()
  }

  private live (key: string): { value: string, expiresAt: number } | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry
    this.entries.delete(key)
    return undefined
  }

  /** Room for one more key, after evicting the expired ones if the bound is reached. */
  private hasRoom (): boolean {
    return this.entries.size < this.maxEntries || this.evictExpired()
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
