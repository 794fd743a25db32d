/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for the tests of GET /metrics:
 * every line must be a HELP, a TYPE, a comment or a well-formed sample; every family has one HELP
 * and one TYPE before its samples, which are contiguous; names, label names and escapes follow the
 * format; no series appears twice; counters are never negative; each histogram series has buckets
 * with strictly increasing `le` ending at +Inf, cumulative (non-decreasing) counts, the +Inf bucket
 * equal to `_count`, and a `_sum`. Any departure throws, naming the line.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`… for a histogram `x`). */
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help: string
  type: MetricType
  samples: Sample[]
}

export class ExpositionError extends Error {
  override name = 'ExpositionError'
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped']
/**
 * A float as Go's strconv.ParseFloat reads it (the format's rule): decimal or exponent notation, and
 * NaN and [+-]Inf in any case — prom-client writes `Nan` (an event-loop mean before any sample).
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const SPECIAL = /^(?:nan|([+-]?)inf(?:inity)?)$/i

export function parseFloatValue (text: string, where: string): number {
  if (DECIMAL.test(text)) return Number(text)
  const special = SPECIAL.exec(text)
  if (special === null) throw new ExpositionError(`${where}: "${text}" is not a number`)
  if (special[1] === undefined) return Number.NaN
  return special[1] === '-' ? -Infinity : Infinity
}

/** HELP text escapes: `\\` and `\n` only. */
function unescapeHelp (text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_match, next: string) => {
    if (next === '\\') return '\\'
    if (next === 'n') return '\n'
    throw new ExpositionError(`${where}: bad escape "\\${next}" in HELP`)
  })
}

/** `{a="x",b="y"}` from `start` (at the `{`): the labels and the index after the `}`. */
function parseLabels (line: string, start: number, where: string): { labels: Record<string, string>, end: number } {
  const labels: Record<string, string> = {}
  let index = start + 1
  for (;;) {
    if (line[index] === '}') return { labels, end: index + 1 }
    const nameMatch = /^[^=]*/.exec(line.slice(index)) as RegExpExecArray
    const name = nameMatch[0]
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new ExpositionError(`${where}: bad label name "${name}"`)
    if (Object.hasOwn(labels, name)) throw new ExpositionError(`${where}: label "${name}" twice`)
    index += name.length
    if (line.slice(index, index + 2) !== '="') throw new ExpositionError(`${where}: label "${name}" has no quoted value`)
    index += 2
    let value = ''
    for (;;) {
      const char = line[index]
      if (char === undefined) throw new ExpositionError(`${where}: unterminated value of label "${name}"`)
      if (char === '"') break
      if (char === '\\') {
        const next = line[index + 1]
        if (next === '\\' || next === '"') value += next
        else if (next === 'n') value += '\n'
        else throw new ExpositionError(`${where}: bad escape in label "${name}"`)
        index += 2
      } else {
        value += char
        index++
      }
    }
    labels[name] = value
    index++
    if (line[index] === ',') index++
    else if (line[index] !== '}') throw new ExpositionError(`${where}: expected , or } after label "${name}"`)
  }
}

function parseSample (line: string, where: string): Sample {
  const name = (/^[^{ ]*/.exec(line) as RegExpExecArray)[0]
  if (!METRIC_NAME.test(name)) throw new ExpositionError(`${where}: bad metric name "${name}"`)
  let labels: Record<string, string> = {}
  let rest = line.slice(name.length)
  if (rest.startsWith('{')) {
    const parsed = parseLabels(line, name.length, where)
    labels = parsed.labels
    rest = line.slice(parsed.end)
  }
  const parts = rest.split(' ')
  // One space, the value, and an optional integer timestamp (milliseconds).
  if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new ExpositionError(`${where}: expected " value [timestamp]"`)
  const value = parseFloatValue(parts[1] as string, where)
  if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new ExpositionError(`${where}: bad timestamp "${parts[2]}"`)
  return { name, labels, value }
}

/** The family a sample name belongs to, for its type (a histogram `x` owns `x_bucket`, `x_sum`, `x_count`). */
function belongsTo (family: Family, sampleName: string): boolean {
  if (family.type === 'histogram') return ['_bucket', '_sum', '_count'].some((suffix) => sampleName === `${family.name}${suffix}`)
  if (family.type === 'summary') return ['', '_sum', '_count'].some((suffix) => sampleName === `${family.name}${suffix}`)
  return sampleName === family.name
}

/** The canonical key of a label set (sorted), optionally without one label. */
export function labelKey (labels: Record<string, string>, without?: string): string {
  return JSON.stringify(Object.entries(labels).filter(([name]) => name !== without).sort(([a], [b]) => a < b ? -1 : 1))
}

function checkCounter (family: Family): void {
  for (const sample of family.samples) {
    if (!(sample.value >= 0)) throw new ExpositionError(`${family.name}: counter value ${sample.value} is not ≥ 0`)
  }
}

function checkHistogram (family: Family): void {
  const series = new Map<string, { buckets: Array<[le: number, count: number]>, sum?: number, count?: number }>()
  const of = (key: string): { buckets: Array<[number, number]>, sum?: number, count?: number } => {
    let entry = series.get(key)
    if (entry === undefined) series.set(key, entry = { buckets: [] })
    return entry
  }
  for (const sample of family.samples) {
    if (sample.name.endsWith('_bucket')) {
      const le = sample.labels.le
      if (le === undefined) throw new ExpositionError(`${sample.name}: a bucket without le`)
      of(labelKey(sample.labels, 'le')).buckets.push([parseFloatValue(le, `${sample.name} le`), sample.value])
    } else if ('le' in sample.labels) {
      throw new ExpositionError(`${sample.name}: le outside a bucket`)
    } else {
      of(labelKey(sample.labels))[sample.name.endsWith('_sum') ? 'sum' : 'count'] = sample.value
    }
  }
  for (const [key, { buckets, sum, count }] of series) {
    const where = `${family.name}${key}`
    if (sum === undefined || count === undefined) throw new ExpositionError(`${where}: _sum or _count missing`)
    if (buckets.length === 0 || buckets.at(-1)?.[0] !== Infinity) throw new ExpositionError(`${where}: no +Inf bucket last`)
    for (let i = 1; i < buckets.length; i++) {
      const [le, cumulative] = buckets[i] as [number, number]
      const [previousLe, previous] = buckets[i - 1] as [number, number]
      if (!(le > previousLe)) throw new ExpositionError(`${where}: le ${le} after ${previousLe}`)
      if (cumulative < previous) throw new ExpositionError(`${where}: bucket le=${le} counts ${cumulative} < ${previous}`)
    }
    if (buckets.at(-1)?.[1] !== count) throw new ExpositionError(`${where}: +Inf bucket ${String(buckets.at(-1)?.[1])} ≠ _count ${count}`)
    if (buckets.some(([, value]) => !Number.isInteger(value) || value < 0)) throw new ExpositionError(`${where}: a bucket count that is not a natural number`)
  }
}

/** Parses a whole exposition (it must end with a newline); throws ExpositionError at the first fault. */
export function parseExposition (text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new ExpositionError('the exposition does not end with a newline')
  const families = new Map<string, Family>()
  const seenSeries = new Set<string>()
  const closed = new Set<string>()
  let current: Family | undefined
  const family = (name: string, where: string): Family => {
    if (!METRIC_NAME.test(name)) throw new ExpositionError(`${where}: bad metric name "${name}"`)
    let found = families.get(name)
    if (found === undefined) families.set(name, found = { name, help: '', type: 'untyped', samples: [] })
    return found
  }
  const declared = { help: new Set<string>(), type: new Set<string>() }

  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}`
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
    if (meta !== null) {
      const [, keyword, name, rest = ''] = meta as unknown as [string, 'HELP' | 'TYPE', string, string | undefined]
      const target = family(name, where)
      if (closed.has(name) || target.samples.length > 0) throw new ExpositionError(`${where}: ${keyword} of ${name} after its samples`)
      if (current !== undefined && current !== target) closed.add(current.name)
      current = target
      if (keyword === 'HELP') {
        if (declared.help.has(name)) throw new ExpositionError(`${where}: second HELP of ${name}`)
        declared.help.add(name)
        target.help = unescapeHelp(rest, where)
      } else {
        if (declared.type.has(name)) throw new ExpositionError(`${where}: second TYPE of ${name}`)
        if (!TYPES.includes(rest)) throw new ExpositionError(`${where}: unknown type "${rest}"`)
        declared.type.add(name)
        target.type = rest as MetricType
      }
      continue
    }
    if (/^# (?:HELP|TYPE)\b/.test(line)) throw new ExpositionError(`${where}: malformed ${line.slice(2, 6)} line`)
    if (line.startsWith('#')) continue
    const sample = parseSample(line, where)
    if (current === undefined || !belongsTo(current, sample.name)) throw new ExpositionError(`${where}: sample ${sample.name} outside its family's block`)
    const key = `${sample.name}${labelKey(sample.labels)}`
    if (seenSeries.has(key)) throw new ExpositionError(`${where}: series ${key} twice`)
    seenSeries.add(key)
    current.samples.push(sample)
  }

  for (const [name, entry] of families) {
    if (!declared.help.has(name) || !declared.type.has(name)) throw new ExpositionError(`${name}: HELP or TYPE missing`)
    if (entry.type === 'counter') checkCounter(entry)
    if (entry.type === 'histogram') checkHistogram(entry)
  }
  return families
}

/** The value of one series (exact labels), or undefined. */
export function valueOf (families: Map<string, Family>, family: string, sampleName: string, labels: Record<string, string>): number | undefined {
  const key = labelKey(labels)
  return families.get(family)?.samples.find((sample) => sample.name === sampleName && labelKey(sample.labels) === key)?.value
}
