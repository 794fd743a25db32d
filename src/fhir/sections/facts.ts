import type { MappingContext } from '../mapping-context.js'

/** §6.8 / §6.8a case-fact Observations (overriding derived fields) — TO BE WRITTEN (helper fhir-observations). */
export function mapFacts (_ctx: MappingContext): void {}
