import t from 'tap'
import { ConfigError, DEFAULT_RULES_DIR, parseConfig } from '../src/config.js'

t.test('defaults: loopback, port 3000, info logs, bundled rules, compiled evaluator; CDS Hooks as spec §11 says', async (t) => {
  t.strictSame(parseConfig({}), {
    host: '127.0.0.1',
    port: 3000,
    logLevel: 'info',
    rulesDir: DEFAULT_RULES_DIR,
    evaluator: 'compiled',
    production: false,
    shutdownGraceMs: 8000,
    server: { trustProxy: false, requestTimeoutMs: 30_000, connectionTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000 },
    apiKeys: [],
    loadShedding: { maxEventLoopDelayMs: 500, maxHeapUsedMb: undefined },
    cdsHooks: {
      publicBaseUrl: undefined,
      jwt: false,
      clientsFile: undefined,
      discoveryAuth: 'required',
      jwtAlgorithms: ['ES384', 'RS384'],
      jwtMaxLifetimeS: 600,
      jwtClockToleranceS: 30,
      jwtReplayCacheMax: 100000,
      fhirFetchBudgetMs: 2000,
      fhirFetchMaxPages: 5,
      corsOrigins: [],
      kbPublicUrl: undefined,
      feedbackCardTtlH: 168,
      evaluationDate: undefined
    },
    store: { redisUrl: undefined },
    rateLimit: { max: 1000, windowMs: 60000 }
  })
})

t.test('every variable is read', async (t) => {
  const config = parseConfig({
    HOST: '0.0.0.0',
    PORT: '8080',
    LOG_LEVEL: 'warn',
    RULES_DIR: '/srv/rules',
    RULES_EVALUATOR: 'reference',
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://cds.example.org/',
    CDS_HOOKS_JWT: 'on',
    CDS_CLIENTS_FILE: '/etc/cds/clients.json',
    CDS_DISCOVERY_AUTH: 'optional',
    JWT_ALGORITHMS: 'ES384, RS384,',
    JWT_MAX_LIFETIME_S: '300',
    JWT_CLOCK_TOLERANCE_S: '10',
    JWT_REPLAY_CACHE_MAX: '5000',
    FHIR_FETCH_BUDGET_MS: '1500',
    FHIR_FETCH_MAX_PAGES: '3',
    CORS_ORIGINS: 'https://a.example.org, https://b.example.org',
    KB_PUBLIC_URL: 'https://kb.example.org/',
    FEEDBACK_CARD_TTL_H: '24',
    EVALUATION_DATE: '2026-03-01',
    SHUTDOWN_GRACE_MS: '5000',
    TRUST_PROXY: '10.0.0.0/8, 192.0.2.1, ::1, fd00::/8, loopback',
    REQUEST_TIMEOUT_MS: '20000',
    CONNECTION_TIMEOUT_MS: '45000',
    KEEP_ALIVE_TIMEOUT_MS: '65000',
    API_KEYS: `ops:${'a'.repeat(64)}, ehr-1.b_c:${'B'.repeat(64)},`,
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '250',
    PRESSURE_MAX_HEAP_USED_MB: '1536',
    REDIS_URL: 'rediss://:secret@redis.example.org:6380/2',
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_WINDOW_MS: '1000'
  })
  t.strictSame(config, {
    host: '0.0.0.0',
    port: 8080,
    logLevel: 'warn',
    rulesDir: '/srv/rules',
    evaluator: 'reference',
    production: true,
    shutdownGraceMs: 5000,
    server: { trustProxy: ['10.0.0.0/8', '192.0.2.1', '::1', 'fd00::/8', 'loopback'], requestTimeoutMs: 20_000, connectionTimeoutMs: 45_000, keepAliveTimeoutMs: 65_000 },
    apiKeys: [{ id: 'ops', sha256: 'a'.repeat(64) }, { id: 'ehr-1.b_c', sha256: 'b'.repeat(64) }],
    loadShedding: { maxEventLoopDelayMs: 250, maxHeapUsedMb: 1536 },
    cdsHooks: {
      publicBaseUrl: 'https://cds.example.org',
      jwt: true,
      clientsFile: '/etc/cds/clients.json',
      discoveryAuth: 'optional',
      jwtAlgorithms: ['ES384', 'RS384'],
      jwtMaxLifetimeS: 300,
      jwtClockToleranceS: 10,
      jwtReplayCacheMax: 5000,
      fhirFetchBudgetMs: 1500,
      fhirFetchMaxPages: 3,
      corsOrigins: ['https://a.example.org', 'https://b.example.org'],
      kbPublicUrl: 'https://kb.example.org/',
      feedbackCardTtlH: 24,
      evaluationDate: '2026-03-01'
    },
    store: { redisUrl: 'rediss://:secret@redis.example.org:6380/2' },
    rateLimit: { max: 0, windowMs: 1000 }
  })
})

