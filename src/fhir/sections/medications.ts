import { ANTI_HER2_AGENTS } from '../../engine/agents.js'
import { daysBetween } from '../../engine/history.js'
import { agentClass } from '../../engine/options.js'
import { PROGRESSION_PATTERNS, type LineOutcome, type ProgressionPattern } from '../../schemas/case.js'
import { AGENTS, type Agent } from '../../schemas/common.js'
import {
  DISEASE_STATUS_ANSWERS, GENERIC_SECONDARY_CODES, LOINC_CODES, METASTATIC_SITE_CODES, PRIMARY_BREAST_CANCER_CODES, SECONDARY_ICD10_PREFIXES
} from '../codes.js'
import { CASE_FACT_SYSTEM, SYSTEMS } from '../constants.js'
import { DRUG_TABLE, type BoneAgent } from '../drug-table.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { asArray, asString, calendarDate, codingsOf, hasCode, isObject, resourceDate, statusUsable, wordsOf, type Coding, type Json } from '../read.js'
import type { FhirResource } from '../types.js'

/**
 * §6.6 Medications → `history`: MedicationRequest, MedicationAdministration and MedicationStatement
 * become exposures (drug, first date, last date); the drug is matched to Agents with the drug table
 * (src/fhir/drug-table.ts); the exposures are grouped into `earlyStageTherapy`, `metastaticLines` and
 * `boneModifyingAgent` by the rules of §6.6 [D for the whole grouping block]. Also sets
 * `ctx.state.firstAntiHer2Date` for the LVEF baseline (§6.5).
 */

/* ============================================================ drug → Agent (§6.6 "Drug → Agent") */

/** What a drug maps to: therapy Agents, or a bone-modifying agent (an osteoporosis product flagged). */
export interface DrugMatch {
  agents: Agent[]
  bma?: BoneAgent
  osteoporosisProduct?: true
}

interface Target { agents: readonly Agent[], bma?: BoneAgent, osteoporosisProduct?: true }

const agentEntries = Object.entries(DRUG_TABLE.agents) as Array<[Agent, typeof DRUG_TABLE.agents[keyof typeof DRUG_TABLE.agents]]>
const boneEntries = Object.entries(DRUG_TABLE.boneAgents) as Array<[BoneAgent, typeof DRUG_TABLE.boneAgents[BoneAgent]]>

/** RxNorm code → what it maps to (§6.6 rule 1). */
const CODE_INDEX: ReadonlyMap<string, Target> = new Map<string, Target>([
  ...agentEntries.flatMap(([agent, row]) => row.rxnorm.map((entry): [string, Target] => [entry.code, { agents: [agent] }])),
  ...boneEntries.flatMap(([bma, row]) => row.rxnorm.map((entry): [string, Target] => [entry.code, { agents: [], bma }]))
])

/** Every name and brand, lower-cased, longest first (§6.6 rule 2: "longest first and non-overlapping"). */
const TERMS: ReadonlyArray<{ term: string, target: Target }> = [
  ...agentEntries.flatMap(([agent, row]) => [...row.names, ...row.brands].map((term) => ({ term, target: { agents: [agent] } }))),
  ...DRUG_TABLE.combinations.map(({ brand, agents }) => ({ term: brand, target: { agents } })),
  ...boneEntries.flatMap(([bma, row]) => [
    ...[...row.names, ...row.brands].map((term) => ({ term, target: { agents: [], bma } })),
    ...row.osteoporosisBrands.map((term) => ({ term, target: { agents: [], bma, osteoporosisProduct: true as const } }))
  ])
].map(({ term, target }) => ({ term: term.toLowerCase(), target })).sort((a, b) => b.term.length - a.term.length)

/** Biosimilar suffixes (`trastuzumab-anns`, `deruxtecan-nxki`, `hyaluronidase-oysk`): four letters after a hyphen, at a word end. */
const BIOSIMILAR_SUFFIX = /(?<=[a-z])-[a-z]{4}(?![a-z0-9-])/g
const WORD_CHAR = /[a-z0-9]/

const atBoundary = (text: string, index: number): boolean => index < 0 || index >= text.length || !WORD_CHAR.test(text[index] as string)

/** Joins targets into one match: agents in the order of the Agent enum, the first bone agent. */
function combine (targets: readonly Target[]): DrugMatch | undefined {
  if (targets.length === 0) return undefined
  const agents = AGENTS.filter((agent) => targets.some((target) => target.agents.includes(agent)))
  const bma = targets.find((target) => target.bma !== undefined)?.bma
  const osteoporosis = targets.some((target) => target.bma === bma && target.osteoporosisProduct === true)
  return { agents, ...(bma === undefined ? {} : { bma }), ...(osteoporosis ? { osteoporosisProduct: true as const } : {}) }
}

