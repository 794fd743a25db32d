import t from 'tap'
import { DATA_GAP_ROWS, dataGaps, type DataGap } from '../../src/engine/data-gaps.js'
import { deriveFacts } from '../../src/engine/facts.js'
import { Case } from '../../src/schemas/case.js'
import type { Agent, OptionId } from '../../src/schemas/common.js'
import { caseOf, type CaseOverrides } from '../fixtures/factories.js'

/**
 * The data-gap table, row by row (spec Part 1 "Data gaps"): for each row a case where the field is
 * missing and it matters (the gap, with the codes it affects), one where it is missing but does not
 * matter, and one where it is recorded (no gap). Every case is a valid request (parsed with Case).
 */

const EVALUATION_DATE = '2026-03-01'

/** A case (the minimal in-scope case with overrides), and what the final response offers and fires. */
interface Scenario extends CaseOverrides {
  /** Options offered in the final response. */
  offered?: OptionId[]
  /** Codes of the final response. */
  fired?: string[]
}

function gapsOf ({ offered, fired, ...overrides }: Scenario): DataGap[] {
  const input = Case.parse(caseOf({ ...overrides, context: { evaluationDate: EVALUATION_DATE } }))
  return dataGaps({
    input,
    facts: deriveFacts(input, EVALUATION_DATE).facts,
    offered: new Set(offered ?? []),
    firedCodes: new Set(fired ?? [])
  })
}

interface RowCases {
  /** The row's field as the table names it. */
  row: string
  /** The gap's field in these cases (a list row names the entry). */
  field: string
  affects: string[]
  matters: Record<string, Scenario>
  irrelevant: Record<string, Scenario>
  recorded: Record<string, Scenario>
}

const thpLine = { lineNumber: 1, agents: ['trastuzumab', 'pertuzumab', 'docetaxel'] as Agent[] }
const lesion = { level: 'T7' as const, sinsTotal: 8, bilsky: '1a' as const, painNrs: 3 }
const rt = { doseGy: 8, fractions: 1, technique: 'conventional' as const }
const brainTreatedProgressing = { metastaticSites: ['bone' as const, 'brain' as const], brain: { present: true, count: 2, status: 'treated_progressing' as const } }
const earlyTrastuzumab = { setting: 'adjuvant' as const, agents: ['trastuzumab' as const], lastDoseDate: '2024-01-01' }

