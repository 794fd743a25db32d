import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { PRODUCTION_NODE_FLAGS } from '../bench/node-flags.js'
import { mean, percentile } from '../bench/stats.js'
import { benchCase } from '../bench/cases.js'
import { PREFETCH_CODES, PREFETCH_KEYS } from '../src/cds-hooks/prefetch.js'
import type { FhirResource } from '../src/fhir/types.js'
import { CdsServiceResponse, OperationOutcome } from '../src/schemas/cds-hooks-response.js'
import { Problem } from '../src/schemas/problem.js'
import { RecommendationResponse } from '../src/schemas/recommendation.js'

/**
 * `npm run soak`: the production build (`node dist/server.js` with the production Node flags, built
 * first when stale, rate limit off) under a steady mix of valid, invalid and oversized requests for
 * five minutes. It fails (exit 1) on any 5xx, any response that is not what its request calls for
 * (a 200 body that does not parse against its response schema, an error that is not problem+json —
 * an OperationOutcome under /cds-services — or an unexpected status), a transport error, an error
 * logged by the server, or a planted canary in its logs; and it reports resident memory (VmRSS of
 * the server, sampled from /proc) over time and its growth.
 *
 * Mix: the example cases (openapi/examples, with their FHIR bundles of test/fixtures/fhir) and the
 * bench's 24 cases as JSON, the bundles as application/fhir+json, CDS Hooks patient-view calls
 * (JWT off, every key prefetched from the bundles); schema errors, bad JSON, wrong content types,
 * an incomplete bundle (422), unknown paths, invalid CDS Hooks calls; JSON over 1 MiB and FHIR over
 * 5 MiB (413).
 *
 * Environment (or the first argument, seconds): SOAK_SECONDS (300), SOAK_CONNECTIONS (8 concurrent
 * clients), SOAK_SAMPLE_SECONDS (5), SOAK_PORT (3911), SOAK_MAX_GROWTH_MIB (64: the RSS growth from
 * the first to the last window, after warm-up, above which the soak fails).
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const SECONDS = Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 300)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 8)
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5)
const PORT = Number(process.env.SOAK_PORT ?? 3911)
const MAX_GROWTH_MIB = Number(process.env.SOAK_MAX_GROWTH_MIB ?? 64)
const BASE = `http://127.0.0.1:${PORT}`
const MiB = 1024 * 1024
/** Planted in names, ids and free text: the server's logs must never carry it. */
const CANARY = 'Zqsoakcanary'

// ---------------------------------------------------------------------------------------------
// Inputs

const readJson = <T>(path: string): T => JSON.parse(readFileSync(join(root, path), 'utf8')) as T

interface Example { name: string, case: Record<string, any> }
const EXAMPLE_FILES = readdirSync(join(root, 'openapi/examples')).filter((file) => file.endsWith('.json')).sort()
const examples = EXAMPLE_FILES.map((file) => readJson<Example>(`openapi/examples/${file}`))
const bundles = EXAMPLE_FILES.map((file) => ({
  date: readJson<Example>(`openapi/examples/${file}`).case.context.evaluationDate as string,
  // The Patient's name replaced by the canary: the bundle is still the fixture, now with a name to leak.
  bundle: plantName(readJson<{ entry: Array<{ resource: FhirResource }> }>(`test/fixtures/fhir/${file}`))
}))
const validCases = [...examples.map((example) => ({ ...example.case, caseId: `soak-${CANARY}` })), ...Array.from({ length: 24 }, (_, i) => benchCase(i))]

function plantName<T extends { entry: Array<{ resource: FhirResource }> }> (bundle: T): T {
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'Patient') resource.name = [{ family: CANARY, given: ['Soak'] }]
  }
  return bundle
}

