import t from 'tap'
import { z } from 'zod'
import { Case } from '../../src/schemas/case.js'
import { clinicalMessage, fieldErrors, jsonPointer, parseClinically } from '../../src/schemas/field-errors.js'
import { caseOf } from '../fixtures/factories.js'

const UNKNOWN_KEY = 'is not a field of this object (unknown keys are rejected so that a misspelt clinical fact is never silently ignored)'

/** The messages a schema gives for `data` under clinicalMessage, as { path, message } with zod paths joined by dots. */
const messages = (schema: z.ZodType, data: unknown): Array<[string, string]> => {
  const result = schema.safeParse(data, { error: clinicalMessage })
  return result.success ? [] : result.error.issues.map((issue) => [issue.path.join('.'), issue.message])
}
const message = (schema: z.ZodType, data: unknown): string | undefined => messages(schema, data)[0]?.[1]

const validCase = () => caseOf({ context: { evaluationDate: '2026-03-01' } })

t.test('clinicalMessage: a missing field is required, whatever its type', async (t) => {
  const schema = z.strictObject({
    n: z.number(),
    i: z.int(),
    s: z.string(),
    b: z.boolean(),
    e: z.enum(['a', 'b']),
    u: z.union([z.literal(0), z.literal(1)]),
    o: z.strictObject({ x: z.number() }),
    a: z.array(z.string())
  })
  t.strictSame(messages(schema, {}), ['n', 'i', 's', 'b', 'e', 'u', 'o', 'a'].map((key) => [key, 'is required']))
  t.strictSame(messages(Case, { patient: {}, tumor: {}, disease: {} }), [
    ['patient.ageYears', 'is required'], ['patient.sex', 'is required'], ['patient.ecog', 'is required'],
    ['tumor.her2Ihc', 'is required'], ['tumor.erPercent', 'is required'],
    ['disease.presentation', 'is required'], ['disease.metastaticSites', 'is required']
  ])
})

t.test('clinicalMessage: wrong types', async (t) => {
  t.equal(message(z.int(), 1.5), 'must be a whole number')
  t.equal(message(z.strictObject({ x: z.number() }), 5), 'must be a JSON object')
  t.equal(message(z.strictObject({ x: z.number() }), null), 'must be a JSON object')
  t.equal(message(z.strictObject({ x: z.number() }), [1]), 'must be a JSON object')
  t.equal(message(z.array(z.number()), 'bone'), 'must be a JSON array')
  t.equal(message(z.array(z.number()), { 0: 1 }), 'must be a JSON array')
  t.equal(message(z.number(), '5'), 'must be a number, not string')
  t.equal(message(z.number(), null), 'must be a number, not null')
  t.equal(message(z.int(), '5'), 'must be a number, not string', 'z.int() reports a string as not a number')
  t.equal(message(z.boolean(), 'yes'), 'must be a boolean, not string')
  t.equal(message(z.boolean(), null), 'must be a boolean, not null')
  t.equal(message(z.boolean(), 1), 'must be a boolean, not number')
  t.equal(message(z.string(), 5), 'must be a string, not number')
  t.equal(message(z.string(), false), 'must be a string, not boolean')
  t.equal(message(z.string(), {}), 'must be a string, not object')
})

t.test('clinicalMessage: enums and unions', async (t) => {
  t.equal(message(z.enum(['female', 'male']), 'other'), 'must be one of: "female", "male"')
  t.equal(message(z.enum(['0', '1+']), 0), 'must be one of: "0", "1+"')
  t.equal(message(z.literal(3), 4), 'must be one of: 3')
  t.equal(message(z.union([z.literal(0), z.literal(1)]), 2), 'is not one of the allowed values or shapes')
  t.strictSame(messages(Case, { ...validCase(), patient: { ...validCase().patient, sex: 'f' } }), [['patient.sex', 'must be one of: "female", "male"']])
})

