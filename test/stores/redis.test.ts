import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { reconnectDelay, REDIS_COMMAND_TIMEOUT_MS, REDIS_CONNECT_TIMEOUT_MS, REDIS_KEY_PREFIX, RedisStore } from '../../src/stores/redis.js'
import { StoreUnavailable, type KeyValueStore } from '../../src/stores/store.js'
import { freePort, ownRedis, redisServerSkip, redisSkip, redisUrlOrSkip, storeLog, testRedisStore } from '../support/redis.js'

// What only Redis does (the contract both stores keep is test/stores/contract.test.ts): failing fast
// when it is down or silent, one log line per outage, reconnecting, and where its keys go.

/** Every command of the interface, each expected to fail with StoreUnavailable. */
const COMMANDS: Array<[string, (store: KeyValueStore) => Promise<unknown>]> = [
  ['putIfAbsent', async (store) => await store.putIfAbsent('k', '1', 1000)],
  ['put', async (store) => await store.put('k', '1', 1000)],
  ['get', async (store) => await store.get('k')],
  ['increment', async (store) => await store.increment('n', 1000)]
]

/** Well under any command timeout: a failure this fast did not wait for Redis (a loaded CI machine stays far below it). */
const FAST_MS = REDIS_COMMAND_TIMEOUT_MS / 2

async function failure (command: () => Promise<unknown>): Promise<{ error: unknown, ms: number }> {
  const started = performance.now()
  const error = await command().then(() => undefined, (caught: unknown) => caught)
  return { error, ms: performance.now() - started }
}

t.test('the reconnection back-off grows by 100 ms and stays at 2 s', async (t) => {
  t.strictSame([1, 2, 10, 20, 1000].map(reconnectDelay), [100, 200, 1000, 2000, 2000])
})

t.test('nothing listening at startup: connect returns at once, every command fails fast with StoreUnavailable, ping is false, one warning however many retries', async (t) => {
  const log = storeLog()
  const started = performance.now()
  const store = await RedisStore.connect(`redis://127.0.0.1:${await freePort()}`, { log })
  t.teardown(async () => { await store.close() })
  t.ok(performance.now() - started < REDIS_CONNECT_TIMEOUT_MS, 'startup does not wait for a connect timeout, let alone a connection')
  t.equal(store.backend, 'redis')
  for (const [name, command] of COMMANDS) {
    const { error, ms } = await failure(async () => await command(store.namespace('ns:')))
    t.type(error, StoreUnavailable, name)
    t.equal((error as StoreUnavailable).backend, 'redis')
    t.ok((error as Error).cause instanceof Error, 'the cause is kept for the log')
    t.ok(ms < FAST_MS, `${name} failed in ${ms.toFixed(1)} ms`)
  }
  t.equal(await store.ping(), false)
  await sleep(450) // the 100, 200 ms reconnection attempts fail as well
  t.match(log.lines, [{ level: 'warn', fields: { event: 'store_unreachable', backend: 'redis', code: 'ECONNREFUSED' } }])
  t.equal(log.lines.length, 1, 'one line per outage')
})

t.test('keys carry the service prefix, then the namespace, with their TTL in Redis', { skip: redisSkip }, async (t) => {
  const url = redisUrlOrSkip(t)
  if (url === undefined) return
  const raw = new Redis(url)
  t.teardown(() => { raw.disconnect() })
  const log = storeLog()
  const store = await RedisStore.connect(url, { log })
  t.teardown(async () => { await store.close() })
  t.match(log.lines, [{ level: 'info', fields: { event: 'store_ready', recovered: false } }])
  const key = randomUUID()
  t.equal(await store.namespace('cds-replay:').putIfAbsent(key, '1', 5000), 'stored')
  const ttl = await raw.pttl(`${REDIS_KEY_PREFIX}cds-replay:${key}`)
  t.ok(ttl > 4000 && ttl <= 5000, `PTTL ${ttl}`)
  await raw.del(`${REDIS_KEY_PREFIX}cds-replay:${key}`)
})

