import type { EXTRACRANIAL_STATUSES, PRESENTATIONS } from '../../schemas/case.js'
import { DISEASE_STATUS_ANSWERS, LOINC_CODES } from '../codes.js'
import { refOf, type MappingContext } from '../mapping-context.js'
import { codingsOf, hasCode, latest, LOINC, resourceDate, SNOMED, statusUsable } from '../read.js'

/**
 * §6.8 the fields derived "unless a fact is given" [D]: disease.presentation, disease.primaryIntact,
 * disease.extracranialStatus and disease.brain.present. Each derived path goes into
 * ctx.state.derived, so that the facts section can override it (FHIR_FACT_OVERRIDES_DERIVED).
 * Runs after conditions, staging and procedures.
 */

type Presentation = typeof PRESENTATIONS[number]
type ExtracranialStatus = typeof EXTRACRANIAL_STATUSES[number]

/** §6.8 [D]: a metastasis within this many days of the primary's date is de novo. */
const DE_NOVO_WINDOW_DAYS = 90

export function deriveFields (ctx: MappingContext): void {
  derivePresentation(ctx)
  derivePrimaryIntact(ctx)
  deriveExtracranialStatus(ctx)
  deriveBrainPresent(ctx)
}

const PRESENTATION_WORDS: Readonly<Record<Presentation, string>> = {
  early: 'early',
  locally_advanced: 'locally advanced',
  de_novo_metastatic: 'de novo metastatic',
  recurrent_metastatic: 'recurrent metastatic'
}

function daysBetween (from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}

/** The refs of the Case paths a derivation read (their sources). */
function refsOf (ctx: MappingContext, paths: readonly string[], extra: readonly string[] = []): string[] {
  return [...new Set([...extra, ...paths.flatMap((path) => ctx.sources[path]?.refs ?? [])])]
}

/**
 * §6.8 [D] disease.presentation. Metastatic (a site, or ajcc.m M1): de_novo_metastatic when the
 * metastatic diagnosis is within 90 days of the primary's date, else recurrent_metastatic; dates
 * unknown → recurrent_metastatic with FHIR_PRESENTATION_ASSUMED. Not metastatic: the latest stage
 * group III → locally_advanced, else early; no stage group → early with FHIR_PRESENTATION_ASSUMED.
 */
function derivePresentation (ctx: MappingContext): void {
  const disease = ctx.draft.disease ??= {}
  const metastatic = (disease.metastaticSites ?? []).length > 0 || disease.ajcc?.m === 'M1'
  const primaryRefs = ctx.state.primaryConditions.map(refOf)
  let presentation: Presentation
  let why: string
  let refs: string[]
  if (metastatic) {
    const metastaticDate = disease.metastaticDiagnosisDate
    const primaryDate = ctx.state.primaryDate
    refs = refsOf(ctx, ['disease.metastaticSites', 'disease.ajcc.m', 'disease.metastaticDiagnosisDate'], primaryRefs)
    if (metastaticDate === undefined || primaryDate === undefined) {
      presentation = 'recurrent_metastatic'
      why = `date of the ${metastaticDate === undefined ? 'metastatic diagnosis' : 'primary diagnosis'} unknown: assumed recurrent`
      ctx.warn('FHIR_PRESENTATION_ASSUMED', `Metastatic disease without the ${metastaticDate === undefined ? 'date of the metastatic diagnosis' : "primary's diagnosis date"}: presentation assumed recurrent metastatic.`)
    } else {
      const days = Math.abs(daysBetween(primaryDate, metastaticDate))
      presentation = days <= DE_NOVO_WINDOW_DAYS ? 'de_novo_metastatic' : 'recurrent_metastatic'
      why = `metastatic diagnosis ${metastaticDate}, primary ${primaryDate}: ${days} days apart`
    }
  } else {
    const group = ctx.state.latestStageGroup
    refs = refsOf(ctx, [], [...primaryRefs, ...(group === undefined ? [] : [group.ref])])
    if (group === undefined) {
      presentation = 'early'
      why = 'no distant metastasis and no stage group recorded: assumed early'
      ctx.warn('FHIR_PRESENTATION_ASSUMED', 'No distant metastasis and no stage group: presentation assumed early.')
    } else {
      presentation = group.stage === 3 ? 'locally_advanced' : 'early'
      why = `no distant metastasis; stage group "${group.written}"${group.date === undefined ? '' : ` (${group.date})`}`
    }
  }
  disease.presentation = presentation
  ctx.state.derived.add('disease.presentation')
  ctx.source('disease.presentation', { label: 'Presentation of the disease', display: `${PRESENTATION_WORDS[presentation]} (${why})`, refs })
}

