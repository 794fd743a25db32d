import t from 'tap'
import { mapConditions } from '../../src/fhir/sections/conditions.js'
import {
  boneMet, codes, coded, condition, ICD10, ICD10CM, lateral, primary, run, SCT, text
} from '../support/fhir-disease-builders.js'

const conditionsOnly = [mapConditions]
const sitesOf = (ctx: ReturnType<typeof run>): unknown => ctx.draft.disease?.metastaticSites

/* ------------------------------------------------------------------ primary */

t.test('§6.3 primary breast cancer: each SNOMED code, ICD-10-CM and ICD-10 C50*, and the text rule', async (t) => {
  const cases: Array<[string, ReturnType<typeof coded>]> = [
    ['SNOMED 254837009', coded(SCT, '254837009')],
    ['SNOMED 372137005', coded(SCT, '372137005')],
    ['SNOMED 408643008', coded(SCT, '408643008')],
    ['ICD-10-CM C50.911', coded(ICD10CM, 'C50.911')],
    ['ICD-10 C50.9', coded(ICD10, 'C50.9')],
    ['ICD-10 without its dot C509', coded(ICD10, 'C509')]
  ]
  for (const [name, code] of cases) {
    const ctx = run([condition('p', code, { onset: '2024-01-10' })], conditionsOnly)
    t.same(ctx.state.primaryConditions.map((resource) => resource.id), ['p'], name)
    t.equal(ctx.state.primaryDate, '2024-01-10', name)
    t.same(sitesOf(ctx), [], `${name}: not a metastatic site`)
    t.notOk(codes(ctx).includes('FHIR_MATCHED_BY_TEXT'), `${name}: by code`)
  }
  const byText = run([condition('p', text('Invasive ductal carcinoma of left breast'), { onset: '2024-01-10' })], conditionsOnly)
  t.equal(byText.state.primaryConditions.length, 1, 'breast + carcinoma')
  t.ok(codes(byText).includes('FHIR_MATCHED_BY_TEXT'))
  for (const words of ['Metastatic breast cancer', 'Breast cancer, secondary', 'Breast cyst']) {
    t.equal(run([condition('p', text(words))], conditionsOnly).state.primaryConditions.length, 0, `"${words}" is not the primary`)
  }
})

t.test('§6.3 the primary\'s date is the earliest among the primaries (onset, onsetPeriod, recordedDate)', async (t) => {
  const ctx = run([
    condition('a', coded(SCT, '254837009'), { onset: '2024-03-01' }),
    { ...condition('b', coded(SCT, '372137005')), onsetPeriod: { start: '2024-02-01' } },
    condition('c', coded(SCT, '408643008'), { recorded: '2024-01-15' }),
    condition('d', coded(SCT, '254837009'))
  ], conditionsOnly)
  t.equal(ctx.state.primaryDate, '2024-01-15')
  t.equal(ctx.state.primaryConditions.length, 4)
})

t.test('§6.1 rule 3: an unconfirmed primary is a warning and a gap on the field it feeds; refuted is dropped silently', async (t) => {
  const ctx = run([
    condition('u', coded(SCT, '254837009'), { verification: 'provisional' }),
    condition('r', coded(SCT, '254837009'), { verification: 'refuted' }),
    condition('e', coded(SCT, '254837009'), { verification: 'entered-in-error' })
  ], conditionsOnly)
  t.equal(ctx.state.primaryConditions.length, 0)
  t.same(codes(ctx), ['FHIR_UNCONFIRMED_CONDITION'])
  t.same(ctx.gaps['disease.presentation'], ['Condition/u: provisional diagnosis, not used'])
})

t.test('§6.1 rule 3: an unconfirmed secondary gaps metastaticSites (and the lesion field of a bone site)', async (t) => {
  const ctx = run([
    condition('liver', coded(SCT, '94381002'), { verification: 'unconfirmed' }),
    condition('bone', coded(SCT, '94222008'), { verification: 'differential', bodySite: [text('T7')] }),
    condition('femur', coded(SCT, '94222008'), { verification: 'unconfirmed', bodySite: [text('Left femur')] }),
    condition('dm', coded(SCT, '44054006', 'Diabetes mellitus type 2'), { verification: 'unconfirmed' })
  ], conditionsOnly)
  t.same(sitesOf(ctx), [])
  t.same(ctx.gaps['disease.metastaticSites'], [
    'Condition/liver: unconfirmed diagnosis, not used',
    'Condition/bone: differential diagnosis, not used',
    'Condition/femur: unconfirmed diagnosis, not used'
  ])
  t.same(ctx.gaps['disease.spineLesions'], ['Condition/bone: differential diagnosis, not used'])
  t.same(ctx.gaps['disease.nonSpineBoneLesions'], ['Condition/femur: unconfirmed diagnosis, not used'])
  t.equal(codes(ctx).filter((code) => code === 'FHIR_UNCONFIRMED_CONDITION').length, 3, 'an unrelated unconfirmed Condition is left alone')
})

