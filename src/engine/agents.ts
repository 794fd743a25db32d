import type { Agent } from '../schemas/common.js'
import { agentClass } from './options.js'

/**
 * The agent classes the fact derivation reads, from `rules/options.json` (its `agentClasses`).
 * @see spec/clinical-rules.md Part 1 "Derived facts" (`antiHer2Agents`) and "Option composition"
 */

/** `antiHer2Agents`: the HER2 antibodies, the ADCs and the TKIs. */
export const ANTI_HER2_AGENTS: ReadonlySet<Agent> = new Set(agentClass('anti_her2_agent'))
/** The HER2 antibodies and antibody–drug conjugates (the cardiotoxic ones; TKIs excluded). */
export const HER2_ANTIBODY_ADC_AGENTS: ReadonlySet<Agent> = new Set(agentClass('her2_antibody_adc_agent'))
