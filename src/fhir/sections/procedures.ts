import type { SPINE_SURGERY_TYPES, BRAIN_RT_TECHNIQUES } from '../../schemas/case.js'
import { bodySitesOf, namesNonSpineBone, nonSpineSiteOf, regionOfLevel, spineLevelsIn, spineRegionsOf, type SpineRegion } from '../anatomy.js'
import { MCODE_RT_EXTENSIONS, PROCEDURE_CODES } from '../codes.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import {
  asArray, calendarDate, hasCode, isObject, latest, matchConcept, readQuantity, resourceDate, SNOMED, statusUsable, wordsOf,
  type CodeRow, type Dated
} from '../read.js'
import type { FhirResource, SourceEntry } from '../types.js'

/**
 * §6.7 Procedures: radiotherapy → `priorRt` of the lesion at its bodySite (or `disease.brain.priorRt`),
 * spine surgery at a level → `spineLesions[i].surgery`, breast surgery → ctx.state.breastSurgeries
 * (derived.ts sets `disease.primaryIntact`). Lesions come from the Conditions (conditions.ts runs first).
 */

type SurgeryType = typeof SPINE_SURGERY_TYPES[number]
type BrainTechnique = typeof BRAIN_RT_TECHNIQUES[number]
type ProcedureKind = 'radiotherapy' | 'breastSurgery'

const RT_TEXT = /radiotherap|radiation|irradiat|SBRT|SABR|stereotactic/i
const BREAST_SURGERY_TEXT = /mastectomy|lumpectomy|breast-conserving|quadrantectomy/i
/** A breast site: the word in a bodySite or in the procedure's own words (a mastectomy names the breast). */
const BREAST_SITE = /breast|mastectomy/i
const SBRT_TEXT = /stereotactic|SBRT|SABR/i
const BRAIN_SITE = /brain|cerebr|cranial/i
const SURGERY_TYPES: ReadonlyArray<readonly [SurgeryType, RegExp]> = [
  ['decompression', /laminectomy|decompress/i],
  ['stabilisation', /fusion|stabili[sz]|fixation|instrumentation/i],
  ['augmentation', /vertebroplasty|kyphoplasty|augmentation/i]
]

const PROCEDURE_ROWS: ReadonlyArray<CodeRow<ProcedureKind>> = [
  { value: 'radiotherapy', codes: PROCEDURE_CODES.radiotherapy.map((code) => [SNOMED, code] as const), text: RT_TEXT },
  { value: 'breastSurgery', codes: PROCEDURE_CODES.breastSurgery.map((code) => [SNOMED, code] as const), text: BREAST_SURGERY_TEXT }
]

const DOSE_UNITS = { cGy: (value: number) => value / 100, Gy: (value: number) => value }

interface Usable { resource: FhirResource, ref: string, date?: string }

export function mapProcedures (ctx: MappingContext): void {
  const book = new CourseBook()
  for (const resource of ctx.ofType('Procedure')) {
    const ref = refOf(resource)
    const match = matchConcept(ctx, resource.code, PROCEDURE_ROWS, ref)
    const surgical = match === undefined && isSurgical(resource)
    if (match === undefined && !surgical) continue
    const procedure = usableProcedure(ctx, resource)
    if (procedure === undefined) continue
    if (match?.value === 'radiotherapy') radiotherapy(ctx, procedure, book)
    else if (match?.value === 'breastSurgery') breastSurgery(ctx, procedure, match.byText)
    else spineSurgery(ctx, procedure, book)
  }
  book.write(ctx)
}

/** §6.1 rules 3 and 4: status, and no Procedure dated (its start) after evaluationDate. */
function usableProcedure (ctx: MappingContext, resource: FhirResource): Usable | undefined {
  if (!statusUsable(ctx, resource)) return undefined
  const ref = refOf(resource)
  const start = resourceDate(ctx, resource)
  if (start !== undefined && start > ctx.evaluationDate) {
    ctx.warn('FHIR_FUTURE_DATED', `${ref}: dated after the evaluation date; not used.`)
    return undefined
  }
  return { resource, ref, ...(start === undefined ? {} : { date: start }) }
}

/** §6.7 date of a course: performedPeriod.end (cut to evaluationDate), else performedDateTime, else performedPeriod.start. */
function courseDate (ctx: MappingContext, procedure: Usable): string | undefined {
  const period = procedure.resource.performedPeriod
  const end = isObject(period) ? calendarDate(ctx, period.end, procedure.ref) : undefined
  if (end !== undefined) return end > ctx.evaluationDate ? ctx.evaluationDate : end
  return procedure.date
}