/** §6.8 [D] disease.primaryIntact: false after breast surgery; true when de novo metastatic without one; else absent. */
function derivePrimaryIntact (ctx: MappingContext): void {
  const disease = ctx.draft.disease ??= {}
  const surgeries = ctx.state.breastSurgeries ?? []
  if (surgeries.length > 0) {
    disease.primaryIntact = false
    // The first breast surgery (undated ones last) names the display.
    const first = [...surgeries].sort((a, b) => (a.date ?? '9999').localeCompare(b.date ?? '9999'))[0] as typeof surgeries[number]
    ctx.source('disease.primaryIntact', {
      label: 'Breast primary in place',
      display: `no (${first.display}${first.date === undefined ? '' : `, ${first.date}`})`,
      refs: surgeries.map((surgery) => surgery.ref),
      ...(first.date === undefined ? {} : { date: first.date })
    })
  } else if (disease.presentation === 'de_novo_metastatic') {
    disease.primaryIntact = true
    ctx.source('disease.primaryIntact', {
      label: 'Breast primary in place',
      display: 'yes (de novo metastatic, no breast surgery recorded)',
      refs: ctx.state.primaryConditions.map(refOf)
    })
  } else return
  ctx.state.derived.add('disease.primaryIntact')
}

const STATUS_BY_ANSWER: Readonly<Record<string, ExtracranialStatus>> = {
  [DISEASE_STATUS_ANSWERS.improved]: 'responding',
  [DISEASE_STATUS_ANSWERS.stable]: 'stable',
  [DISEASE_STATUS_ANSWERS.worsened]: 'progressing',
  [DISEASE_STATUS_ANSWERS.undetermined]: 'unknown'
}

function statusAnswer (value: unknown): ExtracranialStatus | undefined {
  const coding = codingsOf(value).find((candidate) => candidate.system === SNOMED && candidate.code !== undefined && STATUS_BY_ANSWER[candidate.code] !== undefined)
  return coding === undefined ? undefined : STATUS_BY_ANSWER[coding.code as string]
}

/**
 * §6.8 [D] disease.extracranialStatus from the latest disease-status Observation (97509-4), only
 * without a brain or leptomeningeal site (the status then describes the CNS disease too).
 */
function deriveExtracranialStatus (ctx: MappingContext): void {
  const observations = ctx.ofType('Observation').filter((observation) =>
    LOINC_CODES.diseaseStatus.some((code) => hasCode(observation.code, LOINC, code)) && statusUsable(ctx, observation))
  if (observations.length === 0) return
  const sites = ctx.draft.disease?.metastaticSites ?? []
  if (sites.includes('brain') || sites.includes('leptomeningeal')) {
    ctx.gap('disease.extracranialStatus', 'the disease status (97509-4) is not read as extracranial while brain or leptomeningeal metastases are recorded')
    return
  }
  const chosen = latest(ctx, observations.map((resource) => ({ item: statusAnswer(resource.valueCodeableConcept), resource, date: resourceDate(ctx, resource) })), 'disease status')
  if (chosen === undefined) return
  const ref = refOf(chosen.resource)
  if (chosen.item === undefined) {
    ctx.warn('FHIR_VALUE_UNREADABLE', `${ref}: disease status value not recognised.`)
    ctx.gap('disease.extracranialStatus', `${ref}: disease status value not recognised`)
    return
  }
  const disease = ctx.draft.disease ??= {}
  disease.extracranialStatus = chosen.item
  ctx.state.derived.add('disease.extracranialStatus')
  ctx.source('disease.extracranialStatus', {
    label: 'Extracranial disease on the current line',
    display: chosen.date === undefined ? chosen.item : `${chosen.item} (${chosen.date})`,
    refs: [ref],
    ...(chosen.date === undefined ? {} : { date: chosen.date })
  })
}

/** §6.8 [D] disease.brain.present: true when a brain site exists; never false from absence. */
function deriveBrainPresent (ctx: MappingContext): void {
  const disease = ctx.draft.disease ??= {}
  if (disease.metastaticSites?.includes('brain') !== true) return
  disease.brain = { ...disease.brain, present: true }
  ctx.state.derived.add('disease.brain.present')
  ctx.source('disease.brain.present', {
    label: 'Brain metastases present',
    display: 'yes (brain metastasis recorded)',
    refs: ctx.state.siteConditions?.brain ?? []
  })
}
