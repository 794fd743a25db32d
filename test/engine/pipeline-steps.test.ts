import t from 'tap'
import { BASE_CASE, caseWith, evaluateOn, IN_SCOPE, itemOf, rule, summary, testKnowledgeBase } from '../fixtures/pipeline-kb.js'
import { knowledgeBase } from '../fixtures/engine.js'
import type { CaseOverrides } from '../fixtures/factories.js'

// Every engine step of revisions 6–7, end to end through the real pipeline with both evaluators,
// on small synthetic knowledge bases (one per step), each with a case that triggers the step and
// one that does not. spec/clinical-rules.md Part 1 "Evaluation passes", "Option composition", the
// `pregnancyRt` and scope rows, and the closing paragraph of "Data gaps".

const PREGNANT: CaseOverrides = { patient: { pregnant: true } }
const avoid = (id: string): Record<string, string> => ({ id, strength: 'avoid' })
const when = (fact: string, value: unknown): Record<string, unknown> => ({ all: [{ fact, operator: 'equal', value }] })

t.test('1. who forbids what: each forbidden option with the codes that forbid it', async (t) => {
  const kb = testKnowledgeBase([
    rule('ci-04', 2, { code: 'CI-04', strength: 'avoid', options: [{ id: 'tdxd' }, { id: 'tdxd_pertuzumab' }] }),
    rule('ci-05', 2, { code: 'CI-05', strength: 'urgent', options: [avoid('tdxd'), { id: 'chemotherapy_without_her2', strength: 'consider' }] }, when('pregnant', true)),
    rule('sys-09', 3, { code: 'SYS-09', options: [{ id: 'tdxd' }, { id: 'clinical_trial', strength: 'consider' }] })
  ])
  const pregnant = await evaluateOn(kb, caseWith(PREGNANT))
  t.strictSame([...pregnant.filtering.forbidden], [
    ['tdxd', ['CI-04', 'CI-05']],
    ['tdxd_pertuzumab', ['CI-04']]
  ], 'an option forbidden by two filters names both, in pipeline order')
  t.strictSame(pregnant.filtering.removed, [{ code: 'SYS-09', rule: 'test/sys-09', option: 'tdxd', forbiddenBy: ['CI-04', 'CI-05'] }])
  t.notOk(pregnant.filtering.forbidden.has('chemotherapy_without_her2'), 'a filter\'s offered alternative is not forbidden')

  const notPregnant = await evaluateOn(kb, BASE_CASE)
  t.strictSame([...notPregnant.filtering.forbidden.keys()], ['tdxd', 'tdxd_pertuzumab'])
  t.strictSame(notPregnant.filtering.forbidden.get('tdxd'), ['CI-04'])
})

