import type { MappingContext } from '../mapping-context.js'

/** §6.8 disease.ajcc (T, N, M, stage group) — TO BE WRITTEN (helper fhir-conditions). */
export function mapStaging (_ctx: MappingContext): void {}