/**
 * The drugs named in a text (§6.6 rule 2): lower-cased, biosimilar suffixes dropped, every occurrence of
 * a name or brand at word boundaries, longest first and non-overlapping — so "ado-trastuzumab emtansine"
 * is `t_dm1` only and "pertuzumab / trastuzumab / hyaluronidase" is both antibodies.
 */
export function drugsInText (text: string): DrugMatch | undefined {
  const lowered = text.toLowerCase().replace(/\s+/g, ' ').replace(BIOSIMILAR_SUFFIX, '')
  const taken: Array<{ start: number, end: number, target: Target }> = []
  for (const { term, target } of TERMS) {
    for (let at = lowered.indexOf(term); at >= 0; at = lowered.indexOf(term, at + 1)) {
      const end = at + term.length
      if (!atBoundary(lowered, at - 1) || !atBoundary(lowered, end)) continue
      if (taken.some((span) => at < span.end && end > span.start)) continue
      taken.push({ start: at, end, target })
    }
  }
  return combine(taken.sort((a, b) => a.start - b.start).map((span) => span.target))
}

/** The drugs of the RxNorm codings in the table (§6.6 rule 1); other systems are not read. */
export function drugsOfCodings (codings: readonly Coding[]): DrugMatch | undefined {
  return combine(codings.flatMap((coding) => {
    if (coding.system !== SYSTEMS.rxnorm || coding.code === undefined) return []
    const target = CODE_INDEX.get(coding.code)
    return target === undefined ? [] : [target]
  }))
}

const sameDrug = (a: DrugMatch, b: DrugMatch): boolean => a.bma === b.bma && a.agents.join() === b.agents.join()

export interface DrugReading {
  match?: DrugMatch
  matchedBy: 'code' | 'text' | 'none'
  /** The code and the text name different drugs; the code was used (§6.6 rule 3). */
  conflict: boolean
}

/** §6.6 rules 1–3 over codings and words (text first, then the displays, §6.1 rule 6). */
export function matchDrug (codings: readonly Coding[], words: readonly string[]): DrugReading {
  const byCode = drugsOfCodings(codings)
  const byWords = words.reduce<DrugMatch | undefined>((found, word) => found ?? drugsInText(word), undefined)
  if (byCode !== undefined) return { match: byCode, matchedBy: 'code', conflict: byWords !== undefined && !sameDrug(byCode, byWords) }
  if (byWords !== undefined) return { match: byWords, matchedBy: 'text', conflict: false }
  return { matchedBy: 'none', conflict: false }
}

/* ------------------------------------------------------------ the drug of a resource */

export type Resolver = (reference: string, from?: FhirResource) => FhirResource | undefined

interface DrugSource { codings: readonly Coding[], words: string[], display: string }

function conceptSource (concept: unknown): DrugSource | undefined {
  const codings = codingsOf(concept)
  const words = wordsOf(concept)
  const first = words[0] ?? codings.map((coding) => coding.code).find((code) => code !== undefined)
  if (first === undefined) return undefined
  return { codings, words, display: words[0] ?? `code ${first}` }
}

/** A contained resource by `#id`, for resolvers that do not look into `contained` (e.g. draftOrders). */
function containedById (resource: FhirResource, reference: string): FhirResource | undefined {
  const id = reference.slice(1)
  return asArray(resource.contained).find((item): item is FhirResource => isObject(item) && item.id === id && typeof item.resourceType === 'string')
}

/**
 * The drug of a medication resource (§6.6): `medicationCodeableConcept`; else `medicationReference` →
 * Medication (contained, or in hand through `resolve`) → `Medication.code`; else the reference's
 * `display` as text; else undefined (FHIR_MEDICATION_UNRESOLVED for the caller).
 */
function drugSource (resource: FhirResource, resolve: Resolver): DrugSource | undefined {
  if (isObject(resource.medicationCodeableConcept)) return conceptSource(resource.medicationCodeableConcept)
  const reference = resource.medicationReference
  if (!isObject(reference)) return undefined
  const target = asString(reference.reference)
  if (target !== undefined) {
    const medication = resolve(target, resource) ?? (target.startsWith('#') ? containedById(resource, target) : undefined)
    const fromCode = medication?.resourceType === 'Medication' ? conceptSource(medication.code) : undefined
    if (fromCode !== undefined) return fromCode
  }
  const display = asString(reference.display)
  return display === undefined ? undefined : { codings: [], words: [display], display }
}