t.test('1. the HER2-status filter (code CLS-02) forbids every HER2 option and clinical_trial while HER2 is equivocal or unknown', async (t) => {
  const kb = testKnowledgeBase([
    rule('oli-01', 3, { code: 'OLI-01', strength: 'consider', options: [{ id: 'metastasis_directed_therapy' }, { id: 'clinical_trial' }] }),
    rule('sys-02', 3, { code: 'SYS-02', options: [{ id: 'thp' }, { id: 'chemotherapy_without_her2', strength: 'consider' }] }),
    // Reads the pass-3 facts, which still list what pass 2 forbids.
    rule('sys-13', 3, { code: 'SYS-13', strength: 'consider' }, { all: [{ fact: 'her2TherapyForbidden', operator: 'equal', value: true }, { fact: 'forbiddenOptions', operator: 'contains', value: 'clinical_trial' }] })
  ])
  const equivocal = await evaluateOn(kb, caseWith({ tumor: { her2Ihc: '2+' } }))
  t.strictSame(summary(equivocal), ['OLI-01 consider: metastasis_directed_therapy[consider]', 'SYS-02 consider: chemotherapy_without_her2[consider]', 'SYS-13 consider'],
    'HER2 options and the trial leave every item (SYS-02, left with a C option, is C: red-team L6); the pass-3 facts still list what pass 2 forbids')
  t.strictSame(equivocal.filtering.forbidden.get('clinical_trial'), ['CLS-02'])
  t.strictSame(equivocal.filtering.forbidden.get('thp'), ['CLS-02'])
  t.match(equivocal.filtering.removed, [{ code: 'OLI-01', option: 'clinical_trial', forbiddenBy: ['CLS-02'] }, { code: 'SYS-02', option: 'thp', forbiddenBy: ['CLS-02'] }])

  const unknownMetastatic = await evaluateOn(kb, caseWith({ tumor: { her2Ihc: 'not_done' } }))
  t.strictSame(unknownMetastatic.filtering.forbidden.get('clinical_trial'), ['CLS-02'], 'unknown: forbidden too (out of scope)')

  const positive = await evaluateOn(kb, BASE_CASE)
  t.strictSame(summary(positive), ['SYS-02 recommended: thp[recommended], chemotherapy_without_her2[consider]', 'OLI-01 consider: metastasis_directed_therapy[consider], clinical_trial[consider]'])
  t.equal(positive.filtering.forbidden.size, 0, 'HER2 positive: nothing forbidden')
  const negative = await evaluateOn(kb, caseWith({ tumor: { her2Ihc: '1+' } }))
  t.equal(negative.filtering.forbidden.size, 0, 'HER2 negative: the filter is for equivocal and unknown only (the case is out of scope)')
})

t.test('2. filter exemption: BMA-05 does not filter SUP-01; BMA-06 still does', async (t) => {
  const kb = testKnowledgeBase([
    rule('bma-05', 2, { code: 'BMA-05', domain: 'supportive_care', strength: 'avoid', options: [{ id: 'zoledronic_acid' }, { id: 'denosumab' }], doesNotFilter: ['SUP-01'] },
      { all: [{ fact: 'bmaComplications', operator: 'contains', value: 'onj' }] }),
    rule('bma-06', 2, { code: 'BMA-06', domain: 'supportive_care', strength: 'avoid', options: [{ id: 'zoledronic_acid' }, { id: 'denosumab' }] }, when('pregnant', true)),
    rule('sup-01', 3, { code: 'SUP-01', domain: 'supportive_care', strength: 'urgent', options: [{ id: 'iv_hydration' }, { id: 'zoledronic_acid', strength: 'consider' }, { id: 'denosumab', strength: 'consider' }] }),
    rule('bma-01', 3, { code: 'BMA-01', domain: 'supportive_care', options: [{ id: 'zoledronic_acid' }, { id: 'denosumab' }] })
  ])
  const onj: CaseOverrides = { history: { boneModifyingAgent: { agent: 'zoledronic_acid', complications: ['onj'] } } }
  const withOnj = await evaluateOn(kb, { ...BASE_CASE, ...onj })
  t.strictSame(summary(withOnj), [
    'SUP-01 urgent: iv_hydration[urgent], zoledronic_acid[consider], denosumab[consider]',
    'BMA-05 avoid: zoledronic_acid[avoid], denosumab[avoid]'
  ], 'SUP-01 keeps its antiresorptives beside BMA-05; BMA-01 loses them and is dropped')
  t.notOk(withOnj.filtering.removed.some((removal) => removal.code === 'SUP-01'), 'SUP-01\'s options are never reported forbidden under BMA-05')
  t.strictSame(withOnj.filtering.forbidden.get('zoledronic_acid'), ['BMA-05'], 'BMA-05 still forbids it for every other code')
  t.strictSame(withOnj.filtering.removed.map((removal) => [removal.code, removal.option, removal.forbiddenBy]), [
    ['BMA-01', 'zoledronic_acid', ['BMA-05']], ['BMA-01', 'denosumab', ['BMA-05']]
  ])

  const pregnantWithOnj = await evaluateOn(kb, { ...caseWith(PREGNANT), ...onj })
  t.strictSame(itemOf(pregnantWithOnj, 'SUP-01')?.options?.map((option) => option.id), ['iv_hydration'], 'pregnancy filters stay absolute for SUP-01')
  t.strictSame(pregnantWithOnj.filtering.removed.filter((removal) => removal.code === 'SUP-01').map((removal) => removal.forbiddenBy), [['BMA-06'], ['BMA-06']],
    'only BMA-06 is named: BMA-05 does not filter SUP-01')

  const noFilter = await evaluateOn(kb, BASE_CASE)
  t.strictSame(summary(noFilter), ['SUP-01 urgent: iv_hydration[urgent], zoledronic_acid[consider], denosumab[consider]', 'BMA-01 recommended: zoledronic_acid[recommended], denosumab[recommended]'])
})

