import t from 'tap'
import { deriveFacts, type CaseFacts } from '../../src/engine/facts.js'
import type { Case } from '../../src/schemas/case.js'
import type { Agent } from '../../src/schemas/common.js'
import { caseOf, type CaseOverrides } from '../fixtures/factories.js'

type History = NonNullable<Case['history']>
type Line = NonNullable<History['metastaticLines']>[number]
type Outcome = Line['outcome']
type Pattern = NonNullable<Line['progressionPattern']>

const EVALUATION_DATE = '2026-03-01'
const LAST_DOSE = '2024-01-15'

const derive = (overrides: CaseOverrides = {}) => deriveFacts(caseOf(overrides), EVALUATION_DATE)
const facts = (overrides: CaseOverrides = {}) => derive(overrides).facts
const warningCodes = (overrides: CaseOverrides = {}) => derive(overrides).warnings.map((warning) => warning.code)

const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

const line = (lineNumber: number, outcome: Outcome, agents: Agent[], progressionPattern?: Pattern): Line => ({
  lineNumber, outcome, agents, ...(progressionPattern === undefined ? {} : { progressionPattern })
})
/** Early-stage trastuzumab whose last dose lies `days` before the metastatic diagnosis. */
const relapseAfter = (days: number): CaseOverrides => ({
  history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab', 'pertuzumab'], lastDoseDate: LAST_DOSE }] },
  disease: { metastaticDiagnosisDate: addDays(LAST_DOSE, days) }
})
const EARLY_RELAPSE = 366 // 12.0 months
const LATE_RELAPSE = 367 // 12.1 months

t.test('deriveFacts: every fact of a minimal case (missing data is null, never a default)', async (t) => {
  const derived = derive()
  t.equal(derived.evaluationDate, EVALUATION_DATE)
  t.strictSame(derived.facts, {
    metastatic: true,
    stage: 'IV',
    stageReclassified: false,
    her2Status: 'positive',
    her2Ihc: '3+',
    her2Source: null,
    erStatus: 'negative',
    receptorDiscordance: null,
    inScope: true,
    jurisdiction: 'other',
    presentation: 'de_novo_metastatic',
    metastaticSites: ['bone'],
    sex: 'female',
    ageYears: 60,
    ecog: 1,
    performanceEcog: 1,
    menopausalStatus: null,
    pregnant: null,
    surgicalCandidate: null,
    estimatedSurvivalMonths: null,
    lvefPercent: null,
    lvefBaselinePercent: null,
    lvefFallPoints: null,
    heartFailureSymptoms: null,
    ildHistory: null,
    maxIldGrade: null,
    creatinineClearanceMlMin: null,
    hypercalcaemia: false,
    vitaminD25OHNgMl: null,
    dentalStatus: null,
    dpydStatus: 'not_tested',
    intensiveTherapyAppropriate: true,
    declinesChemotherapy: null,
    goalsOfCare: null,
    asksAboutPrimarySurgery: null,
    visceralCrisis: null,
    brainSymptoms: null,
    extracranialStatus: null,
    primaryIntact: null,
    primarySymptomatic: false,
    totalMetastaticLesions: null,
    oligometastatic: false,
    neuroDeficitSign: null,
    neuroDeficit: false,
    suspectedMscc: false,
    deficitLevels: [],
    spinalCordCompression: 'none',
    spinalInstability: 'not_applicable',
    mesccSurgical: false,
    highGradeCompressionLevels: [],
    highGradeCompressionPriorRt: false,
    spineLesionCount: 0,
    painfulSpineLesion: false,
    brainPresent: false,
    brainCount: null,
    brainMaxDiameterCm: null,
    brainSymptomatic: null,
    brainMassEffect: null,
    brainStatus: null,
    leptomeningeal: false,
    cnsMetastases: false,
    monthsSinceLastAntiHer2: null,
    earlyRelapse: false,
    earlyStageAgents: [],
    earlyStageAntiHer2: false,
    metastaticLineCount: 0,
    priorHer2Lines: 0,
    lastLineNumber: null,
    lastLineAgents: [],
    lastLineOutcome: null,
    lastLineProgressionPattern: null,
    lastLineHasHer2AntibodyAdc: false,
    treatmentDecision: 'start_line',
    lineOfTherapy: 1,
    priorAgents: [],
    currentLineNumber: null,
    currentLineAgents: [],
    progressedAgents: [],
    her2TherapyPlanned: true,
    onBma: false,
    bmaComplications: [],
    gestationalWeeks: null,
    hypercalcaemiaSeverity: null,
    hypocalcaemia: false,
    hypercalcaemiaSymptoms: null,
    comfortCare: false,
    brainPriorRtTechnique: null,
    earlyStageHer2AntibodyAdc: false,
    lastLineToxicAgents: [],
    lastLineToxicAgentsRecorded: false,
    lastLineDurationDays: null,
    currentAgents: [],
    bmaAgent: null
  })
  t.strictSame(derived.spineLesions, [])
  t.strictSame(derived.boneLesions, [])
  t.strictSame(derived.warnings, [])
})

