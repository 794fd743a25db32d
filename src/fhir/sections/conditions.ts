import { METASTATIC_SITES } from '../../schemas/case.js'
import type { SpineLevel } from '../../schemas/common.js'
import { bodySitesOf, nonSpineSiteOf, sideOf, sideOfResource, spineLevelsIn, spineRegionsOf, type NonSpineSite, type Side } from '../anatomy.js'
import {
  GENERIC_SECONDARY_CODES, ICD10CM_BREAST_SIDE, METASTATIC_SITE_CODES, NODE_GROUP_CODES, PRIMARY_BREAST_CANCER_CODES,
  SECONDARY_ICD10_PREFIXES
} from '../codes.js'
import { SYSTEMS } from '../constants.js'
import { MappingContext, refOf, type LesionRef } from '../mapping-context.js'
import { codingsOf, matchConcept, resourceDate, SNOMED, statusUsable, wordsOf, type CodeRow, type Coding } from '../read.js'
import type { FhirResource } from '../types.js'

/**
 * §6.3 Conditions: the primary breast cancer (its date and side), the metastatic sites (regional vs
 * distant nodes), the bone lesions (spine levels, other skeletal sites) and
 * disease.metastaticDiagnosisDate. Writes ctx.state.primaryConditions / primaryDate / primarySide /
 * metastaticConditions / lesionsByCondition / siteConditions for the sections after it.
 */

type MetastaticSite = typeof METASTATIC_SITES[number]
/** What a Condition's code says: the primary, or a secondary of one site row of §6.3. */
type SiteKind = keyof typeof METASTATIC_SITE_CODES
type ConditionKind = 'primary' | SiteKind
type BodySite = Record<string, unknown>

/* ------------------------------------------------------------------ codes */

/** ICD-10 codes compared without their dot (`C79.51` = `C7951`). */
const normaliseIcd = (code: string): string => code.toUpperCase().replace('.', '')
const isIcd10 = (system: string): boolean => system === SYSTEMS.icd10 || system === SYSTEMS.icd10cm
const icdOf = (coding: Coding): string | undefined =>
  coding.system !== undefined && coding.code !== undefined && isIcd10(coding.system) ? normaliseIcd(coding.code) : undefined
const inIcdList = (list: readonly string[], code: string): boolean => list.some((entry) => normaliseIcd(entry) === code)
const hasIcdPrefix = (prefixes: readonly string[], code: string): boolean => prefixes.some((prefix) => code.startsWith(normaliseIcd(prefix)))
const snomedPairs = (codes: readonly string[]): Array<readonly [string, string]> => codes.map((code) => [SNOMED, code] as const)
const icdMatcher = (test: (code: string) => boolean) => (system: string, code: string): boolean => isIcd10(system) && test(normaliseIcd(code))

/* ------------------------------------------------------------------ words */

// §6.3 text column. A site's words name the site of a secondary; a Condition's own text counts only
// with a secondary word as well ("Osteoarthritis of spine" or "Fatty liver" is no metastasis).
const SITE_WORDS: Readonly<Record<Exclude<SiteKind, 'other'>, RegExp>> = {
  leptomeningeal: /leptomening|meninge/i,
  brain: /brain|cerebral|cerebellar/i,
  bone: /bone|osseous|skeletal|vertebra|spine|spinal/i,
  liver: /liver|hepatic/i,
  lung: /lung|pulmonary/i,
  pleura: /pleura/i,
  skin_soft_tissue: /skin|cutaneous|soft tissue/i,
  nodes: /lymph node|nodal|axilla/i
}
const SECONDARY_WORDS = /secondary|metasta/i
const PRIMARY_TEXT = /^(?![\s\S]*(?:secondary|metasta))(?=[\s\S]*breast)(?=[\s\S]*(?:cancer|carcinoma|malignan|neoplasm))/i
const secondaryText = (site: RegExp): RegExp => new RegExp(`^(?=[\\s\\S]*(?:${SECONDARY_WORDS.source}))(?=[\\s\\S]*(?:${site.source}))`, 'i')

/** The specific site rows in matching order (leptomeningeal before brain: "cerebral meninges"). */
const SPECIFIC_SITES = ['leptomeningeal', 'brain', 'bone', 'liver', 'lung', 'pleura', 'skin_soft_tissue', 'nodes'] as const

