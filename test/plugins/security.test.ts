import { createHash } from 'node:crypto'
import { getHeapStatistics } from 'node:v8'
import t from 'tap'
import Fastify from 'fastify'
import { parseConfig } from '../../src/config.js'
import {
  defaultMaxHeapUsedBytes, exemptFromLoadShedding, matchApiKey, OVERLOAD_RETRY_AFTER_S, pressureThresholds,
  requireApiKey, serverOptions, trustNearestHops
} from '../../src/plugins/security.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { loadExamples } from '../fixtures/expectations.js'

const PROBLEM = /^application\/problem\+json/
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
const exampleCase = loadExamples()[0]?.case as object

// ---------------------------------------------------------------------------------------------
// Helmet

t.test('helmet\'s headers are on every response: probes, API, errors, CDS Hooks, documentation', async (t) => {
  const app = await buildTestApp(t)
  for (const url of ['/health/live', '/v1/rulesets', '/nowhere', '/cds-services/unknown', '/documentation/json']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.headers['x-content-type-options'], 'nosniff', url)
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN', url)
    t.match(response.headers['strict-transport-security'], /max-age=/, url)
    t.match(response.headers['content-security-policy'], /default-src 'self'/, url)
    t.notMatch(response.headers['content-security-policy'], /upgrade-insecure-requests/, 'plain-http documentation still loads its files')
  }
})

// ---------------------------------------------------------------------------------------------
// Load shedding

t.test('under pressure: 503 with Retry-After in each group\'s format; the probes still answer', async (t) => {
  const { lines, stream } = captureLogs()
  // A 1 MB heap threshold is always exceeded: pressure from the first 10 ms sample on.
  const app = await buildTestApp(t, { pressureSampleIntervalMs: 10, logger: { level: 'info', stream } }, parseConfig({ PRESSURE_MAX_HEAP_USED_MB: '1', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' }))
  await app.ready()
  while (!app.isUnderPressure()) await new Promise((resolve) => setTimeout(resolve, 10))

  const v1 = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: exampleCase })
  t.equal(v1.statusCode, 503)
  t.match(v1.headers['content-type'], PROBLEM)
  t.equal(v1.headers['retry-after'], String(OVERLOAD_RETRY_AFTER_S))
  t.match(v1.json(), { status: 503, type: /\/problems\/overloaded$/, title: 'Service Unavailable', detail: /overloaded; retry in 10 seconds/, instance: '/v1/recommendations' })
  t.match(lines.at(-1), { msg: 'request completed', status: 503, problem: 'overloaded', pressure: 'heapUsedBytes' })

  const cds = await app.inject({ method: 'GET', url: '/cds-services' })
  t.equal(cds.statusCode, 503)
  t.equal(cds.headers['retry-after'], String(OVERLOAD_RETRY_AFTER_S))
  t.match(cds.json(), { resourceType: 'OperationOutcome', issue: [{ code: 'transient', diagnostics: /overloaded/ }] })

  for (const url of ['/health/live', '/health/ready']) {
    const probe = await app.inject({ method: 'GET', url })
    t.equal(probe.statusCode, 200, `${url} answers under pressure`)
  }
})

t.test('an event-loop delay over the threshold sheds load too', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { pressureSampleIntervalMs: 100, logger: { level: 'info', stream } }, parseConfig({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '1', PRESSURE_MAX_HEAP_USED_MB: '0' }))
  await app.ready()
  // A loop blocked for 150 ms makes the overdue sample that follows read a delay far above 1 ms; the
  // request goes in right after it, before the next sample (100 ms on) reads a normal loop again.
  // Tried again after another block should a busy machine make it miss that window.
  let response
  for (let attempt = 0; attempt < 20 && response?.statusCode !== 503; attempt++) {
    const until = Date.now() + 150
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 0))
    response = await app.inject({ method: 'GET', url: '/v1/rulesets' })
  }
  t.equal(response?.statusCode, 503)
  t.equal(response?.headers['retry-after'], String(OVERLOAD_RETRY_AFTER_S))
  t.match(lines.at(-1), { status: 503, problem: 'overloaded', pressure: 'eventLoopDelay' })
})

