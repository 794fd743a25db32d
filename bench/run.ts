import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { hash } from 'node:crypto'
import { Recommender } from '../src/engine/recommender.js'
import { canonicalJson, inputDigest } from '../src/engine/canonical-json.js'
import { deriveFacts } from '../src/engine/facts.js'
import { prepareKnowledgeBase } from '../src/engine/knowledge-base.js'
import type { RuleRunnerName } from '../src/engine/rule-runners.js'
import { loadKnowledgeBase } from '../src/engine/load-rules.js'
import { Case } from '../src/schemas/case.js'
import { RecommendationResponse } from '../src/schemas/recommendation.js'
import { compileFastSerializer, constantJson } from '../src/http/serializer.js'
import { ENGINE_VERSION, SERVICE_INFO } from '../src/service-info.js'
import { benchCase, caseWithLesions } from './cases.js'
import { fhirBench } from './fhir.js'
import { PRODUCTION_NODE_FLAGS } from './node-flags.js'
import { mean, median } from './stats.js'
import { steadyLoad } from './steady-rate.js'

/**
 * `npm run bench`: numbers, not pass/fail.
 *  1. HTTP: the production server (built, `node --max-semi-space-size=16 dist/server.js`, default configuration but
 *     RATE_LIMIT_MAX=0: one client at full speed is the point) and two bare Fastify routes (same Node flags): the
 *     ceiling, which sends for each case the very bytes the service returned for it (captured before the run,
 *     looked up by caseId: the headline ratio), and the older baseline, which JSON-serialises one response object
 *     on every request (kept for continuity). Each runs in its own process, loaded in turn with autocannon
 *     (ROUNDS rounds of DURATION seconds, 50 connections, a rotating mix of 24 realistic cases): req/s, p50, p99,
 *     peak RSS, and the ratios. Then each at a steady rate (bench/steady-rate.ts): p50, p99 and max latency.
 *  2. In-process: microseconds per evaluation for both evaluators (the median over the mix of each case's median,
 *     and the mean), and how they grow with lesions.
 *  3. FHIR input: parse and mapping time of the largest fixture bundle and of one grown to the 5 MiB limit.
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (50); the fixed-rate run:
 * BENCH_FIXED_RATE (300 req/s, evenly spaced, over 10 connections), BENCH_FIXED_DURATION (20 s).
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 300)
const FIXED_CONNECTIONS = 10
const FIXED_DURATION = Number(process.env.BENCH_FIXED_DURATION ?? 20)
const SERVICE_PORT = 3901
const BASELINE_PORT = 3902
const CEILING_PORT = 3903
const MIX = Array.from({ length: 24 }, (_, i) => benchCase(i))

interface Target { name: string, port: number, child: ChildProcess }
interface Round { requestsPerSecond: number, p50: number, p99: number, non2xx: number, errors: number, cpuPerRequest: number }

async function waitForHttp (port: number, path: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: path === '/health/ready' ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: path === '/health/ready' ? undefined : '{}' })
      if (response.status < 500) return
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`nothing answers on port ${port}`)
}

/** Peak resident set size (VmHWM) of a process, in MiB. */
function peakRssMiB (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kib / 1024)
}

/**
 * CPU time a process has used so far (user + system), in ms, from /proc/<pid>/stat (fields 14 and
 * 15, in clock ticks: USER_HZ, 100 on Linux). CPU per request does not depend on how much of the
 * two cores the load generator took, as throughput does.
 */
function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** One autocannon run over the mix, as fast as the connections go. */
async function load (port: number, duration: number, pid?: number): Promise<Round> {
  const cpuBefore = pid === undefined ? 0 : cpuMs(pid)
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration,
    requests: MIX.map((body) => ({ method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))
  })
  const cpuPerRequest = pid === undefined ? Number.NaN : (cpuMs(pid) - cpuBefore) / result.requests.total
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, cpuPerRequest }
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits)

