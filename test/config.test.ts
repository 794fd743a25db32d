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
  t.throws(() => parseConfig({ REDIS_URL: 'http://redis.example.org' }), /REDIS_URL/, 'redis:// or rediss:// only')
  t.throws(() => parseConfig({ REDIS_URL: 'redis.example.org:6379' }), /REDIS_URL/)
  t.throws(() => parseConfig({ RATE_LIMIT_MAX: '-1' }), /RATE_LIMIT_MAX/)
  t.throws(() => parseConfig({ RATE_LIMIT_WINDOW_MS: '10' }), /RATE_LIMIT_WINDOW_MS/, 'a window under a second')
})