t.test('deriveFacts: every fact of a case with every field given', async (t) => {
  const derived = deriveFacts({
    caseId: 'synthetic-1',
    context: { evaluationDate: EVALUATION_DATE, jurisdiction: 'US' },
    patient: {
      ageYears: 44,
      sex: 'female',
      ecog: 3,
      ecogBeforeDeficit: 1,
      menopausalStatus: 'premenopausal',
      pregnant: false,
      surgicalCandidate: true,
      estimatedSurvivalMonths: 24,
      lvefPercent: 50,
      lvefBaselinePercent: 62,
      heartFailureSymptoms: 'none',
      ildHistory: 'none',
      creatinineClearanceMlMin: 85,
      correctedCalcium: { value: 2.7, unit: 'mmol/L' },
      hypercalcaemiaSymptoms: true,
      vitaminD25OHNgMl: 22,
      dentalStatus: 'cleared',
      dpydStatus: 'normal'
    },
    tumor: {
      her2Ihc: '2+',
      her2IshResult: 'amplified',
      her2IshRatio: 2.4,
      her2IshCopyNumber: 6.5,
      her2Source: 'metastasis',
      erPercent: 40,
      prPercent: 5,
      receptorDiscordance: true
    },
    disease: {
      presentation: 'recurrent_metastatic',
      metastaticSites: ['bone', 'liver', 'brain'],
      ajcc: { t: 'cT2', n: 'cN1', m: 'M1' },
      metastaticDiagnosisDate: addDays(LAST_DOSE, 186),
      totalMetastaticLesions: 4,
      visceralCrisis: false,
      brainSymptoms: true,
      extracranialStatus: 'stable',
      primaryIntact: false,
      primarySymptoms: ['pain'],
      neuro: { deficit: 'motor_weakness', ambulatory: 'with_aid', deficitOnsetHours: 12 },
      spineLesions: [
        {
          level: 'T12',
          contiguousLevels: 2,
          sinsComponents: { location: 3, pain: 3, boneLesion: 2, alignment: 2, collapse: 2, posterolateral: 1 },
          bilsky: '2',
          painNrs: 6,
          painType: 'mechanical',
          pathologicFracture: true,
          priorRt: { doseGy: 8, fractions: 1, technique: 'conventional', date: '2025-10-01' },
          surgery: { type: 'stabilisation', date: '2025-09-01' }
        },
        { level: 'L1', sinsTotal: 8, bilsky: '3', painNrs: 0 },
        { level: 'L4', bilsky: '1a', priorRt: { doseGy: 20, fractions: 5, technique: 'conventional' }, surgery: { type: 'augmentation' } }
      ],
      nonSpineBoneLesions: [
        { site: 'femur', painNrs: 4, mirelsScore: 9, pathologicFracture: false, priorRt: { doseGy: 8, fractions: 1, technique: 'conventional' } },
        { site: 'rib' }
      ],
      brain: { present: true, count: 2, maxDiameterCm: 1.5, symptomatic: true, massEffect: false, status: 'untreated', leptomeningeal: false, priorRt: { technique: 'srs', date: '2025-01-01' } }
    },
    history: {
      earlyStageTherapy: [
        { setting: 'neoadjuvant', agents: ['docetaxel', 'trastuzumab', 'pertuzumab'], lastDoseDate: '2023-06-01' },
        { setting: 'post_neoadjuvant', agents: ['t_dm1'], lastDoseDate: LAST_DOSE }
      ],
      metastaticLines: [
        { lineNumber: 1, agents: ['t_dxd'], outcome: 'progression', progressionPattern: 'extracranial', maxIldGrade: 1, startDate: '2024-08-01', endDate: '2025-06-01' },
        { lineNumber: 2, agents: ['tucatinib', 'trastuzumab', 'capecitabine'], outcome: 'ongoing', maxIldGrade: 0, startDate: '2025-07-01' },
        { lineNumber: 3, agents: ['capecitabine'], outcome: 'completed_planned', startDate: '2025-08-01' }
      ],
      boneModifyingAgent: { agent: 'denosumab', startDate: '2024-08-01', intervalWeeks: 4, complications: ['hypocalcemia'] }
    },
    preferences: { declinesChemotherapy: false, goalsOfCare: 'disease_control', asksAboutPrimarySurgery: true }
  }, EVALUATION_DATE)

  t.strictSame(derived.facts, {
    metastatic: true,
    stage: 'IV',
    stageReclassified: false,
    her2Status: 'positive',
    her2Ihc: '2+',
    her2Source: 'metastasis',
    erStatus: 'positive',
    receptorDiscordance: true,
    inScope: true,
    jurisdiction: 'US',
    presentation: 'recurrent_metastatic',
    metastaticSites: ['bone', 'liver', 'brain'],
    sex: 'female',
    ageYears: 44,
    ecog: 3,
    performanceEcog: 1,
    menopausalStatus: 'premenopausal',
    pregnant: false,
    surgicalCandidate: true,
    estimatedSurvivalMonths: 24,
    lvefPercent: 50,
    lvefBaselinePercent: 62,
    lvefFallPoints: 12,
    heartFailureSymptoms: 'none',
    ildHistory: 'none',
    maxIldGrade: 1,
    creatinineClearanceMlMin: 85,
    hypercalcaemia: true,
    vitaminD25OHNgMl: 22,
    dentalStatus: 'cleared',
    dpydStatus: 'normal',
    intensiveTherapyAppropriate: true,
    declinesChemotherapy: false,
    goalsOfCare: 'disease_control',
    asksAboutPrimarySurgery: true,
    visceralCrisis: false,
    brainSymptoms: true,
    extracranialStatus: 'stable',
    primaryIntact: false,
    primarySymptomatic: true,
    totalMetastaticLesions: 4,
    oligometastatic: false, // CNS disease
    neuroDeficitSign: 'motor_weakness',
    neuroDeficit: true,
    suspectedMscc: true,
    deficitLevels: ['T12', 'L1'],
    spinalCordCompression: 'with_neurological_deficit',
    spinalInstability: 'unstable', // T12's components add up to 13: unstable outranks L4's missing SINS
    mesccSurgical: true,
    highGradeCompressionLevels: ['T12', 'L1'],
    highGradeCompressionPriorRt: true, // T12 (Bilsky 2) was irradiated
    spineLesionCount: 3,
    painfulSpineLesion: true,
    brainPresent: true,
    brainCount: 2,
    brainMaxDiameterCm: 1.5,
    brainSymptomatic: true,
    brainMassEffect: false,
    brainStatus: 'untreated',
    leptomeningeal: false,
    cnsMetastases: true,
    monthsSinceLastAntiHer2: 6.1,
    earlyRelapse: true,
    earlyStageAgents: ['docetaxel', 'pertuzumab', 't_dm1', 'trastuzumab'],
    earlyStageAntiHer2: true,
    metastaticLineCount: 3,
    priorHer2Lines: 2,
    lastLineNumber: 3,
    lastLineAgents: ['capecitabine'],
    lastLineOutcome: 'completed_planned',
    lastLineProgressionPattern: null,
    lastLineHasHer2AntibodyAdc: false,
    treatmentDecision: 'continue_line',
    lineOfTherapy: 3, // 2 HER2 lines + early relapse, no new line
    priorAgents: ['capecitabine', 'docetaxel', 'pertuzumab', 't_dm1', 't_dxd', 'trastuzumab', 'tucatinib'],
    currentLineNumber: 3,
    currentLineAgents: ['capecitabine'],
    progressedAgents: ['t_dxd'],
    her2TherapyPlanned: false, // the current line has no anti-HER2 agent
    onBma: true,
    bmaComplications: ['hypocalcemia'],
    gestationalWeeks: null,
    hypercalcaemiaSeverity: 'mild', // 2.7 mmol/L: above 2.62, below 3.0
    hypocalcaemia: false,
    hypercalcaemiaSymptoms: true,
    comfortCare: false,
    brainPriorRtTechnique: 'srs',
    earlyStageHer2AntibodyAdc: true,
    lastLineToxicAgents: [],
    lastLineToxicAgentsRecorded: false,
    lastLineDurationDays: null, // no endDate
    currentAgents: ['capecitabine'],
    bmaAgent: 'denosumab'
  })
  t.strictSame(derived.spineLesions, [
    {
      target: 'T12',
      facts: {
        lesionLevel: 'T12',
        lesionSins: 13,
        lesionBilsky: '2',
        lesionBilskyRank: 4,
        lesionPainNrs: 6,
        lesionPainType: 'mechanical',
        lesionPathologicFracture: true,
        lesionContiguousLevels: 2,
        lesionPriorRt: true,
        lesionSurgeryType: 'stabilisation',
        lesionRtAfterSurgery: true,
        lesionSpinalRtOption: 'reirradiation',
        lesionPostopRtOption: 'postoperative_rt', // irradiated after the surgery: that was the postoperative course
        lesionRtSurgeryUndated: false,
        lesionDeficit: true
      }
    },
    {
      target: 'L1',
      facts: {
        lesionLevel: 'L1',
        lesionSins: 8,
        lesionBilsky: '3',
        lesionBilskyRank: 5,
        lesionPainNrs: 0,
        lesionPainType: null,
        lesionPathologicFracture: null,
        lesionContiguousLevels: null,
        lesionPriorRt: false,
        lesionSurgeryType: null,
        lesionRtAfterSurgery: false,
        lesionSpinalRtOption: 'ebrt',
        lesionPostopRtOption: 'postoperative_rt',
        lesionRtSurgeryUndated: false,
        lesionDeficit: true
      }
    },
    {
      target: 'L4',
      facts: {
        lesionLevel: 'L4',
        lesionSins: null,
        lesionBilsky: '1a',
        lesionBilskyRank: 1,
        lesionPainNrs: null,
        lesionPainType: null,
        lesionPathologicFracture: null,
        lesionContiguousLevels: null,
        lesionPriorRt: true,
        lesionSurgeryType: 'augmentation',
        lesionRtAfterSurgery: false,
        lesionSpinalRtOption: 'reirradiation',
        lesionPostopRtOption: 'reirradiation', // an undated course may have been given before the surgery
        lesionRtSurgeryUndated: true,
        lesionDeficit: false
      }
    }
  ])
  t.strictSame(derived.boneLesions, [
    { target: 'femur', facts: { boneSite: 'femur', bonePainNrs: 4, boneMirelsScore: 9, bonePathologicFracture: false, bonePriorRt: true } },
    { target: 'rib', facts: { boneSite: 'rib', bonePainNrs: null, boneMirelsScore: null, bonePathologicFracture: null, bonePriorRt: false } }
  ])
  t.strictSame(derived.assessment, {
    stage: 'IV',
    stageReclassified: false,
    her2Status: 'positive',
    erStatus: 'positive',
    lineOfTherapy: 3,
    treatmentDecision: 'continue_line',
    monthsSinceLastAntiHer2: 6.1,
    priorAgents: ['capecitabine', 'docetaxel', 'pertuzumab', 't_dm1', 't_dxd', 'trastuzumab', 'tucatinib'],
    cnsMetastases: true,
    spinalCordCompression: 'with_neurological_deficit',
    spinalInstability: 'unstable',
    oligometastatic: false
  })
  t.strictSame(derived.warnings, [])
})

