import t from 'tap'
import { dataGaps, type GapContext } from '../../src/engine/data-gaps.js'
import { deriveFacts } from '../../src/engine/facts.js'
import type { Case } from '../../src/schemas/case.js'
import type { OptionId } from '../../src/schemas/common.js'

const EVALUATION_DATE = '2026-03-01'

interface Overrides {
  patient?: Partial<Case['patient']>
  tumor?: Partial<Case['tumor']>
  disease?: Partial<Case['disease']>
  history?: Case['history']
}

/** In scope, HER2 positive, a woman of 60 with every gap-relevant field that needs no condition filled. */
const baseCase = ({ patient, tumor, disease, history }: Overrides = {}): Case => ({
  patient: { ageYears: 60, sex: 'female', ecog: 1, ...patient },
  tumor: { her2Ihc: '3+', erPercent: 0, ...tumor },
  disease: { presentation: 'de_novo_metastatic', metastaticSites: ['bone'], totalMetastaticLesions: 3, ...disease },
  ...(history === undefined ? {} : { history })
})

const context = (overrides: Overrides = {}, offered: OptionId[] = [], fired: string[] = []): GapContext => {
  const input = baseCase(overrides)
  return { input, facts: deriveFacts(input, EVALUATION_DATE).facts, offered: new Set(offered), firedCodes: new Set(fired) }
}
const fields = (overrides: Overrides = {}, offered: OptionId[] = [], fired: string[] = []): string[] =>
  dataGaps(context(overrides, offered, fired)).map((gap) => gap.field)

t.test('no gap when nothing that matters is missing', async (t) => {
  t.strictSame(dataGaps(context()), [])
})

t.test('patient.lvefPercent: missing while a HER2 antibody/ADC option is offered', async (t) => {
  const antibodyAdc: OptionId[] = ['thp', 'tdxd', 'tdm1', 'tucatinib_tdm1', 'lapatinib_trastuzumab', 'margetuximab_chemotherapy', 'endocrine_her2', 'hp_maintenance', 'trastuzumab_monotherapy']
  for (const option of antibodyAdc) t.strictSame(fields({ patient: { ildHistory: 'none' } }, [option]), ['patient.lvefPercent'], option)
  for (const option of ['neratinib_capecitabine', 'lapatinib_capecitabine', 'endocrine_therapy', 'chemotherapy_without_her2', 'denosumab'] as OptionId[]) {
    t.strictSame(fields({}, [option], []).filter((field) => field === 'patient.lvefPercent'), [], `not for ${option}`)
  }
  t.strictSame(fields({ patient: { lvefPercent: 60 } }, ['thp']), [], 'recorded')
  t.strictSame(dataGaps(context({}, ['thp'])), [{
    field: 'patient.lvefPercent',
    message: 'No LVEF is recorded while a HER2 antibody or ADC is offered: measure LVEF (echocardiography or MUGA) before starting.',
    affects: ['CI-01', 'CI-02', 'CI-03', 'FU-02']
  }])
})

t.test('patient.ildHistory: missing while tdxd or tdxd_pertuzumab is offered', async (t) => {
  const lvef = { patient: { lvefPercent: 60 } }
  t.strictSame(fields(lvef, ['tdxd']), ['patient.ildHistory'])
  t.strictSame(fields(lvef, ['tdxd_pertuzumab']), ['patient.ildHistory'])
  t.strictSame(fields(lvef, ['tdm1', 'thp']), [], 'another ADC')
  t.strictSame(fields({ patient: { lvefPercent: 60, ildHistory: 'none' } }, ['tdxd']), [], 'recorded')
  t.strictSame(dataGaps(context(lvef, ['tdxd']))[0]?.affects, ['CI-04'])
})

