import type { Case, ExtracranialStatus, LineOutcome, ProgressionPattern } from '../schemas/case.js'
import type { Agent, TreatmentDecision } from '../schemas/common.js'
import { ANTI_HER2_AGENTS } from './agents.js'

/**
 * Treatment-history facts: relapse interval, line of therapy, current line, progressed agents.
 * @see spec/clinical-rules.md Part 1 "Derived facts"
 */

type MetastaticLine = NonNullable<NonNullable<Case['history']>['metastaticLines']>[number]

// The agent classes moved to agents.ts (read from rules/options.json); re-exported for existing imports.
export { ANTI_HER2_AGENTS, HER2_ANTIBODY_ADC_AGENTS } from './agents.js'

/** The HER2 antibodies that continue after a toxicity stop (the partner is replaced). */
const HER2_ANTIBODIES: ReadonlySet<Agent> = new Set<Agent>(['trastuzumab', 'pertuzumab'])

/** Average Gregorian month, so that intervals do not depend on which months they span. */
const DAYS_PER_MONTH = 30.4375
const MS_PER_DAY = 86_400_000

export const hasAntiHer2 = (agents: readonly Agent[]): boolean => agents.some((agent) => ANTI_HER2_AGENTS.has(agent))

export function daysBetween (from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / MS_PER_DAY)
}

/** Rounded half away from zero to one decimal; comparisons use this rounded value. */
export function monthsBetween (from: string, to: string): number {
  const tenths = daysBetween(from, to) * 10 / DAYS_PER_MONTH
  return Math.sign(tenths) * Math.round(Math.abs(tenths)) / 10
}

/**
 * Months from the latest dated early-stage anti-HER2 dose to the metastatic diagnosis (or, without
 * that date, to the evaluation date). Null when no dated early-stage anti-HER2 entry exists.
 */
export function monthsSinceLastAntiHer2 (input: Case, evaluationDate: string): number | null {
  const lastDoses = (input.history?.earlyStageTherapy ?? [])
    .filter((entry) => hasAntiHer2(entry.agents) && entry.lastDoseDate !== undefined)
    .map((entry) => entry.lastDoseDate as string)
    .sort()
  const latest = lastDoses.at(-1)
  if (latest === undefined) return null
  return monthsBetween(latest, input.disease.metastaticDiagnosisDate ?? evaluationDate)
}

export function lastLine (lines: readonly MetastaticLine[]): MetastaticLine | undefined {
  return lines.reduce<MetastaticLine | undefined>((last, line) => (last === undefined || line.lineNumber > last.lineNumber ? line : last), undefined)
}

const LOCAL_PATTERNS: ReadonlySet<ProgressionPattern> = new Set<ProgressionPattern>(['oligoprogression', 'cns_only'])
const ACTIVE_OUTCOMES: ReadonlySet<LineOutcome> = new Set<LineOutcome>(['ongoing', 'response'])

const CONTROLLED: ReadonlySet<ExtracranialStatus> = new Set<ExtracranialStatus>(['responding', 'stable'])

/**
 * A line stopped for toxicity while the disease was recorded controlled, that had trastuzumab itself
 * (not only an ADC) and whose toxic agents do not include a HER2 antibody: not a progression — the
 * antibodies continue with another partner and the line number does not advance (SYS-14).
 */
function isToxicitySwitch (last: MetastaticLine, extracranialStatus: ExtracranialStatus | undefined): boolean {
  return last.outcome === 'toxicity' &&
    extracranialStatus !== undefined && CONTROLLED.has(extracranialStatus) &&
    last.agents.includes('trastuzumab') &&
    !(last.toxicAgents ?? []).some((agent) => HER2_ANTIBODIES.has(agent))
}

/**
 * toxicity_switch as above; else start_line when there is no metastatic line, the last line stopped
 * for toxicity, or the disease progresses systemically on it; oligoprogression and CNS-only
 * progression are treated locally while the line continues (an absent pattern counts as systemic
 * progression).
 */
export function treatmentDecision (last: MetastaticLine | undefined, extracranialStatus: ExtracranialStatus | undefined): TreatmentDecision {
  if (last !== undefined && isToxicitySwitch(last, extracranialStatus)) return 'toxicity_switch'
  if (last === undefined || last.outcome === 'toxicity') return 'start_line'
  const progressing = last.outcome === 'progression' || extracranialStatus === 'progressing'
  const treatedLocally = last.progressionPattern !== undefined && LOCAL_PATTERNS.has(last.progressionPattern)
  return progressing && !treatedLocally ? 'start_line' : 'continue_line'
}

/**
 * Agents the disease has progressed on: every line that ended in progression, plus the active last
 * line when extracranial disease progresses on it systemically. A line stopped for toxicity or
 * completed as planned never adds its agents.
 */
export function progressedAgents (lines: readonly MetastaticLine[], extracranialStatus: ExtracranialStatus | undefined): Agent[] {
  const agents = new Set<Agent>()
  for (const line of lines) {
    if (line.outcome === 'progression') line.agents.forEach((agent) => agents.add(agent))
  }
  const last = lastLine(lines)
  if (last !== undefined && ACTIVE_OUTCOMES.has(last.outcome) && extracranialStatus === 'progressing' &&
      !(last.progressionPattern !== undefined && LOCAL_PATTERNS.has(last.progressionPattern))) {
    last.agents.forEach((agent) => agents.add(agent))
  }
  return [...agents].sort()
}

/**
 * The agents given now: the current line's, but under toxicity_switch only its trastuzumab and
 * pertuzumab (the other agents were stopped for toxicity).
 */
export function currentAgents (current: MetastaticLine | undefined, decision: TreatmentDecision): Agent[] {
  if (current === undefined) return []
  return decision === 'toxicity_switch' ? current.agents.filter((agent) => HER2_ANTIBODIES.has(agent)) : [...current.agents]
}

export function priorAgents (history: Case['history']): Agent[] {
  const agents = new Set<Agent>()
  for (const entry of history?.earlyStageTherapy ?? []) entry.agents.forEach((agent) => agents.add(agent))
  for (const line of history?.metastaticLines ?? []) line.agents.forEach((agent) => agents.add(agent))
  return [...agents].sort()
}
