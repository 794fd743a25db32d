import type { z } from 'zod'

/**
 * Clinician-worded validation errors ("must be a whole number", "is required") rather than zod's
 * developer messages, each at the JSON pointer of its field: what a 400 of the API lists, and what
 * parseCase (src/engine/parse-case.ts) returns outside HTTP. Framework-free: the Fastify validator
 * compiler (src/http/validator.ts) is built on it.
 */

export interface FieldError { path: string, message: string }

const describeValue = (values: readonly unknown[]): string => values.map((value) => JSON.stringify(value)).join(', ')

const limit = (origin: string | undefined, bound: number | bigint, inclusive: boolean | undefined, side: 'min' | 'max'): string => {
  if (origin === 'array' || origin === 'set') return `must have ${side === 'min' ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`
  if (origin === 'string') return `must be ${side === 'min' ? 'at least' : 'at most'} ${bound} character${bound === 1 ? '' : 's'} long`
  if (inclusive === false) return `must be ${side === 'min' ? 'greater' : 'less'} than ${bound}`
  return `must be ${side === 'min' ? 'at least' : 'at most'} ${bound}`
}

/** Words for one zod issue; a message a schema sets explicitly (custom checks) is kept. */
export function clinicalMessage (issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required'
      if (issue.expected === 'int') return 'must be a whole number'
      if (issue.expected === 'object') return 'must be a JSON object'
      if (issue.expected === 'array') return 'must be a JSON array'
      return `must be a ${issue.expected === 'number' ? 'number' : issue.expected}, not ${issue.input === null ? 'null' : typeof issue.input}`
    case 'invalid_value':
      // zod 4 reports a missing enum or literal field as invalid_value (not invalid_type).
      if (issue.input === undefined) return 'is required'
      return `must be one of: ${describeValue(issue.values)}`
    case 'too_small':
      return limit(issue.origin, issue.minimum as number, issue.inclusive, 'min')
    case 'too_big':
      return limit(issue.origin, issue.maximum as number, issue.inclusive, 'max')
    case 'invalid_union':
      if (issue.input === undefined) return 'is required'
      return 'is not one of the allowed values or shapes'
    case 'unrecognized_keys':
      return 'is not a field of this object'
    default:
      return undefined
  }
}

/** RFC 6901 JSON pointer for a zod path; the whole body is the empty pointer "". */
export function jsonPointer (path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/** zod issues → one field error per JSON pointer; an unknown key is reported at its own pointer. */
export function fieldErrors (issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: jsonPointer([...issue.path, key]),
        message: 'is not a field of this object (unknown keys are rejected so that a misspelt clinical fact is never silently ignored)'
      }))
    }
    return [{ path: jsonPointer(issue.path), message: issue.message }]
  })
}

/** `data` parsed by `schema` with the clinical messages: the parsed value, or its field errors. */
export function parseClinically<T extends z.ZodType> (schema: T, data: unknown): { ok: true, value: z.output<T> } | { ok: false, errors: FieldError[] } {
  const result = schema.safeParse(data, { error: clinicalMessage })
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: fieldErrors(result.error.issues) }
}
