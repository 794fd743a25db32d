import t from 'tap'
import { her2Status } from '../../src/engine/classification.js'
import { mapMarkers } from '../../src/fhir/sections/markers.js'
import type { Case } from '../../src/schemas/case.js'
import type { FhirResource } from '../../src/fhir/types.js'
import type { MappingContext } from '../../src/fhir/mapping-context.js'
import {
  bundleContext, codes, condition, context, LOINC, loinc, observation, quantity, SNOMED, text, valueCode, valueInteger, valueString, valueText
} from '../support/observation-builders.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

const mapped = (resources: FhirResource[]): MappingContext => {
  const ctx = context(resources)
  mapMarkers(ctx)
  return ctx
}
const statusOf = (ctx: MappingContext): string => her2Status(ctx.draft.tumor as Case['tumor'])

const IHC = '85319-2'
const ISH = '85318-4'
const OVERALL = '48676-1'
const NEGATIVE = valueCode(LOINC, 'LA6577-6', 'Negative')
const POSITIVE = valueCode(SNOMED, '10828004', 'Positive (qualifier value)')

/* ------------------------------------------------------------------ rows */

t.test('HER2 IHC by each code with a string score → her2Ihc, with its source', async (t) => {
  for (const code of [IHC, '18474-7']) {
    const ctx = mapped([observation('h', loinc(code), valueString('3+'), '2026-01-10')])
    t.equal(ctx.draft.tumor?.her2Ihc, '3+', code)
    t.same(ctx.sources['tumor.her2Ihc'], { label: 'HER2 immunohistochemistry score', display: 'IHC 3+ (2026-01-10)', refs: ['Observation/h'], date: '2026-01-10' })
    t.same(codes(ctx), [])
  }
})

t.test('score class: the §6.4 pattern on valueString, valueCodeableConcept.text, coding code or display', async (t) => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['valueString 0', valueString('0'), '0'],
    ['valueString "IHC 2+"', valueString('IHC 2+'), '2+'],
    ['valueString "score 1"', valueString('score 1'), '1+'],
    ['valueString "3 +"', valueString('3 +'), '3+'],
    ['valueCodeableConcept.text "3+" (variant #5)', valueText('3+'), '3+'],
    ['coding code "2+"', valueCode('http://example.org/scores', '2+'), '2+'],
    ['coding display "Score 1+"', valueCode('http://example.org/scores', 'x', 'Score 1+'), '1+']
  ]
  for (const [name, value, expected] of rows) {
    const ctx = mapped([observation('h', loinc(IHC), value)])
    t.equal(ctx.draft.tumor?.her2Ihc, expected, name)
    t.notOk(codes(ctx).includes('FHIR_HER2_NUMERIC_SCORE'), `${name}: not numeric`)
  }
})

t.test('score class: valueInteger or a unitless valueQuantity 0–3 → score with FHIR_HER2_NUMERIC_SCORE', async (t) => {
  const integer = mapped([observation('h', loinc(IHC), valueInteger(3))])
  t.equal(integer.draft.tumor?.her2Ihc, '3+')
  t.ok(codes(integer).includes('FHIR_HER2_NUMERIC_SCORE'))
  const unitless = mapped([observation('h', loinc(IHC), quantity(0))])
  t.equal(unitless.draft.tumor?.her2Ihc, '0')
  t.ok(codes(unitless).includes('FHIR_HER2_NUMERIC_SCORE'))
})

t.test('score class: a number outside 0–3, with a unit, or a word that is no class → FHIR_VALUE_UNREADABLE, her2Ihc not_done', async (t) => {
  for (const [name, value] of [['4', quantity(4)], ['3 mg', quantity(3, 'mg')], ['2.5', valueInteger(2.5)], ['pending', valueString('pending')]] as const) {
    const ctx = mapped([observation('h', loinc(IHC), value)])
    t.equal(ctx.draft.tumor?.her2Ihc, 'not_done', name)
    t.ok(codes(ctx).includes('FHIR_VALUE_UNREADABLE'), name)
    t.match(ctx.gaps['tumor.her2Ihc'], [/Observation\/h \(2026-05-01\): the HER2 IHC value is neither a score/, 'no HER2 result in the record'], name)
  }
})