t.test('§6.1 rule 4: a Condition dated after evaluationDate is ignored', async (t) => {
  const ctx = run([primary('p', 'left', '2026-07-01'), boneMet('b', 'L5', '2026-06-02')], conditionsOnly)
  t.equal(ctx.state.primaryConditions.length, 0)
  t.same(sitesOf(ctx), [])
  t.same(codes(ctx), ['FHIR_FUTURE_DATED', 'FHIR_FUTURE_DATED'])
  t.match(ctx.warnings.map((warning) => warning.message), [/Condition\/p/, /Condition\/b/])
  t.same(sitesOf(run([boneMet('b', 'L5', '2026-06-01')], conditionsOnly)), ['bone'], 'on evaluationDate itself: used')
})

t.test('§6.1 rule 4: a partial onset date counts as its first day (FHIR_PARTIAL_DATE)', async (t) => {
  const ctx = run([boneMet('b', 'L5', '2025-03')], conditionsOnly)
  t.equal(ctx.draft.disease?.metastaticDiagnosisDate, '2025-03-01')
  t.ok(codes(ctx).includes('FHIR_PARTIAL_DATE'))
})

/* ------------------------------------------------------------------ sites */

const SITE_ROWS: Array<[string, string[], string[], string[]]> = [
  // site, SNOMED, ICD-10(-CM), text
  ['bone', ['94222008'], ['C79.5', 'C79.51', 'C79.52'], ['Metastasis to bone', 'Secondary osseous deposits', 'Skeletal metastases', 'Metastasis to vertebra', 'Spine metastasis', 'Spinal metastatic disease']],
  ['brain', ['94225005'], ['C79.31'], ['Metastasis to brain', 'Cerebral metastases', 'Cerebellar metastasis']],
  ['leptomeningeal', [], ['C79.32'], ['Leptomeningeal metastases', 'Secondary malignant neoplasm of cerebral meninges']],
  ['liver', ['94381002'], ['C78.7'], ['Metastasis to liver', 'Hepatic metastases']],
  ['lung', ['94391008'], ['C78.0', 'C78.00', 'C78.01', 'C78.02'], ['Metastasis to lung', 'Pulmonary metastases']],
  ['pleura', [], ['C78.2'], ['Pleural metastases']],
  ['skin_soft_tissue', [], ['C79.2'], ['Metastasis to skin', 'Cutaneous metastases', 'Soft tissue metastasis']],
  ['other', [], ['C78.6', 'C78.4', 'C79.0', 'C79.81', 'C7B.00', 'C79.9'], ['Metastatic disease', 'Secondary malignant neoplasm']]
]

t.test('§6.3 metastatic sites: every row by SNOMED, by ICD-10 and ICD-10-CM, and by text', async (t) => {
  for (const [site, snomed, icd, words] of SITE_ROWS) {
    for (const code of snomed) {
      const ctx = run([condition('m', coded(SCT, code))], conditionsOnly)
      t.same(sitesOf(ctx), [site], `SNOMED ${code} → ${site}`)
      t.same(ctx.state.metastaticConditions.map((resource) => resource.id), ['m'])
    }
    for (const code of icd) {
      for (const system of [ICD10, ICD10CM]) t.same(sitesOf(run([condition('m', coded(system, code))], conditionsOnly)), [site], `${system} ${code} → ${site}`)
    }
    for (const phrase of words) {
      const ctx = run([condition('m', text(phrase))], conditionsOnly)
      t.same(sitesOf(ctx), [site], `"${phrase}" → ${site}`)
      t.same(codes(ctx), site === 'bone' ? ['FHIR_MATCHED_BY_TEXT', 'FHIR_LESION_SITE_UNKNOWN'] : ['FHIR_MATCHED_BY_TEXT'])
    }
  }
})

