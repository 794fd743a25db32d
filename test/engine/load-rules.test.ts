import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { checkDataGapCodes, checkFiredCodes, leafProblem, loadKnowledgeBase, parseContextAdjustments, parseRuleset, provenanceRulesets, RuleLoadError, sha256, type LoadedRuleset } from '../../src/engine/load-rules.js'
import { rulesDir } from '../fixtures/engine.js'
import { withRulesDir } from '../fixtures/rules-dir.js'

const references = JSON.parse(readFileSync(join(rulesDir, 'references.json'), 'utf8')) as { references: Array<{ ref: string }> }
const referenceMap = new Map(references.references.map((reference) => [reference.ref, reference as never]))

function rule (overrides: Record<string, unknown> = {}, params: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test/a-rule',
    priority: 10,
    pass: 3,
    scope: 'case',
    conditions: { all: [{ fact: 'inScope', operator: 'equal', value: true }] },
    event: {
      type: 'recommendation',
      params: { code: 'SYS-01', domain: 'systemic_therapy', strength: 'recommended', title: 'A title', detail: 'A detail.', evidence: ['R1'], ...params }
    },
    ...overrides
  }
}
const ruleset = (rules: unknown[]): string => JSON.stringify({ id: 'test', version: '1.0.0', description: 'Test ruleset.', rules })
const parse = (text: string): unknown => parseRuleset('test.json', text, referenceMap)

t.test('the real rules load, each with a sha256 digest of its file', async (t) => {
  const kb = loadKnowledgeBase(rulesDir)
  t.ok(kb.rulesets.length >= 1)
  for (const loaded of kb.rulesets) {
    t.equal(loaded.digest, sha256(readFileSync(join(rulesDir, loaded.file))), loaded.file)
  }
  t.ok(kb.references.has('R1'))
  t.strictSame(kb.referenceCatalogue.retired, ['R62'])
})

t.test('a valid ruleset parses', async (t) => {
  t.match(parse(ruleset([rule()])), { id: 'test', version: '1.0.0', file: 'test.json', digest: /^sha256:/ })
})

