import type { RulesetCatalogue, ReferenceCatalogue } from '../schemas/knowledge.js'
import { evidenceRef, type Reference, type RuleEvidence } from '../schemas/rule-file.js'
import type { Verification } from '../schemas/common.js'
import type { KnowledgeBase } from './load-rules.js'

/** The knowledge base as the review endpoints and the rules README present it. */

const VERIFICATION_RANK: Readonly<Record<Verification, number>> = { verified: 2, partial: 1, unverified: 0 }

/**
 * A cited reference as an evidence item. Its tag is the lower of the catalogue's (Part 4) and the
 * one the rule's row attaches to it (Part 2), when it attaches one.
 * @see spec/clinical-rules.md Part 2, the verification-tag rule (r6)
 */
export function evidenceOf (kb: KnowledgeBase, cited: RuleEvidence): Omit<Reference, 'note'> {
  const { note: _note, ...evidence } = kb.references.get(evidenceRef(cited)) as Reference
  if (typeof cited === 'string' || VERIFICATION_RANK[cited.verification] >= VERIFICATION_RANK[evidence.verification]) return evidence
  return { ...evidence, verification: cited.verification }
}

export function rulesetCatalogue (kb: KnowledgeBase): RulesetCatalogue {
  return {
    rulesets: kb.rulesets.map((ruleset) => ({
      id: ruleset.id,
      version: ruleset.version,
      digest: ruleset.digest,
      description: ruleset.description,
      rules: ruleset.rules.map((rule) => {
        const params = rule.event.params
        return {
          name: rule.name,
          code: params.code,
          domain: params.domain,
          strength: params.strength,
          title: params.title,
          pass: rule.pass,
          scope: rule.scope,
          options: (params.options ?? []).map((option) => ({
            id: option.id,
            ...(option.strength === undefined ? {} : { strength: option.strength }),
            conditional: option.when !== undefined
          })),
          evidence: params.evidence.map((ref) => evidenceOf(kb, ref))
        }
      })
    })),
    references: { version: kb.referenceCatalogue.version, digest: kb.referenceCatalogue.digest }
  }
}

export function referenceCatalogue (kb: KnowledgeBase): ReferenceCatalogue {
  return {
    version: kb.referenceCatalogue.version,
    digest: kb.referenceCatalogue.digest,
    retired: kb.referenceCatalogue.retired,
    references: [...kb.references.values()]
  }
}
