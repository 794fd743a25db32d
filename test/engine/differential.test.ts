import { availableParallelism } from 'node:os'
import fc from 'fast-check'
import t from 'tap'
import { onWorkers as runOnWorkers } from '../fixtures/worker-pool.js'
import type { Case } from '../../src/schemas/case.js'
import { arbitraryCase } from '../fixtures/generators.js'
import {
  differentialMismatch, evaluateBoth, runChunk, type DifferentialChunk, type DifferentialMismatch, type DifferentialResult
} from '../fixtures/differential-worker.js'

// Differential test: the compiled evaluator (predicates compiled at startup) and the reference
// evaluator (json-rules-engine itself) must give identical bodies — the same recommendations, the
// same options and the same `because` traces — for every one of 10,000 generated cases.
//
// Speed: json-rules-engine's run is promise-heavy, and tap's async-hook domain roughly doubles its
// cost in the test process (≈ 2 min for 10,000 cases). The cases are therefore generated here
// (fc.sample, fixed seed) and evaluated by worker threads, one per core, outside that domain; a
// mismatch is replayed here from its run index (fast-check `path`) and shrunk.
// DIFFERENTIAL_RUNS / DIFFERENTIAL_SEED / DIFFERENTIAL_WORKERS (0 = in this thread) override.

t.setTimeout(600_000)

const SEED = Number(process.env.DIFFERENTIAL_SEED ?? 20260602)
const NUM_RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 10_000)
const WORKERS = Number(process.env.DIFFERENTIAL_WORKERS ?? Math.min(2, availableParallelism()))
const CHUNK = 250

/** Every chunk on a pool of workers (test/fixtures/worker-pool.ts). */
const onWorkers = async (chunks: DifferentialChunk[], size: number): Promise<DifferentialResult[]> =>
  await runOnWorkers<DifferentialChunk, DifferentialResult>(new URL('../fixtures/differential-worker.ts', import.meta.url), chunks, size)

/** Replays run `index` of the seeded sequence and shrinks it to a minimal disagreement. */
async function shrink (index: number): Promise<{ counterexample: Case | undefined, difference: string | undefined }> {
  const details = await fc.check(fc.asyncProperty(arbitraryCase(), async (c) => {
    const difference = await differentialMismatch(c)
    if (difference !== undefined) throw new Error(difference)
  }), { seed: SEED, path: String(index) })
  const counterexample = details.counterexample?.[0]
  return { counterexample, difference: counterexample === undefined ? undefined : await differentialMismatch(counterexample) }
}

t.test(`compiled and reference evaluators agree on ${NUM_RUNS} generated cases (seed ${SEED})`, async (t) => {
  const started = Date.now()
  const cases = fc.sample(arbitraryCase(), { seed: SEED, numRuns: NUM_RUNS })
  const chunks: DifferentialChunk[] = []
  for (let offset = 0; offset < cases.length; offset += CHUNK) chunks.push({ offset, cases: cases.slice(offset, offset + CHUNK) })

  let results: DifferentialResult[]
  let where = `${WORKERS} worker threads`
  if (WORKERS > 0) {
    try {
      results = await onWorkers(chunks, WORKERS)
    } catch (error) {
      t.comment(`worker threads unavailable (${String(error).split('\n')[0]}); evaluating in this thread`)
      results = []
    }
  } else {
    results = []
  }
  if (results.length !== chunks.length) {
    where = 'the test thread'
    results = []
    for (const chunk of chunks) results.push(await runChunk(chunk))
  }
  const evaluated = results.reduce((total, result) => total + result.count, 0)
  t.comment(`${evaluated} cases evaluated by both evaluators in ${((Date.now() - started) / 1000).toFixed(1)} s on ${where}`)
  t.equal(evaluated, NUM_RUNS, 'every generated case was evaluated by both evaluators')

  const mismatches: DifferentialMismatch[] = results.flatMap((result) => result.mismatches).sort((a, b) => a.index - b.index)
  if (mismatches.length === 0) {
    t.pass(`identical bodies (recommendations, options, because traces) for all ${NUM_RUNS} cases`)
    return
  }
  const first = mismatches[0] as DifferentialMismatch
  t.comment(`${mismatches.length} of ${NUM_RUNS} cases differ; first at run ${first.index}: ${first.difference}`)
  const { counterexample, difference } = await shrink(first.index)
  if (counterexample === undefined) {
    t.fail(`run ${first.index} differs in the worker but not when replayed here: ${first.difference}`)
    return
  }
  t.comment(`shrunk counterexample (seed ${SEED}, path "${first.index}"): ${JSON.stringify(counterexample)}`)
  t.comment(`first difference: ${difference ?? '?'}`)
  // Show the disagreement as a strictSame diff of the two bodies.
  const { compiled, reference } = await evaluateBoth(counterexample)
  t.strictSame(reference.body, compiled.body, 'reference body equals compiled body on the shrunk counterexample')
  t.strictSame(reference.violations, compiled.violations, 'same violations')
  t.fail(`compiled and reference differ on ${mismatches.length} of ${NUM_RUNS} cases`)
})
