import t from 'tap'
import {
  becauseLine, cardUuid, dataCard, DOMAIN_LABELS, evidenceLine, formatActual, incompleteCard, INDICATOR_OF_STRENGTH,
  inline, knowledgeBaseVersion, ORDER_CHECK_TABLE, orderCardUuid, orderCodes, orderSelectCards, OVERRIDE_REASONS,
  patientViewCards, uuidV5, type CardResponse, type IssuedCard, type OrderSelection
} from '../../src/cds-hooks/cards.js'
import { provenanceRulesets } from '../../src/engine/load-rules.js'
import { agentClass } from '../../src/engine/options.js'
import { CARD_TOPIC_SYSTEM, CDS_HOOKS_SPEC_VERSION, HOOK_VERSION, MAPPING_VERSION, OVERRIDE_REASON_SYSTEM } from '../../src/fhir/constants.js'
import type { MappingResult } from '../../src/fhir/types.js'
import { CDS_SERVICES, discoveryService, ORDER_SELECT_SERVICE_ID, PATIENT_VIEW_SERVICE_ID } from '../../src/cds-hooks/services.js'
import { Card, DiscoveryService } from '../../src/schemas/cds-hooks-response.js'
import type { Case } from '../../src/schemas/case.js'
import { assertConformantDiscovery, assertConformantResponse } from '../support/cds-conformance.js'
import { readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'
import { evaluateRaw, knowledgeBase } from '../fixtures/engine.js'
import { caseOf, type CaseOverrides } from '../fixtures/factories.js'

/** The hookInstance of the spec's test vectors (§7.1, §7.3). */
const HOOK = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea'
const KB_VERSION = knowledgeBaseVersion(provenanceRulesets(knowledgeBase))

/** A hand-made mapping: sources for a few paths, as the mapper records them (§6.1 rules 8 and 9). */
function mappingOf (overrides: Partial<MappingResult> = {}): MappingResult {
  return {
    case: {},
    sources: {
      'patient.lvefPercent': { label: 'LVEF (%)', display: '35 % (2026-01-10)', refs: ['Observation/lvef-2'], date: '2026-01-10' },
      'patient.lvefBaselinePercent': { label: 'LVEF before anti-HER2 therapy (%)', display: '65 % (2024-02-01)', refs: ['Observation/lvef-1'] },
      'patient.ildHistory': { label: 'History of interstitial lung disease or pneumonitis', display: 'interstitial lung disease (2025-09-01)', refs: ['Condition/ild-1'] },
      'patient.dpydStatus': { label: 'DPYD metaboliser status', display: 'poor metaboliser (2025-04-02)', refs: ['Observation/dpyd-1'] },
      'patient.creatinineClearanceMlMin': { label: 'Creatinine clearance (mL/min, Cockcroft–Gault)', display: '25.0 mL/min (2026-05-20)', refs: ['Observation/creat-1', 'Observation/weight-1', 'Patient/p1'] },
      'patient.correctedCalcium': { label: 'Corrected calcium', display: '2.40 mmol/L (2026-05-20)', refs: ['Observation/ca-1'] },
      'tumor.her2Ihc': { label: 'HER2 immunohistochemistry score', display: '3+ (2025-01-10)', refs: ['Observation/her2-1'] },
      'tumor.erPercent': { label: 'Oestrogen receptor', display: 'positive, no percentage given', refs: ['Observation/er-1'], standIn: true },
      'disease.metastaticSites': { label: 'Sites of distant metastasis', display: 'bone (2025-01-05)', refs: ['Condition/bone-1'] },
      'disease.spineLesions[0].level': { label: 'Spine level', display: 'L5', refs: ['Condition/bone-1'] },
      'disease.spineLesions[0].painNrs': { label: 'Pain at the lesion (NRS 0–10)', display: '6 (2026-05-01)', refs: ['Observation/pain-1'] }
    },
    gaps: {},
    warnings: [],
    missing: [],
    ...overrides
  }
}

async function responseOf (overrides: CaseOverrides): Promise<{ input: Case, response: CardResponse }> {
  const input = caseOf(overrides)
  const { body } = await evaluateRaw(input)
  return { input, response: body }
}

const cardsOf = (issued: readonly IssuedCard[]): Card[] => issued.map(({ card }) => card)
const detailOf = (issued: IssuedCard | undefined): string => issued?.card.detail as string
const byCode = (issued: readonly IssuedCard[], code: string): IssuedCard => issued.find((entry) => entry.code === code) as IssuedCard

/** CI-01 (avoid), LOC-06 at L5 (recommended, local), CLS-03 (consider), CLS-01/02 (info). */
const L5_LOW_LVEF: CaseOverrides = {
  patient: { lvefPercent: 35, correctedCalcium: { value: 2.4, unit: 'mmol/L' }, creatinineClearanceMlMin: 80, dentalStatus: 'cleared' },
  disease: { spineLesions: [{ level: 'L5', painNrs: 6, bilsky: '0', sinsTotal: 5 }], neuro: { deficit: 'none' }, totalMetastaticLesions: 3 }
}

// --- uuids (§7.1, §7.3)

t.test('card uuids are RFC 4122 version-5 UUIDs of the §7.1 and §7.3 test vectors', async (t) => {
  t.equal(cardUuid(HOOK, 'LOC-06', ['L5']), '91b6fc6d-7cc7-581a-92e2-4580a5b92de9', 'LOC-06 at L5')
  t.equal(cardUuid(HOOK, 'SYS-02', []), 'caeb845f-caa2-5af0-a6f5-f390c8db7b85', 'SYS-02 without target: nothing after the last |')
  t.equal(cardUuid(HOOK, 'DATA-QUALITY', []), '37471c50-0b11-5383-8948-44e6e02e63da', 'the data-quality card (§7.3)')
  t.equal(cardUuid(HOOK, 'LOC-06', ['L5', 'T9']), uuidV5(`${HOOK}|LOC-06|L5,T9`), 'targets joined with commas')
  t.match(cardUuid(HOOK, 'SYS-02', []), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'version 5, RFC 4122 variant')
})

t.test('order cards take the uuid name hookInstance|ORDER|<selection>|<code> (§7.4)', async (t) => {
  t.equal(orderCardUuid(HOOK, 'MedicationRequest/mr-1', 'CI-04'), uuidV5(`${HOOK}|ORDER|MedicationRequest/mr-1|CI-04`))
  t.not(orderCardUuid(HOOK, 'MedicationRequest/mr-1', 'CI-04'), orderCardUuid(HOOK, 'MedicationRequest/mr-2', 'CI-04'), 'one per selection')
})

// --- patient-view (§7.1)

t.test('patient-view: one card per recommendation whose strength is not info, in the order of recommendations', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase })
  const shown = response.recommendations.filter((entry) => entry.strength !== 'info')
  t.ok(response.recommendations.some((entry) => entry.strength === 'info'), 'the case has info items (CLS-01, CLS-02)')
  t.same(issued.map(({ code }) => code), shown.map(({ code }) => code), 'the codes, in order; no data card (no warnings, every gap on a shown card)')
  t.same(issued.map(({ card }) => card.summary), shown.map(({ title }) => title), 'summary = title')
  t.same(byCode(issued, 'LOC-06').targets, ['L5'], 'a local item keeps its targets')
  t.equal(byCode(issued, 'LOC-06').card.uuid, cardUuid(HOOK, 'LOC-06', ['L5']))
  t.equal(byCode(issued, 'CI-01').card.uuid, cardUuid(HOOK, 'CI-01', []))
  assertConformantResponse(t, { cards: cardsOf(issued) })
})

