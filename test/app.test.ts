import t from 'tap'
import { buildApp, requestIdFrom } from '../src/app.js'
import { parseConfig } from '../src/config.js'
import { parseCase } from '../src/engine/parse-case.js'
import { problem } from '../src/errors.js'
import { buildTestApp, captureLogs } from './fixtures/build-app.js'
import { loadExamples } from './fixtures/expectations.js'
import { provenanceRulesets } from '../src/engine/load-rules.js'
import { knowledgeBase } from './fixtures/engine.js'

const validCase = loadExamples()[0]?.case as Record<string, unknown>
const PROBLEM = /^application\/problem\+json/

t.test('an invalid case is a 400 problem naming every field by JSON pointer', async (t) => {
  const app = await buildTestApp(t)
  const patient = { ...(validCase.patient as object), ecog: 7, ecogg: 1 }
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { ...validCase, patient } })
  t.equal(response.statusCode, 400)
  t.match(response.headers['content-type'], PROBLEM)
  const body = response.json()
  t.match(body, { type: /validation$/, title: 'Bad Request', status: 400, instance: '/v1/recommendations' })
  t.strictSame(body.errors.map((error: { path: string }) => error.path).sort(), ['/patient/ecog', '/patient/ecogg'])
  t.match(body.errors.find((error: { path: string }) => error.path === '/patient/ecog'), { message: 'must be at most 4' })
  t.strictSame(parseCase({ ...validCase, patient }), { ok: false, errors: body.errors }, 'parseCase gives the same errors outside HTTP (CLI, FHIR)')
})

t.test('a missing required field says it is required', async (t) => {
  const app = await buildTestApp(t)
  const { tumor: _tumor, ...withoutTumor } = validCase
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: withoutTumor })
  t.equal(response.statusCode, 400)
  t.strictSame(response.json().errors, [{ path: '/tumor', message: 'is required' }])
})

t.test('malformed JSON is a 400 that does not echo the body', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: '{"patient": SECRET-NAME', headers: { 'content-type': 'application/json' } })
  t.equal(response.statusCode, 400)
  t.match(response.headers['content-type'], PROBLEM)
  t.notMatch(response.body, /SECRET/)
  t.equal(response.json().detail, 'The request body is not valid JSON.')
})

t.test('an empty JSON body is a 400', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: '', headers: { 'content-type': 'application/json' } })
  t.equal(response.statusCode, 400)
  t.match(response.headers['content-type'], PROBLEM)
})

t.test('no body at all is a 400 asking for a JSON object', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations' })
  t.equal(response.statusCode, 400)
  t.strictSame(response.json().errors, [{ path: '', message: 'must be a JSON object' }])
})

t.test('a non-JSON content type is a 415', async (t) => {
  const app = await buildTestApp(t)
  for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
    const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: 'a=1', headers: { 'content-type': contentType } })
    t.equal(response.statusCode, 415, contentType)
    t.match(response.headers['content-type'], PROBLEM)
  }
})

t.test('a body over 1 MiB is a 413', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: `{"caseId":"${'x'.repeat(1024 * 1024)}"}`, headers: { 'content-type': 'application/json' } })
  t.equal(response.statusCode, 413)
  t.equal(response.json().status, 413)
})

t.test('unknown routes are 404 and a wrong method is 405 with Allow', async (t) => {
  const app = await buildTestApp(t)
  const missing = await app.inject({ method: 'GET', url: '/v2/anything?x=1' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { status: 404, instance: '/v2/anything' })
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/v1/recommendations' })
  t.equal(wrongMethod.statusCode, 405)
  t.equal(wrongMethod.headers.allow, 'POST')
  t.match(wrongMethod.headers['content-type'], PROBLEM)
  const getOnly = await app.inject({ method: 'POST', url: '/health/live', payload: {} })
  t.equal(getOnly.statusCode, 405)
  t.match(getOnly.headers.allow, /GET/)
})

t.test('x-request-id is echoed when it is a safe token and replaced otherwise', async (t) => {
  const app = await buildTestApp(t)
  const echoed = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'ehr-42.a:b_c' } })
  t.equal(echoed.headers['x-request-id'], 'ehr-42.a:b_c')
  const replaced = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': '<script>alert(1)</script>' } })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const onError = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'trace-1' } })
  t.equal(onError.headers['x-request-id'], 'trace-1')
  t.equal(requestIdFrom(['a', 'b']).length, 36)
  t.equal(requestIdFrom('x'.repeat(129)).length, 36)
})

t.test('an unexpected error is a 500 problem with no internals', async (t) => {
  const app = await buildTestApp(t)
  app.get('/boom', async () => { throw new Error('database password is hunter2') })
  const response = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(response.statusCode, 500)
  t.match(response.headers['content-type'], PROBLEM)
  t.notMatch(response.body, /hunter2|stack|Error:/)
})

t.test('other client errors keep their status without internals', async (t) => {
  const app = await buildTestApp(t)
  app.get('/teapot', async () => { throw Object.assign(new Error('internal detail'), { statusCode: 418, code: 'X_TEAPOT' }) })
  app.get('/anonymous', async () => { throw Object.assign(new Error('secret'), { statusCode: 409 }) })
  const response = await app.inject({ method: 'GET', url: '/teapot' })
  t.equal(response.statusCode, 418)
  t.notMatch(response.body, /internal detail/)
  t.match(response.json().detail, /X_TEAPOT/)
  const anonymous = await app.inject({ method: 'GET', url: '/anonymous' })
  t.equal(anonymous.statusCode, 409)
  t.match(anonymous.json().detail, /client error/)
})

t.test('logs carry ids, route, status, timings and codes, never the case', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { logger: { level: 'info', stream } })
  const payload = { ...validCase, caseId: 'log-test-case' }
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload, headers: { 'x-request-id': 'log-1' } })
  t.equal(response.statusCode, 200)
  const text = JSON.stringify(lines)
  const patient = validCase.patient as Record<string, unknown>
  t.notMatch(text, /ageYears|erPercent|metastaticSites|log-test-case/)
  t.notMatch(text, new RegExp(`"lvefPercent":${String(patient.lvefPercent)}`))
  const completed = lines.filter((line) => line.msg === 'request completed')
  t.equal(completed.length, 1, 'one line per request')
  t.match(completed[0], { reqId: 'log-1', route: '/v1/recommendations', status: 200, durationMs: Number, evaluator: 'compiled', inScope: Boolean, recommendations: Number, evaluationMs: Number })
  t.ok(Array.isArray(completed[0]?.codes) && (completed[0].codes as unknown[]).length > 0)
  t.strictSame(completed[0]?.rulesets, provenanceRulesets(knowledgeBase).map((ruleset) => `${ruleset.id}@${ruleset.version}`), 'every ruleset (and data file) with its version')
  const unmatched = await app.inject({ method: 'GET', url: '/nowhere' })
  t.equal(unmatched.statusCode, 404)
  t.match(lines.at(-1), { route: 'unmatched', status: 404 })
})

t.test('the default logger is built from the configured level', async (t) => {
  const app = await buildApp(parseConfig({ LOG_LEVEL: 'silent' }), { knowledgeBase })
  t.teardown(async () => { await app.close() })
  t.equal(app.log.level, 'silent')
})

t.test('a problem for a status Node has no name for is titled Error', async (t) => {
  t.match(problem(499, 'client closed'), { type: 'about:blank', title: 'Error', status: 499, detail: 'client closed' })
})
