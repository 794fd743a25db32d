import fc from 'fast-check'
import t from 'tap'
import type { Evaluation } from '../../src/engine/recommender.js'
import { RULE_RUNNER_NAMES } from '../../src/engine/rule-runners.js'
import { evaluateRaw } from '../fixtures/engine.js'
import { arbitraryCase } from '../fixtures/generators.js'

// Interleaved evaluations must not share state: a batch of different generated cases evaluated at
// once (Promise.all) gives exactly the serial results, for each evaluator, and when both evaluators
// run interleaved with each other. The batch holds each case twice, in a shuffled order.

const SEED = 20260603
const BATCH = 64

const cases = fc.sample(arbitraryCase(), { seed: SEED, numRuns: BATCH })
/** Every index twice, in a seeded shuffled order, so that copies of one case overlap in flight. */
const order = fc.sample(fc.shuffledSubarray([...cases.keys(), ...cases.keys()], { minLength: 2 * BATCH }), { seed: SEED, numRuns: 1 })[0] as number[]

const withoutClock = (evaluation: Evaluation): Evaluation =>
  ({ ...evaluation, body: { ...evaluation.body, provenance: { ...evaluation.body.provenance, evaluatedAt: '' } } })

const serial = new Map<string, Evaluation[]>()
t.before(async () => {
  for (const evaluator of RULE_RUNNER_NAMES) {
    const results: Evaluation[] = []
    for (const c of cases) results.push(withoutClock(await evaluateRaw(c, evaluator)))
    serial.set(evaluator, results)
  }
})

t.test('the generated batch is varied', async (t) => {
  const recommendationSets = new Set((serial.get('compiled') ?? []).map((e) => e.body.recommendations.map((r) => r.rule.id).join(',')))
  t.ok(recommendationSets.size >= BATCH / 2, `${recommendationSets.size} distinct recommendation sets in ${BATCH} cases`)
})

for (const evaluator of RULE_RUNNER_NAMES) {
  t.test(`${2 * BATCH} interleaved ${evaluator} evaluations equal the serial results`, async (t) => {
    const concurrent = await Promise.all(order.map(async (i) => withoutClock(await evaluateRaw(cases[i], evaluator))))
    const expected = serial.get(evaluator) as Evaluation[]
    concurrent.forEach((evaluation, k) => {
      const i = order[k] as number
      t.strictSame(evaluation, expected[i], `case ${i} (${cases[i]?.caseId ?? 'no caseId'})`)
    })
  })
}

t.test('both evaluators interleaved with each other equal their serial results', async (t) => {
  const jobs = order.flatMap((i) => RULE_RUNNER_NAMES.map((evaluator) => ({ i, evaluator })))
  const concurrent = await Promise.all(jobs.map(async ({ i, evaluator }) => withoutClock(await evaluateRaw(cases[i], evaluator))))
  let mismatches = 0
  concurrent.forEach((evaluation, k) => {
    const { i, evaluator } = jobs[k] as { i: number, evaluator: typeof RULE_RUNNER_NAMES[number] }
    if (!t.strictSame(evaluation, (serial.get(evaluator) as Evaluation[])[i], `case ${i}, ${evaluator}`)) mismatches++
  })
  t.equal(mismatches, 0, `${jobs.length} mixed evaluations`)
})