/* ------------------------------------------------------------- radiotherapy */

interface Course { doseGy?: number, fractions?: number, sbrt: boolean, words: string[], date?: string }

function extensionsOf (element: Record<string, unknown>, url: string): Array<Record<string, unknown>> {
  return asArray(element.extension).filter(isObject).filter((extension) => extension.url === url)
}

const integerValue = (extension: Record<string, unknown> | undefined): number | undefined => {
  const value = extension?.valueUnsignedInt ?? extension?.valuePositiveInt ?? extension?.valueInteger
  return typeof value === 'number' ? value : undefined
}

/**
 * §6.7 dose, fractions and technique of a course. doseGy: the largest `totalDoseDelivered` over the
 * `mcode-radiotherapy-dose-delivered-to-volume` extensions (cGy ÷ 100, or Gy); fractions: that
 * volume's `fractionsDelivered`, else `mcode-radiotherapy-sessions`. An unknown dose unit makes the
 * dose unusable (FHIR_UNIT_UNKNOWN).
 */
function readCourse (ctx: MappingContext, procedure: Usable): Course {
  const resource = procedure.resource
  const volumes = extensionsOf(resource, MCODE_RT_EXTENSIONS.doseDeliveredToVolume).flatMap((volume) => {
    const dose = readQuantity(extensionsOf(volume, 'totalDoseDelivered')[0]?.valueQuantity, DOSE_UNITS)
    if (dose === 'unknown-unit') {
      ctx.warn('FHIR_UNIT_UNKNOWN', `${procedure.ref}: a radiotherapy dose in an unknown unit was not used.`)
      return []
    }
    return dose === undefined ? [] : [{ doseGy: dose.value, fractions: integerValue(extensionsOf(volume, 'fractionsDelivered')[0]) }]
  }).sort((a, b) => b.doseGy - a.doseGy)
  const largest = volumes[0]
  // Without any volume dose, a volume's fraction count still counts (there is no largest volume to prefer).
  const anyVolumeFractions = extensionsOf(resource, MCODE_RT_EXTENSIONS.doseDeliveredToVolume).map((volume) => integerValue(extensionsOf(volume, 'fractionsDelivered')[0])).find((value) => value !== undefined)
  const fractions = (largest === undefined ? anyVolumeFractions : largest.fractions) ?? integerValue(extensionsOf(resource, MCODE_RT_EXTENSIONS.sessions)[0])
  const techniqueWords = extensionsOf(resource, MCODE_RT_EXTENSIONS.modalityAndTechnique).flatMap((extension) => [
    ...wordsOf(extension.valueCodeableConcept),
    ...asArray(extension.extension).filter(isObject).flatMap((part) => wordsOf(part.valueCodeableConcept))
  ])
  const words = [...wordsOf(resource.code), ...techniqueWords]
  const date = courseDate(ctx, procedure)
  return {
    ...(largest === undefined ? {} : { doseGy: largest.doseGy }),
    ...(fractions === undefined ? {} : { fractions }),
    sbrt: words.some((word) => SBRT_TEXT.test(word)),
    words,
    ...(date === undefined ? {} : { date })
  }
}

const describeDate = (date: string | undefined): string => date === undefined ? 'on an unknown date' : `on ${date}`

/** Where an RT course or a surgery lands: spine lesions by index, non-spine lesions by index. */
interface Target { path: string, label: string }