t.test('§6.3 text: a site word counts only on a secondary (no "Fatty liver" metastasis, no "Osteoarthritis of spine")', async (t) => {
  for (const words of ['Fatty liver', 'Osteoarthritis of spine', 'Chronic obstructive lung disease', 'Lymph node enlargement']) {
    const ctx = run([condition('c', text(words))], conditionsOnly)
    t.same(sitesOf(ctx), [], words)
    t.same(ctx.warnings, [])
  }
})

t.test('§6.9 metastaticSites is always set, unique and in the enum order of the schema, with its source', async (t) => {
  const none = run([], conditionsOnly)
  t.same(sitesOf(none), [])
  t.same(none.sources['disease.metastaticSites'], { label: 'Sites of distant metastasis', display: 'no distant metastasis recorded', refs: [] })
  const ctx = run([
    condition('skin', coded(ICD10CM, 'C79.2'), { onset: '2025-05-01' }),
    condition('liver', coded(SCT, '94381002'), { onset: '2025-03-01' }),
    boneMet('b1', 'T7', '2025-02-01'),
    boneMet('b2', 'L1', '2025-04-01'),
    condition('brain', coded(ICD10CM, 'C79.31'))
  ], conditionsOnly)
  t.same(sitesOf(ctx), ['bone', 'liver', 'brain', 'skin_soft_tissue'])
  t.same(ctx.sources['disease.metastaticSites'], {
    label: 'Sites of distant metastasis',
    display: 'bone (2025-02-01), liver (2025-03-01), brain, skin/soft tissue (2025-05-01)',
    refs: ['Condition/b1', 'Condition/b2', 'Condition/liver', 'Condition/brain', 'Condition/skin'],
    date: '2025-02-01'
  })
  t.same(ctx.state.siteConditions?.bone, ['Condition/b1', 'Condition/b2'])
})

t.test('§6.1 rule 6: the code wins over a display naming another concept (FHIR_CODE_DISPLAY_CONFLICT)', async (t) => {
  const ctx = run([condition('m', { coding: [{ system: SCT, code: '94222008' }], text: 'Secondary malignant neoplasm of liver' })], conditionsOnly)
  t.same(sitesOf(ctx), ['bone'])
  t.same(codes(ctx), ['FHIR_CODE_DISPLAY_CONFLICT', 'FHIR_LESION_SITE_UNKNOWN'])
})

t.test('§6.3 generic secondary: 128462008 and site-less ICD codes take the site from bodySite', async (t) => {
  const liver = run([condition('g', coded(SCT, '128462008', 'Secondary malignant neoplastic disease'), { bodySite: [text('Liver structure')] })], conditionsOnly)
  t.same(sitesOf(liver), ['liver'])
  t.same(liver.warnings, [], 'no display conflict, no text warning for a bodySite')
  const byCode = run([condition('g', coded(SCT, '128462008'), { bodySite: [coded(SCT, '94391008')] })], conditionsOnly)
  t.same(sitesOf(byCode), ['lung'], 'a bodySite carrying a code of §6.3')
  const icdNodes = run([condition('g', coded(ICD10CM, 'C79.9'), { bodySite: [coded(ICD10CM, 'C77.2')] })], conditionsOnly)
  t.same(sitesOf(icdNodes), ['distant_nodes'], 'a C77.2 code in bodySite: nodes, and the code settles the group')
  const c77Site = run([primary('p', 'left'), condition('g', coded(SCT, '128462008'), { bodySite: [coded(ICD10CM, 'C77.3')] })], conditionsOnly)
  t.same(codes(c77Site), ['FHIR_NODE_LATERALITY_UNKNOWN'], 'a C77.3 bodySite: axillary, side unknown')
  for (const code of ['C79.8', 'C79.89', 'C79.9']) {
    t.same(sitesOf(run([condition('g', coded(ICD10CM, code), { bodySite: [text('Pleura')] })], conditionsOnly)), ['pleura'], code)
  }
  const byText = run([condition('g', text('Metastatic carcinoma'), { bodySite: [text('Right lung')] })], conditionsOnly)
  t.same(sitesOf(byText), ['lung'], 'a secondary recognised by text without a site word takes the site from bodySite')
  const several = run([condition('g', coded(SCT, '128462008'), { bodySite: [text('Liver'), text('L5 vertebra')] })], conditionsOnly)
  t.same(sitesOf(several), ['bone', 'liver'], 'each bodySite gives its site')
  t.same(several.draft.disease?.spineLesions, [{ level: 'L5' }])
})

