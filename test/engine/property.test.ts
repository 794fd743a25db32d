import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import type { Case } from '../../src/schemas/case.js'
import { OPTION_IDS } from '../../src/schemas/common.js'
import { RecommendationResponse, type Recommendation } from '../../src/schemas/recommendation.js'
import type { Evaluation } from '../../src/engine/recommender.js'
import { BONE_MODIFYING_OPTIONS, BRAIN_DIRECTED_OPTIONS, HER2_OPTIONS, isOffered, SYSTEMIC_OPTIONS } from '../../src/engine/options.js'
import { evaluateRaw, knowledgeBase } from '../fixtures/engine.js'
import { arbitraryCase } from '../fixtures/generators.js'

// Safety and contract properties of the compiled evaluator over 10,000 generated cases.
// One pass evaluates every case once and checks every property, recording the first failing run of
// each property (so that one broken rule cannot hide another); a failing property is then replayed
// from that run (same seed, fast-check `path`) and shrunk to a minimal counterexample.
// PROPERTY_RUNS / PROPERTY_SEED override the defaults while investigating.

t.setTimeout(600_000)

const SEED = Number(process.env.PROPERTY_SEED ?? 20260601)
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 10_000)

type Item = Recommendation
type Option = NonNullable<Item['options']>[number]
/** The option's effective strength, for messages and C/R checks (whether it is offered: isOffered). */
const effective = (item: Item, option: Option): string => option.strength ?? item.strength
const describe = (item: Item, option?: Option): string =>
  `${item.code} (${item.rule.id}${item.targets === undefined ? '' : ` → ${item.targets.join(',')}`})${option === undefined ? '' : ` ${option.id} [${effective(item, option)}]`}`

/** The order spec/api.md prescribes, written out independently of the engine's comparator. */
const STRENGTH_ORDER = ['urgent', 'avoid', 'recommended', 'consider', 'info']
const DOMAIN_ORDER = ['classification', 'local_therapy', 'systemic_therapy', 'supportive_care', 'follow_up']
function orderKey (item: Item): [number, number, string, string] {
  return [STRENGTH_ORDER.indexOf(item.strength), DOMAIN_ORDER.indexOf(item.domain), item.code, (item.targets ?? []).join(',')]
}
function outOfOrder (a: Item, b: Item): boolean {
  const [ka, kb] = [orderKey(a), orderKey(b)]
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] === kb[i]) continue
    return (ka[i] as number | string) > (kb[i] as number | string)
  }
  return false
}

const CONTRAINDICATION = /^(CI-\d{2}[a-z]?|BMA-05|BMA-06)$/
const OPTION_ID_SET: ReadonlySet<string> = new Set(OPTION_IDS)

// --- Revision 7: patient-wide context reaches every item (spec/clinical-rules.md, "Revision 7").
const RT_OPTIONS: ReadonlySet<string> = new Set(['ebrt', 'sbrt_spine', 'reirradiation', 'postoperative_rt', 'srs', 'wbrt_memantine_ha', 'metastasis_directed_therapy'])
const STAGING_OPTIONS: ReadonlySet<string> = new Set(['staging_imaging', 'restaging_imaging'])
/** The filters that may say why no systemic option is offered at a new line (systemic coverage, r6). */
const WHY_NO_SYSTEMIC = ['CI-01', 'CI-03', 'CI-05', 'SYS-13']
/** Recommendation.domain by code prefix (red-team M13). */
const DOMAIN_OF_PREFIX: Record<string, string> = {
  CLS: 'classification',
  SYS: 'systemic_therapy',
  CI: 'systemic_therapy',
  LOC: 'local_therapy',
  PRIM: 'local_therapy',
  OLI: 'local_therapy',
  CNS: 'local_therapy',
  BMA: 'supportive_care',
  SUP: 'supportive_care',
  FU: 'follow_up'
}
/** "Where the service's existing per-code mapping differs, it wins": CNS-07 changes the systemic line. */
const DOMAIN_OF_CODE: Record<string, string> = { 'CNS-07': 'systemic_therapy' }
const comfortCare = (c: Case): boolean => c.preferences?.goalsOfCare === 'comfort_focused' ||
  (c.patient.estimatedSurvivalMonths !== undefined && c.patient.estimatedSurvivalMonths < 3)
