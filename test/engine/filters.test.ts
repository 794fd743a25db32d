import t from 'tap'
import {
  applyForbidden, decideConditionalFilters, filterOf, forbiddenBy, forbiddenMap, forbiddingCodes, HER2_STATUS_FILTER, her2StatusFilter, safetyFilters,
  type Removal
} from '../../src/engine/filters.js'
import type { Fired } from '../../src/engine/fired.js'
import { HER2_OPTIONS } from '../../src/engine/options.js'
import type { Her2Status, OptionId, Strength } from '../../src/schemas/common.js'
import { item, option, type Option } from '../fixtures/factories.js'
import { rule, testKnowledgeBase } from '../fixtures/pipeline-kb.js'

// The pure steps of src/engine/filters.ts (spec/clinical-rules.md Part 1 "Evaluation passes" 2, 3b–3d).

// Rules by pass, with the params the steps read.
const kb = testKnowledgeBase([
  rule('p1', 1, { code: 'CLS-05', domain: 'classification' }),
  rule('p2', 2, { code: 'CI-01', strength: 'avoid' }),
  rule('p2-exempting', 2, { code: 'BMA-05', strength: 'avoid', doesNotFilter: ['SUP-01'] }),
  rule('p2-conditional', 2, { code: 'CI-06b', strength: 'avoid', onlyWhenAvoidedOptionProposed: true }),
  rule('p3', 3, { code: 'SYS-12' }),
  rule('p4', 4, { code: 'FU-07', domain: 'follow_up' })
])
const fired = (name: string, code: string, options: Option[] | undefined, strength: Strength = 'recommended'): Fired => {
  const prepared = kb.rulesByName.get(`test/${name}`)
  if (prepared === undefined) throw new Error(name)
  return { rule: prepared, item: item({ code, strength, options, rule: { id: prepared.definition.name, ruleset: 'test', rulesetVersion: '1.0.0' } }) }
}
const ids = (entries: Fired[]): Array<[string, string[]]> => entries.map(({ item }) => [item.code, (item.options ?? []).map((o) => o.id)])

t.test('a pass-2 item forbids what it marks avoid (own strength or the item\'s), not its alternatives', async (t) => {
  const ci01 = fired('p2', 'CI-01', [option('tdxd'), option('thp', 'avoid'), option('cardio_oncology_referral', 'urgent'), option('endocrine_therapy', 'consider')], 'avoid')
  t.strictSame(filterOf(ci01), { code: 'CI-01', forbids: ['tdxd', 'thp'], doesNotFilter: [] })
  t.strictSame(filterOf(fired('p2-exempting', 'BMA-05', [option('denosumab')], 'avoid')).doesNotFilter, ['SUP-01'])
  t.strictSame(filterOf(fired('p2', 'CI-02', undefined)).forbids, [], 'an item without options forbids nothing')
})

t.test('the HER2-status filter: equivocal or unknown only; every HER2 option and clinical_trial; code CLS-02', async (t) => {
  t.equal(her2StatusFilter('equivocal'), HER2_STATUS_FILTER)
  t.equal(her2StatusFilter('unknown'), HER2_STATUS_FILTER)
  t.equal(her2StatusFilter('positive'), undefined)
  t.equal(her2StatusFilter('negative'), undefined)
  t.equal(HER2_STATUS_FILTER.code, 'CLS-02')
  t.strictSame([...HER2_STATUS_FILTER.forbids].sort(), [...HER2_OPTIONS, 'clinical_trial'].sort())
  t.notOk(HER2_STATUS_FILTER.forbids.includes('chemotherapy_without_her2'))
  t.notOk(HER2_STATUS_FILTER.forbids.includes('endocrine_therapy'))
  const ci01 = fired('p2', 'CI-01', [option('tdxd')], 'avoid')
  t.strictSame(safetyFilters([ci01], 'unknown').map((filter) => filter.code), ['CI-01', 'CLS-02'], 'after the pass-2 items')
  t.strictSame(safetyFilters([ci01], 'positive').map((filter) => filter.code), ['CI-01'])
})

t.test('forbiddenBy: every filter that forbids the option, less those that exempt the item\'s code, each code once', async (t) => {
  const bma05 = { code: 'BMA-05', forbids: ['zoledronic_acid', 'denosumab'] as OptionId[], doesNotFilter: ['SUP-01'] }
  const bma06 = { code: 'BMA-06', forbids: ['zoledronic_acid'] as OptionId[], doesNotFilter: [] }
  const bma06Twice = { ...bma06 }
  const map = forbiddenMap([bma05, bma06, bma06Twice])
  t.strictSame(forbiddenBy(map, 'zoledronic_acid', 'BMA-01'), ['BMA-05', 'BMA-06'])
  t.strictSame(forbiddenBy(map, 'zoledronic_acid', 'SUP-01'), ['BMA-06'], 'exempted from BMA-05, not from BMA-06')
  t.strictSame(forbiddenBy(map, 'denosumab', 'SUP-01'), [], 'only BMA-05 forbids it: SUP-01 may offer it')
  t.strictSame(forbiddenBy(map, 'denosumab', 'BMA-01'), ['BMA-05'])
  t.strictSame(forbiddenBy(map, 'pamidronate', 'BMA-01'), [], 'not forbidden')
  t.strictSame([...forbiddingCodes(map)], [['zoledronic_acid', ['BMA-05', 'BMA-06']], ['denosumab', ['BMA-05']]], 'the summary: option → codes, each once')
})