t.test('patient.creatinineClearanceMlMin: missing when BMA-01 fires or a capecitabine option is offered', async (t) => {
  const ready = { patient: { dentalStatus: 'cleared' as const, lvefPercent: 60, dpydStatus: 'normal' as const } }
  t.strictSame(fields(ready, [], ['BMA-01']), ['patient.creatinineClearanceMlMin'], 'BMA-01')
  for (const option of ['tucatinib_trastuzumab_capecitabine', 'neratinib_capecitabine', 'lapatinib_capecitabine'] as OptionId[]) {
    t.strictSame(fields(ready, [option]), ['patient.creatinineClearanceMlMin'], option)
  }
  t.strictSame(fields(ready, ['trastuzumab_chemotherapy', 'chemotherapy_without_her2']), [], 'not a capecitabine option')
  t.strictSame(fields(ready, [], ['BMA-02', 'SYS-12']), [], 'other codes')
  t.strictSame(fields({ patient: { ...ready.patient, creatinineClearanceMlMin: 70 } }, ['neratinib_capecitabine'], ['BMA-01']), [], 'recorded')
  t.strictSame(dataGaps(context(ready, [], ['BMA-01']))[0]?.affects, ['BMA-04', 'CI-06'])
})

t.test('patient.dentalStatus: missing when BMA-01 fires and not on a bone-modifying agent', async (t) => {
  const renal = { creatinineClearanceMlMin: 80 }
  t.strictSame(fields({ patient: renal }, [], ['BMA-01']), ['patient.dentalStatus'])
  t.strictSame(fields({ patient: renal, history: { boneModifyingAgent: { agent: 'none' } } }, [], ['BMA-01']), ['patient.dentalStatus'], 'agent none')
  t.strictSame(fields({ patient: renal, history: { boneModifyingAgent: { agent: 'denosumab' } } }, [], ['BMA-01']), [], 'on a BMA')
  t.strictSame(fields({ patient: renal }), [], 'BMA-01 did not fire')
  t.strictSame(fields({ patient: { ...renal, dentalStatus: 'not_assessed' } }, [], ['BMA-01']), [], 'recorded')
  t.strictSame(dataGaps(context({ patient: renal }, [], ['BMA-01']))[0]?.affects, ['BMA-02'])
})

t.test('patient.pregnant: missing for a woman under 55', async (t) => {
  t.strictSame(fields({ patient: { ageYears: 54 } }), ['patient.pregnant'], '54')
  t.strictSame(fields({ patient: { ageYears: 18 } }), ['patient.pregnant'], '18')
  t.strictSame(fields({ patient: { ageYears: 55 } }), [], '55')
  t.strictSame(fields({ patient: { ageYears: 40, sex: 'male' } }), [], 'a man')
  t.strictSame(fields({ patient: { ageYears: 40, pregnant: false } }), [], 'recorded')
  t.strictSame(dataGaps(context({ patient: { ageYears: 54 } }))[0]?.affects, ['CI-05'])
})

t.test('tumor.her2IshResult: missing with IHC 2+', async (t) => {
  t.strictSame(fields({ tumor: { her2Ihc: '2+' } }), ['tumor.her2IshResult'])
  t.strictSame(fields({ tumor: { her2Ihc: '2+', her2IshRatio: 2.5, her2IshCopyNumber: 6 } }), ['tumor.her2IshResult'], 'ratio and copies do not fill it')
  t.strictSame(fields({ tumor: { her2Ihc: '2+', her2IshResult: 'amplified' } }), [])
  t.strictSame(fields({ tumor: { her2Ihc: '2+', her2IshResult: 'not_done' } }), [], 'not_done is recorded')
  for (const ihc of ['0', '1+', '3+', 'not_done'] as const) t.strictSame(fields({ tumor: { her2Ihc: ihc } }).filter((field) => field === 'tumor.her2IshResult'), [], `IHC ${ihc}`)
  t.strictSame(dataGaps(context({ tumor: { her2Ihc: '2+' } }))[0]?.affects, ['CLS-02'])
})

t.test('patient.dpydStatus: missing while a capecitabine option is offered', async (t) => {
  const ready = { patient: { creatinineClearanceMlMin: 80, lvefPercent: 60 } }
  t.strictSame(fields(ready, ['lapatinib_capecitabine']), ['patient.dpydStatus'])
  t.strictSame(fields(ready, ['tucatinib_trastuzumab_capecitabine']), ['patient.dpydStatus'])
  t.strictSame(fields(ready, ['trastuzumab_chemotherapy']), [], 'trastuzumab_chemotherapy is not a capecitabine option')
  t.strictSame(fields({ patient: { ...ready.patient, dpydStatus: 'not_tested' } }, ['lapatinib_capecitabine']), [], 'recorded as not tested')
  t.strictSame(dataGaps(context(ready, ['neratinib_capecitabine']))[0]?.affects, ['CI-06'])
})

