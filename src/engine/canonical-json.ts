import { createHash } from 'node:crypto'

/**
 * RFC 8785 JSON Canonicalization Scheme for parsed JSON values: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings serialised as ECMAScript's JSON.stringify does (which
 * is what RFC 8785 specifies). Used for `provenance.inputDigest`, so that the same case gives the
 * same digest however its keys were ordered or spaced.
 */
// Printable ASCII without " and \: JSON.stringify would write these strings unchanged in quotes.
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** A primitive as JSON.stringify writes it, without calling it for the common cases. */
function primitiveJson (value: unknown): string {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return JSON.stringify(value)
}

export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return primitiveJson(value)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i])
    return `${out}]`
  }
  const object = value as Record<string, unknown>
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(object).sort()
  let out = '{'
  for (const key of keys) {
    const member = object[key]
    if (member === undefined) continue
    out += `${out.length === 1 ? '' : ','}${primitiveJson(key)}:${canonicalJson(member)}`
  }
  return `${out}}`
}

export function inputDigest (value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`
}
