// What .ci/container asks of the running image, over HTTP (Node only: no curl on a clean machine).
//
//   node .ci/container-probe.mjs ready URL TIMEOUT_MS        → ms until URL answers 200
//   node .ci/container-probe.mjs examples BASE_URL DIR       → every example case answers as expected
//   node .ci/container-probe.mjs register-ehr DIR ISS        → DIR/clients.json + DIR/ehr-key.pem
//   node .ci/container-probe.mjs discovery BASE_URL DIR AUD  → CDS Hooks discovery: 401 without, 200 with a token, 401 replayed
//
// The EHR is made up for the run: a fresh ES384 key (production refuses the published test keys and
// issuers, spec/ehr-integration.md §10.2), registered through a clients file mounted read-only.
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const KID = 'ci-ehr-1'

async function ready (url, timeoutMs) {
  const started = performance.now()
  let last = 'no answer'
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (response.status === 200) return `${Math.round(performance.now() - started)} ms`
      last = `status ${response.status}`
    } catch (error) {
      last = error.cause?.code ?? error.name
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (last: ${last})`)
}

/** The example's `expect` that a served response must meet: scope, codes, options (the full language runs in npm test). */
function failures (body, expect) {
  const found = []
  if (expect.scope !== undefined && body.scope?.inScope !== expect.scope) found.push(`scope.inScope is ${body.scope?.inScope}`)
  const codes = new Set(body.recommendations.map((item) => item.code))
  for (const code of expect.codes ?? []) if (!codes.has(code)) found.push(`code ${code} missing`)
  for (const { code, id } of expect.options ?? []) {
    const offered = body.recommendations.some((item) => item.code === code && (item.options ?? []).some((option) => option.id === id))
    if (!offered) found.push(`no ${code} item offers ${id}`)
  }
  return found
}

async function examples (baseUrl, dir) {
  const files = readdirSync(dir).filter((file) => file.endsWith('.json')).sort()
  if (files.length === 0) throw new Error(`no example case in ${dir}`)
  const lines = []
  for (const file of files) {
    const example = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    const started = performance.now()
    const response = await fetch(`${baseUrl}/v1/recommendations`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(example.case)
    })
    const ms = (performance.now() - started).toFixed(1)
    const body = await response.json()
    if (response.status !== 200) throw new Error(`${file}: status ${response.status}: ${JSON.stringify(body)}`)
    if (!Array.isArray(body.recommendations)) throw new Error(`${file}: no recommendations array`)
    const missed = failures(body, example.expect ?? {})
    if (missed.length > 0) throw new Error(`${file}: ${missed.join('; ')}`)
    lines.push(`${file}: 200, ${body.recommendations.length} recommendations, ${ms} ms`)
  }
  return lines.join('\n')
}

function registerEhr (dir, iss) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  writeFileSync(join(dir, 'ehr-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES384', use: 'sig' }
  const clients = [{ iss, jwks: { keys: [jwk] } }]
  // Read by uid 1000 in the container.
  writeFileSync(join(dir, 'clients.json'), JSON.stringify(clients, null, 2) + '\n', { mode: 0o644 })
  return `${iss} registered with key ${KID}`
}

const base64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

function token (dir, aud) {
  const iss = JSON.parse(readFileSync(join(dir, 'clients.json'), 'utf8'))[0].iss
  const now = Math.floor(Date.now() / 1000)
  const signingInput = `${base64url({ alg: 'ES384', typ: 'JWT', kid: KID })}.${base64url({ iss, sub: 'ci', aud, iat: now, exp: now + 300, jti: randomUUID() })}`
  const key = createPrivateKey(readFileSync(join(dir, 'ehr-key.pem')))
  const signature = sign('sha384', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' })
  return `${signingInput}.${signature.toString('base64url')}`
}

async function discovery (baseUrl, dir, aud) {
  const without = await fetch(`${baseUrl}/cds-services`)
  if (without.status !== 401) throw new Error(`discovery without a token: status ${without.status}, expected 401`)
  const headers = { authorization: `Bearer ${token(dir, aud)}` }
  const withToken = await fetch(`${baseUrl}/cds-services`, { headers })
  const body = await withToken.json()
  if (withToken.status !== 200) throw new Error(`discovery with a token: status ${withToken.status}: ${JSON.stringify(body)}`)
  // The (iss, jti) replay cache: in memory, or in Redis with REDIS_URL.
  const replayed = await fetch(`${baseUrl}/cds-services`, { headers })
  if (replayed.status !== 401) throw new Error(`discovery with a replayed token: status ${replayed.status}, expected 401`)
  return `without a token 401, with the EHR's token 200 (${body.services.map((service) => service.id).join(', ')}), the same token again 401`
}

const [command, ...args] = process.argv.slice(2)
const commands = {
  ready: () => ready(args[0], Number(args[1])),
  examples: () => examples(args[0], args[1]),
  'register-ehr': () => registerEhr(args[0], args[1]),
  discovery: () => discovery(args[0], args[1], args[2])
}
if (!(command in commands)) {
  process.stderr.write(`usage: container-probe.mjs ${Object.keys(commands).join('|')} …\n`)
  process.exit(2)
}
try {
  process.stdout.write(`${await commands[command]()}\n`)
} catch (error) {
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
}