t.test('an Observation coded with several rows takes the most specific one', async (t) => {
  const ihc = mapped([observation('h', loinc(OVERALL, IHC), { ...POSITIVE, ...quantity(3) })])
  t.equal(ihc.draft.tumor?.her2Ihc, '3+', '48676-1 + 85319-2 → IHC (the score, not the overall stand-in)')
  t.notOk(codes(ihc).includes('FHIR_HER2_STATUS_WITHOUT_SCORE'))
  const ish = mapped([observation('h', loinc(OVERALL, ISH), POSITIVE)])
  t.equal(ish.draft.tumor?.her2IshResult, 'amplified', '48676-1 + 85318-4 → ISH result')
  t.equal(ish.draft.tumor?.her2Ihc, 'not_done')
  const er = mapped([observation('e', loinc('85337-4', '85329-1'), quantity(40, '%'))])
  t.equal(er.draft.tumor?.erPercent, 40, 'ER presence + ER % → % row')
  t.same(codes(er), [])
})

t.test('text patterns (no known code): each row, with FHIR_MATCHED_BY_TEXT', async (t) => {
  const rows: Array<[string, Record<string, unknown>, (ctx: MappingContext) => unknown, unknown]> = [
    ['HER2 FISH ratio', quantity(2.2), (ctx) => ctx.draft.tumor?.her2IshRatio, 2.2],
    ['HER2 ISH copies per cell', quantity(6.1), (ctx) => ctx.draft.tumor?.her2IshCopyNumber, 6.1],
    ['ERBB2 in situ hybridisation', POSITIVE, (ctx) => ctx.draft.tumor?.her2IshResult, 'amplified'],
    ['HER2 by immunohistochemistry', valueString('2+'), (ctx) => ctx.draft.tumor?.her2Ihc, '2+'],
    ['HER2 status', POSITIVE, (ctx) => ctx.draft.tumor?.her2Ihc, '3+'],
    ['Oestrogen receptor % of cells', quantity(30, '%'), (ctx) => ctx.draft.tumor?.erPercent, 30],
    ['ER status', NEGATIVE, (ctx) => ctx.draft.tumor?.erPercent, 0],
    ['Progesterone receptor percent', quantity(20, '%'), (ctx) => ctx.draft.tumor?.prPercent, 20],
    ['PR status', POSITIVE, (ctx) => ctx.gaps['tumor.prPercent']?.length, 1]
  ]
  for (const [words, value, read, expected] of rows) {
    const ctx = mapped([observation('m', text(words), value)])
    t.same(read(ctx), expected, words)
    t.ok(codes(ctx).includes('FHIR_MATCHED_BY_TEXT'), `${words}: matched by text`)
  }
})

t.test('text patterns: the most specific row among text and displays (ctm-bct shape), and what text never claims', async (t) => {
  const bct = mapped([observation('h', { coding: [{ system: LOINC, code: '34566', display: 'HER2 [Presence] in Breast cancer specimen by Immune stain' }], text: 'HER2 Receptor' }, { ...POSITIVE, ...quantity(3) })])
  t.equal(bct.draft.tumor?.her2Ihc, '3+', 'the display names the IHC row although the text names only HER2')
  t.same(codes(bct), ['FHIR_MATCHED_BY_TEXT', 'FHIR_HER2_NUMERIC_SCORE'])
  const other = mapped([observation('k', text('Ki-67 proliferation index'), quantity(20, '%'))])
  t.same(other.draft.tumor, { her2Ihc: 'not_done' })
  const knownCode = mapped([observation('l', { coding: [{ system: LOINC, code: '10230-1' }], text: 'HER2 therapy LVEF' }, quantity(60, '%'))])
  t.same(knownCode.draft.tumor, { her2Ihc: 'not_done' }, 'an Observation another table claims by code is not read by its words')
  const staging = mapped([observation('s', { coding: [{ system: SNOMED, code: '399537006' }], text: 'HER2 stage group' }, valueString('3+'))])
  t.same(staging.draft.tumor, { her2Ihc: 'not_done' }, 'nor one claimed by a SNOMED staging code')
  const fact = mapped([observation('f', { coding: [{ system: 'https://her2-mbc-cds.example.org/fhir/CodeSystem/case-fact', code: 'tumor.her2Source' }], text: 'HER2 sample source' }, valueString('primary'))])
  t.same(fact.draft.tumor, { her2Ihc: 'not_done' }, 'a case fact is never a marker')
  t.notOk(codes(fact).includes('FHIR_MATCHED_BY_TEXT'))
})