t.test('lesionRtAfterSurgery: only a priorRt dated after a dated surgery', async (t) => {
  const rt = (date?: string) => ({ doseGy: 8, fractions: 1, technique: 'conventional' as const, ...(date === undefined ? {} : { date }) })
  const surgery = (date?: string) => ({ type: 'decompression' as const, ...(date === undefined ? {} : { date }) })
  const rows: Array<[string, NonNullable<Case['disease']['spineLesions']>[number], boolean]> = [
    ['RT after surgery', { level: 'T5', priorRt: rt('2025-05-02'), surgery: surgery('2025-05-01') }, true],
    ['RT on the day of surgery', { level: 'T5', priorRt: rt('2025-05-01'), surgery: surgery('2025-05-01') }, false],
    ['RT before surgery', { level: 'T5', priorRt: rt('2025-04-01'), surgery: surgery('2025-05-01') }, false],
    ['undated RT', { level: 'T5', priorRt: rt(), surgery: surgery('2025-05-01') }, false],
    ['undated surgery', { level: 'T5', priorRt: rt('2025-05-02'), surgery: surgery() }, false],
    ['RT without surgery', { level: 'T5', priorRt: rt('2025-05-02') }, false],
    ['surgery without RT', { level: 'T5', surgery: surgery('2025-05-01') }, false]
  ]
  for (const [name, lesion, expected] of rows) {
    t.equal(derive({ disease: { spineLesions: [lesion] } }).spineLesions[0]?.facts.lesionRtAfterSurgery, expected, name)
  }
})