const rejections: Array<[string, string, RegExp]> = [
  ['not JSON', '{"id": ', /test\.json: not valid JSON/],
  ['unknown top-level key', JSON.stringify({ id: 'test', version: '1.0.0', description: 'x', rules: [rule()], extra: 1 }), /test\.json/],
  ['bad version', JSON.stringify({ id: 'test', version: 'one', description: 'x', rules: [rule()] }), /version/],
  ['unknown fact', ruleset([rule({ conditions: { all: [{ fact: 'inscope', operator: 'equal', value: true }] } })]), /rule "test\/a-rule": unknown fact "inscope"/],
  ['unknown operator', ruleset([rule({ conditions: { all: [{ fact: 'inScope', operator: 'isTrue', value: true }] } })]), /rule "test\/a-rule" at \/rules\/0/],
  ['path is not supported', ruleset([rule({ conditions: { all: [{ fact: 'inScope', operator: 'equal', value: true, path: '$.x' }] } })]), /rule "test\/a-rule"/],
  ['unknown option id', ruleset([rule({}, { options: [{ id: 'chemo' }] })]), /options\/0\/id/],
  ['unknown reference', ruleset([rule({}, { evidence: ['R999'] })]), /unknown reference R999/],
  ['retired reference', ruleset([rule({}, { evidence: ['R62'] })]), /unknown reference R62/],
  ['value a fact never takes', ruleset([rule({ conditions: { all: [{ fact: 'her2Status', operator: 'equal', value: 'pos' }] } })]), /cannot be compared/],
  ['null for a fact that is never missing', ruleset([rule({ conditions: { all: [{ fact: 'inScope', operator: 'equal', value: null }] } })]), /cannot be compared/],
  ['in without a list', ruleset([rule({ conditions: { all: [{ fact: 'erStatus', operator: 'in', value: 'low' }] } })]), /needs a list of possible values/],
  ['in with a list fact', ruleset([rule({ conditions: { all: [{ fact: 'priorAgents', operator: 'in', value: ['t_dxd'] }] } })]), /needs a list of possible values/],
  ['contains on a scalar fact', ruleset([rule({ conditions: { all: [{ fact: 'erStatus', operator: 'contains', value: 'low' }] } })]), /needs a list fact/],
  ['contains an unknown element', ruleset([rule({ conditions: { all: [{ fact: 'priorAgents', operator: 'contains', value: 'tdxd' }] } })]), /needs a list fact/],
  ['numeric operator on a string fact', ruleset([rule({ conditions: { all: [{ fact: 'erStatus', operator: 'lessThan', value: 3 }] } })]), /needs a number fact/],
  ['numeric operator with a string', ruleset([rule({ conditions: { all: [{ fact: 'ecog', operator: 'lessThan', value: '3' }] } })]), /needs a number fact/],
  ['lesion fact in a case rule', ruleset([rule({ conditions: { all: [{ fact: 'lesionSins', operator: 'greaterThan', value: 12 }] } })]), /exists only for spine_lesion rules/],
  ['pass-4 fact in pass 3', ruleset([rule({ conditions: { all: [{ fact: 'offeredTdxdOption', operator: 'equal', value: true }] } })]), /not known before pass 4/],
  ['bad fact in an option condition', ruleset([rule({}, { options: [{ id: 'tdxd', when: { all: [{ fact: 'nope', operator: 'equal', value: 1 }] } }] })]), /unknown fact "nope"/],
  ['bad fact in a note condition', ruleset([rule({}, { notes: [{ when: { all: [{ fact: 'nope', operator: 'equal', value: 1 }] }, text: 'x' }] })]), /unknown fact "nope"/],
  ['targets on a lesion rule', ruleset([rule({ scope: 'spine_lesion' }, { targets: ['T1'] })]), /takes its lesion as target/],
  ['onlyWhenAvoidedOptionProposed outside pass 2', ruleset([rule({}, { onlyWhenAvoidedOptionProposed: true })]), /for pass-2 safety filters/],
  ['doesNotFilter outside pass 2', ruleset([rule({}, { doesNotFilter: ['SUP-01'] })]), /doesNotFilter is for pass-2 safety filters/],
  ['doesNotFilter empty', ruleset([rule({ pass: 2 }, { doesNotFilter: [] })]), /doesNotFilter/],
  ['considerUnlessOffered outside pass 3', ruleset([rule({ pass: 4 }, { considerUnlessOffered: ['tdxd'] })]), /considerUnlessOffered is read after step 3c/],
  ['considerUnlessOffered with an unknown option', ruleset([rule({}, { considerUnlessOffered: ['tdx'] })]), /considerUnlessOffered/],
  ['strengthNotCappedByOptions outside pass 3', ruleset([rule({ pass: 2 }, { strengthNotCappedByOptions: true })]), /strengthNotCappedByOptions is an exception to the pass-3 strength cap/],
  ['allowedOutOfScope other than true', ruleset([rule({}, { allowedOutOfScope: false })]), /allowedOutOfScope/],
  ['title of 140 characters', ruleset([rule({}, { title: 'x'.repeat(140) })]), /title/],
  ['no evidence', ruleset([rule({}, { evidence: [] })]), /evidence/],
  ['bad rule name', ruleset([rule({ name: 'NoSlash' })]), /must be "<ruleset>\/<kebab-case-name>"/]
]

for (const [what, text, message] of rejections) {
  t.test(`rejects: ${what}`, async (t) => {
    t.throws(() => parse(text), RuleLoadError)
    t.throws(() => parse(text), { message })
  })
}

