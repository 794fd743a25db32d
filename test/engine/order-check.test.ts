import t from 'tap'
import { compileCondition, compileExplainer, UndefinedFactError } from '../../src/engine/conditions.js'
import { prepareKnowledgeBase } from '../../src/engine/knowledge-base.js'
import { avoidRowsOf, caseFactFrame, checkOrderCodes, isOfferedOptionClause, OrderCheckError } from '../../src/engine/order-check.js'
import type { LoadedRuleset } from '../../src/engine/load-rules.js'
import type { RuleDefinition, TopLevelCondition } from '../../src/schemas/rule-file.js'
import { frameOf } from '../fixtures/fact-frames.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { caseOf, type CaseOverrides } from '../fixtures/factories.js'

/**
 * The order check of spec/ehr-integration.md §7.4 (src/engine/order-check.ts): a code's avoid rows
 * evaluated on the case's own facts, with the clauses about offered options taken as satisfied [D].
 */

const DATE = '2026-06-01'
const check = (overrides: CaseOverrides, codes: readonly string[]): string[] =>
  checkOrderCodes(knowledgeBase, caseOf(overrides), DATE, codes).map((finding) => `${finding.code} ${finding.rule.definition.name}`)
const rowNames = (code: string): string[] => avoidRowsOf(knowledgeBase, code).map(({ prepared }) => prepared.definition.name)

t.test('assumed leaves hold without reading their fact, explain nothing, and are never assumed by the pipeline', async (t) => {
  const condition: TopLevelCondition = { all: [{ fact: 'her2Status', operator: 'equal', value: 'positive' }, { fact: 'offeredTdxdOption', operator: 'equal', value: true }] }
  const frame = frameOf({ her2Status: 'positive' })
  t.throws(() => compileCondition(condition)(frame), UndefinedFactError, 'without the assumption the pass-4 fact is read')
  t.equal(compileCondition(condition, isOfferedOptionClause)(frame), true)
  t.same(compileExplainer(condition, isOfferedOptionClause)(frame, true).map(({ fact }) => fact), ['her2Status'], 'the assumed leaf explains nothing')
  const negated: TopLevelCondition = { any: [{ not: { fact: 'firedCodes', operator: 'contains', value: 'BMA-01' } }, { fact: 'her2Status', operator: 'equal', value: 'negative' }] }
  t.equal(compileCondition(negated, isOfferedOptionClause)(frame), false, 'under `not` an assumed leaf still holds, so the negation fails')
  t.same(compileExplainer(negated, isOfferedOptionClause)(frame, false).map(({ fact }) => fact), ['her2Status'])
})

t.test('the option-offered clauses: firedCodes and the pass-4 facts', async (t) => {
  const leaf = (fact: string): boolean => isOfferedOptionClause({ fact, operator: 'equal', value: true })
  t.ok(leaf('firedCodes'))
  for (const fact of ['offeredOptions', 'offeredTdxdOption', 'offeredCapecitabineOption', 'offeredHer2Option']) t.ok(leaf(fact), fact)
  for (const fact of ['forbiddenOptions', 'her2TherapyForbidden', 'creatinineClearanceMlMin', 'inScope', 'unknownFact']) t.notOk(leaf(fact), fact)
})

t.test('the avoid rows of each code of the §7.4 table', async (t) => {
  t.same(rowNames('CI-04'), ['safety/ci-04-ild-avoid-tdxd'], 'CI-04: its avoid row only, not the suspected-ILD rows')
  t.same(rowNames('CI-01'), ['safety/ci-01-heart-failure'])
  t.same(rowNames('CI-03'), ['safety/ci-03-lvef-fall', 'safety/ci-03-lvef-fall-after-early-therapy'])
  t.same(rowNames('CI-05'), ['safety/ci-05-pregnancy', 'safety/ci-05-pregnancy-first-trimester', 'safety/ci-05-pregnancy-second-trimester', 'safety/ci-05-pregnancy-third-trimester'],
    'CI-05: the pregnancy rows, not the out-of-scope emergency rows (no option)')
  t.same(rowNames('CI-06b'), ['safety/ci-06b-avoid-capecitabine'])
  t.equal(rowNames('BMA-01').length, 9, 'every BMA-01 row avoids zoledronic acid and pamidronate below 30 mL/min')
  t.same(rowNames('BMA-04'), ['supportive-care/bma-04-severe-renal-impairment', 'supportive-care/bma-04-severe-renal-impairment-limited-benefit'])
  t.same(rowNames('BMA-05'), ['supportive-care/bma-05-osteonecrosis-of-the-jaw'])
  t.same(rowNames('BMA-06'), ['supportive-care/bma-06-pregnancy'])
  t.same(rowNames('SYS-02'), [], 'a code without avoid entries has no row')
  t.equal(avoidRowsOf(knowledgeBase, 'CI-01'), avoidRowsOf(knowledgeBase, 'CI-01'), 'compiled once per knowledge base')
})

