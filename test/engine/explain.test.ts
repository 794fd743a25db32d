import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { Recommender } from '../../src/engine/recommender.js'
import { prepareKnowledgeBase, type PreparedKnowledgeBase, type PreparedRule } from '../../src/engine/knowledge-base.js'
import { runCompiled, type RuleRunnerName } from '../../src/engine/rule-runners.js'
import {
  compiledFirstFailure, explainOptions, FAILURE_FINDERS, recordRun, referenceFirstFailure, type RuleRun
} from '../../src/engine/explain.js'
import { newFactFrame, writeFacts } from '../../src/engine/fact-specs.js'
import { lineageOf } from '../../src/engine/fact-lineage.js'
import { assembleKnowledgeBase, loadContextAdjustments, loadReferences, parseRuleset } from '../../src/engine/load-rules.js'
import { Case } from '../../src/schemas/case.js'
import type { OptionId } from '../../src/schemas/common.js'
import type { Explanation } from '../../src/schemas/recommendation.js'
import type { RuleDefinition, TopLevelCondition } from '../../src/schemas/rule-file.js'
import { FIXED_NOW, knowledgeBase, rulesDir } from '../fixtures/engine.js'

// "Why not" (api.md revision 8 `explanations`): every kind of reason on a small synthetic knowledge
// base whose rules are written for it, then on the real rules; both evaluators each time.

const EXAMPLE = JSON.parse(readFileSync(new URL('../../openapi/examples/mescc-not-operable.json', import.meta.url), 'utf8')) as { case: Record<string, unknown> }
/** In scope, HER2 positive, first line, ECOG 2; two spine lesions: T2 (pain 7) and L3 (pain 0). */
const BASE = Case.parse({
  ...EXAMPLE.case,
  disease: {
    ...(EXAMPLE.case.disease as object),
    spineLesions: [
      { level: 'T2', sinsTotal: 11, bilsky: '2', painNrs: 7 },
      { level: 'L3', sinsTotal: 4, bilsky: '0', painNrs: 0 }
    ]
  }
})

const metastatic = { fact: 'metastatic', operator: 'equal', value: true } as const
const line = (value: number) => ({ fact: 'lineOfTherapy', operator: 'equal', value }) as const
type Params = RuleDefinition['event']['params']
type SyntheticRule = Pick<RuleDefinition, 'name' | 'pass' | 'scope' | 'conditions'> & { params: Partial<Params> & Pick<Params, 'code'> }

const SYNTHETIC: SyntheticRule[] = [
  // A pass-2 filter: forbids tdm1 (item strength avoid); offers cardio_oncology_referral.
  { name: 'synthetic/filter', pass: 2, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'CI-01', strength: 'avoid', options: [{ id: 'tdm1' }, { id: 'cardio_oncology_referral', strength: 'urgent' }] } },
  // A pass-2 item without options forbids nothing.
  { name: 'synthetic/filter-without-options', pass: 2, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'CI-02', strength: 'consider' } },
  // Offers tdm1 alone: tdm1 is forbidden and the emptied item is dropped (step 3d).
  { name: 'synthetic/offers-forbidden', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'SYS-12', options: [{ id: 'tdm1' }] } },
  { name: 'synthetic/not-fired', pass: 3, scope: 'case', conditions: { all: [metastatic, line(7)] }, params: { code: 'SYS-09', options: [{ id: 'tdm1' }] } },
  // Fires; no tdm1 entry holds; the first entry that can offer it is the second (the first is avoid).
  {
    name: 'synthetic/option-condition',
    pass: 3,
    scope: 'case',
    conditions: { all: [metastatic] },
    params: { code: 'SYS-10', options: [{ id: 'tdm1', strength: 'avoid', when: { all: [line(9)] } }, { id: 'tdm1', when: { not: metastatic } }, { id: 'clinical_trial' }] }
  },
  // Fires; the first tdm1 entry that holds is avoid.
  { name: 'synthetic/avoid-held', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'SYS-03', options: [{ id: 'tdm1', strength: 'avoid', when: { all: [metastatic] } }, { id: 'tdm1' }, { id: 'clinical_trial' }] } },
  { name: 'synthetic/avoid-only-fired', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'PRIM-01', strength: 'avoid', options: [{ id: 'tdm1' }] } },
  { name: 'synthetic/avoid-only-not-fired', pass: 3, scope: 'case', conditions: { all: [line(7)] }, params: { code: 'PRIM-01', strength: 'avoid', options: [{ id: 'tdm1' }] } },
  { name: 'synthetic/avoid-only-entry-not-held', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'PRIM-02', options: [{ id: 'tdm1', strength: 'avoid', when: { all: [line(7)] } }, { id: 'clinical_trial' }] } },
  // Per spine lesion: fires for T2 (pain 7), not for L3.
  { name: 'synthetic/lesion', pass: 3, scope: 'spine_lesion', conditions: { all: [{ fact: 'lesionPainNrs', operator: 'greaterThanInclusive', value: 5 }] }, params: { code: 'LOC-06', options: [{ id: 'tdm1' }, { id: 'ebrt' }] } },
  // No non-spine bone lesion: the rule runs for none.
  { name: 'synthetic/bone', pass: 3, scope: 'bone_lesion', conditions: { all: [{ fact: 'bonePainNrs', operator: 'greaterThanInclusive', value: 1 }] }, params: { code: 'LOC-12', options: [{ id: 'tdm1' }] } },
  { name: 'synthetic/bone-avoid', pass: 3, scope: 'bone_lesion', conditions: { all: [{ fact: 'bonePainNrs', operator: 'greaterThanInclusive', value: 1 }] }, params: { code: 'LOC-11', strength: 'avoid', options: [{ id: 'tdm1' }] } },
  // Pass 4 reads what pass 3 offered.
  { name: 'synthetic/pass-4', pass: 4, scope: 'case', conditions: { all: [{ fact: 'offeredOptions', operator: 'contains', value: 'tdm1' }] }, params: { code: 'FU-01', options: [{ id: 'tdm1' }] } },
  // thp offered twice by SYS-02 and by SYS-13 [C]; named avoid by CI-03 (not counted as offering).
  { name: 'synthetic/offers-thp', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'SYS-13', options: [{ id: 'thp', strength: 'consider' }] } },
  { name: 'synthetic/offers-thp-again', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'SYS-02', options: [{ id: 'thp' }] } },
  { name: 'synthetic/offers-thp-again-2', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'SYS-02', options: [{ id: 'thp' }, { id: 'hp_maintenance' }] } },
  { name: 'synthetic/avoids-thp', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'CI-03', strength: 'avoid', options: [{ id: 'thp' }] } },
  // Brain radiosurgery in a case without brain metastases: the safety invariants remove it.
  { name: 'synthetic/srs', pass: 3, scope: 'case', conditions: { all: [metastatic] }, params: { code: 'CNS-03', options: [{ id: 'srs' }, { id: 'ebrt' }] } }
]