t.test('indicator: urgent → critical, avoid → warning, recommended and consider → info', async (t) => {
  t.same(INDICATOR_OF_STRENGTH, { urgent: 'critical', avoid: 'warning', recommended: 'info', consider: 'info' })
  const low = patientViewCards({ hookInstance: HOOK, ...(await responseOf(L5_LOW_LVEF)), mapping: mappingOf(), kb: knowledgeBase })
  t.equal(byCode(low, 'CI-01').card.indicator, 'warning', 'CI-01 is avoid')
  t.equal(byCode(low, 'LOC-06').card.indicator, 'info', 'LOC-06 is recommended')
  t.equal(byCode(low, 'CLS-03').card.indicator, 'info', 'CLS-03 is consider')
  const pregnant = patientViewCards({ hookInstance: HOOK, ...(await responseOf({ patient: { pregnant: true, gestationalWeeks: 10 } })), mapping: mappingOf(), kb: knowledgeBase })
  t.equal(byCode(pregnant, 'CI-05').card.indicator, 'critical', 'CI-05 is urgent')
})

t.test('source: "<service title> knowledge base <kbVersion>", no url unless KB_PUBLIC_URL, topic = the domain', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const without = byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase }), 'LOC-06').card
  t.same(without.source, {
    label: `HER2+ metastatic breast cancer with bone metastases: guideline options knowledge base ${KB_VERSION}`,
    topic: { system: CARD_TOPIC_SYSTEM, code: 'local_therapy', display: 'Local therapy' }
  })
  const emptyUrl = byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase, kbPublicUrl: '' }), 'LOC-06').card
  t.notOk('url' in emptyUrl.source, 'an empty KB_PUBLIC_URL counts as unset')
  const withUrl = byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase, kbPublicUrl: 'https://kb.example.org/her2-mbc' }), 'LOC-06').card
  t.equal(withUrl.source.url, 'https://kb.example.org/her2-mbc')
  t.same(DOMAIN_LABELS, { classification: 'Classification', local_therapy: 'Local therapy', systemic_therapy: 'Systemic therapy', supportive_care: 'Supportive care', follow_up: 'Follow-up' })
})

t.test('kbVersion: a fingerprint of provenance.rulesets, the same whether read from a response or from the knowledge base', async (t) => {
  const { response } = await responseOf({})
  t.equal(knowledgeBaseVersion(response.provenance.rulesets), KB_VERSION)
  t.match(KB_VERSION, /^[0-9a-f]{12}$/)
  const changed = response.provenance.rulesets.map((entry, i) => (i === 0 ? { ...entry, version: '9.9.9' } : entry))
  t.not(knowledgeBaseVersion(changed), KB_VERSION, 'any ruleset change changes it')
})

t.test('overrideReasons: the four codings, displays byte-identical to the CodeSystem (read in place)', { skip: thirdPartySkip }, async (t) => {
  interface Concept { code: string, display: string, concept?: Concept[] }
  const codeSystem = readThirdPartyJson<{ url: string, concept: Concept[] }>('cds-hooks-spec/CodeSystem-non-adherence-reason-codes.json')
  const displays = new Map<string, string>()
  const walk = (concepts: readonly Concept[]): void => { for (const c of concepts) { displays.set(c.code, c.display); walk(c.concept ?? []) } }
  walk(codeSystem.concept)
  t.equal(codeSystem.url, OVERRIDE_REASON_SYSTEM)
  t.same(OVERRIDE_REASONS.map(({ code }) => code), ['patient-contraindication', 'prefers-alternative', 'patient-refuses', 'need-more-info'])
  for (const reason of OVERRIDE_REASONS) {
    t.equal(Buffer.compare(Buffer.from(reason.display, 'utf8'), Buffer.from(displays.get(reason.code) as string, 'utf8')), 0, `${reason.code}: byte-identical display`)
  }
  const { response } = await responseOf(L5_LOW_LVEF)
  for (const { card } of patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase })) {
    t.same(card.overrideReasons, OVERRIDE_REASONS, `${card.summary.slice(0, 30)}…: the four reasons`)
  }
})

t.test('cards never carry suggestions, selectionBehavior, links; no null, "", [] or {} anywhere', async (t) => {
  const { response } = await responseOf({ ...L5_LOW_LVEF, patient: { ...L5_LOW_LVEF.patient, dentalStatus: undefined } })
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf({ warnings: [{ code: 'FHIR_UNDATED', message: 'Condition/c1 has no date' }] }), kb: knowledgeBase })
  t.ok(issued.length > 3)
  for (const { card } of issued) {
    t.notOk('suggestions' in card || 'selectionBehavior' in card || 'links' in card, `${card.summary.slice(0, 30)}…: no actions or links`)
    t.ok(Card.safeParse(card).success, 'valid card')
  }
  assertConformantResponse(t, { cards: cardsOf(issued) })
})

// --- detail (§7.2)

