import type { MappingContext } from '../mapping-context.js'

/** §6.4 HER2, ER, PR, her2Source — TO BE WRITTEN (helper fhir-observations). */
export function mapMarkers (_ctx: MappingContext): void {}
