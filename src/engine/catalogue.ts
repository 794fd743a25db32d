import type { RulesetCatalogue, ReferenceCatalogue } from '../schemas/knowledge.js'
import type { Reference } from '../schemas/rule-file.js'
import type { KnowledgeBase } from './load-rules.js'

/** The knowledge base as the review endpoints and the rules README present it. */

export function evidenceOf (kb: KnowledgeBase, ref: string): Omit<Reference, 'note'> {
  const { note: _note, ...evidence } = kb.references.get(ref) as Reference
  return evidence
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
