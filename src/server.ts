import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { parseConfig, type Config } from './config.js'

/**
 * The only entry point that reads the environment and listens. SIGTERM/SIGINT close the server
 * gracefully (in-flight requests finish, new ones get 503), with a hard stop after 10 s.
 */
const CLOSE_GRACE_MS = 10_000

function closeOnSignals (app: FastifyInstance): void {
  let closing = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (closing) return
      closing = true
      app.log.info({ signal }, 'shutting down')
      setTimeout(() => { process.exit(1) }, CLOSE_GRACE_MS).unref()
      app.close().then(() => { process.exit(0) }, (error: unknown) => {
        app.log.error({ err: error }, 'error while closing')
        process.exit(1)
      })
    })
  }
}

async function start (): Promise<void> {
  const config: Config = parseConfig(process.env)
  const app = await buildApp(config)
  closeOnSignals(app)
  await app.listen({ host: config.host, port: config.port })
}

// A bad configuration, rule file or port stops startup with its message (naming the variable, or
// the file and rule), not a stack trace.
start().catch((error: unknown) => {
  process.stderr.write(`startup failed: ${(error as Error).message}\n`)
  process.exit(1)
})