t.test('leafProblem accepts nested all/any/not and fitting values', async (t) => {
  t.equal(leafProblem({ fact: 'pregnant', operator: 'equal', value: null }, { pass: 1, scope: 'case' }), undefined)
  t.equal(leafProblem({ fact: 'menopausalStatus', operator: 'in', value: ['unknown', null] }, { pass: 1, scope: 'case' }), undefined)
  t.equal(leafProblem({ fact: 'firedCodes', operator: 'contains', value: 'CI-01' }, { pass: 3, scope: 'case' }), undefined)
  t.equal(leafProblem({ fact: 'lesionBilskyRank', operator: 'greaterThanInclusive', value: 4 }, { pass: 3, scope: 'spine_lesion' }), undefined)
  t.equal(leafProblem({ fact: 'ecog', operator: 'equal', value: 2 }, { pass: 3, scope: 'case' }), undefined)
  t.match(leafProblem({ fact: 'ecog', operator: 'equal', value: [2] }, { pass: 3, scope: 'case' }), /cannot be compared/)
  t.match(leafProblem({ fact: 'priorAgents', operator: 'equal', value: 't_dxd' }, { pass: 3, scope: 'case' }), /cannot be compared/)
  t.match(leafProblem({ fact: 'brainPresent', operator: 'equal', value: 'yes' }, { pass: 3, scope: 'case' }), /cannot be compared/)
})

t.test('duplicate rule names across files stop loading, naming both files', async (t) => {
  const dir = withRulesDir(t, (dir) => {
    const first = JSON.parse(readFileSync(join(dir, 'classification.json'), 'utf8')) as { rules: Array<{ name: string }> }
    writeFileSync(join(dir, 'zz-copy.json'), ruleset([rule({ name: first.rules[0]?.name })]))
  })
  t.throws(() => loadKnowledgeBase(dir), /zz-copy\.json: rule "classification\/[^"]+": duplicate rule name \(also in classification\.json\)/)
})

t.test('duplicate ruleset ids stop loading', async (t) => {
  const dir = withRulesDir(t, (dir) => {
    writeFileSync(join(dir, 'zz-copy.json'), JSON.stringify({ id: 'classification', version: '1.0.0', description: 'x', rules: [rule({ name: 'zz/unique' })] }))
  })
  t.throws(() => loadKnowledgeBase(dir), /duplicate ruleset id "classification"/)
})

t.test('duplicate references and an empty rules folder stop loading', async (t) => {
  const duplicated = withRulesDir(t, (dir) => {
    const file = JSON.parse(readFileSync(join(dir, 'references.json'), 'utf8')) as { references: unknown[] }
    file.references.push(file.references[0])
    writeFileSync(join(dir, 'references.json'), JSON.stringify(file))
  })
  t.throws(() => loadKnowledgeBase(duplicated), /references\.json: duplicate reference R1/)
  const empty = mkdtempSync(join(tmpdir(), 'rules-'))
  t.teardown(() => { rmSync(empty, { recursive: true, force: true }) })
  cpSync(join(rulesDir, 'references.json'), join(empty, 'references.json'))
  cpSync(join(rulesDir, 'context-adjustments.json'), join(empty, 'context-adjustments.json'))
  t.throws(() => loadKnowledgeBase(empty), /no ruleset files/)
  t.strictSame(loadKnowledgeBase(rulesDir, ['classification.json']).rulesets.map(({ id }) => id), ['classification', 'options'], 'the option vocabulary always loads')
})

t.test('a broken file stops the whole app from starting', async (t) => {
  const dir = withRulesDir(t, (dir) => { writeFileSync(join(dir, 'zz-broken.json'), ruleset([rule({ conditions: { all: [{ fact: 'x', operator: 'equal', value: 1 }] } })])) })
  await t.rejects(buildApp(parseConfig({ RULES_DIR: dir }), { logger: false }), /zz-broken\.json: rule "test\/a-rule": unknown fact "x"/)
})

t.test('a reference catalogue without retired numbers loads with none', async (t) => {
  const dir = withRulesDir(t, (dir) => {
    const file = JSON.parse(readFileSync(join(dir, 'references.json'), 'utf8')) as { retired?: unknown }
    delete file.retired
    writeFileSync(join(dir, 'references.json'), JSON.stringify(file))
  })
  t.strictSame(loadKnowledgeBase(dir).referenceCatalogue.retired, [])
})

