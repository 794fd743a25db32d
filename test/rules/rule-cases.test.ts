import t from 'tap'
import { RULE_RUNNER_NAMES } from '../../src/engine/rule-runners.js'
import { knowledgeBase, respond } from '../fixtures/engine.js'
import { expectationFailures, loadExamples, loadRuleCaseTables } from '../fixtures/expectations.js'

// Table-driven: every rule has cases that fire it and cases that do not (test/fixtures/rule-cases/),
// and every public example passes its `expect`. Both evaluators must meet every expectation.
// RULE_CASES=<file.json> narrows a run to one table while a rule author works on it.
const only = process.env.RULE_CASES
const tables = loadRuleCaseTables().filter((table) => only === undefined || table.file === only)
const firedRules = new Set<string>()

for (const evaluator of RULE_RUNNER_NAMES) {
  if (only === undefined) {
    t.test(`public examples (${evaluator})`, async (t) => {
      for (const example of loadExamples()) {
        const response = await respond(example.case, evaluator)
        t.strictSame(expectationFailures(response, example.expect), [], example.name)
      }
    })
  }

  for (const table of tables) {
    t.test(`${table.file} (${evaluator})`, async (t) => {
      for (const entry of table.cases) {
        const response = await respond(entry.case, evaluator)
        response.recommendations.forEach((item) => firedRules.add(item.rule.id))
        t.strictSame(expectationFailures(response, entry.expect), [], entry.name)
      }
    })
  }
}

if (only === undefined) {
  t.test('every rule fires in at least one fixture case, and every code is expected absent in one', async (t) => {
    const rules = knowledgeBase.rulesets.flatMap((ruleset) => ruleset.rules)
    t.strictSame(rules.map((rule) => rule.name).filter((name) => !firedRules.has(name)), [], 'rules that no fixture fires')
    const expectedAbsent = new Set(tables.flatMap((table) => table.cases.flatMap((entry) => entry.expect.absentCodes ?? [])))
    // CLS-02 fires for every case ("always": it states the HER2 status), so it is never absent.
    const codes = [...new Set(rules.map((rule) => rule.event.params.code))].filter((code) => code !== 'CLS-02')
    t.strictSame(codes.filter((code) => !expectedAbsent.has(code)), [], 'codes never asserted absent')
  })
}