t.test('3. step 3b: CI-06b only when a capecitabine option would survive every other filter', async (t) => {
  const capecitabine = [avoid('tucatinib_trastuzumab_capecitabine'), avoid('neratinib_capecitabine'), avoid('lapatinib_capecitabine')]
  const rules = [
    rule('ci-06b', 2, { code: 'CI-06b', strength: 'avoid', options: capecitabine, onlyWhenAvoidedOptionProposed: true }, when('dpydStatus', 'poor')),
    rule('ci-01', 2, { code: 'CI-01', strength: 'avoid', options: [{ id: 'tucatinib_trastuzumab_capecitabine' }, { id: 'tdxd' }, { id: 'cardio_oncology_referral', strength: 'urgent' }] }, when('heartFailureSymptoms', 'nyha_iii')),
    rule('sys-12', 3, { code: 'SYS-12', options: [{ id: 'tucatinib_trastuzumab_capecitabine' }, { id: 'tdxd' }] }),
    // A pass-4 item that reads firedCodes: it sees CI-06b only when 3b kept it.
    rule('fu-07', 4, { code: 'FU-07', domain: 'follow_up', options: [{ id: 'toxicity_review' }] }, { all: [{ fact: 'firedCodes', operator: 'contains', value: 'CI-06b' }] })
  ]
  const kb = testKnowledgeBase(rules)
  const poor = { patient: { dpydStatus: 'poor' } } satisfies CaseOverrides

  const fires = await evaluateOn(kb, caseWith(poor))
  t.strictSame(summary(fires), [
    'CI-06b avoid: tucatinib_trastuzumab_capecitabine[avoid], neratinib_capecitabine[avoid], lapatinib_capecitabine[avoid]',
    'SYS-12 recommended: tdxd[recommended]',
    'FU-07 recommended: toxicity_review[recommended]'
  ], 'proposed and forbidden by no other filter: CI-06b fires and removes it')
  t.strictSame(fires.filtering.forbidden.get('tucatinib_trastuzumab_capecitabine'), ['CI-06b'])

  const otherFilter = await evaluateOn(kb, caseWith({ patient: { ...poor.patient, heartFailureSymptoms: 'nyha_iii' } }))
  t.strictSame(summary(otherFilter).map((line) => line.split(' ')[0]), ['CI-01'], 'CI-01 already removes every proposed capecitabine option: no CI-06b (and SYS-12, emptied, is dropped)')
  t.strictSame(otherFilter.filtering.forbidden.get('tucatinib_trastuzumab_capecitabine'), ['CI-01'], 'a CI-06b that does not fire forbids nothing')
  t.notOk(otherFilter.filtering.forbidden.has('neratinib_capecitabine'))

  const equivocal = await evaluateOn(kb, caseWith({ ...poor, tumor: { her2Ihc: '2+' } }))
  t.notOk(itemOf(equivocal, 'CI-06b'), 'the HER2-status filter is another filter: no CI-06b')

  const notProposed = await evaluateOn(testKnowledgeBase([rules[0] as Record<string, unknown>, rule('sys-09', 3, { code: 'SYS-09', options: [{ id: 'tdxd' }] })]), caseWith(poor))
  t.strictSame(summary(notProposed), ['SYS-09 recommended: tdxd[recommended]'], 'no capecitabine option proposed: no CI-06b')
  t.equal(notProposed.filtering.forbidden.size, 0)

  const proposedAsAvoid = await evaluateOn(testKnowledgeBase([rules[0] as Record<string, unknown>, rule('sys-03', 3, { code: 'SYS-03', options: [avoid('lapatinib_capecitabine'), { id: 'thp' }] })]), caseWith(poor))
  t.notOk(itemOf(proposedAsAvoid, 'CI-06b'), 'proposed only as avoid: no CI-06b')

  const dpydNormal = await evaluateOn(kb, BASE_CASE)
  t.notOk(itemOf(dpydNormal, 'CI-06b'), 'its own conditions still decide first')
  t.ok(itemOf(dpydNormal, 'SYS-12')?.options?.some((option) => option.id === 'tucatinib_trastuzumab_capecitabine'))
})