const firedLeaf = (code: string): Record<string, unknown> => ({ fact: 'firedCodes', operator: 'contains', value: code })
const loaded = (rules: unknown[]): LoadedRuleset => parseRuleset('test.json', ruleset(rules), referenceMap)
/** SYS-01 and CI-01 exist; the second rule reads the codes the test gives it. */
const withReader = (reader: Record<string, unknown>): LoadedRuleset[] => [loaded([
  rule(),
  rule({ name: 'test/filter', pass: 2 }, { code: 'CI-01', domain: 'systemic_therapy', strength: 'avoid' }),
  { ...rule({ name: 'test/reader' }, { code: 'FU-02', domain: 'follow_up' }), ...reader }
])]

t.test('every code a firedCodes condition names must be the code of a loaded rule', async (t) => {
  t.doesNotThrow(() => { checkFiredCodes(withReader({ conditions: { all: [firedLeaf('SYS-01'), { not: firedLeaf('CI-01') }] } })) })
  const misspelt: Array<[string, Record<string, unknown>]> = [
    ['in the conditions', { conditions: { any: [firedLeaf('SYS-01'), { not: firedLeaf('CI-5') }] } }],
    ['in an option condition', { event: { type: 'recommendation', params: { ...(rule().event as { params: object }).params, options: [{ id: 'tdxd', when: { all: [firedLeaf('CI-5')] } }] } } }],
    ['in a note condition', { event: { type: 'recommendation', params: { ...(rule().event as { params: object }).params, notes: [{ when: { all: [{ fact: 'firedCodes', operator: 'doesNotContain', value: 'CI-5' }] }, text: 'x' }] } } }]
  ]
  for (const [where, reader] of misspelt) {
    t.throws(() => { checkFiredCodes(withReader(reader)) }, { name: 'RuleLoadError', message: /^test\.json: rule "test\/reader": firedCodes names "CI-5", which is the code of no loaded rule$/ }, where)
  }
})

t.test('every code a doesNotFilter list names must be the code of a loaded rule', async (t) => {
  const filter = (codes: string[]): LoadedRuleset[] => [loaded([rule(), rule({ name: 'test/filter', pass: 2 }, { code: 'BMA-05', domain: 'supportive_care', strength: 'avoid', doesNotFilter: codes })])]
  t.doesNotThrow(() => { checkFiredCodes(filter(['SYS-01'])) })
  t.throws(() => { checkFiredCodes(filter(['SUP-1'])) }, /test\.json: rule "test\/filter": doesNotFilter names "SUP-1"/)
})

t.test('a misspelt firedCodes code in a rules folder stops loading, naming file and rule', async (t) => {
  const dir = withRulesDir(t, (dir) => {
    writeFileSync(join(dir, 'zz-misspelt.json'), ruleset([rule({ name: 'zz/reader', conditions: { all: [firedLeaf('CI-5')] } })]))
  })
  t.throws(() => loadKnowledgeBase(dir), /zz-misspelt\.json: rule "zz\/reader": firedCodes names "CI-5"/)
})

t.test('every code a data gap affects must be the code of a loaded rule', async (t) => {
  const rulesets = [loaded([rule(), rule({ name: 'test/filter', pass: 2 }, { code: 'CI-01', domain: 'systemic_therapy', strength: 'avoid' })])]
  t.doesNotThrow(() => { checkDataGapCodes(rulesets, [{ field: 'patient.lvefPercent', affects: ['CI-01', 'SYS-01'] }]) })
  t.throws(() => { checkDataGapCodes(rulesets, [{ field: 'patient.lvefPercent', affects: ['CI-01', 'CI-5'] }]) },
    { name: 'RuleLoadError', message: /data gap patient\.lvefPercent \(src\/engine\/data-gaps\.ts\) affects "CI-5", which is the code of no loaded rule/ })
  t.throws(() => { checkDataGapCodes(rulesets) }, /data gap patient\.lvefPercent .* affects "CI-02"/, 'the real table against a knowledge base without CI-02')
})

