import t from 'tap'
import {
  BONE_MODIFYING_OPTIONS, BRAIN_DIRECTED_OPTIONS, CAPECITABINE_OPTIONS, CNS_ACTIVE_OPTIONS, SYSTEMIC_DRUG_OPTIONS,
  ENDOCRINE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS, HER2_OPTIONS, isOffered, OPTION_AGENTS, OPTION_LABELS, OPTION_VOCABULARY,
  RADIOTHERAPY_OPTIONS, SYSTEMIC_OPTIONS, TAXANES, TDM1_OR_TKI_OPTIONS, TDXD_OPTIONS
} from '../../src/engine/options.js'
import { ANTI_HER2_AGENTS, HER2_ANTIBODY_ADC_AGENTS } from '../../src/engine/history.js'
import { ENGINE_GROUPS } from '../../src/engine/option-vocabulary.js'
import { OPTION_IDS, SYSTEMIC_OPTION_IDS, type Agent, type OptionId } from '../../src/schemas/common.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'

/*
 * The option sets the engine reads must be what the specification's sentences define. The expected
 * sets are computed here from an independent transcription of spec/clinical-rules.md Part 1
 * ("Option composition" and the rows that name option sets), never from rules/options.json.
 */

// "a taxane (docetaxel, paclitaxel or nab_paclitaxel)" (r6)
const TAXANE: Agent[] = ['docetaxel', 'paclitaxel', 'nab_paclitaxel']
// `trastuzumab_chemotherapy`: "chemotherapy (capecitabine, vinorelbine, eribulin or gemcitabine)"
const CHEMOTHERAPY: Agent[] = ['capecitabine', 'vinorelbine', 'eribulin', 'gemcitabine']
// "endocrine therapy": the endocrine agents of the contract's Agent enum
const ENDOCRINE: Agent[] = ['aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression']
// `antiHer2Agents` (Part 1, Derived facts)
const ANTI_HER2: Agent[] = ['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'tucatinib', 'neratinib', 'lapatinib', 'margetuximab']

/** The option-composition table, row by row. */
const COMPOSITION_TABLE: Record<string, Agent[]> = {
  thp: [...TAXANE, 'trastuzumab', 'pertuzumab'],
  tdxd_pertuzumab: ['t_dxd', 'pertuzumab'],
  tdxd: ['t_dxd'],
  tucatinib_trastuzumab_capecitabine: ['tucatinib', 'trastuzumab', 'capecitabine'],
  tdm1: ['t_dm1'],
  tucatinib_tdm1: ['tucatinib', 't_dm1'],
  neratinib_capecitabine: ['neratinib', 'capecitabine'],
  lapatinib_capecitabine: ['lapatinib', 'capecitabine'],
  lapatinib_trastuzumab: ['lapatinib', 'trastuzumab'],
  // "margetuximab, chemotherapy": the chemotherapy partners of trastuzumab_chemotherapy (this service's reading)
  margetuximab_chemotherapy: ['margetuximab', ...CHEMOTHERAPY],
  trastuzumab_chemotherapy: ['trastuzumab', ...CHEMOTHERAPY],
  // "endocrine therapy, trastuzumab (± pertuzumab)"
  endocrine_her2: [...ENDOCRINE, 'trastuzumab', 'pertuzumab'],
  abemaciclib_trastuzumab_fulvestrant: ['abemaciclib', 'trastuzumab', 'fulvestrant'],
  hp_maintenance: ['trastuzumab', 'pertuzumab'],
  endocrine_maintenance: ['trastuzumab', 'pertuzumab', ...ENDOCRINE],
  // "+ palbociclib … on trastuzumab and pertuzumab", after endocrine_maintenance's "+ endocrine therapy";
  // CI-05 and the men's paragraph count it among the endocrine options.
  palbociclib_maintenance: ['trastuzumab', 'pertuzumab', 'palbociclib', ...ENDOCRINE],
  tucatinib_maintenance: ['trastuzumab', 'pertuzumab', 'tucatinib'],
  endocrine_therapy: ENDOCRINE,
  // "chemotherapy alone": every chemotherapy agent of the contract's Agent enum
  chemotherapy_without_her2: [...TAXANE, ...CHEMOTHERAPY, 'carboplatin', 'anthracycline', 'cyclophosphamide'],
  trastuzumab_monotherapy: ['trastuzumab']
}
const TABLE_OPTIONS = Object.keys(COMPOSITION_TABLE) as OptionId[]
const containing = (agents: readonly Agent[]): OptionId[] =>
  TABLE_OPTIONS.filter((id) => (COMPOSITION_TABLE[id] as Agent[]).some((agent) => agents.includes(agent)))
const sorted = (ids: Iterable<string>): string[] => [...ids].sort()

t.test('every composition-table option contains exactly the agents of its row', async (t) => {
  t.strictSame(sorted(Object.keys(OPTION_AGENTS)), sorted(TABLE_OPTIONS), 'no option outside the table has agents')
  for (const id of TABLE_OPTIONS) t.strictSame(sorted(OPTION_AGENTS[id] ?? []), sorted(COMPOSITION_TABLE[id] as Agent[]), id)
  t.strictSame(sorted(TAXANES), sorted(TAXANE), 'a taxane includes nab_paclitaxel (r6)')
})

t.test('each option set is what the specification\'s sentence defines', async (t) => {
  const expected: Array<[string, ReadonlySet<OptionId>, Iterable<string>]> = [
    ['"HER2 option": any option with an anti-HER2 agent', HER2_OPTIONS, containing(ANTI_HER2)],
    ['"HER2 antibody/ADC option": any option with trastuzumab, pertuzumab, t_dm1, t_dxd or margetuximab', HER2_ANTIBODY_ADC_OPTIONS,
      containing(['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'margetuximab'])],
    ['"Capecitabine option": the three with capecitabine in their id', CAPECITABINE_OPTIONS, OPTION_IDS.filter((id) => id.includes('capecitabine'))],
    ['CI-04: `tdxd` or `tdxd_pertuzumab`', TDXD_OPTIONS, ['tdxd', 'tdxd_pertuzumab']],
    ['CI-07: an option containing t_dm1, tucatinib, neratinib or lapatinib', TDM1_OR_TKI_OPTIONS, containing(['t_dm1', 'tucatinib', 'neratinib', 'lapatinib'])],
    ['CNS-05: a CNS-active option (`tucatinib_trastuzumab_capecitabine` or `tdxd`)', CNS_ACTIVE_OPTIONS, ['tucatinib_trastuzumab_capecitabine', 'tdxd']],
    ['brain-directed measures (`srs`, `wbrt_memantine_ha`, `neurosurgical_resection`)', BRAIN_DIRECTED_OPTIONS, ['srs', 'wbrt_memantine_ha', 'neurosurgical_resection']],
    ['BMA-05/BMA-06/CI-05: `denosumab`, `zoledronic_acid`, `pamidronate`', BONE_MODIFYING_OPTIONS, ['denosumab', 'zoledronic_acid', 'pamidronate']],
    ['pregnancyRt: every radiotherapy option', RADIOTHERAPY_OPTIONS,
      ['ebrt', 'sbrt_spine', 'reirradiation', 'postoperative_rt', 'srs', 'wbrt_memantine_ha', 'metastasis_directed_therapy']],
    ['CI-05: every endocrine option', ENDOCRINE_OPTIONS,
      ['endocrine_her2', 'endocrine_maintenance', 'endocrine_therapy', 'abemaciclib_trastuzumab_fulvestrant', 'palbociclib_maintenance']],
    ['the option-composition table', SYSTEMIC_DRUG_OPTIONS, TABLE_OPTIONS],
    ['"systemic option": an option of this table or `clinical_trial`', SYSTEMIC_OPTIONS, [...TABLE_OPTIONS, 'clinical_trial']]
  ]
  for (const [sentence, actual, wanted] of expected) t.strictSame(sorted(actual), sorted(wanted), sentence)
  t.equal(expected.length, ENGINE_GROUPS.length, 'every group the engine reads is checked')
})

t.test('the sets agree with each other and with the contract', async (t) => {
  t.strictSame(sorted(SYSTEMIC_OPTIONS), sorted(SYSTEMIC_OPTION_IDS), 'the systemic options are api.md\'s systemic ids')
  t.strictSame(sorted(ENDOCRINE_OPTIONS), sorted(containing(ENDOCRINE)), 'the endocrine options are those with an endocrine agent')
  t.notOk(CAPECITABINE_OPTIONS.has('trastuzumab_chemotherapy'), 'trastuzumab_chemotherapy is not a capecitabine option (its partner may differ)')
  for (const id of HER2_ANTIBODY_ADC_OPTIONS) t.ok(HER2_OPTIONS.has(id), `${id}: every antibody/ADC option is a HER2 option`)
  for (const id of [...BRAIN_DIRECTED_OPTIONS, ...BONE_MODIFYING_OPTIONS, ...RADIOTHERAPY_OPTIONS]) t.notOk(SYSTEMIC_OPTIONS.has(id), `${id} is not systemic`)
  t.strictSame(sorted(ANTI_HER2_AGENTS), sorted(ANTI_HER2), 'history.ts still exports antiHer2Agents')
  t.strictSame(sorted(HER2_ANTIBODY_ADC_AGENTS), sorted(['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'margetuximab']))
})

t.test('a set lists its members in the vocabulary\'s order, which group expansion follows', async (t) => {
  for (const [set, name] of [[HER2_OPTIONS, 'her2'], [RADIOTHERAPY_OPTIONS, 'radiotherapy']] as const) {
    t.strictSame([...set], OPTION_VOCABULARY.order.filter((id) => set.has(id)), name)
  }
})

t.test('every option id has a label of its own, for the responses', async (t) => {
  const labels = OPTION_IDS.map((id) => OPTION_LABELS[id])
  t.ok(labels.every((label) => typeof label === 'string' && label.trim().length > 0), 'a non-empty label for every id')
  t.equal(new Set(labels).size, labels.length, 'no two options share a label')
})

t.test('an option is offered unless its effective strength is avoid', async (t) => {
  const item = (strength: Recommendation['strength']): Recommendation => ({ strength } as Recommendation)
  const option = (strength?: Recommendation['strength']): NonNullable<Recommendation['options']>[number] =>
    ({ id: 'tdxd', label: 'T-DXd', ...(strength === undefined ? {} : { strength }) })
  t.ok(isOffered(item('recommended'), option()), 'the item\'s strength applies')
  t.notOk(isOffered(item('avoid'), option()), 'an avoid item\'s options are not offered')
  t.ok(isOffered(item('avoid'), option('consider')), 'an option\'s own strength wins')
  t.notOk(isOffered(item('recommended'), option('avoid')))
})
