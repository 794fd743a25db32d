import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { RULE_RUNNER_NAMES } from './engine/rule-runners.js'

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
  RULES_EVALUATOR: z.enum(RULE_RUNNER_NAMES).default('compiled')
}).transform((env) => ({
  host: env.HOST,
  port: env.PORT,
  logLevel: env.LOG_LEVEL,
  rulesDir: env.RULES_DIR,
  evaluator: env.RULES_EVALUATOR
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
