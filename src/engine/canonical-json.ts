import { createHash } from 'node:crypto'

/**
 * RFC 8785 JSON Canonicalization Scheme for parsed JSON values: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings serialised as ECMAScript's JSON.stringify does (which
 * is what RFC 8785 specifies). Used for `provenance.inputDigest`, so that the same case gives the
 * same digest however its keys were ordered or spaced.
 */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonicalJson(v)}`).join(',')}}`
}

export function inputDigest (value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`
}
