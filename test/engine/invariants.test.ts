import t from 'tap'
import { deriveFacts, type CaseFacts } from '../../src/engine/facts.js'
import { enforceSafetyInvariants as enforceOnEntries, type RuledItem } from '../../src/engine/invariants.js'
import type { OptionId } from '../../src/schemas/common.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'
import { caseOf, item, option, type CaseOverrides } from '../fixtures/factories.js'

const EVALUATION_DATE = '2026-03-01'

const factsFor = (overrides: CaseOverrides = {}): CaseFacts => deriveFacts(caseOf(overrides), EVALUATION_DATE).facts

const IN_SCOPE = factsFor()
const WITH_BRAIN = factsFor({ disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 2 } } })
const PREGNANT = factsFor({ patient: { ageYears: 40, pregnant: true } })
const HER2_EQUIVOCAL = factsFor({ tumor: { her2Ihc: '2+' } })
const HER2_NEGATIVE = factsFor({ tumor: { her2Ihc: '1+' } })
const NOT_METASTATIC = factsFor({ disease: { presentation: 'early', metastaticSites: [] } })

// The permission to appear out of scope is the rule's `allowedOutOfScope` param; which rules carry
// it (spec Part 1 scope row) is pinned by the rule cases ("LOC-01 fires out of scope …").
const ruled = (item: Recommendation, allowedOutOfScope = false): RuledItem =>
  ({ item, rule: { definition: { event: { params: allowedOutOfScope ? { allowedOutOfScope: true } : {} } } } })
/** The invariants on bare items, whose rules lack the out-of-scope permission. */
function enforceSafetyInvariants (items: Recommendation[], facts: CaseFacts): { items: Recommendation[], violations: string[] } {
  const { entries, violations } = enforceOnEntries(items.map((item) => ruled(item)), facts)
  return { items: entries.map(({ item }) => item), violations }
}

t.test('out of scope: the rule\'s allowedOutOfScope decides, not the code', async (t) => {
  const emergency = item({ code: 'CI-05', strength: 'urgent', detail: 'Pregnancy caution for the emergency measures.' })
  const allowed = ruled(emergency, true)
  const notAllowed = ruled({ ...emergency, rule: { ...emergency.rule, id: 'ci-05-in-scope' } }, false)
  const outOfScope = enforceOnEntries([allowed, notAllowed], HER2_NEGATIVE)
  t.strictSame(outOfScope.entries, [allowed], 'the permitted rule stays, the same object')
  t.equal(outOfScope.entries[0], allowed)
  t.strictSame(outOfScope.violations, ['CI-05: treatment item in an out-of-scope case'], 'the other is removed and reported')
  t.strictSame(enforceOnEntries([allowed, notAllowed], IN_SCOPE), { entries: [allowed, notAllowed], violations: [] }, 'in scope the permission is not needed')
  const lowered = enforceOnEntries([ruled(item({ code: 'LOC-01', options: [option('dexamethasone')] }), false)], NOT_METASTATIC)
  t.strictSame(lowered.entries, [], 'an emergency code whose rule lacks the permission is removed too')
})

t.test('clean items pass untouched', async (t) => {
  const items = [
    item({ code: 'CLS-01', domain: 'classification', strength: 'info' }),
    item({ code: 'SYS-02', options: [option('thp'), option('tdxd_pertuzumab', 'consider')] }),
    item({ code: 'CNS-03', options: [option('srs'), option('wbrt_memantine_ha', 'consider')], domain: 'local_therapy', targets: ['brain'] }),
    item({ code: 'BMA-01', options: [option('denosumab'), option('zoledronic_acid')], domain: 'supportive_care' }),
    item({ code: 'LOC-06', options: [option('ebrt'), option('sbrt_spine')], domain: 'local_therapy', targets: ['T7'] })
  ]
  const result = enforceSafetyInvariants(items, WITH_BRAIN)
  t.strictSame(result.violations, [])
  t.equal(result.items.length, items.length)
  items.forEach((original, i) => t.equal(result.items[i], original, `${original.code} is the same object`))
  t.strictSame(enforceSafetyInvariants([], IN_SCOPE), { items: [], violations: [] })
})

