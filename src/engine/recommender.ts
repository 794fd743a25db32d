import { utcToday, type Case } from '../schemas/case.js'
import { DOMAINS, STRENGTHS, type OptionId } from '../schemas/common.js'
import type { Recommendation, RecommendationResponse } from '../schemas/recommendation.js'
import { adjustStrength, applyPregnancyRt, preparePregnancyRt, type PreparedPregnancyRt } from './adjustments.js'
import { inputDigest } from './canonical-json.js'
import { dataGaps } from './data-gaps.js'
import { newFactFrame, writeFacts, type FactFrame } from './fact-specs.js'
import { evaluationLineages, FACT_LINEAGE, withLineage, type EvaluationLineages, type LineageContext } from './fact-lineage.js'
import { deriveFacts, type CaseFacts, type DerivedCase } from './facts.js'
import { groupKey, type Pass, type PreparedKnowledgeBase, type PreparedRule } from './knowledge-base.js'
import { runCompiled, runReference, type RuleRunnerName, type RuleOutcome } from './rule-runners.js'
import { applyForbidden, decideConditionalFilters, forbiddenBy, forbiddenMap, forbiddingCodes, safetyFilters, type ForbiddenOptions, type Removal } from './filters.js'
import { withItem, type Fired } from './fired.js'
import { enforceSafetyInvariants } from './invariants.js'
import { provenanceRulesets } from './load-rules.js'
import { offeredOptionIds, pass3Facts, pass4Facts } from './pass-facts.js'
import { referencesOf } from './references.js'
import { explainOptions, FAILURE_FINDERS, recordRun, type RuleRun } from './explain.js'

/**
 * evaluate(case, knowledgeBase): the whole decision, pure but for the clock it is given.
 *   1. derive the facts;
 *   2. pass 1 (classification) and pass 2 (safety filters: what is forbidden, with the HER2-status
 *      filter);
 *   3. pass 3 (systemic, local, primary, oligometastatic, brain, BMA-01, SUP-01), case rules once and
 *      lesion rules once per lesion; (a) pregnancyRt adjusts their radiotherapy options; (b) CI-06b
 *      is decided on those proposals; (c) every forbidden option leaves every item that offers it,
 *      except where a filter exempts a code; (d) a pass-3 item left with nothing to offer is dropped;
 *      then the item strengths are read from what the items still offer (red-team L6, SYS-12);
 *   4. pass 4 (codes that read the filtered output), filtered the same way;
 *   5. safety invariants, data gaps, ordering, provenance.
 * Both evaluators drive this one pipeline (only the rule runs differ), so every step holds for both.
 * The HTTP, FHIR and CDS Hooks adapters all call this one function.
 * @see spec/clinical-rules.md Part 1 "Evaluation passes"
 */

export const DISCLAIMER = 'Decision support for clinicians, not a substitute for clinical judgement: the multidisciplinary team decides. ' +
  'Options are not orders; drug approval and guideline adoption differ by jurisdiction. Not for use in emergencies without immediate clinical assessment.'

export interface ServiceInfo { name: string, version: string }
export interface EvaluateOptions {
  service: ServiceInfo
  evaluator: RuleRunnerName
  /** The clock: evaluatedAt, and evaluationDate when the case has none. */
  now?: Date
  engineVersion: string
}

export type EvaluationBody = Omit<RecommendationResponse, 'requestId'>

/** Who forbade what in this evaluation: what a "why not" explanation reads (api.md `explanations`). */
export interface Filtering {
  /**
   * Every option the filters in force forbid (CI-06b only when step 3b kept it), with the codes that
   * forbid it (the HER2-status filter as CLS-02). A filter does not filter the codes it exempts.
   */
  forbidden: ReadonlyMap<OptionId, readonly string[]>
  /** Each offered option that step 3c (or its repeat after pass 4) took out of an item. */
  removed: Removal[]
  /** The filters behind `forbidden`, with their exemptions (what "why not" reads: filters.ts `forbiddenBy`). */
  filters: ForbiddenOptions
}

/** What a request asks beyond the case: `explain`, the options to explain (api.md revision 8). */
export interface EvaluationRequest { explain?: readonly OptionId[] }