t.test('3. step 3b reads exemptions: a filter that exempts the proposing code does not stop CI-06b', async (t) => {
  const kb = testKnowledgeBase([
    rule('ci-06b', 2, { code: 'CI-06b', strength: 'avoid', options: [avoid('lapatinib_capecitabine')], onlyWhenAvoidedOptionProposed: true }, when('dpydStatus', 'poor')),
    rule('ci-02', 2, { code: 'CI-02', strength: 'consider', options: [avoid('lapatinib_capecitabine')], doesNotFilter: ['SYS-12'] }),
    rule('sys-12', 3, { code: 'SYS-12', options: [{ id: 'lapatinib_capecitabine' }, { id: 'tdxd' }] })
  ])
  const evaluation = await evaluateOn(kb, caseWith({ patient: { dpydStatus: 'poor' } }))
  t.ok(itemOf(evaluation, 'CI-06b'), 'the option would survive CI-02 in SYS-12, so CI-06b fires')
  t.strictSame(evaluation.filtering.removed.map((removal) => removal.forbiddenBy), [['CI-06b']])
})

t.test('4. steps 3c/3d: forbidden options leave every item; emptied pass-3 items are dropped', async (t) => {
  const kb = testKnowledgeBase([
    rule('ci-01', 2, { code: 'CI-01', strength: 'avoid', options: [{ id: 'tdxd' }, { id: 'cardio_oncology_referral', strength: 'urgent' }, { id: 'endocrine_therapy', strength: 'consider' }] }),
    rule('ci-03', 2, { code: 'CI-03', strength: 'urgent', options: [avoid('thp'), { id: 'endocrine_therapy', strength: 'consider' }] }),
    rule('ci-05', 2, { code: 'CI-05', strength: 'urgent', options: [avoid('endocrine_therapy'), avoid('thp')] }, when('pregnant', true)),
    rule('sys-03', 3, { code: 'SYS-03', options: [{ id: 'tdxd' }, avoid('thp')] }),
    rule('sys-02', 3, { code: 'SYS-02', options: [{ id: 'tdxd' }, { id: 'chemotherapy_without_her2' }] }),
    rule('prim-01', 3, { code: 'PRIM-01', domain: 'local_therapy', strength: 'avoid', options: [{ id: 'upfront_mastectomy' }] }),
    rule('sys-01', 3, { code: 'SYS-01' }),
    rule('fu-07', 4, { code: 'FU-07', domain: 'follow_up', options: [{ id: 'endocrine_therapy' }] }),
    rule('fu-01', 4, { code: 'FU-01', domain: 'follow_up', options: [{ id: 'endocrine_therapy' }, { id: 'restaging_imaging' }] })
  ])
  const pregnant = await evaluateOn(kb, caseWith(PREGNANT))
  t.strictSame(summary(pregnant), [
    'CI-03 urgent: thp[avoid]',
    'CI-05 urgent: endocrine_therapy[avoid], thp[avoid]',
    'PRIM-01 avoid: upfront_mastectomy[avoid]',
    'CI-01 avoid: tdxd[avoid], cardio_oncology_referral[urgent]',
    'SYS-01 recommended',
    'SYS-02 recommended: chemotherapy_without_her2[recommended]',
    'FU-01 recommended: restaging_imaging[recommended]'
  ], [
    'CI-01\'s endocrine_therapy leaves CI-01 under CI-05 (3c: pass-2 alternatives included)',
    'CI-03 lost its only offered alternative and stays with its avoid entry (a filter\'s card is never dropped)',
    'SYS-03 offered T-DXd only and keeps only thp [A]: dropped (3d)',
    'PRIM-01 and SYS-01 never offered anything: they stay',
    'pass 4: FU-07 emptied is dropped, FU-01 keeps its other option'
  ].join('; '))

  const notPregnant = await evaluateOn(kb, BASE_CASE)
  t.strictSame(summary(notPregnant), [
    'CI-03 urgent: thp[avoid], endocrine_therapy[consider]',
    'PRIM-01 avoid: upfront_mastectomy[avoid]',
    'CI-01 avoid: tdxd[avoid], cardio_oncology_referral[urgent], endocrine_therapy[consider]',
    'SYS-01 recommended',
    'SYS-02 recommended: chemotherapy_without_her2[recommended]',
    'FU-01 recommended: endocrine_therapy[recommended], restaging_imaging[recommended]',
    'FU-07 recommended: endocrine_therapy[recommended]'
  ], 'without CI-05 the alternatives stay; CI-01 still removes T-DXd from SYS-02 and drops SYS-03')
})

