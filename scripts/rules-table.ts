import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rulesetCatalogue } from '../src/engine/catalogue.js'
import { loadKnowledgeBase, type KnowledgeBase } from '../src/engine/load-rules.js'

/**
 * `npm run rules:table`: regenerates the rule catalogue of rules/README.md from the rule files
 * (test/rules/readme-table.test.ts fails when the README is out of step).
 */

export const README = fileURLToPath(new URL('../rules/README.md', import.meta.url))
const START = '<!-- rules-table:start -->'
const END = '<!-- rules-table:end -->'

const cell = (text: string): string => text.replaceAll('|', '\\|')

export function rulesTable (kb: KnowledgeBase): string {
  const lines = [
    '| code | rule | pass | strength | title | options [own strength; * conditional] | references |',
    '|---|---|---|---|---|---|---|'
  ]
  for (const ruleset of rulesetCatalogue(kb).rulesets) {
    for (const rule of ruleset.rules) {
      const options = rule.options.map((option) => `${option.id}${option.strength === undefined ? '' : ` [${option.strength}]`}${option.conditional ? '*' : ''}`).join(', ')
      const references = rule.evidence.map((evidence) => `${evidence.ref} (${evidence.verification})`).join(', ')
      lines.push(`| ${rule.code} | \`${rule.name}\` | ${rule.pass} | ${rule.strength} | ${cell(rule.title)} | ${options === '' ? '—' : options} | ${references} |`)
    }
  }
  return lines.join('\n')
}

export function withRulesTable (readme: string, table: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`rules/README.md lacks the ${START} … ${END} markers`)
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`
}

/* c8 ignore next 4 -- the command-line entry; tests call rulesTable() and compare with the committed README */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kb = loadKnowledgeBase(fileURLToPath(new URL('../rules/', import.meta.url)))
  writeFileSync(README, withRulesTable(readFileSync(README, 'utf8'), rulesTable(kb)))
}