export interface Evaluation {
  body: EvaluationBody
  /** Safety-invariant repairs (should always be empty; logged and tested). */
  violations: string[]
  filtering: Filtering
}

/** One request of the pipeline to its evaluator: run these rules on this frame (for this lesion). */
interface RunRequest { rules: readonly PreparedRule[], frame: FactFrame, target?: string, lineage: LineageContext }
type Pipeline<T> = Generator<RunRequest, T, RuleOutcome[]>

export class Recommender {
  /** The same for every response of this knowledge base, built once. */
  private readonly rulesets: RecommendationResponse['provenance']['rulesets']
  private readonly pregnancyRt: PreparedPregnancyRt

  constructor (private readonly kb: PreparedKnowledgeBase, private readonly options: EvaluateOptions) {
    this.rulesets = Object.freeze(provenanceRulesets(kb).map((entry) => Object.freeze(entry))) as RecommendationResponse['provenance']['rulesets']
    this.pregnancyRt = preparePregnancyRt(kb.contextAdjustments.pregnancyRt)
  }

  /**
   * The strings its responses carry as the knowledge base holds them (titles, details, warnings,
   * option labels, the facts' labels in `because`, the disclaimer): what a response writer may
   * encode once (http/serializer.ts).
   */
  constantStrings (): Set<string> {
    const strings = new Set<string>([DISCLAIMER, ...Object.values(FACT_LINEAGE).map(({ label }) => label)])
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.add(value)
      else if (typeof value === 'object' && value !== null) for (const member of Object.values(value)) collect(member)
    }
    for (const { definition, view } of this.kb.rulesByName.values()) {
      collect(definition.event.params)
      collect(view.options)
    }
    return strings
  }

  /**
   * The pipeline is a generator that yields each rule run to a driver: the compiled evaluator
   * answers synchronously (no promise per run on the hot path), json-rules-engine asynchronously.
   */
  async evaluate (input: Case, request: EvaluationRequest = {}): Promise<Evaluation> {
    // Each rule run is recorded only when explanations are asked for (explain.ts): the hot path pays nothing.
    const recording = request.explain === undefined ? undefined : { explain: request.explain, runs: [] as RuleRun[] }
    const pipeline = this.pipeline(input)
    let step = pipeline.next()
    if (this.options.evaluator === 'compiled') {
      while (step.done !== true) step = pipeline.next(recordRun(recording?.runs, step.value, runCompiled(step.value.rules, step.value.frame)))
    } else {
      while (step.done !== true) step = pipeline.next(recordRun(recording?.runs, step.value, await runReference(step.value.rules, step.value.frame)))
    }
    const evaluation = step.value
    if (recording !== undefined) {
      const { body } = evaluation
      body.explanations = await explainOptions(recording.explain, {
        kb: this.kb,
        runs: recording.runs,
        items: body.recommendations,
        forbiddenBy: (option, code) => forbiddenBy(evaluation.filtering.filters, option, code),
        firstFailure: FAILURE_FINDERS[this.options.evaluator]
      })
    }
    return evaluation
  }

  private * pipeline (input: Case): Pipeline<Evaluation> {
    const now = this.options.now ?? new Date()
    const evaluationDate = input.context?.evaluationDate ?? utcToday(now)
    const derived = deriveFacts(input, evaluationDate)
    const facts = derived.facts
    // One frame per evaluation, filled as the passes learn more (never shared between requests).
    const frame = writeFacts(newFactFrame(), facts)

    const lineages = evaluationLineages(input, derived.spineLesions.length, derived.boneLesions.length)
    const pass1 = yield * this.runPass(1, derived, frame, lineages)
    const pass2 = yield * this.runPass(2, derived, frame, lineages)
    writeFacts(frame, pass3Facts([...pass1, ...pass2], safetyFilters(pass2, facts.her2Status)))

    // 3a: pregnancyRt, on the pass-3 proposals (the out-of-scope emergency codes are pass-3 rules).
    let proposed = yield * this.runPass(3, derived, frame, lineages)
    if (facts.pregnant === true) proposed = proposed.map((fired) => withItem(fired, applyPregnancyRt(fired.item, this.pregnancyRt)))
    // 3b: CI-06b stays only if a proposed capecitabine option would survive every other filter.
    const keptPass2 = decideConditionalFilters(pass2, facts.her2Status, proposed)
    const forbidden = forbiddenMap(safetyFilters(keptPass2, facts.her2Status))
    // 3c, 3d, then the strengths read from what is still offered (red-team L6, considerUnlessOffered).
    const removed: Removal[] = []
    const throughPass3 = applyForbidden([...pass1, ...keptPass2, ...proposed], forbidden, removed).map(adjustStrength)

    writeFacts(frame, pass4Facts(throughPass3.map(({ item }) => item)))
    const pass4 = applyForbidden(yield * this.runPass(4, derived, frame, lineages), forbidden, removed)
    const { entries, violations } = enforceSafetyInvariants([...throughPass3, ...pass4], facts)
    const sorted = sortByItem(entries, (entry) => entry.item)
    const ordered = sorted.map(({ item }) => item)

    const firedCodes = new Set(ordered.map((item) => item.code))
    const body: EvaluationBody = {
      ...(input.caseId === undefined ? {} : { caseId: input.caseId }),
      scope: scopeOf(facts),
      assessment: derived.assessment,
      recommendations: ordered,
      dataGaps: dataGaps({ input, facts, offered: offeredOptionIds(ordered), firedCodes }),
      warnings: [...derived.warnings, ...ruleWarnings(sorted)],
      provenance: {
        service: this.options.service,
        rulesets: this.rulesets,
        engine: { name: 'json-rules-engine', version: this.options.engineVersion },
        evaluationDate,
        evaluatedAt: now.toISOString(),
        inputDigest: inputDigest(input)
      },
      references: referencesOf(ordered, this.kb.citations),
      disclaimer: DISCLAIMER
    }
    return { body, violations, filtering: { forbidden: forbiddingCodes(forbidden), removed, filters: forbidden } }
  }

  private * runPass (pass: Pass, derived: DerivedCase, frame: FactFrame, lineages: EvaluationLineages): Pipeline<Fired[]> {
    const fired: Fired[] = []
    const caseRules = this.kb.groups.get(groupKey(pass, 'case'))
    if (caseRules !== undefined) {
      const lineage = lineages.case
      for (const outcome of yield { rules: caseRules, frame, lineage }) fired.push({ rule: outcome.prepared, item: toItem(outcome, derived.facts, lineage) })
    }
    for (const [scope, lesions] of [['spine_lesion', derived.spineLesions], ['bone_lesion', derived.boneLesions]] as const) {
      const rules = this.kb.groups.get(groupKey(pass, scope))
      if (rules === undefined) continue
      for (const [index, lesion] of lesions.entries()) {
        // The lesion's facts overwrite the previous lesion's slots; case facts stay as they are.
        writeFacts(frame, lesion.facts)
        const lineage = lineages[scope][index] as LineageContext
        for (const outcome of yield { rules, frame, target: lesion.target, lineage }) {
          fired.push({ rule: outcome.prepared, item: toItem(outcome, derived.facts, lineage, lesion.target) })
        }
      }
    }
    return fired
  }
}

