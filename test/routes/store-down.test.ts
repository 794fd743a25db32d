import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import type { CdsHooksInjection } from '../../src/routes/cds-hooks.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { captureLogs } from '../fixtures/build-app.js'
import { fakeCards, fakeMapper, fakeToCase, fakeVerifier, patientViewBody } from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { loadExamples } from '../fixtures/expectations.js'
import { signToken, standardClaims } from '../support/jwt-keys.js'
import { AUD, ISS_A, jwksServer, keyA, MATRIX_BASE, MATRIX_NOW_MS, MATRIX_NOW_S, MATRIX_PATHS as PATHS, matrixClients, TENANT_A } from '../support/jwt-matrix.js'
import { freePort, ownRedis, redisServerSkip } from '../support/redis.js'

// Issue 9: Redis down at run time. The service keeps answering recommendations (the rate limiter lets
// them through, saying so once), refuses with 503 what needs the store (the CDS Hooks JWT replay check,
// feedback) — never a token accepted unchecked — and /health/ready says "degraded" (200, so a gateway
// keeps routing recommendation traffic here).

interface Running { app: FastifyInstance, lines: Array<Record<string, unknown>> }

async function running (t: Test, env: Record<string, string>, inject: CdsHooksInjection = {}): Promise<Running> {
  const { stream, lines } = captureLogs()
  const app = await buildApp(parseConfig(env), { logger: { level: 'info', stream }, knowledgeBase, cdsHooks: inject })
  t.teardown(async () => { await app.close() })
  return { app, lines }
}

const jwtEnv = (redisUrl: string): Record<string, string> => ({ REDIS_URL: redisUrl, CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: MATRIX_BASE })
const jwtInjection = (): CdsHooksInjection => ({ clients: matrixClients(), now: () => new Date(MATRIX_NOW_MS), fetchJwks: jwksServer().fetchJwks })
const bearer = (aud: string): Record<string, string> => ({ authorization: `Bearer ${signToken(keyA.es384, { ...standardClaims(ISS_A, aud, MATRIX_NOW_S), tenant: TENANT_A })}` })

async function recommend (app: FastifyInstance): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/v1/recommendations', payload: loadExamples()[0]?.case as object })
}

async function discovery (app: FastifyInstance): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: PATHS.discovery, headers: bearer(AUD.discovery) })
}

async function ready (app: FastifyInstance): Promise<{ statusCode: number, body: { status: string, checks: unknown } }> {
  const response = await app.inject({ method: 'GET', url: '/health/ready' })
  return { statusCode: response.statusCode, body: response.json() }
}

const TRANSIENT = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] }
const DEGRADED = { statusCode: 200, body: { status: 'degraded', checks: { store: { backend: 'redis', status: 'unreachable' } } } }

t.test('Redis unreachable (nothing listening): recommendations 200, JWT-protected CDS Hooks calls 503, ready degraded', async (t) => {
  const { app, lines } = await running(t, jwtEnv(`redis://127.0.0.1:${await freePort()}`), jwtInjection())
  t.match(lines, [{ event: 'store_unreachable', backend: 'redis' }], 'startup went on after the first failed connection')
  for (let round = 0; round < 5; round++) t.equal((await recommend(app)).statusCode, 200, 'recommendations')
  t.match(await ready(app), DEGRADED)
  for (const [route, method, payload] of [
    ['discovery', 'GET', undefined],
    ['patientView', 'POST', patientViewBody()],
    ['feedback', 'POST', { feedback: [{ card: '0b0e7d4c-4a6f-4d36-9a36-0a9ad7f0a0c1', outcome: 'overridden', outcomeTimestamp: '2026-03-01T11:59:00Z' }] }]
  ] as const) {
    const response = await app.inject({ method, url: PATHS[route], headers: bearer(AUD[route]), ...(payload === undefined ? {} : { payload }) })
    t.equal(response.statusCode, 503, `${route}: 503, never an unchecked accept`)
    t.match(response.json(), TRANSIENT)
    t.equal(response.headers['www-authenticate'], undefined)
  }
  t.equal(lines.filter((line) => line.event === 'cds_jwt_replay_store_unavailable').length, 3)
  t.equal(lines.filter((line) => line.event === 'store_unreachable').length, 1, 'the outage is logged once by the store')
  t.equal(lines.filter((line) => line.event === 'rate_limit_fail_open').length, 1, 'and once by the rate limiter, not per request')
  t.notOk(lines.some((line) => line.level === 50), 'no error logged')
  t.equal((await discovery(app)).headers['www-authenticate'], undefined)
  t.equal((await app.inject({ method: 'GET', url: PATHS.discovery, headers: { authorization: 'Bearer not.a.token' } })).statusCode, 401, 'a bad token is still a 401')
})

t.test('Redis unreachable, JWT off: a hook call still gets its cards (their records unstored); feedback is a 503', async (t) => {
  const { app, lines } = await running(t, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, { mapResources: fakeMapper().mapResources, toCase: fakeToCase(), cards: fakeCards().cards })
  const view = await app.inject({ method: 'POST', url: PATHS.patientView, payload: patientViewBody() })
  t.equal(view.statusCode, 200)
  const cards = (view.json() as { cards: unknown[] }).cards
  t.ok(cards.length > 0)
  t.match(lines.find((line) => line.route === '/cds-services/her2-mbc-bone-mets'), { cardsNotRemembered: cards.length })
  const feedback = await app.inject({ method: 'POST', url: PATHS.feedback, payload: { feedback: [{ card: '0b0e7d4c-4a6f-4d36-9a36-0a9ad7f0a0c1', outcome: 'overridden', outcomeTimestamp: '2026-03-01T11:59:00Z' }] } })
  t.equal(feedback.statusCode, 503)
  t.match(feedback.json(), TRANSIENT)
  t.match(lines.find((line) => line.route === '/cds-services/her2-mbc-bone-mets/feedback'), { status: 503, reason: 'store_unavailable' })
})

t.test('Redis stopped while running, then back: 503 and degraded meanwhile, recommendations throughout; then everything as before', { skip: redisServerSkip }, async (t) => {
  const redis = await ownRedis(t)
  if (redis === undefined) return
  const { app, lines } = await running(t, jwtEnv(redis.url), jwtInjection())
  t.equal((await discovery(app)).statusCode, 200)
  t.match(await ready(app), { statusCode: 200, body: { status: 'ok', checks: { store: { backend: 'redis', status: 'ok' } } } })

  await redis.stop()
  const refused = await discovery(app)
  t.equal(refused.statusCode, 503)
  t.match(refused.json(), TRANSIENT)
  t.equal((await recommend(app)).statusCode, 200)
  t.match(await ready(app), DEGRADED)

  await redis.start()
  for (let waited = 0; waited < 5000 && (await ready(app)).body.status !== 'ok'; waited += 50) await sleep(50)
  t.match(await ready(app), { statusCode: 200, body: { status: 'ok' } })
  t.equal((await discovery(app)).statusCode, 200, 'tokens are checked (and accepted) again')
  t.match(lines.filter((line) => line.event === 'store_ready'), [{ recovered: false }, { recovered: true }])
})

t.test('an injected store is the caller\'s: a failed startup does not close it', async (t) => {
  const store = new MemoryStore(10)
  await store.put('kept', '1', 60_000)
  await t.rejects(buildApp(parseConfig({ CDS_HOOKS_JWT: 'on' }), { logger: false, knowledgeBase, store, cdsHooks: { verifier: fakeVerifier(), clients: [] } }), /PUBLIC_BASE_URL/)
  t.equal(await store.get('kept'), '1')
})