t.test('a brain-directed option without brain metastases is removed and reported', async (t) => {
  for (const id of ['srs', 'wbrt_memantine_ha', 'neurosurgical_resection'] as OptionId[]) {
    const result = enforceSafetyInvariants([item({ code: 'CNS-03', options: [option(id)], targets: ['brain'] })], IN_SCOPE)
    t.strictSame(result.items, [], `${id}: an item left without options is dropped`)
    t.strictSame(result.violations, [`CNS-03: brain-directed option ${id} without brain metastases or with a non-brain target`])
  }
  const brainInSitesOnly = factsFor({ disease: { metastaticSites: ['bone', 'brain'] } })
  t.equal(enforceSafetyInvariants([item({ code: 'CNS-03', options: [option('srs')], targets: ['brain'] })], brainInSitesOnly).violations.length, 1,
    'brain in sites without brain.present is not enough')
})

t.test('a brain-directed option with a non-brain or missing target is removed and reported', async (t) => {
  const rows: Array<[string, string[] | undefined]> = [['spine target', ['T7']], ['mixed targets', ['brain', 'T7']], ['no targets', undefined]]
  for (const [name, targets] of rows) {
    const input = item({ code: 'LOC-02', options: [option('srs'), option('ebrt')], ...targets === undefined ? {} : { targets } })
    const result = enforceSafetyInvariants([input], WITH_BRAIN)
    t.strictSame(result.violations, ['LOC-02: brain-directed option srs without brain metastases or with a non-brain target'], name)
    t.strictSame(result.items, [{ ...input, options: [option('ebrt')] }], `${name}: the other option stays`)
    t.not(result.items[0], input, `${name}: a repaired copy`)
    t.strictSame(input.options, [option('srs'), option('ebrt')], `${name}: the input is not mutated`)
  }
})

t.test('a brain-directed option is checked even at strength avoid', async (t) => {
  const result = enforceSafetyInvariants([item({ code: 'CNS-04', options: [option('wbrt_memantine_ha', 'avoid'), option('srs')], targets: ['brain'] })], IN_SCOPE)
  t.equal(result.violations.length, 2)
  t.strictSame(result.items, [])
})

t.test('a HER2 option offered while HER2 therapy is not allowed is removed and reported', async (t) => {
  // Out of scope the item's rule is permitted there (an emergency), so that only its options are judged.
  const rows: Array<[string, CaseFacts, string]> = [
    ['HER2 equivocal (in scope)', HER2_EQUIVOCAL, 'SYS-02'],
    ['pregnant', PREGNANT, 'SYS-02'],
    ['out of scope, HER2 negative', HER2_NEGATIVE, 'LOC-01'],
    ['out of scope, not metastatic', NOT_METASTATIC, 'CLS-02']
  ]
  for (const [name, facts, code] of rows) {
    const input = item({ code, options: [option('tdxd'), option('tucatinib_trastuzumab_capecitabine', 'consider'), option('chemotherapy_without_her2'), option('clinical_trial')] })
    const result = enforceOnEntries([ruled(input, true)], facts)
    t.strictSame(result.violations, [
      `${code}: HER2 option tdxd offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)`,
      `${code}: HER2 option tucatinib_trastuzumab_capecitabine offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)`
    ], name)
    t.strictSame(result.entries[0]?.item.options?.map((kept) => kept.id), ['chemotherapy_without_her2', 'clinical_trial'], `${name}: non-HER2 options stay`)
  }
  const onlyHer2 = enforceSafetyInvariants([item({ code: 'SYS-09', options: [option('tdxd')] })], PREGNANT)
  t.strictSame(onlyHer2.items, [], 'an item left without options is dropped')
  t.equal(onlyHer2.violations.length, 1)
})