export interface MedicationAgents {
  /** The therapy Agents (empty when none matched, or when the drug is a bone-modifying agent). */
  agents: Agent[]
  bma?: BoneAgent
  /** The drug as the record names it (text, display, or code). */
  display: string
  matchedBy: DrugReading['matchedBy']
  codeDisplayConflict?: true
  osteoporosisProduct?: true
  /** No drug could be read (no concept, no resolvable Medication, no display). */
  unresolved?: true
}

/**
 * The Agent(s) of one medication resource, for the order-select check (§4.5 last bullet) and the
 * history: `medicationCodeableConcept`, or `medicationReference` to a contained Medication or one the
 * resolver finds (in hand, or among draftOrders). No warnings: the caller decides what to report.
 */
export function agentsOfMedication (resolver: Pick<MappingContext, 'resolve'> | Resolver, resource: FhirResource): MedicationAgents {
  const resolve: Resolver = typeof resolver === 'function' ? resolver : (reference, from) => resolver.resolve(reference, from)
  const source = drugSource(resource, resolve)
  if (source === undefined) return { agents: [], display: 'unidentified medication', matchedBy: 'none', unresolved: true }
  const reading = matchDrug(source.codings, source.words)
  const match = reading.match
  return {
    agents: match?.agents ?? [],
    ...(match?.bma === undefined ? {} : { bma: match.bma }),
    display: source.display,
    matchedBy: reading.matchedBy,
    ...(reading.conflict ? { codeDisplayConflict: true as const } : {}),
    ...(match?.osteoporosisProduct === true ? { osteoporosisProduct: true as const } : {})
  }
}

/* ============================================================ exposures */

const MEDICATION_TYPES: ReadonlySet<string> = new Set(['MedicationRequest', 'MedicationAdministration', 'MedicationStatement'])

/** One usable medication resource: its drug and its (first, last) dates (§6.6 date table). */
interface Exposure {
  resource: FhirResource
  ref: string
  agents: Agent[]
  bma?: BoneAgent
  first: string
  last: string
  display: string
  /** Bundle order, the last tie-break. */
  order: number
}

/** One agent of one exposure: the unit the grouping rules work on ("each agent's exposures"). */
interface AgentExposure { agent: Agent, exposure: Exposure }

const MCODE_PROCEDURE_INTENT = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent'
const PRIMARY_TEXT = /breast/i
const CANCER_TEXT = /cancer|carcinoma|malignan|neoplasm/i
const SECONDARY_TEXT = /secondary|metasta/i

/** §6.3: the primary breast cancer codes and every secondary (metastatic site, node, generic) code. */
const CANCER_SNOMED: ReadonlySet<string> = new Set([
  ...PRIMARY_BREAST_CANCER_CODES.snomed,
  ...Object.values(METASTATIC_SITE_CODES).flatMap((site) => site.snomed),
  ...GENERIC_SECONDARY_CODES.snomed
])
const CANCER_ICD10_PREFIXES: readonly string[] = [PRIMARY_BREAST_CANCER_CODES.icd10Prefix, ...SECONDARY_ICD10_PREFIXES.nodes, ...SECONDARY_ICD10_PREFIXES.other]

/** A breast or secondary cancer code (§6.3 codes), else the §6.3 text patterns (FHIR_MATCHED_BY_TEXT). */
function isCancerReasonCode (ctx: MappingContext, concept: unknown, what: string): boolean {
  const byCode = codingsOf(concept).some(({ system, code }) => {
    if (code === undefined) return false
    if (system === SYSTEMS.snomed) return CANCER_SNOMED.has(code)
    if (system === SYSTEMS.icd10cm || system === SYSTEMS.icd10) return CANCER_ICD10_PREFIXES.some((prefix) => code.startsWith(prefix))
    return false
  })
  if (byCode) return true
  const byText = wordsOf(concept).some((word) => (PRIMARY_TEXT.test(word) && CANCER_TEXT.test(word)) || SECONDARY_TEXT.test(word))
  if (byText) ctx.warn('FHIR_MATCHED_BY_TEXT', `${what}: its reason was recognised as the cancer by its text, not by a known code.`)
  return byText
}

/**
 * §6.6 rule 4: an unmatched drug is cancer therapy (Agent `other`) when the resource is linked to the
 * cancer: `reasonReference` to the primary or a secondary Condition, a breast or secondary `reasonCode`,
 * or the `mcode-procedure-intent` extension.
 */
