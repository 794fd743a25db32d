import type { MappingContext } from '../mapping-context.js'

/** §6.6 medications → history, bone-modifying agent, state.firstAntiHer2Date — TO BE WRITTEN (helper fhir-medications). */
export function mapMedications (_ctx: MappingContext): void {}
