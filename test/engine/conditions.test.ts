import { createRequire } from 'node:module'
import { Engine } from 'json-rules-engine'
import t from 'tap'
import {
  becauseFromTrace, compileCondition, compileExplainer, factValue, slotOf, UndefinedFactError,
  type TraceLike
} from '../../src/engine/conditions.js'
import { FACT_SLOTS, newFactFrame, type FactValue } from '../../src/engine/fact-specs.js'
import { FACTS, frameOf, FRAME } from '../fixtures/fact-frames.js'
import { OPERATORS, type Condition, type OperatorName, type TopLevelCondition } from '../../src/schemas/rule-file.js'

// json-rules-engine's own default operators, as the reference for every row below.
const require = createRequire(import.meta.url)
const referenceOperators: Array<{ name: string, evaluate: (fact: unknown, value: unknown) => boolean }> =
  require('json-rules-engine/dist/engine-default-operators.js').default
const referenceOperator = (operator: OperatorName) => {
  const found = referenceOperators.find((candidate) => candidate.name === operator)
  if (found === undefined) throw new Error(`json-rules-engine has no operator ${operator}`)
  return found
}

type Row = [FactValue, unknown, boolean]

const ROWS: Record<OperatorName, Row[]> = {
  equal: [
    [1, 1, true], [1, '1', false], ['a', 'a', true], ['a', 'b', false], [null, null, true], [null, false, false],
    [true, true, true], [false, null, false], [['a'], ['a'], false]
  ],
  notEqual: [
    [1, 1, false], [1, '1', true], ['a', 'b', true], [null, null, false], [null, 'x', true], [false, false, false]
  ],
  in: [
    ['a', ['a', 'b'], true], ['c', ['a', 'b'], false], [null, [null, 'a'], true], [null, ['a'], false],
    [1, [1, 2], true], [1, ['1'], false], [true, [true], true], [['a'], [['a']], false]
  ],
  notIn: [
    ['a', ['a', 'b'], false], ['c', ['a', 'b'], true], [null, ['a'], true], [null, [null], false], [2, [1], true]
  ],
  contains: [
    [['a', 'b'], 'a', true], [['a', 'b'], 'c', false], [[], 'a', false], [null, 'a', false], ['abc', 'a', false],
    [1, 1, false], [true, true, false]
  ],
  doesNotContain: [
    [['a', 'b'], 'a', false], [['a', 'b'], 'c', true], [[], 'a', true], [null, 'a', false], ['abc', 'z', false],
    [1, 2, false]
  ],
  lessThan: [
    [1, 2, true], [2, 2, false], [3, 2, false], [-1, 0, true], [null, 5, false], ['x', 5, false], [true, 5, false],
    [false, 5, false], ['1', 5, true], [['1'], 5, true], [[], 5, false], [0, 0.5, true]
  ],
  lessThanInclusive: [
    [1, 2, true], [2, 2, true], [3, 2, false], [null, 0, false], ['x', 0, false], [true, 1, false], ['2', 2, true]
  ],
  greaterThan: [
    [3, 2, true], [2, 2, false], [1, 2, false], [null, -1, false], ['x', -1, false], [false, -1, false], ['12.1', 12, true],
    [12.1, 12, true], [12.0, 12, false]
  ],
  greaterThanInclusive: [
    [2, 2, true], [3, 2, true], [1, 2, false], [null, 0, false], ['abc', 0, false], [true, 0, false], [6.0, 6, true]
  ]
}

t.test('the rows cover every operator of the rule-file schema', async (t) => {
  t.strictSame(Object.keys(ROWS).sort(), [...OPERATORS].sort())
})

/** The compiled leaf `probe <operator> value`, evaluated with `fact` in the probe's slot. */
function compiledLeaf (operator: OperatorName, fact: FactValue, value: unknown): boolean {
  const frame = newFactFrame()
  frame[slotOf('ecog')] = fact
  return compileCondition({ fact: 'ecog', operator, value: value as never })(frame)
}

for (const operator of OPERATORS) {
  t.test(`operator ${operator}: null, numbers, strings and arrays as json-rules-engine`, async (t) => {
    for (const [fact, value, expected] of ROWS[operator]) {
      const name = `${JSON.stringify(fact)} ${operator} ${JSON.stringify(value)}`
      t.equal(compiledLeaf(operator, fact, value), expected, `${name} (compiled)`)
      t.equal(referenceOperator(operator).evaluate(fact, value), expected, `${name} (json-rules-engine)`)
    }
  })
}

