import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { inlineNamedConditions, loadKnowledgeBase, parseRuleset, RuleLoadError, type LoadedRuleset } from '../../src/engine/load-rules.js'
import { rulesDir } from '../fixtures/engine.js'

const references = JSON.parse(readFileSync(join(rulesDir, 'references.json'), 'utf8')) as { references: Array<{ ref: string }> }
const referenceMap = new Map(references.references.map((reference) => [reference.ref, reference as never]))

const leaf = (fact: string, value: unknown, operator = 'equal'): Record<string, unknown> => ({ fact, operator, value })
const ref = (name: string): Record<string, unknown> => ({ condition: name })

function rule (name: string, conditions: unknown, params: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `test/${name}`,
    priority: 10,
    pass: 3,
    scope: 'case',
    conditions,
    event: {
      type: 'recommendation',
      params: { code: 'SYS-01', domain: 'systemic_therapy', strength: 'recommended', title: 'A title', detail: 'A detail.', evidence: ['R1'], ...params }
    }
  }
}
const file = (rules: unknown[], conditions?: unknown): string =>
  JSON.stringify({ id: 'test', version: '1.0.0', description: 'Test ruleset.', ...(conditions === undefined ? {} : { conditions }), rules })
const parse = (text: string): LoadedRuleset => parseRuleset('test.json', text, referenceMap)

const INTENSIVE = { all: [leaf('intensiveTherapyAppropriate', true), leaf('comfortCare', false)] }
const SEVERE_RENAL = leaf('creatinineClearanceMlMin', 30, 'lessThan')
const PREGNANT = { all: [leaf('pregnant', true)] }

t.test('references are inlined wherever a condition stands, and the rules equal the spelled-out file', async (t) => {
  const named = {
    'intensive-therapy-appropriate': INTENSIVE,
    'severe-renal-impairment': SEVERE_RENAL,
    'fit-without-renal-impairment': { all: [ref('intensive-therapy-appropriate'), { not: ref('severe-renal-impairment') }] },
    pregnant: PREGNANT
  }
  const withReferences = file([
    rule('top-level', ref('fit-without-renal-impairment'), {
      options: [{ id: 'tdxd', when: { any: [ref('severe-renal-impairment'), leaf('ecog', 0)] } }, { id: 'thp' }],
      notes: [{ when: ref('pregnant'), text: 'Pregnant.' }]
    }),
    rule('nested', { all: [leaf('inScope', true), { not: ref('pregnant') }, ref('intensive-therapy-appropriate')] })
  ], named)
  const spelledOut = file([
    rule('top-level', { all: [INTENSIVE, { not: SEVERE_RENAL }] }, {
      options: [{ id: 'tdxd', when: { any: [SEVERE_RENAL, leaf('ecog', 0)] } }, { id: 'thp' }],
      notes: [{ when: PREGNANT, text: 'Pregnant.' }]
    }),
    rule('nested', { all: [leaf('inScope', true), { not: PREGNANT }, INTENSIVE] })
  ])
  const loaded = parse(withReferences)
  t.strictSame(loaded.rules, parse(spelledOut).rules)
  t.strictSame(loaded.conditions, {
    'intensive-therapy-appropriate': INTENSIVE,
    'severe-renal-impairment': SEVERE_RENAL,
    'fit-without-renal-impairment': { all: [INTENSIVE, { not: SEVERE_RENAL }] },
    pregnant: PREGNANT
  }, 'the named conditions are kept, inlined, in file order')
  const [first, second] = loaded.rules
  t.not(first?.conditions, loaded.conditions?.['fit-without-renal-impairment'], 'every use is a copy')
  t.not((second?.conditions as { all: unknown[] }).all[2], (first?.conditions as { all: unknown[] }).all[0])
  t.equal(parse(spelledOut).conditions, undefined, 'a file without named conditions has none')
})