t.test('a narrowed load skips the checks across files (a rule may read a code of another file)', async (t) => {
  // follow-up.json reads CI-03 (safety.json) and BMA-01 (supportive-care.json).
  t.strictSame(loadKnowledgeBase(rulesDir, ['follow-up.json']).rulesets.map(({ id }) => id), ['follow-up', 'options'])
})

t.test('the rule-file fields of revision 7 load where the pipeline reads them', async (t) => {
  t.match(parse(ruleset([
    rule({ name: 'test/filter', pass: 2 }, { doesNotFilter: ['SUP-01'], allowedOutOfScope: true }),
    rule({ name: 'test/menu' }, { considerUnlessOffered: ['tdxd', 'tdm1'], strengthNotCappedByOptions: true })
  ])), { id: 'test' })
})

// rules/context-adjustments.json (pregnancyRt): loaded and validated with the rulesets, digested like one.
t.test('the context adjustments load with the rulesets, with a sha256 digest, and are not a ruleset', async (t) => {
  const kb = loadKnowledgeBase(rulesDir)
  const file = join(rulesDir, 'context-adjustments.json')
  t.match(kb.contextAdjustments, { id: 'context-adjustments', version: /^\d+\.\d+\.\d+$/, file: 'context-adjustments.json', digest: sha256(readFileSync(file)) })
  t.notOk(kb.rulesets.some((loaded) => loaded.file === 'context-adjustments.json'))
  t.strictSame(provenanceRulesets(kb).at(-1), { id: 'context-adjustments', version: kb.contextAdjustments.version, digest: kb.contextAdjustments.digest })
  t.equal(provenanceRulesets(kb).length, kb.rulesets.length + 1)
  t.equal(loadKnowledgeBase(rulesDir, ['classification.json']).contextAdjustments.digest, kb.contextAdjustments.digest, 'loaded whatever rulesets are narrowed to')
})

t.test('a bad or missing context-adjustments file stops loading', async (t) => {
  const valid = JSON.parse(readFileSync(join(rulesDir, 'context-adjustments.json'), 'utf8')) as { pregnancyRt: Record<string, unknown> }
  const bad = (patch: Record<string, unknown>): string => JSON.stringify({ ...valid, pregnancyRt: { ...valid.pregnancyRt, ...patch } })
  t.throws(() => parseContextAdjustments('context-adjustments.json', bad({ options: ['ebrt', 'brachytherapy'] })), /context-adjustments\.json: \/pregnancyRt\/options\/1/)
  t.throws(() => parseContextAdjustments('context-adjustments.json', bad({ nearUterusTargets: ['lumbar'] })), /nearUterusTargets/)
  t.throws(() => parseContextAdjustments('context-adjustments.json', bad({ caveat: '' })), /caveat/)
  t.throws(() => parseContextAdjustments('context-adjustments.json', JSON.stringify({ ...valid, extra: 1 })), RuleLoadError)
  t.throws(() => parseContextAdjustments('context-adjustments.json', '{'), /not valid JSON/)
  const missing = withRulesDir(t, (dir) => { rmSync(join(dir, 'context-adjustments.json')) })
  t.throws(() => loadKnowledgeBase(missing), { name: 'RuleLoadError', message: /^context-adjustments\.json: cannot be read/ })
})

t.test('a ruleset may not take the context adjustments\' id', async (t) => {
  const dir = withRulesDir(t, (dir) => {
    writeFileSync(join(dir, 'zz-copy.json'), JSON.stringify({ id: 'context-adjustments', version: '1.0.0', description: 'x', rules: [rule({ name: 'zz/unique' })] }))
  })
  t.throws(() => loadKnowledgeBase(dir), /duplicate ruleset id "context-adjustments"/)
})
