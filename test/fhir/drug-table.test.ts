import t from 'tap'
import { BMA_AGENTS } from '../../src/schemas/case.js'
import { AGENTS } from '../../src/schemas/common.js'
import { SYSTEMS } from '../../src/fhir/constants.js'
import { DRUG_CODE_SOURCES, DRUG_TABLE, type RxNormEntry } from '../../src/fhir/drug-table.js'
import { drugsInText, drugsOfCodings, matchDrug } from '../../src/fhir/sections/medications.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

const rx = (code: string): Array<{ system: string, code: string }> => [{ system: SYSTEMS.rxnorm, code }]

const agentRows = Object.entries(DRUG_TABLE.agents)
const boneRows = Object.entries(DRUG_TABLE.boneAgents)
const allCodes: Array<{ owner: string, entry: RxNormEntry }> = [
  ...agentRows.flatMap(([owner, row]) => row.rxnorm.map((entry: RxNormEntry) => ({ owner, entry }))),
  ...boneRows.flatMap(([owner, row]) => row.rxnorm.map((entry: RxNormEntry) => ({ owner, entry })))
]

t.test('the table is versioned', async (t) => {
  t.match(DRUG_TABLE.version, /^\d+\.\d+\.\d+$/)
})

t.test('one row per Agent of api.md (other excepted) and per bone-modifying agent (none excepted)', async (t) => {
  t.strictSame(Object.keys(DRUG_TABLE.agents).sort(), AGENTS.filter((agent) => agent !== 'other').sort())
  t.strictSame(Object.keys(DRUG_TABLE.boneAgents).sort(), BMA_AGENTS.filter((agent) => agent !== 'none').sort())
  for (const [owner, row] of [...agentRows, ...boneRows]) t.ok(row.names.length > 0, `${owner} has a name`)
})

t.test('every RxNorm code is [U], names a known source and appears once in the table', async (t) => {
  const seen = new Set<string>()
  for (const { owner, entry } of allCodes) {
    t.equal(entry.unverified, true, `${entry.code} (${owner}) is flagged [U]`)
    t.ok(Object.hasOwn(DRUG_CODE_SOURCES, entry.source), `${entry.code} names a known source`)
    t.match(entry.code, /^\d+$/, `${entry.code} is an RxNorm CUI`)
    t.notOk(seen.has(entry.code), `${entry.code} appears once`)
    seen.add(entry.code)
  }
})

t.test('the MITRE codes of §6.6 map to their agents', async (t) => {
  const expected: Array<[string, string]> = [
    ['1158877', 'capecitabine'], ['1157702', 'aromatase_inhibitor'], ['1163195', 'aromatase_inhibitor'],
    ['1163788', 'aromatase_inhibitor'], ['1164214', 'tamoxifen'], ['1156671', 'fulvestrant'], ['1601377', 'palbociclib'],
    ['1873980', 'ribociclib'], ['1156710', 'gemcitabine'], ['1163443', 'ovarian_suppression'], ['583214', 'paclitaxel'],
    ['1946827', 'abemaciclib'], ['1946828', 'abemaciclib']
  ]
  for (const [code, agent] of expected) {
    t.strictSame(drugsOfCodings(rx(code)), { agents: [agent] }, `${code} → ${agent}`)
    t.equal(allCodes.find(({ entry }) => entry.code === code)?.entry.source, 'MITRE fixtures', `${code} names the MITRE fixtures`)
  }
  t.strictSame(drugsOfCodings(rx('1156253')), { agents: [], bma: 'zoledronic_acid' }, '1156253 → zoledronic acid')
  t.equal(allCodes.filter(({ entry }) => entry.source === 'MITRE fixtures').length, expected.length + 1, 'no other MITRE code')
})

t.test('abemaciclib 1946827 and 1946828 are both kept, flagged', async (t) => {
  const abemaciclib = DRUG_TABLE.agents.abemaciclib.rxnorm
  t.strictSame(abemaciclib.map((entry) => entry.code), ['1946827', '1946828'])
  for (const entry of abemaciclib) t.match(entry.flag, /1946827 and 1946828/)
  t.equal(allCodes.filter(({ entry }) => 'flag' in entry).length, 2, 'no other code carries a flag')
})

t.test('only RxNorm codings are read; an unknown RxNorm code matches nothing', async (t) => {
  t.equal(drugsOfCodings([{ system: SYSTEMS.snomed, code: '1158877' }]), undefined)
  t.equal(drugsOfCodings([{ system: SYSTEMS.rxnorm }]), undefined)
  t.equal(drugsOfCodings(rx('2169297')), undefined, 'alpelisib is not in the table')
})

t.test('every name and brand maps to its own row by text, and no term belongs to two rows', async (t) => {
  const seen = new Map<string, string>()
  for (const [owner, row] of agentRows) {
    for (const term of [...row.names, ...row.brands]) {
      t.strictSame(drugsInText(term)?.agents, [owner], `"${term}" → ${owner}`)
      t.notOk(seen.has(term.toLowerCase()), `"${term}" is in one row`)
      seen.set(term.toLowerCase(), owner)
    }
  }
  for (const [owner, row] of boneRows) {
    for (const term of [...row.names, ...row.brands]) {
      t.strictSame(drugsInText(term), { agents: [], bma: owner }, `"${term}" → ${owner}`)
      t.notOk(seen.has(term.toLowerCase()), `"${term}" is in one row`)
      seen.set(term.toLowerCase(), owner)
    }
    for (const term of row.osteoporosisBrands) {
      t.strictSame(drugsInText(term), { agents: [], bma: owner, osteoporosisProduct: true }, `"${term}" → ${owner}, osteoporosis product`)
      t.notOk(seen.has(term.toLowerCase()), `"${term}" is in one row`)
      seen.set(term.toLowerCase(), owner)
    }
  }
})

