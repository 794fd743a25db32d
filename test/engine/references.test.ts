import fc from 'fast-check'
import t from 'tap'
import { Case } from '../../src/schemas/case.js'
import type { Verification } from '../../src/schemas/common.js'
import { References, type RecommendationResponse } from '../../src/schemas/recommendation.js'
import { evidenceRef, type Reference } from '../../src/schemas/rule-file.js'
import { citationTable, MAX_SHARED_REFERENCE_SETS, referencesOf } from '../../src/engine/references.js'
import { benchCase, caseWithLesions } from '../../bench/cases.js'
import { evaluateRaw, knowledgeBase } from '../fixtures/engine.js'
import { loadExamples, loadRuleCaseTables } from '../fixtures/expectations.js'
import { caseOf } from '../fixtures/factories.js'
import { arbitraryCase } from '../fixtures/generators.js'
import { BASE_CASE, evaluateOn, itemOf, rule, testKnowledgeBase } from '../fixtures/pipeline-kb.js'

// Evidence by reference (spec/api.md revision 8, "Response"): items carry { ref, verification };
// the response's `references` holds the full citation of exactly the references its items cite,
// each once, in natural R-number order.

const RANK: Readonly<Record<Verification, number>> = { unverified: 0, partial: 1, verified: 2 }
const refNumber = (ref: string): number => Number(ref.slice(1))

/** The catalogue entry as a response carries it: no `ref` (it is the key), no `note`. */
function catalogueEntry (ref: string): Omit<Reference, 'ref' | 'note'> | undefined {
  const reference = knowledgeBase.references.get(ref)
  if (reference === undefined) return undefined
  const { ref: _ref, note: _note, ...entry } = reference
  return entry
}

/** Every way the response's `references` can differ from what its items cite (empty when it holds). */
function referenceProblems (body: Pick<RecommendationResponse, 'recommendations' | 'references'>): string[] {
  const problems: string[] = []
  const cited = new Set(body.recommendations.flatMap((item) => item.evidence.map(({ ref }) => ref)))
  const keys = Object.keys(body.references)
  for (const ref of cited) if (!(ref in body.references)) problems.push(`${ref} is cited but not in references`)
  for (const ref of keys) if (!cited.has(ref)) problems.push(`${ref} is in references but no item cites it`)
  const natural = [...keys].sort((a, b) => refNumber(a) - refNumber(b))
  if (keys.join() !== natural.join()) problems.push(`references out of natural order: ${keys.join(', ')}`)
  for (const ref of keys) {
    if (JSON.stringify(body.references[ref]) !== JSON.stringify(catalogueEntry(ref))) problems.push(`${ref} is not the catalogue's entry`)
  }
  const parsed = References.safeParse(body.references)
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `/${issue.path.join('/')}: ${issue.message}`))
  return problems
}

t.test('every rule\'s evidence: { ref, verification } with the lower of the rule\'s (Part 2) and the catalogue\'s (Part 4) tag, frozen', async (t) => {
  let lowered = 0
  for (const prepared of knowledgeBase.rulesByName.values()) {
    const { evidence } = prepared.view
    t.ok(Object.isFrozen(evidence) && evidence.every((entry) => Object.isFrozen(entry)), `${prepared.definition.name}: frozen (the writer reuses its JSON)`)
    const expected = prepared.definition.event.params.evidence.map((cited) => {
      const ref = evidenceRef(cited)
      const catalogueTag = knowledgeBase.references.get(ref)?.verification as Verification
      const ruleTag = typeof cited === 'string' ? catalogueTag : cited.verification
      if (RANK[ruleTag] < RANK[catalogueTag]) lowered++
      return { ref, verification: RANK[ruleTag] < RANK[catalogueTag] ? ruleTag : catalogueTag }
    })
    if (JSON.stringify(evidence) !== JSON.stringify(expected)) t.fail(`${prepared.definition.name}: ${JSON.stringify(evidence)} ≠ ${JSON.stringify(expected)}`)
  }
  t.ok(lowered > 0, `the knowledge base has rule tags below the catalogue's (${lowered}), so the lower-of rule is exercised`)
})