function siteCodes (site: typeof SPECIFIC_SITES[number]): Pick<CodeRow<SiteKind>, 'codes' | 'codeMatches'> {
  const codes = METASTATIC_SITE_CODES[site]
  return {
    codes: snomedPairs(codes.snomed),
    codeMatches: site === 'nodes'
      ? icdMatcher((code) => hasIcdPrefix(SECONDARY_ICD10_PREFIXES.nodes, code))
      : icdMatcher((code) => inIcdList(codes.icd10, code))
  }
}

/** §6.3 classification table of a Condition's code: primary, each site, then `other` (generic secondaries included). */
const CONDITION_ROWS: ReadonlyArray<CodeRow<ConditionKind>> = [
  {
    value: 'primary',
    codes: snomedPairs(PRIMARY_BREAST_CANCER_CODES.snomed),
    codeMatches: icdMatcher((code) => code.startsWith(PRIMARY_BREAST_CANCER_CODES.icd10Prefix)),
    text: PRIMARY_TEXT
  },
  ...SPECIFIC_SITES.map((site) => ({ value: site, ...siteCodes(site), text: secondaryText(SITE_WORDS[site]) })),
  {
    value: 'other',
    codes: snomedPairs([...METASTATIC_SITE_CODES.other.snomed, ...GENERIC_SECONDARY_CODES.snomed]),
    codeMatches: icdMatcher((code) => hasIcdPrefix(SECONDARY_ICD10_PREFIXES.other, code)),
    text: SECONDARY_WORDS
  }
]

/** A bodySite names a site by the codes of §6.3 or by the text column alone (no secondary word needed). */
function siteOfBodySite (bodySite: unknown): Exclude<SiteKind, 'other'> | undefined {
  const codings = codingsOf(bodySite)
  const byCode = SPECIFIC_SITES.find((site) => {
    const { codes, codeMatches } = siteCodes(site)
    return codings.some((coding) => coding.system !== undefined && coding.code !== undefined &&
      (codes.some(([system, code]) => system === coding.system && code === coding.code) || codeMatches?.(coding.system, coding.code) === true))
  })
  if (byCode !== undefined) return byCode
  const words = wordsOf(bodySite)
  return SPECIFIC_SITES.find((site) => words.some((word) => SITE_WORDS[site].test(word)))
}

/** A secondary whose code names no site (§6.3): 128462008, C79.8x, C79.9, or a Condition recognised by text as `other`. */
function isGenericSecondary (resource: FhirResource, byText: boolean): boolean {
  if (byText) return true
  return codingsOf(resource.code).some((coding) => {
    if (coding.system === SNOMED) return (GENERIC_SECONDARY_CODES.snomed as readonly unknown[]).includes(coding.code)
    const icd = icdOf(coding)
    return icd !== undefined && inIcdList(GENERIC_SECONDARY_CODES.icd10, icd)
  })
}

/* ------------------------------------------------------------- the section */

interface UsableCondition { resource: FhirResource, ref: string, kind: ConditionKind, byText: boolean, date?: string }

export function mapConditions (ctx: MappingContext): void {
  const usable = ctx.ofType('Condition').flatMap((resource) => usableCondition(ctx, resource))
  mapPrimary(ctx, usable.filter((condition) => condition.kind === 'primary'))
  const sites = new Map<MetastaticSite, UsableCondition[]>()
  const lesions = new LesionBook()
  for (const condition of usable) {
    if (condition.kind === 'primary') continue
    const counted = sitesOfCondition(ctx, condition, lesions)
    for (const site of counted) sites.set(site, [...(sites.get(site) ?? []), condition])
    if (counted.length > 0) ctx.state.metastaticConditions.push(condition.resource)
  }
  writeSites(ctx, sites)
  lesions.write(ctx)
  writeMetastaticDate(ctx, [...new Set([...sites.values()].flat())])
}

/**
 * §6.1 rule 3 and 4 for a Condition that §6.3 classifies: unconfirmed → warning and a gap on the field
 * it would have fed; refuted / entered-in-error → dropped; dated after evaluationDate → dropped.
 * Conditions that are neither the primary nor a secondary are left alone (no warning).
 */
