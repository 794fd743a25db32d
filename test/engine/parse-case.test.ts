import t from 'tap'
import { parseCase } from '../../src/engine/parse-case.js'
import { zodValidatorCompiler, type RequestValidationError } from '../../src/http/validator.js'
import { Case } from '../../src/schemas/case.js'
import { caseOf } from '../fixtures/factories.js'

// src/engine/parse-case.ts: a raw case → the Case, or the API's clinical field errors (spec/api.md "Errors").

const UNKNOWN_KEY = 'is not a field of this object (unknown keys are rejected so that a misspelt clinical fact is never silently ignored)'

/** The errors of an invalid parse (fails the test when the case is valid). */
const errorsOf = (raw: unknown) => {
  const parsed = parseCase(raw)
  if (parsed.ok) throw new Error('expected an invalid case')
  return parsed.errors
}

t.test('a valid case comes back as the Case', async (t) => {
  const input = caseOf({ context: { evaluationDate: '2026-03-01' }, patient: { lvefPercent: 55 }, disease: { spineLesions: [{ level: 'T7', bilsky: '1a' }] } })
  const parsed = parseCase(input)
  t.strictSame(parsed, { ok: true, case: input })
  t.strictSame(parsed, { ok: true, case: Case.parse(input) }, 'what the schema parses')
})

t.test('an invalid case gives one clinical message per JSON pointer', async (t) => {
  const raw = { ...caseOf(), patient: { ageYears: 60, ecog: 7, ecogg: 1 }, tumor: { her2Ihc: '4+', erPercent: 0 } }
  t.strictSame(errorsOf(raw), [
    { path: '/patient/sex', message: 'is required' },
    { path: '/patient/ecog', message: 'must be at most 4' },
    { path: '/patient/ecogg', message: UNKNOWN_KEY },
    { path: '/tumor/her2Ihc', message: 'must be one of: "0", "1+", "2+", "3+", "not_done"' }
  ])
  const { tumor: _, ...withoutTumor } = caseOf()
  t.strictSame(errorsOf(withoutTumor), [{ path: '/tumor', message: 'is required' }], 'a missing section')
})

t.test('the consistency checks are included, with their field paths', async (t) => {
  const raw = caseOf({
    context: { evaluationDate: '2026-03-01' },
    patient: { gestationalWeeks: 20 },
    disease: { metastaticDiagnosisDate: '2026-03-02' }
  })
  t.strictSame(errorsOf(raw), [
    { path: '/disease/metastaticDiagnosisDate', message: 'is 2026-03-02, after the evaluation date 2026-03-01; a recorded event cannot lie in the future' },
    { path: '/patient/gestationalWeeks', message: 'is given while patient.pregnant is not true; remove it or record the pregnancy' }
  ])
})

t.test('something that is not a case object is reported at the root', async (t) => {
  for (const raw of [null, 'text', 42, [], true]) t.strictSame(errorsOf(raw), [{ path: '', message: 'must be a JSON object' }], JSON.stringify(raw))
  t.strictSame(errorsOf(undefined), [{ path: '', message: 'is required' }], 'nothing at all')
})

t.test('the errors are those of the HTTP validator for the same body', async (t) => {
  const validator = zodValidatorCompiler({ schema: Case, method: 'POST', url: '/v1/recommendations', httpPart: 'body' })
  const bodies: unknown[] = [
    { ...caseOf(), patient: { ageYears: 12, sex: 'x', ecog: 1 }, extra: true },
    caseOf({ history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'progression', toxicAgents: ['t_dxd'] }, { lineNumber: 1, agents: ['t_dm1'], outcome: 'ongoing' }] } }),
    { patient: {} }
  ]
  for (const body of bodies) {
    const http = validator(body) as { error: RequestValidationError }
    t.strictSame(errorsOf(body), http.error.errors)
  }
})
