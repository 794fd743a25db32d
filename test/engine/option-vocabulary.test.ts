import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Case } from '../../src/schemas/case.js'
import { OPTION_IDS } from '../../src/schemas/common.js'
import type { RuleSource } from '../../src/schemas/rule-file.js'
import { Recommender } from '../../src/engine/recommender.js'
import { prepareKnowledgeBase } from '../../src/engine/knowledge-base.js'
import {
  assembleKnowledgeBase, loadContextAdjustments, loadKnowledgeBase, loadReferences, parseRuleset, RuleLoadError, sha256
} from '../../src/engine/load-rules.js'
import {
  expandOptionGroups, OPTIONS_FILE, OptionVocabularyError, parseOptionVocabulary, vocabularyRuleset, type OptionVocabulary
} from '../../src/engine/option-vocabulary.js'
import { ENGINE_RULES_DIR, OPTION_VOCABULARY } from '../../src/engine/options.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { loadExamples } from '../fixtures/expectations.js'
import { FIXED_NOW, knowledgeBase, respond, rulesDir } from '../fixtures/engine.js'
import { withRulesDir } from '../fixtures/rules-dir.js'

interface Entry { id: string, [key: string]: unknown }
interface VocabularyJson { id: string, agentClasses: Entry[], options: Entry[], groups: Entry[], [key: string]: unknown }

const text = readFileSync(join(rulesDir, OPTIONS_FILE), 'utf8')
/** A fresh copy of rules/options.json to edit. */
const source = (): VocabularyJson => JSON.parse(text) as VocabularyJson
const entry = (list: Entry[], id: string): Entry => list.find((item) => item.id === id) as Entry
const parse = (data: unknown): OptionVocabulary => parseOptionVocabulary(JSON.stringify(data))

t.test('rules/options.json loads: every option id of the contract once, with the sha256 of the file', async (t) => {
  t.equal(OPTION_VOCABULARY.digest, sha256(text))
  t.equal(OPTION_VOCABULARY.file, OPTIONS_FILE)
  t.strictSame([...OPTION_VOCABULARY.order].sort(), [...OPTION_IDS].sort())
  t.equal(new Set(OPTION_VOCABULARY.order).size, OPTION_IDS.length)
  t.equal(ENGINE_RULES_DIR, rulesDir, 'the engine reads the rules folder next to src/, the default RULES_DIR')
  t.strictSame({ ...parse(source()), digest: OPTION_VOCABULARY.digest }, OPTION_VOCABULARY, 'the same content resolves to the same vocabulary')
})

t.test('the vocabulary travels with the rulesets: provenance, /v1/rulesets and /health/ready list it as "options"', async (t) => {
  const expected = { id: 'options', version: OPTION_VOCABULARY.version, digest: sha256(text) }
  t.match(knowledgeBase.rulesets.at(-1), { ...expected, file: OPTIONS_FILE, rules: [] })
  t.strictSame(vocabularyRuleset(OPTION_VOCABULARY), { ...expected, description: OPTION_VOCABULARY.description, file: OPTIONS_FILE, rules: [] })
  const example = loadExamples()[0]
  const response = await respond(example?.case)
  t.strictSame(response.provenance.rulesets.find(({ id }) => id === 'options'), expected)
  const app = await buildTestApp(t)
  const ready = (await app.inject({ method: 'GET', url: '/health/ready' })).json() as { rulesets: Array<{ id: string }> }
  t.strictSame(ready.rulesets.find(({ id }) => id === 'options'), expected)
  const catalogue = (await app.inject({ method: 'GET', url: '/v1/rulesets' })).json() as { rulesets: Array<{ id: string }> }
  t.strictSame(catalogue.rulesets.find(({ id }) => id === 'options'), { ...expected, description: OPTION_VOCABULARY.description, rules: [] })
})

