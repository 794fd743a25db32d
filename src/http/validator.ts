import type { FastifySchemaCompiler } from 'fastify'
import type { z } from 'zod'
import { parseClinically, type FieldError } from '../schemas/field-errors.js'

/**
 * Request validation with zod, with the clinician-worded messages of src/schemas/field-errors.ts.
 * Each issue keeps its path so that the 400 response names the exact JSON pointer.
 */

export class RequestValidationError extends Error {
  override name = 'RequestValidationError'
  readonly statusCode = 400
  constructor (readonly errors: FieldError[]) {
    super('The request body does not match the schema.')
  }
}

/** Fastify validator compiler for zod schemas, with the clinical messages. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const result = parseClinically(schema, data)
  return result.ok ? { value: result.value } : { error: new RequestValidationError(result.errors) }
}
