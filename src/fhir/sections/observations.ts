import type { MappingContext } from '../mapping-context.js'

/** §6.5 ECOG, LVEF, pregnancy, vitamin D, calcium, creatinine clearance — TO BE WRITTEN (helper fhir-observations). */
export function mapObservations (_ctx: MappingContext): void {}

/** §6.5 / §6.8a lvefBaselinePercent: the latest LVEF dated before ctx.state.firstAntiHer2Date — TO BE WRITTEN (helper fhir-observations). */
export function mapLvefBaseline (_ctx: MappingContext): void {}
