import { readFileSync } from 'node:fs'
import t from 'tap'
import { README, rulesTable, withRulesTable } from '../../scripts/rules-table.js'
import { knowledgeBase } from '../fixtures/engine.js'

t.test('rules/README.md lists every rule as the rule files define it (run `npm run rules:table`)', async (t) => {
  const readme = readFileSync(README, 'utf8')
  t.equal(readme, withRulesTable(readme, rulesTable(knowledgeBase)))
  for (const ruleset of knowledgeBase.rulesets) {
    for (const rule of ruleset.rules) t.match(readme, `\`${rule.name}\``)
  }
})

t.test('a README without the markers is an error', async (t) => {
  t.throws(() => withRulesTable('no markers', ''), /lacks the/)
})
