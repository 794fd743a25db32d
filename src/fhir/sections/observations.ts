import { FACT_LINEAGE } from '../../engine/fact-lineage.js'
import { LOINC_CODES, PREGNANCY_ANSWERS } from '../codes.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { calendarDate, readQuantity, statusUsable, wordsOf, type UnitTable } from '../read.js'
import type { CasePath, FhirResource, SourceEntry } from '../types.js'
import {
  candidates, chooseLatest, daysBetween, hasAnyCode, hasKnownCode, hasLoinc, isCaseFact, observationsByLoinc, roundHalfUp, shownDate,
  type Chosen, type Reading
} from './observation-values.js'

/**
 * §6.5 Other observations: ECOG, LVEF (and its baseline), pregnancy, vitamin D, corrected calcium
 * (and the uncorrected-total rules), creatinine clearance. Laboratory values match by code only
 * (§6.1 rule 6); ECOG also by its text pattern.
 */

const identity = (value: number): number => value

function entry (label: string, chosen: Chosen<unknown>, extra: Partial<SourceEntry> = {}): SourceEntry {
  return {
    label,
    display: `${chosen.display} (${shownDate(chosen.date)})`,
    refs: chosen.refs,
    ...(chosen.date === undefined ? {} : { date: chosen.date }),
    ...extra
  }
}

/** A quantity in one of `units`, without comparator, within [min, max] (§6.1 rule 7). */
interface Range { min: number, max: number, /** the minimum itself is excluded (a concentration of 0 is no result) */ aboveMin?: true }

function readNumber (observation: FhirResource, units: UnitTable, range: Range, name: string, shown: (value: number, unit: string, sent: number) => string): Reading<number> {
  const quantity = readQuantity(observation.valueQuantity, units)
  if (quantity === 'unknown-unit') {
    const sent = observation.valueQuantity as Record<string, unknown>
    return { ok: false, code: 'FHIR_UNIT_UNKNOWN', reason: `the unit "${String(sent.code ?? sent.unit)}" of the ${name} is not one the mapping accepts` }
  }
  if (quantity === undefined) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `no ${name} quantity` }
  if (quantity.comparator !== undefined) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: `the ${name} is a bound (${quantity.comparator}), not a value` }
  const { min, max } = range
  const below = range.aboveMin === true ? quantity.value <= min : quantity.value < min
  if (below || quantity.value > max) {
    const bounds = max === Infinity ? `is not above ${min}` : `is outside ${range.aboveMin === true ? `(${min}` : min}–${max}`
    return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `the ${name} ${quantity.value} ${bounds}` }
  }
  const sent = (observation.valueQuantity as { value: number }).value
  return { ok: true, value: quantity.value, display: shown(quantity.value, quantity.unit, sent) }
}

function patientDraft (ctx: MappingContext): NonNullable<MappingContext['draft']['patient']> {
  ctx.draft.patient ??= {}
  return ctx.draft.patient
}

/* -------------------------------------------------------------------- ECOG */

const ECOG_TEXT = /ECOG/i

/** 89247-1, or (no known code) the words `ECOG` with FHIR_MATCHED_BY_TEXT (§6.4, §6.1 rule 6). */
function isEcog (ctx: MappingContext, observation: FhirResource): boolean {
  if (hasLoinc(observation.code, LOINC_CODES.ecog)) return true
  if (isCaseFact(observation) || hasKnownCode(observation) || !wordsOf(observation.code).some((word) => ECOG_TEXT.test(word))) return false
  ctx.warn('FHIR_MATCHED_BY_TEXT', `${refOf(observation)}: recognised as ECOG by its text, not by a known code.`)
  return true
}

function readEcog (observation: FhirResource): Reading<number> {
  const value = observation.valueInteger
  if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: 'the ECOG value is not an integer (valueInteger)' }
  if (value < 0 || value > 4) return { ok: false, code: 'FHIR_VALUE_OUT_OF_RANGE', reason: `ECOG ${value} is outside 0–4` }
  return { ok: true, value, display: `ECOG ${value}` }
}

