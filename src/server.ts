import { startServer } from './lifecycle.js'

/**
 * The only entry point that reads the environment and listens (src/lifecycle.ts does both, and the
 * graceful shutdown on SIGTERM/SIGINT within SHUTDOWN_GRACE_MS). A bad configuration, rule file or
 * port stops startup with its message (naming the variable, or the file and rule), not a stack trace.
 */
startServer(process.env).catch((error: unknown) => {
  process.stderr.write(`startup failed: ${(error as Error).message}\n`)
  process.exit(1)
})
