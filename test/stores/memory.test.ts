import t from 'tap'
import { MemoryStore } from '../../src/stores/memory.js'
import { StoreUnavailable } from '../../src/stores/store.js'

t.test('putIfAbsent stores once; the key is there until it expires', async (t) => {
  let now = 1000
  const store = new MemoryStore(10, () => now)
  t.equal(await store.putIfAbsent('a', '1', 100), 'stored')
  t.equal(await store.putIfAbsent('a', '2', 100), 'exists')
  t.equal(await store.get('a'), '1')
  now = 1100
  t.equal(await store.get('a'), undefined, 'expired at its TTL')
  t.equal(await store.putIfAbsent('a', '3', 100), 'stored', 'an expired key can be stored again')
})

t.test('bounded: full with live entries refuses (never drops one silently); an expired entry makes room', async (t) => {
  let now = 0
  const store = new MemoryStore(2, () => now)
  t.equal(await store.put('a', '1', 50), 'stored')
  t.equal(await store.put('b', '2', 500), 'stored')
  t.equal(await store.put('c', '3', 500), 'full', 'no entry has expired')
  t.equal(await store.put('b', '2b', 500), 'stored', 'replacing a key needs no room')
  now = 60
  t.equal(await store.put('c', '3', 500), 'stored', 'a is expired and evicted; b stays')
  t.equal(await store.get('b'), '2b')
  t.equal(await store.get('a'), undefined)
  await store.close()
  t.equal(await store.get('b'), undefined, 'close empties the store')
})

t.test('increment: a full store refuses a new counter (StoreUnavailable), never drops one; an expired counter makes room', async (t) => {
  let now = 0
  const store = new MemoryStore(1, () => now)
  t.strictSame(await store.increment('a', 100), { count: 1, ttlMs: 100 })
  now = 40
  t.strictSame(await store.increment('a', 100), { count: 2, ttlMs: 60 }, 'the same window')
  const error = await store.increment('b', 100).catch((caught: unknown) => caught)
  t.type(error, StoreUnavailable)
  t.equal((error as StoreUnavailable).backend, 'memory')
  now = 100
  t.strictSame(await store.increment('b', 100), { count: 1, ttlMs: 100 }, 'a expired and was evicted')
})

t.test('namespaces are stores of their own, with their own bound (default: the parent\'s); close empties them all', async (t) => {
  const store = new MemoryStore(1)
  t.equal(store.backend, 'memory')
  const small = store.namespace('small:')
  const large = store.namespace('large:', { maxEntries: 3 })
  t.equal(await small.put('a', '1', 1000), 'stored')
  t.equal(await small.put('b', '1', 1000), 'full', 'the parent\'s bound')
  for (const key of ['a', 'b', 'c']) t.equal(await large.put(key, '1', 1000), 'stored')
  t.equal(await large.put('d', '1', 1000), 'full')
  t.equal(await store.put('a', '1', 1000), 'stored', 'the parent has its own entries')
  t.equal(await store.ping(), true)
  await store.close()
  t.equal(await small.get('a'), undefined)
  t.equal(await large.get('c'), undefined)
  t.equal(await store.get('a'), undefined)
})