t.test('the code wins over a display naming another marker (FHIR_CODE_DISPLAY_CONFLICT); a generic text is no conflict', async (t) => {
  const conflict = mapped([observation('h', { coding: [{ system: LOINC, code: IHC, display: 'Estrogen receptor' }] }, valueString('1+'))])
  t.equal(conflict.draft.tumor?.her2Ihc, '1+')
  t.ok(codes(conflict).includes('FHIR_CODE_DISPLAY_CONFLICT'))
  const method = mapped([observation('h', { coding: [{ system: LOINC, code: IHC }], text: 'HER2 FISH' }, valueString('1+'))])
  t.ok(codes(method).includes('FHIR_CODE_DISPLAY_CONFLICT'), 'IHC code, ISH words')
  const generic = mapped([observation('h', { coding: [{ system: LOINC, code: IHC }], text: 'HER2 Receptor' }, valueString('1+'))])
  t.same(codes(generic), [])
})

/* ---------------------------------------------------------- value classes */

t.test('value classes: negative, positive and equivocal codes and words; negative words before positive ones', async (t) => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['LA6577-6', valueCode(LOINC, 'LA6577-6'), 'not_amplified'],
    ['SNOMED 260385009', valueCode(SNOMED, '260385009'), 'not_amplified'],
    ['negative', valueString('negative'), 'not_amplified'],
    ['neg', valueString('neg'), 'not_amplified'],
    ['Not amplified', valueText('Not amplified'), 'not_amplified'],
    ['non-amplified', valueString('non-amplified'), 'not_amplified'],
    ['LA6576-8', valueCode(LOINC, 'LA6576-8'), 'amplified'],
    ['SNOMED 10828004', valueCode(SNOMED, '10828004'), 'amplified'],
    ['positive', valueString('positive'), 'amplified'],
    ['pos', valueString('pos'), 'amplified'],
    ['amplified', valueString('Amplified'), 'amplified'],
    ['equivocal', valueString('equivocal'), 'equivocal'],
    ['borderline', valueString('borderline'), 'equivocal'],
    ['indeterminate', valueString('indeterminate'), 'equivocal'],
    ['borderline positive (equivocal words before positive ones)', valueString('borderline positive'), 'equivocal'],
    ['code display "Amplified", text "not amplified"', { valueCodeableConcept: { coding: [{ system: 'http://example.org', code: 'x', display: 'Amplified' }], text: 'not amplified' } }, 'not_amplified']
  ]
  for (const [name, value, expected] of rows) {
    t.equal(mapped([observation('i', loinc(ISH), value)]).draft.tumor?.her2IshResult, expected, name)
  }
})

t.test('ISH result: an unreadable value → FHIR_VALUE_UNREADABLE and a gap on her2IshResult', async (t) => {
  const ctx = mapped([observation('i', loinc('31150-6'), valueString('see report'))])
  t.equal(ctx.draft.tumor?.her2IshResult, undefined)
  t.ok(codes(ctx).includes('FHIR_VALUE_UNREADABLE'))
  t.match(ctx.gaps['tumor.her2IshResult'], [/Observation\/i .*not positive\/negative\/equivocal/])
  t.same(ctx.gaps['tumor.her2Ihc'], ['no HER2 result in the record'])
})

/* ------------------------------------------------------ ISH ratio, copies */

t.test('HER2 ISH ratio (49683-6): {ratio}, 1, no unit, or valueRatio', async (t) => {
  const rows: Array<[string, Record<string, unknown>, number]> = [
    ['{ratio}', quantity(2.4, '{ratio}'), 2.4],
    ['1', quantity(1.3, '1'), 1.3],
    ['no unit', quantity(1.9), 1.9],
    ['valueRatio', { valueRatio: { numerator: { value: 44 }, denominator: { value: 20 } } }, 2.2]
  ]
  for (const [name, value, expected] of rows) {
    const ctx = mapped([observation('r', loinc('49683-6'), value, '2026-01-10')])
    t.equal(ctx.draft.tumor?.her2IshRatio, expected, name)
    t.equal(ctx.sources['tumor.her2IshRatio']?.display, `HER2/CEP17 ratio ${expected} (2026-01-10)`)
    t.equal(ctx.draft.tumor?.her2Ihc, 'not_done', 'no IHC score: not_done')
  }
})