/** Whether an Observation carries one of a key's `system|code` tokens (`system|` matches any code of the system). */
function matchesCodes (resource: FhirResource, codes: readonly string[]): boolean {
  const codings = (resource.code as { coding?: Array<{ system?: string, code?: string }> } | undefined)?.coding ?? []
  return codings.some((coding) => codes.some((token) => token.endsWith('|') ? token === `${coding.system}|` : token === `${coding.system}|${coding.code}`))
}

/** A patient-view call with every key prefetched from a fixture bundle (references made relative, as a FHIR server returns them). */
function patientView (bundle: { entry: Array<{ resource: FhirResource }> }): Record<string, unknown> {
  const resources = (JSON.parse(JSON.stringify(bundle).replaceAll('https://example.org/fhir/', '')) as typeof bundle).entry.map((entry) => entry.resource)
  const patient = resources.find((resource) => resource.resourceType === 'Patient') as FhirResource
  const prefetch: Record<string, unknown> = {}
  for (const spec of PREFETCH_KEYS) {
    const ofType = resources.filter((resource) => resource.resourceType === spec.resourceType)
    const codes = (PREFETCH_CODES as Record<string, readonly string[]>)[spec.key]
    const selected = codes === undefined ? ofType : ofType.filter((resource) => matchesCodes(resource, codes))
    prefetch[spec.key] = spec.read ? patient : { resourceType: 'Bundle', type: 'searchset', entry: selected.map((resource) => ({ resource })) }
  }
  return { hook: 'patient-view', hookInstance: randomUUID(), context: { userId: 'Practitioner/soak', patientId: patient.id }, prefetch }
}
const patientViews = bundles.map(({ bundle }) => JSON.stringify(patientView(bundle)))

const oversizedJson = JSON.stringify({ ...examples[0]?.case, padding: `${CANARY} `.repeat(Math.ceil(1.05 * MiB / (CANARY.length + 1))) })
const oversizedFhir = (() => {
  const bundle = structuredClone(bundles[0]?.bundle) as { entry: Array<{ resource: FhirResource }> }
  bundle.entry.push({ resource: { resourceType: 'Observation', id: 'soak-big', status: 'final', code: { text: 'note' }, note: [{ text: `${CANARY} `.repeat(Math.ceil(5.05 * MiB / (CANARY.length + 1))) }] } })
  return JSON.stringify(bundle)
})()

// ---------------------------------------------------------------------------------------------
// The mix: each kind says what it sends and what the answer must be

/** `headersFirst`: an oversized body, sent only if the server has not answered its headers (see sendHeadersFirst). */
interface Outgoing { method: 'GET' | 'POST', path: string, contentType?: string, body?: string, headersFirst?: true }
type Check = (status: number, contentType: string, body: string) => string | undefined

interface Kind { name: string, weight: number, make: (i: number) => Outgoing, check: Check }

const JSON_TYPE = 'application/json'
const FHIR_TYPE = 'application/fhir+json'
const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T

/** 200 whose body parses against `schema`. */
function ok (schema: { safeParse: (value: unknown) => { success: boolean, error?: { issues: Array<{ path: PropertyKey[], message: string }> } } }): Check {
  return (status, contentType, body) => {
    if (status !== 200) return `status ${status}, expected 200`
    if (!contentType.startsWith(JSON_TYPE)) return `content type ${contentType}`
    const parsed = schema.safeParse(JSON.parse(body))
    const issue = parsed.error?.issues[0]
    return issue === undefined ? undefined : `response schema: ${issue.path.join('.')} ${issue.message}`
  }
}

/** An RFC 9457 problem with this status (and type slug, when given). */
function problem (expected: number, type?: string): Check {
  return (status, contentType, body) => {
    if (status !== expected) return `status ${status}, expected ${expected}`
    if (!contentType.startsWith('application/problem+json')) return `content type ${contentType}, expected application/problem+json`
    const parsed = Problem.safeParse(JSON.parse(body))
    if (!parsed.success) return 'not a problem document'
    if (parsed.data.status !== expected) return `problem status ${parsed.data.status}`
    return type === undefined || parsed.data.type.endsWith(`/problems/${type}`) ? undefined : `problem type ${parsed.data.type}, expected …/${type}`
  }
}

