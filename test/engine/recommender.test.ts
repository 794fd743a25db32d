import t from 'tap'
import { scopeOf, sortRecommendations } from '../../src/engine/recommender.js'
import type { CaseFacts } from '../../src/engine/facts.js'
import type { Recommendation } from '../../src/schemas/recommendation.js'
import { evaluateRaw } from '../fixtures/engine.js'

const item = (overrides: Partial<Recommendation>): Recommendation => ({
  code: 'LOC-06',
  domain: 'local_therapy',
  strength: 'recommended',
  title: 'A title',
  detail: 'A detail.',
  evidence: [{ ref: 'R8', verification: 'verified' }],
  rule: { id: 'local-therapy/x', ruleset: 'local-therapy', rulesetVersion: '1.0.0' },
  because: [{ fact: 'inScope', label: 'In scope', operator: 'equal', value: true, actual: true }],
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

t.test('scope reasons name why a case is out of scope', async (t) => {
  const facts = (overrides: Partial<CaseFacts>): CaseFacts => ({ inScope: false, metastatic: true, her2Status: 'negative', her2Ihc: '1+', ...overrides }) as CaseFacts
  t.match(scopeOf(facts({ metastatic: false })), { inScope: false, pathway: 'out_of_scope', reason: /No distant metastasis/ })
  t.match(scopeOf(facts({})), { inScope: false, pathway: 'out_of_scope', reason: /HER2-negative/ })
  t.match(scopeOf(facts({ her2Status: 'unknown', her2Ihc: 'not_done' })), { inScope: false, pathway: 'out_of_scope', reason: /HER2 status is unknown/ })
})

// r7: scope.pathway (spec Part 1 scope row; api.md scope).
t.test('scope.pathway: her2_positive_metastatic only with HER2 positive; her2_status_pending while equivocal', async (t) => {
  const facts = (overrides: Partial<CaseFacts>): CaseFacts => ({ inScope: true, metastatic: true, ...overrides }) as CaseFacts
  t.strictSame(scopeOf(facts({ her2Status: 'positive', her2Ihc: '3+' })), { inScope: true, pathway: 'her2_positive_metastatic' }, 'positive: no reason')
  t.strictSame(scopeOf(facts({ her2Status: 'equivocal', her2Ihc: '2+' })), {
    inScope: true,
    pathway: 'her2_status_pending',
    reason: 'HER2 IHC 2+ without a deciding ISH result: resolve HER2 status (ISH) before any HER2-directed therapy.'
  }, 'IHC 2+ without a deciding ISH result')
  t.match(scopeOf(facts({ her2Status: 'equivocal', her2Ihc: 'not_done' })), {
    inScope: true, pathway: 'her2_status_pending', reason: /does not decide without IHC.*before any HER2-directed therapy/
  }, 'equivocal ISH without IHC: pending, with a reason that does not claim IHC 2+')
  t.notMatch(scopeOf(facts({ her2Status: 'equivocal', her2Ihc: 'not_done' })).reason, /IHC 2\+/)
})

t.test('an item without targets sorts before one with targets of the same code', async (t) => {
  const bare = item({})
  const targeted = item({ targets: ['T1'] })
  t.strictSame(sortRecommendations([targeted, bare]), [bare, targeted])
  t.strictSame(sortRecommendations([bare, targeted]), [bare, targeted])
})

// api.md revision 8: each because item names its fact in clinical words and the request fields it came from.
t.test('because items carry the fact\'s label and the JSON pointers of the request fields it was derived from', async (t) => {
  const { body } = await evaluateRaw({
    context: { evaluationDate: '2026-03-01' },
    patient: { ageYears: 60, sex: 'female', ecog: 1, menopausalStatus: 'postmenopausal' },
    tumor: { her2Ihc: '3+', erPercent: 0 },
    disease: {
      presentation: 'de_novo_metastatic',
      metastaticSites: ['bone'],
      neuro: { deficit: 'none' },
      spineLesions: [{ level: 'T4', painNrs: 0, bilsky: '0', sinsTotal: 3 }, { level: 'L2', painNrs: 6, bilsky: '0', sinsTotal: 5 }]
    }
  })
  const loc06 = body.recommendations.find((item) => item.code === 'LOC-06')
  t.strictSame(loc06?.targets, ['L2'])
  t.match(loc06?.because.find((item) => item.fact === 'lesionPainNrs'), { label: 'Pain at the lesion (NRS 0–10)', actual: 6, inputs: ['/disease/spineLesions/1/painNrs'] }, 'the second lesion')
  const cls01 = body.recommendations.find((item) => item.code === 'CLS-01')
  t.match(cls01?.because.find((item) => item.fact === 'metastatic'), { label: /^Metastatic disease/, inputs: ['/disease/metastaticSites', '/disease/ajcc/m', '/disease/presentation'] })
  const everyItem = body.recommendations.flatMap((item) => item.because)
  t.ok(everyItem.every((item) => item.label.length > 0), 'every because item has a label')
  t.ok(everyItem.filter((item) => item.fact === 'firedCodes' || item.fact.startsWith('offered')).every((item) => item.inputs === undefined), 'facts computed from other items have no inputs')
})