const { references, catalogue } = loadReferences(rulesDir)
function syntheticKb (rules: SyntheticRule[] = SYNTHETIC): PreparedKnowledgeBase {
  const ruleset = parseRuleset('synthetic.json', JSON.stringify({
    id: 'synthetic',
    version: '0.0.1',
    description: 'Rules written to produce every kind of explanation.',
    rules: rules.map(({ name, pass, scope, conditions, params }, i) => ({
      name,
      priority: 50 - i,
      pass,
      scope,
      conditions,
      event: { type: 'recommendation', params: { domain: 'systemic_therapy', strength: 'recommended', title: name, detail: 'Synthetic.', evidence: ['R2'], ...params } }
    }))
  }), references)
  return prepareKnowledgeBase(assembleKnowledgeBase([ruleset], references, catalogue, loadContextAdjustments(rulesDir)))
}
const SYNTHETIC_KB = syntheticKb()

const evaluatorFor = (kb: PreparedKnowledgeBase, evaluator: RuleRunnerName): Recommender =>
  new Recommender(kb, { service: { name: 'test', version: '0' }, engineVersion: 'test', evaluator, now: FIXED_NOW })

/** The explanations both evaluators give (they must be identical); the compiled ones are returned. */
async function explain (t: Test, kb: PreparedKnowledgeBase, input: Case, options: OptionId[]): Promise<Explanation[]> {
  const compiled = await evaluatorFor(kb, 'compiled').evaluate(input, { explain: options })
  const reference = await evaluatorFor(kb, 'reference').evaluate(input, { explain: options })
  t.strictSame(reference.body.explanations, compiled.body.explanations, 'both evaluators explain alike')
  return compiled.body.explanations as Explanation[]
}

