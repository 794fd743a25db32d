import t from 'tap'
import { Case, consistencyIssues, sumSinsComponents, utcToday, type ConsistencyIssue } from '../../src/schemas/case.js'
import { isCalendarDate } from '../../src/schemas/common.js'
import { caseOf } from '../fixtures/factories.js'

const EVALUATION_DATE = '2026-03-01'
const NEXT_DAY = '2026-03-02'

/** A valid case with every object of the schema present, so that every depth can be probed. */
const fullCase = (): Case => ({
  caseId: 'synthetic-case.1:a_b',
  context: { evaluationDate: EVALUATION_DATE, jurisdiction: 'EU' },
  patient: {
    ageYears: 52,
    sex: 'female',
    ecog: 1,
    ecogBeforeDeficit: 0,
    menopausalStatus: 'postmenopausal',
    pregnant: false,
    surgicalCandidate: true,
    estimatedSurvivalMonths: 36,
    lvefPercent: 58,
    lvefBaselinePercent: 62,
    heartFailureSymptoms: 'none',
    ildHistory: 'none',
    creatinineClearanceMlMin: 90,
    correctedCalcium: { value: 9.6, unit: 'mg/dL' },
    vitaminD25OHNgMl: 30,
    dentalStatus: 'cleared',
    dpydStatus: 'normal'
  },
  tumor: {
    her2Ihc: '2+',
    her2IshResult: 'amplified',
    her2IshRatio: 2.6,
    her2IshCopyNumber: 6.2,
    her2Source: 'primary',
    erPercent: 80,
    prPercent: 20,
    receptorDiscordance: false
  },
  disease: {
    presentation: 'recurrent_metastatic',
    metastaticSites: ['bone', 'liver', 'brain'],
    ajcc: { t: 'cT2', n: 'cN1', m: 'M1' },
    metastaticDiagnosisDate: '2025-11-01',
    totalMetastaticLesions: 6,
    visceralCrisis: false,
    brainSymptoms: false,
    extracranialStatus: 'stable',
    primaryIntact: false,
    primarySymptoms: ['pain'],
    neuro: { deficit: 'none', ambulatory: 'independent', deficitOnsetHours: 0, paraplegiaDurationHours: 0 },
    spineLesions: [{
      level: 'T9',
      contiguousLevels: 1,
      sinsTotal: 7,
      sinsComponents: { location: 1, pain: 1, boneLesion: 2, alignment: 0, collapse: 2, posterolateral: 1 },
      bilsky: '1b',
      painNrs: 3,
      painType: 'nonmechanical',
      pathologicFracture: false,
      priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-12-01' },
      surgery: { type: 'augmentation', date: '2025-11-15' }
    }],
    nonSpineBoneLesions: [{ site: 'femur', painNrs: 2, mirelsScore: 7, pathologicFracture: false, priorRt: { doseGy: 20, fractions: 5, technique: 'conventional', date: '2025-12-10' } }],
    brain: { present: true, count: 1, maxDiameterCm: 0.8, symptomatic: false, massEffect: false, status: 'treated_stable', leptomeningeal: false }
  },
  history: {
    earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab', 'pertuzumab'], lastDoseDate: '2024-05-01' }],
    metastaticLines: [
      { lineNumber: 1, agents: ['t_dxd'], startDate: '2025-11-20', endDate: '2026-02-01', outcome: 'toxicity', maxIldGrade: 2 },
      { lineNumber: 2, agents: ['tucatinib', 'trastuzumab', 'capecitabine'], startDate: '2026-02-15', outcome: 'ongoing' }
    ],
    boneModifyingAgent: { agent: 'zoledronic_acid', startDate: '2025-12-01', intervalWeeks: 12, complications: [] }
  },
  preferences: { declinesChemotherapy: false, goalsOfCare: 'disease_control', asksAboutPrimarySurgery: false }
})