const ROW_CASES: RowCases[] = [
  {
    row: 'patient.lvefPercent',
    field: 'patient.lvefPercent',
    affects: ['CI-01', 'CI-02', 'CI-03', 'FU-02'],
    matters: { 'THP offered': { offered: ['thp'] }, 'trastuzumab alone offered': { offered: ['trastuzumab_monotherapy'] } },
    irrelevant: { 'only a TKI regimen offered': { offered: ['neratinib_capecitabine'] }, 'nothing offered': {} },
    recorded: { 'LVEF 60 %': { patient: { lvefPercent: 60 }, offered: ['thp'] } }
  },
  {
    row: 'patient.lvefBaselinePercent',
    field: 'patient.lvefBaselinePercent',
    affects: ['CI-03'],
    matters: {
      'LVEF known, THP on the last metastatic line': { patient: { lvefPercent: 55 }, history: { metastaticLines: [{ ...thpLine, outcome: 'ongoing' }] } },
      'LVEF known, no metastatic line, early relapse after adjuvant trastuzumab': {
        patient: { lvefPercent: 55 },
        disease: { metastaticDiagnosisDate: '2024-06-01' },
        history: { earlyStageTherapy: [earlyTrastuzumab] }
      }
    },
    irrelevant: {
      'no current LVEF either': { history: { metastaticLines: [{ ...thpLine, outcome: 'ongoing' }] } },
      'last line without an antibody or ADC': { patient: { lvefPercent: 55 }, history: { metastaticLines: [{ lineNumber: 1, agents: ['lapatinib', 'capecitabine'], outcome: 'ongoing' }] } },
      'adjuvant trastuzumab but a late relapse': {
        patient: { lvefPercent: 55 },
        disease: { metastaticDiagnosisDate: '2025-06-01' },
        history: { earlyStageTherapy: [earlyTrastuzumab] }
      }
    },
    recorded: { 'baseline 62 %': { patient: { lvefPercent: 55, lvefBaselinePercent: 62 }, history: { metastaticLines: [{ ...thpLine, outcome: 'ongoing' }] } } }
  },
  {
    row: 'patient.ildHistory',
    field: 'patient.ildHistory',
    affects: ['CI-04'],
    matters: {
      'T-DXd offered': { offered: ['tdxd'] },
      'T-DXd + pertuzumab offered': { offered: ['tdxd_pertuzumab'] },
      'on T-DXd (current agents)': { history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'ongoing' }] }, disease: { extracranialStatus: 'stable' } }
    },
    irrelevant: {
      'another ADC offered': { offered: ['tdm1'] },
      'T-DXd on a line that progressed (not current)': { history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'progression' }] } }
    },
    recorded: { 'no ILD': { patient: { ildHistory: 'none' }, offered: ['tdxd'] } }
  },
  {
    row: 'patient.creatinineClearanceMlMin',
    field: 'patient.creatinineClearanceMlMin',
    affects: ['BMA-04', 'CI-06', 'CI-06b', 'SUP-01'],
    matters: {
      'BMA-01 fires': { fired: ['BMA-01'] },
      'a capecitabine option is offered': { offered: ['tucatinib_trastuzumab_capecitabine'] },
      'SUP-01 fires': { fired: ['SUP-01'] }
    },
    irrelevant: { 'trastuzumab_chemotherapy is not a capecitabine option': { offered: ['trastuzumab_chemotherapy'], fired: ['BMA-05'] } },
    recorded: { 'CrCl 70': { patient: { creatinineClearanceMlMin: 70 }, offered: ['neratinib_capecitabine'], fired: ['BMA-01', 'SUP-01'] } }
  },
  {
    row: 'patient.correctedCalcium',
    field: 'patient.correctedCalcium',
    affects: ['SUP-01', 'BMA-01', 'BMA-03'],
    matters: {
      'in scope with bone metastases': {},
      'out of scope but on a bone-modifying agent': { tumor: { her2Ihc: '1+' }, disease: { metastaticSites: ['liver'] }, history: { boneModifyingAgent: { agent: 'denosumab' } } }
    },
    irrelevant: {
      'in scope without bone metastases': { disease: { metastaticSites: ['liver'] } },
      'bone metastases but out of scope (HER2 negative)': { tumor: { her2Ihc: '1+' } }
    },
    recorded: { '9.6 mg/dL': { patient: { correctedCalcium: { value: 9.6, unit: 'mg/dL' } } } }
  },
  {
    row: 'patient.dentalStatus',
    field: 'patient.dentalStatus',
    affects: ['BMA-02'],
    matters: { 'BMA-01 fires, no agent yet': { fired: ['BMA-01'] }, 'BMA-01 fires, agent recorded as none': { fired: ['BMA-01'], history: { boneModifyingAgent: { agent: 'none' } } } },
    irrelevant: { 'already on zoledronic acid': { fired: ['BMA-01'], history: { boneModifyingAgent: { agent: 'zoledronic_acid' } } }, 'BMA-01 does not fire': {} },
    recorded: { 'not assessed is a recorded answer': { patient: { dentalStatus: 'not_assessed' }, fired: ['BMA-01'] } }
  },
  {
    row: 'patient.pregnant',
    field: 'patient.pregnant',
    affects: ['CI-05'],
    matters: {
      'a woman of 54, menopausal status absent': { patient: { ageYears: 54 } },
      'a premenopausal woman of 38': { patient: { ageYears: 38, menopausalStatus: 'premenopausal' } },
      'a woman of 45, menopausal status unknown': { patient: { ageYears: 45, menopausalStatus: 'unknown' } }
    },
    irrelevant: {
      'a postmenopausal woman of 50': { patient: { ageYears: 50, menopausalStatus: 'postmenopausal' } },
      'a woman of 55': { patient: { ageYears: 55 } },
      'a man of 40': { patient: { ageYears: 40, sex: 'male' } }
    },
    recorded: { 'not pregnant': { patient: { ageYears: 40, pregnant: false } } }
  },
  {
    row: 'patient.gestationalWeeks',
    field: 'patient.gestationalWeeks',
    affects: ['CI-05'],
    matters: { pregnant: { patient: { ageYears: 34, pregnant: true } } },
    irrelevant: { 'not pregnant': { patient: { ageYears: 34, pregnant: false } } },
    recorded: { '20 weeks': { patient: { ageYears: 34, pregnant: true, gestationalWeeks: 20 } } }
  },
  {
    row: 'patient.hypercalcaemiaSymptoms',
    field: 'patient.hypercalcaemiaSymptoms',
    affects: ['SUP-01'],
    matters: { 'mild hypercalcaemia (11 mg/dL)': { patient: { correctedCalcium: { value: 11, unit: 'mg/dL' } } } },
    irrelevant: {
      'moderate hypercalcaemia (12 mg/dL: urgent whatever the symptoms)': { patient: { correctedCalcium: { value: 12, unit: 'mg/dL' } } },
      'normal calcium': { patient: { correctedCalcium: { value: 10.5, unit: 'mg/dL' } } }
    },
    recorded: { asymptomatic: { patient: { correctedCalcium: { value: 2.8, unit: 'mmol/L' }, hypercalcaemiaSymptoms: false } } }
  },
  {
    row: 'disease.brain.priorRt',
    field: 'disease.brain.priorRt',
    affects: ['CNS-03', 'CNS-04', 'CNS-06'],
    matters: { 'brain metastases progressing after treatment': { disease: brainTreatedProgressing } },
    irrelevant: {
      'treated and stable': { disease: { ...brainTreatedProgressing, brain: { ...brainTreatedProgressing.brain, status: 'treated_stable' } } },
      untreated: { disease: { ...brainTreatedProgressing, brain: { ...brainTreatedProgressing.brain, status: 'untreated' } } }
    },
    recorded: { 'prior SRS': { disease: { ...brainTreatedProgressing, brain: { ...brainTreatedProgressing.brain, priorRt: { technique: 'srs' } } } } }
  },
  {
    row: 'tumor.her2IshResult',
    field: 'tumor.her2IshResult',
    affects: ['CLS-02'],
    matters: {
      'IHC 2+ without ISH': { tumor: { her2Ihc: '2+' } },
      'IHC 2+, ISH not done': { tumor: { her2Ihc: '2+', her2IshResult: 'not_done' } },
      'IHC 2+ with a ratio but no copy number': { tumor: { her2Ihc: '2+', her2IshRatio: 2.4 } }
    },
    irrelevant: {
      'IHC 2+ with ratio and copy number (they decide ISH)': { tumor: { her2Ihc: '2+', her2IshRatio: 2.4, her2IshCopyNumber: 6 } },
      'ISH not done, ratio and copy number given': { tumor: { her2Ihc: '2+', her2IshResult: 'not_done', her2IshRatio: 1.2, her2IshCopyNumber: 3 } },
      'IHC 3+': {}
    },
    recorded: { amplified: { tumor: { her2Ihc: '2+', her2IshResult: 'amplified' } } }
  },
  {
    row: 'disease.spineLesions[].sinsTotal',
    field: 'disease.spineLesions[0].sinsTotal',
    affects: ['LOC-04', 'LOC-05', 'LOC-06', 'LOC-07'],
    matters: { 'a spine lesion without SINS': { disease: { spineLesions: [{ ...lesion, sinsTotal: undefined }] } } },
    irrelevant: { 'no spine lesion': {} },
    recorded: {
      'SINS total': { disease: { spineLesions: [lesion] } },
      'SINS components only': { disease: { spineLesions: [{ ...lesion, sinsTotal: undefined, sinsComponents: { location: 2, pain: 1, boneLesion: 2, alignment: 0, collapse: 1, posterolateral: 0 } }] } }
    }
  },
  {
    row: 'disease.spineLesions[].bilsky',
    field: 'disease.spineLesions[0].bilsky',
    affects: ['LOC-01b', 'LOC-02', 'LOC-03', 'LOC-04', 'LOC-08', 'LOC-06', 'LOC-07'],
    matters: { 'a spine lesion without a Bilsky grade': { disease: { spineLesions: [{ ...lesion, bilsky: undefined }] } } },
    irrelevant: { 'no spine lesion': {} },
    recorded: { 'Bilsky 1a': { disease: { spineLesions: [lesion] } } }
  },
  {
    row: 'disease.spineLesions[].painNrs',
    field: 'disease.spineLesions[0].painNrs',
    affects: ['LOC-06', 'LOC-07'],
    matters: { 'a spine lesion without a pain score': { disease: { spineLesions: [{ ...lesion, painNrs: undefined }] } } },
    irrelevant: { 'no spine lesion': {} },
    recorded: { 'pain 0': { disease: { spineLesions: [{ ...lesion, painNrs: 0 }] } } }
  },
  {
    row: 'disease.spineLesions[].priorRt.date',
    field: 'disease.spineLesions[0].priorRt.date',
    affects: ['LOC-10'],
    matters: {
      'irradiated, then decompressed on a known date': { disease: { spineLesions: [{ ...lesion, priorRt: rt, surgery: { type: 'decompression', date: '2025-10-01' } }] } },
      'irradiated and stabilised, neither dated': { disease: { spineLesions: [{ ...lesion, priorRt: rt, surgery: { type: 'stabilisation' } }] } }
    },
    irrelevant: {
      'irradiated, no surgery': { disease: { spineLesions: [{ ...lesion, priorRt: rt }] } },
      'irradiated and augmented (not LOC-10 surgery)': { disease: { spineLesions: [{ ...lesion, priorRt: rt, surgery: { type: 'augmentation', date: '2025-10-01' } }] } }
    },
    recorded: { 'both dated': { disease: { spineLesions: [{ ...lesion, priorRt: { ...rt, date: '2025-12-01' }, surgery: { type: 'decompression', date: '2025-10-01' } }] } } }
  },
  {
    row: 'disease.spineLesions[].surgery.date',
    field: 'disease.spineLesions[0].surgery.date',
    affects: ['LOC-10'],
    matters: { 'a dated radiotherapy course, an undated decompression': { disease: { spineLesions: [{ ...lesion, priorRt: { ...rt, date: '2025-12-01' }, surgery: { type: 'decompression' } }] } } },
    irrelevant: { 'an undated decompression without radiotherapy': { disease: { spineLesions: [{ ...lesion, surgery: { type: 'decompression' } }] } } },
    recorded: { 'both dated': { disease: { spineLesions: [{ ...lesion, priorRt: { ...rt, date: '2025-12-01' }, surgery: { type: 'stabilisation', date: '2025-10-01' } }] } } }
  },
  {
    row: 'disease.neuro',
    field: 'disease.neuro',
    affects: ['LOC-01', 'LOC-02', 'LOC-03', 'CLS-05'],
    matters: {
      'a spine lesion (liver and spine sites)': { disease: { metastaticSites: ['liver'], spineLesions: [lesion] } },
      'bone among the sites, no spine lesion recorded': {}
    },
    irrelevant: { 'liver only': { disease: { metastaticSites: ['liver'] } } },
    recorded: { 'no deficit': { disease: { spineLesions: [lesion], neuro: { deficit: 'none' } } } }
  },
  {
    row: 'history.metastaticLines[].toxicAgents',
    field: 'history.metastaticLines[0].toxicAgents',
    affects: ['SYS-14'],
    matters: {
      'the last line (listed first) stopped for toxicity': {
        disease: { extracranialStatus: 'stable' },
        history: { metastaticLines: [{ ...thpLine, lineNumber: 2, outcome: 'toxicity' }, { lineNumber: 1, agents: ['t_dxd'], outcome: 'progression' }] }
      }
    },
    irrelevant: {
      'an earlier line stopped for toxicity, the last progressed': {
        history: { metastaticLines: [{ ...thpLine, lineNumber: 1, outcome: 'toxicity' }, { lineNumber: 2, agents: ['t_dxd'], outcome: 'progression' }] }
      }
    },
    recorded: {
      'docetaxel was toxic': { disease: { extracranialStatus: 'stable' }, history: { metastaticLines: [{ ...thpLine, outcome: 'toxicity', toxicAgents: ['docetaxel'] }] } }
    }
  },
  {
    row: 'disease.extracranialStatus',
    field: 'disease.extracranialStatus',
    affects: ['SYS-14'],
    matters: {
      'stopped for toxicity, status absent': { history: { metastaticLines: [{ ...thpLine, outcome: 'toxicity', toxicAgents: ['docetaxel'] }] } },
      'stopped for toxicity, status unknown': { disease: { extracranialStatus: 'unknown' }, history: { metastaticLines: [{ ...thpLine, outcome: 'toxicity', toxicAgents: ['docetaxel'] }] } }
    },
    irrelevant: { 'the last line is ongoing': { history: { metastaticLines: [{ ...thpLine, outcome: 'ongoing' }] } } },
    recorded: { responding: { disease: { extracranialStatus: 'responding' }, history: { metastaticLines: [{ ...thpLine, outcome: 'toxicity', toxicAgents: ['docetaxel'] }] } } }
  },
  {
    row: 'disease.neuro.paraplegiaDurationHours',
    field: 'disease.neuro.paraplegiaDurationHours',
    affects: ['LOC-02', 'LOC-03'],
    matters: { 'paraplegia with Bilsky 3 at T7': { disease: { neuro: { deficit: 'paraplegia' }, spineLesions: [{ ...lesion, bilsky: '3' }] } } },
    irrelevant: {
      'paraplegia with only low-grade lesions': { disease: { neuro: { deficit: 'paraplegia' }, spineLesions: [lesion] } },
      'motor weakness with Bilsky 3': { disease: { neuro: { deficit: 'motor_weakness' }, spineLesions: [{ ...lesion, bilsky: '3' }] } }
    },
    recorded: { '12 hours': { disease: { neuro: { deficit: 'paraplegia', paraplegiaDurationHours: 12 }, spineLesions: [{ ...lesion, bilsky: '2' }] } } }
  },
  {
    row: 'disease.visceralCrisis',
    field: 'disease.visceralCrisis',
    affects: ['SYS-02', 'SYS-08'],
    matters: {
      'first line, ER positive, ECOG 2': { tumor: { erPercent: 80 }, patient: { ecog: 2 } },
      'first line, ER positive, declines chemotherapy': { tumor: { erPercent: 80 }, preferences: { declinesChemotherapy: true } }
    },
    irrelevant: {
      'ER positive, ECOG 1, chemotherapy accepted': { tumor: { erPercent: 80 } },
      'ER low (5 %), ECOG 2': { tumor: { erPercent: 5 }, patient: { ecog: 2 } },
      'second line': { tumor: { erPercent: 80 }, patient: { ecog: 2 }, history: { metastaticLines: [{ ...thpLine, outcome: 'progression' }] } },
      'out of scope': { tumor: { her2Ihc: '1+', erPercent: 80 }, patient: { ecog: 2 } }
    },
    recorded: { 'no crisis': { tumor: { erPercent: 80 }, patient: { ecog: 2 }, disease: { visceralCrisis: false } } }
  },
  {
    row: 'disease.totalMetastaticLesions',
    field: 'disease.totalMetastaticLesions',
    affects: ['OLI-01'],
    matters: { 'in scope (HER2 positive)': {}, 'in scope (HER2 equivocal)': { tumor: { her2Ihc: '2+', her2IshResult: 'equivocal' } } },
    irrelevant: { 'out of scope: HER2 negative': { tumor: { her2Ihc: '1+' } }, 'out of scope: not metastatic': { disease: { presentation: 'early', metastaticSites: [] } } },
    recorded: { 'three lesions': { disease: { totalMetastaticLesions: 3 } } }
  },
  {
    row: 'disease.brain.count',
    field: 'disease.brain.count',
    affects: ['CNS-02', 'CNS-03', 'CNS-04'],
    matters: {
      'brain metastases present': { disease: { metastaticSites: ['bone', 'brain'], brain: { present: true } } },
      '"brain" among the sites without a brain record': { disease: { metastaticSites: ['bone', 'brain'] } }
    },
    irrelevant: { 'leptomeningeal disease only': { disease: { brain: { present: false, leptomeningeal: true } } }, 'no brain record': {} },
    recorded: { 'none counted (0)': { disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 0 } } } }
  },
  ...(['symptomatic', 'massEffect'] as const).map((key): RowCases => ({
    row: `disease.brain.${key}`,
    field: `disease.brain.${key}`,
    affects: ['CNS-02', 'CNS-05'],
    matters: { 'brain metastases present': { disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 1 } } } },
    irrelevant: {
      'leptomeningeal disease only': { disease: { brain: { present: false, leptomeningeal: true } } },
      '"brain" among the sites without a brain record (brain.present is what the row reads)': { disease: { metastaticSites: ['bone', 'brain'] } }
    },
    recorded: { false: { disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 1, [key]: false } } } }
  })),
  {
    row: 'patient.dpydStatus',
    field: 'patient.dpydStatus',
    affects: ['CI-06'],
    matters: { 'lapatinib-capecitabine offered': { offered: ['lapatinib_capecitabine'] } },
    irrelevant: { 'trastuzumab_chemotherapy is not a capecitabine option': { offered: ['trastuzumab_chemotherapy'] } },
    recorded: { 'recorded as not tested': { patient: { dpydStatus: 'not_tested' }, offered: ['lapatinib_capecitabine'] } }
  },
  {
    row: 'history.earlyStageTherapy[].lastDoseDate',
    field: 'history.earlyStageTherapy[1].lastDoseDate',
    affects: ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05'],
    matters: {
      'the second entry has trastuzumab and no date': {
        disease: { metastaticDiagnosisDate: '2025-06-01' },
        history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['anthracycline', 'cyclophosphamide'] }, { setting: 'neoadjuvant', agents: ['docetaxel', 'trastuzumab'] }] }
      }
    },
    irrelevant: {
      'the undated second entry has no anti-HER2 agent': {
        disease: { metastaticDiagnosisDate: '2025-06-01' },
        history: { earlyStageTherapy: [earlyTrastuzumab, { setting: 'adjuvant', agents: ['tamoxifen'] }] }
      }
    },
    recorded: {
      dated: { disease: { metastaticDiagnosisDate: '2025-06-01' }, history: { earlyStageTherapy: [earlyTrastuzumab, { ...earlyTrastuzumab, setting: 'post_neoadjuvant', agents: ['neratinib'] }] } }
    }
  },
  {
    row: 'disease.metastaticDiagnosisDate',
    field: 'disease.metastaticDiagnosisDate',
    affects: ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05'],
    matters: { 'an early-stage anti-HER2 entry': { history: { earlyStageTherapy: [earlyTrastuzumab] } } },
    irrelevant: { 'early-stage endocrine therapy only': { history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['tamoxifen'], lastDoseDate: '2024-01-01' }] } } },
    recorded: { dated: { disease: { metastaticDiagnosisDate: '2025-01-01' }, history: { earlyStageTherapy: [earlyTrastuzumab] } } }
  }
]