t.test('earlyRelapse: 12.0 months is early, 12.1 is not, no dated entry is not', async (t) => {
  t.equal(facts(relapseAfter(EARLY_RELAPSE)).monthsSinceLastAntiHer2, 12.0)
  t.equal(facts(relapseAfter(EARLY_RELAPSE)).earlyRelapse, true)
  t.equal(facts(relapseAfter(LATE_RELAPSE)).monthsSinceLastAntiHer2, 12.1)
  t.equal(facts(relapseAfter(LATE_RELAPSE)).earlyRelapse, false)
  t.equal(facts(relapseAfter(-185)).monthsSinceLastAntiHer2, -6.1, 'relapse before the last dose')
  t.equal(facts(relapseAfter(-185)).earlyRelapse, true)
  t.equal(facts().earlyRelapse, false)
})

t.test('monthsSinceLastAntiHer2 falls back to the evaluation date', async (t) => {
  const input = caseOf({ history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab'], lastDoseDate: LAST_DOSE }] } })
  t.equal(deriveFacts(input, addDays(LAST_DOSE, 366)).facts.monthsSinceLastAntiHer2, 12.0)
  t.equal(deriveFacts(input, addDays(LAST_DOSE, 367)).facts.earlyRelapse, false)
})

t.test('lineOfTherapy: HER2 lines + early relapse + a new line, at least 1', async (t) => {
  const her2Progressed = line(1, 'progression', ['trastuzumab', 'pertuzumab', 'docetaxel'])
  const rows: Array<[string, CaseOverrides, number, string]> = [
    ['no line, no early therapy', {}, 1, 'start_line'],
    ['no line, early relapse', relapseAfter(EARLY_RELAPSE), 2, 'start_line'],
    ['no line, late relapse', relapseAfter(LATE_RELAPSE), 1, 'start_line'],
    ['one HER2 line progressed', { history: { metastaticLines: [her2Progressed] } }, 2, 'start_line'],
    ['one HER2 line progressed after early relapse', { ...relapseAfter(EARLY_RELAPSE), history: { ...relapseAfter(EARLY_RELAPSE).history, metastaticLines: [her2Progressed] } }, 3, 'start_line'],
    ['one HER2 line ongoing', { history: { metastaticLines: [line(1, 'ongoing', ['trastuzumab', 'pertuzumab'])] } }, 1, 'continue_line'],
    ['one HER2 line ongoing after early relapse', { ...relapseAfter(EARLY_RELAPSE), history: { ...relapseAfter(EARLY_RELAPSE).history, metastaticLines: [line(1, 'ongoing', ['t_dxd'])] } }, 2, 'continue_line'],
    ['one chemotherapy line ongoing (at least 1)', { history: { metastaticLines: [line(1, 'ongoing', ['capecitabine'])] } }, 1, 'continue_line'],
    ['one chemotherapy line progressed', { history: { metastaticLines: [line(1, 'progression', ['capecitabine'])] } }, 1, 'start_line'],
    ['two HER2 lines, the second stopped for toxicity', { history: { metastaticLines: [her2Progressed, line(2, 'toxicity', ['t_dxd'])] } }, 3, 'start_line']
  ]
  for (const [name, overrides, expected, decision] of rows) {
    const derived = facts(overrides)
    t.equal(derived.lineOfTherapy, expected, `${name}: line`)
    t.equal(derived.treatmentDecision, decision, `${name}: decision`)
  }
})

t.test('treatmentDecision and currentLine for each outcome of the last line', async (t) => {
  const rows: Array<[Outcome, string, number | null]> = [
    ['ongoing', 'continue_line', 2], ['response', 'continue_line', 2], ['completed_planned', 'continue_line', 2],
    ['progression', 'start_line', null], ['toxicity', 'start_line', null]
  ]
  for (const [outcome, decision, current] of rows) {
    const derived = facts({ history: { metastaticLines: [line(1, 'progression', ['trastuzumab']), line(2, outcome, ['t_dxd'])] } })
    t.equal(derived.treatmentDecision, decision, `${outcome}: decision`)
    t.equal(derived.currentLineNumber, current, `${outcome}: current line`)
    t.strictSame(derived.currentLineAgents, current === null ? [] : ['t_dxd'], `${outcome}: current agents`)
    t.equal(derived.lastLineNumber, 2)
    t.equal(derived.lastLineOutcome, outcome)
  }
})

t.test('treatmentDecision: extracranial progression and the progression pattern', async (t) => {
  const rows: Array<[string, Line, Case['disease']['extracranialStatus'], string]> = [
    ['active line, extracranial progression', line(1, 'ongoing', ['t_dxd']), 'progressing', 'start_line'],
    ['active line, oligoprogression', line(1, 'ongoing', ['t_dxd'], 'oligoprogression'), 'progressing', 'continue_line'],
    ['active line, CNS-only progression', line(1, 'response', ['t_dxd'], 'cns_only'), 'progressing', 'continue_line'],
    ['progression outcome, oligoprogression', line(1, 'progression', ['t_dxd'], 'oligoprogression'), 'stable', 'continue_line'],
    ['progression outcome, CNS-only', line(1, 'progression', ['t_dxd'], 'cns_only'), undefined, 'continue_line'],
    ['progression outcome, absent pattern (systemic)', line(1, 'progression', ['t_dxd']), undefined, 'start_line'],
    ['progression outcome, both', line(1, 'progression', ['t_dxd'], 'both'), undefined, 'start_line'],
    ['toxicity, oligoprogression', line(1, 'toxicity', ['t_dxd'], 'oligoprogression'), 'stable', 'start_line']
  ]
  for (const [name, last, status, decision] of rows) {
    const derived = facts({
      history: { metastaticLines: [last] },
      disease: status === undefined ? {} : { extracranialStatus: status }
    })
    t.equal(derived.treatmentDecision, decision, name)
    t.equal(derived.currentLineNumber, decision === 'continue_line' ? 1 : null, `${name}: current line`)
    t.equal(derived.lastLineProgressionPattern, last.progressionPattern ?? null, `${name}: pattern`)
  }
})

t.test('progressedAgents through deriveFacts', async (t) => {
  const first = line(1, 'progression', ['trastuzumab', 'pertuzumab', 'docetaxel'])
  const rows: Array<[string, Line, Case['disease']['extracranialStatus'], Agent[]]> = [
    ['active line, stable', line(2, 'ongoing', ['t_dxd']), 'stable', ['docetaxel', 'pertuzumab', 'trastuzumab']],
    ['active line, progressing', line(2, 'ongoing', ['t_dxd']), 'progressing', ['docetaxel', 'pertuzumab', 't_dxd', 'trastuzumab']],
    ['responding line, progressing', line(2, 'response', ['t_dxd']), 'progressing', ['docetaxel', 'pertuzumab', 't_dxd', 'trastuzumab']],
    ['active line, oligoprogression', line(2, 'ongoing', ['t_dxd'], 'oligoprogression'), 'progressing', ['docetaxel', 'pertuzumab', 'trastuzumab']],
    ['active line, CNS-only', line(2, 'ongoing', ['t_dxd'], 'cns_only'), 'progressing', ['docetaxel', 'pertuzumab', 'trastuzumab']],
    ['toxicity line, progressing', line(2, 'toxicity', ['t_dxd']), 'progressing', ['docetaxel', 'pertuzumab', 'trastuzumab']],
    ['completed line, progressing', line(2, 'completed_planned', ['t_dxd']), 'progressing', ['docetaxel', 'pertuzumab', 'trastuzumab']],
    ['progressed line', line(2, 'progression', ['t_dxd']), undefined, ['docetaxel', 'pertuzumab', 't_dxd', 'trastuzumab']]
  ]
  for (const [name, last, status, expected] of rows) {
    const derived = facts({ history: { metastaticLines: [first, last] }, disease: status === undefined ? {} : { extracranialStatus: status } })
    t.strictSame(derived.progressedAgents, expected, name)
  }
})

t.test('priorAgents, priorHer2Lines and early-stage facts', async (t) => {
  const derived = facts({
    history: {
      earlyStageTherapy: [
        { setting: 'neoadjuvant', agents: ['trastuzumab', 'pertuzumab', 'paclitaxel'] },
        { setting: 'adjuvant', agents: ['trastuzumab', 'aromatase_inhibitor'] }
      ],
      metastaticLines: [
        line(1, 'progression', ['trastuzumab', 'pertuzumab', 'docetaxel']),
        line(2, 'progression', ['capecitabine']),
        line(3, 'progression', ['tucatinib', 'trastuzumab', 'capecitabine']),
        line(4, 'ongoing', ['lapatinib', 'capecitabine'])
      ]
    }
  })
  t.strictSame(derived.priorAgents, ['aromatase_inhibitor', 'capecitabine', 'docetaxel', 'lapatinib', 'paclitaxel', 'pertuzumab', 'trastuzumab', 'tucatinib'])
  t.equal(derived.priorHer2Lines, 3)
  t.equal(derived.metastaticLineCount, 4)
  t.strictSame(derived.earlyStageAgents, ['aromatase_inhibitor', 'paclitaxel', 'pertuzumab', 'trastuzumab'])
  t.equal(derived.earlyStageAntiHer2, true)
  t.equal(derived.monthsSinceLastAntiHer2, null, 'no last-dose date')
  t.equal(derived.lastLineHasHer2AntibodyAdc, false, 'lapatinib is a TKI')
  t.equal(derived.lineOfTherapy, 3)
  t.equal(facts({ history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['anthracycline', 'cyclophosphamide'] }] } }).earlyStageAntiHer2, false)
  t.equal(facts({ history: { metastaticLines: [line(1, 'ongoing', ['margetuximab', 'vinorelbine'])] } }).lastLineHasHer2AntibodyAdc, true)
})

