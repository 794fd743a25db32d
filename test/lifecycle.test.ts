import http from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config.js'
import { closeGracefully, startServer } from '../src/lifecycle.js'
import { captureLogs } from './fixtures/build-app.js'
import { knowledgeBase } from './fixtures/engine.js'

/**
 * Graceful shutdown, in-process: a real server on a loopback port, the signal handlers close-with-grace
 * installs called as the signal would call them, and process.exit replaced by a recorder (the test
 * process must not exit; src/server.ts is never spawned).
 */

const EVENTS = ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection', 'beforeExit'] as const
type ProcessEvent = typeof EVENTS[number]
type Listener = (...args: unknown[]) => void

interface ProcessGuard {
  exits: number[]
  /** Resolves with the first exit code. */
  exited: Promise<{ code: number, at: number }>
  /** The listeners added to `event` since the guard was made (close-with-grace's). */
  added: (event: ProcessEvent) => Listener[]
}

/** Records process.exit instead of exiting, and removes every process listener the test added. */
function guardProcess (t: Test): ProcessGuard {
  const exit = process.exit
  // A real signal (tap ending a test that timed out) must still end the process: the tests call
  // close-with-grace's listeners directly, never through a signal, so this one only hears real ones.
  const realSignal = (): void => { exit(1) }
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.on(name, realSignal)
  const listeners = (event: ProcessEvent): Listener[] => process.listeners(event as NodeJS.Signals) as Listener[]
  const before = new Map(EVENTS.map((event) => [event, listeners(event)]))
  const added = (event: ProcessEvent): Listener[] => listeners(event).filter((listener) => !(before.get(event) as Listener[]).includes(listener))
  const exits: number[] = []
  let recordExit: (value: { code: number, at: number }) => void = () => {}
  const exited = new Promise<{ code: number, at: number }>((resolve) => { recordExit = resolve })
  process.exit = ((code?: number) => {
    exits.push(code ?? 0)
    recordExit({ code: code ?? 0, at: performance.now() })
  }) as typeof process.exit
  t.teardown(() => {
    process.exit = exit
    for (const event of EVENTS) for (const listener of added(event)) process.removeListener(event, listener)
    for (const name of ['SIGTERM', 'SIGINT'] as const) process.removeListener(name, realSignal)
  })
  return { exits, exited, added }
}

interface SlowApp {
  app: FastifyInstance
  port: number
  lines: Array<Record<string, unknown>>
  /** Resolves when GET /slow is in its handler. */
  entered: Promise<void>
  /** Lets GET /slow answer. */
  release: () => void
}

/** The app with a GET /slow that answers when released, listening on a loopback port. */
async function slowApp (t: Test, graceMs: number, setup: (app: FastifyInstance) => void = () => {}): Promise<SlowApp & { shutdown: ReturnType<typeof closeGracefully> }> {
  const { lines, stream } = captureLogs()
  const app = await buildApp(parseConfig({}), { logger: { level: 'info', stream }, knowledgeBase })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let enter: () => void = () => {}
  const entered = new Promise<void>((resolve) => { enter = resolve })
  app.get('/slow', async () => {
    enter()
    await released
    return { done: true }
  })
  setup(app)
  const shutdown = closeGracefully(app, graceMs)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    release()
    shutdown.uninstall()
    await app.close()
  })
  return { app, port: (app.server.address() as AddressInfo).port, lines, entered, release, shutdown }
}

interface Answer { status: number, headers: http.IncomingHttpHeaders, body: string }