type Json = Record<string, unknown>
/** A deep copy of `body` with the value at `path` replaced (undefined deletes it). */
const withValue = (body: unknown, path: Array<string | number>, value: unknown): Json => {
  const copy = structuredClone(body) as Json
  let node: Json = copy
  for (const key of path.slice(0, -1)) node = node[key] as Json
  const last = path.at(-1) as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

const issues = (body: unknown): Array<{ path: string, code: string, message: string }> => {
  const result = Case.safeParse(body)
  return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path.join('.'), code: issue.code, message: issue.message }))
}
const paths = (body: unknown): string[] => issues(body).map((issue) => issue.path)
const consistencyPaths = (list: ConsistencyIssue[]): string[] => list.map((issue) => issue.path.join('.'))

t.test('a minimal case and a full case are valid', async (t) => {
  t.strictSame(issues(caseOf()), [])
  t.strictSame(issues(fullCase()), [])
  t.strictSame(consistencyIssues(fullCase(), EVALUATION_DATE), [])
  const parsed = Case.safeParse(fullCase())
  t.ok(parsed.success)
  t.strictSame(parsed.data, fullCase(), 'parsing keeps every field as given')
})

t.test('required fields', async (t) => {
  const required: Array<Array<string | number>> = [
    ['patient'], ['tumor'], ['disease'],
    ['patient', 'ageYears'], ['patient', 'sex'], ['patient', 'ecog'],
    ['tumor', 'her2Ihc'], ['tumor', 'erPercent'],
    ['disease', 'presentation'], ['disease', 'metastaticSites'],
    ['patient', 'correctedCalcium', 'value'], ['patient', 'correctedCalcium', 'unit'],
    ['disease', 'neuro', 'deficit'],
    ['disease', 'spineLesions', 0, 'level'],
    ['disease', 'spineLesions', 0, 'sinsComponents', 'collapse'],
    ['disease', 'spineLesions', 0, 'priorRt', 'doseGy'],
    ['disease', 'spineLesions', 0, 'priorRt', 'fractions'],
    ['disease', 'spineLesions', 0, 'priorRt', 'technique'],
    ['disease', 'spineLesions', 0, 'surgery', 'type'],
    ['disease', 'nonSpineBoneLesions', 0, 'site'],
    ['disease', 'brain', 'present'],
    ['history', 'earlyStageTherapy', 0, 'setting'],
    ['history', 'earlyStageTherapy', 0, 'agents'],
    ['history', 'metastaticLines', 0, 'lineNumber'],
    ['history', 'metastaticLines', 0, 'agents'],
    ['history', 'metastaticLines', 0, 'outcome'],
    ['history', 'boneModifyingAgent', 'agent']
  ]
  for (const path of required) {
    // zod reports a missing number, string, array or object as invalid_type, a missing enum as
    // invalid_value and a missing union of literals as invalid_union (validation.test.ts checks the words).
    const found = issues(withValue(fullCase(), path, undefined))
    t.strictSame(found.map((issue) => issue.path), [path.join('.')], path.join('.'))
    t.match(found[0]?.code, /^invalid_(type|value|union)$/, `${path.join('.')}: code`)
  }
})

t.test('every optional field may be missing', async (t) => {
  const optional: Array<Array<string | number>> = [
    ['caseId'], ['context'], ['history'], ['preferences'], ['context', 'evaluationDate'], ['patient', 'pregnant'],
    ['tumor', 'her2IshResult'], ['disease', 'neuro'], ['disease', 'spineLesions'], ['disease', 'brain'],
    ['disease', 'spineLesions', 0, 'sinsTotal'], ['disease', 'spineLesions', 0, 'priorRt', 'date'],
    ['history', 'metastaticLines', 0, 'startDate'], ['history', 'boneModifyingAgent']
  ]
  for (const path of optional) t.strictSame(issues(withValue(fullCase(), path, undefined)), [], path.join('.'))
})