t.test('her2TherapyPlanned: in scope, HER2 positive, not pregnant, and a new line or a HER2 current line', async (t) => {
  const rows: Array<[string, CaseOverrides, boolean]> = [
    ['start line, pregnant absent', {}, true],
    ['start line, not pregnant', { patient: { pregnant: false } }, true],
    ['start line, pregnant', { patient: { pregnant: true } }, false],
    ['HER2 equivocal', { tumor: { her2Ihc: '2+' } }, false],
    ['HER2 negative', { tumor: { her2Ihc: '1+' } }, false],
    ['not metastatic', { disease: { presentation: 'early', metastaticSites: [] } }, false],
    ['current line with an anti-HER2 agent', { history: { metastaticLines: [line(1, 'ongoing', ['trastuzumab', 'pertuzumab', 'aromatase_inhibitor'])] } }, true],
    ['current line with a TKI only', { history: { metastaticLines: [line(1, 'response', ['tucatinib', 'capecitabine'])] } }, true],
    ['current line without an anti-HER2 agent', { history: { metastaticLines: [line(1, 'ongoing', ['aromatase_inhibitor'])] } }, false],
    ['new line after progression', { history: { metastaticLines: [line(1, 'progression', ['aromatase_inhibitor'])] } }, true]
  ]
  for (const [name, overrides, expected] of rows) t.equal(facts(overrides).her2TherapyPlanned, expected, name)
})