function linkedToCancer (ctx: MappingContext, resource: FhirResource): boolean {
  const what = refOf(resource)
  const cancerRefs = new Set([...ctx.state.primaryConditions, ...ctx.state.metastaticConditions].map(refOf))
  const byReference = asArray(resource.reasonReference).some((reference) => {
    const target = isObject(reference) ? asString(reference.reference) : undefined
    const condition = target === undefined ? undefined : ctx.resolve(target, resource)
    return condition !== undefined && cancerRefs.has(refOf(condition))
  })
  if (byReference) return true
  if (asArray(resource.extension).some((extension) => isObject(extension) && extension.url === MCODE_PROCEDURE_INTENT)) return true
  return asArray(resource.reasonCode).some((concept) => isCancerReasonCode(ctx, concept, what))
}

const periodOf = (value: unknown): { start?: unknown, end?: unknown } => isObject(value) ? value : {}

/** The (first, last) date values of a resource as §6.6 tables them, before calendar reading. */
function dateValues (ctx: MappingContext, resource: FhirResource): { first: unknown, last: unknown, asserted: boolean } {
  if (resource.resourceType === 'MedicationRequest') {
    const bounds = asArray(resource.dosageInstruction).map((dosage) =>
      periodOf(isObject(dosage) && isObject(dosage.timing) && isObject(dosage.timing.repeat) ? dosage.timing.repeat.boundsPeriod : undefined))
    const starts = bounds.map((period) => calendarDate(ctx, period.start, refOf(resource))).filter((date): date is string => date !== undefined).sort()
    const ends = bounds.map((period) => calendarDate(ctx, period.end, refOf(resource))).filter((date): date is string => date !== undefined).sort()
    return { first: starts[0] ?? resource.authoredOn, last: ends.at(-1), asserted: false }
  }
  const period = periodOf(resource.effectivePeriod)
  const effective = resource.effectiveDateTime ?? period.start
  if (effective === undefined && resource.resourceType === 'MedicationStatement' && resource.dateAsserted !== undefined) {
    return { first: resource.dateAsserted, last: undefined, asserted: true }
  }
  return { first: effective, last: period.end, asserted: false }
}

/**
 * The exposure dates (§6.6 date table, §6.1 rule 4): undated → not placed (FHIR_UNDATED); first date
 * after evaluationDate → ignored (FHIR_FUTURE_DATED); a last date after it is cut to it; a last date
 * before the first (malformed) counts as the first.
 */
function exposureDates (ctx: MappingContext, resource: FhirResource): { first: string, last: string } | undefined {
  const what = refOf(resource)
  const values = dateValues(ctx, resource)
  const first = calendarDate(ctx, values.first, what)
  if (first === undefined) {
    ctx.warn('FHIR_UNDATED', `${what}: a medication without a usable date; it was left out of the treatment history.`)
    ctx.gap('history', `${what} has no date, so it could not be placed in the treatment history`)
    return undefined
  }
  if (values.asserted) ctx.warn('FHIR_PARTIAL_DATE', `${what}: no effective date; the date the statement was made (${first}) was used as its date.`)
  if (first > ctx.evaluationDate) {
    ctx.warn('FHIR_FUTURE_DATED', `${what}: starts after the evaluation date; not used.`)
    return undefined
  }
  const end = calendarDate(ctx, values.last, what) ?? first
  const last = end > ctx.evaluationDate ? ctx.evaluationDate : end < first ? first : end
  return { first, last }
}

/** The usable medication resources as exposures, in bundle order; warnings per §6.6 and §6.10. */
function readExposures (ctx: MappingContext): Exposure[] {
  const exposures: Exposure[] = []
  ctx.resources.forEach((resource, order) => {
    if (!MEDICATION_TYPES.has(resource.resourceType) || !statusUsable(ctx, resource)) return
    // doNotPerform is a FHIR modifier: such a request records that the drug must not be given.
    if (resource.doNotPerform === true) return
    const what = refOf(resource)
    const drug = agentsOfMedication(ctx, resource)
    if (drug.unresolved === true) ctx.warn('FHIR_MEDICATION_UNRESOLVED', `${what}: the medication could not be identified (no code, no readable Medication, no display).`)
    const matched = drug.agents.length > 0 || drug.bma !== undefined
    // §6.6 rule 4: an unmatched drug counts only when linked to the cancer; otherwise it is not cancer therapy.
    if (!matched && !linkedToCancer(ctx, resource)) return
    const dates = exposureDates(ctx, resource)
    if (dates === undefined) return
    if (drug.matchedBy === 'text') ctx.warn('FHIR_MATCHED_BY_TEXT', `${what}: the drug "${drug.display}" was recognised by its name, not by a known code.`)
    if (drug.codeDisplayConflict === true) ctx.warn('FHIR_CODE_DISPLAY_CONFLICT', `${what}: the code and the text "${drug.display}" name different drugs; the code was used.`)
    if (drug.osteoporosisProduct === true) ctx.warn('FHIR_BMA_OSTEOPOROSIS_PRODUCT', `${what}: "${drug.display}" is an osteoporosis product; it was read as ${drug.bma as string}.`)
    exposures.push({
      resource,
      ref: what,
      agents: matched ? drug.agents : ['other'],
      ...(drug.bma === undefined ? {} : { bma: drug.bma }),
      ...dates,
      display: drug.display,
      order
    })
  })
  return exposures
}