const rejections: Array<[string, string, RegExp]> = [
  ['an unknown name', file([rule('a-rule', { all: [ref('sbrt-candidate')] })], { pregnant: PREGNANT }),
    /^test\.json: rule "test\/a-rule": unknown condition "sbrt-candidate" \(not among this file's "conditions"\)$/],
  ['a reference in a file without named conditions', file([rule('a-rule', { all: [leaf('inScope', true)] }, { notes: [{ when: ref('pregnant'), text: 'x' }] })]),
    /rule "test\/a-rule": unknown condition "pregnant"/],
  ['a named condition no rule uses', file([rule('a-rule', ref('pregnant'))], { pregnant: PREGNANT, 'severe-renal-impairment': SEVERE_RENAL }),
    /^test\.json: condition "severe-renal-impairment": no rule refers to it/],
  ['a cycle', file([rule('a-rule', ref('a'))], { a: { all: [ref('b')] }, b: { any: [leaf('inScope', true), ref('a')] } }),
    /^test\.json: rule "test\/a-rule": condition "a" refers to itself \(a → b → a\)$/],
  ['a condition that names itself', file([rule('a-rule', { all: [ref('a')] })], { a: { not: ref('a') } }), /condition "a" refers to itself \(a → a\)/],
  ['a reference with other keys', file([rule('a-rule', { all: [{ condition: 'pregnant', fact: 'x' }] })], { pregnant: PREGNANT }),
    /rule "test\/a-rule": a condition reference is \{ "condition": "<name>" \} and nothing else/],
  ['a reference that is not a name', file([rule('a-rule', { all: [{ condition: 1 }] })], { pregnant: PREGNANT }), /a condition reference is/],
  ['a rule without a name', JSON.stringify({ id: 'test', version: '1.0.0', description: 'x', rules: [{ conditions: ref('x') }] }), /^test\.json: rule "#1": unknown condition "x"/],
  ['a name that is not kebab-case', file([rule('a-rule', ref('Pregnant'))], { Pregnant: PREGNANT }), /^test\.json: condition "Pregnant": a name is kebab-case/],
  ['a leaf as a rule\'s whole condition', file([rule('a-rule', ref('severe-renal-impairment'))], { 'severe-renal-impairment': SEVERE_RENAL }), /rule "test\/a-rule" at \/rules\/0\/conditions/],
  ['an unknown fact in a named condition', file([rule('a-rule', ref('x'))], { x: { all: [leaf('nope', 1)] } }), /^test\.json: rule "test\/a-rule": unknown fact "nope"$/],
  ['a named condition that is not a condition', file([rule('a-rule', ref('x'))], { x: 'pregnant' }), /test\.json: .*conditions\/x/],
  ['named conditions that are not an object', file([rule('a-rule', { all: [leaf('inScope', true)] })], [PREGNANT]), /test\.json: \/conditions/]
]

for (const [what, text, message] of rejections) {
  t.test(`rejects: ${what}`, async (t) => {
    t.throws(() => parse(text), RuleLoadError)
    t.throws(() => parse(text), { message })
  })
}

t.test('what is not a ruleset is left for the schema to reject', async (t) => {
  t.equal(inlineNamedConditions('test.json', 5), 5)
  t.strictSame(inlineNamedConditions('test.json', { rules: 'none' }), { rules: 'none' })
  t.throws(() => parse('[]'), /test\.json/)
})

t.test('the real rulesets: named conditions inlined, no reference left in any rule', async (t) => {
  const kb = loadKnowledgeBase(rulesDir)
  const references: string[] = []
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((child) => { walk(child, where) })
    else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (key === 'condition') references.push(where)
        walk(child, where)
      }
    }
  }
  for (const ruleset of kb.rulesets) {
    for (const rule of ruleset.rules) walk(rule, rule.name)
    walk(ruleset.conditions, `${ruleset.file} conditions`)
  }
  t.strictSame(references, [])
  t.ok(kb.rulesets.some((ruleset) => Object.keys(ruleset.conditions ?? {}).length > 0), 'some ruleset names conditions')
})