t.test('unknown keys are rejected at every depth', async (t) => {
  const objects: Array<Array<string | number>> = [
    [], ['context'], ['patient'], ['patient', 'correctedCalcium'], ['tumor'], ['disease'], ['disease', 'ajcc'],
    ['disease', 'neuro'], ['disease', 'spineLesions', 0], ['disease', 'spineLesions', 0, 'sinsComponents'],
    ['disease', 'spineLesions', 0, 'priorRt'], ['disease', 'spineLesions', 0, 'surgery'],
    ['disease', 'nonSpineBoneLesions', 0], ['disease', 'nonSpineBoneLesions', 0, 'priorRt'], ['disease', 'brain'],
    ['history'], ['history', 'earlyStageTherapy', 0], ['history', 'metastaticLines', 0], ['history', 'boneModifyingAgent'],
    ['preferences']
  ]
  for (const path of objects) {
    const result = issues(withValue(fullCase(), [...path, 'unknownField'], true))
    t.strictSame(result.map((issue) => [issue.path, issue.code]), [[path.join('.'), 'unrecognized_keys']], path.join('.') || '(root)')
  }
  const result = Case.safeParse({ ...caseOf(), patient: { ...caseOf().patient, ECOG: 1, age: 3 } })
  t.equal(result.success, false)
  t.match(result.error?.issues[0], { code: 'unrecognized_keys', keys: ['ECOG', 'age'], path: ['patient'] }, 'a misspelt field is named')
})

t.test('ranges at their boundaries', async (t) => {
  const rows: Array<[Array<string | number>, unknown, boolean]> = [
    [['patient', 'ageYears'], 17, false], [['patient', 'ageYears'], 18, true], [['patient', 'ageYears'], 120, true], [['patient', 'ageYears'], 121, false],
    [['patient', 'ageYears'], 50.5, false],
    [['patient', 'ecog'], -1, false], [['patient', 'ecog'], 0, true], [['patient', 'ecog'], 4, true], [['patient', 'ecog'], 5, false], [['patient', 'ecog'], 1.5, false],
    [['patient', 'ecogBeforeDeficit'], 4, true], [['patient', 'ecogBeforeDeficit'], 5, false],
    [['tumor', 'erPercent'], -1, false], [['tumor', 'erPercent'], 0, true], [['tumor', 'erPercent'], 100, true], [['tumor', 'erPercent'], 101, false], [['tumor', 'erPercent'], 10.5, false],
    [['tumor', 'prPercent'], 100, true], [['tumor', 'prPercent'], 101, false],
    [['tumor', 'her2IshRatio'], 0, true], [['tumor', 'her2IshRatio'], 50, true], [['tumor', 'her2IshRatio'], 50.1, false],
    [['tumor', 'her2IshCopyNumber'], 100, true], [['tumor', 'her2IshCopyNumber'], -0.1, false],
    [['patient', 'estimatedSurvivalMonths'], 0, true], [['patient', 'estimatedSurvivalMonths'], 600, true], [['patient', 'estimatedSurvivalMonths'], 601, false],
    [['patient', 'lvefPercent'], 5, true], [['patient', 'lvefPercent'], 4.9, false], [['patient', 'lvefPercent'], 90, true], [['patient', 'lvefPercent'], 91, false],
    [['patient', 'creatinineClearanceMlMin'], 300, true], [['patient', 'creatinineClearanceMlMin'], 301, false],
    [['patient', 'correctedCalcium', 'value'], 0, false], [['patient', 'correctedCalcium', 'value'], 0.01, true], [['patient', 'correctedCalcium', 'value'], 101, false],
    [['disease', 'totalMetastaticLesions'], 0, true], [['disease', 'totalMetastaticLesions'], 500, true], [['disease', 'totalMetastaticLesions'], 501, false],
    [['disease', 'neuro', 'paraplegiaDurationHours'], -1, false], [['disease', 'neuro', 'paraplegiaDurationHours'], 48.5, true],
    [['disease', 'spineLesions', 0, 'sinsComponents'], undefined, true],
    [['disease', 'spineLesions', 0, 'painNrs'], 10, true], [['disease', 'spineLesions', 0, 'painNrs'], 11, false],
    [['disease', 'spineLesions', 0, 'contiguousLevels'], 0, false], [['disease', 'spineLesions', 0, 'contiguousLevels'], 10, true], [['disease', 'spineLesions', 0, 'contiguousLevels'], 11, false],
    [['disease', 'spineLesions', 0, 'priorRt', 'doseGy'], 0, false], [['disease', 'spineLesions', 0, 'priorRt', 'fractions'], 0, false],
    [['disease', 'nonSpineBoneLesions', 0, 'mirelsScore'], 3, false], [['disease', 'nonSpineBoneLesions', 0, 'mirelsScore'], 12, true], [['disease', 'nonSpineBoneLesions', 0, 'mirelsScore'], 13, false],
    [['disease', 'brain', 'maxDiameterCm'], 0, false], [['disease', 'brain', 'count'], 0, true],
    [['history', 'metastaticLines', 0, 'lineNumber'], 0, false], [['history', 'metastaticLines', 0, 'maxIldGrade'], 5, true], [['history', 'metastaticLines', 0, 'maxIldGrade'], 6, false],
    [['history', 'metastaticLines', 0, 'agents'], [], false],
    [['history', 'boneModifyingAgent', 'intervalWeeks'], 4, true], [['history', 'boneModifyingAgent', 'intervalWeeks'], 6, false]
  ]
  for (const [path, value, ok] of rows) {
    const body = path.join('.') === 'disease.spineLesions.0.sinsComponents'
      ? withValue(fullCase(), path, value)
      : withValue(withValue(fullCase(), ['disease', 'spineLesions', 0, 'sinsComponents'], undefined), path, value)
    const found = paths(body)
    t.strictSame(found, ok ? [] : [path.join('.')], `${path.join('.')} = ${JSON.stringify(value)}`)
  }
})