t.test('intensiveTherapyAppropriate: performance ECOG ≤ 2, not comfort-focused, survival not < 3', async (t) => {
  const rows: Array<[string, CaseOverrides, boolean]> = [
    ['ECOG 2', { patient: { ecog: 2 } }, true],
    ['ECOG 3', { patient: { ecog: 3 } }, false],
    ['ECOG 3 now, 2 before the deficit', { patient: { ecog: 3, ecogBeforeDeficit: 2 } }, true],
    ['ECOG 1 now, 3 before the deficit', { patient: { ecog: 1, ecogBeforeDeficit: 3 } }, false],
    ['comfort-focused', { preferences: { goalsOfCare: 'comfort_focused' } }, false],
    ['disease control', { preferences: { goalsOfCare: 'disease_control' } }, true],
    ['preferences without goals', { preferences: { declinesChemotherapy: true } }, true],
    ['survival 2.9 months', { patient: { estimatedSurvivalMonths: 2.9 } }, false],
    ['survival 3 months', { patient: { estimatedSurvivalMonths: 3 } }, true]
  ]
  for (const [name, overrides, expected] of rows) t.equal(facts(overrides).intensiveTherapyAppropriate, expected, name)
  t.equal(facts({ patient: { ecog: 3, ecogBeforeDeficit: 2 } }).performanceEcog, 2)
  t.equal(facts({ patient: { ecog: 3 } }).performanceEcog, 3)
})

t.test('oligometastatic: 1–5 lesions without CNS disease', async (t) => {
  const rows: Array<[string, Partial<Case['disease']>, boolean]> = [
    ['absent', {}, false],
    ['0 lesions', { totalMetastaticLesions: 0 }, false],
    ['1 lesion', { totalMetastaticLesions: 1 }, true],
    ['5 lesions', { totalMetastaticLesions: 5 }, true],
    ['6 lesions', { totalMetastaticLesions: 6 }, false],
    ['3 lesions with brain metastases', { totalMetastaticLesions: 3, brain: { present: true } }, false],
    ['3 lesions with brain in sites', { totalMetastaticLesions: 3, metastaticSites: ['bone', 'brain'] }, false],
    ['3 lesions with leptomeningeal in sites', { totalMetastaticLesions: 3, metastaticSites: ['bone', 'leptomeningeal'] }, false],
    ['3 lesions, brain absent', { totalMetastaticLesions: 3, brain: { present: false } }, true]
  ]
  for (const [name, disease, expected] of rows) {
    const derived = derive({ disease })
    t.equal(derived.facts.oligometastatic, expected, name)
    t.equal(derived.assessment.oligometastatic, expected, `${name} (assessment)`)
  }
})

t.test('cnsMetastases and leptomeningeal: brain and leptomeninges only, never bone', async (t) => {
  const rows: Array<[string, Partial<Case['disease']>, boolean, boolean]> = [
    ['bone only', {}, false, false],
    ['brain.present', { brain: { present: true } }, true, false],
    ['brain.leptomeningeal', { brain: { present: true, leptomeningeal: true } }, true, true],
    ['brain.leptomeningeal without parenchymal metastases', { brain: { present: false, leptomeningeal: true } }, true, true],
    ['brain in sites', { metastaticSites: ['bone', 'brain'] }, true, false],
    ['leptomeningeal in sites', { metastaticSites: ['leptomeningeal'] }, true, true],
    ['spine lesion with cord compression', { spineLesions: [{ level: 'T6', bilsky: '3' }] }, false, false]
  ]
  for (const [name, disease, cns, lepto] of rows) {
    const derived = facts({ disease })
    t.equal(derived.cnsMetastases, cns, `${name}: cnsMetastases`)
    t.equal(derived.leptomeningeal, lepto, `${name}: leptomeningeal`)
  }
})

