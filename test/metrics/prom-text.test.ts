import t from 'tap'
import { ExpositionError, labelKey, parseExposition, parseFloatValue, valueOf } from '../support/prom-text.js'

/** The parser the /metrics tests rely on: it accepts the format and refuses each kind of fault. */

const GOOD = [
  '# HELP requests_total Requests, with a \\\\ and a \\n in the help.',
  '# TYPE requests_total counter',
  'requests_total{route="/a",quote="say \\"hi\\"\\n\\\\"} 3',
  'requests_total{route="/b",} 0 1700000000000',
  '# a comment',
  '',
  '# HELP latency_seconds Latency.',
  '# TYPE latency_seconds histogram',
  'latency_seconds_bucket{le="0.1",route="/a"} 1',
  'latency_seconds_bucket{le="1",route="/a"} 2',
  'latency_seconds_bucket{le="+Inf",route="/a"} 2',
  'latency_seconds_sum{route="/a"} 0.35',
  'latency_seconds_count{route="/a"} 2',
  '# HELP temperature Gauge.',
  '# TYPE temperature gauge',
  'temperature -1.5e3',
  'temperature{x="nan"} NaN',
  'temperature{x="inf"} -Inf',
  '# HELP rpc_seconds A summary.',
  '# TYPE rpc_seconds summary',
  'rpc_seconds{quantile="0.5"} 0.2',
  'rpc_seconds_sum 1',
  'rpc_seconds_count 4',
  ''
].join('\n')

t.test('a well-formed exposition: families, help, types, labels with escapes, values', async (t) => {
  const families = parseExposition(GOOD)
  t.strictSame([...families.keys()], ['requests_total', 'latency_seconds', 'temperature', 'rpc_seconds'])
  t.equal(families.get('requests_total')?.help, 'Requests, with a \\ and a \n in the help.')
  t.equal(families.get('latency_seconds')?.type, 'histogram')
  t.strictSame(families.get('requests_total')?.samples[0]?.labels, { route: '/a', quote: 'say "hi"\n\\' })
  t.equal(valueOf(families, 'requests_total', 'requests_total', { route: '/b' }), 0)
  t.equal(valueOf(families, 'latency_seconds', 'latency_seconds_count', { route: '/a' }), 2)
  t.equal(valueOf(families, 'temperature', 'temperature', {}), -1500)
  t.ok(Number.isNaN(valueOf(families, 'temperature', 'temperature', { x: 'nan' })))
  t.equal(valueOf(families, 'temperature', 'temperature', { x: 'inf' }), -Infinity)
  t.equal(valueOf(families, 'nothing', 'nothing', {}), undefined)
  t.equal(labelKey({ b: '1', a: '2' }), labelKey({ a: '2', b: '1' }))
  t.equal(parseFloatValue('+Inf', 'x'), Infinity)
  t.equal(parseFloatValue('.5', 'x'), 0.5)
  t.ok(Number.isNaN(parseFloatValue('Nan', 'x')), 'any case, as Go reads it (prom-client writes Nan)')
  t.equal(parseFloatValue('inf', 'x'), Infinity)
  t.equal(parseFloatValue('-Infinity', 'x'), -Infinity)
})

