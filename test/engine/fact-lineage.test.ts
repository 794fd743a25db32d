import t from 'tap'
import { FACT_NAMES, FACTS, factSpec, type FactName } from '../../src/engine/fact-specs.js'
import { evaluationLineages, FACT_LINEAGE, lineageOf, resolveInputs, variableSegment, type LineageContext } from '../../src/engine/fact-lineage.js'
import { Case } from '../../src/schemas/case.js'
import { caseOf } from '../fixtures/factories.js'

/** RFC 6901: a pointer is a sequence of "/" + reference token, "~" escaped as "~0" or "~1". */
const POINTER = /^(\/([^/~]|~[01])*)*$/
const TOP_LEVEL = new Set(['caseId', 'context', 'patient', 'tumor', 'disease', 'history', 'preferences'])

/** Resolves an RFC 6901 pointer; `found` is false when a step does not exist. */
function resolvePointer (doc: unknown, pointer: string): { found: boolean, value?: unknown } {
  let node = doc
  for (const token of pointer.split('/').slice(1).map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= node.length) return { found: false }
      node = node[Number(token)]
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token]
    } else {
      return { found: false }
    }
  }
  return { found: true, value: node }
}

const priorRt = (date: string) => ({ doseGy: 8, fractions: 1, technique: 'conventional' as const, date })
const spineLesion = (level: 'T4' | 'T9', bilsky: '1b' | '2') => ({
  level,
  contiguousLevels: 1,
  sinsTotal: 9,
  sinsComponents: { location: 2 as const, pain: 1 as const, boneLesion: 2 as const, alignment: 2 as const, collapse: 1 as const, posterolateral: 1 as const },
  bilsky,
  painNrs: 5,
  painType: 'mechanical' as const,
  pathologicFracture: true,
  priorRt: priorRt('2025-04-01'),
  surgery: { type: 'stabilisation' as const, date: '2025-03-01' }
})
const boneLesion = (site: 'femur' | 'rib') => ({ site, painNrs: 6, mirelsScore: 9, pathologicFracture: false, priorRt: priorRt('2025-05-01') })
const metastaticLine = (lineNumber: number, outcome: 'progression' | 'toxicity', startDate: string, endDate: string) => ({
  lineNumber,
  agents: ['trastuzumab', 'pertuzumab', 'docetaxel'] as Array<'trastuzumab' | 'pertuzumab' | 'docetaxel'>,
  startDate,
  endDate,
  outcome,
  progressionPattern: 'extracranial' as const,
  maxIldGrade: 1,
  ...(outcome === 'toxicity' ? { toxicAgents: ['docetaxel' as const] } : {})
})