t.test('the catalogue in natural order, each entry as the response carries it, frozen and shared', async (t) => {
  const { refs, entries } = knowledgeBase.citations
  t.strictSame(refs, [...knowledgeBase.references.keys()].sort((a, b) => refNumber(a) - refNumber(b)))
  t.ok(refs.indexOf('R2') < refs.indexOf('R10'), 'R2 before R10')
  refs.forEach((ref, i) => {
    t.strictSame(entries[i], catalogueEntry(ref), `${ref}: citation, identifiers and the catalogue's tag; no note`)
    t.ok(Object.isFrozen(entries[i]), `${ref}: frozen`)
  })
})

t.test('referencesOf: the cited references, each once, in natural order; an unknown reference throws', async (t) => {
  const { citations } = knowledgeBase
  t.strictSame(referencesOf([], citations), {}, 'no items: no references')
  const made = [{ evidence: [{ ref: 'R10', verification: 'partial' as const }, { ref: 'R2', verification: 'verified' as const }] }, { evidence: [{ ref: 'R2', verification: 'partial' as const }] }]
  const references = referencesOf(made, citations)
  t.strictSame(Object.keys(references), ['R2', 'R10'], 'evidence not made by a rule is looked up reference by reference: each once, R2 before R10')
  t.equal(references.R2, citations.entries[citations.refs.indexOf('R2')], 'the shared frozen entry, not a copy')
  t.equal(references.R2?.verification, knowledgeBase.references.get('R2')?.verification, 'the catalogue\'s own tag, whatever tag an item carries')
  t.throws(() => referencesOf([{ evidence: [{ ref: 'R999', verification: 'verified' }] }], citations), /R999, which is not in the reference catalogue/)
})

t.test('responses citing the same set share one frozen references object (its JSON written once); the cache is bounded', async (t) => {
  const first = await evaluateRaw(caseOf())
  const again = await evaluateRaw(caseOf({ caseId: 'another-request' }))
  t.ok(Object.isFrozen(first.body.references), 'frozen')
  t.equal(again.body.references, first.body.references, 'the same object for the same cited set')
  t.not((await evaluateRaw(caseOf({ tumor: { her2Ihc: '0' } }))).body.references, first.body.references, 'another set, another object')
  t.equal(knowledgeBase.citations.maxShared, MAX_SHARED_REFERENCE_SETS)

  const small = citationTable(knowledgeBase, 2)
  const citing = (ref: string): Array<{ evidence: Array<{ ref: string, verification: 'verified' }> }> => [{ evidence: [{ ref, verification: 'verified' }] }]
  const r1 = referencesOf(citing('R1'), small)
  t.equal(referencesOf(citing('R1'), small), r1)
  referencesOf(citing('R2'), small)
  t.equal(small.shared.size, 2)
  t.strictSame(Object.keys(referencesOf(citing('R3'), small)), ['R3'])
  t.equal(small.shared.size, 1, 'full: it starts afresh')
  const rebuilt = referencesOf(citing('R1'), small)
  t.not(rebuilt, r1, 'a set it no longer keeps is built again…')
  t.strictSame(rebuilt, r1, '… to the same content')
  t.strictSame(Object.keys(referencesOf(citing('R67'), small)), ['R67'], 'positions past the first 32-bit word')
})

t.test('the check below finds a reference missing, one too many, a wrong entry and a wrong order', async (t) => {
  const { body } = await evaluateRaw(caseOf())
  const [first, second] = Object.keys(body.references) as [string, string]
  t.strictSame(referenceProblems(body), [])
  const { [first]: _missing, ...withoutFirst } = body.references
  t.match(referenceProblems({ ...body, references: withoutFirst }), [`${first} is cited but not in references`])
  t.match(referenceProblems({ ...body, references: { ...body.references, R999: { citation: 'x', verification: 'verified' } } }), ['R999 is in references but no item cites it'])
  t.match(referenceProblems({ ...body, references: { ...body.references, [first]: { citation: 'x', verification: 'verified' } } }), [`${first} is not the catalogue's entry`])
  const { [second]: moved, ...rest } = body.references
  t.match(referenceProblems({ ...body, references: { [second]: moved, ...rest } as typeof body.references }), [/out of natural order/])
})

