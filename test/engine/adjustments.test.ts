import t from 'tap'
import { adjustStrength, applyPregnancyRt, preparePregnancyRt } from '../../src/engine/adjustments.js'
import type { Fired } from '../../src/engine/fired.js'
import type { Strength } from '../../src/schemas/common.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'
import { knowledgeBase } from '../fixtures/engine.js'
import { item, option, type Option } from '../fixtures/factories.js'
import { rule, testKnowledgeBase } from '../fixtures/pipeline-kb.js'

// src/engine/adjustments.ts: pregnancyRt (step 3a) and the item strength read from its offered
// options (red-team L6, considerUnlessOffered) — spec/clinical-rules.md Part 1.

/** A spine RT item (LOC-06) of the given strength. */
const rtItem = (strength: Strength, options?: Option[], targets?: string[]): Recommendation =>
  item({ code: 'LOC-06', domain: 'local_therapy', strength, options, targets })

const data = knowledgeBase.contextAdjustments.pregnancyRt
const rt = preparePregnancyRt(data)
const { caveat, nearUterusCaveat } = data

t.test('rules/context-adjustments.json holds the spec\'s lists (Part 1 pregnancyRt row, red-team M8)', async (t) => {
  t.strictSame([...data.options].sort(), ['ebrt', 'metastasis_directed_therapy', 'postoperative_rt', 'reirradiation', 'sbrt_spine', 'srs', 'wbrt_memantine_ha'])
  t.strictSame([...data.nearUterusTargets].sort(), ['L1', 'L2', 'L3', 'L4', 'L5', 'S1', 'S2', 'S3', 'S4', 'S5', 'femur', 'pelvis'])
  t.match(caveat, /fetal-dose estimate and shielding/)
  t.match(caveat, /maternal–fetal medicine/)
  t.match(nearUterusCaveat, /fetal dose is usually unacceptable/)
  t.match(nearUterusCaveat, /surgical decompression or stabilisation, or delivery timing \(third trimester\)/)
})

t.test('pregnancyRt: R → C, C stays C, U stays U; offered RT options get the caveat', async (t) => {
  const input = rtItem('recommended', [
    option('ebrt'), option('sbrt_spine', 'consider', 'SBRT detail.'), option('reirradiation', 'urgent'), option('postoperative_rt', 'avoid'),
    option('spine_surgery_consult')
  ], ['T9'])
  const output = applyPregnancyRt(input, rt)
  t.strictSame(output.options, [
    option('ebrt', 'consider', caveat),
    option('sbrt_spine', 'consider', `SBRT detail. ${caveat}`),
    option('reirradiation', 'urgent', caveat),
    option('postoperative_rt', 'avoid'),
    option('spine_surgery_consult')
  ])
  t.equal(output.strength, 'recommended', 'the item strength is left to the L6 step')
  t.not(output, input, 'a new item')
  t.equal(input.options?.[0]?.strength, undefined, 'the input is not mutated')
  t.equal(output.options?.[4], input.options?.[4], 'a non-RT option is the same object')
})

t.test('pregnancyRt: an option inheriting U or C keeps inheriting; near-uterus targets add the second caveat', async (t) => {
  t.strictSame(applyPregnancyRt(rtItem('urgent', [option('ebrt')], ['L4']), rt).options, [option('ebrt', undefined, `${caveat} ${nearUterusCaveat}`)])
  t.strictSame(applyPregnancyRt(rtItem('consider', [option('metastasis_directed_therapy')]), rt).options, [option('metastasis_directed_therapy', undefined, caveat)])
  for (const target of ['S1', 'pelvis', 'femur']) {
    t.equal(applyPregnancyRt(rtItem('recommended', [option('ebrt')], [target]), rt).options?.[0]?.detail, `${caveat} ${nearUterusCaveat}`, target)
  }
  for (const target of ['T12', 'C5', 'rib', 'humerus', 'brain']) {
    t.equal(applyPregnancyRt(rtItem('recommended', [option('srs')], [target]), rt).options?.[0]?.detail, caveat, target)
  }
  t.equal(applyPregnancyRt(rtItem('urgent', [option('ebrt')], ['T12', 'L1']), rt).options?.[0]?.detail, `${caveat} ${nearUterusCaveat}`, 'any near-uterus target among several')
})