t.test('HER2 ISH ratio unusable: another unit, a comparator, out of range, a bad valueRatio, no value', async (t) => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['unit mg', quantity(2, 'mg'), 'FHIR_UNIT_UNKNOWN'],
    ['unit text only', { valueQuantity: { value: 2, unit: 'ratio' } }, 'FHIR_UNIT_UNKNOWN'],
    ['comparator', quantity(2, '{ratio}', '>='), 'FHIR_VALUE_UNREADABLE'],
    ['60', quantity(60), 'FHIR_VALUE_OUT_OF_RANGE'],
    ['denominator 0', { valueRatio: { numerator: { value: 1 }, denominator: { value: 0 } } }, 'FHIR_VALUE_UNREADABLE'],
    ['bounded valueRatio', { valueRatio: { numerator: { value: 1, comparator: '>=' }, denominator: { value: 100 } } }, 'FHIR_VALUE_UNREADABLE'],
    ['no value', {}, 'FHIR_VALUE_UNREADABLE']
  ]
  for (const [name, value, code] of rows) {
    const ctx = mapped([observation('r', loinc('49683-6'), value)])
    t.equal(ctx.draft.tumor?.her2IshRatio, undefined, name)
    t.ok(codes(ctx).includes(code), `${name}: ${code}`)
    t.match(ctx.gaps['tumor.her2IshRatio'], [/Observation\/r \(2026-05-01\)/], name)
  }
})

t.test('HER2 copies per cell (74860-8): {copies}/{cell}, /{cell}, no unit; another unit or > 100 unusable', async (t) => {
  for (const unit of ['{copies}/{cell}', '/{cell}', undefined]) {
    const ctx = mapped([observation('c', loinc('74860-8'), quantity(4.5, unit))])
    t.equal(ctx.draft.tumor?.her2IshCopyNumber, 4.5, String(unit))
    t.equal(ctx.sources['tumor.her2IshCopyNumber']?.display, '4.5 HER2 copies per cell (2026-05-01)')
  }
  t.ok(codes(mapped([observation('c', loinc('74860-8'), quantity(4.5, 'copies'))])).includes('FHIR_UNIT_UNKNOWN'))
  t.ok(codes(mapped([observation('c', loinc('74860-8'), quantity(120))])).includes('FHIR_VALUE_OUT_OF_RANGE'))
  t.ok(codes(mapped([observation('c', loinc('74860-8'), { valueRatio: { numerator: { value: 4 }, denominator: { value: 1 } } })])).includes('FHIR_VALUE_UNREADABLE'), 'copies take no valueRatio')
})

t.test('ratio and copy number together give the ISH group through the engine', async (t) => {
  const ctx = mapped([observation('h', loinc(IHC), valueString('2+')), observation('r', loinc('49683-6'), quantity(1.3)), observation('c', loinc('74860-8'), quantity(3.2))])
  t.same(ctx.draft.tumor, { her2Ihc: '2+', her2IshRatio: 1.3, her2IshCopyNumber: 3.2 })
  t.equal(statusOf(ctx), 'negative')
})

/* -------------------------------------------------------------- stand-ins */

t.test('stand-in: IHC presence positive, no score (variant #2) → 3+ with FHIR_HER2_STATUS_WITHOUT_SCORE, the display keeps the original', async (t) => {
  const ctx = mapped([observation('h', loinc('18474-7'), POSITIVE, '2026-01-10')])
  t.equal(ctx.draft.tumor?.her2Ihc, '3+')
  t.same(ctx.sources['tumor.her2Ihc'], { label: 'HER2 immunohistochemistry score', display: 'positive, no IHC score given (2026-01-10)', refs: ['Observation/h'], date: '2026-01-10', standIn: true })
  t.same(codes(ctx), ['FHIR_HER2_STATUS_WITHOUT_SCORE'])
  t.equal(statusOf(ctx), 'positive')
})

