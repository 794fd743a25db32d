import fc from 'fast-check'
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { arbitraryCase } from '../fixtures/generators.js'

// Nothing a client sends may cause a 5xx: arbitrary JSON, and valid cases with one value replaced
// by arbitrary JSON at a random path, all answer 200 or a 4xx problem.
t.setTimeout(300_000)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Replaces the value at a path chosen by `choice` (0–1) with `replacement`. */
function mutate (value: Json, choice: number, replacement: Json): Json {
  if (value === null || typeof value !== 'object') return replacement
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value)
  if (keys.length === 0 || choice < 0.15) return replacement
  const index = Math.floor(choice * keys.length) % keys.length
  const key = keys[index] as string & number
  const copy: Json = Array.isArray(value) ? [...value] : { ...value }
  const child = (value as Record<string, Json>)[key] as Json
  ;(copy as Record<string, Json>)[key] = mutate(child, (choice * 7.31) % 1, replacement)
  return copy
}

t.test('arbitrary and mutated bodies never produce a 5xx', async (t) => {
  // 3000 requests from one client: the rate limit (1000 a minute by default) is not what is tested here.
  const app = await buildTestApp(t, {}, parseConfig({ RATE_LIMIT_MAX: '0' }))
  const statuses = new Map<number, number>()
  const send = async (payload: string): Promise<void> => {
    const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload, headers: { 'content-type': 'application/json' } })
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    if (response.statusCode >= 500) throw new Error(`${response.statusCode}: ${response.body}`)
    if (response.statusCode !== 200) t.match(response.headers['content-type'], /problem\+json/)
  }
  await fc.assert(fc.asyncProperty(fc.jsonValue(), async (value) => { await send(JSON.stringify(value)) }), { numRuns: 1000, seed: 9001 })
  await fc.assert(fc.asyncProperty(arbitraryCase(), fc.double({ min: 0, max: 1, noNaN: true }), fc.jsonValue({ maxDepth: 3 }), async (valid, choice, replacement) => {
    await send(JSON.stringify(mutate(valid as unknown as Json, choice, replacement as Json)))
  }), { numRuns: 2000, seed: 9002 })
  await send(`${'['.repeat(5000)}${']'.repeat(5000)}`)
  await send(`{"patient":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`)
  t.ok((statuses.get(200) ?? 0) > 0, 'some mutated cases stay valid')
  t.ok((statuses.get(400) ?? 0) > 1000, 'most are rejected as 400')
  t.notOk([...statuses.keys()].some((status) => status >= 500), `statuses: ${JSON.stringify([...statuses])}`)
})
