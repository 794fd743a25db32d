import { availableParallelism } from 'node:os'
import fc from 'fast-check'
import t from 'tap'
import { onWorkers as runOnWorkers } from '../fixtures/worker-pool.js'
import { explainChunk, explanationProblems, type ExplainChunk, type ExplainChunkResult } from '../fixtures/explain-differential-worker.js'
import { arbitraryCase } from '../fixtures/generators.js'

// Differential test of "why not" (api.md revision 8): for generated cases and every option id, the
// compiled evaluator (the compiled first-failure walker) and the reference evaluator
// (json-rules-engine's own failure trace, a fresh engine per condition) give identical
// explanations, each consistent with the response it belongs to. As in differential.test.ts, the
// cases are generated here (fixed seed) and explained on worker threads, outside tap's async-hook
// domain. EXPLAIN_DIFFERENTIAL_RUNS / _SEED / _WORKERS (0 = in this thread) override.

t.setTimeout(600_000)

const SEED = Number(process.env.EXPLAIN_DIFFERENTIAL_SEED ?? 20260611)
const NUM_RUNS = Number(process.env.EXPLAIN_DIFFERENTIAL_RUNS ?? 300)
const WORKERS = Number(process.env.EXPLAIN_DIFFERENTIAL_WORKERS ?? Math.min(2, availableParallelism()))
const CHUNK = 25

/** Every chunk on a pool of workers (test/fixtures/worker-pool.ts). */
const onWorkers = async (chunks: ExplainChunk[], size: number): Promise<ExplainChunkResult[]> =>
  await runOnWorkers<ExplainChunk, ExplainChunkResult>(new URL('../fixtures/explain-differential-worker.ts', import.meta.url), chunks, size)

t.test(`compiled and reference explanations agree on ${NUM_RUNS} generated cases × every option (seed ${SEED})`, async (t) => {
  const started = Date.now()
  const cases = fc.sample(arbitraryCase(), { seed: SEED, numRuns: NUM_RUNS })
  const chunks: ExplainChunk[] = []
  for (let offset = 0; offset < cases.length; offset += CHUNK) chunks.push({ offset, cases: cases.slice(offset, offset + CHUNK) })
  let results: ExplainChunkResult[] = []
  let where = `${WORKERS} worker threads`
  if (WORKERS > 0) {
    try {
      results = await onWorkers(chunks, WORKERS)
    } catch (error) {
      t.comment(`worker threads unavailable (${String(error).split('\n')[0]}); explaining in this thread`)
      results = []
    }
  }
  if (results.length !== chunks.length) {
    where = 'the test thread'
    results = []
    for (const chunk of chunks) results.push(await explainChunk(chunk))
  }
  t.comment(`${NUM_RUNS} cases explained by both evaluators in ${((Date.now() - started) / 1000).toFixed(1)} s on ${where}`)
  t.equal(results.reduce((total, result) => total + result.count, 0), NUM_RUNS, 'every case was explained')
  const kinds: Record<string, number> = {}
  for (const result of results) for (const [kind, count] of Object.entries(result.kinds)) kinds[kind] = (kinds[kind] ?? 0) + count
  t.comment(`reasons by kind: ${JSON.stringify(Object.fromEntries(Object.entries(kinds).sort()))}`)
  const problems = results.flatMap((result) => result.problems)
  t.strictSame(problems.slice(0, 20), [], 'identical explanations, consistent with their responses')
  for (const kind of ['not_fired with failed', 'not_fired', 'option_condition with failed', 'forbidden with forbiddenBy', 'avoid']) {
    t.ok((kinds[kind] ?? 0) > 0, `the cases produce "${kind}" reasons`)
  }
})

t.test('a case that cannot be evaluated is reported, not thrown', async (t) => {
  const { problems } = await explainChunk({ offset: 7, cases: [{ not: 'a case' }] })
  t.match(problems, [/^case 7: evaluation threw: Error: invalid case/])
  t.strictSame(await explanationProblems(fc.sample(arbitraryCase(), { seed: 1, numRuns: 1 })[0], 'one case'), [])
})