t.test('avoid-strength HER2 options are allowed (an item says what not to do)', async (t) => {
  const optionAvoid = item({ code: 'CI-05', options: [option('thp', 'avoid'), option('tdxd', 'avoid')] })
  const itemAvoid = item({ code: 'CI-01', options: [option('tdxd_pertuzumab'), option('trastuzumab_monotherapy')], strength: 'avoid' })
  for (const [name, facts] of [['pregnant', PREGNANT], ['equivocal', HER2_EQUIVOCAL]] as const) {
    const result = enforceSafetyInvariants([optionAvoid, itemAvoid], facts)
    t.strictSame(result.violations, [], name)
    t.equal(result.items[0], optionAvoid, `${name}: option strength avoid`)
    t.equal(result.items[1], itemAvoid, `${name}: item strength avoid`)
  }
  const overridden = enforceSafetyInvariants([item({ code: 'CI-01', options: [option('thp', 'consider')], strength: 'avoid' })], PREGNANT)
  t.equal(overridden.violations.length, 1, 'an option\'s own strength overrides the item\'s avoid')
})

t.test('a bone-modifying agent offered in pregnancy is removed and reported', async (t) => {
  const input = item({ code: 'BMA-01', options: [option('denosumab'), option('zoledronic_acid'), option('pamidronate', 'consider'), option('calcium_vitamin_d')], domain: 'supportive_care' })
  const result = enforceSafetyInvariants([input], PREGNANT)
  t.strictSame(result.violations, [
    'BMA-01: bone-modifying agent denosumab offered in pregnancy',
    'BMA-01: bone-modifying agent zoledronic_acid offered in pregnancy',
    'BMA-01: bone-modifying agent pamidronate offered in pregnancy'
  ])
  t.strictSame(result.items[0]?.options?.map((kept) => kept.id), ['calcium_vitamin_d'])
  const avoided = item({ code: 'BMA-06', options: [option('denosumab', 'avoid')], domain: 'supportive_care' })
  t.strictSame(enforceSafetyInvariants([avoided], PREGNANT), { items: [avoided], violations: [] }, 'avoid is allowed')
  t.strictSame(enforceSafetyInvariants([input], factsFor({ patient: { ageYears: 40, pregnant: false } })), { items: [input], violations: [] }, 'not pregnant')
  t.strictSame(enforceSafetyInvariants([input], IN_SCOPE).violations, [], 'absent pregnancy counts as not pregnant')
})

t.test('out of scope, only the items whose rule is permitted stay, untouched; the others are dropped and reported', async (t) => {
  const permitted = [
    ruled(item({ code: 'CLS-01', domain: 'classification', strength: 'info' }), true),
    ruled(item({ code: 'LOC-01', domain: 'local_therapy', strength: 'urgent', options: [option('dexamethasone'), option('decompressive_surgery')] }), true)
  ]
  const treatment = [item(), item({ code: 'BMA-01', options: [option('denosumab')] }), item({ code: 'FU-01', options: [option('restaging_imaging')] }), item({ code: 'CLS-03', options: [option('biopsy_metastasis')] })]
  for (const [name, facts] of [['HER2 negative', HER2_NEGATIVE], ['not metastatic', NOT_METASTATIC]] as const) {
    const result = enforceOnEntries([...treatment.map((dropped) => ruled(dropped)), ...permitted], facts)
    t.strictSame(result.entries, permitted, `${name}: only the permitted items remain`)
    result.entries.forEach((entry, i) => t.equal(entry, permitted[i], `${name}: ${entry.item.code} is the same entry`))
    t.strictSame(result.violations, treatment.map((dropped) => `${dropped.code}: treatment item in an out-of-scope case`), name)
  }
  const inScope = enforceSafetyInvariants(treatment, IN_SCOPE)
  t.strictSame(inScope, { items: treatment, violations: [] }, 'in scope every item may speak')
})

t.test('violations are reported in item order, and every clean item keeps its place', async (t) => {
  const first = item({ code: 'SYS-02', options: [option('thp')] })
  const second = item({ code: 'CNS-03', options: [option('srs')], targets: ['brain'] })
  const third = item({ code: 'FU-01', options: [option('restaging_imaging')] })
  const result = enforceSafetyInvariants([first, second, third], PREGNANT)
  t.strictSame(result.items, [third])
  t.strictSame(result.violations, [
    'SYS-02: HER2 option thp offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)',
    'CNS-03: brain-directed option srs without brain metastases or with a non-brain target'
  ])
})