t.test('a bad value stops startup naming the variable', async (t) => {
  t.throws(() => parseConfig({ PORT: '70000' }), ConfigError)
  t.throws(() => parseConfig({ RULES_EVALUATOR: 'fast' }), /RULES_EVALUATOR/)
  t.throws(() => parseConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
  t.throws(() => parseConfig({ JWT_MAX_LIFETIME_S: '7200' }), /JWT_MAX_LIFETIME_S/, 'the CDS Hooks best practice caps a token at one hour')
  t.throws(() => parseConfig({ PUBLIC_BASE_URL: 'ftp://cds.example.org' }), /PUBLIC_BASE_URL/)
  t.throws(() => parseConfig({ EVALUATION_DATE: '2026-02-30' }), /EVALUATION_DATE/)
  t.throws(() => parseConfig({ CDS_HOOKS_JWT: 'yes' }), /CDS_HOOKS_JWT/)
  t.throws(() => parseConfig({ SHUTDOWN_GRACE_MS: '0' }), /SHUTDOWN_GRACE_MS/, 'a grace of 0 would kill every in-flight request')
  t.throws(() => parseConfig({ SHUTDOWN_GRACE_MS: '8s' }), /SHUTDOWN_GRACE_MS/)
})

t.test('TRUST_PROXY: addresses, CIDR ranges, named ranges or a hop count; never "trust everyone"', async (t) => {
  t.equal(parseConfig({ TRUST_PROXY: ' 2 ' }).server.trustProxy, 2)
  t.equal(parseConfig({ TRUST_PROXY: ' , ' }).server.trustProxy, false)
  t.throws(() => parseConfig({ TRUST_PROXY: '0' }), /TRUST_PROXY: a hop count is between 1 and 10/)
  t.throws(() => parseConfig({ TRUST_PROXY: '11' }), /TRUST_PROXY: a hop count/)
  t.throws(() => parseConfig({ TRUST_PROXY: 'true' }), /TRUST_PROXY: not an address.*: true \(trusting every proxy is not offered/)
  for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', 'gateway/8', '10.0.0.0/x', '10.0.0.0/', '*']) {
    t.throws(() => parseConfig({ TRUST_PROXY: `10.0.0.1,${bad}` }), new RegExp(`TRUST_PROXY: .*${bad.replace(/[*/.]/g, '\\$&')}`), bad)
  }
})

t.test('API_KEYS: id:sha256hex entries; a bad entry is named by position, never echoed', async (t) => {
  const hash = 'c'.repeat(64)
  t.strictSame(parseConfig({ API_KEYS: '' }).apiKeys, [])
  const pasted = 'my-raw-secret-key'
  const error = t.throws(() => parseConfig({ API_KEYS: `ops:${hash},ehr:${pasted}` })) as Error
  t.match(error.message, /API_KEYS: entry 2 is not id:sha256hex/)
  t.notMatch(error.message, new RegExp(pasted), 'a pasted key is never echoed')
  t.throws(() => parseConfig({ API_KEYS: `${hash}` }), /entry 1 is not id:sha256hex/, 'a hash without an id')
  t.throws(() => parseConfig({ API_KEYS: `o p:${hash}` }), /entry 1 is not/, 'an id with a space')
  t.throws(() => parseConfig({ API_KEYS: `ops:${hash},ops:${'d'.repeat(64)}` }), /entry 2 repeats the id ops/)
  t.throws(() => parseConfig({ API_KEYS: `ops:${hash},ehr:${hash.toUpperCase()}` }), /entry 2 repeats the hash of another entry/)
})

t.test('timeouts and pressure thresholds are bounded', async (t) => {
  t.throws(() => parseConfig({ KEEP_ALIVE_TIMEOUT_MS: '0' }), /KEEP_ALIVE_TIMEOUT_MS/, 'keep-alive cannot be turned off (Fastify would take its default)')
  t.throws(() => parseConfig({ REQUEST_TIMEOUT_MS: '-1' }), /REQUEST_TIMEOUT_MS/)
  t.throws(() => parseConfig({ CONNECTION_TIMEOUT_MS: '600001' }), /CONNECTION_TIMEOUT_MS/)
  t.throws(() => parseConfig({ PRESSURE_MAX_HEAP_USED_MB: '1.5' }), /PRESSURE_MAX_HEAP_USED_MB/)
  t.throws(() => parseConfig({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: 'x' }), /PRESSURE_MAX_EVENT_LOOP_DELAY_MS/)
})

t.test('REDIS_URL and the rate limit are checked', async (t) => {
  t.throws(() => parseConfig({ REDIS_URL: 'http://redis.example.org' }), /REDIS_URL/, 'redis:// or rediss:// only')
  t.throws(() => parseConfig({ REDIS_URL: 'redis.example.org:6379' }), /REDIS_URL/)
  t.throws(() => parseConfig({ RATE_LIMIT_MAX: '-1' }), /RATE_LIMIT_MAX/)
  t.throws(() => parseConfig({ RATE_LIMIT_WINDOW_MS: '10' }), /RATE_LIMIT_WINDOW_MS/, 'a window under a second')
})