t.test('every kind of reason, in knowledge-base order, per lesion for lesion rules', async (t) => {
  const [tdm1] = await explain(t, SYNTHETIC_KB, BASE, ['tdm1'])
  t.strictSame(tdm1, {
    option: 'tdm1',
    offered: false,
    reasons: [
      { code: 'CI-01', rule: 'synthetic/filter', kind: 'avoid' },
      { code: 'SYS-12', rule: 'synthetic/offers-forbidden', kind: 'forbidden', forbiddenBy: ['CI-01'] },
      { code: 'SYS-09', rule: 'synthetic/not-fired', kind: 'not_fired', failed: { fact: 'lineOfTherapy', operator: 'equal', value: 7, actual: 1, ...lineageOf('lineOfTherapy', { input: BASE }) } },
      { code: 'SYS-10', rule: 'synthetic/option-condition', kind: 'option_condition', failed: { fact: 'metastatic', operator: 'not:equal', value: true, actual: true, ...lineageOf('metastatic', { input: BASE }) } },
      { code: 'SYS-03', rule: 'synthetic/avoid-held', kind: 'avoid' },
      { code: 'PRIM-01', rule: 'synthetic/avoid-only-fired', kind: 'avoid' },
      { code: 'LOC-06', rule: 'synthetic/lesion', target: 'T2', kind: 'forbidden', forbiddenBy: ['CI-01'] },
      { code: 'LOC-06', rule: 'synthetic/lesion', target: 'L3', kind: 'not_fired', failed: { fact: 'lesionPainNrs', operator: 'greaterThanInclusive', value: 5, actual: 0, ...lineageOf('lesionPainNrs', { input: BASE, spineLesionIndex: 1 }) } },
      { code: 'LOC-12', rule: 'synthetic/bone', kind: 'not_fired' },
      { code: 'FU-01', rule: 'synthetic/pass-4', kind: 'not_fired', failed: { fact: 'offeredOptions', operator: 'contains', value: 'tdm1', actual: ['cardio_oncology_referral', 'clinical_trial', 'thp', 'hp_maintenance', 'srs', 'ebrt'], label: 'Options offered' } }
    ]
  }, 'rules that name it only as avoid and did not fire, or whose avoid entry did not hold, give nothing')
  // The failed condition in clinical words, with the request field of the lesion that was evaluated.
  t.match(tdm1?.reasons?.find((reason) => reason.target === 'L3')?.failed, { label: 'Pain at the lesion (NRS 0–10)', inputs: ['/disease/spineLesions/1/painNrs'] })
})

t.test('offered: offeredBy are the codes of the items offering it, sorted and unique; no reasons', async (t) => {
  const explanations = await explain(t, SYNTHETIC_KB, BASE, ['thp', 'cardio_oncology_referral', 'tdm1'])
  t.strictSame(explanations.map((entry) => entry.option), ['thp', 'cardio_oncology_referral', 'tdm1'], 'in the order asked')
  t.strictSame(explanations[0], { option: 'thp', offered: true, offeredBy: ['SYS-02', 'SYS-13'] })
  t.strictSame(explanations[1], { option: 'cardio_oncology_referral', offered: true, offeredBy: ['CI-01'] }, 'an avoid item\'s own alternative is offered')
})

t.test('an option that no rule names: not offered, no reasons', async (t) => {
  const [explanation] = await explain(t, SYNTHETIC_KB, BASE, ['toxicity_review'])
  t.strictSame(explanation, { option: 'toxicity_review', offered: false, reasons: [] })
})

t.test('removed by the safety invariants (no item forbids it): forbidden without forbiddenBy', async (t) => {
  const [srs, ebrt] = await explain(t, SYNTHETIC_KB, BASE, ['srs', 'ebrt'])
  t.strictSame(srs, { option: 'srs', offered: false, reasons: [{ code: 'CNS-03', rule: 'synthetic/srs', kind: 'forbidden' }] })
  t.strictSame(ebrt, { option: 'ebrt', offered: true, offeredBy: ['CNS-03', 'LOC-06'] })
})

t.test('HER2 status not positive: CLS-02 forbids the HER2 options', async (t) => {
  const equivocal = Case.parse({ ...BASE, tumor: { ...BASE.tumor, her2Ihc: '2+' } })
  const [thp] = await explain(t, SYNTHETIC_KB, equivocal, ['thp'])
  t.match(thp, { option: 'thp', offered: false })
  t.match(thp?.reasons?.filter((reason) => reason.kind === 'forbidden'), [
    { code: 'SYS-13', forbiddenBy: ['CLS-02'] }, { code: 'SYS-02', forbiddenBy: ['CLS-02'] }, { code: 'SYS-02', forbiddenBy: ['CLS-02'] }
  ])
})

t.test('no explanations unless asked for; an empty list explains nothing', async (t) => {
  const evaluator = evaluatorFor(SYNTHETIC_KB, 'compiled')
  t.notOk('explanations' in (await evaluator.evaluate(BASE)).body)
  t.notOk('explanations' in (await evaluator.evaluate(BASE, {})).body)
  t.strictSame((await evaluator.evaluate(BASE, { explain: [] })).body.explanations, [])
  const asked = await evaluator.evaluate(BASE, { explain: ['tdm1'] })
  const plain = await evaluator.evaluate(BASE)
  const { explanations: _explanations, ...rest } = asked.body
  t.strictSame(rest, plain.body, 'explaining changes nothing else')
})