t.test('after filtering: a dropped item\'s references leave with it; a tag lowered by the rule stays on the item', async (t) => {
  const kb = testKnowledgeBase([
    rule('ci-04', 2, { code: 'CI-04', strength: 'avoid', options: [{ id: 'tdxd' }], evidence: ['R11'] }, { all: [{ fact: 'ageYears', operator: 'lessThan', value: 70 }] }),
    // Offers only what CI-04 forbids: step 3d drops it, and R3, which only it cites, with it.
    rule('sys-09', 3, { code: 'SYS-09', options: [{ id: 'tdxd' }], evidence: ['R3', 'R2'] }),
    rule('sys-02', 3, { code: 'SYS-02', options: [{ id: 'thp' }], evidence: [{ ref: 'R2', verification: 'unverified' }, 'R10'] })
  ])
  const evaluation = await evaluateOn(kb, BASE_CASE)
  t.strictSame(evaluation.body.recommendations.map(({ code }) => code), ['CI-04', 'SYS-02'], 'SYS-09 dropped')
  t.strictSame(Object.keys(evaluation.body.references), ['R2', 'R10', 'R11'], 'no R3; natural order')
  t.strictSame(itemOf(evaluation, 'SYS-02')?.evidence, [{ ref: 'R2', verification: 'unverified' }, { ref: 'R10', verification: knowledgeBase.references.get('R10')?.verification }])
  t.equal(evaluation.body.references.R2?.verification, 'partial', 'the references entry keeps the catalogue\'s tag (R2: partial)')
  t.strictSame(referenceProblems(evaluation.body), [])

  const older = await evaluateOn(kb, { ...BASE_CASE, patient: { ...BASE_CASE.patient, ageYears: 75 } })
  t.strictSame(older.body.recommendations.map(({ code }) => code), ['SYS-02', 'SYS-09'], 'CI-04 does not fire: nothing dropped')
  t.strictSame(Object.keys(older.body.references), ['R2', 'R3', 'R10'], 'R3 cited again, R11 no longer')
})

t.test('exactly the cited references for every example, rule case, bench case and minimal or out-of-scope case', async (t) => {
  const cases: Array<[string, unknown]> = [
    ...loadExamples().map((example): [string, unknown] => [`example ${example.name}`, example.case]),
    ...loadRuleCaseTables().flatMap(({ file, cases }) => cases.map((entry): [string, unknown] => [`${file}: ${entry.name}`, entry.case])),
    ...Array.from({ length: 24 }, (_, i): [string, unknown] => [`bench case ${i}`, benchCase(i)]),
    ...[0, 40].map((n): [string, unknown] => [`bench case with ${n} spine lesions`, caseWithLesions(n)]),
    ['minimal case', caseOf()],
    ['out of scope: HER2 negative', caseOf({ tumor: { her2Ihc: '0' } })],
    ['out of scope: not metastatic', caseOf({ disease: { presentation: 'early', metastaticSites: [] } })],
    ['HER2 pending', caseOf({ tumor: { her2Ihc: '2+' } })]
  ]
  let checked = 0
  let outOfScope = 0
  for (const [name, raw] of cases) {
    if (!Case.safeParse(raw).success) continue
    const { body } = await evaluateRaw(raw)
    if (!body.scope.inScope) outOfScope++
    const problems = referenceProblems(body)
    if (problems.length > 0) t.fail(`${name}: ${problems.join('; ')}`)
    checked++
  }
  t.ok(checked > 100, `${checked} cases checked`)
  t.ok(outOfScope > 0, `${outOfScope} of them out of scope`)
})

t.test('… and for 1,000 generated cases', async (t) => {
  let compared = 0
  await fc.assert(fc.asyncProperty(arbitraryCase(), async (input) => {
    const { body } = await evaluateRaw(input)
    compared++
    const problems = referenceProblems(body)
    if (problems.length > 0) throw new Error(problems.join('; '))
  }), { numRuns: 1000, seed: 20260610 })
  t.equal(compared, 1000)
})