const rejections: Array<[string, (data: VocabularyJson) => unknown, RegExp]> = [
  ['an id other than "options"', (data) => ({ ...data, id: 'vocabulary' }), /^options\.json: \/id: /],
  ['an unknown top-level key', (data) => ({ ...data, extra: 1 }), /^options\.json: \/: Unrecognized key/],
  ['an unknown option id', (data) => { (data.options[0] as Entry).id = 'chemo'; return data }, /^options\.json: option "chemo" at \/options\/0\/id: unknown option id "chemo"/],
  ['an option id that is not a string', (data) => { (data.options[0] as Entry).id = 7 as never; return data }, /^options\.json: \/options\/0\/id: /],
  ['an option without a label', (data) => { delete entry(data.options, 'tdxd').label; return data }, /option "tdxd" at \/options\/2\/label/],
  ['an option listed twice', (data) => { data.options.push(entry(data.options, 'srs')); return data }, /^options\.json: option "srs": listed twice/],
  ['an option of the contract missing', (data) => ({ ...data, options: data.options.filter((option) => option.id !== 'calcitonin' && option.id !== 'toxicity_review') }),
    /^options\.json: options: every option id of the contract needs an entry; missing: calcitonin, toxicity_review/],
  ['an unknown agent in an option', (data) => { entry(data.options, 'thp').agents = ['taxan', 'trastuzumab']; return data }, /^options\.json: option "thp": unknown agent or agent class "taxan"/],
  ['an agent twice in an option, through its class', (data) => { entry(data.options, 'thp').agents = ['taxane', 'docetaxel']; return data }, /option "thp": agent "docetaxel" listed twice/],
  ['an unknown agent in an agent class', (data) => { entry(data.agentClasses, 'taxane').agents = ['docetaxol']; return data }, /^options\.json: agent class "taxane" at \/agentClasses\/0\/agents\/0: /],
  ['an agent class defined twice', (data) => { data.agentClasses.push(entry(data.agentClasses, 'taxane')); return data }, /agent class "taxane": defined twice/],
  ['an agent class named like an agent', (data) => { data.agentClasses.push({ id: 'tamoxifen', description: 'x', agents: ['tamoxifen'] }); return data }, /agent class "tamoxifen": is also an agent id/],
  ['an agent twice in a class', (data) => { entry(data.agentClasses, 'taxane').agents = ['docetaxel', 'docetaxel']; return data }, /agent class "taxane": agent "docetaxel" listed twice/],
  ['an agent class the engine reads missing', (data) => {
    entry(data.agentClasses, 'her2_antibody_adc_agent').id = 'her2_mab_adc'
    entry(data.groups, 'her2_antibody_adc').optionsContaining = ['her2_mab_adc']
    return data
  }, /agent class "her2_antibody_adc_agent": missing \(the engine reads it\)/],
  ['a badly written group id', (data) => { data.groups.push({ id: 'HER2', description: 'x', options: ['tdxd'] }); return data }, /group "HER2" at \/groups\/\d+\/id: must be lower-case words joined by "_"/],
  ['a group defined twice', (data) => { data.groups.push(entry(data.groups, 'tdxd')); return data }, /group "tdxd": defined twice/],
  ['an unknown option in a group', (data) => { entry(data.groups, 'tdxd').options = ['tdx']; return data }, /group "tdxd" at \/groups\/\d+\/options\/0: unknown option id "tdx"/],
  ['an option twice in a group', (data) => { entry(data.groups, 'tdxd').options = ['tdxd', 'tdxd']; return data }, /group "tdxd": option "tdxd" listed twice/],
  ['an unknown group in a group', (data) => { entry(data.groups, 'systemic').groups = ['compositon']; return data }, /group "systemic": unknown group "compositon"/],
  ['a group including a group defined after it', (data) => ({ ...data, groups: [...data.groups.filter((group) => group.id !== 'composition'), entry(data.groups, 'composition')] }),
    /group "systemic": unknown group "composition" \(a group may include only groups defined before it\)/],
  ['an unknown agent in a group', (data) => { entry(data.groups, 'her2').optionsContaining = ['anti_her2']; return data }, /group "her2": unknown agent or agent class "anti_her2"/],
  ['a group naming no option', (data) => { data.groups.push({ id: 'nothing', description: 'x' }); return data }, /group "nothing": has no option/],
  ['a group of an agent no option contains', (data) => { data.groups.push({ id: 'ribociclib', description: 'x', optionsContaining: ['ribociclib'] }); return data }, /group "ribociclib": has no option/],
  ['a group the engine reads missing', (data) => ({ ...data, groups: data.groups.filter((group) => group.id !== 'radiotherapy') }), /group "radiotherapy": missing \(the engine reads it\)/]
]

for (const [what, edit, message] of rejections) {
  t.test(`the vocabulary is rejected: ${what}`, async (t) => {
    t.throws(() => parse(edit(source())), { name: 'OptionVocabularyError', message })
  })
}

