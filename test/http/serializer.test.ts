import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { RecommendationResponse } from '../../src/schemas/recommendation.js'
import { asciiJson, compileFastSerializer, compileSchemaWriter, constantJson, jsonSchemaOf } from '../../src/http/serializer.js'
import { DISCLAIMER, Recommender } from '../../src/engine/recommender.js'
import { FACT_LINEAGE } from '../../src/engine/fact-lineage.js'
import { evaluateRaw, knowledgeBase } from '../fixtures/engine.js'
import { loadExamples } from '../fixtures/expectations.js'
import { arbitraryCase } from '../fixtures/generators.js'
import { asciiEscaped } from '../support/ascii-json.js'

// As the app compiles it: with the knowledge base's strings encoded once.
const constantStrings = new Recommender(knowledgeBase, { service: { name: 't', version: '0' }, engineVersion: 'test', evaluator: 'compiled' }).constantStrings()
const write = compileFastSerializer(RecommendationResponse, constantJson(constantStrings))
// zod's encode, written by JSON.stringify, with the writer's escapes beyond ASCII (test/support/ascii-json.ts).
const viaZod = (body: unknown): string => asciiEscaped(JSON.stringify(RecommendationResponse.encode(body as z.output<typeof RecommendationResponse>)))

t.test('the compiled writer gives the bytes of a zod encode for every example response', async (t) => {
  for (const example of loadExamples()) {
    const body = { requestId: 'r', ...(await evaluateRaw(example.case)).body }
    t.equal(write(body), viaZod(body), example.name)
  }
})

t.test('… and for 2,000 generated cases', async (t) => {
  let compared = 0
  await fc.assert(fc.asyncProperty(arbitraryCase(), async (input) => {
    const body = { requestId: 'r', ...(await evaluateRaw(input)).body }
    compared++
    return write(body) === viaZod(body)
  }), { numRuns: 2000, seed: 4242 })
  t.equal(compared, 2000)
})

t.test('fields outside the schema are not written; absent optional ones are skipped', async (t) => {
  const schema = z.object({ a: z.string(), b: z.number().optional(), nested: z.object({ c: z.boolean() }).describe('described ref'), list: z.array(z.object({ d: z.string() })), any: z.unknown() })
  const writer = compileSchemaWriter(jsonSchemaOf(schema))
  const value = { extra: 1, a: 'x"y', nested: { c: true, hidden: 'no' }, list: [{ d: 'e', f: 1 }], any: { free: [null, 1] } }
  t.equal(writer(value), '{"a":"x\\"y","nested":{"c":true},"list":[{"d":"e"}],"any":{"free":[null,1]}}')
  t.equal(writer(value), JSON.stringify(schema.encode(value as z.output<typeof schema>)))
  const optional = compileSchemaWriter(jsonSchemaOf(z.object({ a: z.string().optional(), b: z.array(z.number()).optional() })))
  t.equal(optional({}), '{}', 'an object with no member present')
  t.equal(optional({ b: [] }), '{"b":[]}', 'an empty array')
})

t.test('schemas that refer to each other, and a described reference (allOf), are followed', async (t) => {
  const Leaf = z.object({ v: z.int() }).meta({ id: 'SerializationLeaf' })
  const schema = z.object({ first: Leaf, second: Leaf.describe('the same leaf, described') })
  const writer = compileSchemaWriter(jsonSchemaOf(schema))
  t.equal(writer({ first: { v: 1, x: 0 }, second: { v: 2, y: 0 } }), '{"first":{"v":1},"second":{"v":2}}')
})

t.test('frozen values are written once and their JSON reused; mutable ones are written afresh', async (t) => {
  const schema = z.object({ items: z.array(z.object({ id: z.string() })) })
  const writer = compileSchemaWriter(jsonSchemaOf(schema))
  // Each entry counts how often the writer reads its id: a reused JSON reads nothing.
  let reads = 0
  const counted = (id: string): { readonly id: string } => ({ get id () { reads++; return id } })
  const shared = Object.freeze([Object.freeze(counted('a'))])
  t.equal(writer({ items: shared }), '{"items":[{"id":"a"}]}')
  t.equal(reads, 1, 'written once')
  t.equal(writer({ items: shared }), '{"items":[{"id":"a"}]}')
  t.equal(writer({ items: [shared[0]] }), '{"items":[{"id":"a"}]}', 'a frozen entry in a new array')
  t.equal(reads, 1, 'then reused, also inside another array')
  const mutable = [counted('b')]
  t.equal(writer({ items: mutable }), '{"items":[{"id":"b"}]}')
  t.equal(writer({ items: mutable }), '{"items":[{"id":"b"}]}')
  t.equal(reads, 3, 'a mutable value is read at each write')
  mutable[0] = counted('c')
  t.equal(writer({ items: mutable }), '{"items":[{"id":"c"}]}', 'so a change shows')
})

