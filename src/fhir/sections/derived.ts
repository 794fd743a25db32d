import type { MappingContext } from '../mapping-context.js'

/** §6.8 derived fields: presentation, primaryIntact, extracranialStatus, brain.present (record each in ctx.state.derived) — TO BE WRITTEN (helper fhir-conditions). */
export function deriveFields (_ctx: MappingContext): void {}