type Literal = LeafCondition['value']
type LeafCondition = Extract<Condition, { fact: string }>
const leaf = (fact: string, operator: OperatorName, value: Literal): LeafCondition => ({ fact, operator, value })
const her2Positive = leaf('her2Status', 'equal', 'positive')
const secondLine = leaf('lineOfTherapy', 'equal', 2)
const thirdLine = leaf('lineOfTherapy', 'greaterThanInclusive', 3)
const hadTdxd = leaf('priorAgents', 'contains', 't_dxd')
const pregnant = leaf('pregnant', 'equal', true)

/** json-rules-engine's own verdict and condition trace for one rule (a fresh engine, undefined facts are errors). */
async function reference (condition: TopLevelCondition, facts: Readonly<Record<string, FactValue>> = FACTS): Promise<{ fired: boolean, trace: TraceLike }> {
  const engine = new Engine([], { allowUndefinedFacts: false })
  engine.addRule({ name: 'rule', conditions: condition, event: { type: 'fired' } })
  const { results, failureResults } = await engine.run({ ...facts })
  const result = results[0] ?? failureResults[0]
  return { fired: results.length === 1, trace: result?.conditions as unknown as TraceLike }
}

t.test('slotOf: the catalogue slot of a fact; an unknown name is an error', async (t) => {
  t.equal(slotOf('her2Status'), FACT_SLOTS.get('her2Status'))
  t.equal(typeof slotOf('lineOfTherapy'), 'number')
  t.throws(() => slotOf('noSuchFact'), { name: 'UndefinedFactError', message: 'Unknown fact: noSuchFact' })
})

t.test('factValue: returns null facts, throws UndefinedFactError for an unsupplied fact', async (t) => {
  t.equal(factValue(FRAME, slotOf('pregnant'), 'pregnant'), null)
  t.equal(factValue(FRAME, slotOf('earlyRelapse'), 'earlyRelapse'), false)
  t.strictSame(factValue(FRAME, slotOf('priorAgents'), 'priorAgents'), ['t_dxd', 'trastuzumab'])
  t.throws(() => factValue(FRAME, slotOf('firedCodes'), 'firedCodes'), { name: 'UndefinedFactError', message: 'Undefined fact: firedCodes' })
  const error = new UndefinedFactError('x')
  t.ok(error instanceof Error)
  t.equal(error.name, 'UndefinedFactError')
})

t.test('compileCondition: a leaf', async (t) => {
  t.equal(compileCondition(her2Positive)(FRAME), true)
  t.equal(compileCondition(thirdLine)(FRAME), false)
  t.equal(compileCondition(leaf('pregnant', 'notEqual', true))(FRAME), true, 'null is not true')
  t.equal(compileCondition(leaf('pregnant', 'lessThan', 1))(FRAME), false, 'null is not numeric')
})

const TREES: Array<[string, TopLevelCondition, boolean]> = [
  ['all true', { all: [her2Positive, secondLine, hadTdxd] }, true],
  ['all with one false', { all: [her2Positive, thirdLine] }, false],
  ['any with one true', { any: [thirdLine, hadTdxd] }, true],
  ['any all false', { any: [thirdLine, pregnant] }, false],
  ['not of a false leaf', { not: pregnant }, true],
  ['not of a true leaf', { not: her2Positive }, false],
  ['all of any and not', { all: [{ any: [thirdLine, secondLine] }, { not: pregnant }] }, true],
  ['any of all and not', { any: [{ all: [her2Positive, thirdLine] }, { not: { not: pregnant } }] }, false],
  ['not of all', { not: { all: [her2Positive, thirdLine] } }, true],
  ['not of any', { not: { any: [her2Positive, thirdLine] } }, false],
  ['not of any, all false', { not: { any: [pregnant, thirdLine] } }, true],
  ['all with a null test', { all: [leaf('pregnant', 'equal', null), leaf('earlyRelapse', 'equal', false)] }, true],
  ['any with a null comparison', { any: [leaf('pregnant', 'greaterThan', 0), leaf('her2Status', 'in', ['equivocal', 'unknown'])] }, false],
  ['deep nesting', { all: [{ not: { any: [thirdLine, { all: [pregnant, her2Positive] }] } }, { any: [hadTdxd, thirdLine] }] }, true]
]

t.test('compileCondition: all, any and not nesting', async (t) => {
  for (const [name, condition, expected] of TREES) t.equal(compileCondition(condition)(FRAME), expected, name)
})

t.test('compileCondition agrees with json-rules-engine on every tree', async (t) => {
  for (const [name, condition, expected] of TREES) {
    const { fired } = await reference(condition)
    t.equal(fired, expected, name)
  }
})