/* ============================================================ grouping (§6.6, [D] for the whole block) */

const ENDOCRINE_AGENTS: ReadonlySet<Agent> = new Set(agentClass('endocrine_agent'))
/** §6.6: "CDK4/6 inhibitors" form early-stage entries with the endocrine agents. */
const CDK46_AGENTS: ReadonlySet<Agent> = new Set<Agent>(['palbociclib', 'ribociclib', 'abemaciclib'])

/** §6.6 [D] day limits: early-stage entries join within 90 days; a metastatic line takes agents started within 28 days. */
export const EARLY_STAGE_JOIN_DAYS = 90
export const LINE_JOIN_DAYS = 28
/** §6.6 [D] 26 weeks: a gap over it ends a bone-agent run; a last dose older than it leaves the field unset. */
export const BMA_GAP_DAYS = 26 * 7

/** Ascending order of calendar dates (YYYY-MM-DD compares as text). */
const compareDates = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

const byFirstDate = (a: Member, b: Member): number => compareDates(a.exposure.first, b.exposure.first) || a.exposure.order - b.exposure.order

interface Member { exposure: Exposure }
interface Group<T extends Member = AgentExposure> { start: string, last: string, members: T[] }

const uniqueRefs = (members: readonly Member[]): string[] => [...new Set(members.map((member) => member.exposure.ref))]
const latestLast = (members: readonly Member[]): string => members.map((member) => member.exposure.last).sort().at(-1) as string

/** Sorted by first date; joins the current group when it starts ≤ `days` after the group's latest last date. */
function joinByGap<T extends Member> (members: readonly T[], days: number): Array<Group<T>> {
  const groups: Array<Group<T>> = []
  for (const member of [...members].sort(byFirstDate)) {
    const current = groups.at(-1)
    if (current !== undefined && daysBetween(current.last, member.exposure.first) <= days) {
      current.members.push(member)
      if (member.exposure.last > current.last) current.last = member.exposure.last
    } else {
      groups.push({ start: member.exposure.first, last: member.exposure.last, members: [member] })
    }
  }
  return groups
}

/** `earlyStageTherapy`: endocrine + CDK4/6 entries apart from the others; 90-day joining; ordered by start. */
function earlyStageGroups (members: readonly AgentExposure[]): Group[] {
  const endocrineOrCdk = (member: AgentExposure): boolean => ENDOCRINE_AGENTS.has(member.agent) || CDK46_AGENTS.has(member.agent)
  const others = joinByGap(members.filter((member) => !endocrineOrCdk(member)), EARLY_STAGE_JOIN_DAYS)
  const endocrine = joinByGap(members.filter(endocrineOrCdk), EARLY_STAGE_JOIN_DAYS)
  // Stable sort: on the same start date the non-endocrine entry comes first.
  return [...others, ...endocrine].sort((a, b) => compareDates(a.start, b.start))
}

interface Line { start: string, agents: Agent[], members: AgentExposure[] }

/**
 * `metastaticLines`: sorted by first date; an agent joins the current line when it starts within 28
 * days of the line's first date, is already in the line, or is endocrine; any other new agent starts
 * the next line. On the same first date, agents that would open a line are taken before the endocrine
 * ones, so that an endocrine partner started the same day joins the new line (a tie §6.6 leaves open).
 */
function metastaticLineGroups (members: readonly AgentExposure[]): Line[] {
  const endocrineLast = (a: AgentExposure, b: AgentExposure): number =>
    a.exposure.first !== b.exposure.first ? byFirstDate(a, b) : Number(ENDOCRINE_AGENTS.has(a.agent)) - Number(ENDOCRINE_AGENTS.has(b.agent)) || byFirstDate(a, b)
  const lines: Line[] = []
  for (const member of [...members].sort(endocrineLast)) {
    const current = lines.at(-1)
    const joins = current !== undefined && (
      daysBetween(current.start, member.exposure.first) <= LINE_JOIN_DAYS ||
      current.agents.includes(member.agent) ||
      ENDOCRINE_AGENTS.has(member.agent))
    if (current !== undefined && joins) {
      current.members.push(member)
      if (!current.agents.includes(member.agent)) current.agents.push(member.agent)
    } else {
      lines.push({ start: member.exposure.first, agents: [member.agent], members: [member] })
    }
  }
  return lines
}

