import { createHash } from 'node:crypto'
import type { BMA_AGENTS, Case } from '../schemas/case.js'
import type { Agent, Domain } from '../schemas/common.js'
import type { Card } from '../schemas/cds-hooks-response.js'
import type { RecommendationResponse } from '../schemas/recommendation.js'
import type { Reference } from '../schemas/rule-file.js'
import { checkOrderCodes, type OrderCheckFinding } from '../engine/order-check.js'
import type { LinedBecauseItem } from '../engine/fact-lineage.js'
import type { PreparedKnowledgeBase } from '../engine/knowledge-base.js'
import { OPTION_AGENTS } from '../engine/options.js'
import { provenanceRulesets, type KnowledgeBase } from '../engine/load-rules.js'
import { LOINC_CODES } from '../fhir/codes.js'
import { casePath } from '../fhir/index.js'
import {
  CARD_TOPIC_SYSTEM, CARD_UUID_NAMESPACE, MAPPING_VERSION, OVERRIDE_REASON_SYSTEM
} from '../fhir/constants.js'
import type { MappingResult, SourceEntry } from '../fhir/types.js'
import { CDS_SERVICES, ORDER_SELECT_SERVICE_ID, PATIENT_VIEW_SERVICE_ID, type ServiceId } from './services.js'

/**
 * The CDS Hooks cards of spec/ehr-integration.md §7, built from an evaluation and the FHIR mapping
 * that fed it. Pure: no Fastify, no clock, no I/O. The routes
 * (src/routes/cds-hooks.ts) call these builders and send `{ cards }`; each builder returns the
 * card with the code and targets its uuid was made from, which the feedback store remembers (§8).
 *
 * Every card carries only members with a value: never `null`, `""`, `[]` or `{}`, and never
 * `suggestions`, `selectionBehavior`, `links` or `systemActions` (§7.1: no orders, no auto-applied
 * actions). Text from the record (displays, references, the mapper's reasons, the order's display)
 * is written on one line and cannot open an HTML tag: the detail is GitHub-flavoured Markdown with
 * headings and lists only (§7.2).
 */

// --- card uuids (§7.1)

