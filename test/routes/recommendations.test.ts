import t from 'tap'
import { RecommendationResponse } from '../../src/schemas/recommendation.js'
import { canonicalJson } from '../../src/engine/canonical-json.js'
import { parseConfig } from '../../src/config.js'
import { prepareKnowledgeBase } from '../../src/engine/knowledge-base.js'
import { assembleKnowledgeBase, loadContextAdjustments, loadReferences, parseRuleset } from '../../src/engine/load-rules.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { rulesDir } from '../fixtures/engine.js'
import { expectationFailures, loadExamples } from '../fixtures/expectations.js'

const examples = loadExamples()

t.test('every public example passes its expectations through HTTP', async (t) => {
  const app = await buildTestApp(t)
  for (const example of examples) {
    const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: example.case as object })
    t.equal(response.statusCode, 200, example.name)
    const body = RecommendationResponse.parse(response.json())
    t.equal(body.requestId, response.headers['x-request-id'])
    t.strictSame(expectationFailures(body, example.expect), [], example.name)
  }
})

t.test('identical input gives identical output except requestId and evaluatedAt', async (t) => {
  const app = await buildTestApp(t)
  const payload = examples[0]?.case as Record<string, unknown>
  const first = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload })).json()
  // The same case with its keys in another order is the same case (and has the same inputDigest).
  const reordered = Object.fromEntries(Object.entries(payload).reverse())
  const second = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload: reordered })).json()
  t.not(first.requestId, second.requestId)
  const strip = (body: Record<string, unknown>): string => canonicalJson({ ...body, requestId: null, provenance: { ...(body.provenance as object), evaluatedAt: null } })
  t.equal(strip(first), strip(second))
  t.match(first.provenance, {
    service: { name: String, version: String },
    engine: { name: 'json-rules-engine', version: /^\d+\.\d+\.\d+$/ },
    evaluationDate: (payload.context as { evaluationDate: string }).evaluationDate,
    inputDigest: /^sha256:[0-9a-f]{64}$/
  })
  t.match(first.provenance.evaluatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
})

t.test('responses contain no null and no empty string', async (t) => {
  const app = await buildTestApp(t)
  for (const example of examples) {
    const text = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload: example.case as object })).body
    t.notMatch(text, /:null|:""/, example.name)
  }
})

t.test('the evaluation date defaults to the server\'s UTC date', async (t) => {
  const app = await buildTestApp(t)
  const { context: _context, ...payload } = examples[0]?.case as Record<string, unknown>
  const body = (await app.inject({ method: 'POST', url: '/v1/recommendations', payload })).json()
  t.equal(body.provenance.evaluationDate, new Date().toISOString().slice(0, 10))
})

t.test('the reference evaluator can be selected and gives the same recommendations', async (t) => {
  const compiled = await buildTestApp(t)
  const reference = await buildTestApp(t, {}, parseConfig({ RULES_EVALUATOR: 'reference' }))
  for (const example of examples) {
    const a = (await compiled.inject({ method: 'POST', url: '/v1/recommendations', payload: example.case as object })).json()
    const b = (await reference.inject({ method: 'POST', url: '/v1/recommendations', payload: example.case as object })).json()
    t.strictSame(b.recommendations, a.recommendations, example.name)
  }
})

t.test('a rule that breaks a safety invariant is repaired and logged, never served', async (t) => {
  const { references, catalogue } = loadReferences(rulesDir)
  const faulty = parseRuleset('faulty.json', JSON.stringify({
    id: 'faulty',
    version: '0.0.1',
    description: 'A deliberately wrong rule: brain radiosurgery for a bone case.',
    rules: [{
      name: 'faulty/srs-for-bone',
      priority: 1,
      pass: 3,
      scope: 'case',
      conditions: { all: [{ fact: 'metastatic', operator: 'equal', value: true }] },
      event: { type: 'recommendation', params: { code: 'CNS-03', domain: 'local_therapy', strength: 'recommended', title: 'Wrong', detail: 'Wrong.', options: [{ id: 'srs' }, { id: 'ebrt' }], evidence: ['R2'] } }
    }]
  }), references)
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { knowledgeBase: prepareKnowledgeBase(assembleKnowledgeBase([faulty], references, catalogue, loadContextAdjustments(rulesDir))), logger: { level: 'info', stream } })
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: examples[0]?.case as object })
  t.equal(response.statusCode, 200)
  const item = response.json().recommendations.find((entry: { code: string }) => entry.code === 'CNS-03')
  t.strictSame(item.options.map((option: { id: string }) => option.id), ['ebrt'])
  t.match(lines.find((line) => line.msg === 'safety invariant repaired'), { level: 50, violations: [/CNS-03: brain-directed option srs/] })
})
