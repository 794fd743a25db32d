import { readFileSync } from 'node:fs'
import t from 'tap'
import { FACT_NAMES } from '../../src/engine/fact-specs.js'
import { FACT_LINEAGE } from '../../src/engine/fact-lineage.js'
import { factReference, generatedReadme, README, withFactReference, withRulesTable } from '../../scripts/rules-table.js'
import { knowledgeBase } from '../fixtures/engine.js'

const readme = readFileSync(README, 'utf8')

t.test('rules/README.md is as `npm run rules:table` generates it (fact reference and rule catalogue)', async (t) => {
  t.equal(readme, generatedReadme(readme, knowledgeBase))
})

t.test('the rule catalogue lists every rule', async (t) => {
  for (const ruleset of knowledgeBase.rulesets) {
    for (const rule of ruleset.rules) t.match(readme, `\`${rule.name}\``)
  }
})

t.test('the fact reference lists every fact with its label and request fields', async (t) => {
  const rows = factReference().split('\n').slice(2)
  t.equal(rows.length, FACT_NAMES.length)
  FACT_NAMES.forEach((name, i) => {
    const row = rows[i] as string
    t.ok(row.startsWith(`| \`${name}\` | `), `${name} has its row, in catalogue order`)
    for (const template of FACT_LINEAGE[name].inputs) t.ok(row.includes(`\`${template}\``), `${name}: ${template}`)
  })
  t.match(factReference(), '| `lesionBilskyRank` | Bilsky grade (rank: 0 = 0, 1 = 1a, 2 = 1b, 3 = 1c, 4 = 2, 5 = 3) | `number` or `null` | — | 1+ · spine_lesion | `/disease/spineLesions/{spine}/bilsky` |')
  t.match(factReference(), '| `firedCodes` | Codes of the items already emitted | `string[]` | — | 3+ · case | — (computed from other items) |')
  t.match(factReference(), '| `priorAgents` | Agents given before (any setting) | `string[]` | any `Agent` of spec/api.md |')
  t.match(factReference(), 'a \\*_metastatic presentation', 'a bare * is escaped')
})

t.test('a README without the markers is an error', async (t) => {
  t.throws(() => withRulesTable('no markers', ''), /lacks the <!-- rules-table:start -->/)
  t.throws(() => withFactReference('no markers', ''), /lacks the <!-- fact-reference:start -->/)
  t.throws(() => withFactReference('<!-- fact-reference:end --> <!-- fact-reference:start -->', ''), /lacks the/, 'markers in the wrong order')
})