/** RFC 4122 (now 9562) name-based UUID, version 5 (SHA-1), in CARD_UUID_NAMESPACE unless another is given. */
export function uuidV5 (name: string, namespace: string = CARD_UUID_NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** §7.1: name = `hookInstance + "|" + code + "|" + targets.join(",")` (nothing after the last `|` without targets). */
export function cardUuid (hookInstance: string, code: string, targets: readonly string[]): string {
  return uuidV5(`${hookInstance}|${code}|${targets.join(',')}`)
}

/** §7.4: name = `hookInstance|ORDER|<selection>|<code>`. */
export function orderCardUuid (hookInstance: string, selection: string, code: string): string {
  return uuidV5(`${hookInstance}|ORDER|${selection}|${code}`)
}

// --- shared pieces

/** A card with what its uuid was made from (the feedback store keeps code and targets, §8). */
export interface IssuedCard {
  card: Card
  code: string
  targets: readonly string[]
}

/**
 * What the cards read of an evaluation: the response body. Its `references` (api.md revision 8)
 * holds the citation of every reference its items cite; an order card's rule may have made no item,
 * and then its citations come from the knowledge base.
 */
export type CardResponse = Pick<RecommendationResponse, 'recommendations' | 'dataGaps' | 'warnings' | 'provenance'> &
  Partial<Pick<RecommendationResponse, 'references'>>

/** The mapped case, as src/fhir's toCase returns it. */
export type CaseResult =
  | { ok: true, case: Case }
  | { ok: false, kind: 'case-incomplete' | 'case-inconsistent', errors: ReadonlyArray<{ path: string, message: string }> }
export type CaseFailure = Extract<CaseResult, { ok: false }>

interface CardContext {
  hookInstance: string
  mapping: MappingResult
  kb: KnowledgeBase
  /** KB_PUBLIC_URL (§7.1): a public static page about the knowledge base; `source.url` only when set. */
  kbPublicUrl?: string | undefined
}

/** The four override reasons of §7.1, displays byte-identical to the CodeSystem (non-adherence-reason-codes). */
export const OVERRIDE_REASONS: ReadonlyArray<Readonly<{ system: string, code: string, display: string }>> = [
  { system: OVERRIDE_REASON_SYSTEM, code: 'patient-contraindication', display: 'Patient has contraindication to recommended action' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'prefers-alternative', display: 'Patient prefers an alternative approach or treatment' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'patient-refuses', display: 'Patient refuses/declines (no context given)*' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'need-more-info', display: 'Could not address recommended action due to need for more information/pending results/pending consult' }
]

/** `topic.display` of each domain (§7.1 "<domain label>"). */
export const DOMAIN_LABELS: Readonly<Record<Domain, string>> = {
  classification: 'Classification',
  local_therapy: 'Local therapy',
  systemic_therapy: 'Systemic therapy',
  supportive_care: 'Supportive care',
  follow_up: 'Follow-up'
}

/**
 * The knowledge base's version in card labels and footers (§7.1, §7.2 "<kbVersion>"): the knowledge
 * base has no single version number, so it is the first 12 hex digits of the sha256 over the
 * provenance rulesets (`id version digest` per line, in provenance order) — the rulesets, the option
 * vocabulary and the context adjustments every response's `provenance.rulesets` lists. Any change
 * to any of those files changes it.
 */
export function knowledgeBaseVersion (rulesets: ReadonlyArray<{ id: string, version: string, digest: string }>): string {
  const lines = rulesets.map(({ id, version, digest }) => `${id} ${version} ${digest}`).join('\n')
  return createHash('sha256').update(lines, 'utf8').digest('hex').slice(0, 12)
}

const kbVersions = new WeakMap<KnowledgeBase, string>()
function kbVersionOf (kb: KnowledgeBase): string {
  let version = kbVersions.get(kb)
  if (version === undefined) kbVersions.set(kb, version = knowledgeBaseVersion(provenanceRulesets(kb)))
  return version
}

function sourceOf (service: ServiceId, kbVersion: string, kbPublicUrl: string | undefined, domain?: Domain): Card['source'] {
  return {
    label: `${CDS_SERVICES[service].title} knowledge base ${kbVersion}`,
    ...(kbPublicUrl === undefined || kbPublicUrl === '' ? {} : { url: kbPublicUrl }),
    ...(domain === undefined ? {} : { topic: { system: CARD_TOPIC_SYSTEM, code: domain, display: DOMAIN_LABELS[domain] } })
  }
}

function issued (card: Omit<Card, 'overrideReasons'>, code: string, targets: readonly string[]): IssuedCard {
  return { card: { ...card, overrideReasons: OVERRIDE_REASONS.map((reason) => ({ ...reason })) }, code, targets }
}

/** The card summary stays under 140 characters: a long list of fields is counted instead (§7.3). */
const MAX_SUMMARY = 139
const fitSummary = (full: string, short: string): string => ([...full].length <= MAX_SUMMARY ? full : short)

/**
 * Text from the record on one Markdown line: whitespace collapsed (a display cannot end a list item
 * or start a heading), and `<` escaped where it could open an HTML tag ("< 30" stays as it is).
 */
export function inline (text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/<(?=[A-Za-z/!?])/g, '\\<')
}

const section = (heading: string, lines: readonly string[]): string => `### ${heading}\n${lines.join('\n')}`
const unique = <T>(values: readonly T[]): T[] => [...new Set(values)]

/** The source of a Case path: its own entry, else the nearest enclosing one (`patient.correctedCalcium` for its `.value`). */
function sourceFor (mapping: MappingResult, path: string): SourceEntry | undefined {
  const entry = mapping.sources[path]
  if (entry !== undefined) return entry
  const parent = path.replace(/(\.[^.[\]]+|\[\d+\])$/, '')
  return parent === path ? undefined : sourceFor(mapping, parent)
}

