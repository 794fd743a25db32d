import type { MappingContext } from '../mapping-context.js'
import type { CasePath } from '../types.js'

/** §6.9 required Case paths with no value — TO BE WRITTEN (helper fhir-core). */
export function missingRequired (_ctx: MappingContext): CasePath[] { return [] }
