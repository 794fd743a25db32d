import t from 'tap'
import { z } from 'zod'
import { Case } from '../../src/schemas/case.js'
import type { FieldError } from '../../src/schemas/field-errors.js'
import { RequestValidationError, zodValidatorCompiler } from '../../src/http/validator.js'
import { caseOf } from '../fixtures/factories.js'

const UNKNOWN_KEY = 'is not a field of this object (unknown keys are rejected so that a misspelt clinical fact is never silently ignored)'

const validCase = () => caseOf({ context: { evaluationDate: '2026-03-01' } })

/** Runs the compiled validator as fastify would for a request body. */
const validate = (schema: z.ZodType, data: unknown) => {
  const validator = zodValidatorCompiler({ schema, method: 'POST', url: '/v1/recommendations', httpPart: 'body' })
  return validator(data) as { value?: unknown, error?: RequestValidationError }
}

t.test('zodValidatorCompiler: a valid body is returned as parsed', async (t) => {
  const body = validCase()
  const result = validate(Case, body)
  t.strictSame(result, { value: body })
  const withDefault = validate(z.strictObject({ a: z.string().default('x'), n: z.coerce.number() }), { n: '5' })
  t.strictSame(withDefault, { value: { a: 'x', n: 5 } }, 'the parsed value, not the input')
})

t.test('zodValidatorCompiler: an invalid body gives a RequestValidationError with clinical messages', async (t) => {
  const result = validate(Case, { ...validCase(), patient: { ageYears: 60, ecog: 1.5, weight: 70 }, tumor: { her2Ihc: '3+', erPercent: 101 } })
  t.equal(result.value, undefined)
  const error = result.error
  t.ok(error instanceof RequestValidationError)
  t.ok(error instanceof Error)
  t.equal(error?.name, 'RequestValidationError')
  t.equal(error?.statusCode, 400)
  t.equal(error?.message, 'The request body does not match the schema.')
  t.strictSame(error?.errors, [
    { path: '/patient/sex', message: 'is required' },
    { path: '/patient/ecog', message: 'must be a whole number' },
    { path: '/patient/weight', message: UNKNOWN_KEY },
    { path: '/tumor/erPercent', message: 'must be at most 100' }
  ])
})

t.test('zodValidatorCompiler: a body that is not an object is reported at the root', async (t) => {
  for (const body of [null, 'text', 42, [], true]) {
    t.strictSame(validate(Case, body).error?.errors, [{ path: '', message: 'must be a JSON object' }], JSON.stringify(body))
  }
  t.strictSame(validate(Case, undefined).error?.errors, [{ path: '', message: 'is required' }], 'no body')
})

t.test('RequestValidationError carries the field errors', async (t) => {
  const errors: FieldError[] = [{ path: '/patient/ecog', message: 'must be at most 4' }]
  const error = new RequestValidationError(errors)
  t.equal(error.errors, errors)
  t.equal(error.statusCode, 400)
  t.equal(error.name, 'RequestValidationError')
})
