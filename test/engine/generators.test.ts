import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { Case, CaseShape } from '../../src/schemas/case.js'
import { arbitraryCase, caseCategories, EVALUATION_WINDOW, generatedCaseIssues } from '../fixtures/generators.js'

// The generator must not drift from the schema silently: 2,000 generated cases all pass
// Case.safeParse, every field of the schema is generated (and every optional one is also left
// out), every enum value and both booleans occur, and the clinically interesting branches occur.

const SEED = 20260604
const RUNS = 2_000
const cases = fc.sample(arbitraryCase(), { seed: SEED, numRuns: RUNS })

t.test(`${RUNS} generated cases are valid Cases`, async (t) => {
  const invalid = cases.map((c, i) => ({ i, issues: generatedCaseIssues(c) })).filter(({ issues }) => issues.length > 0)
  t.strictSame(invalid.slice(0, 5), [], `${invalid.length} of ${RUNS} cases fail Case.safeParse`)
  t.ok(cases.every((c) => Case.safeParse(c).success), 'Case.safeParse succeeds for every case')
  // JSON round trip: no undefined values, no NaN, nothing a request body could not carry.
  t.ok(cases.every((c) => isDeepStrictEqual(JSON.parse(JSON.stringify(c)), c)), 'every case survives a JSON round trip unchanged')
})

t.test('constraints beyond the schema', async (t) => {
  const bad = (name: string, predicate: (c: Case) => boolean): void => {
    const found = cases.filter(predicate)
    t.equal(found.length, 0, name, { example: found[0] })
  }
  bad('evaluationDate always set, inside the window', (c) => {
    const date = c.context?.evaluationDate
    return date === undefined || date < EVALUATION_WINDOW.from || date > EVALUATION_WINDOW.to
  })
  bad('pregnancy recorded for women only', (c) => c.patient.sex === 'male' && c.patient.pregnant !== undefined)
  bad('a pregnant patient is at most 50', (c) => c.patient.pregnant === true && c.patient.ageYears > 50)
  bad('parenchymal brain details only when brain.present', (c) => c.disease.brain?.present === false &&
    Object.keys(c.disease.brain).some((key) => key !== 'present' && key !== 'leptomeningeal' && !(key === 'priorRt' && c.disease.brain?.leptomeningeal === true)))
  bad('"brain" in sites only when brain is present or left out', (c) => c.disease.metastaticSites.includes('brain') && c.disease.brain?.present === false)
  bad('spine levels unique within a case', (c) => new Set((c.disease.spineLesions ?? []).map((l) => l.level)).size !== (c.disease.spineLesions ?? []).length)
  bad('metastatic lines start on or after the metastatic diagnosis', (c) => (c.history?.metastaticLines ?? [])
    .some((line) => line.startDate !== undefined && c.disease.metastaticDiagnosisDate !== undefined && line.startDate < c.disease.metastaticDiagnosisDate))
  bad('early-stage last doses on or before the metastatic diagnosis', (c) => (c.history?.earlyStageTherapy ?? [])
    .some((entry) => entry.lastDoseDate !== undefined && c.disease.metastaticDiagnosisDate !== undefined && entry.lastDoseDate > c.disease.metastaticDiagnosisDate))
})

// ------------------------------------------------------------------------------------------------
// Field coverage, read off the zod schema itself (so a field added to the schema is noticed).

interface FieldStats { optional: boolean, present: number, absent: number, values: Set<unknown>, choices?: unknown[] }

function unwrap (schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema
}

/** The finite set of values a leaf may take (enum, literal union, boolean), if any. */
function choicesOf (schema: z.ZodType): unknown[] | undefined {
  if (schema instanceof z.ZodEnum) return schema.options
  if (schema instanceof z.ZodBoolean) return [true, false]
  if (schema instanceof z.ZodUnion && schema.options.every((option) => option instanceof z.ZodLiteral)) {
    return schema.options.flatMap((option) => [...(option as z.ZodLiteral).values])
  }
  return undefined
}

