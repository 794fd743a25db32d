import type { Config } from '../config.js'
import { MemoryStore } from './memory.js'
import { RedisStore, type StoreLogger } from './redis.js'
import type { SharedStore } from './store.js'

export { StoreUnavailable, type KeyValueStore, type SharedStore } from './store.js'

/** Bound of the memory store's namespaces unless a use sets its own (the replay cache: JWT_REPLAY_CACHE_MAX). */
export const MEMORY_STORE_MAX_ENTRIES = 100_000

/**
 * The app's one store: memory by default (one replica, nothing to install), Redis when REDIS_URL is
 * set (replicas share the replay cache, feedback records and rate-limit counters). Resolves once Redis
 * has answered or refused its first connection: a Redis down at startup does not stop the service
 * (recommendations need no store); what needs it answers 503 until it is back.
 */
export async function createStore (config: Pick<Config, 'store'>, log: StoreLogger): Promise<SharedStore> {
  const url = config.store.redisUrl
  if (url === undefined) return new MemoryStore(MEMORY_STORE_MAX_ENTRIES)
  return await RedisStore.connect(url, { log })
}