t.test('[D] the osteoporosis products of §6.6: Reclast, Aclasta → zoledronic acid; Prolia → denosumab', async (t) => {
  t.strictSame(DRUG_TABLE.boneAgents.zoledronic_acid.osteoporosisBrands, ['Reclast', 'Aclasta'])
  t.strictSame(DRUG_TABLE.boneAgents.denosumab.osteoporosisBrands, ['Prolia'])
  t.strictSame(DRUG_TABLE.boneAgents.pamidronate.osteoporosisBrands, [])
})

t.test('text matching: longest first, non-overlapping, every occurrence (§6.6 rule 2)', async (t) => {
  t.strictSame(drugsInText('ado-trastuzumab emtansine')?.agents, ['t_dm1'], 'T-DM1 only, not trastuzumab')
  t.strictSame(drugsInText('Trastuzumab emtansine 100 MG Injection')?.agents, ['t_dm1'])
  t.strictSame(drugsInText('fam-trastuzumab deruxtecan-nxki')?.agents, ['t_dxd'])
  t.strictSame(drugsInText('pertuzumab / trastuzumab / hyaluronidase')?.agents, ['trastuzumab', 'pertuzumab'], 'both antibodies')
  t.strictSame(drugsInText('paclitaxel protein-bound particles')?.agents, ['nab_paclitaxel'], 'nab-paclitaxel, not paclitaxel')
  t.strictSame(drugsInText('albumin-bound paclitaxel')?.agents, ['nab_paclitaxel'])
  t.strictSame(drugsInText('docetaxel then paclitaxel')?.agents, ['docetaxel', 'paclitaxel'], 'every occurrence')
  t.strictSame(drugsInText('Phesgo 600 mg/600 mg')?.agents, ['trastuzumab', 'pertuzumab'], 'Phesgo = pertuzumab + trastuzumab')
  t.strictSame(drugsInText('Kisqali Femara Co-Pack')?.agents, ['aromatase_inhibitor', 'ribociclib'])
  t.strictSame(drugsInText('doxorubicin hydrochloride liposome')?.agents, ['anthracycline'], 'liposomal doxorubicin')
  t.strictSame(drugsInText('HERCEPTIN   HYLECTA')?.agents, ['trastuzumab'], 'case and spacing do not matter')
})

t.test('text matching: biosimilar suffixes are dropped', async (t) => {
  for (const text of ['trastuzumab-anns', 'Trastuzumab-dkst 150 MG', 'trastuzumab and hyaluronidase-oysk', 'denosumab-bbdz']) {
    t.ok(drugsInText(text) !== undefined, text)
  }
  t.strictSame(drugsInText('trastuzumab-anns')?.agents, ['trastuzumab'])
})

t.test('text matching: names match at word boundaries only', async (t) => {
  t.equal(drugsInText('Taxolol'), undefined, 'a brand inside a longer word')
  t.equal(drugsInText('pretamoxifen'), undefined)
  t.equal(drugsInText('ondansetron 8 MG'), undefined, 'not a table drug')
  t.equal(drugsInText(''), undefined)
})

t.test('matchDrug: code first; text when no code matches; the code wins a conflict (§6.6 rules 1–3)', async (t) => {
  t.strictSame(matchDrug(rx('1156253'), ['Paclitaxel 100 MG Injection']),
    { match: { agents: [], bma: 'zoledronic_acid' }, matchedBy: 'code', conflict: true })
  t.strictSame(matchDrug(rx('200328'), ['capecitabine 500 MG Oral Tablet']),
    { match: { agents: ['capecitabine'] }, matchedBy: 'code', conflict: false })
  t.strictSame(matchDrug(rx('904425'), ['Paclitaxel 100 MG Injection']),
    { match: { agents: ['paclitaxel'] }, matchedBy: 'text', conflict: false }, 'an RxNorm code not in the table falls back to text')
  t.strictSame(matchDrug([], ['no drug here', 'Herceptin']),
    { match: { agents: ['trastuzumab'] }, matchedBy: 'text', conflict: false }, 'text, then the displays')
  t.strictSame(matchDrug([], ['alpelisib']), { matchedBy: 'none', conflict: false })
})

t.test('every entry of sandbox/rxnorm-extract.json maps to the agent its name contains', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const extract = readThirdPartyJson<{ cuiToName: Record<string, string> }>('sandbox/rxnorm-extract.json')
  const entries = Object.entries(extract.cuiToName)
  t.equal(entries.length, 51, 'the extract holds 51 entries (§6.6)')
  for (const [code, name] of entries) {
    const byName = drugsInText(name)
    t.ok(byName !== undefined && byName.agents.length === 1, `"${name}" names one agent`)
    t.strictSame(drugsOfCodings(rx(code)), byName, `${code} "${name}" → ${byName?.agents.join() ?? '?'}`)
    t.equal(allCodes.find(({ entry }) => entry.code === code)?.entry.source, 'sandbox rxnorm-extract', `${code} names the sandbox extract`)
  }
  const sandboxCodes = allCodes.filter(({ entry }) => entry.source === 'sandbox rxnorm-extract').map(({ entry }) => entry.code)
  t.strictSame(sandboxCodes.sort(), entries.map(([code]) => code).sort(), 'the table holds exactly the extract\'s codes under that source')
})