/** The mapper's reasons for a field and the fields under it (`disease.neuro` gathers `disease.neuro.deficit`). */
function mapperReasons (mapping: MappingResult, field: string): string[] {
  return unique(Object.entries(mapping.gaps)
    .filter(([path]) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`))
    .flatMap(([, reasons]) => reasons))
}

/** Units of the numeric facts whose value carries one (their labels name it too). */
const FACT_UNITS: Readonly<Record<string, string>> = {
  ageYears: 'years',
  gestationalWeeks: 'weeks',
  estimatedSurvivalMonths: 'months',
  monthsSinceLastAntiHer2: 'months',
  lvefPercent: '%',
  lvefBaselinePercent: '%',
  lvefFallPoints: 'percentage points',
  creatinineClearanceMlMin: 'mL/min',
  vitaminD25OHNgMl: 'ng/mL',
  brainMaxDiameterCm: 'cm',
  lastLineDurationDays: 'days'
}

const words = (value: string): string => value.replaceAll('_', ' ')

/** A fact's value for a reader: yes/no, numbers with their unit, enum values in words, lists joined. */
export function formatActual (fact: string, actual: unknown): string {
  if (actual === undefined || actual === null) return 'not recorded'
  if (typeof actual === 'boolean') return actual ? 'yes' : 'no'
  if (typeof actual === 'number') return FACT_UNITS[fact] === undefined ? String(actual) : `${actual} ${FACT_UNITS[fact]}`
  if (Array.isArray(actual)) return actual.length === 0 ? 'none' : actual.map((value) => words(String(value))).join(', ')
  return words(String(actual))
}

/**
 * §7.2 "Why you see this": `- <label>: <value> — <source>`. The value is the mapper's display of
 * each input that has a source (stand-ins show the original), else the fact's value with its unit;
 * the source is the union of those inputs' references, or "not in the record" when no input has a
 * source; a fact computed from other items (no inputs) ends after its value.
 */
export function becauseLine (item: LinedBecauseItem, mapping: MappingResult): string {
  const found = (item.inputs ?? []).map((pointer) => sourceFor(mapping, casePath(pointer))).filter((entry) => entry !== undefined)
  const displays = unique(found.map((entry) => inline(entry.display)))
  const value = displays.length > 0 ? displays.join('; ') : formatActual(item.fact, item.actual)
  if (item.inputs === undefined) return `- ${item.label}: ${value}`
  const refs = unique(found.flatMap((entry) => entry.refs.map(inline)))
  return `- ${item.label}: ${value} — ${refs.length > 0 ? refs.join(', ') : 'not in the record'}`
}

/** The why lines of because-items, each distinct line once (a rule may test one fact twice). */
const whyLines = (items: readonly LinedBecauseItem[], mapping: MappingResult): string[] => unique(items.map((item) => becauseLine(item, mapping)))

/** §7.2 "Evidence": `- [R12] <citation> — DOI/PMID — <verification>`, the citation from `references`, else the knowledge base. */
export function evidenceLine (evidence: Readonly<{ ref: string, verification: string }>, kb: KnowledgeBase, references?: CardResponse['references']): string {
  const cited: Partial<Pick<Reference, 'citation' | 'doi' | 'pmid' | 'url'>> = references?.[evidence.ref] ?? kb.references.get(evidence.ref) ?? {}
  const ids = [cited.doi === undefined ? undefined : `DOI ${cited.doi}`, cited.pmid === undefined ? undefined : `PMID ${cited.pmid}`].filter((id) => id !== undefined)
  // A reference with neither DOI nor PMID is identified by the page where it was checked.
  const identifier = ids.length > 0 ? ids.join(', ') : cited.url
  return `- [${evidence.ref}] ${cited.citation ?? 'citation not in the catalogue'}${identifier === undefined ? '' : ` — ${identifier}`} — ${evidence.verification}`
}

/** §7.2 "Data gaps": the response's gaps that affect this code, each with the mapper's reasons. */
function gapLines (response: Pick<CardResponse, 'dataGaps'>, code: string, mapping: MappingResult): string[] {
  return response.dataGaps.filter((gap) => gap.affects.includes(code)).map((gap) => gapLine(gap, mapping))
}

function gapLine (gap: CardResponse['dataGaps'][number], mapping: MappingResult): string {
  const reasons = mapperReasons(mapping, gap.field).map(inline)
  return `- ${gap.field}: ${gap.message}${reasons.length > 0 ? ` — ${reasons.join('; ')}` : ''}`
}

const footer = (rule: { id: string, ruleset: string, rulesetVersion: string }, kbVersion: string): string =>
  `Rule ${rule.id} · ${rule.ruleset} ${rule.rulesetVersion} · knowledge base ${kbVersion} · mapping ${MAPPING_VERSION}`

// --- patient-view (§7.1, §7.2)

type Item = CardResponse['recommendations'][number]

/** `urgent` → critical; `avoid` → warning; `recommended`, `consider` → info (§7.1). Info items get no card. */
export const INDICATOR_OF_STRENGTH = { urgent: 'critical', avoid: 'warning', recommended: 'info', consider: 'info' } as const satisfies Record<Exclude<Item['strength'], 'info'>, Card['indicator']>

/** The detail of a recommendation's card, in the order of §7.2. */
export function recommendationDetail (item: Item, context: { mapping: MappingResult, kb: KnowledgeBase, response: CardResponse, kbVersion: string }): string {
  const { mapping, kb, response, kbVersion } = context
  const targets = item.targets === undefined ? '' : ` (${item.targets.join(', ')})`
  const blocks = [item.detail]
  if (item.options !== undefined) blocks.push(section('Options', item.options.map((option) => `- ${option.label} — ${option.strength ?? item.strength}${targets}`)))
  blocks.push(section('Why you see this', whyLines(item.because, mapping)))
  blocks.push(section('Evidence', item.evidence.map((evidence) => evidenceLine(evidence, kb, response.references))))
  const gaps = gapLines(response, item.code, mapping)
  if (gaps.length > 0) blocks.push(section('Data gaps', gaps))
  blocks.push(footer(item.rule, kbVersion))
  return blocks.join('\n\n')
}

export interface PatientViewInput extends CardContext { response: CardResponse }

/**
 * §7.1: one card per recommendation whose strength is not `info`, in the order of `recommendations`,
 * then the data-quality card of §7.3 when it applies.
 */
export function patientViewCards (input: PatientViewInput): IssuedCard[] {
  const { hookInstance, response, mapping, kb, kbPublicUrl } = input
  const kbVersion = knowledgeBaseVersion(response.provenance.rulesets)
  const cards: IssuedCard[] = []
  for (const item of response.recommendations) {
    if (item.strength === 'info') continue
    const targets = item.targets ?? []
    cards.push(issued({
      uuid: cardUuid(hookInstance, item.code, targets),
      summary: item.title,
      detail: recommendationDetail(item, { mapping, kb, response, kbVersion }),
      indicator: INDICATOR_OF_STRENGTH[item.strength],
      source: sourceOf(PATIENT_VIEW_SERVICE_ID, kbVersion, kbPublicUrl, item.domain)
    }, item.code, targets))
  }
  const data = dataCard({ ...input, shownCodes: cards.map(({ code }) => code) })
  if (data !== undefined) cards.push(data)
  return cards
}

// --- data cards (§7.3)

const CALCIUM_UNCORRECTED_HIGH = 'FHIR_CALCIUM_UNCORRECTED_HIGH'

export interface DataCardInput extends Omit<CardContext, 'kb'> {
  response: CardResponse
  /** Codes of the cards shown with it: their gaps are on those cards already. */
  shownCodes: readonly string[]
}

/**
 * §7.3, second row: one card "Check the record: <n> data issues behind this guidance" when the
 * response or the mapping has warnings, or gaps not tied to a card shown. It lists the warnings
 * (FHIR_CALCIUM_UNCORRECTED_HIGH first: SUP-01 cannot fire without a corrected calcium), the
 * response's data gaps that affect no shown card (with the mapper's reasons), then the mapper's gaps
 * on fields no data gap names. `warning` when it lists FHIR_CALCIUM_UNCORRECTED_HIGH [D], else `info`.
 */
export function dataCard (input: DataCardInput): IssuedCard | undefined {
  const { hookInstance, response, mapping, kbPublicUrl, shownCodes } = input
  const shown = new Set(shownCodes)
  const warnings = [...response.warnings, ...mapping.warnings]
    .filter((warning, i, all) => all.findIndex((other) => other.code === warning.code && other.message === warning.message) === i)
  const ordered = [...warnings.filter(({ code }) => code === CALCIUM_UNCORRECTED_HIGH), ...warnings.filter(({ code }) => code !== CALCIUM_UNCORRECTED_HIGH)]
  const untied = response.dataGaps.filter((gap) => !gap.affects.some((code) => shown.has(code)))
  const covered = (path: string): boolean => response.dataGaps.some(({ field }) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`))
  const mapperOnly = Object.entries(mapping.gaps).filter(([path, reasons]) => reasons.length > 0 && !covered(path))
  const lines = [
    ...ordered.map(({ code, message }) => `- ${inline(message)} (${code})`),
    ...untied.map((gap) => gapLine(gap, mapping)),
    ...mapperOnly.map(([path, reasons]) => `- ${path}: ${reasons.map(inline).join('; ')}`)
  ]
  if (lines.length === 0) return undefined
  const kbVersion = knowledgeBaseVersion(response.provenance.rulesets)
  const n = lines.length
  return issued({
    uuid: cardUuid(hookInstance, 'DATA-QUALITY', []),
    summary: `Check the record: ${n} data ${n === 1 ? 'issue' : 'issues'} behind this guidance`,
    detail: [
      'Some data behind this guidance were missing, could not be used as recorded, or were read with a caution. Check them in the record.',
      section('Data issues', lines),
      `Knowledge base ${kbVersion} · mapping ${MAPPING_VERSION}`
    ].join('\n\n'),
    indicator: ordered[0]?.code === CALCIUM_UNCORRECTED_HIGH ? 'warning' : 'info',
    source: sourceOf(PATIENT_VIEW_SERVICE_ID, kbVersion, kbPublicUrl)
  }, 'DATA-QUALITY', [])
}

