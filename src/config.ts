import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { RULE_RUNNER_NAMES } from './engine/rule-runners.js'
import { IsoDate } from './schemas/common.js'

/**
 * The service's configuration, read from the environment by server.ts only. A bad value stops
 * startup with a message naming the variable. Every variable is documented in the README.
 */

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../rules/', import.meta.url))

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
