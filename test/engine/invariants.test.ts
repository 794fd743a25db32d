import t from 'tap'
import { deriveFacts, type CaseFacts } from '../../src/engine/facts.js'
import { enforceSafetyInvariants as enforceOnEntries, type RuledItem } from '../../src/engine/invariants.js'
import type { Case } from '../../src/schemas/case.js'
import type { OptionId, Strength } from '../../src/schemas/common.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'

const EVALUATION_DATE = '2026-03-01'

interface Overrides { patient?: Partial<Case['patient']>, tumor?: Partial<Case['tumor']>, disease?: Partial<Case['disease']> }

const baseCase = ({ patient, tumor, disease }: Overrides = {}): Case => ({
  patient: { ageYears: 40, sex: 'female', ecog: 1, pregnant: false, ...patient },
  tumor: { her2Ihc: '3+', erPercent: 0, ...tumor },
  disease: { presentation: 'de_novo_metastatic', metastaticSites: ['bone'], ...disease }
})
const factsFor = (overrides: Overrides = {}): CaseFacts => deriveFacts(baseCase(overrides), EVALUATION_DATE).facts

const IN_SCOPE = factsFor()
const WITH_BRAIN = factsFor({ disease: { metastaticSites: ['bone', 'brain'], brain: { present: true, count: 2 } } })
const PREGNANT = factsFor({ patient: { pregnant: true } })
const HER2_EQUIVOCAL = factsFor({ tumor: { her2Ihc: '2+' } })
const HER2_NEGATIVE = factsFor({ tumor: { her2Ihc: '1+' } })
const NOT_METASTATIC = factsFor({ disease: { presentation: 'early', metastaticSites: [] } })

type Option = NonNullable<Recommendation['options']>[number]
const option = (id: OptionId, strength?: Strength): Option => ({ id, label: id, ...(strength === undefined ? {} : { strength }) })

const item = (code: string, options?: Option[], extra: Partial<Recommendation> = {}): Recommendation => ({
  code,
  domain: 'systemic_therapy',
  strength: 'recommended',
  title: `${code} title`,
  detail: `${code} detail`,
  ...(options === undefined ? {} : { options }),
  evidence: [{ ref: 'R1', citation: 'Synthetic citation', verification: 'verified' }],
  rule: { id: code.toLowerCase(), ruleset: 'test', rulesetVersion: '0.0.0' },
  because: [{ fact: 'inScope', label: 'In scope', operator: 'equal', value: true, actual: true }],
  ...extra
})

// The permission to appear out of scope is the rule's `allowedOutOfScope` param (spec Part 1 scope
// row). These tests give it to the rules of the codes the scope row names, the way the rule files do.
const OUT_OF_SCOPE_CODES: ReadonlySet<string> = new Set(['CLS-01', 'CLS-02', 'LOC-01', 'LOC-01b', 'LOC-02', 'LOC-03', 'CNS-02'])
const ruled = (item: Recommendation, allowedOutOfScope = OUT_OF_SCOPE_CODES.has(item.code)): RuledItem =>
  ({ item, rule: { definition: { event: { params: allowedOutOfScope ? { allowedOutOfScope: true } : {} } } } })
/** The invariants on bare items, each ruled as above. */
function enforceSafetyInvariants (items: Recommendation[], facts: CaseFacts): { items: Recommendation[], violations: string[] } {
  const { entries, violations } = enforceOnEntries(items.map((item) => ruled(item)), facts)
  return { items: entries.map(({ item }) => item), violations }
}

t.test('out of scope: the rule\'s allowedOutOfScope decides, not the code', async (t) => {
  const emergency = item('CI-05', undefined, { strength: 'urgent', detail: 'Pregnancy caution for the emergency measures.' })
  const allowed = ruled(emergency, true)
  const notAllowed = ruled({ ...emergency, rule: { ...emergency.rule, id: 'ci-05-in-scope' } }, false)
  const outOfScope = enforceOnEntries([allowed, notAllowed], HER2_NEGATIVE)
  t.strictSame(outOfScope.entries, [allowed], 'the permitted rule stays, the same object')
  t.equal(outOfScope.entries[0], allowed)
  t.strictSame(outOfScope.violations, ['CI-05: treatment item in an out-of-scope case'], 'the other is removed and reported')
  t.strictSame(enforceOnEntries([allowed, notAllowed], IN_SCOPE), { entries: [allowed, notAllowed], violations: [] }, 'in scope the permission is not needed')
  const lowered = enforceOnEntries([ruled(item('LOC-01', [option('dexamethasone')]), false)], NOT_METASTATIC)
  t.strictSame(lowered.entries, [], 'an emergency code whose rule lacks the permission is removed too')
})

