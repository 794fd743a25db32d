import { Case } from '../schemas/case.js'
import { parseClinically, type FieldError } from '../schemas/field-errors.js'

/**
 * A raw case (a JSON file for the CLI, a test fixture, a FHIR mapping's output) → the validated
 * `Case`, or the field errors that POST /v1/recommendations would answer with in its 400: the same
 * clinician-worded messages at the same JSON pointers, consistency checks included, because both
 * go through `parseClinically` (src/schemas/field-errors.ts). Without context.evaluationDate, "today"
 * is the server's UTC date, as over HTTP.
 * @see spec/api.md "Errors"
 */

export type ParsedCase = { ok: true, case: Case } | { ok: false, errors: FieldError[] }

export function parseCase (raw: unknown): ParsedCase {
  const result = parseClinically(Case, raw)
  return result.ok ? { ok: true, case: result.value } : result
}