t.test('pregnancyRt: an item without an offered RT option is returned as it is', async (t) => {
  for (const input of [rtItem('recommended'), rtItem('recommended', [option('dexamethasone')]), rtItem('urgent', [option('sbrt_spine', 'avoid')]), rtItem('avoid', [option('ebrt')])]) {
    t.equal(applyPregnancyRt(input, rt), input)
  }
})

const kb = testKnowledgeBase([
  rule('p2', 2, { code: 'CI-02' }),
  rule('p3', 3, { code: 'CNS-04' }),
  rule('p3-not-capped', 3, { code: 'BMA-01', strengthNotCappedByOptions: true }),
  rule('p3-unless', 3, { code: 'SYS-12', considerUnlessOffered: ['tdxd', 'tdm1'] }),
  rule('p4', 4, { code: 'FU-07', domain: 'follow_up' })
])
const fired = (name: string, recommendation: Recommendation): Fired => ({ rule: kb.rulesByName.get(`test/${name}`) as Fired['rule'], item: recommendation })
const strengthAfter = (name: string, recommendation: Recommendation): Strength => adjustStrength(fired(name, recommendation)).item.strength

t.test('red-team L6: a pass-3 R item whose offered options are all C is C', async (t) => {
  t.equal(strengthAfter('p3', rtItem('recommended', [option('srs', 'consider'), option('wbrt_memantine_ha', 'consider'), option('ebrt', 'avoid')])), 'consider', 'all offered C (avoid entries do not count)')
  t.equal(strengthAfter('p3', rtItem('recommended', [option('srs', 'consider'), option('palliative_care')])), 'recommended', 'one option inherits R')
  t.equal(strengthAfter('p3', rtItem('recommended', [option('srs', 'consider'), option('palliative_care', 'urgent')])), 'recommended', 'one U option')
  t.equal(strengthAfter('p3', rtItem('recommended')), 'recommended', 'no options: not capped')
  t.equal(strengthAfter('p3', rtItem('recommended', [option('ebrt', 'avoid')])), 'recommended', 'only avoid entries: not capped')
  t.equal(strengthAfter('p3', rtItem('consider', [option('tdxd', 'recommended')])), 'consider', 'never raised')
  t.equal(strengthAfter('p3', rtItem('urgent', [option('srs', 'consider')])), 'urgent', 'U kept')
  t.equal(strengthAfter('p3', rtItem('avoid', [option('srs', 'consider')])), 'avoid', 'A kept')
  t.equal(strengthAfter('p3-not-capped', rtItem('recommended', [option('zoledronic_acid', 'consider')])), 'recommended', 'strengthNotCappedByOptions (BMA-01)')
  t.equal(strengthAfter('p2', rtItem('recommended', [option('cardio_oncology_referral', 'consider')])), 'recommended', 'pass-2 filter items keep theirs')
  t.equal(strengthAfter('p4', rtItem('recommended', [option('palliative_care', 'consider')])), 'recommended', 'pass-4 items keep theirs')
  const unchanged = fired('p3', rtItem('recommended', [option('srs')]))
  t.equal(adjustStrength(unchanged), unchanged, 'an unchanged entry is the same object')
})

t.test('considerUnlessOffered: C when none of the ids is offered by the item; options keep the strength they had', async (t) => {
  const withoutPreferred = adjustStrength(fired('p3-unless', rtItem('recommended', [option('clinical_trial'), option('neratinib_capecitabine', 'consider'), option('tdxd', 'avoid')]))).item
  t.equal(withoutPreferred.strength, 'consider')
  t.strictSame(withoutPreferred.options, [option('clinical_trial', 'recommended'), option('neratinib_capecitabine', 'consider'), option('tdxd', 'avoid')],
    'the option that followed the item keeps R, written out')
  t.equal(strengthAfter('p3-unless', rtItem('recommended', [option('tdm1', 'consider')])), 'consider', 'a C preferred option still counts as offered (then L6 applies: all C)')
  t.equal(strengthAfter('p3-unless', rtItem('recommended', [option('tdm1'), option('clinical_trial')])), 'recommended', 'tdm1 offered: R')
  t.equal(strengthAfter('p3-unless', rtItem('urgent', [option('clinical_trial')])), 'consider', 'U lowered too')
  t.equal(strengthAfter('p3-unless', rtItem('avoid', [option('clinical_trial')])), 'avoid', 'A kept')
  t.equal(strengthAfter('p3-unless', rtItem('recommended')), 'consider', 'no option at all: none of them offered')
})