t.test('stand-in [D]: negative (48676-1 LA6577-6 only, variant #3) → IHC not_done + ISH not_amplified, never IHC 0', async (t) => {
  const ctx = mapped([observation('o', loinc(OVERALL), NEGATIVE)])
  t.same(ctx.draft.tumor, { her2Ihc: 'not_done', her2IshResult: 'not_amplified' })
  t.equal(ctx.sources['tumor.her2Ihc']?.standIn, true)
  t.equal(ctx.sources['tumor.her2IshResult']?.standIn, true)
  t.equal(ctx.sources['tumor.her2IshResult']?.display, 'HER2 negative (overall interpretation), no score given (2026-05-01)')
  t.same(codes(ctx), ['FHIR_HER2_STATUS_WITHOUT_SCORE'])
  t.equal(statusOf(ctx), 'negative')
  const ihcNegative = mapped([observation('h', loinc('18474-7'), valueCode(SNOMED, '260385009'))])
  t.not(ihcNegative.draft.tumor?.her2Ihc, '0', 'an IHC presence negative is not IHC 0 either')
  t.equal(statusOf(ihcNegative), 'negative')
})

t.test('stand-in: equivocal → IHC 2+ (status equivocal, so ISH is requested)', async (t) => {
  const ctx = mapped([observation('o', loinc(OVERALL), valueString('equivocal'))])
  t.equal(ctx.draft.tumor?.her2Ihc, '2+')
  t.equal(statusOf(ctx), 'equivocal')
})

t.test('stand-in: the latest of presence-only IHC and 48676-1 (eom_patient_1 shape)', async (t) => {
  const ctx = mapped([observation('o', loinc(OVERALL), POSITIVE, '2018-03-10'), observation('h', loinc('18474-7'), NEGATIVE, '2022-01-02')])
  t.same(ctx.draft.tumor, { her2Ihc: 'not_done', her2IshResult: 'not_amplified' })
  t.same(ctx.sources['tumor.her2Ihc']?.refs, ['Observation/h'])
})

t.test('stand-ins are used only when there is no IHC score and no ISH value at all', async (t) => {
  const score = mapped([observation('s', loinc(IHC), valueString('1+'), '2020-01-01'), observation('p', loinc(IHC), POSITIVE, '2026-01-01')])
  t.equal(score.draft.tumor?.her2Ihc, '1+', 'an older score beats a newer presence-only result')
  t.notOk(codes(score).includes('FHIR_HER2_STATUS_WITHOUT_SCORE'))
  const withIsh = mapped([observation('p', loinc(IHC), POSITIVE), observation('i', loinc(ISH), valueString('amplified'))])
  t.same(withIsh.draft.tumor, { her2IshResult: 'amplified', her2Ihc: 'not_done' })
  t.notOk(codes(withIsh).includes('FHIR_HER2_STATUS_WITHOUT_SCORE'))
  const withRatio = mapped([observation('p', loinc(OVERALL), NEGATIVE), observation('r', loinc('49683-6'), quantity(2.5))])
  t.same(withRatio.draft.tumor, { her2IshRatio: 2.5, her2Ihc: 'not_done' })
  t.match(withRatio.gaps['tumor.her2Ihc'], [/Observation\/p .*overall interpretation negative not used/], 'status unknown from a ratio alone: the interpretation is named in a gap')
})

t.test('nothing usable (variant #4): her2Ihc not_done, status unknown, gap "no HER2 result in the record"', async (t) => {
  const ctx = mapped([])
  t.same(ctx.draft.tumor, { her2Ihc: 'not_done' })
  t.same(ctx.gaps['tumor.her2Ihc'], ['no HER2 result in the record'])
  t.equal(statusOf(ctx), 'unknown')
  t.equal(ctx.sources['tumor.her2Ihc'], undefined)
  const unreadableOverall = mapped([observation('o', loinc(OVERALL), valueString('3+'))])
  t.ok(codes(unreadableOverall).includes('FHIR_VALUE_UNREADABLE'), 'a score on the overall row is not read')
  t.equal(unreadableOverall.draft.tumor?.her2Ihc, 'not_done')
})

t.test('48676-1 disagreeing with the status from IHC/ISH → the specific results win, FHIR_HER2_CONFLICT', async (t) => {
  const conflict = mapped([observation('h', loinc(IHC), valueString('0')), observation('o', loinc(OVERALL), POSITIVE)])
  t.equal(conflict.draft.tumor?.her2Ihc, '0')
  t.ok(codes(conflict).includes('FHIR_HER2_CONFLICT'))
  const agree = mapped([observation('h', loinc(IHC), valueString('2+')), observation('i', loinc(ISH), valueString('amplified')), observation('o', loinc(OVERALL), POSITIVE)])
  t.same(codes(agree), [])
})

/* ------------------------------------------------------- latest and status */