const textOf = (item: Item): string => [item.title, item.detail, ...(item.options ?? []).flatMap((option) => [option.label, option.detail ?? ''])].join(' ')
const STRONGER_THAN_CONSIDER: ReadonlySet<string> = new Set(['urgent', 'recommended'])

/** A property: the failures it finds in one evaluated case (empty when it holds). */
type Check = (c: Case, evaluation: Evaluation) => string[]

const PROPERTIES: Record<string, Check> = {
  'no safety-invariant violation': (_, { violations }) => violations,

  'response parses with RecommendationResponse': (_, { body }) => {
    const parsed = RecommendationResponse.safeParse({ requestId: 'property', ...body })
    return parsed.success ? [] : parsed.error.issues.map((issue) => `/${issue.path.join('/')}: ${issue.message}`)
  },

  'every item has evidence, a because trace and known option ids': (_, { body }) => body.recommendations.flatMap((item) => [
    ...(item.evidence.length === 0 ? [`${describe(item)} has no evidence`] : []),
    ...(item.because.length === 0 ? [`${describe(item)} has no because`] : []),
    ...(item.options ?? []).filter((option) => !OPTION_ID_SET.has(option.id)).map((option) => `${describe(item)} has unknown option id ${option.id}`)
  ]),

  'brain-directed options only for target ["brain"] with brain metastases present': (c, { body }) => body.recommendations.flatMap((item) =>
    (item.options ?? []).filter((option) => BRAIN_DIRECTED_OPTIONS.has(option.id)).flatMap((option) => [
      ...(isDeepStrictEqual(item.targets, ['brain']) ? [] : [`${describe(item, option)} has targets ${JSON.stringify(item.targets)}`]),
      ...(c.disease.brain?.present === true ? [] : [`${describe(item, option)} without disease.brain.present`])
    ])),

  'cnsMetastases only with brain or leptomeningeal disease': (c, { body }) => {
    const { brain, metastaticSites } = c.disease
    const cnsDisease = brain?.present === true || brain?.leptomeningeal === true ||
      metastaticSites.includes('brain') || metastaticSites.includes('leptomeningeal')
    return body.assessment.cnsMetastases === cnsDisease
      ? []
      : [`cnsMetastases is ${String(body.assessment.cnsMetastases)} but brain/leptomeningeal disease is ${cnsDisease ? '' : 'not '}recorded`]
  },

  'no HER2 option out of scope or when HER2 is not positive': (_, { body }) => {
    if (body.scope.inScope && body.assessment.her2Status === 'positive') return []
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => HER2_OPTIONS.has(option.id) && isOffered(item, option))
      .map((option) => `${describe(item, option)} offered (inScope ${String(body.scope.inScope)}, HER2 ${body.assessment.her2Status})`))
  },

  'pregnancy: no HER2 option, no bone-modifying agent': (c, { body }) => {
    if (c.patient.pregnant !== true) return []
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => (HER2_OPTIONS.has(option.id) || BONE_MODIFYING_OPTIONS.has(option.id)) && isOffered(item, option))
      .map((option) => `${describe(item, option)} offered in pregnancy`))
  },

  'contraindications win (CI-*, BMA-05, BMA-06 avoid ⇒ not offered elsewhere)': (_, { body }) => {
    // The one stated exemption (Data gaps, red-team H8): BMA-05 does not filter SUP-01.
    const exempt = (ci: Item, item: Item): boolean => ci.code === 'BMA-05' && item.code === 'SUP-01'
    const avoided = new Map<string, Item[]>()
    for (const item of body.recommendations) {
      if (!CONTRAINDICATION.test(item.code)) continue
      for (const option of item.options ?? []) {
        if (!isOffered(item, option)) avoided.set(option.id, [...(avoided.get(option.id) ?? []), item])
      }
    }
    // A contraindication without targets applies to every target; with targets, to those only.
    const overlaps = (a: Item, b: Item): boolean =>
      a.targets === undefined || b.targets === undefined || a.targets.some((target) => b.targets?.includes(target) === true)
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => isOffered(item, option))
      .flatMap((option) => (avoided.get(option.id) ?? [])
        .filter((ci) => ci !== item && overlaps(ci, item) && !exempt(ci, item))
        .map((ci) => `${describe(item, option)} offered although ${describe(ci)} marks it avoid`)))
  },

  'systemic coverage: an in-scope HER2-positive line decision offers a systemic option or says why not': (_, { body }) => {
    const decision = body.assessment.treatmentDecision
    if (!body.scope.inScope || body.assessment.her2Status !== 'positive' || decision === 'continue_line') return []
    const offersSystemic = body.recommendations.some((item) => (item.options ?? []).some((option) => SYSTEMIC_OPTIONS.has(option.id) && isOffered(item, option)))
    const saysWhyNot = body.recommendations.some((item) => WHY_NO_SYSTEMIC.includes(item.code))
    return offersSystemic || saysWhyNot ? [] : [`${decision}: no systemic option offered and none of ${WHY_NO_SYSTEMIC.join(', ')}`]
  },

  'pregnancy: staging names the pregnancy-appropriate modalities; every RT option carries the fetal-dose caveat and is never R': (c, { body }) => {
    if (c.patient.pregnant !== true) return []
    return body.recommendations.flatMap((item) => (item.options ?? []).filter((option) => isOffered(item, option)).flatMap((option) => {
      const text = `${option.label} ${option.detail ?? ''} ${item.detail}`
      if (STAGING_OPTIONS.has(option.id)) {
        return /non-contrast MRI/i.test(text) && /ultrasound/i.test(text) && /chest X-ray/i.test(text)
          ? []
          : [`${describe(item, option)} does not name non-contrast MRI, ultrasound and a shielded chest X-ray`]
      }
      if (!RT_OPTIONS.has(option.id)) return []
      return [
        ...(/fetal/i.test(option.detail ?? '') ? [] : [`${describe(item, option)} lacks the fetal-dose caveat`]),
        ...(effective(item, option) === 'recommended' ? [`${describe(item, option)} is recommended in pregnancy (non-urgent RT is C)`] : [])
      ]
    }))
  },

  'comfort-focused care: no routine restaging, no biopsy or LVEF schedule above consider': (c, { body }) => {
    if (!comfortCare(c)) return []
    const lvefAfterFall = body.recommendations.some((item) => item.code === 'CI-03')
    return body.recommendations.flatMap((item) => {
      if (item.code === 'FU-01') return [`${describe(item)}: routine restaging with comfort-focused care`]
      if ((item.code === 'CLS-03' || (item.code === 'FU-02' && !lvefAfterFall)) && STRONGER_THAN_CONSIDER.has(item.strength)) {
        return [`${describe(item)} is ${item.strength} with comfort-focused care`]
      }
      return []
    })
  },

  'a man never gets ovarian-suppression or menopausal text': (c, { body }) => {
    if (c.patient.sex !== 'male') return []
    return body.recommendations.filter((item) => /ovarian|menopaus/i.test(textOf(item))).map((item) => `${describe(item)} speaks of ovarian function or menopause to a man`)
  },

  'HER2 therapy in every line (SYS-01) only when intensive therapy is appropriate': (c, { body }) => {
    const ecog = c.patient.ecogBeforeDeficit ?? c.patient.ecog
    if (ecog <= 2 && !comfortCare(c)) return []
    return body.recommendations.filter((item) => item.code === 'SYS-01').map((item) => `${describe(item)} with ECOG ${ecog}${comfortCare(c) ? ', comfort-focused care' : ''}`)
  },

  'hypercalcaemia always gets SUP-01, urgent when moderate or severe': (c, { body }) => {
    const calcium = c.patient.correctedCalcium
    if (calcium === undefined) return []
    const [high, moderate] = calcium.unit === 'mg/dL' ? [10.5, 12] : [2.62, 3.0]
    const sup = body.recommendations.filter((item) => item.code === 'SUP-01')
    if (calcium.value <= high) return sup.map((item) => `${describe(item)} without hypercalcaemia`)
    if (sup.length === 0) return [`corrected calcium ${calcium.value} ${calcium.unit}: no SUP-01`]
    return calcium.value >= moderate && sup.some((item) => item.strength !== 'urgent') ? [`corrected calcium ${calcium.value} ${calcium.unit}: SUP-01 is not urgent`] : []
  },

  'at a previously irradiated spine level the RT option is re-irradiation, never a first course': (c, { body }) => {
    const irradiated: ReadonlySet<string> = new Set((c.disease.spineLesions ?? []).filter((lesion) => lesion.priorRt !== undefined).map((lesion) => lesion.level))
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => (option.id === 'ebrt' || option.id === 'sbrt_spine') && isOffered(item, option) && (item.targets ?? []).some((target) => irradiated.has(target)))
      .map((option) => `${describe(item, option)} offered at a previously irradiated level`))
  },

  'no neurological record, no MSCC emergency (LOC-01 needs neuro)': (c, { body }) => (c.disease.neuro === undefined
    ? body.recommendations.filter((item) => item.code === 'LOC-01').map((item) => `${describe(item)} without disease.neuro`)
    : []),

  'no pass-3 item is R while every option it offers is C (red-team L6)': (_, { body }) => body.recommendations.flatMap((item) => {
    const rule = knowledgeBase.rulesByName.get(item.rule.id)?.definition
    if (rule?.pass !== 3 || rule.event.params.strengthNotCappedByOptions === true || item.strength !== 'recommended') return []
    const offers = (item.options ?? []).filter((option) => isOffered(item, option))
    return offers.length > 0 && offers.every((option) => effective(item, option) === 'consider') ? [`${describe(item)} is R with only C options`] : []
  }),

  'HER2 equivocal or unknown: no clinical trial offered (HER2-status filter, r6)': (_, { body }) => {
    if (body.assessment.her2Status !== 'equivocal' && body.assessment.her2Status !== 'unknown') return []
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => option.id === 'clinical_trial' && isOffered(item, option))
      .map((option) => `${describe(item, option)} offered while HER2 is ${body.assessment.her2Status}`))
  },

  'HER2 equivocal in scope is the her2_status_pending pathway': (_, { body }) => {
    const pending = body.scope.inScope && body.assessment.her2Status === 'equivocal'
    return (body.scope.pathway === 'her2_status_pending') === pending ? [] : [`pathway ${body.scope.pathway} with inScope ${String(body.scope.inScope)}, HER2 ${body.assessment.her2Status}`]
  },

  'each item\'s domain follows its code prefix': (_, { body }) => body.recommendations
    .filter((item) => (DOMAIN_OF_CODE[item.code] ?? DOMAIN_OF_PREFIX[item.code.split('-')[0] as string]) !== item.domain)
    .map((item) => `${describe(item)} has domain ${item.domain}`),

  'a toxicity stop while controlled gets SYS-14, or the filter that says why not (r7)': (_, { body }) => {
    if (!body.scope.inScope || body.assessment.her2Status !== 'positive' || body.assessment.treatmentDecision !== 'toxicity_switch') return []
    return body.recommendations.some((item) => item.code === 'SYS-14' || ['CI-01', 'CI-03', 'CI-05'].includes(item.code)) ? [] : ['toxicity_switch without SYS-14 or CI-01/CI-03/CI-05']
  },

  'palliative care is R whenever intensive therapy is not appropriate (FU-07, r7)': (c, { body }) => {
    const ecog = c.patient.ecogBeforeDeficit ?? c.patient.ecog
    if (ecog <= 2 && !comfortCare(c)) return []
    return body.recommendations.filter((item) => item.code === 'FU-07').flatMap((item) => (item.options ?? [])
      .filter((option) => option.id === 'palliative_care' && effective(item, option) !== 'recommended')
      .map((option) => `${describe(item, option)} with ECOG ${ecog}${comfortCare(c) ? ', comfort-focused care' : ''}`))
  },

  'vertebral augmentation only at a level graded Bilsky 0, 1a or 1b (LOC-04, LOC-08, r7)': (c, { body }) => {
    const lowGrade: ReadonlySet<string> = new Set((c.disease.spineLesions ?? []).filter((lesion) => lesion.bilsky !== undefined && ['0', '1a', '1b'].includes(lesion.bilsky)).map((lesion) => lesion.level))
    return body.recommendations.flatMap((item) => (item.options ?? [])
      .filter((option) => option.id === 'vertebral_augmentation' && isOffered(item, option) && (item.targets ?? []).some((target) => !lowGrade.has(target)))
      .map((option) => `${describe(item, option)} at a level not graded Bilsky 0–1b`))
  },

  'CI-05 names the trimester when the gestational age is recorded (r7)': (c, { body }) => {
    const weeks = c.patient.gestationalWeeks
    if (weeks === undefined) return []
    const trimester = weeks < 14 ? 'first trimester' : weeks < 28 ? 'second trimester' : 'third trimester'
    return body.recommendations.filter((item) => item.code === 'CI-05' && !item.title.includes(trimester)).map((item) => `${describe(item)} at ${weeks} weeks does not name the ${trimester}`)
  },

  'while SUP-01 treats hypercalcaemia, BMA-01 and BMA-04 offer no antiresorptive above consider (red-team H1)': (_, { body }) => {
    if (!body.recommendations.some((item) => item.code === 'SUP-01')) return []
    return body.recommendations.filter((item) => item.code === 'BMA-01' || item.code === 'BMA-04').flatMap((item) => (item.options ?? [])
      .filter((option) => BONE_MODIFYING_OPTIONS.has(option.id) && STRONGER_THAN_CONSIDER.has(effective(item, option)))
      .map((option) => `${describe(item, option)} beside SUP-01`))
  },

  'recommendations ordered by strength, domain, code, target': (_, { body }) => {
    const items = body.recommendations
    const failures: string[] = []
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1] as Item, items[i] as Item]
      if (outOfOrder(a, b)) failures.push(`${a.strength}/${a.domain}/${a.code}/${String(a.targets)} before ${b.strength}/${b.domain}/${b.code}/${String(b.targets)}`)
    }
    return failures
  }
}

