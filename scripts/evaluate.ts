import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Recommender } from '../src/engine/recommender.js'
import { prepareKnowledgeBase } from '../src/engine/knowledge-base.js'
import type { RuleRunnerName } from '../src/engine/rule-runners.js'
import { loadKnowledgeBase } from '../src/engine/load-rules.js'
import { parseCase } from '../src/engine/parse-case.js'
import { ExplainParameter } from '../src/schemas/recommendation.js'
import { SERVICE_INFO, ENGINE_VERSION } from '../src/service-info.js'

/**
 * Rule authors' tool: `npm run evaluate -- path/to/case.json [--reference] [--explain=tdxd,srs]`
 * prints the response a case gets (a file with { case, expect } is accepted too), with the
 * explanations of the options listed, as `?explain=` gives them. Exit code 2 on an invalid case or
 * an invalid --explain.
 */
const args = process.argv.slice(2)
const file = args.find((arg) => !arg.startsWith('--'))
if (file === undefined) {
  process.stderr.write('usage: npm run evaluate -- path/to/case.json [--reference] [--explain=tdxd,srs]\n')
  process.exit(2)
}
const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
const input = 'case' in raw && 'expect' in raw ? raw.case : raw
// The same clinician-worded errors, at the same JSON pointers, as the API's 400.
const parsed = parseCase(input)
if (!parsed.ok) {
  for (const error of parsed.errors) process.stderr.write(`${error.path}: ${error.message}\n`)
  process.exit(2)
}
const explainArg = args.find((arg) => arg.startsWith('--explain='))
const explain = explainArg === undefined ? undefined : ExplainParameter.safeParse(explainArg.slice('--explain='.length))
if (explain?.success === false) {
  for (const issue of explain.error.issues) process.stderr.write(`--explain: ${issue.message}\n`)
  process.exit(2)
}
const evaluator: RuleRunnerName = args.includes('--reference') ? 'reference' : 'compiled'
const kb = prepareKnowledgeBase(loadKnowledgeBase(fileURLToPath(new URL('../rules/', import.meta.url))))
const { body, violations } = await new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator }).evaluate(parsed.case, explain === undefined ? {} : { explain: explain.data })
process.stdout.write(`${JSON.stringify({ requestId: 'cli', ...body }, null, 2)}\n`)
if (violations.length > 0) process.stderr.write(`safety invariant repairs:\n${violations.join('\n')}\n`)
