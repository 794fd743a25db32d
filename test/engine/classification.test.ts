import t from 'tap'
import {
  erStatus, her2Status, ishGroup, isHypercalcaemic, isMetastatic, readIsh
} from '../../src/engine/classification.js'
import type { Case } from '../../src/schemas/case.js'

type Tumor = Case['tumor']
type Disease = Case['disease']
type Ihc = Tumor['her2Ihc']
type IshResult = NonNullable<Tumor['her2IshResult']>

const tumor = (overrides: Partial<Tumor> = {}): Tumor => ({ her2Ihc: '2+', erPercent: 0, ...overrides })
const disease = (overrides: Partial<Disease> = {}): Disease => ({ presentation: 'early', metastaticSites: [], ...overrides })

const IHC_VALUES: Ihc[] = ['0', '1+', '2+', '3+', 'not_done']

t.test('isMetastatic: sites, ajcc M1 or a *_metastatic presentation', async (t) => {
  const rows: Array<[string, Disease, boolean]> = [
    ['early, no sites', disease(), false],
    ['locally advanced, no sites', disease({ presentation: 'locally_advanced' }), false],
    ['early with a bone site', disease({ metastaticSites: ['bone'] }), true],
    ['early with ajcc M1', disease({ ajcc: { m: 'M1' } }), true],
    ['early with ajcc M0', disease({ ajcc: { m: 'M0' } }), false],
    ['early with ajcc without m', disease({ ajcc: { t: 'cT2' } }), false],
    ['de novo metastatic, no sites', disease({ presentation: 'de_novo_metastatic' }), true],
    ['recurrent metastatic, no sites', disease({ presentation: 'recurrent_metastatic' }), true]
  ]
  for (const [name, input, expected] of rows) t.equal(isMetastatic(input), expected, name)
})

t.test('ishGroup: ASCO/CAP 2018 groups at the ratio 2.0 and copy-number 4.0 / 6.0 boundaries', async (t) => {
  const rows: Array<[number, number, 1 | 2 | 3 | 4 | 5]> = [
    [2.0, 4.0, 1],
    [5.0, 20.0, 1],
    [2.0, 3.9, 2],
    [2.0, 0, 2],
    [1.9, 6.0, 3],
    [1.99, 12.0, 3],
    [1.9, 5.9, 4],
    [1.9, 4.0, 4],
    [1.9, 3.9, 5],
    [0, 0, 5]
  ]
  for (const [ratio, copies, group] of rows) t.equal(ishGroup(ratio, copies), group, `ratio ${ratio}, copies ${copies}`)
})

t.test('readIsh: a named result decides; not_done and absent fall back to ratio and copies', async (t) => {
  t.equal(readIsh(tumor({ her2IshResult: 'amplified' })), 'amplified')
  t.equal(readIsh(tumor({ her2IshResult: 'not_amplified' })), 'not_amplified')
  t.equal(readIsh(tumor({ her2IshResult: 'equivocal' })), 'equivocal')
  t.equal(readIsh(tumor({ her2IshResult: 'not_amplified', her2IshRatio: 3, her2IshCopyNumber: 8 })), 'not_amplified', 'result over group 1')
  t.equal(readIsh(tumor({ her2IshResult: 'amplified', her2IshRatio: 1, her2IshCopyNumber: 2 })), 'amplified', 'result over group 5')
  t.equal(readIsh(tumor({ her2IshResult: 'not_done', her2IshRatio: 2.5, her2IshCopyNumber: 5 })), 1, 'not_done: the group decides')
  t.equal(readIsh(tumor({ her2IshRatio: 1.5, her2IshCopyNumber: 4.5 })), 4, 'absent: the group decides')
  t.equal(readIsh(tumor({ her2IshResult: 'not_done' })), 'none')
  t.equal(readIsh(tumor()), 'none')
  t.equal(readIsh(tumor({ her2IshRatio: 2.5 })), 'none', 'ratio without copy number')
  t.equal(readIsh(tumor({ her2IshCopyNumber: 7 })), 'none', 'copy number without ratio')
})

t.test('her2Status: every IHC score with every named ISH result, not_done or absent', async (t) => {
  const expected: Record<Ihc, Record<IshResult | 'absent', string>> = {
    '3+': { amplified: 'positive', not_amplified: 'positive', equivocal: 'positive', not_done: 'positive', absent: 'positive' },
    '2+': { amplified: 'positive', not_amplified: 'negative', equivocal: 'equivocal', not_done: 'equivocal', absent: 'equivocal' },
    '1+': { amplified: 'positive', not_amplified: 'negative', equivocal: 'negative', not_done: 'negative', absent: 'negative' },
    0: { amplified: 'positive', not_amplified: 'negative', equivocal: 'negative', not_done: 'negative', absent: 'negative' },
    not_done: { amplified: 'positive', not_amplified: 'negative', equivocal: 'equivocal', not_done: 'unknown', absent: 'unknown' }
  }
  for (const ihc of IHC_VALUES) {
    for (const [ish, status] of Object.entries(expected[ihc])) {
      const input = ish === 'absent' ? tumor({ her2Ihc: ihc }) : tumor({ her2Ihc: ihc, her2IshResult: ish as IshResult })
      t.equal(her2Status(input), status, `IHC ${ihc}, ISH ${ish}`)
    }
  }
})