function usableCondition (ctx: MappingContext, resource: FhirResource): UsableCondition[] {
  const ref = refOf(resource)
  const quiet = new MappingContext([], ctx.options, ctx.resolve)
  const kind = matchConcept(quiet, resource.code, CONDITION_ROWS, ref)?.value
  if (kind === undefined) return []
  if (!statusUsable(ctx, resource)) {
    const status = codingsOf(resource.verificationStatus).map((coding) => coding.code).find((code) => code === 'unconfirmed' || code === 'provisional' || code === 'differential')
    if (status !== undefined) {
      for (const path of fieldsFedBy(kind, resource)) ctx.gap(path, `${ref}: ${status} diagnosis, not used`)
    }
    return []
  }
  const date = resourceDate(ctx, resource)
  if (date !== undefined && date > ctx.evaluationDate) {
    ctx.warn('FHIR_FUTURE_DATED', `${ref}: dated after the evaluation date; not used.`)
    return []
  }
  const match = matchConcept(ctx, resource.code, CONDITION_ROWS, ref) as { value: ConditionKind, byText: boolean }
  return [{ resource, ref, kind: match.value, byText: match.byText, ...(date === undefined ? {} : { date }) }]
}

/** The Case fields an unconfirmed Condition would have fed. */
function fieldsFedBy (kind: ConditionKind, resource: FhirResource): string[] {
  if (kind === 'primary') return ['disease.presentation']
  if (kind !== 'bone') return ['disease.metastaticSites']
  const lesionFields = bodySitesOf(resource).map((bodySite) =>
    spineLevelsIn(wordsOf(bodySite)).length > 0 || spineRegionsOf(bodySite) !== undefined ? 'disease.spineLesions' : 'disease.nonSpineBoneLesions')
  return ['disease.metastaticSites', ...new Set(lesionFields)]
}

/* ------------------------------------------------------------------ primary */

function mapPrimary (ctx: MappingContext, primaries: UsableCondition[]): void {
  ctx.state.primaryConditions.push(...primaries.map((primary) => primary.resource))
  const dates = primaries.flatMap((primary) => primary.date === undefined ? [] : [primary.date]).sort()
  if (dates[0] !== undefined) ctx.state.primaryDate = dates[0]
  const sides = new Set(primaries.flatMap((primary) => {
    const side = sideOfResource(primary.resource) ?? icd10cmSide(primary.resource)
    return side === undefined ? [] : [side]
  }))
  // Two primaries of different sides (bilateral cancer): the side relative to "the primary" is unknown.
  if (sides.size === 1) ctx.state.primarySide = [...sides][0] as Side
}

/** §6.3 "the primary's side also from ICD-10-CM C50.x1x (right) or C50.x2x (left)" — see ICD10CM_BREAST_SIDE. */
function icd10cmSide (resource: FhirResource): Side | undefined {
  for (const coding of codingsOf(resource.code)) {
    if (coding.system !== SYSTEMS.icd10cm || coding.code === undefined) continue
    const code = normaliseIcd(coding.code)
    if (!code.startsWith(PRIMARY_BREAST_CANCER_CODES.icd10Prefix)) continue
    const digit = code[ICD10CM_BREAST_SIDE.index]
    if (digit === ICD10CM_BREAST_SIDE.right) return 'right'
    if (digit === ICD10CM_BREAST_SIDE.left) return 'left'
  }
  return undefined
}

/* ------------------------------------------------------------------ sites */

/**
 * The metastatic sites one usable secondary counts for (§6.3), with its lesions. A generic secondary
 * takes its site from each bodySite (unrecognised → `other`, FHIR_SITE_UNRECOGNISED; none → `other`).
 */
function sitesOfCondition (ctx: MappingContext, condition: UsableCondition, lesions: LesionBook): MetastaticSite[] {
  const kind = condition.kind as SiteKind
  const bodySites = bodySitesOf(condition.resource)
  const parts: Array<{ kind: SiteKind, bodySites: BodySite[], fromBodySite: boolean }> = []
  if (kind === 'other' && isGenericSecondary(condition.resource, condition.byText) && bodySites.length > 0) {
    for (const bodySite of bodySites) {
      const recognised = siteOfBodySite(bodySite)
      if (recognised === undefined) {
        ctx.warn('FHIR_SITE_UNRECOGNISED', `${condition.ref}: the body site of a secondary malignancy was not recognised; counted as "other".`)
      }
      const site = recognised ?? 'other'
      const part = parts.find((candidate) => candidate.kind === site)
      if (part === undefined) parts.push({ kind: site, bodySites: [bodySite], fromBodySite: true })
      else part.bodySites.push(bodySite)
    }
  } else {
    parts.push({ kind, bodySites, fromBodySite: false })
  }
  const counted: MetastaticSite[] = []
  for (const part of parts) {
    if (part.kind === 'nodes') {
      if (nodesAreDistant(ctx, condition, part.bodySites, part.fromBodySite)) counted.push('distant_nodes')
      continue
    }
    if (part.kind === 'bone') lesions.add(ctx, condition, part.bodySites)
    counted.push(part.kind)
  }
  return [...new Set(counted)]
}