/** Warnings that fired rules carry (GUIDELINE_DIVERGENCE, …), once per code, in response order. */
function ruleWarnings (fired: readonly Fired[]): Array<{ code: string, message: string }> {
  const warnings = new Map<string, string>()
  for (const { rule } of fired) {
    const warning = rule.definition.event.params.warning
    if (warning !== undefined) warnings.set(warning.code, warning.message)
  }
  return [...warnings].map(([code, message]) => ({ code, message }))
}

function toItem (outcome: RuleOutcome, facts: CaseFacts, lineage: LineageContext, lesionTarget?: string): Recommendation {
  const { definition, view } = outcome.prepared
  const params = definition.event.params
  const options: typeof view.options[number][] = []
  view.options.forEach((option, i) => {
    // Several entries may describe one option under exclusive conditions; the first that holds wins.
    if (outcome.optionHolds[i] === true && !options.some((kept) => kept.id === option.id)) options.push(option)
  })
  let detail = params.detail
  params.notes?.forEach((note, i) => { if (outcome.noteHolds[i] === true) detail += ` ${note.text}` })
  const targets = lesionTarget !== undefined ? [lesionTarget] : params.targets ?? targetsFrom(facts, params.targetsFact)
  const item: Recommendation = {
    code: params.code,
    domain: params.domain,
    strength: params.strength,
    title: params.title,
    detail,
    evidence: view.evidence,
    rule: view.rule,
    because: withLineage(outcome.because, lineage)
  }
  // Optional members only when present: responses carry no empty arrays for them and no null.
  if (options.length > 0) item.options = options
  if (targets !== undefined && targets.length > 0) item.targets = targets
  if (params.schedule !== undefined) item.schedule = params.schedule
  return item
}

