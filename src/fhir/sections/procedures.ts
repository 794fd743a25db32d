import type { MappingContext } from '../mapping-context.js'

/** §6.7 radiotherapy, spine surgery, breast surgery — TO BE WRITTEN (helper fhir-conditions). */
export function mapProcedures (_ctx: MappingContext): void {}