t.test('clean items pass untouched', async (t) => {
  const items = [
    item('CLS-01', undefined, { domain: 'classification', strength: 'info' }),
    item('SYS-02', [option('thp'), option('tdxd_pertuzumab', 'consider')]),
    item('CNS-03', [option('srs'), option('wbrt_memantine_ha', 'consider')], { domain: 'local_therapy', targets: ['brain'] }),
    item('BMA-01', [option('denosumab'), option('zoledronic_acid')], { domain: 'supportive_care' }),
    item('LOC-06', [option('ebrt'), option('sbrt_spine')], { domain: 'local_therapy', targets: ['T7'] })
  ]
  const result = enforceSafetyInvariants(items, WITH_BRAIN)
  t.strictSame(result.violations, [])
  t.equal(result.items.length, items.length)
  items.forEach((original, i) => t.equal(result.items[i], original, `${original.code} is the same object`))
  t.strictSame(enforceSafetyInvariants([], IN_SCOPE), { items: [], violations: [] })
})

t.test('a brain-directed option without brain metastases is removed and reported', async (t) => {
  for (const id of ['srs', 'wbrt_memantine_ha', 'neurosurgical_resection'] as OptionId[]) {
    const result = enforceSafetyInvariants([item('CNS-03', [option(id)], { targets: ['brain'] })], IN_SCOPE)
    t.strictSame(result.items, [], `${id}: an item left without options is dropped`)
    t.strictSame(result.violations, [`CNS-03: brain-directed option ${id} without brain metastases or with a non-brain target`])
  }
  const brainInSitesOnly = factsFor({ disease: { metastaticSites: ['bone', 'brain'] } })
  t.equal(enforceSafetyInvariants([item('CNS-03', [option('srs')], { targets: ['brain'] })], brainInSitesOnly).violations.length, 1,
    'brain in sites without brain.present is not enough')
})

t.test('a brain-directed option with a non-brain or missing target is removed and reported', async (t) => {
  const rows: Array<[string, string[] | undefined]> = [['spine target', ['T7']], ['mixed targets', ['brain', 'T7']], ['no targets', undefined]]
  for (const [name, targets] of rows) {
    const input = item('LOC-02', [option('srs'), option('ebrt')], targets === undefined ? {} : { targets })
    const result = enforceSafetyInvariants([input], WITH_BRAIN)
    t.strictSame(result.violations, ['LOC-02: brain-directed option srs without brain metastases or with a non-brain target'], name)
    t.strictSame(result.items, [{ ...input, options: [option('ebrt')] }], `${name}: the other option stays`)
    t.not(result.items[0], input, `${name}: a repaired copy`)
    t.strictSame(input.options, [option('srs'), option('ebrt')], `${name}: the input is not mutated`)
  }
})

t.test('a brain-directed option is checked even at strength avoid', async (t) => {
  const result = enforceSafetyInvariants([item('CNS-04', [option('wbrt_memantine_ha', 'avoid'), option('srs')], { targets: ['brain'] })], IN_SCOPE)
  t.equal(result.violations.length, 2)
  t.strictSame(result.items, [])
})

t.test('a HER2 option offered while HER2 therapy is not allowed is removed and reported', async (t) => {
  const rows: Array<[string, CaseFacts, string]> = [
    ['HER2 equivocal (in scope)', HER2_EQUIVOCAL, 'SYS-02'],
    ['pregnant', PREGNANT, 'SYS-02'],
    ['out of scope, HER2 negative', HER2_NEGATIVE, 'LOC-01'],
    ['out of scope, not metastatic', NOT_METASTATIC, 'CLS-02']
  ]
  for (const [name, facts, code] of rows) {
    const input = item(code, [option('tdxd'), option('tucatinib_trastuzumab_capecitabine', 'consider'), option('chemotherapy_without_her2'), option('clinical_trial')])
    const result = enforceSafetyInvariants([input], facts)
    t.strictSame(result.violations, [
      `${code}: HER2 option tdxd offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)`,
      `${code}: HER2 option tucatinib_trastuzumab_capecitabine offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)`
    ], name)
    t.strictSame(result.items[0]?.options?.map((kept) => kept.id), ['chemotherapy_without_her2', 'clinical_trial'], `${name}: non-HER2 options stay`)
  }
  const onlyHer2 = enforceSafetyInvariants([item('SYS-09', [option('tdxd')])], PREGNANT)
  t.strictSame(onlyHer2.items, [], 'an item left without options is dropped')
  t.equal(onlyHer2.violations.length, 1)
})