/** The targets a `targetsFact` names (a string[] fact of the catalogue; the loader allows only those). */
function targetsFrom (facts: CaseFacts, name: 'deficitLevels' | 'highGradeCompressionLevels' | undefined): string[] | undefined {
  if (name === undefined) return undefined
  return [...new Set<string>(facts[name])]
}

const STRENGTH_ORDER = new Map(STRENGTHS.map((strength, i) => [strength, i]))
const DOMAIN_ORDER = new Map(DOMAINS.map((domain, i) => [domain, i]))
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The response order of an item: strength (urgent, avoid, recommended, consider, info), then domain, then code, then target. */
interface SortKey { rank: number, code: string, targets: string }
const sortKey = (item: Recommendation): SortKey => ({
  // Strengths and domains are fewer than 10: one number orders both.
  rank: (STRENGTH_ORDER.get(item.strength) as number) * 10 + (DOMAIN_ORDER.get(item.domain) as number),
  code: item.code,
  targets: item.targets === undefined ? '' : item.targets.join(',')
})
const compareKeys = (a: SortKey, b: SortKey): number => a.rank - b.rank || compareText(a.code, b.code) || compareText(a.targets, b.targets)

/** Sorts entries into the response order of their items, computing each key once. */
function sortByItem<T> (entries: readonly T[], itemOf: (entry: T) => Recommendation): T[] {
  return entries.map((entry) => ({ key: sortKey(itemOf(entry)), entry }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ entry }) => entry)
}

/** Sorts recommendations into the response order. */
export function sortRecommendations (items: readonly Recommendation[]): Recommendation[] {
  return sortByItem(items, (item) => item)
}

/**
 * scope (r7): `her2_positive_metastatic` in scope with HER2 positive; `her2_status_pending` in scope
 * while HER2 is equivocal (the reason says to resolve it first; CLS-02 [R] and the HER2-status filter
 * act on it); `out_of_scope` otherwise, with the reason.
 * @see spec/clinical-rules.md Part 1, scope row; spec/api.md `scope`
 */
export function scopeOf (facts: CaseFacts): RecommendationResponse['scope'] {
  if (facts.inScope === true) {
    if (facts.her2Status === 'positive') return { inScope: true, pathway: 'her2_positive_metastatic' }
    const reason = facts.her2Ihc === '2+'
      ? 'HER2 IHC 2+ without a deciding ISH result: resolve HER2 status (ISH) before any HER2-directed therapy.'
      // Equivocal without IHC 2+: IHC was not done and the ISH result does not decide on its own.
      : 'HER2 equivocal: the ISH result does not decide without IHC: resolve HER2 status before any HER2-directed therapy.'
    return { inScope: true, pathway: 'her2_status_pending', reason }
  }
  let reason: string
  if (facts.metastatic !== true) {
    reason = 'No distant metastasis is recorded: this service covers HER2-positive metastatic breast cancer only.'
  } else if (facts.her2Status === 'negative') {
    reason = 'HER2-negative by ASCO/CAP criteria: route to the HER2-negative / HER2-low metastatic pathway. Only classification and emergency measures are given.'
  } else {
    reason = 'HER2 status is unknown: test HER2 (IHC, with ISH when IHC 2+) before any HER2-directed decision. Only classification and emergency measures are given.'
  }
  return { inScope: false, pathway: 'out_of_scope', reason }
}
