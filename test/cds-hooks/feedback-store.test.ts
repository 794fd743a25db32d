import t from 'tap'
import { recordFeedback, rememberCards } from '../../src/cds-hooks/feedback.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { StoreUnavailable } from '../../src/stores/store.js'

// Feedback and card records when the store fails (Redis down): the items before the failure are
// recorded, the failure is reported (a 503 on the route), and a failure that is not the store's own
// (a bug) is never mistaken for one.

const item = (minute: number): { card: string, outcome: 'accepted' | 'overridden', outcomeTimestamp: string } =>
  ({ card: '0b0e7d4c-4a6f-4d36-9a36-0a9ad7f0a0c1', outcome: 'overridden', outcomeTimestamp: `2026-03-01T11:${String(minute).padStart(2, '0')}:00Z` })

/** A memory store whose putIfAbsent fails with `error` after `allowed` calls. */
function failingAfter (allowed: number, error: Error): MemoryStore {
  const store = new MemoryStore(100)
  const putIfAbsent = store.putIfAbsent.bind(store)
  let calls = 0
  store.putIfAbsent = async (key, value, ttlMs) => {
    if (++calls > allowed) throw error
    return await putIfAbsent(key, value, ttlMs)
  }
  return store
}

/** A memory store whose put fails with `error`. */
function putFails (error: Error): MemoryStore {
  const store = new MemoryStore(100)
  store.put = async () => { throw error }
  return store
}

t.test('an unreachable store stops the list: the items before it are recorded and audited, the failure named', async (t) => {
  const store = failingAfter(1, new StoreUnavailable('redis', 'the Redis store did not answer'))
  const result = await recordFeedback(store, 'her2-mbc-bone-mets', [item(1), item(2), item(3)], undefined, 60_000)
  t.equal(result.ok, false)
  t.equal(result.failure, 'store_unavailable')
  t.equal(result.audits.length, 1)
  const cards = [{ uuid: 'u-1', record: { service: 's', hookInstance: 'h' } }, { uuid: 'u-2', record: { service: 's', hookInstance: 'h' } }]
  t.equal(await rememberCards(putFails(new StoreUnavailable('redis', 'down')), cards, 60_000), 2, 'cards not remembered are counted, not thrown')
})

t.test('a full store is named as such', async (t) => {
  const result = await recordFeedback(new MemoryStore(0), 'her2-mbc-bone-mets', [item(1)], undefined, 60_000)
  t.strictSame(result, { ok: false, audits: [], repeats: 0, failure: 'store_full' })
})

t.test('any other failure is thrown (a bug is a 500 with its log line, not a 503)', async (t) => {
  const store = failingAfter(0, new TypeError('not a store failure'))
  await t.rejects(recordFeedback(store, 'her2-mbc-bone-mets', [item(1)], undefined, 60_000), TypeError)
  await t.rejects(rememberCards(putFails(new TypeError('not a store failure')), [{ uuid: 'u-1', record: { service: 's', hookInstance: 'h' } }], 60_000), TypeError)
})
