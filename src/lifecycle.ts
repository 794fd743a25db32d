import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { parseConfig } from './config.js'

/**
 * The server's life: start (configuration from the environment, the app, the shutdown handlers,
 * listen) and graceful shutdown. src/server.ts only calls startServer; the tests call both in-process.
 */

export interface GracefulShutdown {
  /** Starts the shutdown as a signal would (then exits). */
  close: () => void
  /** Removes the signal and error handlers (tests). */
  uninstall: () => void
}

/** The responses not yet finished, from the server's own `request` events (framework-free). */
function trackResponses (server: Server): Set<ServerResponse> {
  const inFlight = new Set<ServerResponse>()
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight.add(response)
    response.once('close', () => { inFlight.delete(response) })
  })
  return inFlight
}

/**
 * On SIGTERM or SIGINT (or an uncaught error), close-with-grace runs app.close(): the server stops
 * accepting connections, closes idle keep-alive ones, answers a new request on a busy connection with
 * 503, lets in-flight requests finish (their responses with `Connection: close`) and runs the onClose hooks (stores); then the process exits 0
 * (1 after an uncaught error). Past `graceMs` it exits 1 with whatever is still running; a second
 * signal exits at once. The grace defaults to 8 s, below the usual 10 s stop timeout, so that the
 * drain ends before the orchestrator's SIGKILL.
 */
export function closeGracefully (app: FastifyInstance, graceMs: number): GracefulShutdown {
  const inFlight = trackResponses(app.server)
  return closeWithGrace({
    delay: graceMs,
    // Used when app.close() itself fails.
    logger: { error: (error: unknown) => { app.log.error({ err: error }, 'error while closing') } },
    onTimeout: (delay) => { app.log.error({ graceMs: delay }, 'shutdown grace expired: exiting with requests in flight') },
    onSecondSignal: (signal) => { app.log.warn({ signal }, 'second signal: exiting now') },
    onSecondError: (error) => { app.log.error({ err: error }, 'uncaught error while closing: exiting now') }
  }, async ({ signal, err }) => {
    if (err === undefined) app.log.info({ signal, graceMs }, 'shutting down')
    else app.log.fatal({ err }, 'uncaught error: shutting down')
    // A response still to be written closes its connection: a keep-alive connection left open would
    // hold app.close() (and the exit) until its keep-alive timeout, past the grace.
    for (const response of inFlight) if (!response.headersSent) response.setHeader('connection', 'close')
    await app.close()
    app.log.info('closed')
  })
}

/** Reads the configuration from the environment, builds the app, installs the shutdown handlers and listens. */
export async function startServer (env: Record<string, string | undefined>): Promise<{ app: FastifyInstance, shutdown: GracefulShutdown }> {
  const config = parseConfig(env)
  const app = await buildApp(config)
  const shutdown = closeGracefully(app, config.shutdownGraceMs)
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    // A port in use: no handlers left behind (the caller reports the error and exits).
    shutdown.uninstall()
    await app.close()
    throw error
  }
  return { app, shutdown }
}