t.test('the latest usable result of each row; same-date conflicts, preliminary, future and undated results (§6.1)', async (t) => {
  const newest = mapped([observation('a', loinc(IHC), valueString('1+'), '2020-01-01'), observation('b', loinc(IHC), valueString('3+'), '2024-01-01')])
  t.equal(newest.draft.tumor?.her2Ihc, '3+')
  const tie = mapped([observation('a', loinc(IHC), valueString('1+'), '2024-01-01'), observation('b', loinc(IHC), valueString('3+'), '2024-01-01')])
  t.ok(codes(tie).includes('FHIR_CONFLICTING_SAME_DATE'))
  const preliminary = mapped([observation('p', loinc(IHC), valueString('3+'), '2024-01-01', { status: 'preliminary' })])
  t.equal(preliminary.draft.tumor?.her2Ihc, 'not_done')
  t.ok(codes(preliminary).includes('FHIR_PRELIMINARY_IGNORED'))
  const future = mapped([observation('f', loinc(IHC), valueString('3+'), '2027-01-01')])
  t.equal(future.draft.tumor?.her2Ihc, 'not_done')
  t.ok(codes(future).includes('FHIR_FUTURE_DATED'))
  const futureUnreadable = mapped([observation('f', loinc(IHC), valueString('pending'), '2027-01-01')])
  t.same(codes(futureUnreadable), ['FHIR_FUTURE_DATED'], 'a future unreadable result is only future-dated')
  const undated = mapped([observation('u', loinc(IHC), valueString('3+'), null)])
  t.equal(undated.draft.tumor?.her2Ihc, '3+')
  t.ok(codes(undated).includes('FHIR_UNDATED'))
  t.equal(undated.sources['tumor.her2Ihc']?.display, 'IHC 3+ (undated)')
})

/* -------------------------------------------------------------- her2Source */