t.test('compileCondition: an unknown fact fails at compile time; an unsupplied fact when it is reached', async (t) => {
  t.throws(() => compileCondition({ all: [her2Positive, leaf('noSuchFact', 'equal', 1)] }), { message: 'Unknown fact: noSuchFact' })
  const unsupplied = leaf('firedCodes', 'contains', 'CI-01')
  t.throws(() => compileCondition({ all: [her2Positive, unsupplied] })(FRAME), { name: 'UndefinedFactError', message: 'Undefined fact: firedCodes' })
  t.throws(() => compileCondition({ not: unsupplied })(FRAME), UndefinedFactError)
  t.throws(() => compileCondition(unsupplied)(FRAME), UndefinedFactError)
  t.equal(compileCondition({ all: [thirdLine, unsupplied] })(FRAME), false, 'all stops at the first false')
  t.equal(compileCondition({ any: [her2Positive, unsupplied] })(FRAME), true, 'any stops at the first true')
  await t.rejects(reference({ all: [her2Positive, unsupplied] }), /Undefined fact: firedCodes/, 'json-rules-engine rejects it too')
})

t.test('compileCondition: the compiled predicate is reusable across fact frames', async (t) => {
  const predicate = compileCondition({ all: [her2Positive, { not: pregnant }] })
  t.equal(predicate(FRAME), true)
  t.equal(predicate(frameOf({ ...FACTS, pregnant: true })), false)
  t.equal(predicate(frameOf({ ...FACTS, her2Status: 'equivocal' })), false)
  t.equal(predicate(FRAME), true, 'no state kept between calls')
})

t.test('json-rules-engine traces: every node with its result, leaves with factResult', async (t) => {
  const { trace } = await reference({ all: [her2Positive, { any: [thirdLine, hadTdxd] }, { not: pregnant }] })
  t.match(trace, {
    all: [
      { fact: 'her2Status', operator: 'equal', value: 'positive', factResult: 'positive', result: true },
      {
        any: [
          { fact: 'lineOfTherapy', operator: 'greaterThanInclusive', value: 3, factResult: 2, result: false },
          { fact: 'priorAgents', operator: 'contains', value: 't_dxd', factResult: ['t_dxd', 'trastuzumab'], result: true }
        ]
      },
      { not: { fact: 'pregnant', operator: 'equal', value: true, factResult: null, result: false } }
    ]
  })
})

const because = async (condition: TopLevelCondition, expected = true) => becauseFromTrace((await reference(condition)).trace, expected)

t.test('becauseFromTrace: under all every child, under any the children that held', async (t) => {
  t.strictSame(await because({ all: [her2Positive, secondLine] }), [
    { fact: 'her2Status', operator: 'equal', value: 'positive', actual: 'positive' },
    { fact: 'lineOfTherapy', operator: 'equal', value: 2, actual: 2 }
  ])
  t.strictSame(await because({ any: [thirdLine, hadTdxd, secondLine] }), [
    { fact: 'priorAgents', operator: 'contains', value: 't_dxd', actual: ['t_dxd', 'trastuzumab'] },
    { fact: 'lineOfTherapy', operator: 'equal', value: 2, actual: 2 }
  ])
})

t.test('becauseFromTrace: not flips the polarity and reports "not:<operator>"', async (t) => {
  t.strictSame(await because({ all: [her2Positive, { not: pregnant }] }), [
    { fact: 'her2Status', operator: 'equal', value: 'positive', actual: 'positive' },
    { fact: 'pregnant', operator: 'not:equal', value: true }
  ])
  t.strictSame(await because({ not: { any: [pregnant, thirdLine] } }), [
    { fact: 'pregnant', operator: 'not:equal', value: true },
    { fact: 'lineOfTherapy', operator: 'not:greaterThanInclusive', value: 3, actual: 2 }
  ], 'under not(any), every child counted by being false')
  t.strictSame(await because({ not: { all: [her2Positive, thirdLine, pregnant] } }), [
    { fact: 'lineOfTherapy', operator: 'not:greaterThanInclusive', value: 3, actual: 2 },
    { fact: 'pregnant', operator: 'not:equal', value: true }
  ], 'under not(all), only the false children')
  t.strictSame(await because({ all: [{ not: { not: her2Positive } }] }), [
    { fact: 'her2Status', operator: 'equal', value: 'positive', actual: 'positive' }
  ], 'a double not restores the polarity')
})

