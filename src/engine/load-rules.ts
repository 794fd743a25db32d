import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { z } from 'zod'
import { ContextAdjustmentsFile } from '../schemas/context-adjustments.js'
import {
  ConditionName, evidenceRef, ReferencesFile, RulesetFile, type Condition, type LeafCondition, type Reference, type RuleDefinition,
  type TopLevelCondition
} from '../schemas/rule-file.js'
import { DATA_GAP_ROWS } from './data-gaps.js'
import { factSpec, type FactSpec } from './fact-specs.js'
import { expandOptionGroups, OPTIONS_FILE, vocabularyRuleset, type OptionVocabulary } from './option-vocabulary.js'
import { knowledgeBaseVocabulary, OPTION_VOCABULARY } from './options.js'

/**
 * Reads `rules/*.json`, validates every file against its zod schema and against the fact catalogue,
 * and computes a sha256 digest per file. Any problem stops startup with a message naming the file
 * and the rule: a knowledge base that is half loaded must never answer. Besides the rulesets and the
 * reference catalogue, `context-adjustments.json` holds the patient-wide adjustments the engine
 * applies to every item (pregnancyRt); it is versioned and digested like a ruleset.
 */

export interface LoadedRuleset {
  id: string
  version: string
  description: string
  file: string
  digest: string
  /** The file's named conditions, inlined: the rules already hold them in place of their references. */
  conditions?: Record<string, Condition>
  rules: RuleDefinition[]
}

export interface LoadedContextAdjustments extends ContextAdjustmentsFile {
  file: string
  digest: string
}

export interface KnowledgeBase {
  rulesets: LoadedRuleset[]
  references: ReadonlyMap<string, Reference>
  referenceCatalogue: { version: string, digest: string, retired: string[] }
  contextAdjustments: LoadedContextAdjustments
}

/** What `provenance.rulesets` and readiness list: every ruleset, then the context adjustments. */
export function provenanceRulesets (kb: KnowledgeBase): Array<{ id: string, version: string, digest: string }> {
  return [...kb.rulesets, kb.contextAdjustments].map(({ id, version, digest }) => ({ id, version, digest }))
}

export class RuleLoadError extends Error {
  override name = 'RuleLoadError'
}

export const REFERENCES_FILE = 'references.json'
export const CONTEXT_ADJUSTMENTS_FILE = 'context-adjustments.json'
/** The files of the rules folder that are not rulesets. */
const NOT_RULESETS: ReadonlySet<string> = new Set([REFERENCES_FILE, CONTEXT_ADJUSTMENTS_FILE, OPTIONS_FILE])