t.test('§6.3 generic secondary: an unrecognised bodySite gives other (FHIR_SITE_UNRECOGNISED); no bodySite gives other silently', async (t) => {
  const unknown = run([condition('g', coded(SCT, '128462008'), { bodySite: [coded(SCT, '12738006')] })], conditionsOnly)
  t.same(sitesOf(unknown), ['other'])
  t.same(codes(unknown), ['FHIR_SITE_UNRECOGNISED'])
  const none = run([condition('g', coded(SCT, '128462008'))], conditionsOnly)
  t.same(sitesOf(none), ['other'])
  t.same(none.warnings, [])
  // As written: the bone text column has no lesion-site words, so a femur bodySite is not recognised (see report).
  const femur = run([condition('g', coded(SCT, '128462008'), { bodySite: [text('Right femur')] })], conditionsOnly)
  t.same(sitesOf(femur), ['other'])
  t.same(codes(femur), ['FHIR_SITE_UNRECOGNISED'])
  const coded78 = run([condition('g', coded(ICD10CM, 'C78.6'), { bodySite: [text('Peritoneum')] })], conditionsOnly)
  t.same(sitesOf(coded78), ['other'])
  t.same(coded78.warnings, [], 'a secondary code with its own site does not read bodySite')
})

t.test('§12.4 B #11: 128462008 with bodySite text "L5 vertebra" is the bone lesion L5', async (t) => {
  const ctx = run([
    primary('p', 'left', '2025-01-10'),
    condition('g', coded(SCT, '128462008', 'Secondary malignant neoplastic disease'), { bodySite: [text('L5 vertebra')], onset: '2025-01-20' })
  ], conditionsOnly)
  t.same(sitesOf(ctx), ['bone'])
  t.same(ctx.draft.disease?.spineLesions, [{ level: 'L5' }])
  t.same(ctx.sources['disease.spineLesions[0].level'], { label: 'Vertebral level of the lesion', display: 'L5 (2025-01-20)', refs: ['Condition/g'], date: '2025-01-20' })
  t.same(ctx.state.lesionsByCondition.get('Condition/g'), [{ kind: 'spine', index: 0 }])
  t.same(ctx.warnings, [])
})

/* ------------------------------------------------------------------ nodes */

const axillary = (id: string, side?: 'left' | 'right'): ReturnType<typeof condition> =>
  condition(id, coded(SCT, '94181007', 'Secondary malignant neoplasm of axillary lymph nodes'), {
    bodySite: [side === undefined ? coded(SCT, '68171009', 'Axillary lymph node structure') : lateral(coded(SCT, '68171009', 'Axillary lymph node structure'), side)]
  })

t.test('§12.4 B #10 [D] axillary nodes: same side regional, unknown side a gap, opposite side distant_nodes', async (t) => {
  const same = run([primary('p', 'left'), axillary('n', 'left')], conditionsOnly)
  t.same(sitesOf(same), [], 'same side: regional, not a metastatic site')
  t.same(same.warnings, [])
  t.same(same.state.metastaticConditions, [])

  const unknown = run([primary('p', 'left'), axillary('n')], conditionsOnly)
  t.same(sitesOf(unknown), [])
  t.same(codes(unknown), ['FHIR_NODE_LATERALITY_UNKNOWN'])
  t.same(unknown.gaps['disease.metastaticSites'], ['Condition/n: regional lymph-node metastasis whose side relative to the primary is unknown; not counted as a distant site.'])

  const opposite = run([primary('p', 'left'), axillary('n', 'right')], conditionsOnly)
  t.same(sitesOf(opposite), ['distant_nodes'])
  t.same(opposite.state.metastaticConditions.map((resource) => resource.id), ['n'])

  const primaryUnknown = run([primary('p', undefined), axillary('n', 'right')], conditionsOnly)
  t.same(sitesOf(primaryUnknown), [], 'the primary\'s side unknown: not counted')
  t.same(codes(primaryUnknown), ['FHIR_NODE_LATERALITY_UNKNOWN'])
})

