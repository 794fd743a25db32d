import { buildApp } from './app.js'
import { parseConfig } from './config.js'

/**
 * The only entry point that reads the environment and listens. SIGTERM/SIGINT close the server
 * gracefully (in-flight requests finish, new ones get 503), with a hard stop after 10 s.
 */
const CLOSE_GRACE_MS = 10_000

const config = parseConfig(process.env)
const app = await buildApp(config)

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

await app.listen({ host: config.host, port: config.port })