export function sha256 (content: string | Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`
}

function parseJson<T> (file: string, text: string, schema: z.ZodType<T>, prepare: (data: unknown) => unknown = (data) => data): T {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new RuleLoadError(`${file}: not valid JSON (${(error as Error).message})`)
  }
  const data = prepare(parsed)
  const result = schema.safeParse(data)
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue
    throw new RuleLoadError(`${file}: ${describeLocation(data, issue.path)}/${issue.path.join('/')}: ${issue.message}`)
  }
  return result.data
}

/** Names the rule an issue lies in, so an author finds it without counting array entries. */
function describeLocation (data: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === 'rules' && typeof path[1] === 'number') {
    const rule = (data as { rules: Array<{ name?: unknown }> }).rules[path[1]]
    if (typeof rule?.name === 'string') return `rule "${rule.name}" at `
  }
  return ''
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
/** The keys of a rule whose value is a condition: the rule's `conditions`, an option's or a note's `when`. */
const CONDITION_KEYS = new Set(['conditions', 'when'])
const CONNECTIVES = new Set(['all', 'any', 'not'])
const ruleLabel = (rule: unknown, index: number): string => `rule "${isRecord(rule) && typeof rule.name === 'string' ? rule.name : `#${index + 1}`}"`

/**
 * Replaces every `{ "condition": "<name>" }` of a ruleset file — anywhere in a rule's conditions, an
 * option's or a note's `when` — by a copy of the named condition of the file's `conditions`, before
 * the file is validated: the schema, the fact checks, both evaluators and `because` traces see plain
 * conditions, exactly as if the file had spelled them out. An unknown name, a cycle and a named
 * condition that nothing uses stop the load with a message naming the file and the rule (or the
 * condition). Anything else malformed is left for the schema to report.
 */
export function inlineNamedConditions (file: string, data: unknown): unknown {
  if (!isRecord(data) || !Array.isArray(data.rules)) return data
  const named = isRecord(data.conditions) ? data.conditions : {}
  const inlined = new Map<string, unknown>()
  const fail = (where: string, message: string): never => { throw new RuleLoadError(`${file}: ${where}: ${message}`) }
  const badName = Object.keys(named).find((name) => !ConditionName.safeParse(name).success)
  if (badName !== undefined) fail(`condition "${badName}"`, 'a name is kebab-case, e.g. "sbrt-candidate"')

  const inline = (node: unknown, where: string, chain: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((child) => inline(child, where, chain))
    if (!isRecord(node)) return node
    if (!('condition' in node)) {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, CONNECTIVES.has(key) ? inline(child, where, chain) : child]))
    }
    const name = node.condition
    if (typeof name !== 'string' || Object.keys(node).length !== 1) return fail(where, 'a condition reference is { "condition": "<name>" } and nothing else')
    if (!Object.hasOwn(named, name)) return fail(where, `unknown condition "${name}" (not among this file's "conditions")`)
    if (chain.includes(name)) return fail(where, `condition "${name}" refers to itself (${[...chain, name].join(' → ')})`)
    if (!inlined.has(name)) inlined.set(name, inline(named[name], where, [...chain, name]))
    return structuredClone(inlined.get(name))
  }
  const inlineRule = (node: unknown, where: string): unknown => {
    if (Array.isArray(node)) return node.map((child) => inlineRule(child, where))
    if (!isRecord(node)) return node
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, CONDITION_KEYS.has(key) ? inline(child, where, []) : inlineRule(child, where)]))
  }

  const rules = data.rules.map((rule, index) => inlineRule(rule, ruleLabel(rule, index)))
  const unused = Object.keys(named).find((name) => !inlined.has(name))
  if (unused !== undefined) fail(`condition "${unused}"`, 'no rule refers to it (remove it, or use it as { "condition": "…" })')
  return { ...data, ...(isRecord(data.conditions) ? { conditions: Object.fromEntries(Object.keys(named).map((name) => [name, inlined.get(name)])) } : {}), rules }
}

function conditionLeaves (condition: Condition | TopLevelCondition): LeafCondition[] {
  if ('all' in condition) return condition.all.flatMap(conditionLeaves)
  if ('any' in condition) return condition.any.flatMap(conditionLeaves)
  if ('not' in condition) return conditionLeaves(condition.not)
  return [condition]
}

/** Whether a literal is a possible value of a scalar fact (callers rule out list facts first). */
const isScalarOf = (spec: FactSpec, value: unknown): boolean => {
  if (value === null) return spec.nullable === true
  if (spec.type === 'boolean') return typeof value === 'boolean'
  if (spec.type === 'number') return typeof value === 'number'
  return typeof value === 'string' && (spec.values === undefined || spec.values.includes(value))
}

/** Returns why a leaf does not fit the fact catalogue, or undefined when it does. */
export function leafProblem (leaf: LeafCondition, rule: Pick<RuleDefinition, 'pass' | 'scope'>): string | undefined {
  const spec = factSpec(leaf.fact)
  if (spec === undefined) return `unknown fact "${leaf.fact}"`
  if (spec.scope !== undefined && spec.scope !== rule.scope) return `fact "${leaf.fact}" exists only for ${spec.scope} rules`
  if ((spec.pass ?? 1) > rule.pass) return `fact "${leaf.fact}" is not known before pass ${String(spec.pass)}`
  const value = leaf.value
  switch (leaf.operator) {
    case 'equal':
    case 'notEqual':
      return spec.type !== 'string[]' && isScalarOf(spec, value) ? undefined : `value ${JSON.stringify(value)} cannot be compared with ${spec.type} fact "${leaf.fact}"`
    case 'in':
    case 'notIn':
      return spec.type !== 'string[]' && Array.isArray(value) && value.every((v) => isScalarOf(spec, v))
        ? undefined
        : `"${leaf.operator}" needs a list of possible values of "${leaf.fact}"`
    case 'contains':
    case 'doesNotContain':
      return spec.type === 'string[]' && typeof value === 'string' && (spec.values === undefined || spec.values.includes(value))
        ? undefined
        : `"${leaf.operator}" needs a list fact and one of its possible elements (got ${JSON.stringify(value)} for "${leaf.fact}")`
    default:
      return spec.type === 'number' && typeof value === 'number' ? undefined : `"${leaf.operator}" needs a number fact and a number (got "${leaf.fact}")`
  }
}