t.test('avoid-strength HER2 options are allowed (an item says what not to do)', async (t) => {
  const optionAvoid = item('CI-05', [option('thp', 'avoid'), option('tdxd', 'avoid')])
  const itemAvoid = item('CI-01', [option('tdxd_pertuzumab'), option('trastuzumab_monotherapy')], { strength: 'avoid' })
  for (const [name, facts] of [['pregnant', PREGNANT], ['equivocal', HER2_EQUIVOCAL]] as const) {
    const result = enforceSafetyInvariants([optionAvoid, itemAvoid], facts)
    t.strictSame(result.violations, [], name)
    t.equal(result.items[0], optionAvoid, `${name}: option strength avoid`)
    t.equal(result.items[1], itemAvoid, `${name}: item strength avoid`)
  }
  const overridden = enforceSafetyInvariants([item('CI-01', [option('thp', 'consider')], { strength: 'avoid' })], PREGNANT)
  t.equal(overridden.violations.length, 1, 'an option\'s own strength overrides the item\'s avoid')
})

t.test('a bone-modifying agent offered in pregnancy is removed and reported', async (t) => {
  const input = item('BMA-01', [option('denosumab'), option('zoledronic_acid'), option('pamidronate', 'consider'), option('calcium_vitamin_d')], { domain: 'supportive_care' })
  const result = enforceSafetyInvariants([input], PREGNANT)
  t.strictSame(result.violations, [
    'BMA-01: bone-modifying agent denosumab offered in pregnancy',
    'BMA-01: bone-modifying agent zoledronic_acid offered in pregnancy',
    'BMA-01: bone-modifying agent pamidronate offered in pregnancy'
  ])
  t.strictSame(result.items[0]?.options?.map((kept) => kept.id), ['calcium_vitamin_d'])
  const avoided = item('BMA-06', [option('denosumab', 'avoid')], { domain: 'supportive_care' })
  t.strictSame(enforceSafetyInvariants([avoided], PREGNANT), { items: [avoided], violations: [] }, 'avoid is allowed')
  t.strictSame(enforceSafetyInvariants([input], IN_SCOPE), { items: [input], violations: [] }, 'not pregnant')
  const unknownPregnancy = factsFor({ patient: { ageYears: 60, pregnant: undefined } })
  t.strictSame(enforceSafetyInvariants([input], unknownPregnancy).violations, [], 'absent pregnancy counts as not pregnant')
})

t.test('a code outside the allowlist is dropped from an out-of-scope case', async (t) => {
  const allowed = [...OUT_OF_SCOPE_CODES].map((code) => item(code, code.startsWith('LOC') ? [option('dexamethasone'), option('decompressive_surgery')] : undefined))
  const treatment = [item('SYS-01'), item('BMA-01', [option('denosumab')]), item('FU-01', [option('restaging_imaging')]), item('CLS-03', [option('biopsy_metastasis')])]
  for (const [name, facts] of [['HER2 negative', HER2_NEGATIVE], ['not metastatic', NOT_METASTATIC]] as const) {
    const result = enforceSafetyInvariants([...treatment, ...allowed], facts)
    t.strictSame(result.items, allowed, `${name}: only the allowlisted codes remain, untouched`)
    t.strictSame(result.violations, treatment.map((dropped) => `${dropped.code}: treatment item in an out-of-scope case`), name)
  }
  const inScope = enforceSafetyInvariants(treatment, IN_SCOPE)
  t.strictSame(inScope, { items: treatment, violations: [] }, 'in scope every code may speak')
})

t.test('violations are reported in item order, and every clean item keeps its place', async (t) => {
  const first = item('SYS-02', [option('thp')])
  const second = item('CNS-03', [option('srs')], { targets: ['brain'] })
  const third = item('FU-01', [option('restaging_imaging')])
  const result = enforceSafetyInvariants([first, second, third], PREGNANT)
  t.strictSame(result.items, [third])
  t.strictSame(result.violations, [
    'SYS-02: HER2 option thp offered while HER2 therapy is not allowed (out of scope, HER2 unresolved or pregnant)',
    'CNS-03: brain-directed option srs without brain metastases or with a non-brain target'
  ])
})