// §6.3 node groups [D]: AJCC 8th regional groups, and the other groups named by the table.
const REGIONAL_GROUP_WORDS = /axilla|infraclavicular|internal mammary|supraclavicular/i
const DISTANT_GROUP_WORDS = /cervical|mediastin|intra-?abdominal|inguinal|pelvic/i

/**
 * §6.3 regional vs distant nodes [D]. The group comes from the code (94181007 / C77.3 axillary;
 * C77.2, C77.4, C77.5 distant) or from words (bodySite; the Condition's own words when no C77 code
 * names it). A regional group counts as `distant_nodes` only on the side opposite the primary; an
 * unknown side or group is not counted (FHIR_NODE_LATERALITY_UNKNOWN, gap on metastaticSites).
 */
function nodesAreDistant (ctx: MappingContext, condition: UsableCondition, bodySites: BodySite[], fromBodySite: boolean): boolean {
  // A generic secondary whose bodySite names the nodes: that bodySite's codes name the group.
  const codings = fromBodySite ? bodySites.flatMap(codingsOf) : codingsOf(condition.resource.code)
  const icds = codings.flatMap((coding) => icdOf(coding) ?? [])
  const unknown = (why: string): false => {
    const message = `${condition.ref}: ${why}; not counted as a distant site.`
    ctx.warn('FHIR_NODE_LATERALITY_UNKNOWN', message)
    ctx.gap('disease.metastaticSites', message)
    return false
  }
  let group: 'regional' | 'distant' | undefined
  if (codings.some((coding) => coding.system === SNOMED && (NODE_GROUP_CODES.axillarySnomed as readonly unknown[]).includes(coding.code)) ||
    icds.some((icd) => inIcdList(NODE_GROUP_CODES.axillaryIcd10, icd))) group = 'regional'
  else if (icds.some((icd) => inIcdList(NODE_GROUP_CODES.distantIcd10, icd))) group = 'distant'
  else {
    const c77 = icds.some((icd) => inIcdList(NODE_GROUP_CODES.groupFromBodySiteIcd10, icd))
    const words = [...bodySites.flatMap(wordsOf), ...(c77 && !fromBodySite ? [] : wordsOf(condition.resource.code))]
    if (words.some((word) => DISTANT_GROUP_WORDS.test(word))) group = 'distant'
    else if (words.some((word) => REGIONAL_GROUP_WORDS.test(word))) group = 'regional'
  }
  if (group === 'distant') return true
  if (group === undefined) return unknown('lymph-node metastasis whose node group is not stated')
  const sides = new Set(bodySites.map(sideOf).filter((side) => side !== undefined))
  const side = sides.size === 1 ? [...sides][0] : undefined
  const primarySide = ctx.state.primarySide
  if (side === undefined || primarySide === undefined) return unknown('regional lymph-node metastasis whose side relative to the primary is unknown')
  return side !== primarySide
}

function siteWords (site: MetastaticSite): string {
  return site.replace(/_/g, ' ').replace('skin soft tissue', 'skin/soft tissue')
}

/** §6.9 disease.metastaticSites is always set (the list may be empty), in the enum order of the schema. */
function writeSites (ctx: MappingContext, sites: Map<MetastaticSite, UsableCondition[]>): void {
  const ordered = METASTATIC_SITES.filter((site) => sites.has(site))
  const entries = ordered.map((site) => [site, sites.get(site) as UsableCondition[]] as const)
  const disease = ctx.draft.disease ??= {}
  disease.metastaticSites = ordered
  ctx.state.siteConditions = Object.fromEntries(entries.map(([site, conditions]) => [site, conditions.map((condition) => condition.ref)]))
  const conditions = [...new Set(entries.flatMap(([, siteConditions]) => siteConditions))]
  const display = entries.length === 0
    ? 'no distant metastasis recorded'
    : entries.map(([site, siteConditions]) => {
      const date = earliest(siteConditions)
      return date === undefined ? siteWords(site) : `${siteWords(site)} (${date})`
    }).join(', ')
  const date = earliest(conditions)
  ctx.source('disease.metastaticSites', {
    label: 'Sites of distant metastasis',
    display,
    refs: conditions.map((condition) => condition.ref),
    ...(date === undefined ? {} : { date })
  })
}

function earliest (conditions: readonly UsableCondition[]): string | undefined {
  return conditions.flatMap((condition) => condition.date === undefined ? [] : [condition.date]).sort()[0]
}