/**
 * The required fields of §6.9 in short clinical words, with what the mapper searches for each
 * (§6.2, §6.4, §6.5), for the data card of an incomplete case.
 */
export const REQUIRED_FIELDS: Readonly<Record<string, { label: string, searched: string }>> = {
  'patient.ageYears': { label: 'Age', searched: 'Patient.birthDate' },
  'patient.sex': { label: 'Sex', searched: 'Patient us-core-birthsex extension, then Patient.gender' },
  'patient.ecog': { label: 'ECOG performance status', searched: `Observation LOINC ${LOINC_CODES.ecog.join(', ')}` },
  'tumor.erPercent': { label: 'ER %', searched: `Observation LOINC ${[...LOINC_CODES.erPercent, ...LOINC_CODES.erPresence].join(', ')}` }
}

/** The fields a failed case names: `missing` for an incomplete case (else the errors' pointers), the errors' pointers otherwise. */
function failedFields (caseResult: CaseFailure, mapping: MappingResult): Array<{ path: string, message?: string }> {
  if (caseResult.kind === 'case-incomplete' && mapping.missing.length > 0) return mapping.missing.map((path) => ({ path }))
  return caseResult.errors.map(({ path, message }) => ({ path: casePath(path), message }))
}

const fieldLabel = (path: string, mapping: MappingResult): string => REQUIRED_FIELDS[path]?.label ?? mapping.sources[path]?.label ?? path