const THROWS = 'evaluation never throws'
const DETERMINISTIC = 'deterministic (same case twice → same body but evaluatedAt)'
const ALL = [THROWS, ...Object.keys(PROPERTIES), DETERMINISTIC]

/** Every property's failures for one case: evaluates it twice (determinism) and runs each check. */
async function failuresOf (c: Case): Promise<Map<string, string[]>> {
  const failures = new Map<string, string[]>()
  let first: Evaluation
  let second: Evaluation
  try {
    first = await evaluateRaw(c, 'compiled')
    second = await evaluateRaw(c, 'compiled')
  } catch (error) {
    failures.set(THROWS, [String((error as Error).stack ?? error)])
    return failures
  }
  for (const [name, check] of Object.entries(PROPERTIES)) {
    const found = check(c, first)
    if (found.length > 0) failures.set(name, found)
  }
  const equalised = { ...second.body, provenance: { ...second.body.provenance, evaluatedAt: first.body.provenance.evaluatedAt } }
  if (!isDeepStrictEqual(first.body, equalised) || !isDeepStrictEqual(first.violations, second.violations)) {
    failures.set(DETERMINISTIC, ['the second evaluation differs from the first'])
  }
  return failures
}

/** Replays run `run` of the seeded sequence for one property and shrinks it. */
async function shrink (name: string, run: number): Promise<{ counterexample: unknown, failures: string[] }> {
  let failures: string[] = []
  const details = await fc.check(fc.asyncProperty(arbitraryCase(), async (c) => {
    const found = (await failuresOf(c)).get(name)
    if (found !== undefined) {
      failures = found
      throw new Error(found.join('; '))
    }
  }), { seed: SEED, path: String(run) })
  const counterexample = details.counterexample?.[0]
  // The last failure fast-check saw belongs to the shrunk counterexample: recompute it to be sure.
  if (counterexample !== undefined) failures = (await failuresOf(counterexample)).get(name) ?? failures
  return { counterexample, failures }
}

