import { hash } from 'node:crypto'

/**
 * RFC 8785 JSON Canonicalization Scheme for parsed JSON values: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings serialised as ECMAScript's JSON.stringify does (which
 * is what RFC 8785 specifies). Used for `provenance.inputDigest`, so that the same case gives the
 * same digest however its keys were ordered or spaced. It runs on every evaluation, hence the
 * shortcuts below (each is held to JSON.stringify by the tests).
 */
/** Printable ASCII without " and \: JSON.stringify would write such a string unchanged in quotes. */
export const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** A primitive as JSON.stringify writes it, without calling it for the common cases. */
function primitiveJson (value: unknown): string {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return JSON.stringify(value)
}

// Member names repeat from case to case (the Case schema's own names): each is quoted once. Bounded,
// so that a client sending ever new names cannot grow it.
const QUOTED_NAMES_MAX = 4096
const quotedNames = new Map<string, string>()
function quotedName (name: string): string {
  let quoted = quotedNames.get(name)
  if (quoted === undefined) {
    quoted = primitiveJson(name)
    if (quotedNames.size < QUOTED_NAMES_MAX) quotedNames.set(name, quoted)
  }
  return quoted
}

/**
 * Sorts in place by UTF-16 code units (what `<` compares, and RFC 8785's order). Insertion sort:
 * an object here has a handful of members, and this beats Array.prototype.sort at that size.
 */
function sortNames (names: string[]): string[] {
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string
    let j = i - 1
    for (; j >= 0 && (names[j] as string) > name; j--) names[j + 1] = names[j] as string
    names[j + 1] = name
  }
  return names
}

export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return primitiveJson(value)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i])
    return `${out}]`
  }
  const object = value as Record<string, unknown>
  const names = sortNames(Object.keys(object))
  let out = '{'
  for (const name of names) {
    const member = object[name]
    if (member === undefined) continue
    out += `${out.length === 1 ? '' : ','}${quotedName(name)}:${canonicalJson(member)}`
  }
  return `${out}}`
}

export function inputDigest (value: unknown): string {
  // crypto.hash (Node ≥ 20.12): one call, no Hash object, for data this small.
  return `sha256:${hash('sha256', canonicalJson(value))}`
}
