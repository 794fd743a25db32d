import { createHash } from 'node:crypto'
import { MemoryStore } from '../../src/stores/memory.js'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { parseConfig, type Config } from '../../src/config.js'
import { ProblemError } from '../../src/errors.js'
import { createSerializerCompiler } from '../../src/http/serializer.js'
import { zodValidatorCompiler } from '../../src/http/validator.js'
import knowledgeBasePlugin from '../../src/plugins/knowledge-base.js'
import security, { type AfterAuth } from '../../src/plugins/security.js'
import cdsHooksRoutes, { CDS_PREFIX, cdsHooksOptions } from '../../src/routes/cds-hooks.js'
import v1Routes from '../../src/routes/v1.js'
import type { JwtVerifier } from '../../src/cds-hooks/jwt.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { PUBLIC_BASE_URL, TEST_CLIENT } from '../fixtures/cds-hooks.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { FHIR_BODY_LIMIT_BYTES } from '../../src/limits.js'

// The route groups: each a prefix scope with its own hooks in order (CORS, auth, then `afterAuth`,
// where buildApp's rate limiter goes), its own error format for a thrown ProblemError, and its own
// 413/415 words.

const PROBLEM = /^application\/problem\+json/
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** A bare app with the /v1 group and `afterAuth` recording the client id its hooks see (then optionally throwing). */
async function v1App (t: Test, config: Config, afterAuth: AfterAuth): Promise<FastifyInstance> {
  const app = Fastify()
  app.setValidatorCompiler(zodValidatorCompiler)
  app.setSerializerCompiler(createSerializerCompiler(new Set()))
  await app.register(security, { config })
  await app.register(knowledgeBasePlugin, { rulesDir: config.rulesDir, evaluator: config.evaluator, knowledgeBase })
  await app.register(v1Routes, { prefix: '/v1', config, afterAuth })
  t.teardown(async () => { await app.close() })
  return app
}

/** A verifier that accepts any bearer token, with or without `sub`. */
const acceptingVerifier = (sub: string | undefined): JwtVerifier => ({
  verify: async () => ({ iss: TEST_CLIENT.iss, jti: 'jti-1', client: TEST_CLIENT, ...(sub === undefined ? {} : { sub }) })
})

async function cdsApp (t: Test, verifier: JwtVerifier, afterAuth?: AfterAuth): Promise<FastifyInstance> {
  const config = parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL })
  const app = Fastify()
  app.setValidatorCompiler(zodValidatorCompiler)
  app.setSerializerCompiler(createSerializerCompiler(new Set()))
  await app.register(security, { config })
  await app.register(cdsHooksRoutes, { prefix: CDS_PREFIX, ...await cdsHooksOptions(config, { clients: [TEST_CLIENT], verifier }, new MemoryStore(100)), ...(afterAuth === undefined ? {} : { afterAuth }) })
  t.teardown(async () => { await app.close() })
  return app
}