/** A case with every field the facts read (the last line, lineNumber 3, is at index 1). */
const RICH: Case = Case.parse({
  caseId: 'lineage-rich',
  context: { evaluationDate: '2026-03-01', jurisdiction: 'EU' },
  patient: {
    ageYears: 38,
    sex: 'female',
    ecog: 3,
    ecogBeforeDeficit: 1,
    menopausalStatus: 'premenopausal',
    pregnant: true,
    gestationalWeeks: 20,
    surgicalCandidate: true,
    estimatedSurvivalMonths: 12,
    lvefPercent: 50,
    lvefBaselinePercent: 62,
    heartFailureSymptoms: 'none',
    ildHistory: 'none',
    creatinineClearanceMlMin: 80,
    correctedCalcium: { value: 11, unit: 'mg/dL' },
    hypercalcaemiaSymptoms: true,
    vitaminD25OHNgMl: 30,
    dentalStatus: 'cleared',
    dpydStatus: 'normal'
  },
  tumor: {
    her2Ihc: '2+',
    her2IshResult: 'amplified',
    her2IshRatio: 2.5,
    her2IshCopyNumber: 6,
    her2Source: 'metastasis',
    erPercent: 50,
    prPercent: 20,
    receptorDiscordance: false
  },
  disease: {
    presentation: 'recurrent_metastatic',
    metastaticSites: ['bone', 'brain', 'leptomeningeal'],
    ajcc: { t: 'cT2', n: 'cN1', m: 'M1' },
    metastaticDiagnosisDate: '2024-01-10',
    totalMetastaticLesions: 4,
    visceralCrisis: false,
    brainSymptoms: true,
    extracranialStatus: 'stable',
    primaryIntact: true,
    primarySymptoms: ['pain'],
    neuro: { deficit: 'motor_weakness', ambulatory: 'with_aid', deficitOnsetHours: 12, paraplegiaDurationHours: 0 },
    spineLesions: [spineLesion('T4', '1b'), spineLesion('T9', '2')],
    nonSpineBoneLesions: [boneLesion('femur'), boneLesion('rib')],
    brain: {
      present: true,
      count: 3,
      maxDiameterCm: 1.5,
      symptomatic: true,
      massEffect: false,
      status: 'treated_progressing',
      leptomeningeal: true,
      priorRt: { technique: 'srs', date: '2025-06-01' }
    }
  },
  history: {
    earlyStageTherapy: [
      { setting: 'neoadjuvant', agents: ['trastuzumab', 'pertuzumab', 'docetaxel'], lastDoseDate: '2022-06-01' },
      { setting: 'post_neoadjuvant', agents: ['t_dm1'], lastDoseDate: '2023-05-01' }
    ],
    metastaticLines: [
      metastaticLine(1, 'progression', '2024-02-01', '2024-09-01'),
      metastaticLine(3, 'toxicity', '2025-04-01', '2025-12-01'),
      metastaticLine(2, 'progression', '2024-10-01', '2025-03-01')
    ],
    boneModifyingAgent: { agent: 'denosumab', startDate: '2024-02-01', intervalWeeks: 4, complications: ['hypocalcemia'] }
  },
  preferences: { declinesChemotherapy: false, goalsOfCare: 'disease_control', asksAboutPrimarySurgery: true }
})

const MINIMAL: Case = caseOf()

/** The contexts a fact is evaluated in for a case: one per lesion of its scope. */
function contextsOf (fact: FactName, input: Case): LineageContext[] {
  const scope = factSpec(fact)?.scope
  if (scope === 'spine_lesion') return (input.disease.spineLesions ?? []).map((_, i) => ({ input, spineLesionIndex: i }))
  if (scope === 'bone_lesion') return (input.disease.nonSpineBoneLesions ?? []).map((_, i) => ({ input, boneLesionIndex: i }))
  return [{ input }]
}

const PLACEHOLDER = /\{spine\}|\{bone\}|\{lastLine\}|(?<=\/)\*(?=\/|$)/

t.test('FACT_LINEAGE covers exactly the facts of the catalogue', async (t) => {
  t.strictSame(Object.keys(FACT_LINEAGE).sort(), [...FACT_NAMES].sort())
})

t.test('every label is clinical words, non-empty and on one line', async (t) => {
  for (const fact of FACT_NAMES) {
    const { label } = FACT_LINEAGE[fact]
    t.ok(label.trim().length > 0 && label === label.trim(), `${fact} has a label`)
    t.notMatch(label, /\n/, `${fact}: one line`)
    t.not(label, fact, `${fact}: the label is not the fact name`)
  }
})

t.test('pass-3/4 facts have no inputs; every case fact has some; placeholders match the scope', async (t) => {
  for (const fact of FACT_NAMES) {
    const spec = factSpec(fact)
    const { inputs } = FACT_LINEAGE[fact]
    if (spec?.pass !== undefined) {
      t.strictSame(inputs, [], `${fact} (pass ${spec.pass}) is computed from other items`)
      continue
    }
    t.ok(inputs.length > 0, `${fact} reads the request`)
    t.equal(new Set(inputs).size, inputs.length, `${fact}: no template twice`)
    const spine = inputs.some((template) => template.includes('{spine}'))
    const bone = inputs.some((template) => template.includes('{bone}'))
    t.equal(spine, spec?.scope === 'spine_lesion', `${fact}: {spine} exactly for spine-lesion facts`)
    t.equal(bone, spec?.scope === 'bone_lesion', `${fact}: {bone} exactly for bone-lesion facts`)
  }
})