t.test('a counter left without a TTL gets its window on the next increment (never a counter for ever)', { skip: redisSkip }, async (t) => {
  const url = redisUrlOrSkip(t)
  if (url === undefined) return
  const raw = new Redis(url)
  t.teardown(() => { raw.disconnect() })
  const prefix = `test:${randomUUID()}:`
  const store = await RedisStore.connect(url, { log: storeLog(), keyPrefix: prefix })
  t.teardown(async () => { await store.close() })
  await raw.set(`${prefix}n`, '5')
  t.strictSame(await store.increment('n', 1000), { count: 6, ttlMs: 1000 })
  const ttl = await raw.pttl(`${prefix}n`)
  t.ok(ttl > 0 && ttl <= 1000)
})

t.test('a command Redis refuses (a key of another type) is StoreUnavailable too, never a crash', { skip: redisSkip }, async (t) => {
  const url = redisUrlOrSkip(t)
  if (url === undefined) return
  const raw = new Redis(url)
  t.teardown(() => { raw.disconnect() })
  const prefix = `test:${randomUUID()}:`
  const store = await RedisStore.connect(url, { log: storeLog(), keyPrefix: prefix })
  t.teardown(async () => { await store.close() })
  await raw.hset(`${prefix}h`, 'field', 'value')
  t.type((await failure(async () => await store.get('h'))).error, StoreUnavailable)
  t.type((await failure(async () => await store.increment('h', 1000))).error, StoreUnavailable)
  await raw.del(`${prefix}h`)
})

t.test('Redis stopped, then started again: fast failures and one warning meanwhile, then it reconnects by itself', { skip: redisServerSkip }, async (t) => {
  const redis = await ownRedis(t)
  if (redis === undefined) return
  const log = storeLog()
  const store = await testRedisStore(t, redis.url, { log })
  t.equal(await store.put('k', 'before', 60_000), 'stored')
  await redis.stop()
  for (const [name, command] of COMMANDS) {
    const { error, ms } = await failure(async () => await command(store))
    t.type(error, StoreUnavailable, name)
    t.ok(ms < FAST_MS, `${name} failed in ${ms.toFixed(1)} ms`)
  }
  t.equal(await store.ping(), false)
  await sleep(400)
  t.equal(log.lines.filter((line) => line.level === 'warn').length, 1, 'one warning for the outage')
  await redis.start()
  for (let waited = 0; waited < 5000 && !await store.ping(); waited += 50) await sleep(50)
  t.equal(await store.ping(), true, 'reconnected')
  t.match(log.lines.at(-1), { level: 'info', fields: { event: 'store_ready', recovered: true } })
  t.equal(await store.get('k'), undefined, 'a new server (no persistence)')
  t.equal(await store.putIfAbsent('k', 'after', 60_000), 'stored')
})

t.test('Redis connected but silent (SIGSTOP): one command waits for the timeout, then the connection is dropped and commands fail at once; back when resumed', { skip: redisServerSkip }, async (t) => {
  const redis = await ownRedis(t)
  if (redis === undefined) return
  const log = storeLog()
  const store = await testRedisStore(t, redis.url, { commandTimeoutMs: 600, log })
  redis.pause()
  t.teardown(() => { redis.resume() })
  const [pinged, first] = await Promise.all([store.ping(), failure(async () => await store.putIfAbsent('k', '1', 60_000))])
  t.equal(pinged, false, 'a ping that gets no answer is false')
  t.type(first.error, StoreUnavailable)
  t.ok(first.ms >= 550 && first.ms < 3000, `the first command timed out after ${first.ms.toFixed(0)} ms`)
  // The SET NX may still be applied once Redis reads it: the caller answered 503, never an unchecked accept.
  await sleep(50)
  for (const [name, command] of COMMANDS) {
    const { error, ms } = await failure(async () => await command(store))
    t.type(error, StoreUnavailable, name)
    t.ok(ms < 300, `${name} failed in ${ms.toFixed(1)} ms, not after the 600 ms timeout`)
  }
  t.equal(await store.ping(), false)
  t.equal(log.lines.filter((line) => line.level === 'warn').length, 1, 'one warning')
  redis.resume()
  for (let waited = 0; waited < 5000 && !await store.ping(); waited += 50) await sleep(50)
  t.equal(await store.ping(), true, 'reconnected once Redis answers again')
  t.equal(await store.put('k2', '1', 60_000), 'stored')
})
