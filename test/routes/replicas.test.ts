import { randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import type { CdsHooksInjection } from '../../src/routes/cds-hooks.js'
import { captureLogs } from '../fixtures/build-app.js'
import { fakeCards, fakeMapper, fakeToCase, patientViewBody } from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { signToken, standardClaims } from '../support/jwt-keys.js'
import { AUD, ISS_A, jwksServer, keyA, MATRIX_BASE, MATRIX_NOW_MS, MATRIX_NOW_S, MATRIX_PATHS as PATHS, matrixClients, TENANT_A } from '../support/jwt-matrix.js'
import { redisSkip, redisUrlOrSkip } from '../support/redis.js'

// Issue 9: two replicas (two apps, as two containers would be) on one Redis share the CDS Hooks replay
// cache, the issued-card and feedback records, and the rate-limit counters. Every key of a run is its
// own (random subject, hookInstance, address), so runs and parallel test files never meet in Redis.

interface Replica { app: FastifyInstance, lines: Array<Record<string, unknown>> }

async function replica (t: Test, env: Record<string, string>, inject: CdsHooksInjection = {}): Promise<Replica> {
  const { stream, lines } = captureLogs()
  const app = await buildApp(parseConfig(env), { logger: { level: 'info', stream }, knowledgeBase, cdsHooks: inject })
  t.teardown(async () => { await app.close() })
  return { app, lines }
}

t.test('two replicas on one Redis', { skip: redisSkip }, async (t) => {
  const url = redisUrlOrSkip(t)
  if (url === undefined) return

  await t.test('a CDS Hooks token used on one replica is refused on the other (§10.1 step 8); feedback is matched and idempotent across them', async (t) => {
    const { fetchJwks } = jwksServer()
    const env = { REDIS_URL: url, CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: MATRIX_BASE, FEEDBACK_CARD_TTL_H: '1' }
    const inject = { clients: matrixClients(), now: () => new Date(MATRIX_NOW_MS), fetchJwks, mapResources: fakeMapper().mapResources, toCase: fakeToCase(), cards: fakeCards().cards }
    const [first, second] = [await replica(t, env, inject), await replica(t, env, inject)] as [Replica, Replica]
    const sub = `user-${randomUUID()}`
    const token = (aud: string): string => signToken(keyA.es384, { ...standardClaims(ISS_A, aud, MATRIX_NOW_S), tenant: TENANT_A, sub })
    const post = async (on: Replica, path: string, bearer: string, payload: Record<string, unknown>): Promise<LightMyRequestResponse> =>
      await on.app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${bearer}` }, payload })

    const body = patientViewBody({ hookInstance: randomUUID() })
    const used = token(AUD.patientView)
    const view = await post(first, PATHS.patientView, used, body)
    t.equal(view.statusCode, 200)
    const cards = (view.json() as { cards: Array<{ uuid: string }> }).cards
    t.ok(cards.length > 0, 'cards issued by the first replica')

    const replayed = await post(second, PATHS.patientView, used, body)
    t.equal(replayed.statusCode, 401, 'the same token on the second replica')
    t.equal(replayed.headers['www-authenticate'], 'Bearer')
    t.match(second.lines.filter((line) => line.msg === 'cds_jwt_rejected'), [{ reason: 'replayed', iss: ISS_A }])
    t.equal((await post(second, PATHS.patientView, token(AUD.patientView), body)).statusCode, 200, 'a fresh token is accepted there')

    // Feedback on the second replica about a card the first issued: matched; sent again to the first: a repeat.
    const feedback = { feedback: [{ card: (cards[0] as { uuid: string }).uuid, outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }] }
    t.equal((await post(second, PATHS.feedback, token(AUD.feedback), feedback)).statusCode, 200)
    t.match(second.lines.filter((line) => line.msg === 'cds_feedback'), [{ matched: true, card: (cards[0] as { uuid: string }).uuid }])
    t.equal((await post(first, PATHS.feedback, token(AUD.feedback), feedback)).statusCode, 200)
    t.equal(first.lines.filter((line) => line.msg === 'cds_feedback').length, 0, 'no second audit event')
    t.match(first.lines.filter((line) => line.msg === 'request completed' && line.route === '/cds-services/her2-mbc-bone-mets/feedback'), [{ repeats: 1 }])
  })

  await t.test('the rate limit counts a client\'s requests on both replicas', async (t) => {
    const env = { REDIS_URL: url, RATE_LIMIT_MAX: '4' }
    const [first, second] = [await replica(t, env), await replica(t, env)] as [Replica, Replica]
    // A client of this run only: an IPv6 /64 of the documentation range with random bits (counted by its /64).
    const hex = (): string => Math.floor(Math.random() * 0x10000).toString(16)
    const remoteAddress = `2001:db8:${hex()}:${hex()}::1`
    const get = async (on: Replica, path: string): Promise<LightMyRequestResponse> => await on.app.inject({ method: 'GET', url: path, remoteAddress })
    const responses = [
      await get(first, '/v1/rulesets'),
      await get(second, '/cds-services'),
      await get(second, '/v1/rulesets'),
      await get(first, '/cds-services'),
      await get(second, '/v1/rulesets'),
      await get(first, '/v1/rulesets')
    ]
    t.strictSame(responses.map((response) => response.statusCode), [200, 200, 200, 200, 429, 429], 'four in the window, whichever replica answers')
    t.strictSame(responses.map((response) => response.headers['x-ratelimit-remaining']), ['3', '2', '1', '0', '0', '0'])
    t.ok(Number(responses[5]?.headers['retry-after']) >= 1)
    t.equal((await second.app.inject({ method: 'GET', url: '/v1/rulesets', remoteAddress: `2001:db8:${hex()}:${hex()}::2` })).statusCode, 200, 'another client is not affected')
  })
})