/** Every leaf a rule holds: its conditions, and those of its options and notes. */
function ruleLeaves (rule: RuleDefinition): LeafCondition[] {
  const params = rule.event.params
  const conditions = [rule.conditions, ...(params.options ?? []).flatMap((option) => (option.when ? [option.when] : [])),
    ...(params.notes ?? []).map((note) => note.when)]
  return conditions.flatMap(conditionLeaves)
}

/**
 * Returns why a `firedCodes` leaf names no loaded rule's code, or undefined when it does (and for
 * any other fact). Without it `firedCodes contains "CI-5"` would load and never match.
 */
export function firedCodeProblem (leaf: LeafCondition, codes: ReadonlySet<string>): string | undefined {
  if (leaf.fact !== 'firedCodes' || typeof leaf.value !== 'string' || codes.has(leaf.value)) return undefined
  return `firedCodes names "${leaf.value}", which is the code of no loaded rule`
}

const codesOf = (rulesets: readonly LoadedRuleset[]): Set<string> => new Set(rulesets.flatMap((ruleset) => ruleset.rules.map((rule) => rule.event.params.code)))

/**
 * A pass over every rule once all files are loaded (a rule may name a code of another file): every
 * code a `firedCodes` leaf or a `doesNotFilter` list names must be the code of a loaded rule.
 */
export function checkFiredCodes (rulesets: readonly LoadedRuleset[]): void {
  const codes = codesOf(rulesets)
  for (const ruleset of rulesets) {
    for (const rule of ruleset.rules) {
      const fail = (message: string): never => { throw new RuleLoadError(`${ruleset.file}: rule "${rule.name}": ${message}`) }
      for (const leaf of ruleLeaves(rule)) {
        const problem = firedCodeProblem(leaf, codes)
        if (problem !== undefined) fail(problem)
      }
      for (const code of rule.event.params.doesNotFilter ?? []) {
        if (!codes.has(code)) fail(`doesNotFilter names "${code}", which is the code of no loaded rule`)
      }
    }
  }
}

/** Every code a data gap says it affects (src/engine/data-gaps.ts) must be the code of a loaded rule. */
export function checkDataGapCodes (rulesets: readonly LoadedRuleset[], rows: ReadonlyArray<{ field: string, affects: readonly string[] }> = DATA_GAP_ROWS): void {
  const codes = codesOf(rulesets)
  for (const { field, affects } of rows) {
    for (const code of affects) {
      if (!codes.has(code)) throw new RuleLoadError(`data gap ${field} (src/engine/data-gaps.ts) affects "${code}", which is the code of no loaded rule`)
    }
  }
}

function checkRule (file: string, rule: RuleDefinition, references: ReadonlyMap<string, Reference>): void {
  const fail = (message: string): never => { throw new RuleLoadError(`${file}: rule "${rule.name}": ${message}`) }
  const params = rule.event.params
  for (const leaf of ruleLeaves(rule)) {
    const problem = leafProblem(leaf, rule)
    if (problem !== undefined) fail(problem)
  }
  for (const ref of params.evidence.map(evidenceRef)) {
    if (!references.has(ref)) fail(`unknown reference ${ref} (not in ${REFERENCES_FILE})`)
  }
  if (rule.scope !== 'case' && (params.targets !== undefined || params.targetsFact !== undefined)) {
    fail('a lesion-scoped rule takes its lesion as target; remove targets/targetsFact')
  }
  if (params.onlyWhenAvoidedOptionProposed === true && rule.pass !== 2) {
    fail('onlyWhenAvoidedOptionProposed is for pass-2 safety filters')
  }
  // The pipeline reads these where the spec places them (Part 1 "Evaluation passes", step 3c and
  // the red-team L6 paragraph); elsewhere they would be silently ignored.
  if (params.doesNotFilter !== undefined && rule.pass !== 2) fail('doesNotFilter is for pass-2 safety filters')
  if (params.considerUnlessOffered !== undefined && rule.pass !== 3) fail('considerUnlessOffered is read after step 3c: pass-3 rules only')
  if (params.strengthNotCappedByOptions === true && rule.pass !== 3) fail('strengthNotCappedByOptions is an exception to the pass-3 strength cap: pass-3 rules only')
}