t.test('detail: the recommendation detail, Options, Why you see this, Evidence, Data gaps, footer — in that order', async (t) => {
  const { response } = await responseOf({})
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase })
  const item = response.recommendations.find(({ code }) => code === 'CLS-05')
  t.ok(response.dataGaps.some((gap) => gap.affects.includes('CLS-05')), 'disease.neuro affects CLS-05')
  const detail = detailOf(byCode(issued, 'CLS-05'))
  t.ok(detail.startsWith(`${item?.detail as string}\n\n### Options\n`), 'the item detail, then Options')
  const headings = [...detail.matchAll(/^### (.+)$/gm)].map((match) => match[1])
  t.same(headings, ['Options', 'Why you see this', 'Evidence', 'Data gaps'])
  t.ok(detail.endsWith(`\n\nRule ${item?.rule.id as string} · ${item?.rule.ruleset as string} ${item?.rule.rulesetVersion as string} · knowledge base ${KB_VERSION} · mapping ${MAPPING_VERSION}`), 'the footer last')
  t.notMatch(detail, /<[a-z/]/i, 'no HTML')
  t.notMatch(detail, /^\|/m, 'no table')
  t.notMatch(detail, /!\[/, 'no image')
  t.notMatch(detailOf(byCode(issued, 'SYS-02')), /### Data gaps/, 'no Data gaps section when no gap affects the code')
})

t.test('Options: "- <label> — <effective strength>", with the targets of a local item', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase })
  const loc06 = response.recommendations.find(({ code }) => code === 'LOC-06')
  const lines = (loc06?.options ?? []).map((option) => `- ${option.label} — ${option.strength ?? 'recommended'} (L5)`)
  t.ok(lines.length >= 2)
  t.match(detailOf(byCode(issued, 'LOC-06')), `### Options\n${lines.join('\n')}\n\n`)
  const ci01 = detailOf(byCode(issued, 'CI-01'))
  t.match(ci01, /\n- [^\n]+ — avoid\n/, 'avoided options say so')
  t.match(ci01, /\n- [^\n]+ — urgent\n/, 'an option with its own strength (cardio-oncology referral)')
  t.notMatch(detailOf(byCode(issued, 'FU-01')).split('### Why')[0], /\(L5\)/, 'no targets on an item without them')
  const withoutOptions = recommendationWithoutOptions(response)
  t.ok(withoutOptions === undefined || !detailOf(byCode(issued, withoutOptions)).includes('### Options'), 'no Options section without options')
})

function recommendationWithoutOptions (response: CardResponse): string | undefined {
  return response.recommendations.find((entry) => entry.strength !== 'info' && entry.options === undefined)?.code
}

t.test('Why you see this: label, the mapper\'s displays, and the sources as relative references', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const ci01 = detailOf(byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase }), 'CI-01'))
  t.match(ci01, '\n- LVEF (%): 35 % (2026-01-10) — Observation/lvef-2\n', 'one input, its display and reference')
  t.match(ci01, '\n- In scope (metastatic, HER2 positive or equivocal): bone (2025-01-05); 3+ (2025-01-10) — Condition/bone-1, Observation/her2-1\n',
    'several inputs: the displays of those with a source, the union of their references')
  const loc06 = detailOf(byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase }), 'LOC-06'))
  t.match(loc06, '- Pain at the lesion (NRS 0–10): 6 (2026-05-01) — Observation/pain-1', 'a lesion input (/disease/spineLesions/0/painNrs) read as disease.spineLesions[0].painNrs')
  t.match(loc06, /- Bilsky grade[^\n]*: 0 — not in the record\n/, 'an input without a source: the value with its unit, "not in the record"')
})

t.test('Why you see this, each rule of §7.2 on a single because-item', async (t) => {
  const mapping = mappingOf()
  t.equal(becauseLine({ fact: 'lvefPercent', label: 'LVEF (%)', operator: 'lessThan', value: 40, actual: 35, inputs: ['/patient/lvefPercent'] }, mappingOf({ sources: {} })),
    '- LVEF (%): 35 % — not in the record', 'no source: the actual with its unit')
  t.equal(becauseLine({ fact: 'erStatus', label: 'Oestrogen-receptor status', operator: 'equal', value: 'positive', actual: 'positive', inputs: ['/tumor/erPercent'] }, mapping),
    '- Oestrogen-receptor status: positive, no percentage given — Observation/er-1', 'a stand-in shows the original (§6.1 rule 9), never the number')
  t.equal(becauseLine({ fact: 'hypercalcaemia', label: 'Hypercalcaemia', operator: 'equal', value: false, actual: false, inputs: ['/patient/correctedCalcium/value', '/patient/correctedCalcium/unit'] }, mapping),
    '- Hypercalcaemia: 2.40 mmol/L (2026-05-20) — Observation/ca-1', 'a sub-field takes the source of the field that holds it, once')
  t.equal(becauseLine({ fact: 'pregnant', label: 'Pregnant', operator: 'notEqual', value: true, inputs: ['/patient/pregnant'] }, mapping),
    '- Pregnant: not recorded — not in the record', 'an absent input')
  t.equal(becauseLine({ fact: 'firedCodes', label: 'Codes emitted so far', operator: 'contains', value: 'BMA-01', actual: ['BMA-01', 'CLS_X'] }, mapping),
    '- Codes emitted so far: BMA-01, CLS X', 'a fact computed from other items: nothing after its value')
  t.equal(becauseLine({ fact: 'lvefPercent', label: 'LVEF (%)', operator: 'lessThan', value: 40, actual: 35, inputs: ['/patient/lvefPercent'] },
    mappingOf({ sources: { 'patient.lvefPercent': { label: 'LVEF (%)', display: '35 %\n### <b>x</b>', refs: ['Observation/a<b'] } } })),
  '- LVEF (%): 35 % ### \\<b>x\\</b> — Observation/a\\<b', 'record text stays on its line and opens no HTML tag')
})

t.test('values: yes/no, numbers with their unit, words, lists, absent', async (t) => {
  t.equal(formatActual('pregnant', true), 'yes')
  t.equal(formatActual('pregnant', false), 'no')
  t.equal(formatActual('creatinineClearanceMlMin', 25), '25 mL/min')
  t.equal(formatActual('ecog', 2), '2', 'no unit')
  t.equal(formatActual('ildHistory', 'current_ild'), 'current ild')
  t.equal(formatActual('metastaticSites', ['bone', 'distant_nodes']), 'bone, distant nodes')
  t.equal(formatActual('currentAgents', []), 'none')
  t.equal(formatActual('pregnant', undefined), 'not recorded')
  t.equal(formatActual('pregnant', null), 'not recorded')
})

t.test('inline: one line, nothing that could open an HTML tag', async (t) => {
  t.equal(inline('  two\n\tlines  '), 'two lines')
  t.equal(inline('CrCl < 30, <30 and <br>'), 'CrCl < 30, <30 and \\<br>', 'only what could open a tag is escaped')
})

