import type { CitedReference, Recommendation, References } from '../schemas/recommendation.js'
import { evidenceRef, type Reference, type RuleEvidence } from '../schemas/rule-file.js'
import type { KnowledgeBase } from './load-rules.js'
import { evidenceOf } from './review-catalogue.js'

/**
 * Evidence by reference (spec/api.md revision 8, "Response"): an item carries
 * `evidence: [{ ref, verification }]` and the response one `references` object with the full
 * citation of each reference its items cite, once, keyed by R<n> in natural order (R2 before R10).
 *
 * Everything that does not depend on the case is built once per knowledge base: each rule's
 * evidence array, every catalogue entry as a response carries it (both frozen, so the response
 * writer reuses their JSON), the natural order, and which positions of that order each rule's
 * evidence cites. A response then costs one pass over its items' evidence, marking a bitset —
 * no string sorting, no citation copied. Responses that cite the same set share one frozen
 * `references` object, so that it is built, and its JSON written, once: building an object of ~35
 * keys and writing it cost 8–15 µs a response on the bench mix, finding the shared one about 1 µs.
 */

type ItemEvidence = Recommendation['evidence']

export interface CitationTable {
  /** Every catalogue reference in natural R-number order: the key order of a response's `references`. */
  readonly refs: readonly string[]
  /** The response entry of each, at the same position: citation, identifiers and the catalogue's own tag (no `note`). */
  readonly entries: readonly CitedReference[]
  readonly positionOf: ReadonlyMap<string, number>
  /** The positions each rule's evidence array (made by `ruleEvidence`) cites: one lookup per item. */
  readonly citedBy: WeakMap<ItemEvidence, readonly number[]>
  /** The `references` object of each cited set seen (keyed by its bitset), shared by the responses citing it. */
  readonly shared: Map<string, References>
  /** How many sets `shared` keeps: when full it starts afresh, so memory stays bounded whatever the traffic. */
  readonly maxShared: number
}

/** Enough for every set a busy service sees repeatedly; at ~9 KB (object and its JSON) each, ~2 MB at most. */
export const MAX_SHARED_REFERENCE_SETS = 256

const refNumber = (ref: string): number => Number(ref.slice(1))

/** The catalogue in natural order, with its response entries. Rules' evidence is added by `ruleEvidence`. */
export function citationTable (kb: KnowledgeBase, maxShared = MAX_SHARED_REFERENCE_SETS): CitationTable {
  const refs = [...kb.references.keys()].sort((a, b) => refNumber(a) - refNumber(b))
  const entries = refs.map((ref) => {
    const { ref: _ref, note: _note, ...entry } = kb.references.get(ref) as Reference
    return Object.freeze(entry)
  })
  return Object.freeze({
    refs: Object.freeze(refs),
    entries: Object.freeze(entries),
    positionOf: new Map(refs.map((ref, i) => [ref, i])),
    citedBy: new WeakMap(),
    shared: new Map(),
    maxShared
  })
}

/**
 * A rule's evidence as its items carry it: each reference with the lower of the rule's (Part 2) and
 * the catalogue's (Part 4) tag (`evidenceOf`), frozen, and registered in the table so that
 * `referencesOf` finds what an item cites without looking each reference up.
 */
export function ruleEvidence (kb: KnowledgeBase, table: CitationTable, cited: readonly RuleEvidence[]): ItemEvidence {
  const evidence = Object.freeze(cited.map((entry) => Object.freeze({ ref: evidenceRef(entry), verification: evidenceOf(kb, entry).verification }))) as ItemEvidence
  table.citedBy.set(evidence, Object.freeze(evidence.map(({ ref }) => positionIn(table, ref))))
  return evidence
}

function positionIn (table: CitationTable, ref: string): number {
  const position = table.positionOf.get(ref)
  // The loader rejects a rule citing an unknown reference; an item made elsewhere must not slip one through.
  if (position === undefined) throw new TypeError(`evidence cites ${ref}, which is not in the reference catalogue`)
  return position
}

/**
 * The response's `references`: the entry of every reference the items cite, each once and no other,
 * in natural R-number order — frozen, and the same object for every response citing the same set.
 * Items whose evidence a rule did not make (none in the pipeline) are looked up reference by reference.
 */
export function referencesOf (items: ReadonlyArray<Pick<Recommendation, 'evidence'>>, table: CitationTable): References {
  // One bit per catalogue position, 32 to a word: the set, and its key. (Plain arrays and indexed
  // loops: a typed array and for…of cost twice as much here.)
  const cited = new Array<number>(Math.ceil(table.refs.length / 32)).fill(0)
  for (let i = 0; i < items.length; i++) {
    const evidence = (items[i] as Pick<Recommendation, 'evidence'>).evidence
    const positions = table.citedBy.get(evidence) ?? evidence.map(({ ref }) => positionIn(table, ref))
    for (let j = 0; j < positions.length; j++) {
      const position = positions[j] as number
      cited[position >>> 5] = (cited[position >>> 5] as number) | (1 << (position & 31))
    }
  }
  const key = cited.join(',')
  let references = table.shared.get(key)
  if (references === undefined) {
    const built: References = {}
    for (let i = 0; i < table.refs.length; i++) {
      if ((((cited[i >>> 5] as number) >>> (i & 31)) & 1) === 1) built[table.refs[i] as string] = table.entries[i] as CitedReference
    }
    references = Object.freeze(built)
    if (table.shared.size >= table.maxShared) table.shared.clear()
    table.shared.set(key, references)
  }
  return references
}