t.test('5. pregnancyRt: RT options of pass-3 items become C (U stays U) and carry the fetal-dose caveat', async (t) => {
  const { caveat, nearUterusCaveat } = knowledgeBase.contextAdjustments.pregnancyRt
  const kb = testKnowledgeBase([
    rule('loc-12', 3, { code: 'LOC-12', domain: 'local_therapy', options: [{ id: 'ebrt', detail: 'Single 8 Gy.' }] }, { all: [{ fact: 'bonePainNrs', operator: 'greaterThanInclusive', value: 1 }] }, 'bone_lesion'),
    rule('loc-03', 3, { code: 'LOC-03', domain: 'local_therapy', strength: 'urgent', options: [{ id: 'ebrt' }, avoid('sbrt_spine')], allowedOutOfScope: true }, { all: [{ fact: 'lesionPainNrs', operator: 'greaterThanInclusive', value: 1 }] }, 'spine_lesion'),
    rule('oli-01', 3, { code: 'OLI-01', domain: 'local_therapy', strength: 'consider', options: [{ id: 'metastasis_directed_therapy' }, { id: 'palliative_care', strength: 'recommended' }] }, IN_SCOPE),
    rule('loc-06', 3, { code: 'LOC-06', domain: 'local_therapy', options: [{ id: 'ebrt' }, { id: 'spine_surgery_consult' }] }, { all: [{ fact: 'lesionPainNrs', operator: 'greaterThanInclusive', value: 1 }] }, 'spine_lesion'),
    // Not pass 3: untouched.
    rule('fu-04', 4, { code: 'FU-04', domain: 'follow_up', options: [{ id: 'ebrt' }] })
  ])
  const lesions: CaseOverrides['disease'] = {
    spineLesions: [{ level: 'T9', painNrs: 5 }, { level: 'L2', painNrs: 5 }],
    nonSpineBoneLesions: [{ site: 'rib', painNrs: 4 }, { site: 'femur', painNrs: 4 }]
  }
  const pregnant = await evaluateOn(kb, caseWith({ ...PREGNANT, disease: lesions }))
  const rib = itemOf(pregnant, 'LOC-12', 'rib')
  t.strictSame(rib?.options, [{ id: 'ebrt', label: 'Conventional external-beam radiotherapy (EBRT)', strength: 'consider', detail: `Single 8 Gy. ${caveat}` }], 'R → C; the caveat follows the option\'s own detail')
  t.equal(rib?.strength, 'consider', 'and the item follows (red-team L6)')
  t.equal(itemOf(pregnant, 'LOC-12', 'femur')?.options?.[0]?.detail, `Single 8 Gy. ${caveat} ${nearUterusCaveat}`, 'femur: near the uterus')
  const l2 = itemOf(pregnant, 'LOC-03', 'L2')
  t.strictSame(l2?.options, [
    { id: 'ebrt', label: 'Conventional external-beam radiotherapy (EBRT)', detail: `${caveat} ${nearUterusCaveat}` },
    { id: 'sbrt_spine', label: 'Spine stereotactic body radiotherapy (SBRT)', strength: 'avoid' }
  ], 'urgent stays urgent (L1–S5: near-uterus caveat); an avoid entry is not given and gets no caveat')
  t.equal(l2?.strength, 'urgent')
  t.equal(itemOf(pregnant, 'LOC-03', 'T9')?.options?.[0]?.detail, caveat, 'T9: the fetal-dose caveat only')
  t.strictSame(itemOf(pregnant, 'LOC-06', 'T9')?.options?.map((option) => [option.id, option.strength]), [['ebrt', 'consider'], ['spine_surgery_consult', undefined]],
    'a non-RT option is untouched; the item stays R beside it')
  t.equal(itemOf(pregnant, 'LOC-06', 'T9')?.strength, 'recommended')
  t.strictSame(itemOf(pregnant, 'OLI-01')?.options?.[0], { id: 'metastasis_directed_therapy', label: 'Metastasis-directed therapy (SBRT or resection)', detail: caveat }, 'C (from the item) stays C, with the caveat')
  t.strictSame(itemOf(pregnant, 'FU-04')?.options?.[0], { id: 'ebrt', label: 'Conventional external-beam radiotherapy (EBRT)' }, 'a pass-4 item is not adjusted')

  const outOfScope = await evaluateOn(kb, caseWith({ ...PREGNANT, tumor: { her2Ihc: '1+' }, disease: lesions }))
  t.strictSame(summary(outOfScope), ['LOC-03@L2 urgent: ebrt[urgent], sbrt_spine[avoid]', 'LOC-03@T9 urgent: ebrt[urgent], sbrt_spine[avoid]'], 'out of scope: only the emergency item stays')
  t.equal(itemOf(outOfScope, 'LOC-03', 'L2')?.options?.[0]?.detail, `${caveat} ${nearUterusCaveat}`, 'and it carries the caveat (out-of-scope emergency codes)')

  for (const pregnancy of [false, undefined]) {
    const notPregnant = await evaluateOn(kb, caseWith({ patient: { pregnant: pregnancy, ageYears: 60 }, disease: lesions }))
    t.strictSame(itemOf(notPregnant, 'LOC-12', 'femur')?.options, [{ id: 'ebrt', label: 'Conventional external-beam radiotherapy (EBRT)', detail: 'Single 8 Gy.' }], `pregnant ${String(pregnancy)}: no change`)
    t.equal(itemOf(notPregnant, 'LOC-12', 'femur')?.strength, 'recommended')
  }
})