t.test('the vocabulary is rejected: not JSON', async (t) => {
  t.throws(() => parseOptionVocabulary('{"id": '), { name: 'OptionVocabularyError', message: /^options\.json: not valid JSON/ })
  t.throws(() => parseOptionVocabulary('[]', 'other.json'), { message: /^other\.json: \/: / })
})

t.test('loading a rules folder checks its options.json', async (t) => {
  const broken = withRulesDir(t, (dir) => {
    const data = source()
    entry(data.options, 'thp').agents = ['taxan']
    writeFileSync(join(dir, OPTIONS_FILE), JSON.stringify(data))
  })
  t.throws(() => loadKnowledgeBase(broken), { name: 'OptionVocabularyError', message: /options\.json: option "thp": unknown agent or agent class "taxan"/ })
  const reformatted = withRulesDir(t, (dir) => { writeFileSync(join(dir, OPTIONS_FILE), JSON.stringify(source())) })
  t.throws(() => loadKnowledgeBase(reformatted), OptionVocabularyError)
  t.throws(() => loadKnowledgeBase(reformatted), /options\.json: differs from .*options\.json, the vocabulary the engine's option sets were built from/)
  const absent = withRulesDir(t, (dir) => { unlinkSync(join(dir, OPTIONS_FILE)) })
  t.throws(() => loadKnowledgeBase(absent), /ENOENT.*options\.json/)
  const copy = withRulesDir(t, () => {})
  t.equal(loadKnowledgeBase(copy).rulesets.at(-1)?.digest, OPTION_VOCABULARY.digest, 'a copy of the folder loads')
})

// Group expansion ------------------------------------------------------------------------------

const { references, catalogue } = loadReferences(rulesDir)
const IN_SCOPE = { all: [{ fact: 'inScope', operator: 'equal', value: true }] }
const NEVER = { all: [{ fact: 'inScope', operator: 'equal', value: false }] }

function ruleset (options: unknown[]): string {
  return JSON.stringify({
    id: 'test',
    version: '1.0.0',
    description: 'Test ruleset.',
    rules: [{
      name: 'test/a-rule',
      priority: 10,
      pass: 3,
      scope: 'case',
      conditions: IN_SCOPE,
      event: { type: 'recommendation', params: { code: 'SYS-12', domain: 'systemic_therapy', strength: 'recommended', title: 'A title', detail: 'A detail.', options, evidence: ['R1'] } }
    }]
  })
}
const optionsOf = (options: unknown[], vocabulary?: OptionVocabulary): unknown[] =>
  parseRuleset('test.json', ruleset(options), references, vocabulary).rules[0]?.event.params.options ?? []
const group = (name: string): readonly string[] => OPTION_VOCABULARY.groups.get(name) ?? []

t.test('a group entry becomes one entry per member, in the vocabulary\'s order, with its strength, detail and condition', async (t) => {
  t.strictSame(optionsOf([{ group: 'capecitabine', strength: 'avoid', detail: 'Not with DPYD deficiency.', when: IN_SCOPE }]),
    group('capecitabine').map((id) => ({ id, strength: 'avoid', detail: 'Not with DPYD deficiency.', when: IN_SCOPE })))
  t.strictSame(optionsOf([{ group: 'tdxd' }]), [{ id: 'tdxd_pertuzumab' }, { id: 'tdxd' }], 'no strength: the item\'s applies')

  // The order is the vocabulary's, not the order a group lists its members in.
  const data = source()
  entry(data.groups, 'tdxd').options = ['tdxd', 'tdxd_pertuzumab']
  const reordered = parse(data)
  t.strictSame(reordered.groups.get('tdxd'), ['tdxd_pertuzumab', 'tdxd'])
  t.strictSame(optionsOf([{ group: 'tdxd' }], reordered), [{ id: 'tdxd_pertuzumab' }, { id: 'tdxd' }])
})

t.test('an entry for the same id written earlier wins; a member no entry could reach is left out', async (t) => {
  // An unconditional explicit entry: the group's entry for that id could never be chosen.
  t.strictSame(optionsOf([{ id: 'tdxd', strength: 'recommended' }, { group: 'her2', strength: 'avoid' }]),
    [{ id: 'tdxd', strength: 'recommended' }, ...group('her2').filter((id) => id !== 'tdxd').map((id) => ({ id, strength: 'avoid' }))])
  // A conditional explicit entry: the group's entry applies when it does not hold (first that holds wins).
  t.strictSame(optionsOf([{ id: 'tdxd', strength: 'consider', when: NEVER }, { group: 'tdxd', strength: 'avoid' }]),
    [{ id: 'tdxd', strength: 'consider', when: NEVER }, { id: 'tdxd_pertuzumab', strength: 'avoid' }, { id: 'tdxd', strength: 'avoid' }])
  // Two groups: an unconditional first group settles its members; a conditional one does not.
  t.strictSame(optionsOf([{ group: 'cns_active', strength: 'recommended' }, { group: 'tdxd', strength: 'consider' }]),
    [{ id: 'tdxd', strength: 'recommended' }, { id: 'tucatinib_trastuzumab_capecitabine', strength: 'recommended' }, { id: 'tdxd_pertuzumab', strength: 'consider' }])
  t.strictSame(optionsOf([{ group: 'cns_active', strength: 'recommended', when: NEVER }, { group: 'tdxd', strength: 'consider' }]), [
    { id: 'tdxd', strength: 'recommended', when: NEVER }, { id: 'tucatinib_trastuzumab_capecitabine', strength: 'recommended', when: NEVER },
    { id: 'tdxd_pertuzumab', strength: 'consider' }, { id: 'tdxd', strength: 'consider' }
  ])
  // An explicit entry written after the group keeps its place (and loses to the group, as today).
  t.strictSame(optionsOf([{ group: 'tdxd' }, { id: 'tdxd', strength: 'avoid' }]), [{ id: 'tdxd_pertuzumab' }, { id: 'tdxd' }, { id: 'tdxd', strength: 'avoid' }])
})

t.test('rules without a group entry are passed on as they are', async (t) => {
  const rules = JSON.parse(ruleset([{ id: 'tdxd' }])).rules as RuleSource[]
  const withoutOptions = { ...rules[0], event: { type: 'recommendation', params: { ...rules[0]?.event.params, options: undefined } } } as unknown as RuleSource
  const expanded = expandOptionGroups('test.json', [...rules, withoutOptions], OPTION_VOCABULARY, RuleLoadError)
  t.equal(expanded[0], rules[0])
  t.equal(expanded[1], withoutOptions)
})

t.test('a rule option naming an unknown group, or a group with a label, stops loading', async (t) => {
  t.throws(() => optionsOf([{ group: 'her3', strength: 'avoid' }]), RuleLoadError)
  t.throws(() => optionsOf([{ group: 'her3', strength: 'avoid' }]), /^test\.json: rule "test\/a-rule": unknown option group "her3" \(the groups are those of options\.json\)/)
  t.throws(() => optionsOf([{ group: 'her2', label: 'HER2 therapy' }]), /rule "test\/a-rule" at \/rules\/0\/event\/params\/options\/0: Unrecognized key: "label"/)
  t.throws(() => optionsOf([{ group: 'Her2' }]), /options\/0\/group: must be lower-case words/)
  t.throws(() => optionsOf([{ id: 'chemo' }]), /options\/0\/id: unknown option id "chemo"/)
  t.throws(() => optionsOf([{ id: 'tdxd', group: 'her2' }]), /options\/0: Invalid input/)
  t.throws(() => optionsOf([{ group: 'tdxd', when: { all: [{ fact: 'nope', operator: 'equal', value: 1 }] } }]), /rule "test\/a-rule": unknown fact "nope"/, 'group conditions are checked like any other')
})

t.test('both evaluators see the expanded options', async (t) => {
  const parsed = parseRuleset('test.json', ruleset([{ id: 'thp', strength: 'recommended' }, { group: 'her2', strength: 'consider' }]), references)
  const kb = prepareKnowledgeBase(assembleKnowledgeBase([parsed], references, catalogue, loadContextAdjustments(rulesDir)))
  const service = { name: 'test', version: '0.0.0' }
  const input = Case.parse(loadExamples().find((example) => example.name.includes('second line'))?.case ?? loadExamples()[0]?.case)
  const results = await Promise.all((['compiled', 'reference'] as const).map(async (evaluator) =>
    (await new Recommender(kb, { service, engineVersion: 'test', evaluator, now: FIXED_NOW }).evaluate(input)).body.recommendations))
  const item = results[0]?.find((recommendation) => recommendation.code === 'SYS-12')
  t.ok(item, 'the rule fired')
  t.strictSame(item?.options?.map((option) => option.id), ['thp', ...group('her2').filter((id) => id !== 'thp')])
  t.strictSame(results[1], results[0], 'json-rules-engine agrees')
})