/** §6.3 disease.metastaticDiagnosisDate: the earliest date of a Condition that counts as a metastatic site. */
function writeMetastaticDate (ctx: MappingContext, conditions: readonly UsableCondition[]): void {
  const date = earliest(conditions)
  if (date === undefined) return
  const disease = ctx.draft.disease ??= {}
  disease.metastaticDiagnosisDate = date
  ctx.source('disease.metastaticDiagnosisDate', {
    label: 'Date metastatic disease was diagnosed',
    display: `${date} (earliest recorded metastasis)`,
    refs: conditions.filter((condition) => condition.date === date).map((condition) => condition.ref),
    date
  })
}

/* ------------------------------------------------------------------ lesions */

interface LesionEntry { refs: string[], dates: string[] }

/**
 * The bone lesions of §6.3, collected over every bone Condition: one spine lesion per distinct level
 * (all its Conditions in `refs`), one non-spine lesion per skeletal site and bodySite wording (the
 * same words from two Conditions are one lesion; `left femur` and `right femur` are two).
 */
class LesionBook {
  private readonly spine = new Map<SpineLevel, LesionEntry>()
  private readonly nonSpine = new Map<string, LesionEntry & { site: NonSpineSite }>()
  private readonly byCondition = new Map<string, LesionRef[]>()

  add (ctx: MappingContext, condition: UsableCondition, bodySites: BodySite[]): void {
    if (bodySites.length === 0) {
      ctx.warn('FHIR_LESION_SITE_UNKNOWN', `${condition.ref}: bone metastasis without a body site; no lesion recorded.`)
      return
    }
    for (const bodySite of bodySites) {
      const levels = spineLevelsIn(wordsOf(bodySite))
      if (levels.length > 0) {
        for (const level of levels) this.note(this.spine, level, condition, { kind: 'spine', index: [...this.spine.keys(), level].indexOf(level) }, () => ({ refs: [], dates: [] }))
        continue
      }
      const regions = spineRegionsOf(bodySite)
      if (regions !== undefined) {
        const message = `${condition.ref}: bone metastasis in the ${regions.length === 4 ? '' : `${regions.join('/')} `}spine without a vertebral level; no spine lesion recorded.`
        ctx.warn('FHIR_SPINE_LEVEL_UNKNOWN', message)
        ctx.gap('disease.spineLesions', message)
        continue
      }
      const site = nonSpineSiteOf(bodySite)
      const key = `${site}|${wordsOf(bodySite).map((word) => word.trim().toLowerCase()).join('|')}`
      this.note(this.nonSpine, key, condition, { kind: 'nonSpine', index: [...this.nonSpine.keys(), key].indexOf(key) }, () => ({ refs: [], dates: [], site }))
    }
  }

  private note<K, E extends LesionEntry> (book: Map<K, E>, key: K, condition: UsableCondition, lesion: LesionRef, create: () => E): void {
    const entry = book.get(key) ?? create()
    book.set(key, entry)
    if (!entry.refs.includes(condition.ref)) entry.refs.push(condition.ref)
    if (condition.date !== undefined) entry.dates.push(condition.date)
    const refs = this.byCondition.get(condition.ref) ?? []
    if (!refs.some((known) => known.kind === lesion.kind && known.index === lesion.index)) refs.push(lesion)
    this.byCondition.set(condition.ref, refs)
  }

  write (ctx: MappingContext): void {
    for (const [ref, lesions] of this.byCondition) ctx.state.lesionsByCondition.set(ref, lesions)
    const disease = ctx.draft.disease ??= {}
    if (this.spine.size > 0) {
      disease.spineLesions = [...this.spine.keys()].map((level) => ({ level }))
      for (const [index, [level, entry]] of [...this.spine].entries()) {
        ctx.source(`disease.spineLesions[${index}].level`, lesionSource('Vertebral level of the lesion', level, entry))
      }
    }
    if (this.nonSpine.size > 0) {
      disease.nonSpineBoneLesions = [...this.nonSpine.values()].map((entry) => ({ site: entry.site }))
      for (const [index, entry] of [...this.nonSpine.values()].entries()) {
        ctx.source(`disease.nonSpineBoneLesions[${index}].site`, lesionSource('Skeletal site of the lesion', entry.site, entry))
      }
    }
  }
}

function lesionSource (label: string, value: string, entry: LesionEntry): { label: string, display: string, refs: string[], date?: string } {
  const date = [...entry.dates].sort()[0]
  return {
    label,
    display: date === undefined ? value : `${value} (${date})`,
    refs: entry.refs,
    ...(date === undefined ? {} : { date })
  }
}