async function httpBench (): Promise<void> {
  // The same build step as npm start: dist/ is compiled when it is missing or older than src/.
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: root, stdio: 'inherit' })
  const kb = prepareKnowledgeBase(loadKnowledgeBase(join(root, 'rules')))
  const evaluator = new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator: 'compiled' })
  const sample = { requestId: 'baseline', ...(await evaluator.evaluate(Case.parse(MIX[3]))).body }
  const responseFile = join(mkdtempSync(join(tmpdir(), 'bench-')), 'response.json')
  writeFileSync(responseFile, JSON.stringify(sample))

  const service: Target = {
    name: 'service',
    port: SERVICE_PORT,
    child: spawn(process.execPath, [...PRODUCTION_NODE_FLAGS, 'dist/server.js'], { cwd: root, env: { ...process.env, PORT: String(SERVICE_PORT), HOST: '127.0.0.1', RATE_LIMIT_MAX: '0' }, stdio: 'ignore' })
  }
  const ceilingFile = join(mkdtempSync(join(tmpdir(), 'bench-')), 'responses.json')
  const baseline: Target = {
    name: 'baseline',
    port: BASELINE_PORT,
    child: fork(join(root, 'bench/baseline-server.ts'), [], { cwd: root, execArgv: [...PRODUCTION_NODE_FLAGS, '--import', 'tsx'], env: { ...process.env, PORT: String(BASELINE_PORT), BASELINE_RESPONSE: responseFile }, stdio: 'ignore' })
  }
  let ceiling: Target | undefined
  try {
    await waitForHttp(SERVICE_PORT, '/health/ready')
    await waitForHttp(BASELINE_PORT, '/v1/recommendations')
    // The service's own bytes for each case of the mix, before any load: the ceiling sends them back.
    const captured: Record<string, string> = {}
    for (const body of MIX) {
      const response = await fetch(`http://127.0.0.1:${SERVICE_PORT}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      captured[body.caseId as string] = await response.text()
    }
    writeFileSync(ceilingFile, JSON.stringify(captured))
    ceiling = {
      name: 'ceiling',
      port: CEILING_PORT,
      child: fork(join(root, 'bench/ceiling-server.ts'), [], { cwd: root, execArgv: [...PRODUCTION_NODE_FLAGS, '--import', 'tsx'], env: { ...process.env, PORT: String(CEILING_PORT), CEILING_RESPONSES: ceilingFile }, stdio: 'ignore' })
    }
    await waitForHttp(CEILING_PORT, '/v1/recommendations')
    const sizes = Object.values(captured).map((bytes) => Buffer.byteLength(bytes)).sort((a, b) => a - b)
    process.stdout.write(`response sizes of the mix: median ${median(sizes)} B, ${sizes[0]}–${sizes[sizes.length - 1]} B\n`)
    process.stdout.write(`response size: service ~${JSON.stringify(sample).length} B; request bodies ${Math.min(...MIX.map((c) => JSON.stringify(c).length))}–${Math.max(...MIX.map((c) => JSON.stringify(c).length))} B\n`)
    process.stdout.write('warming up all three (3 s each) …\n')
    const targets = [service, ceiling, baseline]
    for (const target of targets) await load(target.port, 3)
    const rounds: Record<string, Round[]> = { service: [], ceiling: [], baseline: [] }
    for (let round = 1; round <= ROUNDS; round++) {
      // A different order each round, so that no target always runs first or last.
      for (const target of [...targets.slice(round % 3), ...targets.slice(0, round % 3)]) {
        const result = await load(target.port, DURATION, target.child.pid)
        rounds[target.name]?.push(result)
        process.stdout.write(`round ${round} ${target.name.padEnd(8)} ${fixed(result.requestsPerSecond, 0).padStart(6)} req/s  p50 ${fixed(result.p50)} ms  p99 ${fixed(result.p99)} ms  CPU ${fixed(result.cpuPerRequest, 2)} ms/request  non-2xx ${result.non2xx}  errors ${result.errors}\n`)
      }
    }
    const summary = (target: Target): { rps: number, p50: number, p99: number, cpu: number, rss: number } => {
      const results = rounds[target.name] as Round[]
      return {
        rps: mean(results.map((r) => r.requestsPerSecond)),
        p50: mean(results.map((r) => r.p50)),
        p99: mean(results.map((r) => r.p99)),
        cpu: mean(results.map((r) => r.cpuPerRequest)),
        rss: peakRssMiB(target.child.pid as number)
      }
    }
    const s = summary(service)
    const c = summary(ceiling)
    const b = summary(baseline)
    process.stdout.write('\n| target | req/s | p50 ms | p99 ms | server CPU ms per request | peak RSS MiB |\n|---|---|---|---|---|---|\n')
    for (const [name, row] of [['service', s], ['ceiling (pre-serialised)', c], ['baseline (serialising)', b]] as const) {
      process.stdout.write(`| ${name} | ${fixed(row.rps, 0)} | ${fixed(row.p50)} | ${fixed(row.p99)} | ${fixed(row.cpu, 2)} | ${row.rss} |\n`)
    }
    process.stdout.write(`\nservice / pre-serialised ceiling throughput: ${fixed(100 * s.rps / c.rps)} %  (target ≥ 40 %); service p99 ${fixed(s.p99)} ms vs the ceiling's ${fixed(c.p99)} ms (target ≤ 2 ×) at ${CONNECTIONS} connections\n`)
    process.stdout.write(`service / serialising baseline throughput (the older measure): ${fixed(100 * s.rps / b.rps)} %\n\n`)

    // Tail latency at a modest, steady load: what a clinician's request meets on a quiet afternoon.
    process.stdout.write(`steady rate: ${FIXED_RATE} req/s evenly spaced over ${FIXED_CONNECTIONS} keep-alive connections, ${FIXED_DURATION} s per target (bench/steady-rate.ts)\n| target | p50 ms | p99 ms | max ms | completed | failed |\n|---|---|---|---|---|---|\n`)
    const bodies = MIX.map((body) => JSON.stringify(body))
    for (const target of targets) {
      await steadyLoad(target.port, FIXED_RATE, 3, bodies, FIXED_CONNECTIONS)
      const result = await steadyLoad(target.port, FIXED_RATE, FIXED_DURATION, bodies, FIXED_CONNECTIONS)
      process.stdout.write(`| ${target.name} | ${fixed(result.p50)} | ${fixed(result.p99)} | ${fixed(result.max)} | ${result.completed} | ${result.failed} |\n`)
    }
    process.stdout.write(`target: service p99 ≤ 5 ms at ${FIXED_RATE} req/s\n\n`)
    process.stdout.write(`peak RSS after both runs, MiB: service ${peakRssMiB(service.child.pid as number)}, ceiling ${peakRssMiB(ceiling.child.pid as number)}, baseline ${peakRssMiB(baseline.child.pid as number)}\n\n`)
  } finally {
    service.child.kill('SIGTERM')
    baseline.child.kill('SIGTERM')
    ceiling?.child.kill('SIGTERM')
  }
}

/**
 * Microseconds per call over the cases (one input each, or a fresh one per run: `input`, untimed):
 * the mean over every run, and the median over the cases of each case's median run.
 */
async function timePerCase<I> (count: number, iterations: number, input: (i: number) => I, run: (input: I) => unknown): Promise<{ mean: number, median: number }> {
  for (let i = 0; i < Math.min(iterations, 200); i++) await run(input(i))
  const runs: number[][] = Array.from({ length: count }, () => [])
  let total = 0
  for (let i = 0; i < iterations; i++) {
    const given = input(i)
    const start = process.hrtime.bigint()
    await run(given)
    const micros = Number(process.hrtime.bigint() - start) / 1e3
    runs[i % count]?.push(micros)
    total += micros
  }
  return { mean: total / iterations, median: median(runs.map(median)) }
}

/**
 * Per evaluation. Each run gets a freshly parsed case, as a request does: evaluating one parsed
 * object over and over measured ~35 % less than the server pays (warm shapes and caches).
 */
async function microseconds (evaluator: Recommender, cases: readonly unknown[], iterations: number): Promise<{ mean: number, median: number }> {
  const texts = cases.map((body) => JSON.stringify(body))
  return await timePerCase(cases.length, iterations, (i) => Case.parse(JSON.parse(texts[i % texts.length] as string)), async (input) => await evaluator.evaluate(input))
}

/** Per call on one input per mix entry, reused (hot: warm caches and shapes): the median over the cases. */
async function hotMicroseconds<T> (cases: readonly T[], iterations: number, run: (input: T) => unknown): Promise<number> {
  return (await timePerCase(cases.length, iterations, (i) => cases[i % cases.length] as T, run)).median
}

/**
 * What bounds the in-process time: the parts that every evaluation needs, each measured alone and
 * hot, against the whole evaluation on the same reused case and on a fresh one.
 */
async function partsOfAnEvaluation (evaluator: Recommender, freshMedian: number): Promise<void> {
  const cases = MIX.map((body) => Case.parse(body))
  const today = '2026-06-01'
  const rows: Array<[string, number]> = [
    ['deriveFacts (case → facts)', await hotMicroseconds(cases, 20000, (input) => deriveFacts(input, today))],
    ['inputDigest (RFC 8785 canonical JSON + SHA-256)', await hotMicroseconds(cases, 20000, (input) => inputDigest(input))],
    ['  its floor: JSON.stringify of the case (no key sorting)', await hotMicroseconds(cases, 20000, (input) => JSON.stringify(input))],
    ['  its floor: SHA-256 of the canonical text alone', await hotMicroseconds(cases.map((input) => canonicalJson(input)), 20000, (text) => hash('sha256', text))],
    ['the whole evaluation, one parsed case reused (hot)', await hotMicroseconds(cases, 20000, async (input) => await evaluator.evaluate(input))]
  ]
  // Not part of an evaluation, but of every request: the service's writer, as the app compiles it.
  const write = compileFastSerializer(RecommendationResponse, constantJson(evaluator.constantStrings()))
  const bodies = await Promise.all(cases.map(async (input) => ({ requestId: '00000000-0000-4000-8000-000000000000', ...(await evaluator.evaluate(input)).body })))
  const writing = await hotMicroseconds(bodies, 10000, (body) => write(body))
  process.stdout.write('parts of an evaluation, each alone and hot (one parsed case per mix entry, reused), median µs:\n| part | µs |\n|---|---|\n')
  for (const [part, micros] of rows) process.stdout.write(`| ${part} | ${fixed(micros)} |\n`)
  process.stdout.write(`| the whole evaluation, a freshly parsed case each time (the headline above) | ${fixed(freshMedian)} |\n`)
  process.stdout.write(`| (beside it, per request: writing the response JSON, ~57 KB) | ${fixed(writing)} |\n\n`)
}

async function inProcessBench (): Promise<void> {
  const kb = prepareKnowledgeBase(loadKnowledgeBase(join(root, 'rules')))
  const evaluators = Object.fromEntries((['compiled', 'reference'] as RuleRunnerName[]).map((name) =>
    [name, new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator: name })])) as Record<RuleRunnerName, Recommender>
  process.stdout.write('in-process evaluation (no HTTP, no validation, no serialisation), µs per case, mix of 24 cases:\n')
  const compiled = await microseconds(evaluators.compiled, MIX, 20000)
  const reference = await microseconds(evaluators.reference, MIX, 1000)
  process.stdout.write(`  compiled: median ${fixed(compiled.median)} µs (target ≤ 40), mean ${fixed(compiled.mean)} µs\n`)
  process.stdout.write(`  reference (json-rules-engine): median ${fixed(reference.median)} µs, mean ${fixed(reference.mean)} µs; speed-up ×${fixed(reference.median / compiled.median)}\n\n`)
  await partsOfAnEvaluation(evaluators.compiled, compiled.median)
  process.stdout.write('growth with the number of spine lesions (same case otherwise), median µs per case:\n| lesions | compiled | reference |\n|---|---|---|\n')
  for (const n of [0, 1, 2, 3, 6, 12, 24, 40]) {
    const single = [caseWithLesions(n)]
    process.stdout.write(`| ${n} | ${fixed((await microseconds(evaluators.compiled, single, 5000)).median)} | ${fixed((await microseconds(evaluators.reference, single, 300)).median)} |\n`)
  }
  process.stdout.write('\n')
}

const only = process.argv[2]
if (only === undefined || only === 'micro') await inProcessBench()
if (only === undefined || only === 'fhir') fhirBench()
if (only === undefined || only === 'http') await httpBench()