/* ------------------------------------------------------------ line outcomes */

interface Worsened { resource: FhirResource, ref: string, date: string }

const PROGRESSION_PATTERN_PATH = 'history.metastaticLines.progressionPattern'

/** The usable 97509-4 Observations valued 271299001 (worsened), dated no later than evaluationDate, oldest first. */
function worsenedObservations (ctx: MappingContext): Worsened[] {
  return ctx.ofType('Observation')
    .filter((resource) => LOINC_CODES.diseaseStatus.some((code) => hasCode(resource.code, SYSTEMS.loinc, code)))
    .filter((resource) => statusUsable(ctx, resource) && hasCode(resource.valueCodeableConcept, SYSTEMS.snomed, DISEASE_STATUS_ANSWERS.worsened))
    .flatMap((resource) => {
      const date = resourceDate(ctx, resource)
      return date === undefined || date > ctx.evaluationDate ? [] : [{ resource, ref: refOf(resource), date }]
    })
    .sort((a, b) => compareDates(a.date, b.date))
}

/** The `progressionPattern` fact component (§6.8, §6.8a) of a worsened Observation; unreadable → gap. */
function progressionPatternOf (ctx: MappingContext, worsened: Worsened, path: string): ProgressionPattern | undefined {
  const component = asArray(worsened.resource.component).find((item) =>
    isObject(item) && hasCode(item.code, CASE_FACT_SYSTEM, PROGRESSION_PATTERN_PATH))
  if (!isObject(component)) return undefined
  const values = [
    ...codingsOf(component.valueCodeableConcept).filter((coding) => coding.system === CASE_FACT_SYSTEM).map((coding) => coding.code),
    asString(component.valueString)
  ]
  const pattern = values.find((value): value is ProgressionPattern => (PROGRESSION_PATTERNS as readonly unknown[]).includes(value))
  if (pattern === undefined) {
    ctx.warn('FHIR_VALUE_UNREADABLE', `${worsened.ref}: the progression pattern is not one of ${PROGRESSION_PATTERNS.join(', ')}.`)
    ctx.gap(path, `the progression pattern on ${worsened.ref} (${worsened.date}) is not one of ${PROGRESSION_PATTERNS.join(', ')}`)
  }
  return pattern
}

/* ------------------------------------------------------------ bone-modifying agent */

/** `timing.repeat` → 3, 4 or 12 weeks; 1 month → 4, 3 months → 12; anything else undefined (§6.6). */
export function intervalWeeksOf (repeat: unknown): 3 | 4 | 12 | undefined {
  if (!isObject(repeat)) return undefined
  const frequency = repeat.frequency ?? 1
  const period = repeat.period
  if (typeof frequency !== 'number' || typeof period !== 'number' || frequency <= 0) return undefined
  const every = period / frequency
  if (repeat.periodUnit === 'wk') return every === 3 || every === 4 || every === 12 ? every : undefined
  if (repeat.periodUnit === 'mo') return every === 1 ? 4 : every === 3 ? 12 : undefined
  return undefined
}

/** The `timing.repeat`s of a request's dosage instructions that say how often (a period or its unit). */
const repeatsOf = (resource: FhirResource): Json[] => asArray(resource.dosageInstruction)
  .map((dosage) => isObject(dosage) && isObject(dosage.timing) ? dosage.timing.repeat : undefined)
  .filter((repeat): repeat is Json => isObject(repeat) && (repeat.period !== undefined || repeat.periodUnit !== undefined))

const describeRepeat = ({ frequency = 1, period = '?', periodUnit = '' }: Json): string =>
  `${String(frequency)} per ${String(period)} ${String(periodUnit)}`.trim()

