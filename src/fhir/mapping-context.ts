import type { CaseDraft, CasePath, FhirResource, FhirWarningCode, MapOptions, MappingWarning, SourceEntry } from './types.js'

/**
 * The state one mapping run shares between its sections (§6): the resources in hand (already past the
 * patient rule of §6.1 rule 1), the draft Case, and the recorders of sources, gaps and warnings.
 * Each section of the mapping is a function `(ctx) => void` that reads `ctx.resources` and writes
 * `ctx.draft` through `set`, so every value has its source.
 *
 * Cross-section facts (the primary's date, the lesion of each Condition, the first anti-HER2 date…)
 * live in `ctx.state`, written by the section that owns them and read by the ones after it (see
 * map.ts for the order).
 */

/** Where each lesion came from: Condition reference → lesion indices. */
export interface LesionRef { kind: 'spine' | 'nonSpine', index: number }

export interface MappingState {
  /** The primary breast cancer Conditions (§6.3) and the earliest of their dates. */
  primaryConditions: FhirResource[]
  primaryDate?: string
  /** The primary's side, from its bodySite or ICD-10-CM C50.x1x/C50.x2x (§6.3). */
  primarySide?: 'left' | 'right'
  /** Conditions that count as a metastatic site (secondary, distant nodes). */
  metastaticConditions: FhirResource[]
  /** Condition `Type/id` → the lesions it created (facts with `focus` and RT procedures use it). */
  lesionsByCondition: Map<string, LesionRef[]>
  /** Date of the first anti-HER2 agent (§6.6), for lvefBaselinePercent (§6.5). */
  firstAntiHer2Date?: string
  /** Fields derived by a section that a case-fact may override (§6.8 "derived unless a fact is given"). */
  derived: Set<CasePath>
  /** Per metastatic site, the Conditions that gave it (§6.3; derived.ts names the brain ones). */
  siteConditions?: Partial<Record<string, string[]>>
  /** The latest AJCC stage group (§6.8 disease.ajcc): 0–4, as written, its Observation and date. */
  latestStageGroup?: { stage: 0 | 1 | 2 | 3 | 4, written: string, ref: string, date?: string }
  /** Breast surgery Procedures (§6.7), for disease.primaryIntact (§6.8). */
  breastSurgeries?: Array<{ ref: string, display: string, date?: string }>
}

export class MappingContext {
  readonly draft: CaseDraft = {}
  readonly sources: Record<CasePath, SourceEntry> = {}
  readonly gaps: Record<CasePath, string[]> = {}
  readonly warnings: MappingWarning[] = []
  readonly state: MappingState = { primaryConditions: [], metastaticConditions: [], lesionsByCondition: new Map(), derived: new Set() }

  constructor (
    /** The resources of the one patient, deduplicated, in bundle order. */
    readonly resources: readonly FhirResource[],
    readonly options: MapOptions,
    /** Resolves a reference as §5 says (fullUrl, Type/id, absolute URL, #contained) from a resource. */
    readonly resolve: (reference: string, from?: FhirResource) => FhirResource | undefined
  ) {}

  get evaluationDate (): string { return this.options.evaluationDate }

  /** Resources of one type, in bundle order. */
  ofType (resourceType: string): FhirResource[] {
    return this.resources.filter((resource) => resource.resourceType === resourceType)
  }

  /** Adds a warning; the same code and message twice is kept once. */
  warn (code: FhirWarningCode, message: string): void {
    if (!this.warnings.some((warning) => warning.code === code && warning.message === message)) this.warnings.push({ code, message })
  }

  /** Records why a value present in FHIR could not be used for a Case path. */
  gap (path: CasePath, reason: string): void {
    const reasons = this.gaps[path] ??= []
    if (!reasons.includes(reason)) reasons.push(reason)
  }

  /** Records the source of a Case path (the value itself is written into `draft` by the caller). */
  source (path: CasePath, entry: SourceEntry): void {
    this.sources[path] = entry
  }
}

/** `Type/id` of a resource (its relative reference). */
export function refOf (resource: FhirResource): string {
  return `${resource.resourceType}/${resource.id ?? ''}`
}
