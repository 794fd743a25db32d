import t from 'tap'
import { buildTestApp } from '../fixtures/build-app.js'
import { knowledgeBase } from '../fixtures/engine.js'

t.test('GET /v1/rulesets serves every ruleset and rule with code, title, strength and evidence', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/v1/rulesets' })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.rulesets.length, knowledgeBase.rulesets.length)
  const rules = body.rulesets.flatMap((ruleset: { rules: unknown[] }) => ruleset.rules)
  t.equal(rules.length, knowledgeBase.rulesets.reduce((count, ruleset) => count + ruleset.rules.length, 0))
  for (const ruleset of body.rulesets) t.match(ruleset.digest, /^sha256:[0-9a-f]{64}$/)
  const cls05 = rules.find((rule: { name: string }) => rule.name === 'classification/cls-05-staging')
  t.match(cls05, { code: 'CLS-05', strength: 'recommended', pass: 1, scope: 'case', evidence: [{ ref: 'R3', verification: String }] })
  t.ok(cls05.options.some((option: { id: string, conditional: boolean }) => option.id === 'brain_mri' && option.conditional))
  t.match(body.references, { version: String, digest: /^sha256:/ })
})

t.test('GET /v1/references serves the whole catalogue with verification tags', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/v1/references' })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.references.length, knowledgeBase.references.size)
  t.strictSame(body.retired, ['R62'])
  const r1 = body.references.find((reference: { ref: string }) => reference.ref === 'R1')
  t.match(r1, { citation: /Giordano/, doi: '10.1200/JCO.22.00519', verification: 'verified' })
  for (const reference of body.references) t.match(reference.verification, /^(verified|partial|unverified)$/)
})
