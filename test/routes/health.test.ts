import t from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { loadExamples } from '../fixtures/expectations.js'
import type { PreparedKnowledgeBase } from '../../src/engine/knowledge-base.js'
import { MemoryStore } from '../../src/stores/memory.js'

t.test('live is 200 while the process runs', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(response.statusCode, 200)
  t.strictSame(response.json(), { status: 'ok' })
})

t.test('ready lists every ruleset, then the context adjustments, with version and digest', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(response.statusCode, 200)
  const { id, version, digest } = knowledgeBase.contextAdjustments
  t.strictSame(response.json(), {
    status: 'ok',
    rulesets: [...knowledgeBase.rulesets.map(({ id, version, digest }) => ({ id, version, digest })), { id, version, digest }],
    checks: { store: { backend: 'memory', status: 'ok' } }
  })
})

t.test('ready stays 200 but degraded when the shared store does not answer (recommendations need no store)', async (t) => {
  const store = new MemoryStore(10)
  store.ping = async () => false
  const app = await buildTestApp(t, { store })
  const response = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(response.statusCode, 200)
  t.match(response.json(), { status: 'degraded', checks: { store: { backend: 'memory', status: 'unreachable' } } })
})

t.test('the app is built (so the server listens) only once the knowledge base is loaded; then every endpoint answers', async (t) => {
  let loaded!: (kb: PreparedKnowledgeBase) => void
  const pending = new Promise<PreparedKnowledgeBase>((resolve) => { loaded = resolve })
  let built = false
  const building = buildApp(parseConfig({}), { logger: false, knowledgeBase: pending }).then((app) => {
    built = true
    return app
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(built, 'buildApp waits for the knowledge base: no handler ever runs without it')
  loaded(knowledgeBase)
  const app = await building
  t.teardown(async () => { await app.close() })
  for (const url of ['/health/ready', '/v1/rulesets', '/v1/references']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url)
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: loadExamples()[0]?.case as object })
  t.equal(response.statusCode, 200)
})

t.test('a knowledge base that fails to load stops startup', async (t) => {
  await t.rejects(buildApp(parseConfig({}), { logger: false, knowledgeBase: Promise.reject(new Error('bad rules')) }), /bad rules/)
})
