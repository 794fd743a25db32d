import fc from 'fast-check'
import t from 'tap'
import type { z } from 'zod'
import { parseConfig } from '../../src/config.js'
import { OPTION_IDS } from '../../src/schemas/common.js'
import { ExplainParameter, MAX_EXPLAINED_OPTIONS, RecommendationResponse } from '../../src/schemas/recommendation.js'
import { compileFastSerializer } from '../../src/http/serializer.js'
import { buildTestApp, captureLogs } from '../fixtures/build-app.js'
import { evaluateRaw } from '../fixtures/engine.js'
import { loadExamples } from '../fixtures/expectations.js'
import { arbitraryCase } from '../fixtures/generators.js'
import { asciiEscaped } from '../support/ascii-json.js'

// POST /v1/recommendations?explain= (api.md revision 8): parsing, problems, the response field, its
// serialisation and its OpenAPI description.

const examples = loadExamples()
const payload = examples.find((example) => example.name.includes('MESCC'))?.case as object ?? examples[0]?.case as object

t.test('?explain= adds explanations in the order asked; without it there are none', async (t) => {
  const app = await buildTestApp(t)
  const plain = await app.inject({ method: 'POST', url: '/v1/recommendations', payload })
  t.equal(plain.statusCode, 200)
  t.notOk('explanations' in plain.json())
  const response = await app.inject({ method: 'POST', url: '/v1/recommendations?explain=tdxd,sbrt_spine,thp', payload })
  t.equal(response.statusCode, 200)
  const body = RecommendationResponse.parse(response.json())
  t.strictSame(body.explanations?.map((entry) => entry.option), ['tdxd', 'sbrt_spine', 'thp'])
  for (const entry of body.explanations ?? []) {
    t.equal(entry.offered, entry.offeredBy !== undefined, `${entry.option}: offeredBy exactly when offered`)
    t.equal(entry.offered, entry.reasons === undefined, `${entry.option}: reasons exactly when not offered`)
  }
  const { explanations: _explanations, requestId: _a, provenance: _b, ...rest } = body
  const { requestId: _c, provenance: _d, ...plainRest } = RecommendationResponse.parse(plain.json())
  t.strictSame(rest, plainRest, 'the rest of the response is unchanged')
})

t.test('the reference evaluator gives the same explanations through HTTP', async (t) => {
  const compiled = await buildTestApp(t)
  const reference = await buildTestApp(t, {}, parseConfig({ RULES_EVALUATOR: 'reference' }))
  const explain = 'tdxd,sbrt_spine,ebrt,zoledronic_acid,srs,thp,tdm1,clinical_trial,her2_testing,spine_mri_urgent'
  for (const example of examples) {
    const a = (await compiled.inject({ method: 'POST', url: `/v1/recommendations?explain=${explain}`, payload: example.case as object })).json()
    const b = (await reference.inject({ method: 'POST', url: `/v1/recommendations?explain=${explain}`, payload: example.case as object })).json()
    t.strictSame(b.explanations, a.explanations, example.name)
    t.equal(a.explanations.length, MAX_EXPLAINED_OPTIONS)
  }
})

const PROBLEMS: Array<[string, string, RegExp]> = [
  ['unknown id', 'tdxd,nope', /"nope" is not an option id/],
  ['unknown id with characters that are not echoed', 'tdxd,%3Cb%3E', /item 2 is not an option id/],
  ['empty value', '', /item 1 is empty/],
  ['empty item', 'tdxd,,srs', /item 2 is empty/],
  ['trailing comma', 'tdxd,', /item 2 is empty/],
  ['duplicate', 'tdxd,srs,tdxd', /"tdxd" is listed twice/],
  ['more than 10', OPTION_IDS.slice(0, MAX_EXPLAINED_OPTIONS + 1).join(','), /lists 11 option ids; at most 10/],
  ['different case', 'TDXD', /"TDXD" is not an option id/]
]