t.test('becauseFromTrace: expected false explains why a tree failed', async (t) => {
  t.strictSame(await because({ all: [her2Positive, thirdLine] }, false), [
    { fact: 'lineOfTherapy', operator: 'not:greaterThanInclusive', value: 3, actual: 2 }
  ])
  t.strictSame(await because({ any: [thirdLine, pregnant] }, false), [
    { fact: 'lineOfTherapy', operator: 'not:greaterThanInclusive', value: 3, actual: 2 },
    { fact: 'pregnant', operator: 'not:equal', value: true }
  ])
})

t.test('becauseFromTrace: a null fact or a null value is told by the absent key (responses carry no null)', async (t) => {
  t.strictSame(await because({ all: [leaf('pregnant', 'equal', null)] }), [{ fact: 'pregnant', operator: 'equal' }])
  t.strictSame(await because({ not: leaf('her2Status', 'equal', null) }), [{ fact: 'her2Status', operator: 'not:equal', actual: 'positive' }])
  t.strictSame(await because({ all: [leaf('pregnant', 'notEqual', true)] }), [{ fact: 'pregnant', operator: 'notEqual', value: true }])
  t.strictSame(await because({ all: [leaf('earlyRelapse', 'equal', false)] }), [{ fact: 'earlyRelapse', operator: 'equal', value: false, actual: false }], 'false is kept')
  t.strictSame(await because({ all: [leaf('lineOfTherapy', 'greaterThan', 0)] }), [{ fact: 'lineOfTherapy', operator: 'greaterThan', value: 0, actual: 2 }], '0 is kept')
})

t.test('becauseFromTrace: hand-built traces (a leaf of the wrong polarity gives nothing, the root may lack result)', async (t) => {
  t.strictSame(becauseFromTrace({ fact: 'x', operator: 'equal', value: 1, factResult: 2, result: false }), [])
  t.strictSame(becauseFromTrace({ fact: 'x', operator: 'equal', value: 1, factResult: 1, result: true }, false), [])
  t.strictSame(becauseFromTrace({ fact: 'x', operator: 'equal', value: 1, factResult: 1, result: true }), [
    { fact: 'x', operator: 'equal', value: 1, actual: 1 }
  ])
  t.strictSame(becauseFromTrace({
    all: [
      { fact: 'her2Status', operator: 'equal', value: 'positive', factResult: 'positive', result: true },
      { not: { fact: 'pregnant', operator: 'equal', value: true, factResult: null, result: false } }
    ]
  }), [
    { fact: 'her2Status', operator: 'equal', value: 'positive', actual: 'positive' },
    { fact: 'pregnant', operator: 'not:equal', value: true }
  ])
})

t.test('compileExplainer gives the items becauseFromTrace gives from json-rules-engine, for both outcomes', async (t) => {
  for (const [name, condition] of TREES) {
    const { fired, trace } = await reference(condition)
    const explain = compileExplainer(condition)
    t.strictSame(explain(FRAME, fired), becauseFromTrace(trace, fired), `${name} (${fired ? 'fired' : 'not fired'})`)
  }
  const pregnantFrame = frameOf({ ...FACTS, pregnant: true, lineOfTherapy: 3 })
  for (const [name, condition] of TREES) {
    const { fired, trace } = await reference(condition, { ...FACTS, pregnant: true, lineOfTherapy: 3 })
    t.strictSame(compileExplainer(condition)(pregnantFrame, fired), becauseFromTrace(trace, fired), `${name}, other facts`)
  }
})

t.test('compileExplainer: polarity, "not:" prefix and absent null keys', async (t) => {
  t.strictSame(compileExplainer({ all: [her2Positive, { not: pregnant }] })(FRAME, true), [
    { fact: 'her2Status', operator: 'equal', value: 'positive', actual: 'positive' },
    { fact: 'pregnant', operator: 'not:equal', value: true }
  ])
  t.strictSame(compileExplainer({ any: [thirdLine, hadTdxd] })(FRAME, true), [
    { fact: 'priorAgents', operator: 'contains', value: 't_dxd', actual: ['t_dxd', 'trastuzumab'] }
  ])
  t.strictSame(compileExplainer({ all: [her2Positive, thirdLine] })(FRAME, false), [
    { fact: 'lineOfTherapy', operator: 'not:greaterThanInclusive', value: 3, actual: 2 }
  ])
  t.strictSame(compileExplainer({ all: [leaf('pregnant', 'equal', null)] })(FRAME, true), [{ fact: 'pregnant', operator: 'equal' }])
  t.throws(() => compileExplainer(leaf('noSuchFact', 'equal', 1)), { message: 'Unknown fact: noSuchFact' })
  t.throws(() => compileExplainer({ all: [leaf('firedCodes', 'contains', 'CI-01')] })(FRAME, true), UndefinedFactError)
})