t.test('6. red-team L6: a pass-3 R item whose offered options are all C is C', async (t) => {
  const kb = testKnowledgeBase([
    rule('cns-04', 3, { code: 'CNS-04', domain: 'local_therapy', options: [{ id: 'palliative_care', strength: 'consider' }, { id: 'brain_mri', strength: 'consider' }, avoid('chemotherapy_without_her2')] }),
    rule('sys-05', 3, { code: 'SYS-05', strength: 'consider', options: [{ id: 'tdxd', strength: 'recommended' }] }),
    rule('bma-01', 3, { code: 'BMA-01', domain: 'supportive_care', options: [{ id: 'zoledronic_acid', strength: 'consider' }], strengthNotCappedByOptions: true }),
    rule('loc-01', 3, { code: 'LOC-01', domain: 'local_therapy', strength: 'urgent', options: [{ id: 'spine_surgery_consult', strength: 'consider' }] }),
    rule('ci-02', 2, { code: 'CI-02', strength: 'recommended', options: [{ id: 'cardio_oncology_referral', strength: 'consider' }] }),
    rule('sys-01', 3, { code: 'SYS-01' }),
    rule('sys-14', 3, { code: 'SYS-14', options: [{ id: 'hp_maintenance' }, { id: 'trastuzumab_chemotherapy', strength: 'consider' }] }),
    rule('ci-04', 2, { code: 'CI-04', strength: 'avoid', options: [{ id: 'hp_maintenance' }] }, when('ildHistory', 'current_ild'))
  ])
  const capped = await evaluateOn(kb, caseWith({ patient: { ildHistory: 'current_ild' } }))
  t.strictSame(summary(capped), [
    'LOC-01 urgent: spine_surgery_consult[consider]',
    'CI-04 avoid: hp_maintenance[avoid]',
    'CI-02 recommended: cardio_oncology_referral[consider]',
    'SYS-01 recommended',
    'BMA-01 recommended: zoledronic_acid[consider]',
    'CNS-04 consider: palliative_care[consider], brain_mri[consider], chemotherapy_without_her2[avoid]',
    'SYS-05 consider: tdxd[recommended]',
    'SYS-14 consider: trastuzumab_chemotherapy[consider]'
  ], [
    'CNS-04: all offered C (its avoid entry does not count) → C',
    'SYS-14: C once step 3c took its R option',
    'never raised (SYS-05), U kept (LOC-01), BMA-01 excepted, pass-2 kept (CI-02), no options kept (SYS-01)'
  ].join('; '))
  const uncapped = await evaluateOn(kb, BASE_CASE)
  t.equal(itemOf(uncapped, 'SYS-14')?.strength, 'recommended', 'SYS-14 keeps an R option: stays R')
})