t.test('an invalid explain is a 400 problem naming the query parameter', async (t) => {
  const app = await buildTestApp(t)
  for (const [name, value, message] of PROBLEMS) {
    const response = await app.inject({ method: 'POST', url: `/v1/recommendations?explain=${value}`, payload })
    t.equal(response.statusCode, 400, name)
    t.match(response.headers['content-type'], /^application\/problem\+json/, name)
    const problem = response.json()
    t.match(problem, { status: 400, title: 'Bad Request', instance: '/v1/recommendations', detail: /^Invalid query parameter explain: / }, name)
    t.match(problem.detail, message, name)
    t.ok(problem.errors.every((error: { path: string }) => error.path === '/explain'), `${name}: the errors point at /explain`)
    t.notMatch(problem.detail, /<b>/, `${name}: no markup echoed`)
  }
})

t.test('explain given twice, or another query parameter, is a 400 too', async (t) => {
  const app = await buildTestApp(t)
  const twice = await app.inject({ method: 'POST', url: '/v1/recommendations?explain=tdxd&explain=srs', payload })
  t.equal(twice.statusCode, 400)
  t.match(twice.json(), { detail: /^Invalid query parameter explain: must be a string/, errors: [{ path: '/explain' }] })
  const other = await app.inject({ method: 'POST', url: '/v1/recommendations?explian=tdxd', payload })
  t.equal(other.statusCode, 400)
  t.match(other.json(), { detail: /^Invalid query parameter explian: /, errors: [{ path: '/explian' }] })
  const body = await app.inject({ method: 'POST', url: '/v1/recommendations?explain=tdxd', payload: { patient: {} } })
  t.match(body.json(), { detail: /^The request does not match the schema: \d+ invalid fields?\.$/ }, 'body problems keep their wording')
})

t.test('the log line lists the options explained (ids only)', async (t) => {
  const { lines, stream } = captureLogs()
  const app = await buildTestApp(t, { logger: { level: 'info', stream } })
  await app.inject({ method: 'POST', url: '/v1/recommendations?explain=tdxd,srs', payload })
  await app.inject({ method: 'POST', url: '/v1/recommendations', payload })
  const completed = lines.filter((line) => line.msg === 'request completed')
  t.strictSame(completed[0]?.explained, ['tdxd', 'srs'])
  t.notOk('explained' in (completed[1] as object))
})

t.test('ExplainParameter parses a list of option ids', async (t) => {
  t.strictSame(ExplainParameter.parse('tdxd,sbrt_spine'), ['tdxd', 'sbrt_spine'])
  t.strictSame(ExplainParameter.parse(OPTION_IDS.slice(0, MAX_EXPLAINED_OPTIONS).join(',')), OPTION_IDS.slice(0, MAX_EXPLAINED_OPTIONS))
  t.equal(ExplainParameter.safeParse(`${'x'.repeat(65)}`).error?.issues[0]?.message, 'item 1 is not an option id (see OptionId)', 'a long item is not echoed')
})

t.test('OpenAPI: the explain parameter with its example, and the Explanation and Reason schemas', async (t) => {
  const app = await buildTestApp(t)
  const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const parameters = document.paths['/v1/recommendations'].post.parameters as Array<Record<string, unknown>>
  t.match(parameters, [{ in: 'query', name: 'explain', required: false, example: 'tdxd,sbrt_spine', schema: { type: 'string' }, description: /comma-separated option ids/ }])
  t.match(document.components.schemas.RecommendationResponse.properties.explanations, { type: 'array', items: { $ref: '#/components/schemas/Explanation' } })
  t.strictSame(document.components.schemas.Reason.properties.kind.enum, ['not_fired', 'option_condition', 'forbidden', 'avoid'])
})

const write = compileFastSerializer(RecommendationResponse)
// zod's encode, written by JSON.stringify, with the writer's escapes beyond ASCII (test/support/ascii-json.ts).
const viaZod = (body: unknown): string => asciiEscaped(JSON.stringify(RecommendationResponse.encode(body as z.output<typeof RecommendationResponse>)))

t.test('the compiled response writer gives the bytes of a zod encode with explanations', async (t) => {
  let compared = 0
  await fc.assert(fc.asyncProperty(arbitraryCase(), fc.shuffledSubarray([...OPTION_IDS], { minLength: 1, maxLength: MAX_EXPLAINED_OPTIONS }), async (input, explain) => {
    const { body } = await evaluateRaw(input, 'compiled', { explain })
    compared++
    return body.explanations?.length === explain.length && write({ requestId: 'r', ...body }) === viaZod({ requestId: 'r', ...body })
  }), { numRuns: 200, seed: 8 })
  t.equal(compared, 200)
})
