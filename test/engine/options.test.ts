import t from 'tap'
import {
  BONE_MODIFYING_OPTIONS, BRAIN_DIRECTED_OPTIONS, CAPECITABINE_OPTIONS, CNS_ACTIVE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS,
  HER2_OPTIONS, OPTION_AGENTS, OPTION_LABELS, SYSTEMIC_OPTIONS, TDM1_OR_TKI_OPTIONS, TDXD_OPTIONS
} from '../../src/engine/options.js'
import { OPTION_IDS, SYSTEMIC_OPTION_IDS, type Agent, type OptionId } from '../../src/schemas/common.js'

const sorted = (ids: ReadonlySet<OptionId>): OptionId[] => [...ids].sort()
const contains = (id: OptionId, agent: Agent): boolean => (OPTION_AGENTS[id] ?? []).includes(agent)

t.test('OPTION_LABELS: a non-empty label for every option id', async (t) => {
  t.strictSame(Object.keys(OPTION_LABELS).sort(), [...OPTION_IDS].sort())
  for (const id of OPTION_IDS) t.ok(OPTION_LABELS[id].length > 0, id)
})

t.test('OPTION_AGENTS: every systemic option but clinical_trial, per the composition table', async (t) => {
  t.strictSame(Object.keys(OPTION_AGENTS).sort(), SYSTEMIC_OPTION_IDS.filter((id) => id !== 'clinical_trial').sort())
  const rows: Array<[OptionId, Agent[], Agent[]]> = [
    // option, must contain, must not contain
    ['thp', ['docetaxel', 'paclitaxel', 'trastuzumab', 'pertuzumab'], ['t_dxd', 'capecitabine']],
    ['tdxd_pertuzumab', ['t_dxd', 'pertuzumab'], ['trastuzumab']],
    ['tdxd', ['t_dxd'], ['pertuzumab', 'trastuzumab']],
    ['tucatinib_trastuzumab_capecitabine', ['tucatinib', 'trastuzumab', 'capecitabine'], ['t_dm1']],
    ['tdm1', ['t_dm1'], ['trastuzumab', 'tucatinib']],
    ['tucatinib_tdm1', ['tucatinib', 't_dm1'], ['trastuzumab', 'capecitabine']],
    ['neratinib_capecitabine', ['neratinib', 'capecitabine'], ['trastuzumab']],
    ['lapatinib_capecitabine', ['lapatinib', 'capecitabine'], ['trastuzumab']],
    ['lapatinib_trastuzumab', ['lapatinib', 'trastuzumab'], ['capecitabine']],
    ['margetuximab_chemotherapy', ['margetuximab'], ['trastuzumab']],
    ['trastuzumab_chemotherapy', ['trastuzumab', 'capecitabine', 'vinorelbine', 'eribulin', 'gemcitabine'], ['pertuzumab']],
    ['endocrine_her2', ['trastuzumab', 'aromatase_inhibitor', 'fulvestrant'], ['abemaciclib']],
    ['abemaciclib_trastuzumab_fulvestrant', ['abemaciclib', 'trastuzumab', 'fulvestrant'], ['pertuzumab']],
    ['trastuzumab_monotherapy', ['trastuzumab'], ['pertuzumab', 'docetaxel']],
    ['hp_maintenance', ['trastuzumab', 'pertuzumab'], ['docetaxel', 'paclitaxel']],
    ['endocrine_maintenance', ['trastuzumab', 'pertuzumab', 'aromatase_inhibitor'], ['palbociclib']],
    ['palbociclib_maintenance', ['trastuzumab', 'pertuzumab', 'palbociclib'], ['tucatinib']],
    ['tucatinib_maintenance', ['trastuzumab', 'pertuzumab', 'tucatinib'], ['palbociclib']],
    ['endocrine_therapy', ['aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression'], ['trastuzumab', 'pertuzumab']],
    ['chemotherapy_without_her2', ['docetaxel', 'paclitaxel', 'capecitabine'], ['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'tucatinib', 'neratinib', 'lapatinib', 'margetuximab']]
  ]
  for (const [id, present, absent] of rows) {
    for (const agent of present) t.ok(contains(id, agent), `${id} contains ${agent}`)
    for (const agent of absent) t.notOk(contains(id, agent), `${id} does not contain ${agent}`)
  }
})

t.test('SYSTEMIC_OPTIONS: exactly the systemic option ids', async (t) => {
  t.strictSame(sorted(SYSTEMIC_OPTIONS), [...SYSTEMIC_OPTION_IDS].sort())
})

t.test('HER2_OPTIONS: every option with an antibody, an ADC or a TKI', async (t) => {
  t.strictSame(sorted(HER2_OPTIONS), [
    'abemaciclib_trastuzumab_fulvestrant', 'endocrine_her2', 'endocrine_maintenance', 'hp_maintenance',
    'lapatinib_capecitabine', 'lapatinib_trastuzumab', 'margetuximab_chemotherapy', 'neratinib_capecitabine',
    'palbociclib_maintenance', 'tdm1', 'tdxd', 'tdxd_pertuzumab', 'thp', 'trastuzumab_chemotherapy',
    'trastuzumab_monotherapy', 'tucatinib_maintenance', 'tucatinib_tdm1', 'tucatinib_trastuzumab_capecitabine'
  ])
  for (const id of ['endocrine_therapy', 'chemotherapy_without_her2', 'clinical_trial', 'denosumab', 'srs'] as OptionId[]) {
    t.notOk(HER2_OPTIONS.has(id), `${id} is not a HER2 option`)
  }
})

t.test('HER2_ANTIBODY_ADC_OPTIONS: the HER2 options with trastuzumab, pertuzumab, T-DM1, T-DXd or margetuximab', async (t) => {
  t.strictSame(sorted(HER2_ANTIBODY_ADC_OPTIONS), [
    'abemaciclib_trastuzumab_fulvestrant', 'endocrine_her2', 'endocrine_maintenance', 'hp_maintenance',
    'lapatinib_trastuzumab', 'margetuximab_chemotherapy', 'palbociclib_maintenance', 'tdm1', 'tdxd',
    'tdxd_pertuzumab', 'thp', 'trastuzumab_chemotherapy', 'trastuzumab_monotherapy', 'tucatinib_maintenance',
    'tucatinib_tdm1', 'tucatinib_trastuzumab_capecitabine'
  ])
  t.notOk(HER2_ANTIBODY_ADC_OPTIONS.has('neratinib_capecitabine'), 'a TKI with capecitabine only')
  t.notOk(HER2_ANTIBODY_ADC_OPTIONS.has('lapatinib_capecitabine'), 'a TKI with capecitabine only')
  for (const id of HER2_ANTIBODY_ADC_OPTIONS) t.ok(HER2_OPTIONS.has(id), `${id} is also a HER2 option`)
})

t.test('CAPECITABINE_OPTIONS: exactly the three with capecitabine in their id', async (t) => {
  t.strictSame(sorted(CAPECITABINE_OPTIONS), ['lapatinib_capecitabine', 'neratinib_capecitabine', 'tucatinib_trastuzumab_capecitabine'])
  t.strictSame(sorted(CAPECITABINE_OPTIONS), OPTION_IDS.filter((id) => id.includes('capecitabine')).sort())
  t.notOk(CAPECITABINE_OPTIONS.has('trastuzumab_chemotherapy'), 'its partner may be another drug')
  t.notOk(CAPECITABINE_OPTIONS.has('chemotherapy_without_her2'))
})

t.test('TDXD_OPTIONS, TDM1_OR_TKI_OPTIONS and CNS_ACTIVE_OPTIONS', async (t) => {
  t.strictSame(sorted(TDXD_OPTIONS), ['tdxd', 'tdxd_pertuzumab'])
  t.strictSame(sorted(TDM1_OR_TKI_OPTIONS), [
    'lapatinib_capecitabine', 'lapatinib_trastuzumab', 'neratinib_capecitabine', 'tdm1', 'tucatinib_maintenance',
    'tucatinib_tdm1', 'tucatinib_trastuzumab_capecitabine'
  ])
  t.strictSame(sorted(CNS_ACTIVE_OPTIONS), ['tdxd', 'tucatinib_trastuzumab_capecitabine'])
})

t.test('BRAIN_DIRECTED_OPTIONS and BONE_MODIFYING_OPTIONS', async (t) => {
  t.strictSame(sorted(BRAIN_DIRECTED_OPTIONS), ['neurosurgical_resection', 'srs', 'wbrt_memantine_ha'])
  t.strictSame(sorted(BONE_MODIFYING_OPTIONS), ['denosumab', 'pamidronate', 'zoledronic_acid'])
  for (const id of [...BRAIN_DIRECTED_OPTIONS, ...BONE_MODIFYING_OPTIONS]) t.notOk(SYSTEMIC_OPTIONS.has(id), `${id} is not systemic`)
})