t.test('clinicalMessage: bounds of numbers, strings, arrays and sets', async (t) => {
  const rows: Array<[z.ZodType, unknown, string]> = [
    [z.number().min(18), 17, 'must be at least 18'],
    [z.number().max(120), 121, 'must be at most 120'],
    [z.number().gt(0), 0, 'must be greater than 0'],
    [z.number().lt(5), 5, 'must be less than 5'],
    [z.int().min(0).max(4), 5, 'must be at most 4'],
    [z.string().min(1), '', 'must be at least 1 character long'],
    [z.string().min(2), 'a', 'must be at least 2 characters long'],
    [z.string().max(1), 'ab', 'must be at most 1 character long'],
    [z.string().max(64), 'x'.repeat(65), 'must be at most 64 characters long'],
    [z.array(z.string()).min(1), [], 'must have at least 1 item'],
    [z.array(z.string()).min(2), ['a'], 'must have at least 2 items'],
    [z.array(z.string()).max(1), ['a', 'b'], 'must have at most 1 item'],
    [z.array(z.string()).max(9), Array.from({ length: 10 }, (_, i) => String(i)), 'must have at most 9 items'],
    [z.set(z.string()).min(1), new Set(), 'must have at least 1 item'],
    [z.set(z.string()).max(2), new Set(['a', 'b', 'c']), 'must have at most 2 items']
  ]
  for (const [schema, data, expected] of rows) t.equal(message(schema, data), expected, expected)
  t.strictSame(messages(Case, { ...validCase(), patient: { ...validCase().patient, ageYears: 17 } }), [['patient.ageYears', 'must be at least 18']])
  t.strictSame(messages(Case, { ...validCase(), patient: { ...validCase().patient, correctedCalcium: { value: 0, unit: 'mg/dL' } } }),
    [['patient.correctedCalcium.value', 'must be greater than 0']])
})

t.test('clinicalMessage: raw issues of every handled code', async (t) => {
  const raw = (issue: Record<string, unknown>) => clinicalMessage(issue as unknown as z.core.$ZodRawIssue)
  t.equal(raw({ code: 'invalid_type', expected: 'number', input: undefined }), 'is required')
  t.equal(raw({ code: 'invalid_type', expected: 'string', input: null }), 'must be a string, not null')
  t.equal(raw({ code: 'invalid_value', values: ['a', 1, true], input: 'b' }), 'must be one of: "a", 1, true')
  t.equal(raw({ code: 'invalid_value', values: ['a'], input: undefined }), 'is required')
  t.equal(raw({ code: 'invalid_union', errors: [], input: 7 }), 'is not one of the allowed values or shapes')
  t.equal(raw({ code: 'invalid_union', errors: [], input: undefined }), 'is required')
  t.equal(raw({ code: 'too_small', origin: 'number', minimum: 0, inclusive: false, input: 0 }), 'must be greater than 0')
  t.equal(raw({ code: 'too_small', origin: 'number', minimum: 1, input: 0 }), 'must be at least 1', 'inclusive unspecified')
  t.equal(raw({ code: 'too_big', origin: 'number', maximum: 10, inclusive: false, input: 10 }), 'must be less than 10')
  t.equal(raw({ code: 'too_big', origin: 'set', maximum: 1, input: new Set([1, 2]) }), 'must have at most 1 item')
  t.equal(raw({ code: 'too_big', origin: 'string', maximum: 3, input: 'abcd' }), 'must be at most 3 characters long')
  t.equal(raw({ code: 'unrecognized_keys', keys: ['x'], input: {} }), 'is not a field of this object')
})

t.test('clinicalMessage: other issues keep zod\'s or the schema\'s own message', async (t) => {
  t.equal(clinicalMessage({ code: 'invalid_format', format: 'regex', input: 'x' } as unknown as z.core.$ZodRawIssue), undefined)
  t.equal(clinicalMessage({ code: 'custom', input: 'x' } as unknown as z.core.$ZodRawIssue), undefined)
  t.equal(message(z.string().regex(/^a$/, { message: 'must be "a"' }), 'b'), 'must be "a"', 'an explicit message')
  t.match(message(z.string().regex(/^a$/), 'b'), /pattern/, 'zod\'s default for an unhandled code')
  t.strictSame(messages(Case, { ...validCase(), disease: { presentation: 'de_novo_metastatic', metastaticSites: ['bone', 'bone'] } }),
    [['disease.metastaticSites', 'must not list a site twice']])
  t.strictSame(messages(Case, { ...validCase(), caseId: 'no spaces' }), [['caseId', 'may contain only letters, digits and . _ : -']])
  t.strictSame(messages(Case, { ...validCase(), disease: { ...validCase().disease, metastaticDiagnosisDate: '2026-02-30' } }),
    [['disease.metastaticDiagnosisDate', 'must be a calendar date written as YYYY-MM-DD, for example 2026-03-01']])
  t.strictSame(messages(Case, { ...validCase(), disease: { ...validCase().disease, metastaticDiagnosisDate: '2026-03-02' } }),
    [['disease.metastaticDiagnosisDate', 'is 2026-03-02, after the evaluation date 2026-03-01; a recorded event cannot lie in the future']])
})

