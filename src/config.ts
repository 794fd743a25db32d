import { isIP } from 'node:net'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { RULE_RUNNER_NAMES } from './engine/rule-runners.js'
import { IsoDate } from './schemas/common.js'

/**
 * The service's configuration, read from the environment by server.ts only. A bad value stops
 * startup with a message naming the variable. Every variable is documented in the README.
 */

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../rules/', import.meta.url))

/** An API key of /v1 as configured: its id (logged, rate-limited by) and the SHA-256 of the key, never the key. */
export interface ApiKeyHash { id: string, sha256: string }

const API_KEY_ENTRY = /^([A-Za-z0-9._-]{1,64}):([0-9a-fA-F]{64})$/

/**
 * API_KEYS: comma-separated `id:sha256hex`. A bad entry is named by its position only: an operator
 * who pasted a key instead of its hash must not find the key in a startup log.
 */
const ApiKeys = z.string().default('').transform((value, context): ApiKeyHash[] => {
  const keys: ApiKeyHash[] = []
  for (const [index, entry] of value.split(',').map((item) => item.trim()).filter((item) => item !== '').entries()) {
    const match = API_KEY_ENTRY.exec(entry)
    if (match === null) {
      context.addIssue({ code: 'custom', message: `entry ${index + 1} is not id:sha256hex (an id of letters, digits, ".", "_" or "-", a colon, and the 64 hex digits of the key's SHA-256 — never the key itself)` })
      continue
    }
    const id = match[1] as string
    const sha256 = match[2] as string
    if (keys.some((key) => key.id === id)) context.addIssue({ code: 'custom', message: `entry ${index + 1} repeats the id ${id}` })
    if (keys.some((key) => key.sha256 === sha256.toLowerCase())) context.addIssue({ code: 'custom', message: `entry ${index + 1} repeats the hash of another entry` })
    keys.push({ id, sha256: sha256.toLowerCase() })
  }
  return keys
})

/** The named ranges of proxy-addr (Fastify's trustProxy). */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isAddressOrRange (item: string): boolean {
  if (PROXY_RANGE_NAMES.has(item) || isIP(item) !== 0) return true
  const parts = item.split('/')
  if (parts.length !== 2) return false
  const [address, bits] = parts as [string, string]
  const family = isIP(address)
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/**
 * TRUST_PROXY: unset (trust no proxy: request.ip is the peer), a hop count, or the gateway's
 * addresses and CIDR ranges. Trusting every proxy is refused: any client could then choose the
 * address it is rate-limited and logged by.
 */
const TrustProxy = z.string().default('').transform((value, context): false | number | string[] => {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (items.length === 0) return false
  if (items.length === 1 && /^\d+$/.test(items[0] as string)) {
    const hops = Number(items[0])
    if (hops >= 1 && hops <= 10) return hops
    context.addIssue({ code: 'custom', message: 'a hop count is between 1 and 10' })
    return z.NEVER
  }
  const bad = items.filter((item) => !isAddressOrRange(item))
  if (bad.length > 0) {
    context.addIssue({ code: 'custom', message: `not an address, a CIDR range, loopback, linklocal or uniquelocal: ${bad.join(', ')} (trusting every proxy is not offered: any client could then choose its address)` })
    return z.NEVER
  }
  return items
})

/** The environment variables, and the `Config` the service reads (a new variable is added here only). */
export const ConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RULES_DIR: z.string().min(1).default(DEFAULT_RULES_DIR),
  RULES_EVALUATOR: z.enum(RULE_RUNNER_NAMES).default('compiled'),
  NODE_ENV: z.string().optional(),
  // EHR integration (spec/ehr-integration.md §11).
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  CDS_HOOKS_JWT: z.enum(['on', 'off']).default('off'),
  CDS_CLIENTS_FILE: z.string().min(1).optional(),
  CDS_DISCOVERY_AUTH: z.enum(['required', 'optional']).default('required'),
  JWT_ALGORITHMS: z.string().default('ES384,RS384'),
  JWT_MAX_LIFETIME_S: z.coerce.number().int().min(1).max(3600).default(600),
  JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
  JWT_REPLAY_CACHE_MAX: z.coerce.number().int().min(1).default(100000),
  FHIR_FETCH_BUDGET_MS: z.coerce.number().int().min(1).max(60000).default(2000),
  FHIR_FETCH_MAX_PAGES: z.coerce.number().int().min(1).max(100).default(5),
  CORS_ORIGINS: z.string().default(''),
  KB_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  FEEDBACK_CARD_TTL_H: z.coerce.number().int().min(1).max(24 * 365).default(168),
  EVALUATION_DATE: IsoDate.optional(),
  // Below the usual 10 s stop timeout (Docker, Kubernetes), so that a drain never races the kill.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(1).max(600_000).default(8000),
  // Hardening behind a gateway (README "Configuration").
  TRUST_PROXY: TrustProxy,
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(72_000),
  API_KEYS: ApiKeys,
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(500),
  PRESSURE_MAX_HEAP_USED_MB: z.coerce.number().int().min(0).optional(),
  // Shared state and rate limit (issue 9): memory unless REDIS_URL is set.
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(1000),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000)
}).transform((env) => ({
  host: env.HOST,
  port: env.PORT,
  logLevel: env.LOG_LEVEL,
  rulesDir: env.RULES_DIR,
  evaluator: env.RULES_EVALUATOR,
  production: env.NODE_ENV === 'production',
  shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  /** Fastify's server options (src/plugins/security.ts serverOptions explains each default). */
  server: {
    trustProxy: env.TRUST_PROXY,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: env.CONNECTION_TIMEOUT_MS,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS
  },
  /** /v1 needs one of these keys (X-API-Key) when any is configured; none: /v1 is open (a gateway authenticates). */
  apiKeys: env.API_KEYS,
  /** 503 + Retry-After past these (0 turns a check off); the heap threshold defaults to 90 % of V8's heap limit. */
  loadShedding: {
    maxEventLoopDelayMs: env.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedMb: env.PRESSURE_MAX_HEAP_USED_MB
  },
  cdsHooks: {
    /** PUBLIC_BASE_URL without a trailing slash: the `aud` of every CDS Hooks JWT (§10.1 step 5). */
    publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    jwt: env.CDS_HOOKS_JWT === 'on',
    clientsFile: env.CDS_CLIENTS_FILE,
    discoveryAuth: env.CDS_DISCOVERY_AUTH,
    jwtAlgorithms: env.JWT_ALGORITHMS.split(',').map((alg) => alg.trim()).filter((alg) => alg !== ''),
    jwtMaxLifetimeS: env.JWT_MAX_LIFETIME_S,
    jwtClockToleranceS: env.JWT_CLOCK_TOLERANCE_S,
    jwtReplayCacheMax: env.JWT_REPLAY_CACHE_MAX,
    fhirFetchBudgetMs: env.FHIR_FETCH_BUDGET_MS,
    fhirFetchMaxPages: env.FHIR_FETCH_MAX_PAGES,
    corsOrigins: env.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''),
    kbPublicUrl: env.KB_PUBLIC_URL,
    feedbackCardTtlH: env.FEEDBACK_CARD_TTL_H,
    evaluationDate: env.EVALUATION_DATE
  },
  /** The shared store: Redis when redisUrl is set (several replicas), else memory. */
  store: { redisUrl: env.REDIS_URL },
  /** Requests per client and window; max 0 turns the limiter off. */
  rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS }
}))

export type Config = z.output<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function parseConfig (env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  return result.data
}
