import { utcToday, type Case } from '../schemas/case.js'
import { DOMAINS, STRENGTHS, type OptionId } from '../schemas/common.js'
import type { Recommendation, RecommendationResponse } from '../schemas/recommendation.js'
import { inputDigest } from './canonical-json.js'
import { dataGaps } from './data-gaps.js'
import { newFactFrame, writeFacts, type FactFrame } from './fact-catalogue.js'
import { deriveFacts, type CaseFacts, type DerivedCase } from './facts.js'
import { groupKey, runCompiled, runReference, type EvaluatorName, type Pass, type PreparedKnowledgeBase, type PreparedRule, type RuleOutcome } from './evaluators.js'
import type { RuleDefinition } from '../schemas/rule-file.js'
import { enforceSafetyInvariants } from './invariants.js'
import { explainOptions, FAILURE_FINDERS, forbiddingCodes, recordRun, type RuleRun } from './explain.js'
import {
  CAPECITABINE_OPTIONS, CNS_ACTIVE_OPTIONS, HER2_ANTIBODY_ADC_OPTIONS, HER2_OPTIONS, isOffered, SYSTEMIC_DRUG_OPTIONS, SYSTEMIC_OPTIONS,
  TDM1_OR_TKI_OPTIONS, TDXD_OPTIONS
} from './options.js'

/**
 * evaluate(case, knowledgeBase): the whole decision, pure but for the clock it is given.
 *   1. derive the facts;
 *   2. pass 1 (classification) and pass 2 (safety filters: what is forbidden);
 *   3. pass 3 (systemic, local, primary, oligometastatic, brain, BMA-01), case rules once and
 *      lesion rules once per lesion; then every forbidden option leaves every item that offers it,
 *      and an item left with nothing to offer is dropped;
 *   4. pass 4 (codes that read the filtered output);
 *   5. safety invariants, data gaps, ordering, provenance.
 * The HTTP, FHIR and CDS Hooks adapters all call this one function.
 * @see spec/clinical-rules.md Part 1 "Evaluation passes"
 */

export const DISCLAIMER = 'Decision support for clinicians, not a substitute for clinical judgement: the multidisciplinary team decides. ' +
  'Options are not orders; drug approval and guideline adoption differ by jurisdiction. Not for use in emergencies without immediate clinical assessment.'

export interface ServiceInfo { name: string, version: string }
export interface EvaluateOptions {
  service: ServiceInfo
  evaluator: EvaluatorName
  /** The clock: evaluatedAt, and evaluationDate when the case has none. */
  now?: Date
  engineVersion: string
}

export type EvaluationBody = Omit<RecommendationResponse, 'requestId'>
/** What a request asks beyond the case: `explain`, the options to explain (api.md revision 8). */
export interface EvaluationRequest { explain?: readonly OptionId[] }
export interface Evaluation {
  body: EvaluationBody
  /** Safety-invariant repairs (should always be empty; logged and tested). */
  violations: string[]
}

/** The option ids the items offer (effective strength not avoid), or those they mark avoid. */
function optionIds (items: readonly Recommendation[], wanted: 'offered' | 'avoided'): Set<OptionId> {
  const ids = new Set<OptionId>()
  for (const item of items) {
    for (const option of item.options ?? []) if (isOffered(item, option) === (wanted === 'offered')) ids.add(option.id)
  }
  return ids
}

function hasAny (ids: ReadonlySet<OptionId>, set: ReadonlySet<OptionId>): boolean {
  for (const id of set) if (ids.has(id)) return true
  return false
}

/** One request of the pipeline to its evaluator: run these rules on this frame (for this lesion). */
interface RunRequest { rules: readonly PreparedRule[], frame: FactFrame, target?: string }
type Pipeline<T> = Generator<RunRequest, T, RuleOutcome[]>

export class Evaluator {
  /** The same for every response of this knowledge base, built once. */
  private readonly rulesets: RecommendationResponse['provenance']['rulesets']

  constructor (private readonly kb: PreparedKnowledgeBase, private readonly options: EvaluateOptions) {
    this.rulesets = Object.freeze(kb.rulesets.map(({ id, version, digest }) => Object.freeze({ id, version, digest }))) as RecommendationResponse['provenance']['rulesets']
  }

