import { isCalendarDate } from '../../schemas/common.js'
import { element, warnMalformed } from '../bundle.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { calendarDate } from '../read.js'
import type { FhirResource } from '../types.js'

/**
 * §6.2 Patient and context: `context` and `caseId` from the options (the /v1 query, or the CDS Hooks
 * call), `patient.ageYears` from `birthDate`, `patient.sex` from the US Core birth sex, else the
 * administrative gender [D]. Warnings name "the Patient", never its id (a patient identifier, §6.10).
 */

export const BIRTH_SEX_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex'

/** FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD); a time after a full date is tolerated and ignored (§6.1 rule 4: dates as written, first 10 characters). */
const FHIR_DATE = /^\d{4}(-\d{2}(-\d{2}(T.*)?)?)?$/

/** A code from the record, quoted only when it is a short token (never free text in a message). */
const quoted = (code: string): string => /^[A-Za-z-]{1,16}$/.test(code) ? `"${code}"` : 'an unrecognised value'

const BIRTH_SEX: Readonly<Record<string, 'female' | 'male'>> = { F: 'female', M: 'male' }
const GENDER: Readonly<Record<string, 'female' | 'male'>> = { female: 'female', male: 'male' }

export function mapPatient (ctx: MappingContext): void {
  const { evaluationDate, jurisdiction, caseId } = ctx.options
  ctx.draft.context = { evaluationDate, ...(jurisdiction === undefined ? {} : { jurisdiction }) }
  if (caseId !== undefined) ctx.draft.caseId = caseId
  // The patient rule keeps exactly one Patient: the one the record belongs to.
  const patient = ctx.ofType('Patient')[0]
  if (patient === undefined) return
  mapAge(ctx, patient)
  mapSex(ctx, patient)
}

/** Completed years between two calendar dates (YYYY-MM-DD): a birthday counts from its own day (29 Feb: from 1 Mar). */
export function completedYears (birthDate: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4))
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years
}

function mapAge (ctx: MappingContext, patient: FhirResource): void {
  const path = 'patient.ageYears'
  const written = element(ctx, patient, 'birthDate', 'string')
  if (written === undefined) {
    ctx.gap(path, patient.birthDate === undefined ? 'the Patient has no birthDate' : 'the Patient\'s birthDate is not a date string')
    return
  }
  const birthDate = FHIR_DATE.test(written) ? calendarDate(ctx, written, 'Patient.birthDate') : undefined
  if (birthDate === undefined || !isCalendarDate(birthDate)) {
    ctx.warn('FHIR_VALUE_UNREADABLE', 'the Patient: birthDate is not a calendar date (YYYY, YYYY-MM or YYYY-MM-DD); no age was computed.')
    ctx.gap(path, 'the Patient\'s birthDate is not a calendar date')
    return
  }
  if (birthDate > ctx.evaluationDate) {
    ctx.warn('FHIR_FUTURE_DATED', 'the Patient: birthDate is after the evaluation date; no age was computed.')
    ctx.gap(path, 'the Patient\'s birthDate is after the evaluation date')
    return
  }
  const age = completedYears(birthDate, ctx.evaluationDate)
  ctx.draft.patient = { ...ctx.draft.patient, ageYears: age }
  ctx.source(path, { label: 'Age (years)', display: `${age} years on ${ctx.evaluationDate}${written.length < 10 ? ' (partial birth date read as its first day)' : ''}`, refs: [refOf(patient)] })
}

/** The valueCode of the us-core-birthsex extension, when there is one of the right shape. */
function birthSexCode (ctx: MappingContext, patient: FhirResource): string | undefined {
  const extension = element(ctx, patient, 'extension', 'objects')?.find((candidate) => candidate.url === BIRTH_SEX_URL)
  if (extension === undefined || extension.valueCode === undefined) return undefined
  if (typeof extension.valueCode === 'string') return extension.valueCode
  warnMalformed(ctx, patient, 'the us-core-birthsex valueCode', 'string')
  return undefined
}

/**
 * Birth sex F/M → female/male. Without a usable birth sex (UNK, ASKU, OTH, absent), the
 * administrative gender female/male with FHIR_SEX_FROM_GENDER [D]. Both usable and different → the
 * birth sex, FHIR_SEX_CONFLICT (gender `other`/`unknown` does not conflict: it says nothing about sex).
 * Otherwise missing, with a gap [D: `other`/`unknown` is never guessed].
 */
function mapSex (ctx: MappingContext, patient: FhirResource): void {
  const path = 'patient.sex'
  const code = birthSexCode(ctx, patient)
  const gender = element(ctx, patient, 'gender', 'string')
  const fromBirthSex = code === undefined ? undefined : BIRTH_SEX[code]
  const fromGender = gender === undefined ? undefined : GENDER[gender]
  const refs = [refOf(patient)]
  if (fromBirthSex !== undefined) {
    ctx.draft.patient = { ...ctx.draft.patient, sex: fromBirthSex }
    ctx.source(path, { label: 'Sex', display: `${fromBirthSex} (birth sex)`, refs })
    if (fromGender !== undefined && fromGender !== fromBirthSex) {
      ctx.warn('FHIR_SEX_CONFLICT', `the Patient: the birth sex (${fromBirthSex}) and the administrative gender (${fromGender}) disagree; the birth sex was used.`)
    }
    return
  }
  if (fromGender !== undefined) {
    ctx.draft.patient = { ...ctx.draft.patient, sex: fromGender }
    ctx.source(path, { label: 'Sex', display: `${fromGender} (administrative gender; no birth sex recorded)`, refs })
    ctx.warn('FHIR_SEX_FROM_GENDER', 'the Patient: no usable birth sex (us-core-birthsex); the administrative gender was used as sex.')
    return
  }
  const birthSexWords = code === undefined ? 'no birth sex (us-core-birthsex)' : `birth sex ${quoted(code)} (only F and M are used)`
  const genderWords = gender === undefined ? 'no administrative gender' : `administrative gender ${quoted(gender)} (other and unknown are never guessed)`
  ctx.gap(path, `${birthSexWords} and ${genderWords}`)
}