function fieldLines (caseResult: CaseFailure, mapping: MappingResult): { labels: string[], lines: string[] } {
  const fields = failedFields(caseResult, mapping)
  const labels = unique(fields.map(({ path }) => fieldLabel(path, mapping)))
  const lines = fields.map(({ path, message }) => {
    const searched = REQUIRED_FIELDS[path]?.searched
    const reasons = mapperReasons(mapping, path).map(inline)
    const why = message !== undefined ? inline(message) : reasons.length > 0 ? reasons.join('; ') : 'no usable value in the record'
    return `- ${fieldLabel(path, mapping)} (${path})${searched === undefined ? '' : ` — searched: ${searched}`} — ${why}`
  })
  return { labels, lines }
}

const failureWord = (caseResult: CaseFailure): string => (caseResult.kind === 'case-incomplete' ? 'missing' : 'inconsistent')

/** The warnings of §4.2–§4.4 that say the service did not receive the whole record (a key partial, unavailable or malformed). */
const DATA_ACCESS_WARNINGS: ReadonlySet<string> = new Set(['FHIR_DATA_PARTIAL', 'FHIR_DATA_UNAVAILABLE', 'FHIR_PREFETCH_MALFORMED'])

/**
 * §7.3 "why nothing was usable": when a key arrived only in part or not at all, a missing field may
 * well be in the record; the incomplete-case cards say so, since they list no other warning and
 * these would otherwise reach no one (§4.2 FHIR_DATA_PARTIAL, §4.4 FHIR_DATA_UNAVAILABLE).
 */
function dataAccessSection (mapping: MappingResult): string[] {
  const lines = unique(mapping.warnings.filter(({ code }) => DATA_ACCESS_WARNINGS.has(code)).map(({ code, message }) => `- ${inline(message)} (${code})`))
  return lines.length === 0 ? [] : [section('Data not received in full', lines)]
}