t.test('hypercalcaemia: > 10.5 mg/dL, > 2.62 mmol/L', async (t) => {
  const rows: Array<[number, 'mg/dL' | 'mmol/L', boolean]> = [[10.5, 'mg/dL', false], [10.6, 'mg/dL', true], [2.62, 'mmol/L', false], [2.63, 'mmol/L', true]]
  for (const [value, unit, expected] of rows) {
    t.equal(facts({ patient: { correctedCalcium: { value, unit } } }).hypercalcaemia, expected, `${value} ${unit}`)
  }
})

t.test('stage reclassification: early or locally advanced with a distant metastasis is stage IV', async (t) => {
  const rows: Array<[string, Partial<Case['disease']>, boolean]> = [
    ['early with bone', { presentation: 'early', metastaticSites: ['bone'] }, true],
    ['locally advanced with ajcc M1', { presentation: 'locally_advanced', metastaticSites: [], ajcc: { m: 'M1' } }, true],
    ['de novo metastatic', { presentation: 'de_novo_metastatic' }, false],
    ['recurrent metastatic', { presentation: 'recurrent_metastatic' }, false]
  ]
  for (const [name, disease, reclassified] of rows) {
    const derived = derive({ disease })
    t.equal(derived.facts.stageReclassified, reclassified, name)
    t.equal(derived.facts.stage, 'IV', `${name}: stage`)
    t.equal(derived.assessment.stageReclassified, reclassified, `${name}: assessment`)
    t.equal(derived.warnings.some((warning) => warning.code === 'STAGE_RECLASSIFIED'), reclassified, `${name}: warning`)
  }
  const warning = derive({ disease: { presentation: 'locally_advanced', metastaticSites: ['liver'] } }).warnings[0]
  t.equal(warning?.code, 'STAGE_RECLASSIFIED')
  t.match(warning?.message, /"locally_advanced".*stage IV/)
})

t.test('STAGING_CONFLICT: ajcc M0 with metastatic sites', async (t) => {
  t.strictSame(warningCodes({ disease: { ajcc: { m: 'M0' } } }), ['STAGING_CONFLICT'])
  t.strictSame(warningCodes({ disease: { presentation: 'early', ajcc: { m: 'M0' } } }), ['STAGE_RECLASSIFIED', 'STAGING_CONFLICT'])
  t.strictSame(warningCodes({ disease: { ajcc: { m: 'M1' } } }), [])
  t.strictSame(warningCodes({ disease: { ajcc: { t: 'cT2' } } }), [])
  t.strictSame(warningCodes({ disease: { presentation: 'de_novo_metastatic', metastaticSites: [], ajcc: { m: 'M0' } } }), [], 'no sites listed')
  t.match(derive({ disease: { ajcc: { m: 'M0' } } }).warnings[0]?.message, /M0 but metastatic sites/)
})

t.test('NOT_METASTATIC: no distant metastasis recorded', async (t) => {
  const derived = derive({ disease: { presentation: 'early', metastaticSites: [] } })
  t.equal(derived.facts.metastatic, false)
  t.equal(derived.facts.stage, 'non_metastatic')
  t.equal(derived.facts.inScope, false)
  t.equal(derived.assessment.stage, 'non_metastatic')
  t.strictSame(derived.warnings.map((warning) => warning.code), ['NOT_METASTATIC'])
  t.match(derived.warnings[0]?.message, /metastatic disease only/)
  t.strictSame(warningCodes({ disease: { presentation: 'locally_advanced', metastaticSites: [], ajcc: { m: 'M0' } } }), ['NOT_METASTATIC'])
})

t.test('warnings come in a fixed order', async (t) => {
  const codes = warningCodes({
    disease: {
      presentation: 'early',
      metastaticSites: ['bone'],
      ajcc: { m: 'M0' },
      neuro: { deficit: 'motor_weakness' },
      spineLesions: [{ level: 'T4', bilsky: '1a' }]
    }
  })
  t.strictSame(codes, ['STAGE_RECLASSIFIED', 'STAGING_CONFLICT', 'NEURO_DEFICIT_UNEXPLAINED'])
})

t.test('inScope: metastatic and HER2 positive or equivocal', async (t) => {
  const rows: Array<[string, CaseOverrides, boolean]> = [
    ['positive', {}, true],
    ['equivocal', { tumor: { her2Ihc: '2+' } }, true],
    ['negative', { tumor: { her2Ihc: '0' } }, false],
    ['unknown', { tumor: { her2Ihc: 'not_done' } }, false],
    ['positive, not metastatic', { disease: { presentation: 'early', metastaticSites: [] } }, false]
  ]
  for (const [name, overrides, expected] of rows) t.equal(facts(overrides).inScope, expected, name)
})