/** §6.5: the latest valueInteger in 0–4; a later value outside 0–4 is skipped with FHIR_VALUE_OUT_OF_RANGE [D]. Karnofsky is not converted. */
function mapEcog (ctx: MappingContext): void {
  const observations = ctx.ofType('Observation').filter((observation) => isEcog(ctx, observation) && statusUsable(ctx, observation))
  const ecog = chooseLatest(ctx, candidates(ctx, observations, readEcog), 'patient.ecog', 'ECOG')
  if (ecog === undefined) return
  patientDraft(ctx).ecog = ecog.value
  ctx.source('patient.ecog', entry(FACT_LINEAGE.ecog.label, ecog))
}

/* -------------------------------------------------------------------- LVEF */

const readLvef = (observation: FhirResource): Reading<number> =>
  readNumber(observation, { '%': identity }, { min: 5, max: 90 }, 'LVEF', (value) => `${value} %`)

function mapLvef (ctx: MappingContext): void {
  const lvef = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.lvef), readLvef), 'patient.lvefPercent', 'LVEF')
  if (lvef === undefined) return
  patientDraft(ctx).lvefPercent = lvef.value
  ctx.source('patient.lvefPercent', entry(FACT_LINEAGE.lvefPercent.label, lvef))
}

/**
 * §6.5 / §6.8a `lvefBaselinePercent`: the latest LVEF dated before the first anti-HER2 agent's first
 * date (`ctx.state.firstAntiHer2Date`, set by the medications section). Absent when no anti-HER2 agent
 * is recorded, or no LVEF precedes it (an undated LVEF cannot be shown to precede it).
 */
export function mapLvefBaseline (ctx: MappingContext): void {
  const firstAntiHer2 = ctx.state.firstAntiHer2Date
  if (firstAntiHer2 === undefined) return
  const before = candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.lvef), readLvef)
    .filter((candidate) => candidate.date !== undefined && candidate.date < firstAntiHer2)
  const baseline = chooseLatest(ctx, before, 'patient.lvefBaselinePercent', 'LVEF before anti-HER2 therapy')
  if (baseline === undefined) return
  patientDraft(ctx).lvefBaselinePercent = baseline.value
  ctx.source('patient.lvefBaselinePercent', entry(FACT_LINEAGE.lvefBaselinePercent.label, baseline, {
    display: `${baseline.display} (${shownDate(baseline.date)}), before the first anti-HER2 agent (${firstAntiHer2})`
  }))
}

/* --------------------------------------------------------------- pregnancy */

/** [D] A pregnancy status older than this many days before evaluationDate is not used. */
export const PREGNANCY_STATUS_MAX_AGE_DAYS = 30

function readPregnancy (observation: FhirResource): Reading<boolean> {
  const concept = observation.valueCodeableConcept
  if (hasAnyCode(concept, PREGNANCY_ANSWERS.pregnant)) return { ok: true, value: true, display: 'pregnant' }
  if (hasAnyCode(concept, PREGNANCY_ANSWERS.notPregnant)) return { ok: true, value: false, display: 'not pregnant' }
  return { ok: false, code: 'FHIR_VALUE_UNREADABLE', reason: 'the pregnancy status is not one of the known answers' }
}