t.test('every template is a valid RFC 6901 pointer into a request section once substituted', async (t) => {
  for (const fact of FACT_NAMES) {
    for (const template of FACT_LINEAGE[fact].inputs) {
      const pointer = template.replaceAll('{spine}', '1').replaceAll('{bone}', '0').replaceAll('{lastLine}', '2').replaceAll('/*', '/0')
      t.match(pointer, POINTER, `${fact}: ${template}`)
      t.notMatch(pointer, /[{}*]|\/\//, `${fact}: ${template} has no unknown placeholder or empty token`)
      t.ok(TOP_LEVEL.has(pointer.split('/')[1] as string), `${fact}: ${template} starts at a request section`)
    }
  }
})

t.test('in a case with every field, every resolved input exists', async (t) => {
  let checked = 0
  for (const fact of FACT_NAMES) {
    for (const context of contextsOf(fact, RICH)) {
      const resolved = resolveInputs(FACT_LINEAGE[fact].inputs, context)
      t.equal(resolved.length > 0, FACT_LINEAGE[fact].inputs.length > 0, `${fact}: resolves in the rich case`)
      for (const pointer of resolved) {
        t.match(pointer, POINTER)
        t.ok(resolvePointer(RICH, pointer).found, `${fact}: ${pointer} exists`)
        checked++
      }
    }
  }
  t.ok(checked > 150)
})

t.test('in a sparse case, only plain pointers may name absent fields; array entries always exist', async (t) => {
  const sparse = caseOf({
    disease: { spineLesions: [{ level: 'L2' }], nonSpineBoneLesions: [{ site: 'pelvis' }] },
    history: { metastaticLines: [{ lineNumber: 1, agents: ['trastuzumab'], outcome: 'ongoing' }] }
  })
  for (const fact of FACT_NAMES) {
    for (const context of contextsOf(fact, sparse)) {
      for (const template of FACT_LINEAGE[fact].inputs) {
        const match = PLACEHOLDER.exec(template)
        for (const pointer of resolveInputs([template], context)) {
          t.match(pointer, POINTER)
          if (match === null) {
            t.equal(pointer, template, `${fact}: the plain pointer ${template} is kept`)
          } else {
            // The array entry the placeholder or * chose exists, whether or not its field does.
            const entryDepth = template.slice(0, match.index).split('/').length
            const entry = pointer.split('/').slice(0, entryDepth).join('/')
            t.ok(resolvePointer(sparse, entry).found, `${fact}: ${entry} exists (${template})`)
          }
        }
      }
    }
  }
})

t.test('without history or lesions, templates over those arrays yield nothing', async (t) => {
  for (const fact of FACT_NAMES) {
    for (const pointer of resolveInputs(FACT_LINEAGE[fact].inputs, { input: MINIMAL, spineLesionIndex: 0, boneLesionIndex: 0 })) {
      t.notMatch(pointer, /\/\d+(\/|$)/, `${fact}: ${pointer} names no array entry`)
    }
  }
  t.strictSame(lineageOf('lesionBilskyRank', { input: MINIMAL, spineLesionIndex: 0 }), { label: FACT_LINEAGE.lesionBilskyRank.label })
  t.strictSame(lineageOf('lastLineOutcome', { input: MINIMAL }).inputs, undefined)
  t.strictSame(lineageOf('spinalInstability', { input: MINIMAL }).inputs, ['/disease/spineLesions'])
})

t.test('resolveInputs: placeholders', async (t) => {
  const context = { input: RICH, spineLesionIndex: 1, boneLesionIndex: 0 }
  t.strictSame(resolveInputs(['/disease/spineLesions/{spine}/bilsky'], context), ['/disease/spineLesions/1/bilsky'])
  t.strictSame(resolveInputs(['/disease/nonSpineBoneLesions/{bone}/mirelsScore'], context), ['/disease/nonSpineBoneLesions/0/mirelsScore'])
  t.strictSame(resolveInputs(['/history/metastaticLines/{lastLine}/outcome'], context), ['/history/metastaticLines/1/outcome'], 'the line with the highest lineNumber, not the last entry')
  t.strictSame(resolveInputs(['/disease/spineLesions/{spine}/bilsky'], { input: RICH }), [], 'no lesion index')
  t.strictSame(resolveInputs(['/disease/spineLesions/{spine}/bilsky'], { input: RICH, spineLesionIndex: 2 }), [], 'index past the end')
  t.strictSame(resolveInputs(['/disease/spineLesions/{spine}/bilsky'], { input: RICH, spineLesionIndex: -1 }), [], 'negative index')
  t.strictSame(resolveInputs(['/disease/nonSpineBoneLesions/{bone}/site'], { input: MINIMAL, boneLesionIndex: 0 }), [], 'absent array')
  t.strictSame(resolveInputs(['/history/metastaticLines/{lastLine}/outcome'], { input: MINIMAL }), [], 'no history')
  t.strictSame(resolveInputs(['/history/metastaticLines/{lastLine}/outcome'], { input: caseOf({ history: { metastaticLines: [] } }) }), [], 'no metastatic line')
  t.strictSame(resolveInputs(['/patient/{spine}'], { input: RICH, spineLesionIndex: 0 }), [], 'a placeholder over a non-array yields nothing')
  t.strictSame(resolveInputs(['/disease/spineLesions/{lastLine}/level'], { input: caseOf({ disease: { spineLesions: [{ level: 'T4' }] } }) }), [],
    '{lastLine} is read from the metastatic lines, whatever array it is placed on')
})

t.test('resolveInputs: * expands to every index present', async (t) => {
  const context = { input: RICH }
  t.strictSame(resolveInputs(['/disease/spineLesions/*/level'], context), ['/disease/spineLesions/0/level', '/disease/spineLesions/1/level'])
  t.strictSame(resolveInputs(['/history/earlyStageTherapy/*/agents/*'], context), [
    '/history/earlyStageTherapy/0/agents/0', '/history/earlyStageTherapy/0/agents/1', '/history/earlyStageTherapy/0/agents/2',
    '/history/earlyStageTherapy/1/agents/0'
  ], 'nested *')
  t.strictSame(resolveInputs(['/disease/spineLesions/*/level'], { input: MINIMAL }), [], 'absent array')
  t.strictSame(resolveInputs(['/disease/spineLesions/*/level'], { input: caseOf({ disease: { spineLesions: [] } }) }), [], 'empty array')
  t.strictSame(resolveInputs(['/patient/*'], context), [], 'an object is not an array')
  t.strictSame(resolveInputs(['/history/metastaticLines/*/agents'], { input: MINIMAL }), [], 'absent parent')
})

t.test('resolveInputs: plain pointers are kept, duplicates removed, order kept', async (t) => {
  t.strictSame(resolveInputs(['/disease/brain/priorRt/technique', '/patient/lvefPercent'], { input: MINIMAL }),
    ['/disease/brain/priorRt/technique', '/patient/lvefPercent'], 'kept although absent')
  t.strictSame(resolveInputs(['/patient/ecog', '/patient/sex', '/patient/ecog'], { input: MINIMAL }), ['/patient/ecog', '/patient/sex'])
  t.strictSame(resolveInputs(['/history/metastaticLines/*/outcome', '/history/metastaticLines/{lastLine}/outcome'], { input: RICH }),
    ['/history/metastaticLines/0/outcome', '/history/metastaticLines/1/outcome', '/history/metastaticLines/2/outcome'], 'a resolved placeholder repeating a * entry')
  t.strictSame(resolveInputs([], { input: RICH }), [])
  const odd = { ...MINIMAL, patient: { ...MINIMAL.patient, ildHistory: null } } as unknown as Case
  t.strictSame(resolveInputs(['/patient/ildHistory/grade'], { input: odd }), ['/patient/ildHistory/grade'], 'through a null value')
})

t.test('hand-checked facts', async (t) => {
  const rich = { input: RICH }
  t.strictSame(lineageOf('lvefPercent', rich), { label: 'LVEF (%)', inputs: ['/patient/lvefPercent'] })
  t.strictSame(lineageOf('lvefPercent', { input: MINIMAL }), { label: 'LVEF (%)', inputs: ['/patient/lvefPercent'] }, 'kept when the case lacks it')
  t.strictSame(lineageOf('lesionBilskyRank', { input: RICH, spineLesionIndex: 1 }), {
    label: 'Bilsky grade (rank: 0 = 0, 1 = 1a, 2 = 1b, 3 = 1c, 4 = 2, 5 = 3)',
    inputs: ['/disease/spineLesions/1/bilsky']
  })
  t.strictSame(lineageOf('performanceEcog', rich).inputs, ['/patient/ecogBeforeDeficit', '/patient/ecog'])
  t.strictSame(lineageOf('dpydStatus', rich).inputs, ['/patient/dpydStatus'])
  t.strictSame(lineageOf('lineOfTherapy', rich).inputs, [
    '/history/metastaticLines/0/agents', '/history/metastaticLines/1/agents', '/history/metastaticLines/2/agents',
    '/history/earlyStageTherapy/0/agents', '/history/earlyStageTherapy/1/agents',
    '/history/earlyStageTherapy/0/lastDoseDate', '/history/earlyStageTherapy/1/lastDoseDate',
    '/disease/metastaticDiagnosisDate', '/context/evaluationDate',
    '/history/metastaticLines', '/history/metastaticLines/1/outcome', '/disease/extracranialStatus',
    '/history/metastaticLines/1/toxicAgents', '/history/metastaticLines/1/progressionPattern'
  ])
  t.strictSame(lineageOf('lineOfTherapy', { input: MINIMAL }).inputs, [
    '/disease/metastaticDiagnosisDate', '/context/evaluationDate', '/history/metastaticLines', '/disease/extracranialStatus'
  ], 'without history: the plain pointers only')
  t.strictSame(lineageOf('priorAgents', rich).inputs, [
    '/history/earlyStageTherapy/0/agents', '/history/earlyStageTherapy/1/agents',
    '/history/metastaticLines/0/agents', '/history/metastaticLines/1/agents', '/history/metastaticLines/2/agents'
  ])
  t.strictSame(lineageOf('suspectedMscc', rich).inputs, [
    '/disease/neuro/deficit', '/disease/spineLesions', '/disease/spineLesions/0/bilsky', '/disease/spineLesions/1/bilsky'
  ])
  t.strictSame(lineageOf('suspectedMscc', { input: MINIMAL }).inputs, ['/disease/neuro/deficit', '/disease/spineLesions'],
    'no spine lesion recorded: the sign and the (absent) lesion list')
  t.strictSame(lineageOf('lastLineDurationDays', rich).inputs, ['/history/metastaticLines/1/startDate', '/history/metastaticLines/1/endDate'])
  t.strictSame(lineageOf('hypercalcaemia', rich).inputs, ['/patient/correctedCalcium/value', '/patient/correctedCalcium/unit'])
  t.strictSame(lineageOf('bonePriorRt', { input: RICH, boneLesionIndex: 1 }).inputs, ['/disease/nonSpineBoneLesions/1/priorRt'])
  t.strictSame(lineageOf('lesionDeficit', { input: RICH, spineLesionIndex: 0 }).inputs, ['/disease/neuro/deficit', '/disease/spineLesions/0/bilsky'])
})

t.test('facts computed from other items carry no inputs key', async (t) => {
  for (const fact of FACT_NAMES) {
    if ((FACTS as Record<string, { pass?: number }>)[fact]?.pass === undefined) continue
    const lineage = lineageOf(fact, { input: RICH, spineLesionIndex: 0, boneLesionIndex: 0 })
    t.notOk('inputs' in lineage, `${fact}: no inputs`)
    t.equal(lineage.label, FACT_LINEAGE[fact].label)
  }
  t.strictSame(lineageOf('firedCodes', { input: RICH }), { label: 'Codes of the items already emitted' })
})

t.test('evaluationLineages: every context of an evaluation gets the same lineage of a case fact, each lesion its own', async (t) => {
  const lineages = evaluationLineages(RICH, 2, 1)
  const [first, second] = lineages.spine_lesion as [LineageContext, LineageContext]
  // suspectedMscc reads every spine lesion (`*`), not the one being evaluated: one lineage serves all.
  const inCase = lineageOf('suspectedMscc', lineages.case)
  t.equal(lineageOf('suspectedMscc', first), inCase, 'the same object from a lesion context')
  t.equal(lineageOf('suspectedMscc', second), inCase)
  t.strictSame(inCase.inputs, resolveInputs(FACT_LINEAGE.suspectedMscc.inputs, { input: RICH }))
  // The lesion's own facts point at that lesion.
  t.strictSame(lineageOf('lesionBilsky', first).inputs, ['/disease/spineLesions/0/bilsky'])
  t.strictSame(lineageOf('lesionBilsky', second).inputs, ['/disease/spineLesions/1/bilsky'])
  t.equal(lineageOf('lesionBilsky', second), lineageOf('lesionBilsky', second), 'resolved once for that lesion')
  t.strictSame(lineageOf('boneSite', lineages.bone_lesion[0] as LineageContext).inputs, ['/disease/nonSpineBoneLesions/0/site'])
  // A fact that names no array index is the same frozen object in every evaluation.
  t.equal(lineageOf('lvefPercent', lineages.case), lineageOf('lvefPercent', { input: MINIMAL }))
  t.ok(Object.isFrozen(lineageOf('lvefPercent', lineages.case)))
})

t.test('a lineage that reads arrays is shared by every case of the same shape (array lengths and indices)', async (t) => {
  const withSpineLesions = (n: number): Case => ({ ...RICH, disease: { ...RICH.disease, spineLesions: Array.from({ length: n }, (_, i) => ({ ...(RICH.disease.spineLesions?.[0] ?? {}), painNrs: i })) } }) as Case
  const [twoA, twoB, three] = [withSpineLesions(2), withSpineLesions(2), withSpineLesions(3)]
  t.equal(lineageOf('suspectedMscc', { input: twoA }), lineageOf('suspectedMscc', { input: twoB }), 'two cases, two lesions each: one object')
  t.ok(Object.isFrozen(lineageOf('suspectedMscc', { input: twoA })))
  t.ok(Object.isFrozen(lineageOf('suspectedMscc', { input: twoA }).inputs))
  t.strictSame(lineageOf('suspectedMscc', { input: three }).inputs, resolveInputs(FACT_LINEAGE.suspectedMscc.inputs, { input: three }), 'three lesions: its own')
  t.equal(lineageOf('lesionBilsky', { input: twoA, spineLesionIndex: 1 }), lineageOf('lesionBilsky', { input: three, spineLesionIndex: 1 }), 'the same index')
  t.strictSame(lineageOf('lesionBilsky', { input: three, spineLesionIndex: 2 }).inputs, ['/disease/spineLesions/2/bilsky'])
  // The same number of lines, the highest lineNumber at another index: another lineage.
  const line = { agents: ['trastuzumab'], startDate: '2024-01-01', outcome: 'progression' }
  const lines = (numbers: number[]): Case => ({ ...RICH, history: { metastaticLines: numbers.map((lineNumber) => ({ ...line, lineNumber })) } }) as Case
  t.strictSame(lineageOf('lastLineOutcome', { input: lines([2, 1]) }).inputs, ['/history/metastaticLines/0/outcome'])
  t.strictSame(lineageOf('lastLineOutcome', { input: lines([1, 2]) }).inputs, ['/history/metastaticLines/1/outcome'])
  t.strictSame(lineageOf('lesionBilsky', { input: MINIMAL }).inputs, undefined, 'no lesion index, no lesions')
})

t.test('the shared lineages are bounded: past the bound a lineage is still resolved, but not kept', async (t) => {
  // 5,000 entries, each a shape of its own for a lesion fact: more than the bound (4,096).
  const input = { disease: { spineLesions: Array.from({ length: 5000 }, () => ({})) } } as unknown as Case
  for (let i = 0; i < 5000; i++) lineageOf('lesionBilsky', { input, spineLesionIndex: i })
  const last = lineageOf('lesionBilsky', { input, spineLesionIndex: 4999 })
  t.strictSame(last.inputs, ['/disease/spineLesions/4999/bilsky'])
  t.not(lineageOf('lesionBilsky', { input, spineLesionIndex: 4999 }), last, 'resolved again, not kept')
  t.equal(lineageOf('lesionBilsky', { input, spineLesionIndex: 0 }), lineageOf('lesionBilsky', { input, spineLesionIndex: 0 }), 'one kept before the bound')
})

t.test('an input template names at most one array index', async (t) => {
  t.strictSame(variableSegment('/disease/spineLesions/*/bilsky'), { arrayPath: ['disease', 'spineLesions'], segment: '*' })
  t.strictSame(variableSegment('/history/metastaticLines/{lastLine}/outcome'), { arrayPath: ['history', 'metastaticLines'], segment: '{lastLine}' })
  t.throws(() => variableSegment('/history/metastaticLines/*/agents/*'), { message: 'Two array indices in one input template: /history/metastaticLines/*/agents/*' })
})
