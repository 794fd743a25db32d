import t from 'tap'
import { filterForbidden, scopeOf, sortRecommendations } from '../../src/engine/evaluate.js'
import type { CaseFacts } from '../../src/engine/facts.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'

const item = (overrides: Partial<Recommendation>): Recommendation => ({
  code: 'LOC-06',
  domain: 'local_therapy',
  strength: 'recommended',
  title: 'A title',
  detail: 'A detail.',
  evidence: [{ ref: 'R8', citation: 'x', verification: 'verified' }],
  rule: { id: 'local-therapy/x', ruleset: 'local-therapy', rulesetVersion: '1.0.0' },
  because: [{ fact: 'inScope', operator: 'equal', value: true, actual: true }],
  ...overrides
})

t.test('order: strength, then domain, then code, then target', async (t) => {
  const items = [
    item({ code: 'FU-01', domain: 'follow_up', strength: 'info' }),
    item({ code: 'LOC-06', targets: ['T9'] }),
    item({ code: 'LOC-06', targets: ['L5'] }),
    item({ code: 'LOC-06' }),
    item({ code: 'SYS-02', domain: 'systemic_therapy' }),
    item({ code: 'CI-01', domain: 'systemic_therapy', strength: 'avoid' }),
    item({ code: 'LOC-01', strength: 'urgent' }),
    item({ code: 'CLS-05', domain: 'classification' })
  ]
  const sorted = sortRecommendations(items).map((entry) => `${entry.code}${entry.targets === undefined ? '' : `@${entry.targets.join(',')}`}`)
  t.strictSame(sorted, ['LOC-01', 'CI-01', 'CLS-05', 'LOC-06', 'LOC-06@L5', 'LOC-06@T9', 'SYS-02', 'FU-01'])
})

t.test('forbidden options leave offering items; avoid entries stay; emptied items go', async (t) => {
  const forbidden = new Set(['tdxd', 'thp'] as const)
  const kept = filterForbidden([
    item({ code: 'SYS-02', options: [{ id: 'thp', label: 'THP' }, { id: 'tdxd_pertuzumab', label: 'T-DXd + P' }] }),
    item({ code: 'SYS-09', options: [{ id: 'tdxd', label: 'T-DXd' }] }),
    item({ code: 'CI-04', strength: 'avoid', options: [{ id: 'tdxd', label: 'T-DXd' }] }),
    item({ code: 'SYS-03', options: [{ id: 'tdxd', label: 'T-DXd', strength: 'avoid' }, { id: 'clinical_trial', label: 'trial' }] }),
    item({ code: 'SYS-01' }),
    // Offered T-DXd is forbidden and only avoid entries would remain: nothing left to recommend.
    item({ code: 'SYS-04', options: [{ id: 'tdxd', label: 'T-DXd' }, { id: 'thp', label: 'THP', strength: 'avoid' }] }),
    // Never offered anything: an avoid item keeps saying what not to do.
    item({ code: 'PRIM-01', strength: 'avoid', options: [{ id: 'upfront_mastectomy', label: 'mastectomy' }] })
  ], forbidden)
  t.strictSame(kept.map((entry) => [entry.code, (entry.options ?? []).map((option) => option.id)]), [
    ['SYS-02', ['tdxd_pertuzumab']],
    ['CI-04', ['tdxd']],
    ['SYS-03', ['tdxd', 'clinical_trial']],
    ['SYS-01', []],
    ['PRIM-01', ['upfront_mastectomy']]
  ])
})

t.test('scope reasons name why a case is out of scope', async (t) => {
  const facts = (overrides: Partial<CaseFacts>): CaseFacts => ({ inScope: false, metastatic: true, her2Status: 'negative', ...overrides }) as CaseFacts
  t.strictSame(scopeOf(facts({ inScope: true })), { inScope: true, pathway: 'her2_positive_metastatic' })
  t.match(scopeOf(facts({ metastatic: false })), { inScope: false, pathway: 'out_of_scope', reason: /No distant metastasis/ })
  t.match(scopeOf(facts({})), { reason: /HER2-negative/ })
  t.match(scopeOf(facts({ her2Status: 'unknown' })), { reason: /HER2 status is unknown/ })
})

t.test('an item without targets sorts before one with targets of the same code', async (t) => {
  const bare = item({})
  const targeted = item({ targets: ['T1'] })
  t.strictSame(sortRecommendations([targeted, bare]), [bare, targeted])
  t.strictSame(sortRecommendations([bare, targeted]), [bare, targeted])
})