t.test('Evidence: "- [R12] <citation> — DOI/PMID — <verification>", from the response\'s references, else the knowledge base', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const ci01 = detailOf(byCode(patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase }), 'CI-01'))
  const item = response.recommendations.find(({ code }) => code === 'CI-01')
  t.ok(item !== undefined && item.evidence.length > 0, 'CI-01 cites references')
  for (const evidence of item?.evidence ?? []) {
    const reference = response.references?.[evidence.ref]
    t.equal(reference?.citation, knowledgeBase.references.get(evidence.ref)?.citation, `${evidence.ref}: the response's references hold the catalogue's citation`)
    t.match(ci01, `- [${evidence.ref}] ${reference?.citation as string} — `, `${evidence.ref} cited from the response's references`)
    t.match(ci01, new RegExp(`- \\[${evidence.ref}\\] [^\\n]* — ${evidence.verification}(\\n|$)`), `${evidence.ref}: the item's verification`)
  }
  // The cards read the citation from the response's references (api.md revision 8), not from the item.
  const rewritten = { ...response, references: Object.fromEntries(Object.keys(response.references ?? {}).map((ref) => [ref, { citation: `Citation of ${ref} as the response gives it`, verification: 'unverified' as const }])) }
  const fromResponse = detailOf(byCode(patientViewCards({ hookInstance: HOOK, response: rewritten, mapping: mappingOf(), kb: knowledgeBase }), 'CI-01'))
  for (const evidence of item?.evidence ?? []) t.match(fromResponse, `- [${evidence.ref}] Citation of ${evidence.ref} as the response gives it — ${evidence.verification}`)
  const r3 = { ref: 'R3', verification: 'partial' }
  t.equal(evidenceLine(r3, knowledgeBase),
    '- [R3] Gennari A, et al. ESMO Clinical Practice Guideline for the diagnosis, staging and treatment of patients with metastatic breast cancer. Ann Oncol 2021;32(12):1475-1495. — DOI 10.1016/j.annonc.2021.09.019, PMID 34678411 — partial',
    'DOI and PMID; the item\'s verification')
  const urlOnly = [...knowledgeBase.references.values()].find((reference) => reference.doi === undefined && reference.pmid === undefined && reference.url !== undefined)
  t.equal(evidenceLine({ ref: urlOnly?.ref as string, verification: 'unverified' }, knowledgeBase),
    `- [${urlOnly?.ref as string}] ${urlOnly?.citation as string} — ${urlOnly?.url as string} — unverified`, 'neither DOI nor PMID: the page where it was checked')
  t.equal(evidenceLine({ ref: 'R3', verification: 'verified' }, knowledgeBase, { R3: { citation: 'Revision 8 citation', pmid: '1', verification: 'verified' } }),
    '- [R3] Revision 8 citation — PMID 1 — verified', 'the response\'s references (api.md revision 8) come first')
  t.equal(evidenceLine({ ref: 'R999', verification: 'unverified' }, knowledgeBase), '- [R999] citation not in the catalogue — unverified')
})

t.test('Data gaps: the response\'s gaps that affect the code, with the mapper\'s reasons', async (t) => {
  const { response } = await responseOf({})
  const mapping = mappingOf({ gaps: { 'patient.lvefPercent': ['Observation/lvef-9: unit "mmHg" unknown'], 'patient.ildHistory': [] } })
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping, kb: knowledgeBase })
  const fu02 = detailOf(byCode(issued, 'FU-02'))
  const gap = response.dataGaps.find(({ field }) => field === 'patient.lvefPercent')
  t.match(fu02, `### Data gaps\n- patient.lvefPercent: ${gap?.message as string} — Observation/lvef-9: unit "mmHg" unknown\n\nRule `)
  const withoutReason = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase })
  t.match(detailOf(byCode(withoutReason, 'FU-02')), `### Data gaps\n- patient.lvefPercent: ${gap?.message as string}\n\n`, 'no reasons: the engine\'s message alone')
  t.notMatch(detailOf(byCode(issued, 'SYS-02')), /### Data gaps/)
})

// --- data cards (§7.3)

t.test('no data card when there are no warnings and every gap is on a shown card', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const codes = patientViewCards({ hookInstance: HOOK, response, mapping: mappingOf(), kb: knowledgeBase }).map(({ code }) => code)
  t.notOk(codes.includes('DATA-QUALITY'))
  t.equal(dataCard({ hookInstance: HOOK, response, mapping: mappingOf(), shownCodes: codes }), undefined)
})

t.test('data-quality card: warnings, gaps not tied to a shown card, the mapper\'s other gaps; info', async (t) => {
  const { response } = await responseOf({})
  const mapping = mappingOf({
    warnings: [{ code: 'FHIR_UNDATED', message: 'Condition/c1 has no date' }],
    gaps: {
      'disease.totalMetastaticLesions': ['Observation/count-1 is preliminary'],
      'disease.neuro.deficit': ['Observation/neuro-1 is preliminary'],
      'patient.menopausalStatus': ['Observation/meno-1: answer not recognised']
    }
  })
  const issued = patientViewCards({ hookInstance: HOOK, response, mapping, kb: knowledgeBase })
  const data = issued.at(-1) as IssuedCard
  t.equal(data.code, 'DATA-QUALITY', 'after the recommendation cards')
  t.equal(data.card.uuid, cardUuid(HOOK, 'DATA-QUALITY', []))
  t.equal(data.card.indicator, 'info')
  const shown = new Set(issued.map(({ code }) => code))
  const untied = response.dataGaps.filter((gap) => !gap.affects.some((code) => shown.has(code)))
  t.ok(untied.some(({ field }) => field === 'disease.totalMetastaticLesions'), 'disease.totalMetastaticLesions affects OLI-01, not shown')
  const lines = detailOf(data).split('\n').filter((line) => line.startsWith('- '))
  t.same(lines, [
    '- Condition/c1 has no date (FHIR_UNDATED)',
    ...untied.map((gap) => `- ${gap.field}: ${gap.message}${gap.field === 'disease.totalMetastaticLesions' ? ' — Observation/count-1 is preliminary' : ''}`),
    '- patient.menopausalStatus: Observation/meno-1: answer not recognised'
  ])
  t.equal(data.card.summary, `Check the record: ${lines.length} data issues behind this guidance`)
  t.notOk(lines.some((line) => line.startsWith('- patient.lvefPercent')), 'a gap of a shown card (FU-02) stays on that card')
  t.notOk(lines.some((line) => line.includes('neuro')), 'so do the mapper\'s reasons under it (disease.neuro is on CLS-05)')
  t.match(detailOf(byCode(issued, 'CLS-05')), '- disease.neuro: ', 'where they are shown')
  t.match(detailOf(byCode(issued, 'CLS-05')), ' — Observation/neuro-1 is preliminary')
  t.notOk('topic' in data.card.source)
  assertConformantResponse(t, { cards: cardsOf(issued) })
})