t.test('SINS components accept only the scores of the instrument', async (t) => {
  const base = withValue(fullCase(), ['disease', 'spineLesions', 0, 'sinsTotal'], undefined)
  const rows: Array<[string, number, boolean]> = [
    ['location', 3, true], ['location', 4, false], ['pain', 2, false], ['pain', 3, true], ['boneLesion', 3, false],
    ['alignment', 1, false], ['alignment', 4, true], ['collapse', 3, true], ['posterolateral', 2, false]
  ]
  for (const [component, score, ok] of rows) {
    const path = ['disease', 'spineLesions', 0, 'sinsComponents', component]
    t.strictSame(paths(withValue(base, path, score)), ok ? [] : [path.join('.')], `${component} ${score}`)
  }
})

t.test('enums reject values outside the contract', async (t) => {
  const rows: Array<[Array<string | number>, unknown]> = [
    [['patient', 'sex'], 'other'], [['tumor', 'her2Ihc'], '4+'], [['tumor', 'her2Ihc'], 2], [['disease', 'presentation'], 'metastatic'],
    [['disease', 'metastaticSites'], ['spine']], [['disease', 'spineLesions', 0, 'level'], 'T13'], [['disease', 'spineLesions', 0, 'bilsky'], '1d'],
    [['history', 'metastaticLines', 0, 'agents'], ['herceptin']], [['context', 'jurisdiction'], 'DE'], [['disease', 'ajcc', 'm'], 'Mx']
  ]
  for (const [path, value] of rows) t.ok(paths(withValue(fullCase(), path, value)).length > 0, `${path.join('.')} = ${JSON.stringify(value)}`)
})

t.test('caseId: 1–64 characters of [A-Za-z0-9._:-]', async (t) => {
  const rows: Array<[string, boolean]> = [['a', true], ['x'.repeat(64), true], ['x'.repeat(65), false], ['', false], ['has space', false], ['ü', false], ['A-z_0.9:1', true]]
  for (const [caseId, ok] of rows) t.equal(paths({ ...caseOf(), caseId }).length === 0, ok, JSON.stringify(caseId))
})