export function loadReferences (dir: string): { references: Map<string, Reference>, catalogue: KnowledgeBase['referenceCatalogue'] } {
  const text = readFileSync(join(dir, REFERENCES_FILE), 'utf8')
  const file = parseJson(REFERENCES_FILE, text, ReferencesFile)
  const references = new Map<string, Reference>()
  for (const reference of file.references) {
    if (references.has(reference.ref)) throw new RuleLoadError(`${REFERENCES_FILE}: duplicate reference ${reference.ref}`)
    references.set(reference.ref, reference)
  }
  return { references, catalogue: { version: file.version, digest: sha256(text), retired: file.retired ?? [] } }
}

export function loadContextAdjustments (dir: string): LoadedContextAdjustments {
  let text: string
  try {
    text = readFileSync(join(dir, CONTEXT_ADJUSTMENTS_FILE), 'utf8')
  } catch (error) {
    // Without it pregnancy would silently lose the fetal-dose caveat: never answer.
    throw new RuleLoadError(`${CONTEXT_ADJUSTMENTS_FILE}: cannot be read (${(error as Error).message})`)
  }
  return parseContextAdjustments(CONTEXT_ADJUSTMENTS_FILE, text)
}

export function parseContextAdjustments (file: string, text: string): LoadedContextAdjustments {
  return { ...parseJson(file, text, ContextAdjustmentsFile), file, digest: sha256(text) }
}

export function parseRuleset (file: string, text: string, references: ReadonlyMap<string, Reference>, vocabulary: OptionVocabulary = OPTION_VOCABULARY): LoadedRuleset {
  const parsed = parseJson(file, text, RulesetFile, (data) => inlineNamedConditions(file, data))
  // Option groups become plain id entries here, before either evaluator sees the rules.
  const rules = expandOptionGroups(file, parsed.rules, vocabulary, RuleLoadError)
  for (const rule of rules) checkRule(file, rule, references)
  return { ...parsed, rules, file, digest: sha256(text) }
}

/**
 * Loads the rulesets of `dir` in file-name order, with the reference catalogue, the context
 * adjustments and the option vocabulary. `only` narrows the load to some ruleset files (rule authors'
 * test runs); the service always loads them all, and the context adjustments and the option
 * vocabulary are always loaded.
 */
export function loadKnowledgeBase (dir: string, only?: readonly string[]): KnowledgeBase {
  const { references, catalogue } = loadReferences(dir)
  const contextAdjustments = loadContextAdjustments(dir)
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !NOT_RULESETS.has(name) && (only === undefined || only.includes(name)))
    .sort()
  if (files.length === 0) throw new RuleLoadError(`${dir}: no ruleset files`)
  // The option vocabulary (options.json) loads with the rulesets, and travels as one more entry (id "options").
  const vocabulary = knowledgeBaseVocabulary(dir)
  const rulesets = files.map((file) => parseRuleset(file, readFileSync(join(dir, file), 'utf8'), references, vocabulary))
  const kb = assembleKnowledgeBase([...rulesets, vocabularyRuleset(vocabulary)], references, catalogue, contextAdjustments)
  // Codes named across files can only be checked against the whole knowledge base, not a narrowed load.
  if (only === undefined) {
    checkFiredCodes(kb.rulesets)
    checkDataGapCodes(kb.rulesets)
  }
  return kb
}

/** Cross-file checks: unique ruleset ids (the context adjustments' id included) and rule names. */
export function assembleKnowledgeBase (
  rulesets: LoadedRuleset[], references: ReadonlyMap<string, Reference>, catalogue: KnowledgeBase['referenceCatalogue'],
  contextAdjustments: LoadedContextAdjustments
): KnowledgeBase {
  // Provenance lists both by id: a ruleset may not take the adjustments' id.
  const rulesetIds = new Set<string>([contextAdjustments.id])
  const ruleNames = new Map<string, string>()
  for (const ruleset of rulesets) {
    if (rulesetIds.has(ruleset.id)) throw new RuleLoadError(`${ruleset.file}: duplicate ruleset id "${ruleset.id}"`)
    rulesetIds.add(ruleset.id)
    for (const rule of ruleset.rules) {
      const other = ruleNames.get(rule.name)
      if (other !== undefined) throw new RuleLoadError(`${ruleset.file}: rule "${rule.name}": duplicate rule name (also in ${other})`)
      ruleNames.set(rule.name, ruleset.file)
    }
  }
  return Object.freeze({ rulesets, references, referenceCatalogue: catalogue, contextAdjustments })
}
