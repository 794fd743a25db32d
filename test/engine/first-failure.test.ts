import { Engine } from 'json-rules-engine'
import t, { type Test } from 'tap'
import { compileFirstFailure, firstFailureFromTrace, leafItem, UndefinedFactError, type TraceLike } from '../../src/engine/conditions.js'
import type { FactValue } from '../../src/engine/fact-specs.js'
import { FACTS, frameOf, FRAME } from '../fixtures/fact-frames.js'
import type { Condition, OperatorName, TopLevelCondition } from '../../src/schemas/rule-file.js'

// The first failed condition (api.md `explanations`, `failed`): the compiled walker and the walk over
// json-rules-engine's failure trace, branch by branch, and against each other.

type LeafCondition = Extract<Condition, { fact: string }>
const leaf = (fact: string, operator: OperatorName, value: LeafCondition['value']): LeafCondition => ({ fact, operator, value })
const her2Positive = leaf('her2Status', 'equal', 'positive')
const secondLine = leaf('lineOfTherapy', 'equal', 2)
const thirdLine = leaf('lineOfTherapy', 'greaterThanInclusive', 3)
const hadTdxd = leaf('priorAgents', 'contains', 't_dxd')
const pregnant = leaf('pregnant', 'equal', true)
const relapsed = leaf('earlyRelapse', 'equal', true)

/** json-rules-engine's failure trace of one rule, or undefined when it fired. */
async function failureTrace (condition: TopLevelCondition, facts: Readonly<Record<string, FactValue>> = FACTS): Promise<TraceLike | undefined> {
  const engine = new Engine([], { allowUndefinedFacts: false })
  engine.addRule({ name: 'rule', conditions: condition, event: { type: 'fired' } })
  const { failureResults } = await engine.run({ ...facts })
  return failureResults[0]?.conditions as unknown as TraceLike | undefined
}

/** Both walkers on one condition: they must agree, and the compiled one is returned. */
async function firstFailure (t: Test, condition: TopLevelCondition, facts: Readonly<Record<string, FactValue>> = FACTS): Promise<unknown> {
  const compiled = compileFirstFailure(condition)(frameOf(facts))
  const trace = await failureTrace(condition, facts)
  t.strictSame(trace === undefined ? undefined : firstFailureFromTrace(trace), compiled, 'json-rules-engine gives the same leaf')
  return compiled
}

t.test('a condition that holds has no failed leaf', async (t) => {
  t.equal(await firstFailure(t, { all: [her2Positive, secondLine] }), undefined)
  t.equal(await firstFailure(t, { any: [thirdLine, hadTdxd] }), undefined)
  t.equal(await firstFailure(t, { not: pregnant }), undefined)
})

t.test('all: its first false child, in the rule\'s order', async (t) => {
  t.strictSame(await firstFailure(t, { all: [her2Positive, thirdLine, relapsed] }),
    { fact: 'lineOfTherapy', operator: 'greaterThanInclusive', value: 3, actual: 2 })
  t.strictSame(await firstFailure(t, { all: [relapsed, thirdLine] }),
    { fact: 'earlyRelapse', operator: 'equal', value: true, actual: false }, 'the first of two false children')
  t.strictSame(await firstFailure(t, { all: [her2Positive, { all: [secondLine, { all: [hadTdxd, relapsed] }] }] }),
    { fact: 'earlyRelapse', operator: 'equal', value: true, actual: false }, 'recursively')
})

t.test('any: every child was false — the first child, recursively', async (t) => {
  t.strictSame(await firstFailure(t, { any: [thirdLine, relapsed] }),
    { fact: 'lineOfTherapy', operator: 'greaterThanInclusive', value: 3, actual: 2 })
  t.strictSame(await firstFailure(t, { any: [{ all: [her2Positive, relapsed] }, thirdLine] }),
    { fact: 'earlyRelapse', operator: 'equal', value: true, actual: false }, 'the first child\'s own first failure')
})