t.test('data-quality card: warning when it lists FHIR_CALCIUM_UNCORRECTED_HIGH, listed first [D]; one issue is singular', async (t) => {
  const { response } = await responseOf(L5_LOW_LVEF)
  const high = { code: 'FHIR_CALCIUM_UNCORRECTED_HIGH' as const, message: 'Only uncorrected total calcium (11.2 mg/dL, 2026-05-20), above 10.5 mg/dL' }
  const card = dataCard({ hookInstance: HOOK, response, mapping: mappingOf({ warnings: [high] }), shownCodes: response.recommendations.map(({ code }) => code) })
  t.equal(card?.card.indicator, 'warning')
  t.equal(card?.card.summary, 'Check the record: 1 data issue behind this guidance')
  const withOthers = dataCard({
    hookInstance: HOOK,
    response: { ...response, warnings: [{ code: 'STAGE_RECLASSIFIED', message: 'Reclassified' }] },
    mapping: mappingOf({ warnings: [{ code: 'FHIR_UNDATED', message: 'undated' }, high, { code: 'FHIR_UNDATED', message: 'undated' }] }),
    shownCodes: response.recommendations.map(({ code }) => code)
  })
  t.same(detailOf(withOthers).split('\n').filter((line) => line.startsWith('- ')), [
    `- ${high.message} (FHIR_CALCIUM_UNCORRECTED_HIGH)`, '- Reclassified (STAGE_RECLASSIFIED)', '- undated (FHIR_UNDATED)'
  ], 'first, then the response\'s and the mapper\'s warnings, each once')
  t.equal(withOthers?.card.summary, 'Check the record: 3 data issues behind this guidance')
})

const incompleteMapping = (): MappingResult => mappingOf({
  missing: ['patient.ecog', 'tumor.erPercent'],
  gaps: { 'patient.ecog': ['Observation/ecog-1: value 5 outside 0–4'] }
})

t.test('incomplete case: info card "HER2+ MBC guidance unavailable: <labels> missing" with the codes searched and why', async (t) => {
  const issued = incompleteCard({
    hookInstance: HOOK,
    caseResult: { ok: false, kind: 'case-incomplete', errors: [{ path: '/patient/ecog', message: 'is required' }, { path: '/tumor/erPercent', message: 'is required' }] },
    mapping: incompleteMapping(),
    kb: knowledgeBase
  })
  t.equal(issued.card.summary, 'HER2+ MBC guidance unavailable: ECOG performance status, ER % missing')
  t.equal(issued.card.indicator, 'info')
  t.equal(issued.card.uuid, cardUuid(HOOK, 'CASE-INCOMPLETE', []), 'uuid name hookInstance|CASE-INCOMPLETE|')
  t.same(detailOf(issued).split('\n').filter((line) => line.startsWith('- ')), [
    '- ECOG performance status (patient.ecog) — searched: Observation LOINC 89247-1 — Observation/ecog-1: value 5 outside 0–4',
    '- ER % (tumor.erPercent) — searched: Observation LOINC 85329-1, 14228-1, 85337-4, 40556-3, 16112-5 — no usable value in the record'
  ])
  t.equal(issued.card.source.label, `HER2+ metastatic breast cancer with bone metastases: guideline options knowledge base ${KB_VERSION}`)
  assertConformantResponse(t, { cards: [issued.card] })
})

t.test('incomplete case: the errors\' pointers when the mapper lists nothing missing; inconsistent cases; long lists counted', async (t) => {
  const fromErrors = incompleteCard({
    hookInstance: HOOK,
    caseResult: { ok: false, kind: 'case-incomplete', errors: [{ path: '/patient/ageYears', message: 'is required' }, { path: '/patient/sex', message: 'is required' }] },
    mapping: mappingOf(),
    kb: knowledgeBase
  })
  t.equal(fromErrors.card.summary, 'HER2+ MBC guidance unavailable: Age, Sex missing')
  t.match(detailOf(fromErrors), '- Age (patient.ageYears) — searched: Patient.birthDate — is required')
  const inconsistent = incompleteCard({
    hookInstance: HOOK,
    caseResult: { ok: false, kind: 'case-inconsistent', errors: [{ path: '/patient/gestationalWeeks', message: 'is given while patient.pregnant is not true' }] },
    mapping: mappingOf(),
    kb: knowledgeBase
  })
  t.equal(inconsistent.card.summary, 'HER2+ MBC guidance unavailable: patient.gestationalWeeks inconsistent')
  t.match(detailOf(inconsistent), '### Inconsistent\n- patient.gestationalWeeks (patient.gestationalWeeks) — is given while patient.pregnant is not true')
  const labelled = incompleteCard({
    hookInstance: HOOK,
    caseResult: { ok: false, kind: 'case-inconsistent', errors: [{ path: '/patient/lvefBaselinePercent', message: 'is dated after the current LVEF' }] },
    mapping: mappingOf(),
    kb: knowledgeBase
  })
  t.equal(labelled.card.summary, 'HER2+ MBC guidance unavailable: LVEF before anti-HER2 therapy (%) inconsistent', 'the mapper\'s label of a field it sourced')
  const many = Array.from({ length: 12 }, (_, i) => ({ path: `/history/metastaticLines/${i}/agents`, message: 'unknown' }))
  const long = incompleteCard({ hookInstance: HOOK, caseResult: { ok: false, kind: 'case-inconsistent', errors: many }, mapping: mappingOf(), kb: knowledgeBase })
  t.equal(long.card.summary, 'HER2+ MBC guidance unavailable: 12 fields inconsistent', 'a summary stays under 140 characters')
})

t.test('incomplete case: the keys that arrived only in part or not at all are named, since a missing field may be in them (§4.2, §7.3)', async (t) => {
  const mapping = mappingOf({
    missing: ['tumor.erPercent'],
    warnings: [
      { code: 'FHIR_UNDATED', message: 'undated' },
      { code: 'FHIR_DATA_PARTIAL', message: 'Only part of the data of prefetch key "markers" arrived; what arrived was used.' },
      { code: 'FHIR_DATA_UNAVAILABLE', message: 'The data of prefetch key "cardiac" was unavailable; the fields it feeds are absent.' },
      { code: 'FHIR_PREFETCH_MALFORMED', message: 'The prefetch value of key "facts" is not what its template returns; it was not used.' }
    ]
  })
  const caseResult = { ok: false as const, kind: 'case-incomplete' as const, errors: [{ path: '/tumor/erPercent', message: 'is required' }] }
  const expected = '### Data not received in full\n' +
    '- Only part of the data of prefetch key "markers" arrived; what arrived was used. (FHIR_DATA_PARTIAL)\n' +
    '- The data of prefetch key "cardiac" was unavailable; the fields it feeds are absent. (FHIR_DATA_UNAVAILABLE)\n' +
    '- The prefetch value of key "facts" is not what its template returns; it was not used. (FHIR_PREFETCH_MALFORMED)\n\nKnowledge base '
  const patientView = incompleteCard({ hookInstance: HOOK, caseResult, mapping, kb: knowledgeBase })
  t.match(detailOf(patientView), expected, 'patient-view: after the missing fields, before the footer')
  t.notMatch(detailOf(patientView), 'FHIR_UNDATED', 'other warnings stay out: they do not explain a missing field')
  const order = orderSelectCards({ hookInstance: HOOK, selections: [selection(['capecitabine'])], caseResult, mapping, kb: knowledgeBase })
  t.match(order[0]?.card.detail, expected, 'order-select: the same section')
  t.notMatch(detailOf(incompleteCard({ hookInstance: HOOK, caseResult, mapping: incompleteMapping(), kb: knowledgeBase })), 'Data not received', 'none when every key arrived')
  assertConformantResponse(t, { cards: [patientView.card, ...order.map(({ card }) => card)] })
})