export interface IncompleteCardInput extends CardContext { caseResult: CaseFailure }

/**
 * §7.3, first row: the mapped case is incomplete (or inconsistent, §6.9): one `info` card
 * "HER2+ MBC guidance unavailable: <labels> missing" listing each field, the codes searched and why
 * nothing was usable. uuid name `hookInstance|CASE-INCOMPLETE|`.
 */
export function incompleteCard (input: IncompleteCardInput): IssuedCard {
  const { hookInstance, caseResult, mapping, kb, kbPublicUrl } = input
  const kbVersion = kbVersionOf(kb)
  const { labels, lines } = fieldLines(caseResult, mapping)
  const word = failureWord(caseResult)
  return issued({
    uuid: cardUuid(hookInstance, 'CASE-INCOMPLETE', []),
    summary: fitSummary(`HER2+ MBC guidance unavailable: ${labels.join(', ')} ${word}`, `HER2+ MBC guidance unavailable: ${labels.length} fields ${word}`),
    detail: [
      `No guidance was evaluated: fields the guidance needs are ${word} in the record.`,
      section(word === 'missing' ? 'Missing' : 'Inconsistent', lines),
      ...dataAccessSection(mapping),
      `Knowledge base ${kbVersion} · mapping ${MAPPING_VERSION}`
    ].join('\n\n'),
    indicator: 'info',
    source: sourceOf(PATIENT_VIEW_SERVICE_ID, kbVersion, kbPublicUrl)
  }, 'CASE-INCOMPLETE', [])
}

// --- order-select (§7.4)

/** What a selected MedicationRequest may name: an Agent of api.md, or a bone-modifying agent (§6.6). */
export type OrderAgent = Agent | Exclude<typeof BMA_AGENTS[number], 'none'>

/** A selected MedicationRequest (§4.5): its `{type}/{id}`, its display, and its agents (§6.6). */
export interface OrderSelection {
  selection: string
  display: string
  agents: readonly OrderAgent[]
}