t.test('a scope exempted from load shedding answers under pressure; its siblings do not', async (t) => {
  const app = await buildTestApp(t, { pressureSampleIntervalMs: 10 }, parseConfig({ PRESSURE_MAX_HEAP_USED_MB: '1', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' }))
  await app.register(async (scope) => {
    exemptFromLoadShedding(scope)
    scope.get('/exempt', async () => 'ok')
  })
  app.get('/shed', async () => 'ok')
  await app.ready()
  while (!app.isUnderPressure()) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal((await app.inject({ method: 'GET', url: '/exempt' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/shed' })).statusCode, 503)
})

t.test('pressure thresholds: event-loop delay as configured, heap at 90 % of V8\'s limit unless set, 0 turns a check off', async (t) => {
  t.strictSame(pressureThresholds(parseConfig({}).loadShedding), { maxEventLoopDelay: 500, maxHeapUsedBytes: defaultMaxHeapUsedBytes() })
  t.equal(defaultMaxHeapUsedBytes(), Math.floor(getHeapStatistics().heap_size_limit * 0.9))
  t.strictSame(pressureThresholds(parseConfig({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PRESSURE_MAX_HEAP_USED_MB: '0' }).loadShedding), { maxEventLoopDelay: 0, maxHeapUsedBytes: 0 })
  t.strictSame(pressureThresholds(parseConfig({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '250', PRESSURE_MAX_HEAP_USED_MB: '768' }).loadShedding), { maxEventLoopDelay: 250, maxHeapUsedBytes: 768 * 1024 * 1024 })
})

// ---------------------------------------------------------------------------------------------
// Timeouts and trusted proxies

t.test('the server\'s timeouts come from the configuration, with gateway-friendly defaults', async (t) => {
  const defaults = await buildTestApp(t)
  t.equal(defaults.server.requestTimeout, 30_000)
  t.equal(defaults.server.timeout, 60_000)
  t.equal(defaults.server.keepAliveTimeout, 72_000, 'longer than a gateway\'s usual 60 s idle timeout')
  const tuned = await buildTestApp(t, {}, parseConfig({ REQUEST_TIMEOUT_MS: '10000', CONNECTION_TIMEOUT_MS: '0', KEEP_ALIVE_TIMEOUT_MS: '65000' }))
  t.equal(tuned.server.requestTimeout, 10_000)
  t.equal(tuned.server.timeout, 0)
  t.equal(tuned.server.keepAliveTimeout, 65_000)
})

t.test('TRUST_PROXY: request.ip is the peer by default, the forwarded client behind a listed or counted proxy', async (t) => {
  const ipOf = async (env: Record<string, string>, remoteAddress: string, forwarded: string): Promise<string> => {
    const app = await buildTestApp(t, {}, parseConfig(env))
    app.get('/ip', async (request) => request.ip)
    return (await app.inject({ method: 'GET', url: '/ip', remoteAddress, headers: { 'x-forwarded-for': forwarded } })).body
  }
  t.equal(await ipOf({}, '10.0.0.5', '203.0.113.7'), '10.0.0.5', 'off: X-Forwarded-For is ignored')
  t.equal(await ipOf({ TRUST_PROXY: '10.0.0.0/8' }, '10.0.0.5', '203.0.113.7'), '203.0.113.7', 'a listed gateway')
  t.equal(await ipOf({ TRUST_PROXY: '10.0.0.0/8' }, '198.51.100.9', '203.0.113.7'), '198.51.100.9', 'a client that is not the gateway cannot choose its address')
  t.equal(await ipOf({ TRUST_PROXY: '10.0.0.0/8' }, '10.0.0.5', '198.51.100.1, 10.1.2.3'), '198.51.100.1', 'a chain of trusted proxies')
  t.equal(await ipOf({ TRUST_PROXY: '1' }, '10.0.0.5', '198.51.100.1, 203.0.113.7'), '203.0.113.7', 'one hop: the address the nearest proxy saw')
  t.strictSame([0, 1, 2].map((hop) => trustNearestHops(2)('x', hop)), [true, true, false])
  t.strictSame(serverOptions(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.1' }).server).trustProxy, ['loopback', '10.0.0.1'])
  t.equal(serverOptions(parseConfig({}).server).trustProxy, false)
})

// ---------------------------------------------------------------------------------------------
// API keys

const KEY_OPS = 'ops-secret-key-7f3a'
const KEY_EHR = 'ehr-secret-key-91c2'
const API_KEYS = `ops:${sha256(KEY_OPS)},ehr:${sha256(KEY_EHR).toUpperCase()}`

t.test('API keys on /v1: absent or wrong → 401 with WWW-Authenticate; a valid key passes; other groups are untouched', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { logger: { level: 'debug', stream } }, parseConfig({ API_KEYS, LOG_LEVEL: 'debug' }))
  const missing = await app.inject({ method: 'GET', url: '/v1/rulesets' })
  t.equal(missing.statusCode, 401)
  t.match(missing.headers['content-type'], PROBLEM)
  t.equal(missing.headers['www-authenticate'], 'ApiKey header="X-API-Key"')
  t.match(missing.json(), { status: 401, type: /\/problems\/unauthorized$/, detail: 'This API needs an API key in the X-API-Key header.', instance: '/v1/rulesets' })
  const wrong = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: exampleCase, headers: { 'x-api-key': `${KEY_OPS}x` } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.headers['www-authenticate'], 'ApiKey header="X-API-Key"')
  t.match(wrong.json(), { detail: 'The API key in the X-API-Key header is not valid.' })
  t.equal((await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { 'x-api-key': '' } })).statusCode, 401, 'an empty key')

  t.equal((await app.inject({ method: 'POST', url: '/v1/recommendations', payload: exampleCase, headers: { 'x-api-key': KEY_OPS } })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/v1/references', headers: { 'x-api-key': KEY_EHR } })).statusCode, 200, 'a hash configured in upper case')

  for (const url of ['/health/live', '/health/ready', '/cds-services', '/documentation/json']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} needs no API key`)
  }

  const completed = lines.filter((line) => line.msg === 'request completed')
  t.match(completed[0], { status: 401, problem: 'unauthorized', auth: 'api_key_missing' })
  t.match(completed[1], { status: 401, problem: 'unauthorized', auth: 'api_key_invalid' })
  t.match(completed[3], { status: 200, apiKey: 'ops' })
  t.match(completed[4], { status: 200, apiKey: 'ehr' })
  const text = JSON.stringify(lines)
  for (const secret of [KEY_OPS, KEY_EHR, sha256(KEY_OPS)]) t.notOk(text.includes(secret), 'neither a key nor its hash is logged')
})

t.test('without API_KEYS, /v1 is open', async (t) => {
  const app = await buildTestApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/v1/rulesets' })).statusCode, 200)
})

t.test('requireApiKey sets request.clientId to key:<id>; matchApiKey compares every hash', async (t) => {
  const app = Fastify()
  app.decorateRequest('clientId', undefined)
  await app.register(async (scope) => {
    requireApiKey(scope, parseConfig({ API_KEYS }).apiKeys)
    scope.get('/who', async (request) => request.clientId)
  })
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ method: 'GET', url: '/who', headers: { 'x-api-key': KEY_EHR } })).body, 'key:ehr')
  const digests = [{ id: 'a', digest: Buffer.from(sha256('k'), 'hex') }, { id: 'b', digest: Buffer.from(sha256('k'), 'hex') }]
  t.equal(matchApiKey(digests, 'k'), 'a', 'the first match wins, every hash is still compared')
  t.equal(matchApiKey(digests, 'other'), undefined)
})

// ---------------------------------------------------------------------------------------------
// CORS on /v1

t.test('CORS on /v1 is off by default', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { origin: 'https://app.example.org' } })
  t.equal(response.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/recommendations', headers: { origin: 'https://app.example.org', 'access-control-request-method': 'POST' } })
  t.equal(preflight.statusCode, 405, 'no preflight route: a wrong method')
  t.equal(preflight.headers['access-control-allow-origin'], undefined)
})

t.test('CORS on /v1 with CORS_ORIGINS: exact origins, preflights without an API key, errors readable', async (t) => {
  const origin = 'https://app.example.org'
  const app = await buildTestApp(t, {}, parseConfig({ CORS_ORIGINS: origin, API_KEYS }))
  const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/recommendations', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' } })
  t.equal(preflight.statusCode, 204, 'a preflight needs no API key')
  t.match(preflight.headers, {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'Content-Type, X-API-Key, X-Request-Id',
    'access-control-max-age': '600',
    vary: /Origin/
  })
  t.equal(preflight.headers['access-control-allow-credentials'], undefined)
  const root = await app.inject({ method: 'OPTIONS', url: '/v1', headers: { origin } })
  t.equal(root.statusCode, 204)

  const answer = await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { origin, 'x-api-key': KEY_OPS } })
  t.equal(answer.statusCode, 200)
  t.equal(answer.headers['access-control-allow-origin'], origin)
  t.equal(answer.headers['access-control-expose-headers'], 'X-Request-Id, Retry-After')
  const refused = await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { origin } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.headers['access-control-allow-origin'], origin, 'a browser client can read the 401')

  const other = await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { origin: 'https://evil.example.org', 'x-api-key': KEY_OPS } })
  t.equal(other.headers['access-control-allow-origin'], undefined)
  t.match(other.headers.vary, /Origin/)
  const otherPreflight = await app.inject({ method: 'OPTIONS', url: '/v1/recommendations', headers: { origin: 'https://evil.example.org' } })
  t.equal(otherPreflight.statusCode, 204)
  t.equal(otherPreflight.headers['access-control-allow-methods'], undefined)
  const noOrigin = await app.inject({ method: 'GET', url: '/v1/rulesets', headers: { 'x-api-key': KEY_OPS } })
  t.equal(noOrigin.headers['access-control-allow-origin'], undefined)
})