function walk (schema: z.ZodType, value: unknown, path: string, stats: Map<string, FieldStats>): void {
  const inner = unwrap(schema)
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      const childPath = path === '' ? key : `${path}.${key}`
      const entry = stats.get(childPath) ?? { optional: child.safeParse(undefined).success, present: 0, absent: 0, values: new Set(), choices: choicesOf(unwrap(child)) }
      stats.set(childPath, entry)
      const childValue = value === undefined ? undefined : (value as Record<string, unknown>)[key]
      if (value !== undefined) {
        if (childValue === undefined) entry.absent++
        else entry.present++
      }
      walk(child, childValue, childPath, stats)
    }
  } else if (inner instanceof z.ZodArray) {
    const element = inner.element as z.ZodType
    const elementPath = `${path}[]`
    const items = Array.isArray(value) ? value : []
    // Register the element's fields even when no element is generated.
    if (items.length === 0) walk(element, undefined, elementPath, stats)
    const entry = stats.get(elementPath) ?? { optional: false, present: 0, absent: 0, values: new Set(), choices: choicesOf(unwrap(element)) }
    stats.set(elementPath, entry)
    for (const item of items) {
      entry.present++
      walk(element, item, elementPath, stats)
    }
  } else {
    const entry = stats.get(path)
    if (entry !== undefined && value !== undefined) entry.values.add(value)
  }
}

const stats = new Map<string, FieldStats>()
for (const c of cases) walk(CaseShape, c, '', stats)

t.test('every field of the schema is generated, and every optional one is also left out', async (t) => {
  t.ok(stats.size > 100, `${stats.size} schema paths walked`)
  const neverPresent = [...stats].filter(([, s]) => s.present === 0).map(([path]) => path)
  // Deliberately always set: "today" must be fixed for dates drawn before it (and reproducible runs).
  const alwaysSet = new Set(['context', 'context.evaluationDate'])
  const neverAbsent = [...stats].filter(([path, s]) => s.optional && s.absent === 0 && !alwaysSet.has(path)).map(([path]) => path)
  t.strictSame(neverPresent, [], 'fields never generated')
  t.strictSame(neverAbsent, [], 'optional fields never left out')
})

t.test('every enum value and both booleans occur', async (t) => {
  const missing = [...stats].flatMap(([path, s]) => (s.choices ?? []).filter((choice) => !s.values.has(choice)).map((choice) => `${path} = ${JSON.stringify(choice)}`))
  const leaves = [...stats.values()].filter((s) => s.choices !== undefined)
  t.ok(leaves.length > 50, `${leaves.length} enum, literal and boolean fields checked`)
  t.strictSame(missing, [], 'values never generated')
})

// ------------------------------------------------------------------------------------------------
// The clinically interesting branches: each must occur in at least MIN_SHARE of the cases.

const MIN_SHARE = 0.005
const EXPECTED = [
  'in_scope', 'out_of_scope', 'non_metastatic', 'stage_reclassified', 'm1_without_sites',
  'her2_positive', 'her2_negative', 'her2_equivocal', 'her2_unknown', 'ihc2_ish_equivocal', 'ish_groups',
  'er_0', 'er_low', 'er_positive',
  'spine_lesions', 'spine_lesions_4plus', 'sins_total_only', 'sins_components_only', 'sins_both', 'sins_unstable',
  'bilsky_high_grade', 'spine_prior_rt', 'spine_surgery', 'non_spine_lesions',
  'brain_absent', 'brain_not_present', 'brain_present', 'leptomeningeal', 'brain_site_without_brain_object',
  'neuro_deficit', 'paraplegia_hours', 'pregnant', 'male',
  'lvef_below_40', 'lvef_with_baseline', 'ild', 'crcl_below_30', 'dpyd_deficient', 'active_onj',
  'calcium_mg_dl', 'calcium_mmol_l', 'bma_complications',
  'early_stage_therapy', 'early_without_last_dose', 'early_tdm1_tdxd_pertuzumab',
  'lines_0', 'lines_1', 'lines_2', 'lines_3',
  'outcome_ongoing', 'outcome_response', 'outcome_progression', 'outcome_toxicity', 'outcome_completed_planned',
  'local_progression_pattern', 'ild_grade_2plus', 'extracranial_status', 'preferences', 'jurisdiction', 'no_history'
]

t.test('the interesting branches occur', async (t) => {
  const counts = new Map<string, number>()
  for (const c of cases) for (const category of caseCategories(c)) counts.set(category, (counts.get(category) ?? 0) + 1)
  t.comment(`distribution over ${RUNS} cases: ${[...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ')}`)
  for (const category of EXPECTED) {
    const n = counts.get(category) ?? 0
    t.ok(n >= MIN_SHARE * RUNS, `${category}: ${n} of ${RUNS}`)
  }
  const inScope = (counts.get('in_scope') ?? 0) / RUNS
  t.ok(inScope >= 0.4 && inScope <= 0.85, `in-scope share ${(inScope * 100).toFixed(0)} % stays between 40 and 85 %`)
})