t.test('§6.3 side: the laterality qualifier codes (24028007 right, 7771000 left) and the words left/right', async (t) => {
  t.equal(run([primary('p', 'right')], conditionsOnly).state.primarySide, 'right')
  t.equal(run([primary('p', 'left')], conditionsOnly).state.primarySide, 'left')
  const words = run([
    condition('p', coded(SCT, '254837009'), { bodySite: [coded(SCT, '80248007', 'Left breast structure')] }),
    condition('n', coded(ICD10CM, 'C77.3'), { bodySite: [text('Right axilla')] })
  ], conditionsOnly)
  t.equal(words.state.primarySide, 'left')
  t.same(sitesOf(words), ['distant_nodes'])
  const both = run([condition('p', coded(SCT, '254837009'), { bodySite: [text('Left and right breast')] })], conditionsOnly)
  t.equal(both.state.primarySide, undefined, 'both words: no side')
  const bilateral = run([primary('p1', 'left'), primary('p2', 'right'), axillary('n', 'left')], conditionsOnly)
  t.equal(bilateral.state.primarySide, undefined, 'two primaries of different sides')
  t.same(codes(bilateral), ['FHIR_NODE_LATERALITY_UNKNOWN'])
  const otherExtension = run([condition('p', coded(SCT, '254837009'), { bodySite: [{ ...coded(SCT, '76752008'), extension: [{ url: 'http://example.org/other', valueCodeableConcept: coded(SCT, '24028007') }, { url: 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier', valueCodeableConcept: coded(ICD10, '24028007') }] }] })], conditionsOnly)
  t.equal(otherExtension.state.primarySide, undefined, 'another extension, or another system, gives no side')
})

t.test('§6.3 the primary\'s side from ICD-10-CM, as the spec writes it: C50.x1x right, C50.x2x left (see report: ICD-10-CM puts the side in the 6th character)', async (t) => {
  t.equal(run([condition('p', coded(ICD10CM, 'C50.411'))], conditionsOnly).state.primarySide, 'right')
  t.equal(run([condition('p', coded(ICD10CM, 'C50.412'))], conditionsOnly).state.primarySide, 'right', 'pinned as written: the 5th character decides')
  t.equal(run([condition('p', coded(ICD10CM, 'C50.421'))], conditionsOnly).state.primarySide, 'left', 'pinned as written')
  t.equal(run([condition('p', coded(ICD10CM, 'C50.9'))], conditionsOnly).state.primarySide, undefined)
  t.equal(run([condition('p', coded(ICD10, 'C50.411'))], conditionsOnly).state.primarySide, undefined, 'ICD-10 (WHO) has no side')
  t.equal(run([condition('p', { coding: [{ system: SCT, code: '254837009' }, { system: ICD10CM, code: 'D05.10' }] })], conditionsOnly).state.primarySide, undefined)
  t.equal(run([condition('p', coded(ICD10CM, 'C50.411'), { bodySite: [text('Left breast')] })], conditionsOnly).state.primarySide, 'left', 'bodySite first')
})

t.test('§6.3 node groups [D]: C77.3 and "axilla" regional; C77.2, C77.4, C77.5 distant; C77.0/1/8/9 by bodySite', async (t) => {
  const left = primary('p', 'left')
  const sites = (node: ReturnType<typeof condition>): unknown => sitesOf(run([left, node], conditionsOnly))
  t.same(sites(condition('n', coded(ICD10CM, 'C77.3'), { bodySite: [text('Left axilla')] })), [], 'C77.3 same side')
  t.same(sites(condition('n', coded(ICD10, 'C77.3'), { bodySite: [text('Right axilla')] })), ['distant_nodes'], 'C77.3 opposite side')
  for (const code of ['C77.2', 'C77.4', 'C77.5']) {
    t.same(sites(condition('n', coded(ICD10CM, code))), ['distant_nodes'], `${code}: always distant`)
    t.same(sites(condition('n', coded(ICD10CM, code), { bodySite: [text('Left supraclavicular lymph node')] })), ['distant_nodes'], `${code}: the code settles the group`)
  }
  for (const code of ['C77.0', 'C77.1', 'C77.8', 'C77.9']) {
    const ctx = run([left, condition('n', coded(ICD10CM, code, 'Secondary malignant neoplasm of lymph nodes of head, face and neck'))], conditionsOnly)
    t.same(sitesOf(ctx), [], `${code} without bodySite: not counted`)
    t.same(codes(ctx), ['FHIR_NODE_LATERALITY_UNKNOWN'])
    t.match(ctx.gaps['disease.metastaticSites'], [/node group is not stated/])
  }
  t.same(sites(condition('n', coded(ICD10CM, 'C77.0'), { bodySite: [text('Left supraclavicular lymph node')] })), [], 'supraclavicular same side: regional')
  t.same(sites(condition('n', coded(ICD10CM, 'C77.0'), { bodySite: [text('Right supraclavicular lymph node')] })), ['distant_nodes'])
  t.same(sites(condition('n', coded(ICD10CM, 'C77.0'), { bodySite: [text('Left cervical lymph node')] })), ['distant_nodes'], 'other cervical: distant whatever the side')
  t.same(sites(condition('n', coded(ICD10CM, 'C77.1'), { bodySite: [text('Left internal mammary lymph node')] })), [], 'internal mammary same side')
  t.same(sites(condition('n', coded(ICD10CM, 'C77.1'), { bodySite: [text('Mediastinal lymph node')] })), ['distant_nodes'])
  t.same(sites(condition('n', coded(ICD10CM, 'C77.9'), { bodySite: [text('Right infraclavicular lymph node')] })), ['distant_nodes'])
  t.same(sites(condition('n', coded(ICD10CM, 'C77.8'), { bodySite: [text('Intra-abdominal lymph nodes')] })), ['distant_nodes'])
  t.same(sites(condition('n', coded(ICD10CM, 'C77.9'), { bodySite: [text('Inguinal lymph node')] })), ['distant_nodes'])
  t.same(sites(condition('n', coded(ICD10CM, 'C77.9'), { bodySite: [text('Pelvic lymph node')] })), ['distant_nodes'])
  t.same(sites(condition('n', text('Metastasis to mediastinal lymph nodes'))), ['distant_nodes'], 'text: group from the Condition\'s words')
  t.same(sites(condition('n', text('Metastasis to lymph node'), { bodySite: [text('Left axilla')] })), [], 'text + bodySite')
  t.same(sites(condition('n', text('Nodal metastasis'))), [], 'text without a group: not counted')
  t.same(sites(condition('n', coded(SCT, '128462008'), { bodySite: [lateral(text('Axillary lymph node'), 'right')] })), ['distant_nodes'], 'generic secondary, nodes by bodySite')
})

/* ------------------------------------------------------------------ lesions */

t.test('§6.3 / §6.8a spine level parser: T7, t7, T 7, T-7, Th7, "thoracic vertebra 7", "lumbar vertebrae 5"', async (t) => {
  const variants: Array<[string, string]> = [
    ['T7', 'T7'], ['t7', 'T7'], ['T 7', 'T7'], ['T-7', 'T7'], ['Th7', 'T7'], ['thoracic vertebra 7', 'T7'],
    ['Lumbar vertebrae 5', 'L5'], ['C1', 'C1'], ['C7', 'C7'], ['T12', 'T12'], ['L1', 'L1'], ['S5', 'S5'], ['Bone structure of L05', 'L5'],
    ['Cervical vertebra 2', 'C2'], ['sacral vertebra 1', 'S1']
  ]
  for (const [words, level] of variants) {
    t.same(run([boneMet('b', words)], conditionsOnly).draft.disease?.spineLesions, [{ level }], `"${words}" → ${level}`)
  }
})

t.test('§6.3 levels outside C1–C7, T1–T12, L1–L5, S1–S5 are no level', async (t) => {
  for (const words of ['C8 vertebra', 'T13 vertebra', 'L6 vertebra', 'S6 vertebra', 'C0 vertebra']) {
    const ctx = run([boneMet('b', words)], conditionsOnly)
    t.equal(ctx.draft.disease?.spineLesions, undefined, words)
    t.same(codes(ctx), ['FHIR_SPINE_LEVEL_UNKNOWN'], `${words}: a vertebra without a valid level`)
  }
})

t.test('§6.3 one spine lesion per distinct level; the same level from several Conditions is one lesion with all refs', async (t) => {
  const ctx = run([
    boneMet('a', 'T7', '2025-02-01'),
    boneMet('b', 'T7 vertebra', '2025-01-15'),
    boneMet('c', 'T7-T9'),
    condition('d', coded(SCT, '94222008'), { bodySite: [text('L2'), text('Left femur')] })
  ], conditionsOnly)
  t.same(ctx.draft.disease?.spineLesions, [{ level: 'T7' }, { level: 'T9' }, { level: 'L2' }])
  t.same(ctx.draft.disease?.nonSpineBoneLesions, [{ site: 'femur' }])
  t.same(ctx.sources['disease.spineLesions[0].level'], { label: 'Vertebral level of the lesion', display: 'T7 (2025-01-15)', refs: ['Condition/a', 'Condition/b', 'Condition/c'], date: '2025-01-15' })
  t.same(ctx.sources['disease.spineLesions[1].level'], { label: 'Vertebral level of the lesion', display: 'T9', refs: ['Condition/c'] })
  t.same(ctx.state.lesionsByCondition.get('Condition/c'), [{ kind: 'spine', index: 0 }, { kind: 'spine', index: 1 }])
  t.same(ctx.state.lesionsByCondition.get('Condition/d'), [{ kind: 'spine', index: 2 }, { kind: 'nonSpine', index: 0 }])
  t.same(sitesOf(ctx), ['bone'])
})

t.test('§12.4 B #9: a vertebral region without a level (122496007 lumbar column) makes no lesion; bone is still a site', async (t) => {
  const ctx = run([
    condition('b', coded(SCT, '94222008'), { bodySite: [coded(SCT, '122496007', 'Structure of lumbar vertebral column')] })
  ], conditionsOnly)
  t.equal(ctx.draft.disease?.spineLesions, undefined)
  t.same(sitesOf(ctx), ['bone'])
  t.same(codes(ctx), ['FHIR_SPINE_LEVEL_UNKNOWN'])
  t.same(ctx.gaps['disease.spineLesions'], ['Condition/b: bone metastasis in the lumbar spine without a vertebral level; no spine lesion recorded.'])
  const codeOnly = run([condition('b', coded(SCT, '94222008'), { bodySite: [coded(SCT, '122496007')] })], conditionsOnly)
  t.match(codeOnly.gaps['disease.spineLesions'], [/in the lumbar spine/], 'the code alone says lumbar')
})

t.test('§6.3 the other vertebral-region codes [U] and region words make no lesion either', async (t) => {
  for (const code of ['421060004', '35769007', '73903008', '87141009', '122494005']) {
    const ctx = run([condition('b', coded(SCT, '94222008'), { bodySite: [coded(SCT, code)] })], conditionsOnly)
    t.equal(ctx.draft.disease?.spineLesions, undefined, code)
    t.match(ctx.gaps['disease.spineLesions'], [/in the spine without a vertebral level/], `${code}: region not stated`)
  }
  const words = run([boneMet('b', 'Thoracic spine')], conditionsOnly)
  t.match(words.gaps['disease.spineLesions'], [/in the thoracic spine/])
  t.match(run([boneMet('b', 'Sacrum')], conditionsOnly).gaps['disease.spineLesions'], [/in the sacral spine/])
})

t.test('§6.3 non-spine bone sites by text: femur, humerus, pelvis, rib, sternum, skull, else other', async (t) => {
  const sites: Array<[string, string]> = [
    ['Left femur', 'femur'], ['Right humerus', 'humerus'],
    ['Pelvis', 'pelvis'], ['Ilium', 'pelvis'], ['Iliac crest', 'pelvis'], ['Right acetabulum', 'pelvis'], ['Ischium', 'pelvis'], ['Pubic ramus', 'pelvis'], ['Sacroiliac joint', 'pelvis'],
    ['Left 5th rib', 'rib'], ['Ribs', 'rib'], ['Sternum', 'sternum'],
    ['Skull', 'skull'], ['Cranial vault', 'skull'], ['Calvarium', 'skull'],
    ['Scapula', 'other'], ['Distribution unknown', 'other']
  ]
  for (const [words, site] of sites) {
    const ctx = run([boneMet('b', words)], conditionsOnly)
    t.same(ctx.draft.disease?.nonSpineBoneLesions, [{ site }], `"${words}" → ${site}`)
    t.same(ctx.sources['disease.nonSpineBoneLesions[0].site'], { label: 'Skeletal site of the lesion', display: site, refs: ['Condition/b'] })
  }
})

t.test('§6.3 non-spine lesions: the same bodySite words are one lesion, left and right femur are two', async (t) => {
  const ctx = run([boneMet('a', 'Left femur', '2025-01-01'), boneMet('b', 'left femur'), boneMet('c', 'Right femur')], conditionsOnly)
  t.same(ctx.draft.disease?.nonSpineBoneLesions, [{ site: 'femur' }, { site: 'femur' }])
  t.same(ctx.sources['disease.nonSpineBoneLesions[0].site']?.refs, ['Condition/a', 'Condition/b'])
  t.same(ctx.state.lesionsByCondition.get('Condition/c'), [{ kind: 'nonSpine', index: 1 }])
})

t.test('§6.8a a bone Condition without bodySite: bone is a site, no lesion, FHIR_LESION_SITE_UNKNOWN', async (t) => {
  const ctx = run([boneMet('b', undefined, '2025-01-01')], conditionsOnly)
  t.same(sitesOf(ctx), ['bone'])
  t.equal(ctx.draft.disease?.spineLesions, undefined)
  t.equal(ctx.draft.disease?.nonSpineBoneLesions, undefined)
  t.same(codes(ctx), ['FHIR_LESION_SITE_UNKNOWN'])
  t.equal(ctx.state.lesionsByCondition.size, 0)
})

/* ------------------------------------------------------------- the date */

t.test('§6.3 metastaticDiagnosisDate: the earliest date of a Condition that counts as a site', async (t) => {
  const ctx = run([
    primary('p', 'left', '2020-01-01'),
    condition('liver', coded(SCT, '94381002'), { onset: '2025-04-01' }),
    boneMet('b', 'T7', '2025-02-01'),
    boneMet('c', 'L1', '2025-02-01'),
    { ...axillary('n', 'left'), onsetDateTime: '2024-01-01' }
  ], conditionsOnly)
  t.equal(ctx.draft.disease?.metastaticDiagnosisDate, '2025-02-01', 'a regional node does not count')
  t.same(ctx.sources['disease.metastaticDiagnosisDate'], {
    label: 'Date metastatic disease was diagnosed',
    display: '2025-02-01 (earliest recorded metastasis)',
    refs: ['Condition/b', 'Condition/c'],
    date: '2025-02-01'
  })
  const undated = run([condition('liver', coded(SCT, '94381002'))], conditionsOnly)
  t.equal(undated.draft.disease?.metastaticDiagnosisDate, undefined)
  t.equal(undated.sources['disease.metastaticDiagnosisDate'], undefined)
})

t.test('an unrelated Condition is not classified and adds nothing', async (t) => {
  const ctx = run([condition('htn', coded(SCT, '38341003', 'Hypertensive disorder')), condition('x', {})], conditionsOnly)
  t.same(sitesOf(ctx), [])
  t.same(ctx.warnings, [])
  t.same(ctx.gaps, {})
})

t.test('§6.3 generic secondary: two bodySites of one site are one site with both lesions', async (t) => {
  const ctx = run([condition('g', coded(SCT, '128462008'), { bodySite: [text('L5 vertebra'), text('T7 vertebra')] })], conditionsOnly)
  t.same(sitesOf(ctx), ['bone'])
  t.same(ctx.draft.disease?.spineLesions, [{ level: 'L5' }, { level: 'T7' }])
})

t.test('§6.3 every site row unusable: refuted, entered-in-error, unconfirmed or future-dated Conditions count for nothing', async (t) => {
  for (const [site, snomed, icd] of SITE_ROWS) {
    const code = snomed[0] === undefined ? coded(ICD10CM, icd[0] as string) : coded(SCT, snomed[0])
    for (const verification of ['refuted', 'entered-in-error', 'unconfirmed']) {
      t.same(sitesOf(run([condition('m', code, { verification })], conditionsOnly)), [], `${site} ${verification}`)
    }
    const future = run([condition('m', code, { onset: '2026-06-02' })], conditionsOnly)
    t.same(sitesOf(future), [], `${site} future`)
    t.same(codes(future), ['FHIR_FUTURE_DATED'])
  }
  const nodes = run([primary('p', 'left'), condition('n', coded(SCT, '94181007'), { verification: 'provisional', bodySite: [lateral(text('Axilla'), 'right')] })], conditionsOnly)
  t.same(sitesOf(nodes), [])
  t.same(nodes.gaps['disease.metastaticSites'], ['Condition/n: provisional diagnosis, not used'])
})