t.test('not: the inner condition held — its first held leaf, with "not:"', async (t) => {
  t.strictSame(await firstFailure(t, { not: her2Positive }),
    { fact: 'her2Status', operator: 'not:equal', value: 'positive', actual: 'positive' })
  t.strictSame(await firstFailure(t, { all: [her2Positive, { not: hadTdxd }] }),
    { fact: 'priorAgents', operator: 'not:contains', value: 't_dxd', actual: ['t_dxd', 'trastuzumab'] })
  t.strictSame(await firstFailure(t, { not: { all: [her2Positive, secondLine] } }),
    { fact: 'her2Status', operator: 'not:equal', value: 'positive', actual: 'positive' }, 'not(all): every child held — the first')
  t.strictSame(await firstFailure(t, { not: { any: [thirdLine, relapsed, hadTdxd, secondLine] } }),
    { fact: 'priorAgents', operator: 'not:contains', value: 't_dxd', actual: ['t_dxd', 'trastuzumab'] }, 'not(any): its first child that held')
  t.strictSame(await firstFailure(t, { all: [{ not: { not: relapsed } }] }),
    { fact: 'earlyRelapse', operator: 'equal', value: true, actual: false }, 'a double not restores the polarity')
  t.strictSame(await firstFailure(t, { not: { any: [{ not: thirdLine }, relapsed] } }),
    { fact: 'lineOfTherapy', operator: 'greaterThanInclusive', value: 3, actual: 2 }, 'not(any(not leaf)): the leaf was false')
})

t.test('null: a null value or a null case value is told by the absent key', async (t) => {
  t.strictSame(await firstFailure(t, { all: [leaf('her2Status', 'equal', null)] }), { fact: 'her2Status', operator: 'equal', actual: 'positive' })
  t.strictSame(await firstFailure(t, { all: [pregnant] }), { fact: 'pregnant', operator: 'equal', value: true })
  t.strictSame(await firstFailure(t, { not: leaf('pregnant', 'equal', null) }), { fact: 'pregnant', operator: 'not:equal' })
  t.strictSame(await firstFailure(t, { all: [leaf('lineOfTherapy', 'lessThan', 0)] }), { fact: 'lineOfTherapy', operator: 'lessThan', value: 0, actual: 2 }, '0 is kept')
})

t.test('the walkers agree on other facts too (the compiled walker keeps no state)', async (t) => {
  const condition: TopLevelCondition = { all: [{ not: { any: [thirdLine, { all: [pregnant, her2Positive] }] } }, { any: [hadTdxd, thirdLine] }] }
  const walker = compileFirstFailure(condition)
  t.equal(walker(FRAME), undefined)
  const other = { ...FACTS, pregnant: true, priorAgents: [] }
  t.strictSame(walker(frameOf(other)), { fact: 'pregnant', operator: 'not:equal', value: true, actual: true })
  t.strictSame(firstFailureFromTrace(await failureTrace(condition, other) as TraceLike), walker(frameOf(other)))
  t.equal(walker(FRAME), undefined, 'no state kept between calls')
})

t.test('hand-built traces: the root may lack result; an outcome other than false may be asked for', async (t) => {
  t.strictSame(firstFailureFromTrace({ fact: 'x', operator: 'equal', value: 1, factResult: 2, result: false }), { fact: 'x', operator: 'equal', value: 1, actual: 2 })
  t.strictSame(firstFailureFromTrace({ any: [{ fact: 'x', operator: 'in', value: [1], factResult: 1, result: true }] }, true),
    { fact: 'x', operator: 'not:in', value: [1], actual: 1 }, 'outcome true: why it held, told as a negation that was false')
})

t.test('leafItem: the one conversion of a leaf', async (t) => {
  t.strictSame(leafItem('f', 'equal', 1, 2), { fact: 'f', operator: 'equal', value: 1, actual: 2 })
  t.strictSame(leafItem('f', 'not:equal', null, null), { fact: 'f', operator: 'not:equal' })
  t.strictSame(leafItem('f', 'equal', false, false), { fact: 'f', operator: 'equal', value: false, actual: false })
})

t.test('an unknown fact fails when compiled, an unsupplied one when it is reached', async (t) => {
  t.throws(() => compileFirstFailure({ all: [leaf('noSuchFact', 'equal', 1)] }), { message: 'Unknown fact: noSuchFact' })
  t.throws(() => compileFirstFailure({ all: [leaf('firedCodes', 'contains', 'CI-01')] })(FRAME), UndefinedFactError)
})
