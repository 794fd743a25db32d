import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'

// What a platform team checks in the image definition before running it (issue 9). The image
// itself is built and run by .ci/container in CI; this runs everywhere, without podman.

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')
const dockerfile = read('Dockerfile')
const compose = read('compose.yaml')
const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line))

/** The HEALTHCHECK's exec-form command, as the engine runs it. */
function healthcheckCommand (): string[] {
  const match = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile)
  if (match === null) throw new Error('no exec-form HEALTHCHECK in the Dockerfile')
  return JSON.parse(match[1] as string) as string[]
}

t.test('Dockerfile: what the builder and the cluster rely on', async (t) => {
  t.notMatch(dockerfile, /^#\s*syntax\s*=/m, 'no # syntax= line: it makes the builder pull an image')
  t.match(instructions[0], /^ARG BASE=docker\.io\/library\/node:22[\w.-]*-slim$/, 'the base is an ARG, the official Node 22 slim image by default')
  const froms = instructions.filter((line) => line.startsWith('FROM '))
  for (const from of froms) t.match(from, /^FROM (\$\{BASE\}|deps) AS [a-z-]+$/, `${from}: built on BASE`)
  const users = instructions.filter((line) => line.startsWith('USER '))
  t.same(users, ['USER 1000:1000'], 'a numeric user and group (runAsNonRoot can only check a number)')
  t.equal(instructions.at(-1), 'CMD ["node", "--max-semi-space-size=16", "dist/server.js"]', 'node itself is PID 1, not npm')
  t.match(dockerfile, /^ENV NODE_ENV=production \\\n\s+CDS_HOOKS_JWT=on \\/m, 'production, with the JWT switch production requires')
})

t.test('.dockerignore lets in every path the Dockerfile copies from the context, and nothing else', async (t) => {
  const allowed = read('.dockerignore').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1))
  t.equal(read('.dockerignore').split('\n').find((line) => line !== '' && !line.startsWith('#')), '*', 'an allow-list')
  const copied = instructions.filter((line) => line.startsWith('COPY ') && !line.startsWith('COPY --from'))
    .flatMap((line) => line.split(/\s+/).slice(1, -1))
  t.same([...new Set(copied)].sort(), allowed.sort())
})

t.test('compose.yaml runs the image as CI does', async (t) => {
  for (const setting of ['read_only: true', 'cap_drop: [ALL]', 'security_opt: [no-new-privileges:true]']) {
    t.equal(compose.split('\n').filter((line) => line.trim() === setting).length, 2, `${setting} for both services`)
  }
  t.match(compose, /^\s+REDIS_URL: redis:\/\/redis:6379$/m)
  t.match(compose, /^\s+image: docker\.io\/library\/redis:7$/m)
  // The engine's kill comes after the service's 8 s shutdown grace.
  t.match(compose, /^\s+stop_grace_period: 10s$/m)
  const restated = /^\s+test: (\["CMD", "node".*\])$/m.exec(compose)
  t.ok(restated, 'the service healthcheck is restated')
  // $$ is compose's escape for a literal $.
  t.same(JSON.parse((restated?.[1] ?? '[]').replaceAll('$$', '$')), ['CMD', ...healthcheckCommand()], 'the same probe as the image')
})

const execFileAsync = promisify(execFile)

/** Runs the HEALTHCHECK command as the engine would, with HOST and PORT as given; its exit code. */
async function probe (env: Record<string, string | undefined>): Promise<number> {
  const [, ...args] = healthcheckCommand()
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '' }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value
  try {
    await execFileAsync(process.execPath, args, { env: childEnv, timeout: 10_000 })
    return 0
  } catch (error) {
    return (error as { code: number }).code
  }
}

/** A stand-in for /health/ready on `host`, or undefined where this machine cannot listen there (no IPv6). */
async function readyServer (t: Test, host: string, status = 200): Promise<number | undefined> {
  const server: Server = createServer((request, response) => {
    response.statusCode = request.url === '/health/ready' ? status : 404
    response.end()
  })
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => { resolve(false) })
    server.listen(0, host, () => { resolve(true) })
  })
  if (!listening) return undefined
  t.teardown(() => { server.close() })
  return (server.address() as AddressInfo).port
}

t.test('HEALTHCHECK probes where the server listens, whatever HOST is', async (t) => {
  const cases: Array<{ host: string | undefined, listen: string }> = [
    { host: '0.0.0.0', listen: '0.0.0.0' },
    { host: undefined, listen: '127.0.0.1' },
    { host: '::', listen: '::' },
    { host: '127.0.0.1', listen: '127.0.0.1' },
    { host: '::1', listen: '::1' },
    { host: 'localhost', listen: 'localhost' }
  ]
  for (const { host, listen } of cases) {
    const port = await readyServer(t, listen)
    if (port === undefined) {
      t.comment(`cannot listen on ${listen} here (no IPv6?): HOST=${String(host)} not probed`)
      continue
    }
    t.equal(await probe({ HOST: host, PORT: String(port) }), 0, `HOST=${String(host)}: healthy`)
  }
})

t.test('HEALTHCHECK fails when the service is not ready or not there', async (t) => {
  const notReady = await readyServer(t, '127.0.0.1', 503)
  t.equal(await probe({ HOST: '0.0.0.0', PORT: String(notReady) }), 1, '503: unhealthy')
  // The server listens on 127.0.0.1 only: HOST names another loopback address.
  const elsewhere = await readyServer(t, '127.0.0.1')
  t.equal(await probe({ HOST: '127.0.0.2', PORT: String(elsewhere) }), 1, 'nothing listening on HOST: unhealthy')
})