t.test('dates must be real calendar dates written as YYYY-MM-DD', async (t) => {
  const rows: Array<[string, boolean]> = [
    ['2026-02-28', true], ['2024-02-29', true], ['2026-02-29', false], ['2026-02-30', false], ['2026-04-31', false],
    ['2026-13-01', false], ['2026-00-10', false], ['2026-1-01', false], ['26-01-01', false], ['2026-01-01T00:00:00Z', false],
    ['2026/01/01', false], ['', false], ['0000-01-01', true],
    ['2000-02-29', true], ['1900-02-29', false], ['2026-12-31', true], ['2026-12-32', false], ['2026-06-00', false], ['2026-06-30', true], ['2026-06-31', false]
  ]
  for (const [date, ok] of rows) t.equal(isCalendarDate(date), ok, date)
  const result = issues(withValue(fullCase(), ['disease', 'metastaticDiagnosisDate'], '2026-02-30'))
  t.strictSame(result, [{ path: 'disease.metastaticDiagnosisDate', code: 'custom', message: 'must be a calendar date written as YYYY-MM-DD, for example 2026-03-01' }])
  t.strictSame(paths(withValue(fullCase(), ['context', 'evaluationDate'], '2026-02-30')), ['context.evaluationDate'])
  t.strictSame(paths(withValue(fullCase(), ['history', 'metastaticLines', 0, 'endDate'], '2025-11-31')), ['history.metastaticLines.0.endDate'])
})

t.test('metastaticSites: may be empty, must not repeat a site', async (t) => {
  t.strictSame(paths(caseOf({ disease: { presentation: 'early', metastaticSites: [] } })), [])
  const result = issues(caseOf({ disease: { metastaticSites: ['bone', 'liver', 'bone'] } }))
  t.strictSame(result, [{ path: 'disease.metastaticSites', code: 'custom', message: 'must not list a site twice' }])
  t.strictSame(paths(caseOf({ disease: { metastaticSites: ['bone', 'liver', 'lung', 'pleura', 'distant_nodes', 'brain', 'leptomeningeal', 'skin_soft_tissue', 'other'] } })), [], 'all nine')
})

t.test('consistency: sinsTotal must equal the sum of sinsComponents', async (t) => {
  const components = { location: 3, pain: 3, boneLesion: 2, alignment: 2, collapse: 2, posterolateral: 1 } as const
  t.equal(sumSinsComponents(components), 13)
  t.equal(sumSinsComponents({ location: 0, pain: 0, boneLesion: 0, alignment: 0, collapse: 0, posterolateral: 0 }), 0)
  const lesion = (sinsTotal?: number) => ({ level: 'T9' as const, sinsComponents: components, ...(sinsTotal === undefined ? {} : { sinsTotal }) })
  const body = (sinsTotal?: number) => caseOf({ disease: { spineLesions: [{ level: 'L1', sinsTotal: 2 }, lesion(sinsTotal)] } })
  t.strictSame(issues(body(13)), [])
  t.strictSame(issues(body()), [], 'components alone')
  t.strictSame(issues(body(12)), [{ path: 'disease.spineLesions.1.sinsTotal', code: 'custom', message: 'is 12 but the SINS components add up to 13' }])
  t.strictSame(issues(body(14)).map((issue) => issue.path), ['disease.spineLesions.1.sinsTotal'])
})

t.test('consistency: endDate before startDate', async (t) => {
  const line = (startDate: string, endDate: string) => caseOf({ history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'progression', startDate, endDate }] } })
  t.strictSame(issues(line('2025-05-02', '2025-05-01')), [{ path: 'history.metastaticLines.0.endDate', code: 'custom', message: 'is 2025-05-01, before the line\'s startDate 2025-05-02' }])
  t.strictSame(issues(line('2025-05-01', '2025-05-01')), [], 'the same day')
  t.strictSame(issues(line('2025-05-01', '2025-06-01')), [])
})

t.test('consistency: no recorded date after the evaluation date, for every date field', async (t) => {
  const dateFields: Array<Array<string | number>> = [
    ['disease', 'metastaticDiagnosisDate'],
    ['disease', 'spineLesions', 0, 'priorRt', 'date'],
    ['disease', 'spineLesions', 0, 'surgery', 'date'],
    ['disease', 'nonSpineBoneLesions', 0, 'priorRt', 'date'],
    ['history', 'earlyStageTherapy', 0, 'lastDoseDate'],
    ['history', 'metastaticLines', 1, 'startDate'],
    ['history', 'metastaticLines', 0, 'endDate'],
    ['history', 'boneModifyingAgent', 'startDate']
  ]
  for (const path of dateFields) {
    t.strictSame(issues(withValue(fullCase(), path, EVALUATION_DATE)), [], `${path.join('.')} on the evaluation date`)
    t.strictSame(issues(withValue(fullCase(), path, NEXT_DAY)), [{
      path: path.join('.'),
      code: 'custom',
      message: `is ${NEXT_DAY}, after the evaluation date ${EVALUATION_DATE}; a recorded event cannot lie in the future`
    }], `${path.join('.')} the day after`)
  }
  const bothLineDates = withValue(withValue(fullCase(), ['history', 'metastaticLines', 1, 'startDate'], NEXT_DAY), ['history', 'metastaticLines', 1, 'endDate'], '2026-03-03')
  t.strictSame(paths(bothLineDates), ['history.metastaticLines.1.startDate', 'history.metastaticLines.1.endDate'])
})