t.test('her2Status: every IHC score with ISH groups 1–5 from ratio and copy number', async (t) => {
  const groups: Array<[1 | 2 | 3 | 4 | 5, number, number]> = [
    [1, 2.0, 4.0], [2, 2.0, 3.9], [3, 1.9, 6.0], [4, 1.9, 5.9], [5, 1.9, 3.9]
  ]
  const expected: Record<Ihc, string[]> = {
    //          group 1      group 2      group 3      group 4      group 5
    '3+': ['positive', 'positive', 'positive', 'positive', 'positive'],
    '2+': ['positive', 'negative', 'positive', 'negative', 'negative'],
    '1+': ['positive', 'negative', 'negative', 'negative', 'negative'],
    0: ['positive', 'negative', 'negative', 'negative', 'negative'],
    not_done: ['positive', 'equivocal', 'equivocal', 'equivocal', 'negative']
  }
  for (const ihc of IHC_VALUES) {
    for (const [group, ratio, copies] of groups) {
      const status = expected[ihc][group - 1]
      t.equal(her2Status(tumor({ her2Ihc: ihc, her2IshRatio: ratio, her2IshCopyNumber: copies })), status, `IHC ${ihc}, group ${group}`)
      t.equal(her2Status(tumor({ her2Ihc: ihc, her2IshResult: 'not_done', her2IshRatio: ratio, her2IshCopyNumber: copies })), status,
        `IHC ${ihc}, ISH not_done with group ${group}`)
    }
  }
})

t.test('her2Status: IHC 2+ boundaries of the ratio and copy number', async (t) => {
  const rows: Array<[number, number, string]> = [
    [2.0, 4.0, 'positive'], // group 1
    [1.99, 4.0, 'negative'], // group 4
    [2.0, 3.99, 'negative'], // group 2
    [1.99, 6.0, 'positive'], // group 3
    [1.99, 5.99, 'negative'], // group 4
    [1.99, 3.99, 'negative'] // group 5
  ]
  for (const [ratio, copies, status] of rows) {
    t.equal(her2Status(tumor({ her2Ihc: '2+', her2IshRatio: ratio, her2IshCopyNumber: copies })), status, `ratio ${ratio}, copies ${copies}`)
  }
})

t.test('her2Status: a named ISH result takes precedence over ratio and copy number', async (t) => {
  t.equal(her2Status(tumor({ her2Ihc: '2+', her2IshResult: 'not_amplified', her2IshRatio: 3, her2IshCopyNumber: 8 })), 'negative', 'not_amplified over group 1')
  t.equal(her2Status(tumor({ her2Ihc: '2+', her2IshResult: 'amplified', her2IshRatio: 1, her2IshCopyNumber: 2 })), 'positive', 'amplified over group 5')
  t.equal(her2Status(tumor({ her2Ihc: '2+', her2IshResult: 'equivocal', her2IshRatio: 1.5, her2IshCopyNumber: 7 })), 'equivocal', 'equivocal over group 3')
  t.equal(her2Status(tumor({ her2Ihc: 'not_done', her2IshResult: 'equivocal', her2IshRatio: 1, her2IshCopyNumber: 2 })), 'equivocal', 'equivocal over group 5')
  t.equal(her2Status(tumor({ her2Ihc: '0', her2IshResult: 'not_amplified', her2IshRatio: 3, her2IshCopyNumber: 8 })), 'negative', 'IHC 0: not_amplified over group 1')
})

t.test('her2Status: IHC not_done with incomplete ISH numbers is unknown', async (t) => {
  t.equal(her2Status(tumor({ her2Ihc: 'not_done', her2IshRatio: 2.5 })), 'unknown')
  t.equal(her2Status(tumor({ her2Ihc: 'not_done', her2IshCopyNumber: 8 })), 'unknown')
  t.equal(her2Status(tumor({ her2Ihc: '2+', her2IshRatio: 2.5 })), 'equivocal', 'IHC 2+ with a ratio alone stays equivocal')
})

t.test('erStatus: < 1 % negative, 1–10 % low, > 10 % positive', async (t) => {
  const rows: Array<[number, string]> = [[0, 'negative'], [1, 'low'], [10, 'low'], [11, 'positive'], [100, 'positive']]
  for (const [percent, status] of rows) t.equal(erStatus(percent), status, `${percent} %`)
})

t.test('isHypercalcaemic: above 10.5 mg/dL or 2.62 mmol/L', async (t) => {
  const rows: Array<[Case['patient']['correctedCalcium'], boolean]> = [
    [undefined, false],
    [{ value: 10.5, unit: 'mg/dL' }, false],
    [{ value: 10.6, unit: 'mg/dL' }, true],
    [{ value: 2.62, unit: 'mmol/L' }, false],
    [{ value: 2.63, unit: 'mmol/L' }, true],
    [{ value: 3.0, unit: 'mg/dL' }, false]
  ]
  for (const [calcium, expected] of rows) t.equal(isHypercalcaemic(calcium), expected, JSON.stringify(calcium) ?? 'absent')
})