t.test('step 3b: a conditional filter stays only when a proposed option of its own would survive every other filter', async (t) => {
  const ci06b = fired('p2-conditional', 'CI-06b', [option('lapatinib_capecitabine'), option('neratinib_capecitabine')], 'avoid')
  const ci01 = fired('p2', 'CI-01', [option('lapatinib_capecitabine')], 'avoid')
  const exempting = fired('p2-exempting', 'BMA-05', [option('lapatinib_capecitabine')], 'avoid')
  const proposing = (opt: Option, code = 'SYS-12'): Fired => fired('p3', code, [opt, option('tdxd')])
  const kept = (pass2: Fired[], proposed: Fired[], her2: Her2Status = 'positive'): string[] => decideConditionalFilters(pass2, her2, proposed).map(({ item }) => item.code)

  t.strictSame(kept([ci06b, ci01], [proposing(option('neratinib_capecitabine'))]), ['CI-06b', 'CI-01'], 'neratinib: no other filter forbids it')
  t.strictSame(kept([ci06b, ci01], [proposing(option('lapatinib_capecitabine'))]), ['CI-01'], 'lapatinib: CI-01 removes it anyway')
  t.strictSame(kept([ci06b], [proposing(option('lapatinib_capecitabine'))], 'equivocal'), [], 'the HER2-status filter is another filter')
  t.strictSame(kept([ci06b], [proposing(option('lapatinib_capecitabine', 'avoid'))]), [], 'proposed as avoid')
  t.strictSame(kept([ci06b], [proposing(option('tucatinib_trastuzumab_capecitabine'))]), [], 'another option, not one CI-06b avoids')
  t.strictSame(kept([ci06b], []), [], 'nothing proposed')
  t.strictSame(kept([ci06b, exempting], [proposing(option('lapatinib_capecitabine'), 'SUP-01')]), ['CI-06b', 'BMA-05'], 'a filter exempting the proposing code does not count')
  t.strictSame(kept([ci06b, exempting], [proposing(option('lapatinib_capecitabine'))]), ['BMA-05'])
  t.strictSame(kept([ci01], []), ['CI-01'], 'unconditional filters always stay')
})

t.test('steps 3c/3d: removal by pass — pass 3 and 4 emptied items dropped, pass 1 and 2 never', async (t) => {
  const map = forbiddenMap([{ code: 'CI-05', forbids: ['endocrine_therapy', 'tdxd'], doesNotFilter: [] }, { code: 'BMA-05', forbids: ['denosumab'], doesNotFilter: ['SUP-01'] }])
  const entries = [
    fired('p1', 'CLS-05', [option('endocrine_therapy')]),
    fired('p2', 'CI-01', [option('tdxd', 'avoid'), option('endocrine_therapy', 'consider')], 'avoid'),
    fired('p2', 'CI-03', [option('endocrine_therapy', 'consider'), option('cardio_oncology_referral', 'urgent')], 'urgent'),
    fired('p3', 'SYS-03', [option('tdxd'), option('thp', 'avoid')]),
    fired('p3', 'SYS-02', [option('tdxd'), option('thp')]),
    fired('p3', 'SUP-01', [option('denosumab', 'consider')]),
    fired('p3', 'PRIM-01', [option('upfront_mastectomy')], 'avoid'),
    fired('p3', 'SYS-01', undefined),
    fired('p4', 'FU-07', [option('endocrine_therapy')]),
    fired('p4', 'FU-01', [option('endocrine_therapy'), option('restaging_imaging')])
  ]
  const removals: Removal[] = []
  const kept = applyForbidden(entries, map, removals)
  t.strictSame(ids(kept), [
    ['CLS-05', []],
    ['CI-01', ['tdxd']],
    ['CI-03', ['cardio_oncology_referral']],
    ['SYS-02', ['thp']],
    ['SUP-01', ['denosumab']],
    ['PRIM-01', ['upfront_mastectomy']],
    ['SYS-01', []],
    ['FU-01', ['restaging_imaging']]
  ])
  t.notOk('options' in (kept[0] as Fired).item, 'a pass-1 item left with no option keeps no empty options array')
  t.equal(kept[4], entries[5], 'an untouched entry is the same object')
  t.equal(kept[3]?.rule, entries[4]?.rule, 'a changed item keeps its rule')
  t.strictSame(removals.map((removal) => `${removal.code}:${removal.option}:${removal.forbiddenBy.join('+')}`), [
    'CLS-05:endocrine_therapy:CI-05', 'CI-01:endocrine_therapy:CI-05', 'CI-03:endocrine_therapy:CI-05', 'SYS-03:tdxd:CI-05', 'SYS-02:tdxd:CI-05',
    'FU-07:endocrine_therapy:CI-05', 'FU-01:endocrine_therapy:CI-05'
  ])
  t.same(applyForbidden(entries, forbiddenMap([]), []), entries, 'nothing forbidden: everything stays')
})

t.test('a removal names the item\'s targets when it has some', async (t) => {
  const entry = fired('p3', 'LOC-06', [option('ebrt'), option('sbrt_spine')])
  const targeted: Fired = { ...entry, item: { ...entry.item, targets: ['T9'] } }
  const removals: Removal[] = []
  applyForbidden([targeted], forbiddenMap([{ code: 'CI-05', forbids: ['sbrt_spine'], doesNotFilter: [] }]), removals)
  t.strictSame(removals, [{ code: 'LOC-06', rule: 'test/p3', targets: ['T9'], option: 'sbrt_spine', forbiddenBy: ['CI-05'] }])
})