/** §6.5: the latest 82810-3, only within 30 days before evaluationDate [D]; older → absent with a gap. */
function mapPregnancy (ctx: MappingContext): void {
  const status = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.pregnancy), readPregnancy), 'patient.pregnant', 'pregnancy status')
  if (status === undefined) return
  const what = `${refOf(status.resource)} (${shownDate(status.date)}): ${status.display}`
  if (status.date === undefined) {
    ctx.gap('patient.pregnant', `${what}, undated, so not known to be within ${PREGNANCY_STATUS_MAX_AGE_DAYS} days`)
    return
  }
  if (daysBetween(status.date, ctx.evaluationDate) > PREGNANCY_STATUS_MAX_AGE_DAYS) {
    ctx.gap('patient.pregnant', `${what}, older than ${PREGNANCY_STATUS_MAX_AGE_DAYS} days`)
    return
  }
  patientDraft(ctx).pregnant = status.value
  ctx.source('patient.pregnant', entry(FACT_LINEAGE.pregnant.label, status))
}

/* --------------------------------------------------------------- vitamin D */

const NMOL_PER_NG = 2.496
const twoDecimals = (value: number): number => Number(value.toFixed(2))

/** §6.5: 62292-8 / 1989-3 [U], ng/mL or nmol/L ÷ 2.496 (the value is kept unrounded; the display shows the unit sent). */
function mapVitaminD (ctx: MappingContext): void {
  const read = (observation: FhirResource): Reading<number> => readNumber(observation, { 'ng/mL': identity, 'nmol/L': (value) => value / NMOL_PER_NG }, { min: 0, max: 300 }, '25-OH vitamin D',
    (value, unit, sent) => unit === 'ng/mL' ? `${value} ng/mL` : `${sent} nmol/L = ${twoDecimals(value)} ng/mL`)
  const vitaminD = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.vitaminD), read), 'patient.vitaminD25OHNgMl', '25-OH vitamin D')
  if (vitaminD === undefined) return
  patientDraft(ctx).vitaminD25OHNgMl = vitaminD.value
  ctx.source('patient.vitaminD25OHNgMl', entry(FACT_LINEAGE.vitaminD25OHNgMl.label, vitaminD))
}

/* ----------------------------------------------------------------- calcium */

type CalciumUnit = 'mmol/L' | 'mg/dL'
interface Calcium { value: number, unit: CalciumUnit }

const CALCIUM_UNITS: UnitTable = { 'mmol/L': identity, 'mg/dL': identity }
/** The hypercalcaemia limit of the engine (classification.ts), in each unit as written: 10.5 mg/dL, 2.62 mmol/L. */
const UNCORRECTED_HIGH: Record<CalciumUnit, number> = { 'mg/dL': 10.5, 'mmol/L': 2.62 }

function readCalcium (name: string) {
  return (observation: FhirResource): Reading<Calcium> => {
    let unit: CalciumUnit = 'mg/dL'
    const reading = readNumber(observation, CALCIUM_UNITS, { min: 0, max: 100, aboveMin: true }, name, (value, unitSent) => {
      unit = unitSent as CalciumUnit
      return `${value} ${unit}`
    })
    return reading.ok ? { ...reading, value: { value: reading.value, unit } } : reading
  }
}

const sameCalcium = (a: Calcium, b: Calcium): boolean => a.value === b.value && a.unit === b.unit

/**
 * §6.5: `correctedCalcium` from 29265-6 only, in mmol/L or mg/dL as sent. 17861-6 (total, uncorrected)
 * is never mapped and never corrected [D]; when it is the only calcium: a gap and
 * FHIR_CALCIUM_UNCORRECTED_ONLY, or FHIR_CALCIUM_UNCORRECTED_HIGH above 10.5 mg/dL (2.62 mmol/L).
 */