t.test('spine lesion sinsTotal, bilsky and painNrs: per lesion, with its index', async (t) => {
  const neuro = { deficit: 'none' as const }
  t.strictSame(fields({ disease: { neuro, spineLesions: [{ level: 'T7' }] } }), [
    'disease.spineLesions[0].sinsTotal', 'disease.spineLesions[0].bilsky', 'disease.spineLesions[0].painNrs'
  ])
  t.strictSame(fields({
    disease: {
      neuro,
      spineLesions: [
        { level: 'T7', sinsTotal: 8, bilsky: '1a', painNrs: 0 },
        { level: 'L2', sinsComponents: { location: 2, pain: 1, boneLesion: 2, alignment: 0, collapse: 1, posterolateral: 0 }, painNrs: 3 },
        { level: 'S1', bilsky: '0' }
      ]
    }
  }), ['disease.spineLesions[1].bilsky', 'disease.spineLesions[2].sinsTotal', 'disease.spineLesions[2].painNrs'], 'components fill the SINS')
  const [sins, bilsky, pain] = dataGaps(context({ disease: { neuro, spineLesions: [{ level: 'T7' }] } }))
  t.strictSame(sins?.affects, ['LOC-04', 'LOC-05', 'LOC-06', 'LOC-07'])
  t.match(sins?.message, /T7 lesion/)
  t.strictSame(bilsky?.affects, ['LOC-01b', 'LOC-02', 'LOC-03', 'LOC-06', 'LOC-07'])
  t.strictSame(pain?.affects, ['LOC-06', 'LOC-07'])
})

t.test('disease.neuro: missing while spine lesions are recorded', async (t) => {
  const complete = { level: 'T7' as const, sinsTotal: 5, bilsky: '0' as const, painNrs: 2 }
  t.strictSame(fields({ disease: { spineLesions: [complete] } }), ['disease.neuro'])
  t.strictSame(fields({ disease: { spineLesions: [] } }), [], 'an empty list')
  t.strictSame(fields(), [], 'no spine lesion')
  t.strictSame(fields({ disease: { spineLesions: [complete], neuro: { deficit: 'none' } } }), [], 'recorded')
  t.strictSame(dataGaps(context({ disease: { spineLesions: [complete] } }))[0]?.affects, ['LOC-01', 'LOC-02', 'LOC-03'])
})

t.test('disease.totalMetastaticLesions: missing in scope', async (t) => {
  const { totalMetastaticLesions: _, ...withoutCount } = baseCase().disease
  const missing = (overrides: Overrides) => {
    const input = baseCase(overrides)
    input.disease = { ...withoutCount, ...overrides.disease }
    return dataGaps({ input, facts: deriveFacts(input, EVALUATION_DATE).facts, offered: new Set(), firedCodes: new Set() }).map((gap) => gap.field)
  }
  t.strictSame(missing({}), ['disease.totalMetastaticLesions'], 'HER2 positive, metastatic')
  t.strictSame(missing({ tumor: { her2Ihc: '2+', her2IshResult: 'equivocal' } }), ['disease.totalMetastaticLesions'], 'HER2 equivocal')
  t.strictSame(missing({ tumor: { her2Ihc: '1+' } }), [], 'out of scope: HER2 negative')
  t.strictSame(missing({ disease: { presentation: 'early', metastaticSites: [] } }), [], 'out of scope: not metastatic')
})

t.test('disease.brain.count: missing while brain metastases are present', async (t) => {
  t.strictSame(fields({ disease: { metastaticSites: ['bone', 'brain'], brain: { present: true } } }), ['disease.brain.count'])
  t.strictSame(fields({ disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 0 } } }), [], 'recorded (0)')
  t.strictSame(fields({ disease: { brain: { present: false } } }), [], 'no brain metastases')
  t.strictSame(fields(), [], 'brain absent')
  t.strictSame(fields({ disease: { metastaticSites: ['bone', 'brain'] } }), ['disease.brain.count'], '"brain" among the sites without a brain object')
  t.strictSame(dataGaps(context({ disease: { brain: { present: true } } }))[0]?.affects, ['CNS-02', 'CNS-03', 'CNS-04'])
})

