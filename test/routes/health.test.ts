import t from 'tap'
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

t.test('every knowledge endpoint is 503 until the rules are loaded, then 200', async (t) => {
  let loaded!: (kb: PreparedKnowledgeBase) => void
  const pending = new Promise<PreparedKnowledgeBase>((resolve) => { loaded = resolve })
  const app = await buildTestApp(t, { knowledgeBase: pending })
  for (const [method, url] of [['GET', '/health/ready'], ['GET', '/v1/rulesets'], ['GET', '/v1/references'], ['POST', '/v1/recommendations']] as const) {
    const response = await app.inject({ method, url, ...(method === 'POST' ? { payload: { patient: {} } } : {}) })
    if (method === 'POST') {
      t.equal(response.statusCode, 400, 'validation still comes first')
      continue
    }
    t.equal(response.statusCode, 503, url)
    t.match(response.headers['content-type'], /problem\+json/)
  }
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live while not ready')
  loaded(knowledgeBase)
  await pending
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
})

t.test('a recommendation request while not ready is a 503', async (t) => {
  const app = await buildTestApp(t, { knowledgeBase: new Promise<PreparedKnowledgeBase>(() => {}) })
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: loadExamples()[0]?.case as object })
  t.equal(response.statusCode, 503)
})

t.test('a knowledge base that fails to load keeps the service not ready', async (t) => {
  const app = await buildTestApp(t, { knowledgeBase: Promise.reject(new Error('bad rules')) })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503)
})