function mapCalcium (ctx: MappingContext): void {
  const path = 'patient.correctedCalcium'
  const corrected = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.correctedCalcium), readCalcium('corrected calcium')), path, 'corrected calcium', sameCalcium)
  if (corrected !== undefined) {
    patientDraft(ctx).correctedCalcium = corrected.value
    ctx.source(path, entry('Albumin-corrected serum calcium', corrected))
    return
  }
  const total = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.totalCalcium), readCalcium('total calcium')), path, 'uncorrected total calcium', sameCalcium)
  if (total === undefined) return
  const shown = `${total.value.value} ${total.value.unit}, ${shownDate(total.date)}`
  ctx.gap(path, `only uncorrected total calcium (${shown})`)
  if (total.value.value > UNCORRECTED_HIGH[total.value.unit]) {
    ctx.warn('FHIR_CALCIUM_UNCORRECTED_HIGH', `${refOf(total.resource)}: uncorrected total calcium ${shown} is above ${UNCORRECTED_HIGH[total.value.unit]} ${total.value.unit}, and no corrected calcium is recorded; hypercalcaemia cannot be assessed.`)
  } else {
    ctx.warn('FHIR_CALCIUM_UNCORRECTED_ONLY', `${refOf(total.resource)}: only an uncorrected total calcium (${shown}) is recorded; it is not used as corrected calcium.`)
  }
}

/* ---------------------------------------------------- creatinine clearance */

const CRCL_PATH: CasePath = 'patient.creatinineClearanceMlMin'
const CRCL_LABEL = FACT_LINEAGE.creatinineClearanceMlMin.label
const MEASURED_CRCL_LABEL = 'Creatinine clearance (mL/min): measured 24-h creatinine clearance (not Cockcroft–Gault)'
/** [D] The body weight must lie within this many days of the serum creatinine. */
export const CRCL_WEIGHT_MAX_DAYS = 90

const readCreatinine = (observation: FhirResource): Reading<number> =>
  readNumber(observation, { 'mg/dL': identity, 'umol/L': (value) => value / 88.4, 'µmol/L': (value) => value / 88.4 }, { min: 0, max: Infinity, aboveMin: true }, 'serum creatinine',
    (value, unit, sent) => unit === 'mg/dL' ? `${value} mg/dL` : `${sent} µmol/L = ${twoDecimals(value)} mg/dL`)

const readWeight = (observation: FhirResource): Reading<number> =>
  readNumber(observation, { kg: identity, '[lb_av]': (value) => value * 0.45359237 }, { min: 0, max: Infinity, aboveMin: true }, 'body weight',
    (value, unit, sent) => unit === 'kg' ? `${value} kg` : `${sent} lb = ${twoDecimals(value)} kg`)

/** Completed years from `birth` to `on` (calendar dates). */
function completedYears (birth: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birth.slice(0, 4))
  return on.slice(5) < birth.slice(5) ? years - 1 : years
}

function thePatient (ctx: MappingContext): FhirResource | undefined {
  const patients = ctx.ofType('Patient')
  return patients.find((patient) => refOf(patient) === ctx.options.patientRef) ?? patients[0]
}

/**
 * §6.5 rule 1, Cockcroft–Gault [D]: the latest serum creatinine (2160-0 mg/dL, 14682-9 µmol/L ÷ 88.4),
 * the body weight (29463-7, kg or [lb_av]) nearest to it within 90 days (actual weight), the age at the
 * creatinine date, sex per §6.2; × 0.85 for female; 1 decimal. Each missing piece is a gap.
 */