function radiotherapy (ctx: MappingContext, procedure: Usable, book: CourseBook): void {
  const bodySites = bodySitesOf(procedure.resource)
  const course = readCourse(ctx, procedure)
  if (bodySites.some((bodySite) => wordsOf(bodySite).some((word) => BRAIN_SITE.test(word)))) {
    brainRadiotherapy(ctx, procedure, course, bodySites, book)
    return
  }
  if (bodySites.length === 0) {
    ctx.warn('FHIR_RT_SITE_WITHOUT_LESION', `${procedure.ref}: radiotherapy without a body site; not attributed to a lesion.`)
    return
  }
  const targets: Target[] = []
  // A bone target that found no lesion to attribute the course to (not even as a gap): FHIR_RT_SITE_WITHOUT_LESION.
  let unattributed = false
  for (const bodySite of bodySites) {
    const levels = spineLevelsIn(wordsOf(bodySite))
    if (levels.length > 0) {
      const found = levels.flatMap((level) => {
        const index = spineIndex(ctx, level)
        return index === undefined ? [] : [{ path: `disease.spineLesions[${index}]`, label: level }]
      })
      targets.push(...found)
      unattributed ||= found.length === 0
      continue
    }
    const regions = spineRegionsOf(bodySite)
    if (regions !== undefined) {
      unattributed ||= !regionWithoutLevel(ctx, procedure, course, regions)
      continue
    }
    if (namesNonSpineBone(bodySite)) {
      const target = nonSpineTarget(ctx, procedure, nonSpineSiteOf(bodySite))
      if (target !== undefined && target !== 'ambiguous') targets.push(target)
      unattributed ||= target === undefined
    }
    // Any other site (breast, chest wall, nodes): not a bone lesion of this Case; nothing to attribute.
  }
  if (targets.length === 0) {
    if (unattributed) ctx.warn('FHIR_RT_SITE_WITHOUT_LESION', `${procedure.ref}: radiotherapy to a bone site where no lesion is recorded; not used.`)
    return
  }
  const missing = [...(course.doseGy === undefined ? ['dose'] : []), ...(course.fractions === undefined ? ['fractions'] : [])]
  if (missing.length > 0) {
    ctx.warn('FHIR_PRIOR_RT_INCOMPLETE', `${procedure.ref}: radiotherapy without ${missing.join(' or ')}; not recorded as prior radiotherapy.`)
    for (const target of targets) ctx.gap(`${target.path}.priorRt`, `radiotherapy ${describeDate(course.date)} without ${missing.join('/')} (${procedure.ref})`)
    return
  }
  const doseGy = course.doseGy as number
  const fractions = course.fractions as number
  if (doseGy <= 0 || doseGy > 200 || !Number.isInteger(fractions) || fractions < 1 || fractions > 100) {
    ctx.warn('FHIR_VALUE_OUT_OF_RANGE', `${procedure.ref}: radiotherapy of ${doseGy} Gy in ${fractions} fractions is out of range; not used.`)
    for (const target of targets) ctx.gap(`${target.path}.priorRt`, `radiotherapy ${describeDate(course.date)} with a dose or fraction count out of range (${procedure.ref})`)
    return
  }
  const technique = course.sbrt ? 'sbrt' : 'conventional'
  const priorRt = { doseGy, fractions, technique, ...(course.date === undefined ? {} : { date: course.date }) } as const
  for (const target of targets) book.add(`${target.path}.priorRt`, { value: priorRt, resource: procedure.resource, date: course.date, display: `${doseGy} Gy in ${fractions} fraction${fractions === 1 ? '' : 's'}, ${technique === 'sbrt' ? 'SBRT' : 'conventional'}` })
}

function spineIndex (ctx: MappingContext, level: string): number | undefined {
  const index = (ctx.draft.disease?.spineLesions ?? []).findIndex((lesion) => lesion.level === level)
  return index < 0 ? undefined : index
}

/**
 * §6.7 [D]: RT to a vertebral region without a level leaves the priorRt of every spine lesion in that
 * region as a gap. Returns whether any lesion lies in the region.
 */
function regionWithoutLevel (ctx: MappingContext, procedure: Usable, course: Course, regions: SpineRegion[]): boolean {
  ctx.warn('FHIR_PRIOR_RT_LEVEL_UNKNOWN', `${procedure.ref}: radiotherapy to the ${regions.length === 4 ? '' : `${regions.join('/')} `}spine without a vertebral level.`)
  const lesions = (ctx.draft.disease?.spineLesions ?? []).flatMap((lesion, index) =>
    lesion.level !== undefined && regions.includes(regionOfLevel(lesion.level)) ? [index] : [])
  for (const index of lesions) {
    ctx.gap(`disease.spineLesions[${index}].priorRt`, `radiotherapy ${describeDate(course.date)} to the ${regions.length === 4 ? '' : `${regions.join('/')} `}spine without a level; it may have included this level (${procedure.ref})`)
  }
  return lesions.length > 0
}

/**
 * The non-spine lesion of the RT's skeletal site. Several lesions of that site: the Condition the
 * Procedure names in `reasonReference` decides; otherwise the course is not attributed (a gap on each).
 */