/** A FHIR OperationOutcome with this status (/cds-services, spec/ehr-integration.md §9). */
function outcome (expected: number): Check {
  return (status, contentType, body) => {
    if (status !== expected) return `status ${status}, expected ${expected}`
    if (!contentType.startsWith(JSON_TYPE)) return `content type ${contentType}`
    return OperationOutcome.safeParse(JSON.parse(body)).success ? undefined : 'not an OperationOutcome'
  }
}

const recommendations = '/v1/recommendations'
const KINDS: Kind[] = [
  { name: 'case (JSON)', weight: 30, make: (i) => ({ method: 'POST', path: recommendations, contentType: JSON_TYPE, body: JSON.stringify(pick(validCases, i)) }), check: ok(RecommendationResponse) },
  { name: 'case + explain', weight: 4, make: (i) => ({ method: 'POST', path: `${recommendations}?explain=tdxd,sbrt_spine,zoledronic_acid`, contentType: JSON_TYPE, body: JSON.stringify(pick(validCases, i)) }), check: ok(RecommendationResponse) },
  {
    name: 'FHIR bundle',
    weight: 14,
    make: (i) => { const { bundle, date } = pick(bundles, i); return { method: 'POST', path: `${recommendations}?evaluationDate=${date}&caseId=soak-fhir-${i}`, contentType: FHIR_TYPE, body: JSON.stringify(bundle) } },
    check: ok(RecommendationResponse)
  },
  { name: 'CDS Hooks patient-view', weight: 10, make: (i) => ({ method: 'POST', path: '/cds-services/her2-mbc-bone-mets', contentType: JSON_TYPE, body: pick(patientViews, i) }), check: ok(CdsServiceResponse) },
  {
    name: 'schema error',
    weight: 10,
    make: (i) => { const input = structuredClone(pick(validCases, i)) as Record<string, any>; input.patient.ageYears = -1; input.patientName = CANARY; return { method: 'POST', path: recommendations, contentType: JSON_TYPE, body: JSON.stringify(input) } },
    check: problem(400, 'validation')
  },
  { name: 'bad JSON', weight: 7, make: (i) => ({ method: 'POST', path: recommendations, contentType: JSON_TYPE, body: JSON.stringify(pick(validCases, i)).slice(0, 300) }), check: problem(400, 'invalid-json') },
  { name: 'wrong content type', weight: 6, make: (i) => ({ method: 'POST', path: recommendations, contentType: i % 2 === 0 ? 'text/plain' : 'application/xml', body: `<case name="${CANARY}"/>` }), check: problem(415, 'unsupported-media-type') },
  {
    name: 'FHIR incomplete (422)',
    weight: 4,
    make: (i) => {
      const { bundle, date } = pick(bundles, i)
      const incomplete = { ...bundle, entry: bundle.entry.filter(({ resource }) => resource.resourceType !== 'Observation') }
      return { method: 'POST', path: `${recommendations}?evaluationDate=${date}`, contentType: FHIR_TYPE, body: JSON.stringify(incomplete) }
    },
    check: problem(422)
  },
  { name: 'CDS Hooks invalid', weight: 4, make: (i) => ({ method: 'POST', path: '/cds-services/her2-mbc-bone-mets', contentType: JSON_TYPE, body: JSON.stringify({ hook: 'patient-view', hookInstance: 'x', context: { patient: `${CANARY}-${i}` } }) }), check: outcome(400) },
  { name: 'unknown path', weight: 3, make: (i) => ({ method: 'GET', path: `/v1/patients/${CANARY}-${i}` }), check: problem(404) },
  { name: 'JSON > 1 MiB', weight: 2, make: () => ({ method: 'POST', path: recommendations, contentType: JSON_TYPE, body: oversizedJson, headersFirst: true }), check: problem(413, 'payload-too-large') },
  { name: 'FHIR > 5 MiB', weight: 1, make: () => ({ method: 'POST', path: `${recommendations}?evaluationDate=2026-02-05`, contentType: FHIR_TYPE, body: oversizedFhir, headersFirst: true }), check: problem(413, 'payload-too-large') }
]
const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0)