  /**
   * The pipeline is a generator that yields each rule run to a driver: the compiled evaluator
   * answers synchronously (no promise per run on the hot path), json-rules-engine asynchronously.
   */
  async evaluate (input: Case, request: EvaluationRequest = {}): Promise<Evaluation> {
    // EXPLAIN HOOK (explain.ts): each rule run is recorded only when explanations are asked for.
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
        forbiddenBy: forbiddingCodes(recording.runs, body.assessment.her2Status),
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

    const early = [...yield * this.runPass(1, derived, frame), ...yield * this.runPass(2, derived, frame)]
    const forbidden = optionIds(early.filter((item) => this.ruleOf(item).pass === 2), 'avoided')
    // HER2 equivocal or unknown: no HER2-directed option until HER2 is resolved (CLS-02).
    if (facts.her2Status !== 'positive') HER2_OPTIONS.forEach((id) => forbidden.add(id))
    writeFacts(frame, {
      firedCodes: early.map((item) => item.code),
      forbiddenOptions: [...forbidden],
      // Every filter that forbids HER2 antibodies (CI-01, CI-03, CI-05, HER2 unresolved) forbids trastuzumab alone.
      her2TherapyForbidden: forbidden.has('trastuzumab_monotherapy')
    })
    const proposed = yield * this.runPass(3, derived, frame)
    const proposedIds = optionIds(proposed, 'offered')
    const throughPass3 = filterForbidden([
      ...early.filter((item) => this.ruleOf(item).event.params.onlyWhenAvoidedOptionProposed !== true || hasAny(proposedIds, optionIds([item], 'avoided'))),
      ...proposed
    ], forbidden)

    const offered = optionIds(throughPass3, 'offered')
    writeFacts(frame, {
      firedCodes: throughPass3.map((item) => item.code),
      offeredOptions: [...offered],
      offeredSystemicOption: hasAny(offered, SYSTEMIC_OPTIONS),
      offeredSystemicDrugOption: hasAny(offered, SYSTEMIC_DRUG_OPTIONS),
      offeredHer2Option: hasAny(offered, HER2_OPTIONS),
      offeredHer2AntibodyAdcOption: hasAny(offered, HER2_ANTIBODY_ADC_OPTIONS),
      offeredTdxdOption: hasAny(offered, TDXD_OPTIONS),
      offeredCapecitabineOption: hasAny(offered, CAPECITABINE_OPTIONS),
      offeredTdm1OrTkiOption: hasAny(offered, TDM1_OR_TKI_OPTIONS),
      offeredCnsActiveOption: hasAny(offered, CNS_ACTIVE_OPTIONS)
    })
    const all = filterForbidden([...throughPass3, ...yield * this.runPass(4, derived, frame)], forbidden)
    const { items, violations } = enforceSafetyInvariants(all, facts)
    const ordered = sortRecommendations(items)

    const finalOffered = optionIds(ordered, 'offered')
    const firedCodes = new Set(ordered.map((item) => item.code))
    const body: EvaluationBody = {
      ...(input.caseId === undefined ? {} : { caseId: input.caseId }),
      scope: scopeOf(facts),
      assessment: derived.assessment,
      recommendations: ordered,
      dataGaps: dataGaps({ input, facts, offered: finalOffered, firedCodes }),
      warnings: [...derived.warnings, ...this.ruleWarnings(ordered)],
      provenance: {
        service: this.options.service,
        rulesets: this.rulesets,
        engine: { name: 'json-rules-engine', version: this.options.engineVersion },
        evaluationDate,
        evaluatedAt: now.toISOString(),
        inputDigest: inputDigest(input)
      },
      disclaimer: DISCLAIMER
    }
    return { body, violations }
  }

  private ruleOf (item: Recommendation): RuleDefinition {
    return (this.kb.rulesByName.get(item.rule.id) as PreparedRule).definition
  }

  /** Warnings that fired rules carry (GUIDELINE_DIVERGENCE, …), once per code. */
  private ruleWarnings (items: readonly Recommendation[]): Array<{ code: string, message: string }> {
    const warnings = new Map<string, string>()
    for (const item of items) {
      const warning = this.ruleOf(item).event.params.warning
      if (warning !== undefined) warnings.set(warning.code, warning.message)
    }
    return [...warnings].map(([code, message]) => ({ code, message }))
  }

