import t from 'tap'
import { MemoryStore } from '../../src/stores/memory.js'

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