t.test('6. considerUnlessOffered (SYS-12): C when none of the preferred options remains offered after 3c, CI-06b included', async (t) => {
  const kb = testKnowledgeBase([
    rule('ci-06b', 2, { code: 'CI-06b', strength: 'avoid', options: [avoid('tucatinib_trastuzumab_capecitabine'), avoid('neratinib_capecitabine')], onlyWhenAvoidedOptionProposed: true }, when('dpydStatus', 'poor')),
    rule('ci-04', 2, { code: 'CI-04', strength: 'avoid', options: [{ id: 'tdxd' }] }, when('ildHistory', 'current_ild')),
    rule('sys-12', 3, {
      code: 'SYS-12',
      options: [{ id: 'tucatinib_trastuzumab_capecitabine' }, { id: 'tdxd' }, { id: 'clinical_trial' }, { id: 'neratinib_capecitabine', strength: 'consider' }],
      considerUnlessOffered: ['tucatinib_trastuzumab_capecitabine', 'tdxd', 'tdm1']
    })
  ])
  const both = await evaluateOn(kb, caseWith({ patient: { dpydStatus: 'poor', ildHistory: 'current_ild' } }))
  t.strictSame(summary(both).filter((line) => line.startsWith('SYS-12')), ['SYS-12 consider: clinical_trial[recommended]'],
    'TTC removed by CI-06b and T-DXd by CI-04: the item is C; clinical_trial keeps the R it had')
  t.equal(itemOf(both, 'SYS-12')?.options?.[0]?.strength, 'recommended', 'pinned explicitly, not left to follow the item')
  const oneLeft = await evaluateOn(kb, caseWith({ patient: { dpydStatus: 'poor' } }))
  t.equal(itemOf(oneLeft, 'SYS-12')?.strength, 'recommended', 'T-DXd remains: R')
  const none = await evaluateOn(kb, BASE_CASE)
  t.equal(itemOf(none, 'SYS-12')?.strength, 'recommended')
  t.equal(itemOf(none, 'SYS-12')?.options?.[2]?.strength, undefined, 'unchanged items are not rewritten')
})