t.test('history.earlyStageTherapy[].lastDoseDate: an anti-HER2 entry without a date', async (t) => {
  const dated = { disease: { metastaticDiagnosisDate: '2025-06-01' } }
  t.strictSame(fields({
    ...dated,
    history: {
      earlyStageTherapy: [
        { setting: 'adjuvant', agents: ['anthracycline', 'cyclophosphamide'] },
        { setting: 'neoadjuvant', agents: ['docetaxel', 'trastuzumab'] },
        { setting: 'adjuvant', agents: ['trastuzumab'], lastDoseDate: '2024-01-01' },
        { setting: 'post_neoadjuvant', agents: ['neratinib'] }
      ]
    }
  }), ['history.earlyStageTherapy[1].lastDoseDate', 'history.earlyStageTherapy[3].lastDoseDate'])
  t.strictSame(fields({ ...dated, history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['tamoxifen'] }] } }), [], 'no anti-HER2 agent')
  t.strictSame(fields({ ...dated, history: { metastaticLines: [{ lineNumber: 1, agents: ['trastuzumab'], outcome: 'ongoing' }] } }), [], 'metastatic lines do not count')
  const gap = dataGaps(context({ ...dated, history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['t_dm1'] }] } }))[0]
  t.strictSame(gap?.affects, ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05'])
})

t.test('disease.metastaticDiagnosisDate: missing with an early-stage anti-HER2 entry', async (t) => {
  const earlyHer2 = { earlyStageTherapy: [{ setting: 'adjuvant' as const, agents: ['trastuzumab' as const], lastDoseDate: '2024-01-01' }] }
  t.strictSame(fields({ history: earlyHer2 }), ['disease.metastaticDiagnosisDate'])
  t.strictSame(fields({ history: earlyHer2, disease: { metastaticDiagnosisDate: '2025-01-01' } }), [], 'recorded')
  t.strictSame(fields({ history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['tamoxifen'], lastDoseDate: '2024-01-01' }] } }), [], 'no anti-HER2 agent')
  t.strictSame(fields({ history: {} }), [], 'no early-stage therapy')
  const gap = dataGaps(context({ history: earlyHer2 }))[0]
  t.strictSame(gap?.affects, ['SYS-02', 'SYS-03', 'SYS-04', 'SYS-05'])
  t.match(gap?.message, /evaluation date/)
  t.strictSame(fields({ history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['pertuzumab'] }] } }),
    ['history.earlyStageTherapy[0].lastDoseDate', 'disease.metastaticDiagnosisDate'], 'both gaps')
})

t.test('every gap at once, in table order', async (t) => {
  const input = baseCase({
    patient: { ageYears: 40 },
    tumor: { her2Ihc: '2+', her2IshRatio: 2.2, her2IshCopyNumber: 5 },
    disease: { metastaticSites: ['bone', 'brain'], brain: { present: true }, spineLesions: [{ level: 'C7' }] },
    history: { earlyStageTherapy: [{ setting: 'adjuvant', agents: ['trastuzumab'] }] }
  })
  const { totalMetastaticLesions: _, ...disease } = input.disease
  input.disease = disease
  const gaps = dataGaps({
    input,
    facts: deriveFacts(input, EVALUATION_DATE).facts,
    offered: new Set<OptionId>(['tdxd', 'tucatinib_trastuzumab_capecitabine']),
    firedCodes: new Set(['BMA-01'])
  })
  t.strictSame(gaps.map((gap) => gap.field), [
    'patient.lvefPercent',
    'patient.ildHistory',
    'patient.creatinineClearanceMlMin',
    'patient.dentalStatus',
    'patient.pregnant',
    'tumor.her2IshResult',
    'patient.dpydStatus',
    'disease.spineLesions[0].sinsTotal',
    'disease.spineLesions[0].bilsky',
    'disease.spineLesions[0].painNrs',
    'disease.neuro',
    'disease.totalMetastaticLesions',
    'disease.brain.count',
    'history.earlyStageTherapy[0].lastDoseDate',
    'disease.metastaticDiagnosisDate'
  ])
  for (const gap of gaps) {
    t.ok(gap.message.length > 0, `${gap.field} has a message`)
    t.ok(gap.affects.length > 0, `${gap.field} names the codes it affects`)
  }
})
