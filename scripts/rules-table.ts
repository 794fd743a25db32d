import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rulesetCatalogue } from '../src/engine/review-catalogue.js'
import { FACT_NAMES, factSpec, type FactSpec } from '../src/engine/fact-specs.js'
import { FACT_LINEAGE } from '../src/engine/fact-lineage.js'
import { loadKnowledgeBase, type KnowledgeBase } from '../src/engine/load-rules.js'
import { AGENTS, OPTION_IDS, SPINE_LEVELS } from '../src/schemas/common.js'

/**
 * `npm run rules:table`: regenerates the generated sections of rules/README.md — the fact reference
 * (from the fact catalogue and the fact lineage) and the rule catalogue (from the rule files);
 * test/rules/readme-table.test.ts fails when the README is out of step.
 */

export const README = fileURLToPath(new URL('../rules/README.md', import.meta.url))
const START = '<!-- rules-table:start -->'
const END = '<!-- rules-table:end -->'
const FACTS_START = '<!-- fact-reference:start -->'
const FACTS_END = '<!-- fact-reference:end -->'

const cell = (text: string): string => text.replaceAll('|', '\\|')
const code = (text: string): string => `\`${text}\``
/** Prose in a table cell: a bare * would open emphasis. */
const prose = (text: string): string => cell(text).replaceAll('*', '\\*')

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

/** The contract's long vocabularies are named rather than listed. */
const VOCABULARIES = new Map<readonly string[], string>([
  [AGENTS, 'any `Agent` of spec/api.md'],
  [OPTION_IDS, 'any `OptionId` of spec/api.md'],
  [SPINE_LEVELS, 'a spine level, `C1` … `S5`']
])

function valuesCell (spec: FactSpec): string {
  if (spec.values !== undefined) return VOCABULARIES.get(spec.values) ?? spec.values.map(code).join(', ')
  return spec.type === 'boolean' ? '`true`, `false`' : '—'
}

/** One row per catalogue fact, in catalogue order: what a rule author needs to write a condition. */
export function factReference (): string {
  const lines = [
    '| fact | label | type | values | pass · scope | request fields (JSON pointers) | definition |',
    '|---|---|---|---|---|---|---|'
  ]
  for (const name of FACT_NAMES) {
    const spec = factSpec(name) as FactSpec
    const { label, inputs } = FACT_LINEAGE[name]
    const type = `${code(spec.type)}${spec.nullable === true ? ' or `null`' : ''}`
    const passScope = `${spec.pass ?? 1}+ · ${spec.scope ?? 'case'}`
    const fields = inputs.length === 0 ? '— (computed from other items)' : inputs.map(code).join(', ')
    lines.push(`| ${code(name)} | ${prose(label)} | ${type} | ${valuesCell(spec)} | ${passScope} | ${fields} | ${prose(spec.description)} |`)
  }
  return lines.join('\n')
}

function withSection (readme: string, start: string, end: string, body: string): string {
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from === -1 || to < from) throw new Error(`rules/README.md lacks the ${start} … ${end} markers`)
  return `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`
}

export const withRulesTable = (readme: string, table: string): string => withSection(readme, START, END, table)
export const withFactReference = (readme: string, reference: string): string => withSection(readme, FACTS_START, FACTS_END, reference)

/** The README with both generated sections regenerated. */
export function generatedReadme (readme: string, kb: KnowledgeBase): string {
  return withRulesTable(withFactReference(readme, factReference()), rulesTable(kb))
}

/* c8 ignore next 4 -- the command-line entry; tests call generatedReadme() and compare with the committed README */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kb = loadKnowledgeBase(fileURLToPath(new URL('../rules/', import.meta.url)))
  writeFileSync(README, generatedReadme(readFileSync(README, 'utf8'), kb))
}