t.test('7. scope: allowedOutOfScope rules stay out of scope, others are removed and reported; pathway', async (t) => {
  const kb = testKnowledgeBase([
    rule('cls-02', 1, { code: 'CLS-02', domain: 'classification', strength: 'info', allowedOutOfScope: true }, { all: [{ fact: 'ageYears', operator: 'greaterThan', value: 0 }] }),
    rule('loc-01', 3, { code: 'LOC-01', domain: 'local_therapy', strength: 'urgent', options: [{ id: 'spine_mri_urgent' }], allowedOutOfScope: true }, { all: [{ fact: 'ageYears', operator: 'greaterThan', value: 0 }] }),
    rule('fu-07', 4, { code: 'FU-07', domain: 'follow_up', options: [{ id: 'toxicity_review' }] }, { all: [{ fact: 'ageYears', operator: 'greaterThan', value: 0 }] })
  ])
  const negative = await evaluateOn(kb, caseWith({ tumor: { her2Ihc: '1+' } }))
  t.strictSame(negative.body.recommendations.map((item) => item.code), ['LOC-01', 'CLS-02'])
  t.strictSame(negative.violations, ['FU-07: treatment item in an out-of-scope case'])
  t.match(negative.body.scope, { inScope: false, pathway: 'out_of_scope', reason: /HER2-negative/ })
  const notMetastatic = await evaluateOn(kb, caseWith({ disease: { presentation: 'early', metastaticSites: [] } }))
  t.strictSame(notMetastatic.body.recommendations.map((item) => item.code), ['LOC-01', 'CLS-02'])

  const equivocal = await evaluateOn(kb, caseWith({ tumor: { her2Ihc: '2+' } }))
  t.strictSame(equivocal.body.scope, { inScope: true, pathway: 'her2_status_pending', reason: 'HER2 IHC 2+ without a deciding ISH result: resolve HER2 status (ISH) before any HER2-directed therapy.' })
  t.strictSame(equivocal.violations, [], 'in scope every code may speak')
  t.equal(equivocal.body.recommendations.length, 3)
  const positive = await evaluateOn(kb, BASE_CASE)
  t.strictSame(positive.body.scope, { inScope: true, pathway: 'her2_positive_metastatic' })
})

t.test('8. pass-4 facts: offeredSystemicOption counts clinical_trial, offeredCompositionOption does not', async (t) => {
  const kb = testKnowledgeBase([
    rule('oli-01', 3, { code: 'OLI-01', domain: 'local_therapy', strength: 'consider', options: [{ id: 'clinical_trial' }, { id: 'endocrine_therapy', when: when('erStatus', 'positive') }] }),
    rule('fu-01', 4, { code: 'FU-01', domain: 'follow_up', options: [{ id: 'restaging_imaging' }] }, when('offeredSystemicOption', true)),
    rule('ci-05b', 4, { code: 'CI-05b', options: [{ id: 'contraception_counselling' }] }, when('offeredCompositionOption', true))
  ])
  const trialOnly = await evaluateOn(kb, BASE_CASE)
  t.strictSame(trialOnly.body.recommendations.map((item) => item.code), ['FU-01', 'OLI-01'], 'clinical_trial alone: a systemic option, not a composition option')
  const withEndocrine = await evaluateOn(kb, caseWith({ tumor: { erPercent: 80 } }))
  t.strictSame(withEndocrine.body.recommendations.map((item) => item.code), ['CI-05b', 'FU-01', 'OLI-01'])
})

t.test('provenance lists the context adjustments like a ruleset', async (t) => {
  const evaluation = await evaluateOn(testKnowledgeBase([rule('sys-01', 3, { code: 'SYS-01' })]), BASE_CASE)
  const { id, version, digest } = knowledgeBase.contextAdjustments
  t.strictSame(evaluation.body.provenance.rulesets, [{ id: 'test', version: '1.0.0', digest: evaluation.body.provenance.rulesets[0]?.digest }, { id, version, digest }])
  t.match(digest, /^sha256:[0-9a-f]{64}$/)
})