for (const { row, field, affects, matters, irrelevant, recorded } of ROW_CASES) {
  t.test(`${row}: a gap when missing and it matters, none otherwise`, async (t) => {
    for (const [name, scenario] of Object.entries(matters)) {
      const found = gapsOf(scenario).filter((gap) => gap.field === field)
      t.equal(found.length, 1, `gap: ${name}`)
      t.strictSame(found[0]?.affects, affects, `affects: ${name}`)
    }
    for (const [name, scenario] of Object.entries(irrelevant)) {
      t.strictSame(gapsOf(scenario).filter((gap) => gap.field === field), [], `missing but does not matter: ${name}`)
    }
    for (const [name, scenario] of Object.entries(recorded)) {
      t.strictSame(gapsOf(scenario).filter((gap) => gap.field === field), [], `recorded: ${name}`)
    }
  })
}

t.test('every row of the table has its cases here', async (t) => {
  t.strictSame(ROW_CASES.map((cases) => cases.row), DATA_GAP_ROWS.map((row) => row.field))
})

t.test('a case with nothing missing that matters has no gap', async (t) => {
  t.strictSame(gapsOf({
    patient: { correctedCalcium: { value: 9.5, unit: 'mg/dL' } },
    disease: { totalMetastaticLesions: 3, neuro: { deficit: 'none' } }
  }), [])
})

