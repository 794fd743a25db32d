import { createHash } from 'node:crypto'
import t from 'tap'
import { canonicalJson, inputDigest } from '../../src/engine/canonical-json.js'

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

t.test('canonicalJson: object keys sorted, no whitespace', async (t) => {
  t.equal(canonicalJson({ b: 1, a: 2, c: { z: true, y: null } }), '{"a":2,"b":1,"c":{"y":null,"z":true}}')
  t.equal(canonicalJson({}), '{}')
  t.equal(canonicalJson([]), '[]')
})

t.test('canonicalJson: the same value whatever the key order', async (t) => {
  const one = { patient: { ageYears: 50, sex: 'female', ecog: 1 }, tumor: { her2Ihc: '3+', erPercent: 0 } }
  const two = { tumor: { erPercent: 0, her2Ihc: '3+' }, patient: { ecog: 1, sex: 'female', ageYears: 50 } }
  t.equal(canonicalJson(one), canonicalJson(two))
  t.equal(canonicalJson(JSON.parse(JSON.stringify(two, null, 2))), canonicalJson(one), 'whitespace in the source does not matter')
  t.equal(inputDigest(one), inputDigest(two))
  t.not(inputDigest(one), inputDigest({ ...one, tumor: { her2Ihc: '3+', erPercent: 1 } }), 'a different value, a different digest')
})

t.test('canonicalJson: keys sort by UTF-16 code units', async (t) => {
  t.equal(canonicalJson({ b: 1, B: 2, a: 3, _: 4, 10: 5, 9: 6 }), '{"10":5,"9":6,"B":2,"_":4,"a":3,"b":1}')
  t.equal(canonicalJson({ é: 1, z: 2, '\u{1F600}': 3, ﬁ: 4 }), '{"z":2,"é":1,"\u{1F600}":3,"\uFB01":4}', 'a surrogate pair sorts before U+FB01')
})

t.test('canonicalJson: nested arrays keep their order; objects inside arrays are sorted', async (t) => {
  t.equal(canonicalJson([3, 1, 2]), '[3,1,2]')
  t.equal(canonicalJson({ lines: [{ n: 2, a: ['y', 'x'] }, { n: 1, a: [] }], m: [[2, 1], [{ d: 1, c: 2 }]] }),
    '{"lines":[{"a":["y","x"],"n":2},{"a":[],"n":1}],"m":[[2,1],[{"c":2,"d":1}]]}')
  t.not(canonicalJson([1, 2]), canonicalJson([2, 1]))
})

t.test('canonicalJson: undefined members are dropped', async (t) => {
  t.equal(canonicalJson({ a: undefined, b: 1, c: { d: undefined } }), '{"b":1,"c":{}}')
  t.equal(canonicalJson({ a: undefined }), '{}')
  t.equal(inputDigest({ a: 1, b: undefined }), inputDigest({ a: 1 }))
})

t.test('canonicalJson: numbers, strings and literals as JSON.stringify', async (t) => {
  const values: unknown[] = [
    0, -0, 1, -1.5, 0.1, 1e21, 1e-7, 123456789012345680000, 2.62, 10.5,
    '', 'plain', 'quote " backslash \\ slash /', 'line\nbreak\ttab', '\u0001\u001f', 'é ü 中 \u{1F600}', '\u2028\u2029',
    true, false, null
  ]
  for (const value of values) t.equal(canonicalJson(value), JSON.stringify(value), `${typeof value} ${String(value)}`)
  t.equal(canonicalJson(-0), '0')
  t.equal(canonicalJson(1e21), '1e+21')
  t.equal(canonicalJson({ 'key "quoted"\n': 'v' }), '{"key \\"quoted\\"\\n":"v"}', 'keys are escaped as strings')
})

t.test('inputDigest: sha256:<64 lowercase hex> of the canonical form', async (t) => {
  const value = { z: [1, { b: 'x', a: null }], a: 'é' }
  const digest = inputDigest(value)
  t.match(digest, /^sha256:[0-9a-f]{64}$/)
  t.equal(digest, `sha256:${sha256('{"a":"é","z":[1,{"a":null,"b":"x"}]}')}`)
  t.equal(inputDigest({}), `sha256:${sha256('{}')}`)
  t.equal(inputDigest({}), 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')
})

t.test('canonicalJson: past the cache of quoted member names, names are still quoted correctly', async (t) => {
  // More distinct names than the cache keeps: those past its bound are quoted on every use.
  const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`n\u00e9"${i}`, i]))
  const expected = `{${Object.keys(wide).sort().map((name) => `${JSON.stringify(name)}:${wide[name] as number}`).join(',')}}`
  t.equal(canonicalJson(wide), expected)
  t.equal(canonicalJson(wide), expected, 'the same again, now partly from the cache')
})

t.test('canonicalJson: the insertion sort gives Array.prototype.sort\'s order', async (t) => {
  const names = ['b', 'a', 'B', '_', '10', '9', 'é', '\u{1F600}', 'ﬁ', 'aa', 'a', '']
  const object = Object.fromEntries(names.map((name, i) => [name, i]))
  const expected = `{${Object.keys(object).sort().map((name) => `${JSON.stringify(name)}:${object[name] as number}`).join(',')}}`
  t.equal(canonicalJson(object), expected)
})