t.test('real rules: SYS-02\'s THP forbidden by CI-01 in heart failure; lesion reasons carry their lesion', async (t) => {
  // Assertions kept to what the rule revisions in progress do not change.
  const heartFailure = Case.parse({ ...EXAMPLE.case, patient: { ...(EXAMPLE.case.patient as object), lvefPercent: 35 } })
  const [thp, sbrtSpine] = await explain(t, knowledgeBase, heartFailure, ['thp', 'sbrt_spine'])
  t.match(thp, { option: 'thp', offered: false })
  t.match(thp?.reasons?.find((reason) => reason.code === 'SYS-02' && reason.kind === 'forbidden'), { forbiddenBy: ['CI-01'] })
  t.match(thp?.reasons?.find((reason) => reason.code === 'CI-01'), { kind: 'avoid' })
  const lesionReasons = sbrtSpine?.reasons?.filter((reason) => reason.code.startsWith('LOC-') && reason.target !== undefined) ?? []
  t.ok(lesionReasons.length > 0)
  t.ok(lesionReasons.every((reason) => reason.target === 'T2'), 'the example\'s one spine lesion')
})

t.test('recordRun: copies the frame and keeps the target; records nothing without a list', async (t) => {
  const frame = writeFacts(newFactFrame(), { metastatic: true })
  const runs: RuleRun[] = []
  const outcomes = recordRun(runs, { rules: [], frame, target: 'T9', lineage: { input: BASE } }, [])
  t.strictSame(outcomes, [])
  frame[0] = 'changed'
  t.not(runs[0]?.frame[0], 'changed', 'a copy: the pipeline goes on writing into its frame')
  t.equal(runs[0]?.target, 'T9')
  recordRun(runs, { rules: [], frame, lineage: { input: BASE } }, [])
  t.notOk('target' in (runs[1] as RuleRun))
  t.equal(recordRun(undefined, { rules: [], frame, lineage: { input: BASE } }, outcomes), outcomes)
})

t.test('the failure finders: undefined when the condition holds; compiled walkers are reused', async (t) => {
  const frame = writeFacts(newFactFrame(), { metastatic: true, lineOfTherapy: 1 })
  const holds: TopLevelCondition = { all: [metastatic] }
  const fails: TopLevelCondition = { all: [metastatic, line(3)] }
  t.equal(await referenceFirstFailure(holds, frame), undefined)
  t.equal(compiledFirstFailure(holds, frame), undefined)
  t.strictSame(await referenceFirstFailure(fails, frame), { fact: 'lineOfTherapy', operator: 'equal', value: 3, actual: 1 })
  t.strictSame(compiledFirstFailure(fails, frame), await referenceFirstFailure(fails, frame))
  t.strictSame(compiledFirstFailure(fails, frame), { fact: 'lineOfTherapy', operator: 'equal', value: 3, actual: 1 }, 'second call: the cached walker')
  t.equal(FAILURE_FINDERS.compiled, compiledFirstFailure)
  t.equal(FAILURE_FINDERS.reference, referenceFirstFailure)
})

t.test('explainOptions takes the forbidding map as a parameter (the pipeline\'s own may replace it)', async (t) => {
  const frame = writeFacts(newFactFrame(), { metastatic: true, lineOfTherapy: 1 })
  const rules = [SYNTHETIC_KB.rulesByName.get('synthetic/offers-forbidden') as PreparedRule]
  const runs: RuleRun[] = []
  recordRun(runs, { rules, frame, lineage: { input: BASE } }, runCompiled(rules, frame))
  const explanations = await explainOptions(['tdm1'], {
    kb: SYNTHETIC_KB,
    runs,
    items: [],
    forbiddenBy: (option, code) => (option === 'tdm1' && code === 'SYS-12' ? ['CI-05', 'BMA-05', 'CI-05'] : []),
    firstFailure: compiledFirstFailure
  })
  t.match(explanations[0]?.reasons?.[0], { code: 'SYS-12', kind: 'forbidden', forbiddenBy: ['BMA-05', 'CI-05'] }, 'sorted, unique')
  t.strictSame(explanations[0]?.reasons?.find((reason) => reason.code === 'SYS-09'), { code: 'SYS-09', rule: 'synthetic/not-fired', kind: 'not_fired' }, 'a rule with no recorded run')
})

// The pipeline's own map of who forbids what, with its exemptions (doesNotFilter, red-team H8).
t.test('H8: BMA-05 does not filter SUP-01, so SUP-01\'s agents are never reported forbidden by it', async (t) => {
  const onjHypercalcaemia = Case.parse({
    ...BASE,
    patient: { ...BASE.patient, dentalStatus: 'active_onj', correctedCalcium: { value: 13, unit: 'mg/dL' } }
  })
  const explanations = await explain(t, knowledgeBase, onjHypercalcaemia, ['zoledronic_acid', 'denosumab'])
  for (const explanation of explanations) {
    const byBma05 = (explanation.reasons ?? []).filter((reason) => reason.code === 'SUP-01' && reason.forbiddenBy?.includes('BMA-05') === true)
    t.strictSame(byBma05, [], explanation.option)
  }
})