function nonSpineTarget (ctx: MappingContext, procedure: Usable, site: string): Target | 'ambiguous' | undefined {
  const lesions = (ctx.draft.disease?.nonSpineBoneLesions ?? []).flatMap((lesion, index) => lesion.site === site ? [index] : [])
  if (lesions.length <= 1) return lesions[0] === undefined ? undefined : { path: `disease.nonSpineBoneLesions[${lesions[0]}]`, label: site }
  const reasons = asArray(procedure.resource.reasonReference).filter(isObject).flatMap((reference) => {
    const condition = typeof reference.reference === 'string' ? ctx.resolve(reference.reference, procedure.resource) : undefined
    return condition === undefined ? [] : ctx.state.lesionsByCondition.get(refOf(condition)) ?? []
  }).flatMap((lesion) => lesion.kind === 'nonSpine' && lesions.includes(lesion.index) ? [lesion.index] : [])
  const chosen = [...new Set(reasons)]
  if (chosen.length === 1) return { path: `disease.nonSpineBoneLesions[${chosen[0] as number}]`, label: site }
  ctx.warn('FHIR_RT_SITE_WITHOUT_LESION', `${procedure.ref}: radiotherapy to the ${site}, where several lesions are recorded; not attributed to one.`)
  for (const index of lesions) ctx.gap(`disease.nonSpineBoneLesions[${index}].priorRt`, `radiotherapy to the ${site} not attributed to one of its lesions (${procedure.ref})`)
  return 'ambiguous'
}

/**
 * §6.7 [D] brain radiotherapy → disease.brain.priorRt, only when a brain site exists: `wbrt` for
 * whole brain / WBRT; `srs` for radiosurgery / SRS / stereotactic in 1 fraction, `fractionated_srs`
 * in 2–5; anything else is incomplete.
 */
function brainRadiotherapy (ctx: MappingContext, procedure: Usable, course: Course, bodySites: unknown[], book: CourseBook): void {
  if (ctx.draft.disease?.metastaticSites?.includes('brain') !== true) {
    ctx.warn('FHIR_RT_SITE_WITHOUT_LESION', `${procedure.ref}: brain radiotherapy without brain metastases recorded; not used.`)
    return
  }
  const words = [...course.words, ...bodySites.flatMap(wordsOf)]
  let technique: BrainTechnique | undefined
  if (words.some((word) => /whole brain|WBRT/i.test(word))) technique = 'wbrt'
  else if (words.some((word) => /radiosurg|SRS|stereotactic/i.test(word))) {
    if (course.fractions === 1) technique = 'srs'
    else if (course.fractions !== undefined && course.fractions >= 2 && course.fractions <= 5) technique = 'fractionated_srs'
  }
  if (technique === undefined) {
    ctx.warn('FHIR_PRIOR_RT_INCOMPLETE', `${procedure.ref}: brain radiotherapy whose technique (whole brain, or radiosurgery in 1–5 fractions) is not stated; not recorded.`)
    ctx.gap('disease.brain.priorRt', `brain radiotherapy ${describeDate(course.date)} without a recognisable technique (${procedure.ref})`)
    return
  }
  const display = technique === 'wbrt' ? 'whole-brain radiotherapy' : technique === 'srs' ? 'radiosurgery, 1 fraction' : `fractionated radiosurgery, ${course.fractions as number} fractions`
  book.add('disease.brain.priorRt', { value: { technique, ...(course.date === undefined ? {} : { date: course.date }) }, resource: procedure.resource, date: course.date, display })
}

/* ---------------------------------------------------------------- surgery */

/** §6.8a spine surgery needs a surgical procedure code (387713003 seed) or, by text, a named operation of §6.7. */
function isSurgical (resource: FhirResource): boolean {
  return PROCEDURE_CODES.surgicalProcedure.some((code) => hasCode(resource.code, SNOMED, code)) || surgeryTypeOf(resource) !== undefined
}

function surgeryTypeOf (resource: FhirResource): SurgeryType | undefined {
  const words = wordsOf(resource.code)
  return SURGERY_TYPES.find(([, pattern]) => words.some((word) => pattern.test(word)))?.[0]
}

/**
 * §6.7 spine surgery: at a level (bodySite) → spineLesions[i].surgery { type by text, date }.
 * A spine surgery without a level (a vertebral region, or a named spine operation without bodySite):
 * FHIR_SURGERY_LEVEL_UNKNOWN. Surgery elsewhere (a femur fixation) is not spine surgery.
 */