const head = '# HELP m M.\n# TYPE m counter\n'
const histogramHead = '# HELP h H.\n# TYPE h histogram\n'
const FAULTS: Array<[string, string, RegExp]> = [
  ['no final newline', `${head}m 1`, /does not end with a newline/],
  ['a sample before any HELP/TYPE', 'm 1\n', /outside its family's block/],
  ['a sample of another family', `${head}n 1\n`, /outside its family's block/],
  ['samples of a family after another began', `${head}m{a="1"} 1\n# HELP n N.\n# TYPE n gauge\nn 1\nm{a="2"} 1\n`, /outside its family's block/],
  ['HELP after the samples', `${head}m 1\n# HELP m again\n`, /HELP of m after its samples/],
  ['TYPE of a family again after another', `${head}# HELP n N.\n# TYPE n gauge\n# TYPE m counter\n`, /TYPE of m after its samples/],
  ['a second HELP', '# HELP m M.\n# HELP m M.\n# TYPE m counter\n', /second HELP/],
  ['a second TYPE', '# HELP m M.\n# TYPE m counter\n# TYPE m counter\n', /second TYPE/],
  ['an unknown type', '# HELP m M.\n# TYPE m timer\n', /unknown type "timer"/],
  ['a malformed TYPE line', '# TYPE\n', /malformed TYPE line/],
  ['no TYPE', '# HELP m M.\nm 1\n', /HELP or TYPE missing/],
  ['no HELP', '# TYPE m gauge\nm 1\n', /HELP or TYPE missing/],
  ['a bad escape in HELP', '# HELP m a \\t tab\n# TYPE m gauge\n', /bad escape/],
  ['a bad metric name in TYPE', '# HELP 1m M.\n', /bad metric name "1m"/],
  ['a bad metric name in a sample', `${head}m-x 1\n`, /bad metric name "m-x"/],
  ['a bad label name', `${head}m{1a="x"} 1\n`, /bad label name "1a"/],
  ['a reserved label name', `${head}m{__name__="x"} 1\n`, /bad label name "__name__"/],
  ['a label twice', `${head}m{a="x",a="y"} 1\n`, /label "a" twice/],
  ['an unquoted label value', `${head}m{a=x} 1\n`, /no quoted value/],
  ['an unterminated label value', `${head}m{a="x} 1\n`, /unterminated value/],
  ['a bad escape in a label value', `${head}m{a="\\t"} 1\n`, /bad escape in label "a"/],
  ['no separator between labels', `${head}m{a="x" b="y"} 1\n`, /expected , or }/],
  ['no value', `${head}m\n`, /expected " value \[timestamp\]"/],
  ['two spaces before the value', `${head}m  1\n`, /"" is not a number/],
  ['a value that is not a number', `${head}m one\n`, /"one" is not a number/],
  ['a bad timestamp', `${head}m 1 soon\n`, /bad timestamp "soon"/],
  ['a series twice', `${head}m{a="x"} 1\nm{a="x"} 2\n`, /twice/],
  ['a negative counter', `${head}m -1\n`, /counter value -1 is not ≥ 0/],
  ['a NaN counter', `${head}m NaN\n`, /counter value NaN/],
  ['a bucket without le', `${histogramHead}h_bucket 1\nh_sum 1\nh_count 1\n`, /a bucket without le/],
  ['le outside a bucket', `${histogramHead}h_bucket{le="+Inf"} 1\nh_sum{le="1"} 1\nh_count 1\n`, /le outside a bucket/],
  ['no _sum', `${histogramHead}h_bucket{le="+Inf"} 1\nh_count 1\n`, /_sum or _count missing/],
  ['no _count', `${histogramHead}h_bucket{le="+Inf"} 1\nh_sum 1\n`, /_sum or _count missing/],
  ['no buckets', `${histogramHead}h_sum 1\nh_count 1\n`, /no \+Inf bucket last/],
  ['no +Inf bucket', `${histogramHead}h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n`, /no \+Inf bucket last/],
  ['le not increasing', `${histogramHead}h_bucket{le="1"} 1\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n`, /le 0.5 after 1/],
  ['buckets not cumulative', `${histogramHead}h_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n`, /counts 1 < 2/],
  ['+Inf bucket ≠ _count', `${histogramHead}h_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n`, /\+Inf bucket 2 ≠ _count 3/],
  ['a fractional bucket count', `${histogramHead}h_bucket{le="1"} 0.5\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n`, /not a natural number/],
  ['a bad le', `${histogramHead}h_bucket{le="big"} 1\nh_sum 1\nh_count 1\n`, /h_bucket le: "big" is not a number/]
]

t.test('each fault is refused with a message naming it', async (t) => {
  for (const [name, text, message] of FAULTS) {
    t.throws(() => parseExposition(text), { name: 'ExpositionError', message }, name)
  }
  t.ok(new ExpositionError('x') instanceof Error)
})
