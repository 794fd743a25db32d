import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { MemoryStore } from '../../src/stores/memory.js'
import type { SharedStore } from '../../src/stores/store.js'
import { redisSkip, redisUrlOrSkip, testRedisStore } from '../support/redis.js'

// One table of cases, run against both stores: what the replay cache, feedback and the rate limiter
// rely on holds for memory (one replica) and Redis (replicas) alike. Real time: TTLs of tens of ms.

interface Case { name: string, run: (t: Test, store: SharedStore) => Promise<void> }

const CASES: Case[] = [
  {
    name: 'putIfAbsent stores once; a second one is "exists" and leaves the first value',
    run: async (t, store) => {
      t.equal(await store.putIfAbsent('a', '1', 10_000), 'stored')
      t.equal(await store.putIfAbsent('a', '2', 10_000), 'exists')
      t.equal(await store.get('a'), '1')
    }
  },
  {
    name: 'put stores or replaces; get of an absent key is undefined',
    run: async (t, store) => {
      t.equal(await store.get('b'), undefined)
      t.equal(await store.put('b', 'first', 10_000), 'stored')
      t.equal(await store.put('b', 'second', 10_000), 'stored')
      t.equal(await store.get('b'), 'second')
    }
  },
  {
    name: 'a key lives for its TTL, then is gone and can be stored again',
    run: async (t, store) => {
      t.equal(await store.putIfAbsent('c', '1', 40), 'stored')
      t.equal(await store.get('c'), '1')
      await sleep(80)
      t.equal(await store.get('c'), undefined)
      t.equal(await store.putIfAbsent('c', '2', 40), 'stored')
    }
  },
  {
    name: 'increment counts in a fixed window that later increments do not extend, then starts again',
    run: async (t, store) => {
      const first = await store.increment('n', 150)
      t.equal(first.count, 1)
      t.ok(first.ttlMs > 100 && first.ttlMs <= 150, `the window starts: ${first.ttlMs} ms`)
      await sleep(60)
      const second = await store.increment('n', 150)
      t.equal(second.count, 2)
      t.ok(second.ttlMs <= 150 - 50, `the window is not extended: ${second.ttlMs} ms left`)
      t.equal((await store.increment('n', 150)).count, 3)
      await sleep(150)
      t.strictSame((await store.increment('n', 150)).count, 1, 'a new window')
    }
  },
  {
    name: 'namespaces never share a key; closing one leaves the shared store open',
    run: async (t, store) => {
      const replay = store.namespace('replay:')
      const feedback = store.namespace('feedback:')
      t.equal(await replay.putIfAbsent('k', 'replay', 10_000), 'stored')
      t.equal(await feedback.putIfAbsent('k', 'feedback', 10_000), 'stored')
      t.equal(await replay.get('k'), 'replay')
      t.equal(await feedback.get('k'), 'feedback')
      t.equal(await store.get('k'), undefined)
      t.equal((await replay.increment('n', 10_000)).count, 1)
      t.equal((await feedback.increment('n', 10_000)).count, 1)
      await replay.close()
      t.equal(await feedback.get('k'), 'feedback')
      t.equal(await store.put('k', 'root', 10_000), 'stored')
      t.ok(await store.ping())
      t.ok(await feedback.ping(), 'a namespace answers ping as its store does')
    }
  },
  {
    name: 'a TTL with a fraction of a millisecond is accepted',
    run: async (t, store) => {
      t.equal(await store.put('f', '1', 1000.5), 'stored')
      t.equal(await store.get('f'), '1')
    }
  }
]

t.test('memory store', async (t) => {
  for (const { name, run } of CASES) {
    await t.test(name, async (t) => {
      const store = new MemoryStore(100)
      t.teardown(async () => { await store.close() })
      await run(t, store)
    })
  }
})

t.test('Redis store', { skip: redisSkip }, async (t) => {
  const url = redisUrlOrSkip(t)
  if (url === undefined) return
  for (const { name, run } of CASES) {
    await t.test(name, async (t) => { await run(t, await testRedisStore(t, url)) })
  }
})