t.test('each code holds on its own facts and not without them', async (t) => {
  t.same(check({ patient: { ildHistory: 'ild_steroid_requiring' } }, ['CI-04']), ['CI-04 safety/ci-04-ild-avoid-tdxd'])
  t.same(check({ history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'progression', maxIldGrade: 2 }] } }, ['CI-04']), ['CI-04 safety/ci-04-ild-avoid-tdxd'], 'grade ≥ 2 ILD on a line')
  t.same(check({ patient: { ildHistory: 'suspected_ild' } }, ['CI-04']), [])
  t.same(check({ patient: { heartFailureSymptoms: 'nyha_iii' } }, ['CI-01']), ['CI-01 safety/ci-01-heart-failure'])
  t.same(check({ patient: { lvefPercent: 40 } }, ['CI-01']), [], 'LVEF 40 % is not below 40')
  t.same(check({ patient: { pregnant: true } }, ['CI-05']), ['CI-05 safety/ci-05-pregnancy'], 'gestational age unrecorded')
  t.same(check({ patient: { pregnant: true, gestationalWeeks: 30 } }, ['CI-05']), ['CI-05 safety/ci-05-pregnancy-third-trimester'])
  t.same(check({ patient: { creatinineClearanceMlMin: 29.9 } }, ['CI-06b']), ['CI-06b safety/ci-06b-avoid-capecitabine'], 'CI-06b without its "capecitabine proposed" clause')
  t.same(check({ patient: { creatinineClearanceMlMin: 30 } }, ['CI-06b', 'BMA-01', 'BMA-04']), [])
  t.same(check({ patient: { pregnant: true } }, ['BMA-06']), ['BMA-06 supportive-care/bma-06-pregnancy'])
  t.same(check({ tumor: { her2Ihc: '0', erPercent: 0 }, patient: { lvefPercent: 20, pregnant: true } }, ['CI-01', 'CI-05', 'BMA-06']), [], 'out of scope: none')
})

t.test('BMA-01 holds through the condition of its avoid entry; BMA-04 without "BMA-01 fired" [D]', async (t) => {
  t.same(check({ patient: { creatinineClearanceMlMin: 20 } }, ['BMA-01', 'BMA-04']), [
    'BMA-01 supportive-care/bma-01-start-bone-modifying-agent', 'BMA-04 supportive-care/bma-04-severe-renal-impairment'
  ])
  const [bma01] = checkOrderCodes(knowledgeBase, caseOf({ patient: { creatinineClearanceMlMin: 20 } }), DATE, ['BMA-01'])
  t.same(bma01?.because.at(-1), {
    fact: 'creatinineClearanceMlMin',
    operator: 'lessThan',
    value: 30,
    actual: 20,
    label: 'Creatinine clearance (mL/min, Cockcroft–Gault)',
    inputs: ['/patient/creatinineClearanceMlMin']
  }, 'the avoid entry\'s condition closes the because, with its lineage')
  const options = bma01?.rule.view.options ?? []
  t.same(bma01?.avoided.map((index) => options[index]?.id), ['zoledronic_acid', 'pamidronate'], 'the avoid entries that hold')
  t.same(check({ disease: { metastaticSites: ['liver'] }, patient: { creatinineClearanceMlMin: 20 } }, ['BMA-01', 'BMA-04']), [
    'BMA-04 supportive-care/bma-04-severe-renal-impairment'
  ], 'no bone metastasis: BMA-01 does not fire, BMA-04 holds with its "bone-modifying agent recommended" clause taken as satisfied')
  t.same(check({ patient: { creatinineClearanceMlMin: 20 }, preferences: { goalsOfCare: 'comfort_focused' } }, ['BMA-04']), [
    'BMA-04 supportive-care/bma-04-severe-renal-impairment-limited-benefit'
  ], 'the second row')
})

