import t from 'tap'
import { CitedReference, Evidence, RecommendationResponse, References } from '../../src/schemas/recommendation.js'
import { CitedEvidence } from '../../src/schemas/knowledge.js'
import { respond } from '../fixtures/engine.js'
import { caseOf } from '../fixtures/factories.js'

// Evidence by reference (spec/api.md revision 8, "Response"): the shapes of an item's evidence and
// of the response's `references`; GET /v1/rulesets keeps the full citation per rule (api.md is
// silent on it there).

const R3 = { citation: 'Gennari A, et al. ESMO Clinical Practice Guideline. Ann Oncol 2021;32(12):1475-1495.', doi: '10.1016/j.annonc.2021.09.019', pmid: '34678411', verification: 'verified' } as const

t.test('Evidence: { ref, verification } only — a citation given with it is not part of the item', async (t) => {
  t.strictSame(Evidence.parse({ ref: 'R3', verification: 'partial' }), { ref: 'R3', verification: 'partial' })
  t.strictSame(Evidence.parse({ ...R3, ref: 'R3', verification: 'partial' }), { ref: 'R3', verification: 'partial' }, 'the citation is stripped: it lives in references')
  t.notOk(Evidence.safeParse({ ref: 'R3' }).success, 'verification is required')
  t.notOk(Evidence.safeParse({ ref: 'R03', verification: 'verified' }).success, 'ref is R<n>')
  t.notOk(Evidence.safeParse({ ref: 'R3', verification: 'checked' }).success, 'verification is verified | partial | unverified')
})

t.test('References: an object keyed by R<n>, each entry a citation with optional DOI, PMID, URL and the catalogue tag', async (t) => {
  t.strictSame(References.parse({}), {}, 'empty when nothing is cited')
  t.strictSame(References.parse({ R3, R10: { citation: 'A citation.', url: 'https://example.org', verification: 'unverified', note: 'internal' } }),
    { R3, R10: { citation: 'A citation.', url: 'https://example.org', verification: 'unverified' } }, 'a catalogue note is not carried')
  t.strictSame(Object.keys(References.parse({ R2: R3, R10: R3, R3 })), ['R2', 'R10', 'R3'], 'the key order is the engine\'s (natural R order), kept as given')
  t.notOk(References.safeParse({ X1: R3 }).success, 'keys are R<n>')
  t.notOk(References.safeParse({ R1: { verification: 'verified' } }).success, 'a citation is required')
  t.notOk(References.safeParse({ R1: { citation: 'A citation.' } }).success, 'the verification tag is required')
  t.notOk(CitedReference.safeParse({ ...R3, citation: '' }).success, 'a citation is not empty')
})

t.test('a response carries references (required) and items carry evidence by reference', async (t) => {
  const response = await respond(caseOf())
  t.ok(RecommendationResponse.safeParse(response).success)
  const { references: _references, ...withoutReferences } = response
  t.notOk(RecommendationResponse.safeParse(withoutReferences).success, 'references is required')
  const encoded = RecommendationResponse.encode(response)
  for (const item of encoded.recommendations) {
    for (const evidence of item.evidence) t.strictSame(Object.keys(evidence), ['ref', 'verification'], `${item.code}: ${evidence.ref} by reference`)
  }
})

t.test('GET /v1/rulesets keeps each rule\'s evidence in full (CitedEvidence: ref, then the citation and identifiers, then the tag)', async (t) => {
  t.strictSame(Object.keys(CitedEvidence.shape), ['ref', 'citation', 'doi', 'pmid', 'url', 'verification'])
  t.strictSame(CitedEvidence.parse({ ref: 'R3', ...R3 }), { ref: 'R3', ...R3 })
  t.match(References.description, /each once and no other/, 'the contract is in the description (and the OpenAPI document)')
})