t.test('consistency: without context.evaluationDate the server\'s UTC date is "today"', async (t) => {
  const body = caseOf({ disease: { metastaticDiagnosisDate: '2999-01-01' } })
  t.strictSame(paths(body), ['disease.metastaticDiagnosisDate'])
  t.strictSame(paths({ ...body, disease: { ...body.disease, metastaticDiagnosisDate: utcToday() } }), [], 'today itself')
  t.strictSame(consistencyPaths(consistencyIssues({ ...body, disease: { ...body.disease, metastaticDiagnosisDate: NEXT_DAY } }, EVALUATION_DATE)), ['disease.metastaticDiagnosisDate'])
  t.strictSame(consistencyIssues({ ...body, disease: { ...body.disease, metastaticDiagnosisDate: EVALUATION_DATE } }, EVALUATION_DATE), [])
  const withContext = { ...body, context: { evaluationDate: '2999-06-01' }, disease: { ...body.disease, metastaticDiagnosisDate: '2999-01-01' } }
  t.strictSame(consistencyIssues(withContext, EVALUATION_DATE), [], 'context.evaluationDate wins over today')
})

t.test('utcToday: the UTC calendar date', async (t) => {
  t.equal(utcToday(new Date('2026-03-01T23:59:59.999Z')), '2026-03-01')
  t.equal(utcToday(new Date('2026-03-01T23:30:00-05:00')), '2026-03-02')
  t.match(utcToday(), /^\d{4}-\d{2}-\d{2}$/)
})

t.test('consistency: repeated lineNumber', async (t) => {
  const lines = (numbers: number[]) => caseOf({
    history: { metastaticLines: numbers.map((lineNumber) => ({ lineNumber, agents: ['trastuzumab'], outcome: 'progression' })) }
  })
  t.strictSame(issues(lines([1, 2, 3])), [])
  t.strictSame(issues(lines([2, 1])), [], 'any order')
  t.strictSame(issues(lines([1, 2, 1])), [{ path: 'history.metastaticLines.2.lineNumber', code: 'custom', message: 'repeats line number 1; each metastatic line must have its own number' }])
  t.strictSame(paths(lines([3, 3, 3])), ['history.metastaticLines.1.lineNumber', 'history.metastaticLines.2.lineNumber'])
})

t.test('consistency: brain.present false with brain details', async (t) => {
  const brain = (details: Json) => ({ ...caseOf(), disease: { ...caseOf().disease, brain: { present: false, ...details } } })
  t.strictSame(issues(brain({})), [])
  const details: Json = { count: 0, maxDiameterCm: 1, symptomatic: false, massEffect: false, status: 'untreated', priorRt: { technique: 'wbrt' } }
  for (const [key, value] of Object.entries(details)) {
    t.strictSame(issues(brain({ [key]: value })), [{
      path: `disease.brain.${key}`,
      code: 'custom',
      message: 'is given while brain.present is false; remove it or set brain.present to true'
    }], key)
  }
  t.strictSame(paths(brain(details)), Object.keys(details).map((key) => `disease.brain.${key}`), 'every detail is named')
  t.strictSame(issues({ ...caseOf(), disease: { ...caseOf().disease, brain: { present: true, ...details } } }), [], 'with brain.present true')
  // Leptomeningeal disease without parenchymal metastases (r6), with the brain RT it had (r7, red-team L9).
  t.strictSame(issues(brain({ leptomeningeal: true })), [], 'leptomeningeal only')
  t.strictSame(issues(brain({ leptomeningeal: false })), [], 'leptomeningeal recorded false')
  t.strictSame(issues(brain({ leptomeningeal: true, priorRt: { technique: 'wbrt', date: '2025-01-01' } })), [], 'leptomeningeal with prior brain RT')
  t.strictSame(paths(brain({ leptomeningeal: false, priorRt: { technique: 'wbrt' } })), ['disease.brain.priorRt'], 'prior brain RT without any brain disease')
})