t.test('the case\'s own facts only: pass-3 and pass-4 slots stay unset', async (t) => {
  const frame = caseFactFrame(caseOf(), DATE)
  t.equal(frame.filter((value) => value !== undefined).length > 50, true)
  t.throws(() => compileCondition({ all: [{ fact: 'firedCodes', operator: 'contains', value: 'X' }] })(frame), UndefinedFactError)
})

function rulesetWith (definition: RuleDefinition): LoadedRuleset {
  return { id: 'test', version: '1.0.0', description: 'test', file: 'test.json', digest: 'sha256:0', rules: [definition] }
}

const avoidRule = (overrides: Partial<RuleDefinition>): RuleDefinition => ({
  name: 'test/avoid',
  priority: 1,
  pass: 2,
  scope: 'case',
  conditions: { all: [{ fact: 'inScope', operator: 'equal', value: true }] },
  event: {
    type: 'recommendation',
    params: { code: 'CI-99', domain: 'systemic_therapy', strength: 'avoid', title: 'Avoid', detail: 'Avoid it.', evidence: ['R1'], options: [{ id: 'tdxd' }] }
  },
  ...overrides
})

t.test('a row the order check cannot decide stops with a message naming the rule', async (t) => {
  const forbidden = prepareKnowledgeBase({ ...knowledgeBase, rulesets: [rulesetWith(avoidRule({ pass: 3, conditions: { all: [{ fact: 'her2TherapyForbidden', operator: 'equal', value: true }] } }))] })
  t.throws(() => avoidRowsOf(forbidden, 'CI-99'), new OrderCheckError('rule "test/avoid" (CI-99): fact "her2TherapyForbidden" describes what the evaluation decided; the order check reads the case\'s own facts only'))
  const lesion = prepareKnowledgeBase({ ...knowledgeBase, rulesets: [rulesetWith(avoidRule({ scope: 'spine_lesion' }))] })
  t.throws(() => avoidRowsOf(lesion, 'CI-99'), { name: 'OrderCheckError', message: /a spine_lesion rule cannot be checked against an order/ })
  const fine = prepareKnowledgeBase({ ...knowledgeBase, rulesets: [rulesetWith(avoidRule({ conditions: { all: [{ fact: 'inScope', operator: 'equal', value: true }, { not: { fact: 'pregnant', operator: 'equal', value: true } }] } }))] })
  t.same(checkOrderCodes(fine, caseOf(), DATE, ['CI-99']).map(({ code, avoided }) => ({ code, avoided })), [{ code: 'CI-99', avoided: [0] }], 'an unconditional avoid entry')
})

t.test('an avoid entry counts only when it is the entry that holds for its option', async (t) => {
  const shadowed = prepareKnowledgeBase({
    ...knowledgeBase,
    rulesets: [rulesetWith(avoidRule({
      event: {
        type: 'recommendation',
        params: {
          code: 'CI-99',
          domain: 'systemic_therapy',
          strength: 'recommended',
          title: 'Maybe',
          detail: 'Maybe.',
          evidence: ['R1'],
          options: [{ id: 'tdxd', strength: 'consider', when: { all: [{ fact: 'pregnant', operator: 'notEqual', value: true }] } }, { id: 'tdxd', strength: 'avoid' }]
        }
      }
    }))]
  })
  t.same(checkOrderCodes(shadowed, caseOf(), DATE, ['CI-99']), [], 'an earlier entry for the option holds: the avoid entry does not')
  t.same(checkOrderCodes(shadowed, caseOf({ patient: { pregnant: true } }), DATE, ['CI-99']).map(({ avoided }) => avoided), [[1]], 'it does once the earlier one fails')
  const never = prepareKnowledgeBase({
    ...knowledgeBase,
    rulesets: [rulesetWith(avoidRule({
      event: { type: 'recommendation', params: { code: 'CI-99', domain: 'systemic_therapy', strength: 'recommended', title: 'T', detail: 'D.', evidence: ['R1'], options: [{ id: 'tdxd' }, { id: 'tdxd', strength: 'avoid' }] } }
    }))]
  })
  t.same(checkOrderCodes(never, caseOf({ patient: { pregnant: true } }), DATE, ['CI-99']), [], 'behind an unconditional entry an avoid entry never holds')
})
