import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer, Socket } from 'node:net'
import type { Test } from 'tap'
import { RedisStore, type StoreLogger } from '../../src/stores/redis.js'

/**
 * The Redis of the tests. `.ci/run` starts a redis-server on 127.0.0.1:6390 and exports
 * REDIS_TEST_URL; locally, start one the same way (`redis-server --port 6390 --save '' --appendonly no
 * --daemonize yes`) or the Redis tests skip with a message. Under CI=true an unreachable Redis (or a
 * missing redis-server binary) is a failure, never a skip.
 *
 * Tests never flush the database: each one uses keys of its own (a random key prefix, client address or
 * jti), so that test files may run in parallel against one Redis.
 */

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6390'
const IN_CI = process.env.CI === 'true'

/** Whether something at `url` answers PING with PONG within a second (a raw socket: no client library involved). */
export async function redisAnswers (url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return await new Promise<boolean>((resolve) => {
    const socket = new Socket()
    const done = (answer: boolean): void => { socket.destroy(); resolve(answer) }
    socket.setTimeout(1000, () => { done(false) })
    socket.once('error', () => { done(false) })
    socket.once('data', (data) => { done(data.toString('latin1').startsWith('+PONG')) })
    socket.connect(Number(port === '' ? 6379 : port), hostname, () => socket.write('PING\r\n'))
  })
}

const reachable = await redisAnswers(REDIS_TEST_URL)
const why = `no Redis answers at ${REDIS_TEST_URL} (set REDIS_TEST_URL, or start redis-server --port 6390 --save '' --appendonly no --daemonize yes)`

/** For `t.test(name, { skip: redisSkip }, …)`: the reason locally, false when reachable or under CI (then redisUrlOrFail fails the test). */
export const redisSkip: string | false = reachable || IN_CI ? false : why

/** The test Redis's URL; undefined (and the test failed under CI, skipped with a message locally) when it does not answer. */
export function redisUrlOrSkip (t: Test): string | undefined {
  if (reachable) return REDIS_TEST_URL
  if (IN_CI) t.fail(`${why}: the Redis tests must run under CI=true`)
  else t.comment(`skipped: ${why}`)
  return undefined
}

/** A logger that keeps what the store says. */
export function storeLog (): StoreLogger & { lines: Array<{ level: 'info' | 'warn', fields: Record<string, unknown>, message: string }> } {
  const lines: Array<{ level: 'info' | 'warn', fields: Record<string, unknown>, message: string }> = []
  return {
    lines,
    info: (fields, message) => { lines.push({ level: 'info', fields, message }) },
    warn: (fields, message) => { lines.push({ level: 'warn', fields, message }) }
  }
}

/** A RedisStore on `url` with keys of this test only, closed after the test. */
export async function testRedisStore (t: Test, url: string, options: { log?: StoreLogger, commandTimeoutMs?: number } = {}): Promise<RedisStore> {
  const store = await RedisStore.connect(url, { log: options.log ?? storeLog(), keyPrefix: `test:${randomUUID()}:`, ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }) })
  t.teardown(async () => { await store.close() })
  return store
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function freePort (): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

export const redisServerInstalled = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

/** For `t.test(name, { skip: redisServerSkip }, …)`: tests that start and stop a redis-server of their own. */
export const redisServerSkip: string | false = redisServerInstalled || IN_CI ? false : 'redis-server is not installed (apt-get install redis-server)'

/**
 * A redis-server of the test's own on a free loopback port (no persistence), which the test may stop,
 * start again on the same port, pause (SIGSTOP: connected but silent) and resume. Killed after the test.
 */
export interface OwnRedis {
  url: string
  start: () => Promise<void>
  stop: () => Promise<void>
  pause: () => void
  resume: () => void
}

export async function ownRedis (t: Test): Promise<OwnRedis | undefined> {
  if (!redisServerInstalled) {
    t.fail('redis-server is not installed: the Redis tests must run under CI=true')
    return undefined
  }
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const own: OwnRedis = {
    url,
    async start () {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
      for (let attempt = 0; attempt < 100 && !await redisAnswers(url); attempt++) await new Promise((resolve) => setTimeout(resolve, 50))
    },
    async stop () {
      const running = child
      if (running === undefined) return
      child = undefined
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGKILL')
      await exited
    },
    pause () { child?.kill('SIGSTOP') },
    resume () { child?.kill('SIGCONT') }
  }
  await own.start()
  t.teardown(async () => { await own.stop() })
  return own
}