t.test(`safety and contract properties over ${NUM_RUNS} generated cases (compiled evaluator, seed ${SEED})`, async (t) => {
  const firstFailure = new Map<string, { run: number, count: number }>()
  let run = 0
  const started = Date.now()
  await fc.assert(fc.asyncProperty(arbitraryCase(), async (c) => {
    const index = run++
    for (const name of (await failuresOf(c)).keys()) {
      const seen = firstFailure.get(name)
      firstFailure.set(name, { run: seen?.run ?? index, count: (seen?.count ?? 0) + 1 })
    }
  }), { seed: SEED, numRuns: NUM_RUNS })
  t.equal(run, NUM_RUNS, 'every generated case was evaluated')
  t.comment(`${NUM_RUNS} cases evaluated twice and checked in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  for (const name of ALL) {
    const failure = firstFailure.get(name)
    if (failure === undefined) {
      t.pass(name)
      continue
    }
    const { counterexample, failures } = await shrink(name, failure.run)
    t.fail(`${name}: ${failure.count} of ${NUM_RUNS} cases fail (first at run ${failure.run})`, {
      failures: failures.slice(0, 10),
      counterexample: JSON.stringify(counterexample),
      replay: `seed ${SEED}, path "${failure.run}"`
    })
  }
})

// The checks themselves must not be vacuous: each one rejects a response with a planted fault.
t.test('every check detects a planted fault', async (t) => {
  const base: Case = {
    context: { evaluationDate: '2026-03-01' },
    patient: { ageYears: 34, sex: 'female', ecog: 1, pregnant: true },
    tumor: { her2Ihc: '3+', erPercent: 50 },
    disease: { presentation: 'de_novo_metastatic', metastaticSites: ['bone'], spineLesions: [{ level: 'T9', painNrs: 6 }] }
  }
  const evaluation = await evaluateRaw(base, 'compiled')
  const items = evaluation.body.recommendations
  t.ok(items.length >= 2, 'the base case has recommendations to plant faults in')
  const item = items[0] as Item
  const plant = (change: (body: Evaluation['body']) => void, violations: string[] = []): Evaluation => {
    const body = structuredClone(evaluation.body)
    change(body)
    return { body, violations, filtering: evaluation.filtering }
  }
  const withOption = (id: Option['id'], strength: Option['strength'], targets?: string[]): Item =>
    ({ ...item, code: 'SYS-01', strength: 'recommended', options: [{ id, label: id, ...(strength === undefined ? {} : { strength }) }], ...(targets === undefined ? {} : { targets }) })
  // A rule of pass 3 of the real knowledge base, for the planted pass-3 items.
  const pass3Rule = (() => {
    const rule = knowledgeBase.rulesets.flatMap((ruleset) => ruleset.rules.map((definition) => ({ definition, ruleset })))
      .find(({ definition }) => definition.pass === 3 && definition.event.params.strengthNotCappedByOptions !== true)
    if (rule === undefined) throw new Error('no pass-3 rule')
    return { id: rule.definition.name, ruleset: rule.ruleset.id, rulesetVersion: rule.ruleset.version }
  })()
  const planted: Record<string, Evaluation> = {
    'no safety-invariant violation': plant(() => {}, ['SYS-01: planted']),
    'response parses with RecommendationResponse': plant((body) => { (body.assessment as { stage: string }).stage = 'III' }),
    'every item has evidence, a because trace and known option ids': plant((body) => { body.recommendations.push({ ...item, because: [] }) }),
    'brain-directed options only for target ["brain"] with brain metastases present': plant((body) => { body.recommendations.push(withOption('srs', undefined, ['brain'])) }),
    'cnsMetastases only with brain or leptomeningeal disease': plant((body) => { body.assessment.cnsMetastases = true }),
    'no HER2 option out of scope or when HER2 is not positive': plant((body) => {
      body.scope = { inScope: false, pathway: 'out_of_scope', reason: 'planted' }
      body.recommendations.push(withOption('tdxd', 'consider'))
    }),
    'pregnancy: no HER2 option, no bone-modifying agent': plant((body) => { body.recommendations.push(withOption('zoledronic_acid', undefined)) }),
    'contraindications win (CI-*, BMA-05, BMA-06 avoid ⇒ not offered elsewhere)': plant((body) => {
      body.recommendations.push({ ...withOption('tdxd', 'avoid'), code: 'CI-04', strength: 'avoid' }, withOption('tdxd', undefined))
    }),
    'recommendations ordered by strength, domain, code, target': plant((body) => { body.recommendations.push({ ...item, strength: 'urgent' }) }),
    'systemic coverage: an in-scope HER2-positive line decision offers a systemic option or says why not': plant((body) => {
      body.recommendations = body.recommendations.filter((entry) => !WHY_NO_SYSTEMIC.includes(entry.code) &&
        !(entry.options ?? []).some((option) => SYSTEMIC_OPTIONS.has(option.id) && isOffered(entry, option)))
    }),
    'pregnancy: staging names the pregnancy-appropriate modalities; every RT option carries the fetal-dose caveat and is never R': plant((body) => { body.recommendations.push(withOption('ebrt', undefined, ['T9'])) }),
    'no neurological record, no MSCC emergency (LOC-01 needs neuro)': plant((body) => { body.recommendations.push({ ...item, code: 'LOC-01' }) }),
    'no pass-3 item is R while every option it offers is C (red-team L6)': plant((body) => {
      body.recommendations.push({ ...withOption('ebrt', 'consider'), rule: pass3Rule })
    }),
    'HER2 equivocal or unknown: no clinical trial offered (HER2-status filter, r6)': plant((body) => {
      body.assessment.her2Status = 'equivocal'
      body.recommendations.push(withOption('clinical_trial', 'consider'))
    }),
    'HER2 equivocal in scope is the her2_status_pending pathway': plant((body) => { body.scope = { ...body.scope, pathway: 'her2_status_pending' } }),
    'each item\'s domain follows its code prefix': plant((body) => { body.recommendations.push({ ...item, code: 'FU-01', domain: 'classification' }) })
  }
  // Properties about a context the base case lacks: their own case, evaluated, then a planted fault.
  const contextual: Record<string, [Case, (body: Evaluation['body'], item: Item) => void]> = {
    'a toxicity stop while controlled gets SYS-14, or the filter that says why not (r7)': [
      {
        ...base,
        patient: { ageYears: 60, sex: 'female', ecog: 1, menopausalStatus: 'postmenopausal' },
        disease: { ...base.disease, extracranialStatus: 'stable' },
        history: { metastaticLines: [{ lineNumber: 1, agents: ['docetaxel', 'trastuzumab', 'pertuzumab'], outcome: 'toxicity', toxicAgents: ['docetaxel'] }] }
      },
      (body) => { body.recommendations = body.recommendations.filter((entry) => entry.code !== 'SYS-14') }
    ],
    'palliative care is R whenever intensive therapy is not appropriate (FU-07, r7)': [
      { ...base, patient: { ageYears: 60, sex: 'female', ecog: 3, menopausalStatus: 'postmenopausal' } },
      (body) => {
        const fu07 = body.recommendations.find((entry) => entry.code === 'FU-07') as Item
        fu07.options = (fu07.options ?? []).map((option) => (option.id === 'palliative_care' ? { ...option, strength: 'consider' as const } : option))
      }
    ],
    'vertebral augmentation only at a level graded Bilsky 0, 1a or 1b (LOC-04, LOC-08, r7)': [
      { ...base, disease: { ...base.disease, spineLesions: [{ level: 'T9', painNrs: 6, bilsky: '1c' }] } },
      (body, first) => { body.recommendations.push({ ...first, targets: ['T9'], options: [{ id: 'vertebral_augmentation', label: 'VA', strength: 'consider' }] }) }
    ],
    'CI-05 names the trimester when the gestational age is recorded (r7)': [
      { ...base, patient: { ...base.patient, gestationalWeeks: 20 } },
      (body) => {
        const ci05 = body.recommendations.find((entry) => entry.code === 'CI-05') as Item
        ci05.title = 'Pregnancy: no HER2-directed therapy'
      }
    ],
    'while SUP-01 treats hypercalcaemia, BMA-01 and BMA-04 offer no antiresorptive above consider (red-team H1)': [
      { ...base, patient: { ageYears: 60, sex: 'female', ecog: 1, menopausalStatus: 'postmenopausal', correctedCalcium: { value: 12.5, unit: 'mg/dL' } } },
      (body, first) => { body.recommendations.push({ ...first, code: 'BMA-01', options: [{ id: 'zoledronic_acid', label: 'ZA', strength: 'recommended' }] }) }
    ],
    'comfort-focused care: no routine restaging, no biopsy or LVEF schedule above consider': [
      { ...base, preferences: { goalsOfCare: 'comfort_focused' } },
      (body, first) => { body.recommendations.push({ ...first, code: 'FU-01' }) }
    ],
    'a man never gets ovarian-suppression or menopausal text': [
      { ...base, patient: { ageYears: 60, sex: 'male', ecog: 1 } },
      (body, first) => { body.recommendations.push({ ...first, detail: 'Endocrine therapy with ovarian function suppression.' }) }
    ],
    'HER2 therapy in every line (SYS-01) only when intensive therapy is appropriate': [
      { ...base, patient: { ...base.patient, ecog: 3 } },
      (body, first) => { body.recommendations.push({ ...first, code: 'SYS-01' }) }
    ],
    'hypercalcaemia always gets SUP-01, urgent when moderate or severe': [
      { ...base, patient: { ...base.patient, correctedCalcium: { value: 13, unit: 'mg/dL' } } },
      (body) => { body.recommendations = body.recommendations.filter((entry) => entry.code !== 'SUP-01') }
    ],
    'at a previously irradiated spine level the RT option is re-irradiation, never a first course': [
      { ...base, disease: { ...base.disease, spineLesions: [{ level: 'T9', painNrs: 6, priorRt: { doseGy: 8, fractions: 1, technique: 'conventional' } }] } },
      (body, first) => { body.recommendations.push({ ...first, targets: ['T9'], options: [{ id: 'ebrt', label: 'EBRT', strength: 'consider' }] }) }
    ]
  }
  for (const [name, check] of Object.entries(PROPERTIES)) {
    const context = contextual[name]
    if (context !== undefined) {
      const [own, change] = context
      const ownEvaluation = await evaluateRaw(own, 'compiled')
      t.strictSame(check(own, ownEvaluation), [], `${name}: holds for the unmodified response`)
      const body = structuredClone(ownEvaluation.body)
      change(body, body.recommendations[0] as Item)
      t.ok(check(own, { ...ownEvaluation, body, violations: [] }).length > 0, `${name}: detects the planted fault`)
      continue
    }
    const faulty = planted[name]
    if (faulty === undefined) {
      t.fail(`no planted fault for ${name}`)
      continue
    }
    t.strictSame(check(base, evaluation), [], `${name}: holds for the unmodified response`)
    t.ok(check(base, faulty).length > 0, `${name}: detects the planted fault`)
  }
})