t.test('records (z.record): every own key in its order, each value by the schema; frozen entries written once', async (t) => {
  const Entry = z.object({ citation: z.string(), doi: z.string().optional() }).meta({ id: 'SerializationRecordEntry' })
  const schema = z.object({ references: z.record(z.string().regex(/^R\d+$/), Entry), sources: z.record(z.string(), z.object({ label: z.string() })).optional() })
  const writer = compileSchemaWriter(jsonSchemaOf(schema))
  let reads = 0
  const shared = Object.freeze({ get citation () { reads++; return 'A "quoted" citation' }, hidden: 'no' })
  const value = { references: { R2: shared, R10: { citation: 'b', doi: '10.1/x', extra: 1 }, R3: undefined } }
  t.equal(writer(value), '{"references":{"R2":{"citation":"A \\"quoted\\" citation"},"R10":{"citation":"b","doi":"10.1/x"}}}', 'insertion order (R2 before R10), schema properties only, undefined skipped')
  t.equal(writer(value), JSON.stringify(schema.encode({ references: { R2: { citation: 'A "quoted" citation' }, R10: { citation: 'b', doi: '10.1/x' } } })), 'as zod encodes it')
  t.equal(reads, 1, 'the frozen entry\'s JSON is reused')
  t.equal(writer({ references: {}, sources: { 'patient.ageYears': { label: 'Age', refs: [] } } }), '{"references":{},"sources":{"patient.ageYears":{"label":"Age"}}}', 'an empty record; keys of any text')
})

t.test('asciiJson: JSON.stringify with every character beyond ASCII as a \\u escape, the same JSON value', async (t) => {
  const values: unknown[] = [
    'plain', '', 'quote " backslash \\', 'line\nbreak', 'SINS 0–6, ≥ 3 months, é', 'astral \u{1F600}', 'lone \ud800 surrogate',
    '\u007f\u0080\u00ff\u0100\uffff', 1.5, -0, true, null, ['≥', { clé: 'é' }]
  ]
  for (const value of values) {
    const json = asciiJson(value)
    t.equal(json, asciiEscaped(JSON.stringify(value)), `${JSON.stringify(value)}: the independent escape`)
    t.ok([...json].every((character) => character.charCodeAt(0) < 0x80), 'ASCII only')
    t.strictSame(JSON.parse(json), JSON.parse(JSON.stringify(value)), 'the same value once parsed')
  }
  t.equal(asciiJson('≥ 5'), '"\\u2265 5"')
  t.equal(asciiJson('\u{1F600}'), '"\\ud83d\\ude00"', 'outside the BMP: its surrogate pair')
})

t.test('the knowledge base\'s strings: each encoded once, as asciiJson would, and used by the writer', async (t) => {
  const anyRule = [...knowledgeBase.rulesByName.values()][0]
  t.ok(constantStrings.has(DISCLAIMER), 'the disclaimer')
  t.ok(constantStrings.has(FACT_LINEAGE.performanceEcog.label), 'the facts\' labels (because items are written afresh)')
  t.ok(constantStrings.has(anyRule?.definition.event.params.title as string), 'a title')
  t.ok(constantStrings.has(anyRule?.definition.event.params.detail as string), 'a detail')
  t.ok([...constantStrings].some((text) => [...text].some((character) => character.charCodeAt(0) > 0x7f)), 'strings beyond ASCII among them')
  const json = constantJson(['a – b', 'plain'])
  t.strictSame([...json], [['a – b', '"a \\u2013 b"'], ['plain', '"plain"']])
  // The writer takes a known string's JSON from the table (here a stand-in, to see that it is read).
  const writer = compileSchemaWriter(jsonSchemaOf(z.object({ a: z.string(), b: z.string(), n: z.number() })), new Map([['known', '"from the table"']]))
  t.equal(writer({ a: 'known', b: 'other – text', n: 1 }), '{"a":"from the table","b":"other \\u2013 text","n":1}')
})
