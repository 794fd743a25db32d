import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Agent, OptionId, Strength } from '../schemas/common.js'
import type { Recommendation } from '../schemas/recommendation.js'
import {
  OPTIONS_FILE, OptionVocabularyError, readOptionVocabulary, type EngineAgentClass, type EngineGroup, type OptionVocabulary
} from './option-vocabulary.js'

/**
 * What each option is — its label and, for systemic options, the agents it contains — and the named
 * option sets the engine reads, all derived from `rules/options.json`, the option vocabulary a
 * clinician reviews beside the rulesets.
 * @see spec/clinical-rules.md Part 1 "Option composition"
 */

/**
 * The rules folder next to `src/` (or `dist/`: the container ships `rules/` beside it), found from
 * this module's own URL as the swagger plugin finds `openapi/examples/` — the same folder as the
 * default RULES_DIR.
 *
 * Why read it synchronously at module load, rather than with the knowledge base: the sets below are
 * module constants of a pure engine. The pipeline, the safety invariants, the data gaps and the
 * fact derivation import them without being handed the knowledge base, and they must hold before
 * the first function runs. Read once at import, a broken vocabulary stops the service at startup;
 * `loadKnowledgeBase` then requires the rules folder it loads to carry this very file (same digest),
 * so that the digest in every provenance is the one of the vocabulary the engine runs with.
 */
export const ENGINE_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url))

/** The vocabulary the engine runs with. */
export const OPTION_VOCABULARY: OptionVocabulary = readOptionVocabulary(ENGINE_RULES_DIR)

/**
 * The vocabulary of a rules folder being loaded as the knowledge base: its `options.json`,
 * validated, which must be the file the engine's sets were built from.
 */
export function knowledgeBaseVocabulary (dir: string): OptionVocabulary {
  const vocabulary = readOptionVocabulary(dir)
  if (vocabulary.digest !== OPTION_VOCABULARY.digest) {
    throw new OptionVocabularyError(`${join(dir, OPTIONS_FILE)}: differs from ${join(ENGINE_RULES_DIR, OPTIONS_FILE)}, the vocabulary the engine's option sets were built from at startup; a rules folder must carry that same file`)
  }
  return vocabulary
}

/** The members of a group the engine reads (their presence is checked when the file loads). */
export const optionGroup = (name: EngineGroup): ReadonlySet<OptionId> => new Set(OPTION_VOCABULARY.groups.get(name))
/** The agents of an agent class the engine reads. */
export const agentClass = (name: EngineAgentClass): readonly Agent[] => OPTION_VOCABULARY.agentClasses.get(name) as readonly Agent[]

export const OPTION_LABELS: Readonly<Record<OptionId, string>> = OPTION_VOCABULARY.labels
/** The agents an option may contain ("docetaxel or paclitaxel" lists both); composition-table options only. */
export const OPTION_AGENTS: Readonly<Partial<Record<OptionId, readonly Agent[]>>> = OPTION_VOCABULARY.agents

/** A taxane is docetaxel, paclitaxel or nab-paclitaxel (spec r6). */
export const TAXANES: readonly Agent[] = agentClass('taxane')

/** "Systemic option": an option of the composition table or clinical_trial. */
export const SYSTEMIC_OPTIONS = optionGroup('systemic')
/** The options of the option-composition table: every systemic option but clinical_trial (CI-05b). */
export const SYSTEMIC_DRUG_OPTIONS = optionGroup('composition')
/** "HER2 option": any option with an anti-HER2 agent (antibody, ADC or TKI). */
export const HER2_OPTIONS = optionGroup('her2')
/** "HER2 antibody/ADC option": any option with trastuzumab, pertuzumab, T-DM1, T-DXd or margetuximab. */
export const HER2_ANTIBODY_ADC_OPTIONS = optionGroup('her2_antibody_adc')
/** The three options with capecitabine in their id; trastuzumab_chemotherapy is not one (its partner may differ). */
export const CAPECITABINE_OPTIONS = optionGroup('capecitabine')
export const TDXD_OPTIONS = optionGroup('tdxd')
/** Any option containing T-DM1, tucatinib, neratinib or lapatinib (CI-07). */
export const TDM1_OR_TKI_OPTIONS = optionGroup('tdm1_or_tki')
export const CNS_ACTIVE_OPTIONS = optionGroup('cns_active')
/** Brain-directed measures: only with target "brain" and only when brain metastases are present. */
export const BRAIN_DIRECTED_OPTIONS = optionGroup('brain_directed')
export const BONE_MODIFYING_OPTIONS = optionGroup('bone_modifying')
/** Every radiotherapy option (`pregnancyRt`). */
export const RADIOTHERAPY_OPTIONS = optionGroup('radiotherapy')
/** Every endocrine option (CI-05; for men, Part 1 "Option composition"). */
export const ENDOCRINE_OPTIONS = optionGroup('endocrine')

/**
 * An option is offered when its effective strength — its own, else its item's — is not avoid. A
 * rule's params and option entries have the same shape (explain.ts reads them before any item exists).
 * @see spec/api.md "Response"
 */
export function isOffered (item: Pick<Recommendation, 'strength'>, option: { strength?: Strength | undefined }): boolean {
  return (option.strength ?? item.strength) !== 'avoid'
}