t.test('jsonPointer: RFC 6901 with ~ and / escaped', async (t) => {
  const rows: Array<[PropertyKey[], string]> = [
    [['patient', 'ecog'], '/patient/ecog'],
    [['disease', 'spineLesions', 0, 'sinsComponents', 'pain'], '/disease/spineLesions/0/sinsComponents/pain'],
    [['a/b'], '/a~1b'],
    [['m~n'], '/m~0n'],
    [['~/'], '/~0~1'],
    [['/~'], '/~1~0'],
    [['~1'], '/~01'],
    [['~0~1'], '/~00~01'],
    [['a//b', 'c~~d'], '/a~1~1b/c~0~0d'],
    [['mg/dL'], '/mg~1dL'],
    [['with space', 'é'], '/with space/é'],
    [[''], '/'],
    [['', ''], '//'],
    [[Symbol('s')], '/Symbol(s)']
  ]
  for (const [path, pointer] of rows) t.equal(jsonPointer(path), pointer, pointer)
  t.equal(jsonPointer([]), '', 'the whole body is the empty pointer (RFC 6901)')
})

t.test('fieldErrors: one error per issue, at its pointer', async (t) => {
  const result = Case.safeParse({ ...validCase(), patient: { ...validCase().patient, ageYears: 121, ecog: 5 } }, { error: clinicalMessage })
  t.equal(result.success, false)
  t.strictSame(fieldErrors(result.error?.issues ?? []), [
    { path: '/patient/ageYears', message: 'must be at most 120' },
    { path: '/patient/ecog', message: 'must be at most 4' }
  ])
  t.strictSame(fieldErrors([]), [])
})

t.test('fieldErrors: an unknown key is reported at its own pointer, one per key', async (t) => {
  const result = Case.safeParse({ ...validCase(), patient: { ...validCase().patient, 'a/b': 1, 'c~d': 2 }, extra: true }, { error: clinicalMessage })
  t.strictSame(fieldErrors(result.error?.issues ?? []), [
    { path: '/patient/a~1b', message: UNKNOWN_KEY },
    { path: '/patient/c~0d', message: UNKNOWN_KEY },
    { path: '/extra', message: UNKNOWN_KEY }
  ])
  const deep = Case.safeParse({ ...validCase(), disease: { ...validCase().disease, spineLesions: [{ level: 'T4', sinsComponents: { location: 1, pain: 1, boneLesion: 1, alignment: 0, collapse: 0, posterolateral: 0, total: 3 } }] } })
  t.strictSame(fieldErrors(deep.error?.issues ?? []), [{ path: '/disease/spineLesions/0/sinsComponents/total', message: UNKNOWN_KEY }])
  const raw = [{ code: 'unrecognized_keys', keys: ['x', 'y'], path: [], message: 'm', input: {} }] as unknown as z.core.$ZodIssue[]
  t.strictSame(fieldErrors(raw), [{ path: '/x', message: UNKNOWN_KEY }, { path: '/y', message: UNKNOWN_KEY }], 'at the root')
})

t.test('parseClinically: the parsed value, or the field errors', async (t) => {
  const body = validCase()
  t.strictSame(parseClinically(Case, body), { ok: true, value: body })
  t.strictSame(parseClinically(Case, { ...body, patient: { ...body.patient, ecog: 5 } }), { ok: false, errors: [{ path: '/patient/ecog', message: 'must be at most 4' }] })
})
