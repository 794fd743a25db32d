import { z } from 'zod'
import { Agent, OPTION_IDS, type OptionId } from './common.js'

/**
 * The format of `rules/options.json`: what each option id of the contract is (its label and, for
 * systemic options, the agents it contains), the agent classes the option-composition table speaks
 * of, and the named option groups the specification defines ("HER2 option", "capecitabine option",
 * "every radiotherapy option", …). The loader (`src/engine/option-vocabulary.ts`) checks what zod
 * cannot: every option id present exactly once, every name an option, group or class refers to.
 * @see spec/clinical-rules.md Part 1 "Option composition"
 * @see rules/README.md "The option vocabulary"
 */

const isOptionId = (value: string): boolean => (OPTION_IDS as readonly string[]).includes(value)

/**
 * An option id of the contract (spec/api.md "Option ids"). A refinement rather than `OptionId`'s
 * enum so that an unknown id is reported as one short line — and, inside a union (a rule option is
 * an id or a group), on the entry's `id` rather than as "Invalid input" for the whole entry.
 */
export const KnownOptionId = z.string()
  .refine(isOptionId, { error: (issue) => `unknown option id ${JSON.stringify(issue.input)} (the ids are spec/api.md's, OPTION_IDS in src/schemas/common.ts)` })
  .transform((value) => value as OptionId)

/** The id of an agent class or an option group: lower-case words joined by "_". */
export const VocabularyName = z.string().regex(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, { message: 'must be lower-case words joined by "_"' })

export const AgentClass = z.strictObject({
  id: VocabularyName,
  /** The specification's own words for the class. */
  description: z.string().min(1),
  agents: z.array(Agent).min(1)
})
export type AgentClass = z.infer<typeof AgentClass>

export const OptionDefinition = z.strictObject({
  id: KnownOptionId,
  /** The label every response gives the option unless a rule writes its own. */
  label: z.string().min(1),
  /**
   * Systemic options of the option-composition table only: the agents the option may contain, as
   * agent ids (`trastuzumab`) or agent-class ids (`taxane`: docetaxel, paclitaxel or nab_paclitaxel).
   */
  agents: z.array(VocabularyName).min(1).optional()
})
export type OptionDefinition = z.infer<typeof OptionDefinition>

/**
 * A named set of options. Its members are the union of: the listed `options`; the members of the
 * listed `groups` (defined earlier in the file); every option whose agents include one of
 * `optionsContaining` (agents or agent classes); with `everyOptionWithAgents`, every option of the
 * option-composition table. Write the form the specification's sentence uses: "any option with an
 * anti-HER2 agent" is `optionsContaining`, "`tdxd` or `tdxd_pertuzumab`" is `options`.
 */
export const OptionGroup = z.strictObject({
  id: VocabularyName,
  /** The specification's sentence that defines the group, quoted with where it stands. */
  description: z.string().min(1),
  options: z.array(KnownOptionId).min(1).optional(),
  groups: z.array(VocabularyName).min(1).optional(),
  optionsContaining: z.array(VocabularyName).min(1).optional(),
  everyOptionWithAgents: z.literal(true).optional()
})
export type OptionGroup = z.infer<typeof OptionGroup>

export const OptionVocabularyFile = z.strictObject({
  id: z.literal('options'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: z.string().min(1),
  agentClasses: z.array(AgentClass).min(1),
  options: z.array(OptionDefinition).min(1),
  groups: z.array(OptionGroup).min(1)
})
export type OptionVocabularyFile = z.infer<typeof OptionVocabularyFile>