// --- order-select (§7.4)

const selection = (agents: OrderSelection['agents'], id = 'mr-1', display = 'Selected drug'): OrderSelection =>
  ({ selection: `MedicationRequest/${id}`, display, agents })

async function orderCards (overrides: CaseOverrides, selections: readonly OrderSelection[], mapping = mappingOf()): Promise<IssuedCard[]> {
  const { input, response } = await responseOf(overrides)
  return orderSelectCards({ hookInstance: HOOK, selections, caseResult: { ok: true, case: input }, response, mapping, kb: knowledgeBase })
}

const codesOf = (issued: readonly IssuedCard[]): string[] => issued.map(({ code }) => code)

t.test('order-select table: T-DXd with ILD → CI-04 (its avoid row); without ILD no card', async (t) => {
  const tdxd = [selection(['t_dxd'], 'mr-1', 'Enhertu 100 MG Injection')]
  const issued = await orderCards({ patient: { ildHistory: 'current_ild', lvefPercent: 60 } }, tdxd)
  t.same(codesOf(issued), ['CI-04'])
  const [card] = cardsOf(issued) as [Card]
  t.equal(card.indicator, 'warning')
  t.equal(card.summary, 'Interstitial lung disease history or grade ≥ 2 ILD: avoid T-DXd and T-DXd + pertuzumab', 'the title of the avoid row')
  t.equal(card.uuid, orderCardUuid(HOOK, 'MedicationRequest/mr-1', 'CI-04'))
  t.same(issued[0]?.targets, ['MedicationRequest/mr-1'])
  const detail = card.detail as string
  t.ok(detail.startsWith('Selected order: Enhertu 100 MG Injection\n\n'), 'the selected order\'s display first')
  t.match(detail, '### Why you see this\n')
  t.match(detail, '- History of interstitial lung disease or pneumonitis: interstitial lung disease (2025-09-01) — Condition/ild-1')
  t.match(detail, /### Evidence\n- \[R\d+\] /)
  // The rule's evidence by reference; the citations from the response's references when its items cite
  // them, else from the knowledge base (an order card's rule may have made no item).
  const { input, response } = await responseOf({ patient: { ildHistory: 'current_ild', lvefPercent: 60 } })
  const uncited = orderSelectCards({ hookInstance: HOOK, selections: tdxd, caseResult: { ok: true, case: input }, response: { ...response, references: {} }, mapping: mappingOf(), kb: knowledgeBase })
  for (const evidence of knowledgeBase.rulesByName.get('safety/ci-04-ild-avoid-tdxd')?.view.evidence ?? []) {
    const line = `- [${evidence.ref}] ${knowledgeBase.references.get(evidence.ref)?.citation as string} — `
    t.match(detail, line, `${evidence.ref} with its citation`)
    t.match(detailOf(uncited[0]), line, `${evidence.ref}: from the knowledge base when the response does not cite it`)
  }
  t.match(detail, new RegExp(`\\n\\nRule safety/ci-04-ild-avoid-tdxd · safety \\d+\\.\\d+\\.\\d+ · knowledge base ${KB_VERSION} · mapping ${MAPPING_VERSION.replaceAll('.', '\\.')}$`))
  t.same(card.source, {
    label: `HER2+ metastatic breast cancer: medication safety check knowledge base ${KB_VERSION}`,
    topic: { system: CARD_TOPIC_SYSTEM, code: 'systemic_therapy', display: 'Systemic therapy' }
  })
  t.same(card.overrideReasons, OVERRIDE_REASONS)
  assertConformantResponse(t, { cards: cardsOf(issued) })
  const undisplayed = await orderCards({ patient: { ildHistory: 'current_ild', lvefPercent: 60 } }, [selection(['t_dxd'], 'mr-7', ' \n')])
  t.ok(detailOf(undisplayed[0]).startsWith('Selected order: MedicationRequest/mr-7\n\n'), 'no display: the order\'s reference')
  t.same(await orderCards({ patient: { ildHistory: 'none', lvefPercent: 60 } }, tdxd), [], 'no ILD: no card')
  t.same(await orderCards({ patient: { ildHistory: 'suspected_ild', lvefPercent: 60 } }, tdxd), [], 'suspected ILD: CI-04\'s other rows are not avoid rows')
})

t.test('order-select table: trastuzumab with LVEF < 40 % → CI-01; 55 % no card', async (t) => {
  const issued = await orderCards({ patient: { lvefPercent: 35 } }, [selection(['trastuzumab'])])
  t.same(codesOf(issued), ['CI-01'])
  t.match(detailOf(issued[0]), '- LVEF (%): 35 % (2026-01-10) — Observation/lvef-2')
  const options = [...detailOf(issued[0]).matchAll(/^- (.+) — avoid$/gm)].map((match) => match[1])
  t.ok(options.length > 3, 'the avoided options containing trastuzumab')
  t.ok(options.every((label) => /trastuzumab/i.test(label as string)), 'only those')
  t.same(await orderCards({ patient: { lvefPercent: 55 } }, [selection(['trastuzumab'])]), [])
  t.same(codesOf(await orderCards({ patient: { lvefPercent: 35 } }, [selection(['tucatinib'])])), ['CI-01'], 'CI-01 covers the TKIs (revision 6)')
})

t.test('order-select table: a fall in LVEF on an antibody → CI-03 (antibodies and ADCs only)', async (t) => {
  const onThp: CaseOverrides = {
    patient: { lvefPercent: 45, lvefBaselinePercent: 65 },
    history: { metastaticLines: [{ lineNumber: 1, agents: ['trastuzumab', 'pertuzumab', 'docetaxel'], outcome: 'ongoing' }] }
  }
  t.same(codesOf(await orderCards(onThp, [selection(['pertuzumab'])])), ['CI-03'])
  t.same(await orderCards(onThp, [selection(['lapatinib'])]), [], 'a TKI is not checked against CI-03')
  t.same(await orderCards({ ...onThp, patient: { lvefPercent: 60, lvefBaselinePercent: 65 } }, [selection(['pertuzumab'])]), [], 'a small fall: no card')
})

t.test('order-select table: capecitabine with DPYD poor → CI-06b (its option-offered clause dropped); normal no card', async (t) => {
  const issued = await orderCards({ patient: { dpydStatus: 'poor' } }, [selection(['capecitabine'], 'cape', 'capecitabine 500 MG Oral Tablet')])
  t.same(codesOf(issued), ['CI-06b'])
  t.match(detailOf(issued[0]), '- DPYD metaboliser status (not recorded: not tested): poor metaboliser (2025-04-02) — Observation/dpyd-1')
  t.same(await orderCards({ patient: { dpydStatus: 'normal' } }, [selection(['capecitabine'])]), [])
})

t.test('order-select table: zoledronic acid at CrCl < 30 → BMA-01 and BMA-04; pamidronate too, as the table is written; 60 mL/min no card', async (t) => {
  const low: CaseOverrides = { patient: { creatinineClearanceMlMin: 25 } }
  const issued = await orderCards(low, [selection(['zoledronic_acid'])])
  t.same(codesOf(issued), ['BMA-01', 'BMA-04'])
  t.match(detailOf(issued[0]), '- Creatinine clearance (mL/min, Cockcroft–Gault): 25.0 mL/min (2026-05-20) — Observation/creat-1, Observation/weight-1, Patient/p1',
    'BMA-01 holds through its avoid entry\'s condition, which the why lists')
  t.equal(issued[0]?.card.source.topic?.code, 'supportive_care')
  t.match(detailOf(issued[0]), /### Options\n- Zoledronic acid[^\n]* — avoid\n\n### Why/, 'the avoided option of the selected agent')
  t.notMatch(detailOf(issued[0]), /Pamidronate/, 'not the other agent\'s')
  t.notMatch(detailOf(issued[0]), /(- Dental status[^\n]*\n)[^]*\1/, 'a fact tested twice is one line')
  const pamidronate = await orderCards(low, [selection(['pamidronate'])])
  t.same(codesOf(pamidronate), ['BMA-01', 'BMA-04'], '[spec as written] BMA-04 avoids zoledronic acid only, the table lists pamidronate for it too')
  t.match(detailOf(pamidronate[0]), /### Options\n- Pamidronate[^\n]* — avoid\n/)
  t.notMatch(detailOf(pamidronate[1]), /### Options/, 'BMA-04 names no pamidronate option: no Options section')
  t.same(await orderCards({ patient: { creatinineClearanceMlMin: 60 } }, [selection(['zoledronic_acid'])]), [])
  t.same(await orderCards(low, [selection(['denosumab'])]), [], 'denosumab is not checked against renal function')
})

t.test('order-select table: pregnancy → CI-05 (and BMA-06 for a bone agent); not pregnant no card', async (t) => {
  const pregnant: CaseOverrides = { patient: { pregnant: true, gestationalWeeks: 20 } }
  const issued = await orderCards(pregnant, [selection(['trastuzumab'], 'h'), selection(['aromatase_inhibitor'], 'ai'), selection(['ribociclib'], 'rib'), selection(['zoledronic_acid'], 'zol')])
  t.same(issued.map(({ code, targets }) => `${targets[0] as string} ${code}`), [
    'MedicationRequest/h CI-05', 'MedicationRequest/ai CI-05', 'MedicationRequest/rib CI-05', 'MedicationRequest/zol BMA-06'
  ], 'per selection, in table order')
  t.equal(issued[0]?.card.summary, 'Pregnancy (second trimester): no HER2-directed, endocrine or bone-modifying therapy, no trial; urgent MDT with maternal–fetal medicine',
    'the title of the row that holds')
  t.same(await orderCards({ patient: { pregnant: false } }, [selection(['trastuzumab']), selection(['zoledronic_acid'], 'zol')]), [])
})

t.test('order-select table: osteonecrosis of the jaw → BMA-05; without it no card', async (t) => {
  const issued = await orderCards({ patient: { dentalStatus: 'active_onj' } }, [selection(['denosumab'])])
  t.same(codesOf(issued), ['BMA-05'])
  t.same(codesOf(await orderCards({ history: { boneModifyingAgent: { agent: 'denosumab', complications: ['onj'] } } }, [selection(['denosumab'])])), ['BMA-05'], 'an ONJ complication')
  t.same(await orderCards({ patient: { dentalStatus: 'cleared' } }, [selection(['denosumab'])]), [])
})

t.test('order-select: one card per (selection, code); several agents of one order check a code once', async (t) => {
  const phesgo = selection(['pertuzumab', 'trastuzumab'], 'phesgo', 'Phesgo')
  const issued = await orderCards({ patient: { lvefPercent: 35, pregnant: true } }, [phesgo])
  t.same(codesOf(issued), ['CI-01', 'CI-05'])
  t.equal(new Set(issued.map(({ card }) => card.uuid)).size, 2)
})

t.test('order-select: only for patients in scope', async (t) => {
  t.same(await orderCards({ tumor: { her2Ihc: '0', erPercent: 0 }, patient: { lvefPercent: 35 } }, [selection(['trastuzumab'])]), [], 'HER2 negative: no card')
})

t.test('order-select: no card for agents outside the table, complete case or not', async (t) => {
  t.same(await orderCards({ patient: { lvefPercent: 35 } }, [selection(['docetaxel'])]), [])
  t.same(orderSelectCards({
    hookInstance: HOOK, selections: [selection(['docetaxel'])], caseResult: { ok: false, kind: 'case-incomplete', errors: [] }, mapping: incompleteMapping(), kb: knowledgeBase
  }), [])
  t.same(orderSelectCards({ hookInstance: HOOK, selections: [], caseResult: { ok: true, case: caseOf() }, mapping: mappingOf(), kb: knowledgeBase }), [])
})

t.test('order-select: an incomplete case with an agent of the table → one info card "Order check unavailable: <labels> missing"', async (t) => {
  const issued = orderSelectCards({
    hookInstance: HOOK,
    selections: [selection(['capecitabine'], 'cape', 'capecitabine 500 MG Oral Tablet'), selection(['docetaxel'], 'doc', 'docetaxel')],
    caseResult: { ok: false, kind: 'case-incomplete', errors: [{ path: '/patient/ecog', message: 'is required' }] },
    mapping: incompleteMapping(),
    kb: knowledgeBase,
    kbPublicUrl: 'https://kb.example.org/'
  })
  t.equal(issued.length, 1)
  const card = issued[0]?.card as Card
  t.equal(card.summary, 'Order check unavailable: ECOG performance status, ER % missing')
  t.equal(card.indicator, 'info')
  t.equal(card.uuid, cardUuid(HOOK, 'CASE-INCOMPLETE', []))
  t.equal(card.source.url, 'https://kb.example.org/')
  t.match(card.detail, '### Selected orders\n- capecitabine 500 MG Oral Tablet\n\n### Missing\n- ECOG performance status (patient.ecog)')
  t.notMatch(card.detail, 'docetaxel', 'only the orders that would have been checked')
  assertConformantResponse(t, { cards: [card] })
  const inconsistent = orderSelectCards({
    hookInstance: HOOK,
    selections: [selection(['capecitabine'])],
    caseResult: { ok: false, kind: 'case-inconsistent', errors: [{ path: '/patient/gestationalWeeks', message: 'is given while patient.pregnant is not true' }] },
    mapping: mappingOf(),
    kb: knowledgeBase
  })
  t.equal(inconsistent[0]?.card.summary, 'Order check unavailable: patient.gestationalWeeks inconsistent')
  const many = Array.from({ length: 12 }, (_, i) => ({ path: `/history/metastaticLines/${i}/agents`, message: 'unknown' }))
  t.equal(orderSelectCards({
    hookInstance: HOOK, selections: [selection(['capecitabine'])], caseResult: { ok: false, kind: 'case-inconsistent', errors: many }, mapping: mappingOf(), kb: knowledgeBase
  })[0]?.card.summary, 'Order check unavailable: 12 fields inconsistent')
})

t.test('order-select: a complete case without its evaluation is a programming error', async (t) => {
  t.throws(() => orderSelectCards({ hookInstance: HOOK, selections: [selection(['trastuzumab'])], caseResult: { ok: true, case: caseOf() }, mapping: mappingOf(), kb: knowledgeBase }),
    { name: 'TypeError' })
})

t.test('order-select: the gaps of the response that affect the code', async (t) => {
  const issued = await orderCards({ patient: { dpydStatus: 'poor' } }, [selection(['capecitabine'])],
    mappingOf({ gaps: { 'patient.creatinineClearanceMlMin': ['Observation/creat-9: unit unknown'] } }))
  const detail = detailOf(issued[0])
  t.match(detail, /### Data gaps\n- patient\.creatinineClearanceMlMin: [^\n]+ — Observation\/creat-9: unit unknown\n\nRule /)
})

t.test('the §7.4 table, pinned: its agents and the vocabulary\'s classes', async (t) => {
  t.same(ORDER_CHECK_TABLE.map(({ code }) => code), ['CI-04', 'CI-01', 'CI-03', 'CI-05', 'CI-06b', 'BMA-01', 'BMA-04', 'BMA-05', 'BMA-06'])
  const agents = (code: string): readonly string[] => ORDER_CHECK_TABLE.find((row) => row.code === code)?.agents ?? []
  t.same([...agents('CI-01')].sort(), [...agentClass('anti_her2_agent')].sort(), 'CI-01: every anti-HER2 agent')
  t.same([...agents('CI-03')].sort(), [...agentClass('her2_antibody_adc_agent')].sort(), 'CI-03: trastuzumab, pertuzumab, T-DM1, T-DXd, margetuximab')
  t.same([...agents('CI-05')].sort(), [...agentClass('anti_her2_agent'), 'aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression', 'palbociclib', 'ribociclib', 'abemaciclib'].sort())
  t.same(orderCodes(['t_dxd']), ['CI-04', 'CI-01', 'CI-03', 'CI-05'])
  t.same(orderCodes(['zoledronic_acid']), ['BMA-01', 'BMA-04', 'BMA-05', 'BMA-06'])
  t.same(orderCodes(['denosumab']), ['BMA-05', 'BMA-06'])
  t.same(orderCodes(['docetaxel', 'other']), [])
})

// --- discovery (§3)

t.test('discovery entries: §3 fields, version 2.0.1, hookVersion 1.0, no empty value', async (t) => {
  const prefetch = { patient: 'Patient/{{context.patientId}}' }
  const services = [discoveryService(PATIENT_VIEW_SERVICE_ID, prefetch), discoveryService(ORDER_SELECT_SERVICE_ID, prefetch)]
  t.same(services.map(({ id, hook, version, hookVersion }) => ({ id, hook, version, hookVersion })), [
    { id: 'her2-mbc-bone-mets', hook: 'patient-view', version: CDS_HOOKS_SPEC_VERSION, hookVersion: HOOK_VERSION },
    { id: 'her2-mbc-order-check', hook: 'order-select', version: '2.0.1', hookVersion: '1.0' }
  ])
  t.equal(services[0]?.title, 'HER2+ metastatic breast cancer with bone metastases: guideline options')
  t.equal(services[1]?.title, 'HER2+ metastatic breast cancer: medication safety check')
  t.equal(services[0]?.usageRequirements, 'Needs the prefetch keys, or fhirServer + fhirAuthorization with read access to Patient, Condition, Observation, MedicationRequest, MedicationAdministration, MedicationStatement, Medication and Procedure. Calls must carry a JWT.')
  t.equal(services[1]?.usageRequirements, services[0]?.usageRequirements)
  for (const service of Object.values(CDS_SERVICES)) {
    t.match(service.description, /not orders/, `${service.id}: intended use`)
    t.match(service.description, /oncologists/, `${service.id}: users`)
    t.match(service.description, /HER2-positive metastatic breast cancer with bone, including vertebral, metastases/, `${service.id}: population`)
    t.match(service.description, /Not for emergencies/, `${service.id}: not for emergencies`)
    t.match(service.description, /Each card names the FHIR data it used/, `${service.id}: lineage`)
  }
  t.match(CDS_SERVICES['her2-mbc-order-check'].description, /T-DXd with interstitial lung disease.*low LVEF.*pregnancy.*creatinine clearance below 30.*DPYD poor.*osteonecrosis of the jaw/)
  for (const service of services) t.ok(DiscoveryService.safeParse(service).success)
  assertConformantDiscovery(t, { services })
  prefetch.patient = 'changed'
  t.equal(services[0]?.prefetch?.patient, 'Patient/{{context.patientId}}', 'the entry holds its own copy of the templates')
})

t.test('every kind of card conforms (order, incomplete, data) and the feedback data matches the uuid', async (t) => {
  const { input, response } = await responseOf({ patient: { lvefPercent: 35, dpydStatus: 'poor', creatinineClearanceMlMin: 25 } })
  const mapping = mappingOf({ warnings: [{ code: 'FHIR_UNDATED', message: 'x' }] })
  const all = [
    ...patientViewCards({ hookInstance: HOOK, response, mapping, kb: knowledgeBase }),
    ...orderSelectCards({ hookInstance: HOOK, selections: [selection(['capecitabine']), selection(['zoledronic_acid'], 'z')], caseResult: { ok: true, case: input }, response, mapping, kb: knowledgeBase })
  ]
  for (const { card, code, targets } of all) {
    const expected = card.indicator === 'warning' && card.source.label.includes('safety check')
      ? orderCardUuid(HOOK, targets[0] as string, code)
      : cardUuid(HOOK, code, targets)
    t.equal(card.uuid, expected, `${code}: uuid from its code and targets`)
  }
  assertConformantResponse(t, { cards: cardsOf(all) })
})