t.test('consistency: gestationalWeeks only with pregnant true', async (t) => {
  const patient = (extra: Json) => ({ ...caseOf(), patient: { ...caseOf().patient, ...extra } })
  t.strictSame(issues(patient({ pregnant: true, gestationalWeeks: 20 })), [])
  t.strictSame(issues(patient({ pregnant: false, gestationalWeeks: 20 })), [{
    path: 'patient.gestationalWeeks', code: 'custom', message: 'is given while patient.pregnant is not true; remove it or record the pregnancy'
  }])
  t.strictSame(paths(patient({ gestationalWeeks: 20 })), ['patient.gestationalWeeks'], 'pregnancy not recorded')
  t.strictSame(paths(patient({ pregnant: true, gestationalWeeks: 45 })), ['patient.gestationalWeeks'], 'at most 44 weeks')
})

t.test('consistency: toxicAgents only on a line stopped for toxicity, and only among its agents', async (t) => {
  const withLine = (line: Json) => ({ ...caseOf(), history: { metastaticLines: [{ lineNumber: 1, agents: ['docetaxel', 'trastuzumab', 'pertuzumab'], ...line }] } })
  t.strictSame(issues(withLine({ outcome: 'toxicity', toxicAgents: ['docetaxel'] })), [])
  t.strictSame(issues(withLine({ outcome: 'progression', toxicAgents: ['docetaxel'] })), [{
    path: 'history.metastaticLines.0.toxicAgents', code: 'custom', message: 'is given on a line whose outcome is "progression"; toxicAgents belongs only to a line stopped for toxicity'
  }])
  t.strictSame(issues(withLine({ outcome: 'toxicity', toxicAgents: ['docetaxel', 'capecitabine'] })), [{
    path: 'history.metastaticLines.0.toxicAgents.1', code: 'custom', message: 'is "capecitabine", which is not among the line\'s agents'
  }])
  t.strictSame(paths(withLine({ outcome: 'toxicity', toxicAgents: [] })), ['history.metastaticLines.0.toxicAgents'], 'never empty')
})

t.test('consistency: "brain" in metastaticSites but brain.present false', async (t) => {
  const body = (present: boolean) => caseOf({ disease: { metastaticSites: ['bone', 'brain'], brain: { present } } })
  t.strictSame(issues(body(false)), [{ path: 'disease.brain.present', code: 'custom', message: 'is false while metastaticSites lists "brain"; the two must agree' }])
  t.strictSame(issues(body(true)), [])
  t.strictSame(issues(caseOf({ disease: { metastaticSites: ['brain'] } })), [], 'brain object absent')
  t.strictSame(issues(caseOf({ disease: { metastaticSites: ['leptomeningeal'], brain: { present: false } } })), [], 'leptomeningeal in sites')
})

t.test('consistency checks run beside range errors, not after a type error', async (t) => {
  const future = withValue(fullCase(), ['disease', 'metastaticDiagnosisDate'], '2999-01-01')
  t.strictSame(paths(withValue(future, ['patient', 'ecog'], 9)), ['patient.ecog', 'disease.metastaticDiagnosisDate'], 'a range error does not stop them')
  t.strictSame(paths(withValue(future, ['patient', 'ecog'], 'one')), ['patient.ecog'], 'a type error does')
  t.strictSame(consistencyPaths(consistencyIssues(fullCase(), '2000-01-01')), [], 'context.evaluationDate is used, not today')
})

t.test('a date that is not a calendar date gets one error, not a second one for lying in the future', async (t) => {
  const invalid = withValue(fullCase(), ['disease', 'metastaticDiagnosisDate'], '2999-13-01')
  t.strictSame(paths(invalid), ['disease.metastaticDiagnosisDate'])
})
