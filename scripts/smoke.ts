import { readFileSync } from 'node:fs'
import { loadKnowledgeBase } from '../src/engine/load-rules.js'
import { prepareKnowledgeBase } from '../src/engine/evaluators.js'
import { Evaluator } from '../src/engine/evaluate.js'
import { Case } from '../src/schemas/case.js'
const kb = prepareKnowledgeBase(loadKnowledgeBase('/work/main/rules'))
for (const f of ['seed-locally-advanced-painful-vertebra', 'out-of-scope-her2-negative']) {
  const ex = JSON.parse(readFileSync(`/work/shared/spec/examples/${f}.json`, 'utf8'))
  const c = Case.parse(ex.case)
  for (const ev of ['compiled', 'reference'] as const) {
    const r = await new Evaluator(kb, { service: { name: 'x', version: '0' }, engineVersion: '7.3.1', evaluator: ev }).evaluate(c)
    console.log(ev, JSON.stringify(r.body.recommendations.map(x => [x.code, x.strength, x.options?.map(o => o.id + ':' + (o.strength ?? '')), x.because])), r.violations)
  }
  const r = await new Evaluator(kb, { service: { name: 'x', version: '0' }, engineVersion: '7.3.1' }).evaluate(c)
  console.log(JSON.stringify({ ...r.body, recommendations: undefined }, null, 1).slice(0, 3000))
}
