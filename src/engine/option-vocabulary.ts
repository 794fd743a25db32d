import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { z } from 'zod'
import { AGENTS, OPTION_IDS, type Agent, type OptionId } from '../schemas/common.js'
import { OptionVocabularyFile } from '../schemas/option-vocabulary.js'
import type { RuleDefinition, RuleOption, RuleOptionEntry, RuleSource } from '../schemas/rule-file.js'
import type { LoadedRuleset } from './load-rules.js'

/**
 * The option vocabulary, `rules/options.json`: validated and resolved here — agent classes into
 * agents, groups into option ids — and used to expand the option groups a rule names. Any problem
 * stops startup with a message naming the file and the entry, as for the rulesets.
 * @see rules/README.md "The option vocabulary"
 */

export const OPTIONS_FILE = 'options.json'

/** The groups and agent classes the engine's code reads (src/engine/options.ts, agents.ts). */
export const ENGINE_GROUPS = [
  'her2', 'her2_antibody_adc', 'capecitabine', 'tdxd', 'tdm1_or_tki', 'cns_active', 'brain_directed',
  'bone_modifying', 'radiotherapy', 'endocrine', 'systemic', 'composition'
] as const
export type EngineGroup = typeof ENGINE_GROUPS[number]
export const ENGINE_AGENT_CLASSES = ['taxane', 'anti_her2_agent', 'her2_antibody_adc_agent', 'endocrine_agent'] as const
export type EngineAgentClass = typeof ENGINE_AGENT_CLASSES[number]

export interface OptionVocabulary {
  file: string
  version: string
  description: string
  /** sha256 of the file as loaded. */
  digest: string
  /** Every option id of the contract, in the file's order: the order a group expands in. */
  order: readonly OptionId[]
  labels: Readonly<Record<OptionId, string>>
  /** The options of the composition table, each with its agents (agent classes resolved). */
  agents: Readonly<Partial<Record<OptionId, readonly Agent[]>>>
  agentClasses: ReadonlyMap<string, readonly Agent[]>
  /** Every group with its members in the vocabulary's order. */
  groups: ReadonlyMap<string, readonly OptionId[]>
}

export class OptionVocabularyError extends Error {
  override name = 'OptionVocabularyError'
}

const isAgent = (name: string): name is Agent => (AGENTS as readonly string[]).includes(name)

/** Names the entry an issue lies in ("option "thp" at "), so that an author finds it at once. */
function describeLocation (data: unknown, path: readonly PropertyKey[]): string {
  const kinds: Record<string, string> = { agentClasses: 'agent class', options: 'option', groups: 'group' }
  const kind = kinds[String(path[0])]
  if (kind === undefined || typeof path[1] !== 'number') return ''
  const entry = (data as Record<string, Array<{ id?: unknown }>>)[String(path[0])]?.[path[1]]
  return typeof entry?.id === 'string' ? `${kind} "${entry.id}" at ` : ''
}

function parseFile (file: string, text: string): OptionVocabularyFile {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new OptionVocabularyError(`${file}: not valid JSON (${(error as Error).message})`)
  }
  const result = OptionVocabularyFile.safeParse(data)
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue
    throw new OptionVocabularyError(`${file}: ${describeLocation(data, issue.path)}/${issue.path.join('/')}: ${issue.message}`)
  }
  return result.data
}

/**
 * Validates and resolves the text of an options file. Checks beyond the schema: every option id of
 * the contract exactly once; agent-class, option and group ids unique; every agent, class and group
 * a definition names exists (a group may include only groups defined before it); no group empty;
 * every group and class the engine reads present.
 */