/** The bone-modifying agent (§6.6 last bullet). */
function mapBoneModifyingAgent (ctx: MappingContext, bone: readonly Exposure[]): void {
  if (bone.length === 0) return
  const byLast = [...bone].sort((a, b) => compareDates(a.last, b.last) || compareDates(a.first, b.first) || a.order - b.order)
  const latest = byLast.at(-1) as Exposure
  const agent = latest.bma as BoneAgent
  if (daysBetween(latest.last, ctx.evaluationDate) > BMA_GAP_DAYS) {
    ctx.warn('FHIR_BMA_STALE', `${latest.ref}: the last ${agent.replace('_', ' ')} (${latest.last}) is more than 26 weeks before the evaluation date; the bone-modifying agent was not set.`)
    ctx.gap('history.boneModifyingAgent', `the last ${agent.replace('_', ' ')} on record (${latest.last}) is more than 26 weeks old`)
    return
  }
  const members: Member[] = bone.filter((exposure) => exposure.bma === agent).map((exposure) => ({ exposure }))
  const run = (joinByGap(members, BMA_GAP_DAYS).at(-1) as Group<Member>).members.map((member) => member.exposure)
  const start = run.map((exposure) => exposure.first).sort()[0] as string
  const refs = [...new Set(run.map((exposure) => exposure.ref))]
  const history = ctx.draft.history ??= {}
  history.boneModifyingAgent = { agent, startDate: start }
  const name = `${agent.replace('_', ' ')} (${[...new Set(run.map((exposure) => exposure.display))].join('; ')})`
  ctx.source('history.boneModifyingAgent', { label: 'Bone-modifying agent given', display: `${name} since ${start}, last ${latest.last}`, refs, date: latest.last })
  ctx.source('history.boneModifyingAgent.agent', { label: 'Bone-modifying agent given', display: `${name}, last ${latest.last}`, refs, date: latest.last })
  ctx.source('history.boneModifyingAgent.startDate', {
    label: 'Start of the bone-modifying agent',
    display: start,
    refs: [...new Set(run.filter((exposure) => exposure.first === start).map((exposure) => exposure.ref))],
    date: start
  })
  const request = run
    .filter((exposure) => exposure.resource.resourceType === 'MedicationRequest' && repeatsOf(exposure.resource).length > 0)
    .sort((a, b) => compareDates(b.first, a.first) || b.order - a.order)[0]
  if (request === undefined) return
  const repeats = repeatsOf(request.resource)
  const interval = repeats.map(intervalWeeksOf).find((weeks) => weeks !== undefined)
  if (interval === undefined) {
    ctx.gap('history.boneModifyingAgent.intervalWeeks', `${request.ref}: dosing of ${describeRepeat(repeats[0] as Json)} is not every 3, 4 or 12 weeks (or 1 or 3 months)`)
    return
  }
  history.boneModifyingAgent.intervalWeeks = interval
  ctx.source('history.boneModifyingAgent.intervalWeeks', { label: 'Dosing interval of the bone-modifying agent (weeks)', display: `every ${interval} weeks`, refs: [request.ref], date: request.first })
}

/* ============================================================ the section */

const agentList = (agents: readonly string[]): string => agents.join(', ')

function writeEarlyStage (ctx: MappingContext, groups: readonly Group[]): void {
  if (groups.length === 0) return
  const entries = groups.map((group, index) => {
    const agents = [...new Set(group.members.map((member) => member.agent))].sort()
    const refs = uniqueRefs(group.members)
    const path = `history.earlyStageTherapy[${index}]`
    const display = `${agentList(agents)} (${group.start} to ${group.last})`
    ctx.source(`${path}.agents`, { label: 'Agents of (neo)adjuvant therapy', display, refs, date: group.start })
    ctx.source(`${path}.setting`, { label: 'Setting of (neo)adjuvant therapy', display: 'adjuvant (given before the metastatic diagnosis; neoadjuvant is not derived)', refs, date: group.start })
    ctx.source(`${path}.lastDoseDate`, {
      label: 'Last dose of (neo)adjuvant therapy',
      display: group.last,
      refs: uniqueRefs(group.members.filter((member) => member.exposure.last === group.last)),
      date: group.last
    })
    return { setting: 'adjuvant' as const, agents, lastDoseDate: group.last }
  })
  const history = ctx.draft.history ??= {}
  history.earlyStageTherapy = entries
  ctx.source('history.earlyStageTherapy', {
    label: 'Agents of (neo)adjuvant therapy',
    display: entries.map((entry) => `${agentList(entry.agents)} (last dose ${entry.lastDoseDate})`).join('; '),
    refs: uniqueRefs(groups.flatMap((group) => group.members))
  })
}

