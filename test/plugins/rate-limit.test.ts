import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { RATE_LIMIT_NAMESPACE } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import rateLimit, { RateLimited } from '../../src/plugins/rate-limit.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { StoreUnavailable, type KeyValueStore } from '../../src/stores/store.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { signToken, standardClaims } from '../support/jwt-keys.js'
import { AUD, ISS_A, jwksServer, keyA, MATRIX_BASE, MATRIX_NOW_MS, MATRIX_NOW_S, matrixClients, TENANT_A } from '../support/jwt-matrix.js'

// The rate limit of the /v1 and /cds-services groups, with its counters in the app's (memory) store;
// across replicas on one Redis: test/routes/replicas.test.ts.

async function limitedApp (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}, options: Parameters<typeof buildTestApp>[1] = {}): Promise<FastifyInstance> {
  return await buildTestApp(t, options, parseConfig({ RATE_LIMIT_MAX: '3', ...env }))
}

async function get (app: FastifyInstance, url: string, remoteAddress = '192.0.2.1', headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url, remoteAddress, headers })
}

t.test('/v1: the client\'s budget counts down in the headers; over it, 429 problem+json with Retry-After', async (t) => {
  const app = await limitedApp(t)
  for (const remaining of ['2', '1', '0']) {
    const response = await get(app, '/v1/rulesets')
    t.equal(response.statusCode, 200)
    t.equal(response.headers['x-ratelimit-limit'], '3')
    t.equal(response.headers['x-ratelimit-remaining'], remaining)
  }
  const refused = await get(app, '/v1/references')
  t.equal(refused.statusCode, 429, 'one budget for every /v1 route')
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.match(refused.json(), { status: 429, title: 'Too Many Requests', instance: '/v1/references' })
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`)
  t.equal((await get(app, '/v1/rulesets', '192.0.2.2')).statusCode, 200, 'another address has its own budget')
})

t.test('/cds-services: over the budget, 429 OperationOutcome throttled with Retry-After; one budget with /v1 for one client', async (t) => {
  const app = await limitedApp(t)
  t.equal((await get(app, '/v1/rulesets')).statusCode, 200)
  t.equal((await get(app, '/cds-services')).statusCode, 200)
  t.equal((await get(app, '/cds-services')).statusCode, 200)
  const refused = await get(app, '/cds-services')
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled' }] })
  t.ok(Number(refused.headers['retry-after']) >= 1)
  t.equal((await get(app, '/v1/rulesets')).statusCode, 429)
})

t.test('health, documentation and unknown paths are never limited', async (t) => {
  const app = await limitedApp(t)
  for (let round = 0; round < 5; round++) {
    for (const url of ['/health/live', '/health/ready', '/documentation/json']) {
      const response = await get(app, url)
      t.equal(response.statusCode, 200, url)
      t.equal(response.headers['x-ratelimit-limit'], undefined)
    }
    t.equal((await get(app, '/v1/nowhere')).statusCode, 404)
  }
  t.equal((await get(app, '/v1/rulesets')).headers['x-ratelimit-remaining'], '2', 'none of them counted')
})

t.test('an IPv6 client is counted by its /64: its neighbours share its budget', async (t) => {
  const app = await limitedApp(t, { RATE_LIMIT_MAX: '1' })
  t.equal((await get(app, '/v1/rulesets', '2001:db8:0:1::1')).statusCode, 200)
  t.equal((await get(app, '/v1/rulesets', '2001:db8:0:1::2')).statusCode, 429)
  t.equal((await get(app, '/v1/rulesets', '2001:db8:0:2::1')).statusCode, 200, 'another /64')
})

t.test('CDS Hooks: keyed by the verified issuer and subject, whatever the address', async (t) => {
  const { fetchJwks } = jwksServer()
  const app = await limitedApp(t, { RATE_LIMIT_MAX: '1', CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: MATRIX_BASE }, {
    cdsHooks: { clients: matrixClients(), now: () => new Date(MATRIX_NOW_MS), fetchJwks }
  })
  const discovery = async (sub: string | undefined, remoteAddress: string): Promise<number> => {
    const token = signToken(keyA.es384, { ...standardClaims(ISS_A, AUD.discovery, MATRIX_NOW_S), tenant: TENANT_A, ...(sub === undefined ? {} : { sub }) })
    return (await get(app, '/cds-services', remoteAddress, { authorization: `Bearer ${token}` })).statusCode
  }
  t.equal(await discovery('user-1', '192.0.2.1'), 200)
  t.equal(await discovery('user-1', '192.0.2.2'), 429, 'the same user from another address')
  t.equal(await discovery('user-2', '192.0.2.1'), 200, 'another user from the same address')
  t.equal(await discovery(undefined, '192.0.2.1'), 200, 'the issuer alone (no sub)')
  t.equal(await discovery(undefined, '192.0.2.3'), 429)
  t.equal((await get(app, '/v1/rulesets', '192.0.2.1')).statusCode, 200, 'the address\'s own budget is untouched by verified clients')
})

t.test('on by default: 1000 requests a minute per client', async (t) => {
  const app = await buildTestApp(t)
  const response = await get(app, '/v1/rulesets')
  t.equal(response.headers['x-ratelimit-limit'], '1000')
  t.equal(response.headers['x-ratelimit-remaining'], '999')
  t.ok(Number(response.headers['x-ratelimit-reset']) <= 60)
})

t.test('RATE_LIMIT_MAX=0 turns the limiter off', async (t) => {
  const app = await limitedApp(t, { RATE_LIMIT_MAX: '0' })
  for (let round = 0; round < 5; round++) {
    const response = await get(app, '/v1/rulesets')
    t.equal(response.statusCode, 200)
    t.equal(response.headers['x-ratelimit-limit'], undefined)
  }
})

/** A memory store whose rate-limit counters fail while `failing.on` is set. */
function storeWithFailingCounters (): { store: MemoryStore, failing: { on: boolean } } {
  const failing = { on: true }
  const store = new MemoryStore(100)
  const namespace = store.namespace.bind(store)
  store.namespace = (prefix, options) => {
    const inner = namespace(prefix, options)
    if (prefix !== RATE_LIMIT_NAMESPACE) return inner
    const counters: KeyValueStore = Object.create(inner) as KeyValueStore
    counters.increment = async (key, windowMs) => {
      if (failing.on) throw new StoreUnavailable('redis', 'the Redis store did not answer')
      return await inner.increment(key, windowMs)
    }
    return counters
  }
  return { store, failing }
}

t.test('a store that cannot count: requests go through (fail open), one warning for the outage, one line when counting again', async (t) => {
  const { store, failing } = storeWithFailingCounters()
  const { stream, lines } = captureLogs()
  const app = await limitedApp(t, {}, { store, logger: { level: 'info', stream } })
  for (let round = 0; round < 6; round++) {
    t.equal((await get(app, round % 2 === 0 ? '/v1/rulesets' : '/cds-services')).statusCode, 200)
  }
  t.match(lines.filter((line) => line.event === 'rate_limit_fail_open'), [{ level: 40, error: 'the Redis store did not answer' }])
  failing.on = false
  for (let round = 0; round < 3; round++) t.equal((await get(app, '/v1/rulesets')).statusCode, 200)
  t.equal((await get(app, '/v1/rulesets')).statusCode, 429, 'counting again')
  t.equal(lines.filter((line) => line.event === 'rate_limit_store_back').length, 1)
  t.equal(lines.filter((line) => line.event === 'rate_limit_fail_open').length, 1)
})

t.test('a route with a limit of its own counts under its own key', async (t) => {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  const store = new MemoryStore(100)
  await app.register(rateLimit, { store, max: 3, windowMs: 60_000 })
  app.get('/strict', { config: { rateLimit: { max: 1 } } }, async () => 'ok')
  app.get('/normal', async () => 'ok')
  t.equal((await app.inject('/strict')).statusCode, 200)
  const refused = await app.inject('/strict')
  t.equal(refused.statusCode, 429)
  t.equal((await app.inject('/normal')).headers['x-ratelimit-remaining'], '2', 'the route\'s counter is not the client\'s')
})

t.test('RateLimited: a 429 that says when to retry', async (t) => {
  const error = new RateLimited(42)
  t.equal(error.statusCode, 429)
  t.equal(error.code, 'RATE_LIMITED')
  t.match(error.message, /retry after 42 s/)
})