  private * runPass (pass: Pass, derived: DerivedCase, frame: FactFrame): Pipeline<Recommendation[]> {
    const items: Recommendation[] = []
    const caseRules = this.kb.groups.get(groupKey(pass, 'case'))
    if (caseRules !== undefined) {
      for (const outcome of yield { rules: caseRules, frame }) items.push(this.toItem(outcome, derived.facts))
    }
    for (const [scope, lesions] of [['spine_lesion', derived.spineLesions], ['bone_lesion', derived.boneLesions]] as const) {
      const rules = this.kb.groups.get(groupKey(pass, scope))
      if (rules === undefined) continue
      for (const lesion of lesions) {
        // The lesion's facts overwrite the previous lesion's slots; case facts stay as they are.
        writeFacts(frame, lesion.facts)
        for (const outcome of yield { rules, frame, target: lesion.target }) items.push(this.toItem(outcome, derived.facts, lesion.target))
      }
    }
    return items
  }

  private toItem (outcome: RuleOutcome, facts: CaseFacts, lesionTarget?: string): Recommendation {
    const { definition, view } = outcome.prepared
    const params = definition.event.params
    const options: typeof view.options[number][] = []
    view.options.forEach((option, i) => {
      // Several entries may describe one option under exclusive conditions; the first that holds wins.
      if (outcome.optionHolds[i] === true && !options.some((kept) => kept.id === option.id)) options.push(option)
    })
    let detail = params.detail
    params.notes?.forEach((note, i) => { if (outcome.noteHolds[i] === true) detail += ` ${note.text}` })
    const targets = lesionTarget !== undefined
      ? [lesionTarget]
      : params.targets ?? (params.targetsFact === undefined ? undefined : [...new Set(facts[params.targetsFact] as string[])])
    const item: Recommendation = {
      code: params.code,
      domain: params.domain,
      strength: params.strength,
      title: params.title,
      detail,
      evidence: view.evidence,
      rule: view.rule,
      because: outcome.because
    }
    // Optional members only when present: responses carry no empty arrays for them and no null.
    if (options.length > 0) item.options = options
    if (targets !== undefined && targets.length > 0) item.targets = targets
    if (params.schedule !== undefined) item.schedule = params.schedule
    return item
  }
}

/**
 * Contraindications win: a forbidden option leaves every item that offers it; an item's own avoid
 * entries stay (that is how an item says what not to do). An item that offered something and has
 * nothing left to offer is dropped — we read "an item that had options and lost them all" as its
 * offered options, so that no "recommended" item survives holding only what must not be done.
 */
export function filterForbidden (items: readonly Recommendation[], forbidden: ReadonlySet<OptionId>): Recommendation[] {
  const kept: Recommendation[] = []
  for (const item of items) {
    if (item.options === undefined) {
      kept.push(item)
      continue
    }
    const options = item.options.filter((option) => !(forbidden.has(option.id) && isOffered(item, option)))
    if (options.length === item.options.length) {
      kept.push(item)
    } else if (options.some((option) => isOffered(item, option))) {
      kept.push({ ...item, options })
    }
  }
  return kept
}

const STRENGTH_ORDER = new Map(STRENGTHS.map((strength, i) => [strength, i]))
const DOMAIN_ORDER = new Map(DOMAINS.map((domain, i) => [domain, i]))
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The response order — strength (urgent, avoid, recommended, consider, info), then domain, then code,
 * then target — as one string key (strengths and domains are fewer than 10).
 */
const sortKey = (item: Recommendation): string =>
  `${STRENGTH_ORDER.get(item.strength) as number}${DOMAIN_ORDER.get(item.domain) as number}${item.code}\u0000${(item.targets ?? []).join(',')}`

/** Sorts recommendations into the response order, computing each item's key once. */
export function sortRecommendations (items: readonly Recommendation[]): Recommendation[] {
  return items.map((item) => ({ key: sortKey(item), item }))
    .sort((a, b) => compareText(a.key, b.key))
    .map(({ item }) => item)
}

export function scopeOf (facts: CaseFacts): RecommendationResponse['scope'] {
  if (facts.inScope === true) return { inScope: true, pathway: 'her2_positive_metastatic' }
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