/** The kind of the n-th request: a fixed interleaving of the weights (deterministic, evenly spread). */
function kindOf (n: number): Kind {
  let slot = (n * 7919) % TOTAL_WEIGHT
  for (const kind of KINDS) {
    if (slot < kind.weight) return kind
    slot -= kind.weight
  }
  return KINDS[0] as Kind
}

// ---------------------------------------------------------------------------------------------
// Running

interface Tally { count: number, statuses: Map<number, number>, latencies: number[], invalid: number, transport: number, examples: string[] }
const tallies = new Map(KINDS.map((kind) => [kind.name, { count: 0, statuses: new Map(), latencies: [], invalid: 0, transport: 0, examples: [] } as Tally]))

function note (tally: Tally, problemText: string): void {
  if (tally.examples.length < 3) tally.examples.push(problemText)
}

interface Received { status: number, contentType: string, body: string }

async function sendWithFetch (outgoing: Outgoing): Promise<Received> {
  const response = await fetch(BASE + outgoing.path, {
    method: outgoing.method,
    ...(outgoing.contentType === undefined ? {} : { headers: { 'content-type': outgoing.contentType } }),
    ...(outgoing.body === undefined ? {} : { body: outgoing.body })
  })
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() }
}

/**
 * An oversized body: the headers first (Content-Length included), the body only if no answer came
 * within 2 s. The server answers 413 from the Content-Length alone and closes the connection (as
 * it should: it will not read megabytes it refuses); a client still writing then gets EPIPE before
 * it reads the answer (fetch always does), so this one waits for it, as curl does with
 * `Expect: 100-continue`.
 */
async function sendHeadersFirst (outgoing: Outgoing): Promise<Received> {
  const body = outgoing.body ?? ''
  return await new Promise((resolve, reject) => {
    let answered = false
    const request = httpRequest(BASE + outgoing.path, { method: outgoing.method, headers: { 'content-type': outgoing.contentType ?? JSON_TYPE, 'content-length': Buffer.byteLength(body) } }, (response) => {
      answered = true
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: text })
        request.destroy()
      })
    })
    request.on('error', (error) => { if (!answered) reject(error) })
    request.flushHeaders()
    setTimeout(() => { if (!answered) request.end(body) }, 2000)
  })
}

async function send (kind: Kind, n: number): Promise<void> {
  const outgoing = kind.make(n)
  const tally = tallies.get(kind.name) as Tally
  const started = performance.now()
  try {
    const response = outgoing.headersFirst === true ? await sendHeadersFirst(outgoing) : await sendWithFetch(outgoing)
    tally.latencies.push(performance.now() - started)
    tally.count++
    tally.statuses.set(response.status, (tally.statuses.get(response.status) ?? 0) + 1)
    let verdict: string | undefined
    try {
      verdict = kind.check(response.status, response.contentType, response.body)
    } catch (error) {
      verdict = `unparseable body (${(error as Error).message.slice(0, 80)})`
    }
    if (verdict !== undefined) {
      tally.invalid++
      note(tally, verdict)
    }
  } catch (error) {
    tally.count++
    tally.transport++
    note(tally, `transport: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`)
  }
}

let issued = 0
async function client (deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const n = issued++
    await send(kindOf(n), n)
  }
}

interface Sample { seconds: number, rssMiB: number }

function rssMiB (pid: number): { rss: number, hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 }
}