function writeMetastaticLines (ctx: MappingContext, lines: readonly Line[]): void {
  if (lines.length === 0) return
  const worsened = worsenedObservations(ctx)
  const history = ctx.draft.history ??= {}
  history.metastaticLines = lines.map((line, index) => {
    const number = index + 1
    const path = `history.metastaticLines[${index}]`
    const next = lines[index + 1]
    const refs = uniqueRefs(line.members)
    const progression = worsened.filter((item) => item.date > line.start && (next === undefined ? item.date <= ctx.evaluationDate : item.date < next.start)).at(-1)
    const outcome: LineOutcome = progression !== undefined || next !== undefined ? 'progression' : 'ongoing'
    const end = outcome === 'ongoing' ? undefined : latestLast(line.members)
    ctx.source(`${path}.lineNumber`, { label: 'Number of the metastatic line', display: `${number} (derived from the medication record)`, refs, date: line.start })
    ctx.source(`${path}.agents`, { label: `Agents of metastatic line ${number}`, display: `${agentList(line.agents)} (from ${line.start})`, refs, date: line.start })
    ctx.source(`${path}.startDate`, {
      label: `Start of metastatic line ${number}`,
      display: line.start,
      refs: uniqueRefs(line.members.filter((member) => member.exposure.first === line.start)),
      date: line.start
    })
    if (end !== undefined) {
      ctx.source(`${path}.endDate`, {
        label: `End of metastatic line ${number}`,
        display: end,
        refs: uniqueRefs(line.members.filter((member) => member.exposure.last === end)),
        date: end
      })
    }
    let pattern: ProgressionPattern | undefined
    if (progression !== undefined) {
      ctx.source(`${path}.outcome`, { label: `Outcome of metastatic line ${number}`, display: `progression (disease status worsened, ${progression.date})`, refs: [progression.ref], date: progression.date })
      pattern = progressionPatternOf(ctx, progression, `${path}.progressionPattern`)
      if (pattern !== undefined) {
        ctx.source(`${path}.progressionPattern`, { label: `Progression pattern on metastatic line ${number}`, display: `${pattern} (${progression.date})`, refs: [progression.ref], date: progression.date })
      }
    } else if (next !== undefined) {
      ctx.warn('FHIR_LINE_OUTCOME_ASSUMED', `Metastatic line ${number} (from ${line.start}): no worsened disease status before line ${number + 1} started (${next.start}); progression was assumed.`)
      ctx.source(`${path}.outcome`, {
        label: `Outcome of metastatic line ${number}`,
        display: `progression (assumed: line ${number + 1} started ${next.start})`,
        // Only this line's resources: a fact's `focus` finds its line through these refs (§6.8 facts section).
        refs,
        date: next.start
      })
    } else {
      ctx.source(`${path}.outcome`, { label: `Outcome of metastatic line ${number}`, display: `ongoing (no worsened disease status since ${line.start})`, refs, date: line.start })
    }
    return {
      lineNumber: number,
      agents: [...line.agents],
      startDate: line.start,
      ...(end === undefined ? {} : { endDate: end }),
      outcome,
      ...(pattern === undefined ? {} : { progressionPattern: pattern })
    }
  })
  ctx.source('history.metastaticLines', {
    label: 'Metastatic lines recorded (count)',
    display: `${lines.length} line${lines.length === 1 ? '' : 's'} derived from the medication record`,
    refs: uniqueRefs(lines.flatMap((line) => line.members))
  })
  ctx.warn('FHIR_LINES_DERIVED_FROM_MEDICATIONS', `The ${lines.length} metastatic line${lines.length === 1 ? ' was' : 's were'} derived from medication dates; please review them.`)
}

/** §6.6 medications → history, bone-modifying agent, `state.firstAntiHer2Date`. */
export function mapMedications (ctx: MappingContext): void {
  const exposures = readExposures(ctx)
  const therapy = exposures.flatMap((exposure) => exposure.agents.map((agent): AgentExposure => ({ agent, exposure })))
  const firstAntiHer2 = therapy.filter((member) => ANTI_HER2_AGENTS.has(member.agent)).map((member) => member.exposure.first).sort()[0]
  if (firstAntiHer2 !== undefined) ctx.state.firstAntiHer2Date = firstAntiHer2

  if (therapy.length > 0) {
    const metastaticDate = ctx.draft.disease?.metastaticDiagnosisDate
    if (metastaticDate === undefined) {
      ctx.warn('FHIR_HISTORY_UNSPLIT', 'No metastatic diagnosis date: every cancer medication was read as metastatic therapy (no early-stage therapy derived).')
    }
    const early = metastaticDate === undefined ? [] : therapy.filter((member) => member.exposure.first < metastaticDate)
    writeEarlyStage(ctx, earlyStageGroups(early))
    writeMetastaticLines(ctx, metastaticLineGroups(therapy.filter((member) => !early.includes(member))))
  }
  mapBoneModifyingAgent(ctx, exposures.filter((exposure) => exposure.bma !== undefined))
}