t.test('/v1: afterAuth runs after the API key hook, so the rate limiter sees request.clientId', async (t) => {
  const seen: Array<string | undefined> = []
  const config = parseConfig({ API_KEYS: `ops:${sha256('key-1')}` })
  const app = await v1App(t, config, async (scope) => {
    scope.addHook('onRequest', (request, _reply, done) => {
      seen.push(request.clientId)
      done()
    })
  })
  t.equal((await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { 'x-api-key': 'key-1' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/v1/rulesets' })).statusCode, 401)
  t.strictSame(seen, ['key:ops'], 'a refused key never reaches the rate limiter; an accepted one arrives identified')
})

t.test('/v1 without API keys: open, and no client id (the rate limiter falls back to the address)', async (t) => {
  const seen: Array<string | undefined> = []
  const app = await v1App(t, parseConfig({}), async (scope) => {
    scope.addHook('onRequest', (request, _reply, done) => {
      seen.push(request.clientId)
      done()
    })
  })
  t.equal((await app.inject({ method: 'GET', url: '/v1/references' })).statusCode, 200)
  t.strictSame(seen, [undefined])
})

t.test('a ProblemError thrown by a /v1 hook is problem+json, with its headers and errors[]', async (t) => {
  const app = await v1App(t, parseConfig({}), async (scope) => {
    scope.addHook('onRequest', (_request, reply, done) => {
      reply.header('retry-after', '7')
      done(new ProblemError(429, 'rate-limited', 'Too many requests: at most 2 a minute.', { errors: [{ path: '', message: 'over the limit' }] }))
    })
  })
  const response = await app.inject({ method: 'GET', url: '/v1/rulesets?x=1' })
  t.equal(response.statusCode, 429)
  t.match(response.headers['content-type'], PROBLEM)
  t.equal(response.headers['retry-after'], '7')
  t.strictSame(response.json(), {
    type: 'https://her2-bone-mets-cds.example/problems/rate-limited',
    title: 'Too Many Requests',
    status: 429,
    detail: 'Too many requests: at most 2 a minute.',
    instance: '/v1/rulesets',
    errors: [{ path: '', message: 'over the limit' }]
  })
})

t.test('ProblemError carries status, type, detail and extra, and the status as statusCode for Fastify', async (t) => {
  const error = new ProblemError(503, 'overloaded', 'busy')
  t.match(error, { name: 'ProblemError', status: 503, statusCode: 503, type: 'overloaded', detail: 'busy', message: 'busy', extra: {} })
  t.ok(error instanceof Error)
})

t.test('/cds-services: the JWT hook sets request.clientId to jwt:<iss> <sub> before afterAuth runs', async (t) => {
  for (const [sub, expected] of [['ehr-client-7', `jwt:${TEST_CLIENT.iss} ehr-client-7`], [undefined, `jwt:${TEST_CLIENT.iss}`]] as const) {
    const seen: Array<string | undefined> = []
    const app = await cdsApp(t, acceptingVerifier(sub), async (scope) => {
      scope.addHook('onRequest', (request, _reply, done) => {
        seen.push(request.clientId)
        done()
      })
    })
    const response = await app.inject({ method: 'GET', url: '/cds-services', headers: { authorization: 'Bearer any' } })
    t.equal(response.statusCode, 200)
    t.strictSame(seen, [expected], sub ?? 'no sub: the issuer alone')
  }
})

t.test('/cds-services: without afterAuth (a scope of its own) the group still serves', async (t) => {
  const app = await cdsApp(t, acceptingVerifier('x'))
  t.equal((await app.inject({ method: 'GET', url: '/cds-services', headers: { authorization: 'Bearer any' } })).statusCode, 200)
})

t.test('a ProblemError thrown under /cds-services is an OperationOutcome, with its headers; errors[] become issues', async (t) => {
  const app = await cdsApp(t, acceptingVerifier('x'), async (scope) => {
    scope.addHook('onRequest', (request, reply, done) => {
      reply.header('retry-after', '7')
      const errors = request.headers['x-with-errors'] === undefined ? {} : { errors: [{ path: '/context/patientId', message: 'is required' }, { path: '', message: 'must be an object' }] }
      done(new ProblemError(429, 'rate-limited', 'Too many requests: at most 2 a minute.', errors))
    })
  })
  const limited = await app.inject({ method: 'GET', url: '/cds-services', headers: { authorization: 'Bearer any' } })
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/json/)
  t.equal(limited.headers['retry-after'], '7')
  t.strictSame(limited.json(), { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', diagnostics: 'Too many requests: at most 2 a minute.' }] })
  const withErrors = await app.inject({ method: 'GET', url: '/cds-services', headers: { authorization: 'Bearer any', 'x-with-errors': '1' } })
  t.strictSame(withErrors.json().issue, [
    { severity: 'error', code: 'throttled', diagnostics: 'context.patientId is required.', expression: ['context.patientId'] },
    { severity: 'error', code: 'throttled', diagnostics: 'The request body must be an object.' }
  ])
})

t.test('413 and 415 in each group\'s words', async (t) => {
  const app = await buildTestApp(t)
  const json = { 'content-type': 'application/json' }
  const v1Large = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: `{"caseId":"${'x'.repeat(1024 * 1024)}"}`, headers: json })
  t.match(v1Large.json(), { status: 413, type: /payload-too-large$/, detail: 'The request body is larger than the 1 MiB limit.' })
  const fhirLarge = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: `{"resourceType":"Bundle","x":"${'x'.repeat(FHIR_BODY_LIMIT_BYTES)}"}`, headers: { 'content-type': 'application/fhir+json' } })
  t.match(fhirLarge.json(), { status: 413, detail: 'The request body is larger than the 5 MiB limit of FHIR input.' })
  const v1Type = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: 'x', headers: { 'content-type': 'text/plain' } })
  t.match(v1Type.json(), { status: 415, type: /unsupported-media-type$/, detail: 'Unsupported content type: send a Case as application/json, or a FHIR Bundle as application/fhir+json.' })
  // Outside a group (an unknown path): the root's words.
  const rootLarge = await app.inject({ method: 'POST', url: '/elsewhere', payload: `{"x":"${'x'.repeat(1024 * 1024)}"}`, headers: json })
  t.match(rootLarge.headers['content-type'], PROBLEM)
  t.match(rootLarge.json(), { status: 413, detail: 'The request body is larger than the 1 MiB limit.' })
  // /cds-services: an OperationOutcome, as before.
  const cdsLarge = await app.inject({ method: 'POST', url: '/cds-services/her2-mbc-bone-mets/feedback', payload: `{"x":"${'x'.repeat(64 * 1024)}"}`, headers: json })
  t.match(cdsLarge.json(), { resourceType: 'OperationOutcome', issue: [{ code: 'too-costly', diagnostics: 'The request body is larger than this endpoint accepts.' }] })
  const cdsType = await app.inject({ method: 'POST', url: '/cds-services/her2-mbc-bone-mets', payload: 'x', headers: { 'content-type': 'text/plain' } })
  t.match(cdsType.json(), { resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] })
})

t.test('the groups answer under their prefixes only', async (t) => {
  const app = await buildTestApp(t)
  for (const url of ['/health/live', '/health/ready', '/v1/rulesets', '/v1/references', '/documentation/json', '/cds-services']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url)
  }
  for (const url of ['/live', '/ready', '/rulesets', '/references', '/recommendations']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `${url} is not a route outside its group`)
  }
})

t.test('every rejection names its problem type in the request\'s log line (the metrics\' reason)', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { logger: { level: 'info', stream } })
  const json = { 'content-type': 'application/json' }
  await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { patient: {} } })
  await app.inject({ method: 'POST', url: '/v1/recommendations', payload: 'x', headers: { 'content-type': 'text/plain' } })
  await app.inject({ method: 'POST', url: '/v1/recommendations', payload: '{', headers: json })
  const mismatch = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: '{"a":1}', headers: { ...json, 'content-length': '3' } })
  t.match(mismatch.json(), { status: 400, type: /invalid-request$/, detail: 'The Content-Length header does not match the body.' })
  await app.inject({ method: 'POST', url: '/cds-services/her2-mbc-bone-mets', payload: { hook: 'patient-view' } })
  const problems = lines.filter((line) => line.msg === 'request completed').map((line) => [line.status, line.problem])
  t.strictSame(problems, [[400, 'validation'], [415, 'unsupported-media-type'], [400, 'invalid-json'], [400, 'invalid-request'], [400, 'validation']])
})