async function waitForReady (): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      if ((await fetch(`${BASE}/health/ready`)).ok) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the server did not become ready on ${BASE}`)
}

interface ServerLog { lines: number, errors: string[], canaries: number }

function watchLogs (server: ChildProcess): ServerLog {
  const log: ServerLog = { lines: 0, errors: [], canaries: 0 }
  createInterface({ input: server.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    log.lines++
    if (line.includes(CANARY)) log.canaries++
    try {
      const entry = JSON.parse(line) as { level?: number, msg?: string }
      if ((entry.level ?? 0) >= 50 && log.errors.length < 5) log.errors.push(line.slice(0, 300))
    } catch {
      if (log.errors.length < 5) log.errors.push(`not JSON: ${line.slice(0, 200)}`)
    }
  })
  server.stderr?.on('data', (chunk: Buffer) => { if (log.errors.length < 5) log.errors.push(`stderr: ${chunk.toString('utf8').slice(0, 300)}`) })
  return log
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits)

/** Least-squares slope of RSS over time, MiB per minute. */
function slopePerMinute (samples: Sample[]): number {
  const mx = mean(samples.map((s) => s.seconds))
  const my = mean(samples.map((s) => s.rssMiB))
  const num = samples.reduce((sum, s) => sum + (s.seconds - mx) * (s.rssMiB - my), 0)
  const den = samples.reduce((sum, s) => sum + (s.seconds - mx) ** 2, 0)
  return den === 0 ? 0 : 60 * num / den
}

async function main (): Promise<number> {
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: root, stdio: 'inherit' })
  const server = spawn(process.execPath, [...PRODUCTION_NODE_FLAGS, 'dist/server.js'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(PORT), RATE_LIMIT_MAX: '0', LOG_LEVEL: 'info', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => { resolve(code) }))
  const log = watchLogs(server)
  try {
    await waitForReady()
    const pid = server.pid as number
    process.stdout.write(`soak: ${SECONDS} s, ${CONNECTIONS} clients, ${KINDS.length} kinds of request, server pid ${pid} (${PRODUCTION_NODE_FLAGS.join(' ')} dist/server.js), load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`)
    const start = performance.now()
    const samples: Sample[] = [{ seconds: 0, rssMiB: rssMiB(pid).rss }]
    const sampler = setInterval(() => {
      const seconds = (performance.now() - start) / 1000
      const { rss } = rssMiB(pid)
      samples.push({ seconds, rssMiB: rss })
      if (Math.round(seconds) % 30 < SAMPLE_SECONDS) process.stdout.write(`  ${fixed(seconds, 0).padStart(4)} s  ${String(issued).padStart(7)} requests  RSS ${fixed(rss)} MiB\n`)
    }, SAMPLE_SECONDS * 1000)
    const deadline = start + SECONDS * 1000
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => { await client(deadline) }))
    clearInterval(sampler)
    const elapsed = (performance.now() - start) / 1000
    samples.push({ seconds: elapsed, rssMiB: rssMiB(pid).rss })
    const { hwm } = rssMiB(pid)
    server.kill('SIGTERM')
    const code = await exited
    return report(elapsed, samples, hwm, log, code)
  } finally {
    if (server.exitCode === null) server.kill('SIGTERM')
  }
}

function report (elapsed: number, samples: Sample[], hwm: number, log: ServerLog, exitCode: number | null): number {
  const failures: string[] = []
  process.stdout.write('\n| kind | requests | statuses | p50 ms | p99 ms | invalid | transport errors |\n|---|---|---|---|---|---|---|\n')
  let total = 0
  for (const kind of KINDS) {
    const tally = tallies.get(kind.name) as Tally
    total += tally.count
    const sorted = [...tally.latencies].sort((a, b) => a - b)
    const statuses = [...tally.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')
    process.stdout.write(`| ${kind.name} | ${tally.count} | ${statuses} | ${fixed(percentile(sorted, 0.5) ?? 0)} | ${fixed(percentile(sorted, 0.99) ?? 0)} | ${tally.invalid} | ${tally.transport} |\n`)
    const fivexx = [...tally.statuses].filter(([status]) => status >= 500).reduce((sum, [, count]) => sum + count, 0)
    if (fivexx > 0) failures.push(`${kind.name}: ${fivexx} responses 5xx`)
    if (tally.invalid > 0) failures.push(`${kind.name}: ${tally.invalid} invalid responses (${tally.examples.join('; ')})`)
    if (tally.transport > 0) failures.push(`${kind.name}: ${tally.transport} transport errors (${tally.examples.join('; ')})`)
  }
  process.stdout.write(`\n${total} requests in ${fixed(elapsed, 0)} s (${fixed(total / elapsed, 0)} req/s); server log lines: ${log.lines}\n`)
  if (log.errors.length > 0) failures.push(`server logged errors: ${log.errors.join(' | ')}`)
  process.stdout.write(`server exit code after SIGTERM: ${String(exitCode)}\n`)
  if (exitCode !== 0) failures.push(`the server exited with ${String(exitCode)} on SIGTERM`)
  if (log.canaries > 0) failures.push(`${log.canaries} server log lines carry the canary planted in names and free text`)

  // Memory: after a warm-up (JIT, caches, the young generation filling up), compare the first and last windows.
  const warmUp = Math.min(60, elapsed / 5)
  const window = Math.min(60, (elapsed - warmUp) / 3)
  const steady = samples.filter((s) => s.seconds >= warmUp)
  const first = mean(steady.filter((s) => s.seconds < warmUp + window).map((s) => s.rssMiB))
  const last = mean(steady.filter((s) => s.seconds > elapsed - window).map((s) => s.rssMiB))
  const growth = last - first
  process.stdout.write(`\nresident memory (VmRSS, MiB), ${samples.length} samples every ${SAMPLE_SECONDS} s:\n`)
  process.stdout.write(`  at start ${fixed(samples[0]?.rssMiB ?? 0)}; after ${fixed(warmUp, 0)} s warm-up: min ${fixed(Math.min(...steady.map((s) => s.rssMiB)))}, max ${fixed(Math.max(...steady.map((s) => s.rssMiB)))}; peak (VmHWM) ${fixed(hwm)}\n`)
  process.stdout.write(`  first ${fixed(window, 0)} s mean ${fixed(first)}, last ${fixed(window, 0)} s mean ${fixed(last)}: growth ${growth >= 0 ? '+' : ''}${fixed(growth)} MiB; trend ${fixed(slopePerMinute(steady), 2)} MiB/min\n`)
  process.stdout.write(`  over time: ${samples.filter((_, i) => i % Math.max(1, Math.round(30 / SAMPLE_SECONDS)) === 0).map((s) => `${fixed(s.seconds, 0)}s ${fixed(s.rssMiB, 0)}`).join(', ')}\n`)
  if (growth > MAX_GROWTH_MIB) failures.push(`resident memory grew by ${fixed(growth)} MiB (> ${MAX_GROWTH_MIB} MiB, SOAK_MAX_GROWTH_MIB)`)

  mkdirSync(join(root, 'bench/results'), { recursive: true })
  const resultFile = join(root, 'bench/results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(resultFile, JSON.stringify({
    seconds: elapsed,
    connections: CONNECTIONS,
    total,
    kinds: KINDS.map((kind) => { const tally = tallies.get(kind.name) as Tally; return { kind: kind.name, count: tally.count, statuses: Object.fromEntries(tally.statuses), invalid: tally.invalid, transport: tally.transport } }),
    memory: { samples, warmUp, window, first, last, growth, peak: hwm },
    failures
  }, null, 2))
  process.stdout.write(`\nresults: ${resultFile}\n`)
  if (failures.length === 0) {
    process.stdout.write('PASS: no 5xx, every response valid, no transport error, no error logged, no canary in the logs\n')
    return 0
  }
  process.stdout.write(`FAIL:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`)
  return 1
}

process.exitCode = await main()