export function parseOptionVocabulary (text: string, file: string = OPTIONS_FILE): OptionVocabulary {
  const parsed = parseFile(file, text)
  const fail = (entry: string, message: string): never => { throw new OptionVocabularyError(`${file}: ${entry}: ${message}`) }

  const agentClasses = new Map<string, readonly Agent[]>()
  for (const agentClass of parsed.agentClasses) {
    const where = `agent class "${agentClass.id}"`
    if (agentClasses.has(agentClass.id)) fail(where, 'defined twice')
    if (isAgent(agentClass.id)) fail(where, 'is also an agent id; give the class another name')
    const duplicate = agentClass.agents.find((agent, i) => agentClass.agents.indexOf(agent) !== i)
    if (duplicate !== undefined) fail(where, `agent "${duplicate}" listed twice`)
    agentClasses.set(agentClass.id, Object.freeze(agentClass.agents))
  }
  const resolveAgents = (where: string, names: readonly string[]): Agent[] => names.flatMap((name) => {
    if (isAgent(name)) return [name]
    return agentClasses.get(name) ?? fail(where, `unknown agent or agent class "${name}"`)
  })

  const labels = new Map<OptionId, string>()
  const agents: Partial<Record<OptionId, readonly Agent[]>> = {}
  for (const option of parsed.options) {
    const where = `option "${option.id}"`
    if (labels.has(option.id)) fail(where, 'listed twice')
    labels.set(option.id, option.label)
    if (option.agents === undefined) continue
    const contents = resolveAgents(where, option.agents)
    const duplicate = contents.find((agent, i) => contents.indexOf(agent) !== i)
    if (duplicate !== undefined) fail(where, `agent "${duplicate}" listed twice (directly or through an agent class)`)
    agents[option.id] = Object.freeze(contents)
  }
  const missing = OPTION_IDS.filter((id) => !labels.has(id))
  if (missing.length > 0) fail('options', `every option id of the contract needs an entry; missing: ${missing.join(', ')}`)
  const order = [...labels.keys()]

  const groups = new Map<string, readonly OptionId[]>()
  for (const group of parsed.groups) {
    const where = `group "${group.id}"`
    if (groups.has(group.id)) fail(where, 'defined twice')
    const duplicate = group.options?.find((id, i) => group.options?.indexOf(id) !== i)
    if (duplicate !== undefined) fail(where, `option "${duplicate}" listed twice`)
    const members = new Set<OptionId>(group.options)
    for (const name of group.groups ?? []) {
      const included = groups.get(name) ?? fail(where, `unknown group "${name}" (a group may include only groups defined before it)`)
      included.forEach((id) => members.add(id))
    }
    const containing = new Set(resolveAgents(where, group.optionsContaining ?? []))
    for (const [id, contents] of Object.entries(agents) as Array<[OptionId, readonly Agent[]]>) {
      if (group.everyOptionWithAgents === true || contents.some((agent) => containing.has(agent))) members.add(id)
    }
    if (members.size === 0) fail(where, 'has no option (list options or groups, or give optionsContaining or everyOptionWithAgents)')
    groups.set(group.id, Object.freeze(order.filter((id) => members.has(id))))
  }
  for (const name of ENGINE_AGENT_CLASSES) if (!agentClasses.has(name)) fail(`agent class "${name}"`, 'missing (the engine reads it)')
  for (const name of ENGINE_GROUPS) if (!groups.has(name)) fail(`group "${name}"`, 'missing (the engine reads it)')

  return {
    file,
    version: parsed.version,
    description: parsed.description,
    digest: `sha256:${createHash('sha256').update(text).digest('hex')}`,
    order: Object.freeze(order),
    labels: Object.freeze(Object.fromEntries(labels) as Record<OptionId, string>),
    agents: Object.freeze(agents),
    agentClasses,
    groups
  }
}

/** Reads and resolves `options.json` of a rules folder. */
export function readOptionVocabulary (dir: string): OptionVocabulary {
  return parseOptionVocabulary(readFileSync(join(dir, OPTIONS_FILE), 'utf8'))
}

const isGroupEntry = (option: RuleOption): option is Exclude<RuleOption, RuleOptionEntry> => 'group' in option

/**
 * A rule's option list with every group entry replaced by one entry per id of the group, in the
 * vocabulary's order, each carrying the group entry's strength, detail and condition. The first
 * entry for an id that holds wins (src/engine/recommender.ts), so a group member is left out when an
 * earlier entry for that id has no condition: it could never be chosen. Rules without a group entry
 * are returned as they are.
 */
function expandRule (file: string, rule: RuleSource, vocabulary: OptionVocabulary, ErrorType: new (message: string) => Error): RuleDefinition {
  const options = rule.event.params.options
  if (options === undefined || !options.some(isGroupEntry)) return rule as RuleDefinition
  const expanded: RuleOptionEntry[] = []
  const settled = new Set<OptionId>()
  for (const entry of options) {
    if (!isGroupEntry(entry)) {
      expanded.push(entry)
      if (entry.when === undefined) settled.add(entry.id)
      continue
    }
    const members = vocabulary.groups.get(entry.group)
    if (members === undefined) throw new ErrorType(`${file}: rule "${rule.name}": unknown option group "${entry.group}" (the groups are those of ${vocabulary.file})`)
    const { group: _group, ...fields } = entry
    for (const id of members.filter((member) => !settled.has(member))) {
      expanded.push({ id, ...fields })
      if (entry.when === undefined) settled.add(id)
    }
  }
  return { ...rule, event: { ...rule.event, params: { ...rule.event.params, options: expanded } } }
}

/**
 * Expands the option groups of a ruleset's rules (before either evaluator sees them: the compiled
 * evaluator and json-rules-engine get the same plain id entries). An unknown group is an error of
 * the ruleset, thrown as `ErrorType` (the loader's RuleLoadError) naming the file and the rule.
 */
export function expandOptionGroups (
  file: string, rules: readonly RuleSource[], vocabulary: OptionVocabulary, ErrorType: new (message: string) => Error
): RuleDefinition[] {
  return rules.map((rule) => expandRule(file, rule, vocabulary, ErrorType))
}

/**
 * The vocabulary as one more entry beside the rulesets (id `options`, no rules), so that its
 * version and digest travel wherever theirs do: every response's provenance, GET /v1/rulesets and
 * /health/ready.
 */
export function vocabularyRuleset (vocabulary: OptionVocabulary): LoadedRuleset {
  return { id: 'options', version: vocabulary.version, description: vocabulary.description, file: vocabulary.file, digest: vocabulary.digest, rules: [] }
}