t.test('list rows name the entry: each spine lesion by index, the last line wherever it is listed', async (t) => {
  const fields = gapsOf({
    disease: {
      neuro: { deficit: 'none' },
      spineLesions: [lesion, { level: 'L2', sinsTotal: 5, painNrs: 1 }, { level: 'S1', bilsky: '0' }]
    }
  }).map((gap) => gap.field).filter((field) => field.startsWith('disease.spineLesions'))
  t.strictSame(fields, ['disease.spineLesions[2].sinsTotal', 'disease.spineLesions[1].bilsky', 'disease.spineLesions[2].painNrs'])
  const toxic = gapsOf({
    disease: { extracranialStatus: 'stable' },
    history: { metastaticLines: [{ lineNumber: 1, agents: ['t_dxd'], outcome: 'progression' }, { ...thpLine, lineNumber: 2, outcome: 'toxicity' }] }
  }).filter((gap) => gap.field.endsWith('toxicAgents'))
  t.strictSame(toxic.map((gap) => gap.field), ['history.metastaticLines[1].toxicAgents'])
})

t.test('messages say what was assumed, in plain sentences', async (t) => {
  const messageOf = (scenario: Scenario, field: string): string => gapsOf(scenario).find((gap) => gap.field === field)?.message ?? ''
  t.match(messageOf({ disease: { spineLesions: [{ level: 'L4' }] } }, 'disease.spineLesions[0].bilsky'), /L4 lesion/)
  t.match(messageOf({ patient: { ageYears: 40 } }, 'patient.pregnant'), /evaluated as not pregnant/)
  t.match(messageOf({ history: { earlyStageTherapy: [earlyTrastuzumab] } }, 'disease.metastaticDiagnosisDate'), /evaluation date/)
  t.match(messageOf({ disease: { neuro: { deficit: 'paraplegia' }, spineLesions: [{ ...lesion, bilsky: '2' }] } }, 'disease.neuro.paraplegiaDurationHours'), /not excluding decompressive surgery/)
  t.match(messageOf({ history: { metastaticLines: [{ ...thpLine, outcome: 'toxicity', toxicAgents: ['docetaxel'] }] } }, 'disease.extracranialStatus'), /new line/)
  const all = gapsOf({
    patient: { ageYears: 40, correctedCalcium: { value: 11, unit: 'mg/dL' } },
    tumor: { her2Ihc: '2+' },
    disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, status: 'treated_progressing' }, spineLesions: [{ level: 'C7', priorRt: rt, surgery: { type: 'decompression' } }] },
    history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab'] }] },
    offered: ['tdxd', 'lapatinib_capecitabine'],
    fired: ['BMA-01']
  })
  t.ok(all.length >= 20, `${all.length} gaps`)
  for (const gap of all) t.match(gap.message, /^[A-Z].*\.$/, `${gap.field}: one or more sentences`)
})