t.test('assessment: monthsSinceLastAntiHer2 omitted when null, present otherwise', async (t) => {
  const without = derive().assessment
  t.notOk('monthsSinceLastAntiHer2' in without)
  t.strictSame(without, {
    stage: 'IV',
    stageReclassified: false,
    her2Status: 'positive',
    erStatus: 'negative',
    lineOfTherapy: 1,
    treatmentDecision: 'start_line',
    priorAgents: [],
    cnsMetastases: false,
    spinalCordCompression: 'none',
    spinalInstability: 'not_applicable',
    oligometastatic: false
  })
  const relapse = derive(relapseAfter(EARLY_RELAPSE)).assessment
  t.equal(relapse.monthsSinceLastAntiHer2, 12.0)
  t.equal(relapse.lineOfTherapy, 2)
  t.strictSame(relapse.priorAgents, ['pertuzumab', 'trastuzumab'])
  const zero = derive(relapseAfter(0)).assessment
  t.ok('monthsSinceLastAntiHer2' in zero, 'a zero interval is kept')
  t.equal(zero.monthsSinceLastAntiHer2, 0)
})

t.test('organ function, LVEF fall and ILD grade', async (t) => {
  t.equal(facts({ patient: { lvefPercent: 48, lvefBaselinePercent: 60 } }).lvefFallPoints, 12)
  t.equal(facts({ patient: { lvefPercent: 65, lvefBaselinePercent: 60 } }).lvefFallPoints, -5, 'a rise is a negative fall')
  t.equal(facts({ patient: { lvefPercent: 48 } }).lvefFallPoints, null, 'no baseline')
  t.equal(facts({ patient: { lvefBaselinePercent: 60 } }).lvefFallPoints, null, 'no current value')
  t.equal(facts({ history: { metastaticLines: [{ ...line(1, 'toxicity', ['t_dxd']), maxIldGrade: 2 }, { ...line(2, 'ongoing', ['t_dm1']), maxIldGrade: 0 }, line(3, 'ongoing', ['t_dm1'])] } }).maxIldGrade, 2)
  t.equal(facts({ history: { metastaticLines: [line(1, 'ongoing', ['t_dm1'])] } }).maxIldGrade, null, 'no grade recorded')
  t.equal(facts({ history: { metastaticLines: [{ ...line(1, 'ongoing', ['t_dxd']), maxIldGrade: 0 }] } }).maxIldGrade, 0)
})

t.test('bone-modifying agent: onBma and complications', async (t) => {
  const rows: Array<[string, History | undefined, boolean, string[]]> = [
    ['no history', undefined, false, []],
    ['history without BMA', { metastaticLines: [] }, false, []],
    ['agent none', { boneModifyingAgent: { agent: 'none' } }, false, []],
    ['zoledronic acid', { boneModifyingAgent: { agent: 'zoledronic_acid' } }, true, []],
    ['denosumab with ONJ', { boneModifyingAgent: { agent: 'denosumab', complications: ['onj', 'renal'] } }, true, ['onj', 'renal']]
  ]
  for (const [name, history, onBma, complications] of rows) {
    const derived = facts(history === undefined ? {} : { history })
    t.equal(derived.onBma, onBma, `${name}: onBma`)
    t.strictSame(derived.bmaComplications, complications, `${name}: complications`)
  }
})

t.test('painfulSpineLesion: any spine lesion with pain ≥ 1', async (t) => {
  t.equal(facts({ disease: { spineLesions: [{ level: 'T4', painNrs: 0 }, { level: 'T5' }] } }).painfulSpineLesion, false)
  t.equal(facts({ disease: { spineLesions: [{ level: 'T4', painNrs: 0 }, { level: 'T5', painNrs: 1 }] } }).painfulSpineLesion, true)
  t.equal(facts({ disease: { primarySymptoms: [] } }).primarySymptomatic, false, 'an empty symptom list')
})

t.test('the case is not mutated and lists are copies', async (t) => {
  const input = caseOf({ disease: { metastaticSites: ['liver', 'bone'] }, history: { metastaticLines: [line(1, 'ongoing', ['t_dxd', 'pertuzumab'])] } })
  const snapshot = JSON.stringify(input)
  const derived = deriveFacts(input, EVALUATION_DATE)
  t.equal(JSON.stringify(input), snapshot)
  t.not(derived.facts.metastaticSites, input.disease.metastaticSites)
  t.strictSame(derived.facts.metastaticSites, ['liver', 'bone'], 'sites keep the case order')
  t.strictSame(derived.facts.lastLineAgents, ['t_dxd', 'pertuzumab'], 'agents keep the case order')
})

t.test('CaseFacts: each fact has the type, values and nullability its catalogue spec declares', async (t) => {
  // Compile-time checks (tsc runs over the tests): a wrong value does not compile.
  // @ts-expect-error ageYears is a number in the catalogue
  const wrongType: Partial<CaseFacts> = { ageYears: '60' }
  // @ts-expect-error her2Status takes only the catalogue's values
  const wrongValue: Partial<CaseFacts> = { her2Status: 'positve' }
  // @ts-expect-error inScope is not nullable
  const wrongNull: Partial<CaseFacts> = { inScope: null }
  // @ts-expect-error deficitLevels holds spine levels
  const wrongElement: Partial<CaseFacts> = { deficitLevels: ['T77'] }
  const allowed: Partial<CaseFacts> = { lvefPercent: null, her2Status: 'equivocal', deficitLevels: ['T7'] }
  t.strictSame([wrongType, wrongValue, wrongNull, wrongElement].map((facts) => Object.keys(facts)), [['ageYears'], ['her2Status'], ['inScope'], ['deficitLevels']])
  t.equal(allowed.her2Status, 'equivocal')
})