t.test('her2Source from focus, mcode-related-condition or the specimen body site; recorded as derived', async (t) => {
  const primary = condition('prim', { bodySite: [{ text: 'left breast' }] })
  const liver = condition('liver', { bodySite: [{ text: 'liver' }] })
  const unlisted = condition('x', { bodySite: [{ text: 'Breast structure' }] })
  const related = (reference: string): Record<string, unknown> => ({ extension: [{ url: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-condition', valueReference: { reference } }] })
  const specimen = (id: string, site: string): FhirResource => ({ resourceType: 'Specimen', id, collection: { bodySite: { text: site } } })
  const rows: Array<[string, Record<string, unknown>, string | undefined]> = [
    ['focus → a metastatic Condition', { focus: [{ reference: 'Condition/liver' }] }, 'metastasis'],
    ['focus → the primary', { focus: [{ reference: 'Condition/prim' }] }, 'primary'],
    ['focus → another Condition with a breast site', { focus: [{ reference: 'Condition/x' }] }, 'primary'],
    ['mcode-related-condition → a metastatic Condition', related('Condition/liver'), 'metastasis'],
    ['another extension naming a Condition', { extension: [{ url: 'http://example.org/other', valueReference: { reference: 'Condition/liver' } }] }, undefined],
    ['specimen collected from the liver', { specimen: { reference: 'Specimen/s1' } }, 'metastasis'],
    ['specimen collected from the breast', { specimen: { reference: 'Specimen/s2' } }, 'primary'],
    ['specimen without a body site', { specimen: { reference: 'Specimen/s3' } }, undefined],
    ['focus that does not resolve', { focus: [{ reference: 'Condition/gone' }] }, undefined],
    ['focus → a resource that is no Condition nor Specimen', { focus: [{ reference: 'Patient/p1' }] }, undefined],
    ['focus without a reference', { focus: [{ display: 'the liver biopsy' }] }, undefined],
    ['nothing', {}, undefined]
  ]
  for (const [name, extra, expected] of rows) {
    const ctx = context([
      { resourceType: 'Patient', id: 'p1' }, primary, liver, unlisted, specimen('s1', 'Liver'), specimen('s2', 'Left breast'), { resourceType: 'Specimen', id: 's3', collection: {} },
      observation('h', loinc(IHC), valueString('3+'), '2026-01-10', extra)
    ])
    ctx.state.primaryConditions.push(primary)
    ctx.state.metastaticConditions.push(liver)
    mapMarkers(ctx)
    t.equal(ctx.draft.tumor?.her2Source, expected, name)
    t.equal(ctx.state.derived.has('tumor.her2Source'), expected !== undefined, `${name}: derived`)
  }
  const ctx = context([liver, observation('h', loinc(IHC), valueString('3+'), '2026-01-10', { focus: [{ reference: 'Condition/liver' }] })])
  ctx.state.metastaticConditions.push(liver)
  mapMarkers(ctx)
  t.same(ctx.sources['tumor.her2Source'], { label: 'Sample of the HER2 result (primary or metastasis)', display: 'metastasis (sample of Condition/liver)', refs: ['Observation/h', 'Condition/liver'] })
})

t.test('her2Source follows the result used: the stand-in when it is the only HER2 result', async (t) => {
  const liver = condition('liver')
  const ctx = context([liver, observation('o', loinc(OVERALL), POSITIVE, '2026-01-10', { focus: [{ reference: 'Condition/liver' }] })])
  ctx.state.metastaticConditions.push(liver)
  mapMarkers(ctx)
  t.equal(ctx.draft.tumor?.her2Source, 'metastasis')
})

/* ----------------------------------------------------------------- ER / PR */

t.test('ER %: % rows by either code, % or unitless, rounded half up, with the source', async (t) => {
  const rows: Array<[string, Record<string, unknown>, number]> = [
    ['85329-1 in %', quantity(45.5, '%'), 46],
    ['85329-1 unitless', quantity(0.5), 1],
    ['85329-1 0.4 %', quantity(0.4, '%'), 0]
  ]
  for (const [name, value, expected] of rows) {
    t.equal(mapped([observation('e', loinc('85329-1'), value)]).draft.tumor?.erPercent, expected, name)
  }
  const ctx = mapped([observation('e', loinc('14228-1'), quantity(75, '%'), '2026-01-10')])
  t.equal(ctx.draft.tumor?.erPercent, 75)
  t.same(ctx.sources['tumor.erPercent'], { label: 'Oestrogen-receptor positive tumour cells (%)', display: '75 % (2026-01-10)', refs: ['Observation/e'], date: '2026-01-10' })
  t.equal(mapped([observation('e', loinc('16112-5'), quantity(12, '%'))]).draft.tumor?.erPercent, 12, 'a presence row carrying a % value')
})

t.test('ER category [D]: positive → stand-in 11, negative → 0; gap "ER % not reported", FHIR_ER_PERCENT_STAND_IN, the display keeps the original', async (t) => {
  const positive = mapped([observation('e', loinc('40556-3'), POSITIVE, '2026-01-10')])
  t.equal(positive.draft.tumor?.erPercent, 11, 'variant #17: 40556-3 positive → 11')
  t.same(positive.sources['tumor.erPercent'], { label: 'Oestrogen-receptor positive tumour cells (%)', display: 'positive, no percentage given (2026-01-10)', refs: ['Observation/e'], date: '2026-01-10', standIn: true })
  t.same(positive.gaps['tumor.erPercent'], ['ER % not reported'])
  t.same(codes(positive), ['FHIR_ER_PERCENT_STAND_IN'])
  const negative = mapped([observation('e', loinc('85337-4'), NEGATIVE)])
  t.equal(negative.draft.tumor?.erPercent, 0)
  t.same(negative.gaps['tumor.erPercent'], ['ER % not reported'])
  t.same(codes(negative), ['FHIR_ER_PERCENT_STAND_IN'])
})

t.test('ER category from a bound: > / >= with a bound ≥ 1 positive, < / <= with a bound ≤ 1 negative, else unusable', async (t) => {
  const rows: Array<[string, number, number | undefined]> = [['>=', 10, 11], ['>', 1, 11], ['<', 1, 0], ['<=', 1, 0], ['>', 0.5, undefined], ['<', 5, undefined]]
  for (const [comparator, bound, expected] of rows) {
    const ctx = mapped([observation('e', loinc('85329-1'), quantity(bound, '%', comparator))])
    t.equal(ctx.draft.tumor?.erPercent, expected, `${comparator} ${bound}`)
    if (expected === undefined) t.ok(codes(ctx).includes('FHIR_VALUE_UNREADABLE'), `${comparator} ${bound}: unreadable`)
    else t.equal(ctx.sources['tumor.erPercent']?.display, `${comparator} ${bound} %, no exact percentage given (2026-05-01)`)
  }
})

t.test('ER unusable: equivocal, a % outside 0–100, another unit; no ER → erPercent left missing', async (t) => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['equivocal', valueString('equivocal'), 'FHIR_VALUE_UNREADABLE'],
    ['120 %', quantity(120, '%'), 'FHIR_VALUE_OUT_OF_RANGE'],
    ['mg', quantity(40, 'mg'), 'FHIR_UNIT_UNKNOWN']
  ]
  for (const [name, value, code] of rows) {
    const ctx = mapped([observation('e', loinc('85329-1'), value)])
    t.equal(ctx.draft.tumor?.erPercent, undefined, name)
    t.ok(codes(ctx).includes(code), `${name}: ${code}`)
    t.match(ctx.gaps['tumor.erPercent'], [/Observation\/e/], name)
  }
  t.equal(mapped([]).draft.tumor?.erPercent, undefined)
})

t.test('ER: the latest across rows; on the same date a % beats a presence result (no same-date conflict)', async (t) => {
  const later = mapped([observation('p', loinc('85329-1'), quantity(50, '%'), '2020-01-01'), observation('c', loinc('40556-3'), NEGATIVE, '2024-01-01')])
  t.equal(later.draft.tumor?.erPercent, 0, 'a newer presence result beats an older %')
  const sameDay = mapped([observation('c', loinc('40556-3'), POSITIVE, '2024-01-01'), observation('p', loinc('85329-1'), quantity(50, '%'), '2024-01-01')])
  t.equal(sameDay.draft.tumor?.erPercent, 50)
  t.same(codes(sameDay), [])
})

t.test('PR: % → prPercent; a category only → absent with a gap', async (t) => {
  const percent = mapped([observation('p', loinc('85325-9'), quantity(10, '%'))])
  t.equal(percent.draft.tumor?.prPercent, 10)
  t.equal(percent.sources['tumor.prPercent']?.label, 'Progesterone-receptor positive tumour cells (%)')
  const category = mapped([observation('p', loinc('40557-1'), POSITIVE, '2026-01-10')])
  t.equal(category.draft.tumor?.prPercent, undefined)
  t.same(category.gaps['tumor.prPercent'], ['PR % not reported: Observation/p (2026-01-10) gives positive, no percentage given'])
  t.notOk(codes(category).includes('FHIR_ER_PERCENT_STAND_IN'))
  t.equal(mapped([observation('p', loinc('14230-7'), quantity(5, '%'))]).draft.tumor?.prPercent, 5)
})

/* --------------------------------------------------------- third-party data */

t.test('MITRE ctm-service.patient_data: her2Ihc 3+ (numeric), ISH amplified, ER stand-in 11 (§12.3)', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = bundleContext(readThirdPartyJson('mcode-thirdparty/ctm-service.patient_data.json'))
  mapMarkers(ctx)
  t.equal(ctx.draft.tumor?.her2Ihc, '3+')
  t.equal(ctx.draft.tumor?.her2IshResult, 'amplified')
  t.equal(ctx.draft.tumor?.erPercent, 11)
  t.equal(ctx.sources['tumor.erPercent']?.standIn, true)
  for (const code of ['FHIR_HER2_NUMERIC_SCORE', 'FHIR_ER_PERCENT_STAND_IN']) t.ok(codes(ctx).includes(code), code)
  t.notOk(codes(ctx).includes('FHIR_HER2_STATUS_WITHOUT_SCORE'))
})

t.test('MITRE ctm-bct.patient_data: HER2 coded "LOINC 34566" is matched by text (§12.3)', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = bundleContext(readThirdPartyJson('mcode-thirdparty/ctm-bct.patient_data.json'))
  mapMarkers(ctx)
  t.equal(ctx.draft.tumor?.her2Ihc, '3+')
  t.ok(codes(ctx).includes('FHIR_MATCHED_BY_TEXT'))
  t.equal(ctx.draft.tumor?.erPercent, undefined, 'no ER in this bundle')
})

t.test('MITRE ctm-app Patient01: HER2 18474-7 negative (SNOMED) → status negative; ER positive → stand-in 11; undated markers (§12.3)', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const ctx = bundleContext(readThirdPartyJson('mcode-thirdparty/ctm-app.TrialMatching_Patient01.json'))
  mapMarkers(ctx)
  t.equal(statusOf(ctx), 'negative')
  t.equal(ctx.draft.tumor?.erPercent, 11)
  t.ok(codes(ctx).includes('FHIR_UNDATED'))
})
