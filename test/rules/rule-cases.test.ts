import t from 'tap'
import { EVALUATOR_NAMES } from '../../src/engine/evaluators.js'
import { respond } from '../fixtures/engine.js'
import { expectationFailures, loadExamples, loadRuleCaseTables } from '../fixtures/expectations.js'

// Table-driven: every rule has cases that fire it and cases that do not (test/fixtures/rule-cases/),
// and every public example passes its `expect`. Both evaluators must meet every expectation.
// RULE_CASES=<file.json> narrows a run to one table while a rule author works on it.
const only = process.env.RULE_CASES
for (const evaluator of EVALUATOR_NAMES) {
  if (only === undefined) {
    t.test(`public examples (${evaluator})`, async (t) => {
      for (const example of loadExamples()) {
        const response = await respond(example.case, evaluator)
        t.strictSame(expectationFailures(response, example.expect), [], example.name)
      }
    })
  }

  for (const table of loadRuleCaseTables().filter((table) => only === undefined || table.file === only)) {
    t.test(`${table.file} (${evaluator})`, async (t) => {
      for (const entry of table.cases) {
        const response = await respond(entry.case, evaluator)
        t.strictSame(expectationFailures(response, entry.expect), [], entry.name)
      }
    })
  }
}