const ANTI_HER2: readonly OrderAgent[] = ['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'tucatinib', 'neratinib', 'lapatinib', 'margetuximab']
const ENDOCRINE: readonly OrderAgent[] = ['aromatase_inhibitor', 'fulvestrant', 'tamoxifen', 'ovarian_suppression']
const CDK46: readonly OrderAgent[] = ['palbociclib', 'ribociclib', 'abemaciclib']

/**
 * The table of §7.4, one row per code in the order cards are issued: the agents whose selection
 * checks the code. CI-01 covers every anti-HER2 agent (antibodies, ADCs and TKIs: CI-01 revision 6);
 * CI-03 the HER2 antibodies and ADCs; "CrCl < 30 (BMA-01/BMA-04 avoid)" is the avoid rows of both
 * codes, for zoledronic acid and pamidronate alike, as the table is written.
 */
export const ORDER_CHECK_TABLE: ReadonlyArray<Readonly<{ code: string, agents: readonly OrderAgent[] }>> = [
  { code: 'CI-04', agents: ['t_dxd'] },
  { code: 'CI-01', agents: ANTI_HER2 },
  { code: 'CI-03', agents: ['trastuzumab', 'pertuzumab', 't_dm1', 't_dxd', 'margetuximab'] },
  { code: 'CI-05', agents: [...ANTI_HER2, ...ENDOCRINE, ...CDK46] },
  { code: 'CI-06b', agents: ['capecitabine'] },
  { code: 'BMA-01', agents: ['zoledronic_acid', 'pamidronate'] },
  { code: 'BMA-04', agents: ['zoledronic_acid', 'pamidronate'] },
  { code: 'BMA-05', agents: ['denosumab', 'zoledronic_acid', 'pamidronate'] },
  { code: 'BMA-06', agents: ['denosumab', 'zoledronic_acid', 'pamidronate'] }
]

/** The codes a selection is checked against, in table order, each once. */
export function orderCodes (agents: readonly OrderAgent[]): string[] {
  return ORDER_CHECK_TABLE.filter((row) => row.agents.some((agent) => agents.includes(agent))).map(({ code }) => code)
}

export interface OrderSelectInput extends Omit<CardContext, 'kb'> {
  kb: PreparedKnowledgeBase
  selections: readonly OrderSelection[]
  caseResult: CaseResult
  /** The evaluation of the mapped case; required when the case is complete. */
  response?: CardResponse
}

/** The order as the clinician sees it; its `{type}/{id}` when the EHR gave no display. */
const orderDisplay = (selection: OrderSelection): string => inline(selection.display) || selection.selection

function orderCard (finding: OrderCheckFinding, selection: OrderSelection, input: OrderSelectInput & { response: CardResponse }, kbVersion: string): IssuedCard {
  const { hookInstance, mapping, kb, kbPublicUrl, response } = input
  const { definition, view } = finding.rule
  const params = definition.event.params
  const gaps = gapLines(response, finding.code, mapping)
  // §7.2's Options, narrowed to what the order is about: the avoided options with the selected agents.
  const avoided = finding.avoided.map((index) => view.options[index] as NonNullable<Item['options']>[number])
    .filter((option) => selection.agents.some((agent) => option.id === agent || (OPTION_AGENTS[option.id]?.includes(agent as Agent) ?? false)))
  const blocks = [
    `Selected order: ${orderDisplay(selection)}`,
    params.detail,
    ...(avoided.length > 0 ? [section('Options', avoided.map((option) => `- ${option.label} — avoid`))] : []),
    section('Why you see this', whyLines(finding.because, mapping)),
    section('Evidence', view.evidence.map((evidence) => evidenceLine(evidence, kb, response.references))),
    ...(gaps.length > 0 ? [section('Data gaps', gaps)] : []),
    footer(view.rule, kbVersion)
  ]
  return issued({
    uuid: orderCardUuid(hookInstance, selection.selection, finding.code),
    summary: params.title,
    detail: blocks.join('\n\n'),
    indicator: 'warning',
    source: sourceOf(ORDER_SELECT_SERVICE_ID, kbVersion, kbPublicUrl, params.domain)
  }, finding.code, [selection.selection])
}

/**
 * §7.4: for each selected MedicationRequest and each code of the table its agents check, one
 * `warning` card when the code holds on the mapped case without its option-offered clause [D]
 * (src/engine/order-check.ts). An incomplete or inconsistent case with a selected agent in the table
 * gives one `info` card "Order check unavailable: <labels> missing" (uuid name
 * `hookInstance|CASE-INCOMPLETE|`, as §7.3's). Otherwise no card.
 */
export function orderSelectCards (input: OrderSelectInput): IssuedCard[] {
  const { hookInstance, selections, caseResult, mapping, kb, kbPublicUrl, response } = input
  const checked = selections.map((selection) => ({ selection, codes: orderCodes(selection.agents) })).filter(({ codes }) => codes.length > 0)
  if (checked.length === 0) return []
  if (!caseResult.ok) {
    const kbVersion = kbVersionOf(kb)
    const { labels, lines } = fieldLines(caseResult, mapping)
    const word = failureWord(caseResult)
    return [issued({
      uuid: cardUuid(hookInstance, 'CASE-INCOMPLETE', []),
      summary: fitSummary(`Order check unavailable: ${labels.join(', ')} ${word}`, `Order check unavailable: ${labels.length} fields ${word}`),
      detail: [
        `The selected orders could not be checked: fields the check needs are ${word} in the record.`,
        section('Selected orders', checked.map(({ selection }) => `- ${orderDisplay(selection)}`)),
        section(word === 'missing' ? 'Missing' : 'Inconsistent', lines),
        ...dataAccessSection(mapping),
        `Knowledge base ${kbVersion} · mapping ${MAPPING_VERSION}`
      ].join('\n\n'),
      indicator: 'info',
      source: sourceOf(ORDER_SELECT_SERVICE_ID, kbVersion, kbPublicUrl)
    }, 'CASE-INCOMPLETE', [])]
  }
  if (response === undefined) throw new TypeError('orderSelectCards: a complete case needs the response of its evaluation')
  const kbVersion = knowledgeBaseVersion(response.provenance.rulesets)
  return checked.flatMap(({ selection, codes }) =>
    checkOrderCodes(kb, caseResult.case, response.provenance.evaluationDate, codes)
      .map((finding) => orderCard(finding, selection, { ...input, response }, kbVersion)))
}