function spineSurgery (ctx: MappingContext, procedure: Usable, book: CourseBook): void {
  const resource = procedure.resource
  const byCode = PROCEDURE_CODES.surgicalProcedure.some((code) => hasCode(resource.code, SNOMED, code))
  const type = surgeryTypeOf(resource)
  const bodySites = bodySitesOf(resource)
  const levels = bodySites.flatMap((bodySite) => spineLevelsIn(wordsOf(bodySite)))
  const spine = levels.length > 0 || bodySites.some((bodySite) => spineRegionsOf(bodySite) !== undefined) || (bodySites.length === 0 && type !== undefined)
  if (!spine) return
  if (!byCode) ctx.warn('FHIR_MATCHED_BY_TEXT', `${procedure.ref}: recognised by its text, not by a known code.`)
  if (levels.length === 0) {
    const message = `${procedure.ref}: spine surgery without a vertebral level; not attributed to a lesion.`
    ctx.warn('FHIR_SURGERY_LEVEL_UNKNOWN', message)
    ctx.gap('disease.spineLesions', message)
    return
  }
  for (const level of [...new Set(levels)]) {
    const index = spineIndex(ctx, level)
    if (index === undefined) {
      ctx.gap('disease.spineLesions', `spine surgery at ${level} where no spine lesion is recorded (${procedure.ref})`)
      continue
    }
    const path = `disease.spineLesions[${index}].surgery`
    if (type === undefined) {
      ctx.gap(path, `spine surgery at ${level} whose type (decompression, stabilisation, augmentation) is not stated (${procedure.ref})`)
      continue
    }
    book.add(path, { value: { type, ...(procedure.date === undefined ? {} : { date: procedure.date }) }, resource, date: procedure.date, display: type })
  }
}

/** §6.7 breast surgery (392021009, or a named operation with a breast site) → ctx.state.breastSurgeries. */
function breastSurgery (ctx: MappingContext, procedure: Usable, byText: boolean): void {
  const words = [...wordsOf(procedure.resource.code), ...bodySitesOf(procedure.resource).flatMap(wordsOf)]
  if (byText && !words.some((word) => BREAST_SITE.test(word))) return
  const display = wordsOf(procedure.resource.code)[0] ?? 'breast surgery'
  const surgeries = ctx.state.breastSurgeries ??= []
  surgeries.push({ ref: procedure.ref, display, ...(procedure.date === undefined ? {} : { date: procedure.date }) })
}

/* ------------------------------------------------------------- the latest */

interface Candidate { value: Record<string, unknown>, resource: FhirResource, date: string | undefined, display: string }

/** Per Case path, the courses and surgeries found; the latest wins (§6.7 "several courses to one lesion: the latest"). */
class CourseBook {
  private readonly byPath = new Map<string, Candidate[]>()

  add (path: string, candidate: Candidate): void {
    this.byPath.set(path, [...(this.byPath.get(path) ?? []), candidate])
  }

  write (ctx: MappingContext): void {
    for (const [path, candidates] of this.byPath) {
      const chosen = latest(ctx, candidates.map((candidate): Dated<Candidate> => ({ item: candidate, resource: candidate.resource, date: candidate.date })), LABELS[labelKey(path)].what,
        (a, b) => JSON.stringify(a.value) === JSON.stringify(b.value)) as Dated<Candidate>
      setAt(ctx, path, chosen.item.value)
      const source: SourceEntry = {
        label: LABELS[labelKey(path)].label,
        display: chosen.date === undefined ? chosen.item.display : `${chosen.item.display} (${chosen.date})`,
        refs: [refOf(chosen.resource)],
        ...(chosen.date === undefined ? {} : { date: chosen.date })
      }
      ctx.source(path, source)
    }
  }
}

const LABELS = {
  priorRt: { label: 'Radiotherapy already given to the lesion', what: 'radiotherapy of a lesion' },
  surgery: { label: 'Spinal surgery already done at the level', what: 'spine surgery at a level' },
  brain: { label: 'Technique of the latest brain radiotherapy', what: 'brain radiotherapy' }
} as const

const labelKey = (path: string): keyof typeof LABELS => path === 'disease.brain.priorRt' ? 'brain' : path.endsWith('.surgery') ? 'surgery' : 'priorRt'

/** Writes a value at a dotted path with indices (`disease.spineLesions[0].priorRt`) into the draft. */
function setAt (ctx: MappingContext, path: string, value: unknown): void {
  const keys = path.split('.').flatMap((part) => {
    const match = /^(\w+)\[(\d+)\]$/.exec(part)
    return match === null ? [part] : [match[1] as string, Number(match[2])]
  })
  let node = ctx.draft as Record<string | number, unknown>
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {}
    node = node[key] as Record<string | number, unknown>
  }
  node[keys[keys.length - 1] as string | number] = value
}