function get (port: number, path: string, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => { resolve({ status: response.statusCode as number, headers: response.headers, body }) })
    }).on('error', reject)
  })
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const started = performance.now()
  while (!condition()) {
    if (performance.now() - started > 5000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The one listener close-with-grace added for a signal, called as the signal would call it. */
function signal (guard: ProcessGuard, name: 'SIGTERM' | 'SIGINT'): number {
  const listeners = guard.added(name)
  if (listeners.length !== 1) throw new Error(`expected one ${name} listener, found ${listeners.length}`)
  const at = performance.now();
  (listeners[0] as Listener)(name)
  return at
}

t.test('SIGTERM: new connections are refused, the in-flight request completes, the process exits 0 within the grace', async (t) => {
  const guard = guardProcess(t)
  const graceMs = 3000
  const { app, port, lines, entered, release } = await slowApp(t, graceMs)
  const keepAlive = new http.Agent({ keepAlive: true })
  t.teardown(() => { keepAlive.destroy() })
  // An idle keep-alive connection must not hold the shutdown either.
  t.equal((await get(port, '/health/live', keepAlive)).status, 200)
  const inFlight = get(port, '/slow', keepAlive)
  await entered

  const signalled = signal(guard, 'SIGTERM')
  await until(() => !app.server.listening, 'the server to stop listening')
  await t.rejects(get(port, '/health/live'), { code: 'ECONNREFUSED' }, 'a new request is refused')
  t.strictSame(guard.exits, [], 'no exit while a request is in flight')

  release()
  const answer = await inFlight
  t.equal(answer.status, 200, 'the in-flight request completes')
  t.strictSame(JSON.parse(answer.body), { done: true })
  t.equal(answer.headers.connection, 'close', 'and closes its keep-alive connection, which would otherwise hold the close')
  const { code, at } = await guard.exited
  t.equal(code, 0)
  t.ok(at - signalled < graceMs, `exited ${Math.round(at - signalled)} ms after the signal, within the ${graceMs} ms grace`)
  t.strictSame(guard.exits, [0], 'once')
  t.match(lines.find((line) => line.msg === 'shutting down'), { signal: 'SIGTERM', graceMs })
  t.ok(lines.some((line) => line.msg === 'closed'))
})

t.test('a request that outlives the grace: the process exits 1 when the grace expires', async (t) => {
  const guard = guardProcess(t)
  const graceMs = 300
  const { port, lines, entered, release } = await slowApp(t, graceMs)
  const inFlight = get(port, '/slow')
  await entered
  const signalled = signal(guard, 'SIGINT')
  const { code, at } = await guard.exited
  t.equal(code, 1)
  const elapsed = at - signalled
  t.ok(elapsed >= graceMs - 5 && elapsed < graceMs + 1000, `exited ${Math.round(elapsed)} ms after the signal (grace ${graceMs} ms)`)
  t.match(lines.find((line) => line.msg === 'shutdown grace expired: exiting with requests in flight'), { level: 50, graceMs })
  release()
  t.equal((await inFlight).status, 200, 'the request still completes (the test process did not exit)')
})

t.test('a second signal while closing exits 1 at once', async (t) => {
  const guard = guardProcess(t)
  const { port, lines, entered, release } = await slowApp(t, 5000)
  const inFlight = get(port, '/slow')
  await entered
  signal(guard, 'SIGTERM')
  signal(guard, 'SIGTERM')
  t.strictSame(guard.exits, [1])
  t.match(lines.find((line) => line.msg === 'second signal: exiting now'), { signal: 'SIGTERM' })
  release()
  t.equal((await inFlight).status, 200, 'the request still completes (the test process did not exit)')
})

t.test('an uncaught error: logged, the app closed, exit 1; a second one exits 1 at once', async (t) => {
  const guard = guardProcess(t)
  const { app, port, lines, entered, release } = await slowApp(t, 5000)
  const inFlight = get(port, '/slow')
  await entered
  const [onError] = guard.added('uncaughtException')
  ;(onError as Listener)(new Error('boom'))
  await until(() => !app.server.listening, 'the server to stop listening')
  t.match(lines.find((line) => line.msg === 'uncaught error: shutting down'), { level: 60, err: { message: 'boom' } })
  const [again] = guard.added('uncaughtException')
  ;(again as Listener)(new Error('boom again'))
  t.strictSame(guard.exits, [1])
  t.match(lines.find((line) => line.msg === 'uncaught error while closing: exiting now'), { err: { message: 'boom again' } })
  release()
  t.equal((await inFlight).status, 200, 'the request still completes (the test process did not exit)')
})

t.test('an error while closing is logged, and the process exits 1', async (t) => {
  const guard = guardProcess(t)
  const { lines } = await slowApp(t, 5000, (app) => {
    app.addHook('preClose', async () => { throw new Error('store would not close') })
  })
  signal(guard, 'SIGTERM')
  const { code } = await guard.exited
  t.equal(code, 1)
  t.match(lines.find((line) => line.msg === 'error while closing'), { err: { message: 'store would not close' } })
})

t.test('startServer: reads the environment, listens, and installs the shutdown on SIGTERM/SIGINT', async (t) => {
  const guard = guardProcess(t)
  const { app, shutdown } = await startServer({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '2000' })
  t.teardown(async () => { shutdown.uninstall(); await app.close() })
  t.ok(app.server.listening)
  const { port } = app.server.address() as AddressInfo
  t.equal((await get(port, '/health/ready')).status, 200)
  t.equal(guard.added('SIGTERM').length, 1)
  t.equal(guard.added('SIGINT').length, 1)
  shutdown.close()
  t.equal((await guard.exited).code, 0)
  t.notOk(app.server.listening)
})

t.test('startServer: a port in use fails startup and leaves no handlers behind', async (t) => {
  const guard = guardProcess(t)
  const blocker = createServer()
  await new Promise<void>((resolve) => { blocker.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { blocker.close() })
  const { port } = blocker.address() as AddressInfo
  await t.rejects(startServer({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' }), { code: 'EADDRINUSE' })
  for (const event of EVENTS) t.strictSame(guard.added(event), [], `no ${event} listener left`)
  t.strictSame(guard.exits, [])
})

t.test('startServer: a bad configuration fails before anything is built', async (t) => {
  await t.rejects(startServer({ SHUTDOWN_GRACE_MS: '0' }), { name: 'ConfigError', message: /SHUTDOWN_GRACE_MS/ })
})