function cockcroftGault (ctx: MappingContext): { value: number, entry: SourceEntry } | undefined {
  const creatinine = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.creatinine), readCreatinine), CRCL_PATH, 'serum creatinine')
  if (creatinine === undefined) return undefined
  const what = `serum creatinine ${refOf(creatinine.resource)} (${shownDate(creatinine.date)})`
  const date = creatinine.date
  if (date === undefined) {
    ctx.gap(CRCL_PATH, `${what}: undated, so Cockcroft–Gault was not computed`)
    return undefined
  }
  const weights = candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.bodyWeight), readWeight)
    .filter((candidate) => candidate.reading.ok && candidate.date !== undefined && candidate.date <= ctx.evaluationDate &&
      Math.abs(daysBetween(candidate.date, date)) <= CRCL_WEIGHT_MAX_DAYS)
    .sort((a, b) => Math.abs(daysBetween(a.date as string, date)) - Math.abs(daysBetween(b.date as string, date)) ||
      (b.date as string).localeCompare(a.date as string) || refOf(a.resource).localeCompare(refOf(b.resource)))
  const weight = weights[0]
  if (weight === undefined || !weight.reading.ok) {
    ctx.gap(CRCL_PATH, `${what}: no usable body weight within ${CRCL_WEIGHT_MAX_DAYS} days, so Cockcroft–Gault was not computed`)
    return undefined
  }
  const patient = thePatient(ctx)
  const birth = patient === undefined ? undefined : calendarDate(ctx, patient.birthDate, refOf(patient))
  const sex = ctx.draft.patient?.sex
  if (patient === undefined || birth === undefined || sex === undefined) {
    ctx.gap(CRCL_PATH, `${what}: ${birth === undefined ? 'birth date' : 'sex'} unknown, so Cockcroft–Gault was not computed`)
    return undefined
  }
  const age = completedYears(birth, date)
  const raw = (140 - age) * weight.reading.value / (72 * creatinine.value) * (sex === 'female' ? 0.85 : 1)
  const value = roundHalfUp(raw, 1)
  if (value < 0 || value > 300) {
    ctx.warn('FHIR_VALUE_OUT_OF_RANGE', `${refOf(creatinine.resource)}: the Cockcroft–Gault clearance ${value} mL/min is outside 0–300; not used.`)
    ctx.gap(CRCL_PATH, `${what}: Cockcroft–Gault clearance ${value} mL/min is outside 0–300`)
    return undefined
  }
  const display = `${value.toFixed(1)} mL/min by Cockcroft–Gault (${creatinine.display} on ${date}, ${weight.reading.display} on ${weight.date as string}, age ${age}, ${sex})`
  return {
    value,
    entry: { label: CRCL_LABEL, display, refs: [refOf(creatinine.resource), refOf(weight.resource), refOf(patient)], date }
  }
}

const readMeasuredClearance = (observation: FhirResource): Reading<number> =>
  readNumber(observation, { 'mL/min': identity }, { min: 0, max: 300 }, 'measured creatinine clearance', (value) => `${value} mL/min, measured 24-h clearance`)

/** §6.5: derived Cockcroft–Gault preferred (FHIR_CRCL_DERIVED); else measured 2164-2 in mL/min (FHIR_CRCL_MEASURED); else absent. */
function mapCreatinineClearance (ctx: MappingContext): void {
  const derived = cockcroftGault(ctx)
  if (derived !== undefined) {
    patientDraft(ctx).creatinineClearanceMlMin = derived.value
    ctx.source(CRCL_PATH, derived.entry)
    ctx.warn('FHIR_CRCL_DERIVED', `creatinine clearance computed by Cockcroft–Gault from ${derived.entry.refs.join(', ')}.`)
    return
  }
  const measured = chooseLatest(ctx, candidates(ctx, observationsByLoinc(ctx, LOINC_CODES.creatinineClearanceMeasured), readMeasuredClearance), CRCL_PATH, 'measured creatinine clearance')
  if (measured === undefined) return
  patientDraft(ctx).creatinineClearanceMlMin = measured.value
  ctx.source(CRCL_PATH, entry(MEASURED_CRCL_LABEL, measured))
  ctx.warn('FHIR_CRCL_MEASURED', `${refOf(measured.resource)}: a measured 24-h creatinine clearance stands for the Cockcroft–Gault clearance.`)
}

/* -------------------------------------------------------------------- main */

/** §6.5 ECOG, LVEF, pregnancy, vitamin D, calcium, creatinine clearance. */
export function mapObservations (ctx: MappingContext): void {
  mapEcog(ctx)
  mapLvef(ctx)
  mapPregnancy(ctx)
  mapVitaminD(ctx)
  mapCalcium(ctx)
  mapCreatinineClearance(ctx)
}
