import { z } from 'zod'
import { canonicalJson } from '../engine/canonical-json.js'
import { parseClinically, type FieldError } from '../schemas/field-errors.js'
import { refOf, type MappingContext } from './mapping-context.js'
import { asString, isObject, type Json } from './read.js'
import type { FhirResource, FhirWarningCode, MappingWarning } from './types.js'

/**
 * The FHIR Bundle as /v1 receives it (spec/ehr-integration.md §5): structural checks only, reference
 * resolution, deduplication, and the patient rule of §6.1 rule 1. Nothing is checked against the FHIR
 * schema or profiles: real bundles fail the official schema, and extensions and unmodelled elements
 * are normal, so every level is a zod loose (passthrough) object.
 */

/** The Bundle types §5 accepts; `document`, `message`, `history` and `*-response` are a 400. */
export const BUNDLE_TYPES = ['collection', 'transaction', 'batch', 'searchset'] as const

/** A zod error map for one element: "is required" when absent, else the element's own words. */
const wrongShape = (message: string) => (issue: { input?: unknown }): string => issue.input === undefined ? 'is required' : message

const BundleResource = z.looseObject({
  resourceType: z.string({ error: wrongShape('must be a string naming the resource type, e.g. "Observation"') })
    .min(1, { error: 'must not be empty' })
    .describe('The FHIR resource type, e.g. Patient, Condition, Observation.')
}, { error: 'must be a JSON object (a FHIR resource)' })
  .meta({ id: 'FhirResource', description: 'Any FHIR R4 resource. Only `resourceType` is checked; every other element passes as FHIR defines it (unknown elements and extensions are normal).' })

const BundleEntry = z.looseObject({
  resource: BundleResource.optional().describe('The resource. An entry without one, or a transaction/batch entry whose request.method is DELETE, is skipped with warning FHIR_ENTRY_WITHOUT_RESOURCE. `fullUrl` and `request` pass as FHIR defines them.')
}, { error: 'must be a JSON object (a Bundle entry)' })
  .meta({ id: 'FhirBundleEntry', description: 'One Bundle entry: `fullUrl`, `resource`, and for transactions and batches `request` (otherwise ignored).' })

/**
 * The structural check of §5 as a zod schema: a JSON object with resourceType "Bundle", a `type` of
 * BUNDLE_TYPES, `entry` an array of objects whose `resource`, when present, is an object with a
 * string resourceType. Loose at every level. Also the OpenAPI schema of the FHIR request body.
 */
export const FhirBundle = z.looseObject({
  resourceType: z.literal('Bundle', { error: wrongShape('must be "Bundle": FHIR input is one Bundle') })
    .describe('Always "Bundle".'),
  type: z.enum(BUNDLE_TYPES, { error: wrongShape(`must be ${BUNDLE_TYPES.slice(0, -1).join(', ')} or ${BUNDLE_TYPES[BUNDLE_TYPES.length - 1] as string} (document, message, history and response Bundles are not accepted)`) })
    .describe('collection, transaction, batch or searchset.'),
  entry: z.array(BundleEntry, { error: 'must be a JSON array of Bundle entries' }).optional()
    .describe('The entries. Exactly one Patient is required (else 422 patient-count); the other resources are used when their subject is that Patient.')
}, { error: 'must be a JSON object (a FHIR Bundle)' })
  .meta({ id: 'FhirBundle', description: 'A FHIR R4 Bundle (application/fhir+json) with the record of one patient, shaped by mCODE. Structural checks only: unknown elements and extensions pass; nothing is checked against FHIR profiles.' })

export type Resolve = (reference: string, from?: FhirResource) => FhirResource | undefined

export type BundleError =
  | { ok: false, status: 400, path: string, detail: string, errors: FieldError[] }
  | { ok: false, status: 422, type: 'patient-count', path: string, detail: string }

export type BundleResult =
  | { ok: true, resources: FhirResource[], resolve: Resolve, warnings: MappingWarning[], fullUrlOf: (resource: FhirResource) => string | undefined }
  | BundleError

/** A resource as the Bundle carried it: `fullUrl` (when a string) for reference rule 1. */
export interface LocatedResource { resource: FhirResource, fullUrl?: string }

/**
 * Reads a FHIR Bundle (§5): the structural checks (400 with the JSON pointer of the first failure
 * in `path` and all of them in `errors`), the entries without a resource or with a DELETE request
 * skipped (FHIR_ENTRY_WITHOUT_RESOURCE), duplicates merged (FHIR_DUPLICATE_RESOURCE), and exactly
 * one Patient (else 422 patient-count). The resources keep bundle order; they are the objects of
 * `body`, not copies.
 */
export function readBundle (body: unknown): BundleResult {
  const checked = parseClinically(FhirBundle, body)
  if (!checked.ok) {
    const first = checked.errors[0] as FieldError
    return { ok: false, status: 400, path: first.path, detail: `The Bundle fails a structural check at "${first.path}": ${first.message}.`, errors: checked.errors }
  }
  // Structure is settled: read the received objects themselves (zod's output is a copy).
  const entries = ((body as Json).entry ?? []) as Json[]
  const warnings: MappingWarning[] = []
  const located: LocatedResource[] = []
  const skipped: number[] = []
  entries.forEach((entry, index) => {
    const method = isObject(entry.request) ? entry.request.method : undefined
    if (entry.resource === undefined || method === 'DELETE') {
      skipped.push(index)
      return
    }
    const fullUrl = entry.fullUrl
    if (fullUrl !== undefined && typeof fullUrl !== 'string') {
      warnings.push({ code: 'FHIR_ELEMENT_MALFORMED', message: `/entry/${index}/fullUrl is not a string and was ignored.` })
    }
    located.push({ resource: entry.resource as FhirResource, ...(typeof fullUrl === 'string' && fullUrl !== '' ? { fullUrl } : {}) })
  })
  if (skipped.length > 0) {
    warnings.push({
      code: 'FHIR_ENTRY_WITHOUT_RESOURCE',
      message: `${count(skipped.length, 'Bundle entry', 'Bundle entries')} without a resource, or with a DELETE request, ${skipped.length === 1 ? 'was' : 'were'} skipped (${skipped.map((index) => `/entry/${index}`).join(', ')}).`
    })
  }
  const index = indexResources(located)
  warnings.push(...index.warnings)
  const patients = index.resources.filter((resource) => resource.resourceType === 'Patient').length
  if (patients !== 1) {
    return {
      ok: false,
      status: 422,
      type: 'patient-count',
      path: '/entry',
      detail: patients === 0
        ? 'The Bundle has no Patient resource: it must hold the record of exactly one patient.'
        : `The Bundle has ${patients} different Patient resources: it must hold the record of exactly one patient.`
    }
  }
  return { ok: true, resources: index.resources, resolve: index.resolve, warnings, fullUrlOf: index.fullUrlOf }
}

/* ---------------------------------------------------------- references */

const HISTORY_SUFFIX = /\/_history\/[^/]+$/
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^?#]*\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/

/**
 * The `Type/id` a reference names (§5 rules 2 and 3): a relative `Type/id` or an absolute URL ending
 * in `Type/id`, with a `/_history/n` suffix stripped. Anything else (urn:uuid:, #id, a search URL): undefined.
 */
export function typeIdOf (reference: string): string | undefined {
  const plain = reference.replace(HISTORY_SUFFIX, '')
  const match = RELATIVE.exec(plain) ?? ABSOLUTE.exec(plain)
  return match === null ? undefined : `${match[1] as string}/${match[2] as string}`
}

function containedIn (container: FhirResource | undefined, id: string): FhirResource | undefined {
  if (container === undefined) return undefined
  if (id === '') return container
  const contained = Array.isArray(container.contained) ? container.contained : []
  return contained.find((resource): resource is FhirResource => isObject(resource) && typeof resource.resourceType === 'string' && resource.id === id)
}

/** What duplicates are compared on: the resource in JCS form, without its narrative (§5: narratives are ignored). */
function contentOf (resource: FhirResource): string {
  const { text: _narrative, ...content } = resource
  return canonicalJson(content)
}

/** A resource's id when it is a usable string (a malformed id counts as absent). */
const idOf = (resource: FhirResource): string | undefined => asString(resource.id)

/** How a warning names a resource: `Type/id`, but never the Patient's id (a patient identifier, §6.10). */
export function describeResource (resource: FhirResource): string {
  if (resource.resourceType === 'Patient') return 'the Patient'
  return idOf(resource) === undefined ? `a ${resource.resourceType} without an id` : refOf(resource)
}

/**
 * Indexes resources for reference resolution (§5) and deduplicates them: entries with the same
 * `Type/id` are one resource when identical (JCS-equal, the narrative `text` aside), else the last in bundle order wins with
 * FHIR_DUPLICATE_RESOURCE. A resource without an id is never a duplicate. `resolve(reference, from)`
 * tries, in order: (1) fullUrl exactly; (2) relative `Type/id`, `/_history/n` stripped; (3) an
 * absolute URL ending in `Type/id`; (4) `#id`, a resource contained in `from`. A fullUrl of a
 * replaced duplicate resolves to the winner. The CDS Hooks service indexes prefetched resources
 * with it (no fullUrls there). `fullUrlOf` gives the fullUrl a resource came with.
 */
export function indexResources (located: readonly LocatedResource[]): { resources: FhirResource[], resolve: Resolve, warnings: MappingWarning[], fullUrlOf: (resource: FhirResource) => string | undefined } {
  const byKey = new Map<string, FhirResource>()
  const keyOfFullUrl = new Map<string, string>()
  const fullUrls = new Map<FhirResource, string>()
  const replaced = new Set<string>()
  let malformedIds = 0
  located.forEach(({ resource: given, fullUrl }, position) => {
    let resource = given
    if (given.id !== undefined && idOf(given) === undefined) {
      // An id of the wrong shape counts as absent (§5 "an element … with the wrong shape").
      malformedIds++
      const { id: _id, ...withoutId } = given
      resource = withoutId as FhirResource
    }
    const id = idOf(resource)
    const key = id === undefined ? `#${position}` : `${resource.resourceType}/${id}`
    const previous = byKey.get(key)
    if (previous === undefined) {
      byKey.set(key, resource)
    } else if (contentOf(previous) !== contentOf(resource)) {
      // The last in bundle order wins, and takes the last position.
      byKey.delete(key)
      byKey.set(key, resource)
      replaced.add(key)
    }
    if (fullUrl !== undefined) {
      keyOfFullUrl.set(fullUrl, key)
      fullUrls.set(resource, fullUrl)
    }
  })
  const warnings: MappingWarning[] = []
  if (malformedIds > 0) {
    warnings.push({ code: 'FHIR_ELEMENT_MALFORMED', message: `${count(malformedIds, 'resource has an id', 'resources have an id')} that is not a string; ${malformedIds === 1 ? 'it was' : 'they were'} read as having none.` })
  }
  for (const key of replaced) {
    warnings.push({ code: 'FHIR_DUPLICATE_RESOURCE', message: `${describeResource(byKey.get(key) as FhirResource)} appears more than once with different content; the last one in the Bundle was used.` })
  }
  const resolve: Resolve = (reference, from) => {
    if (typeof reference !== 'string' || reference === '') return undefined
    if (reference.startsWith('#')) return containedIn(from, reference.slice(1))
    const byFullUrl = keyOfFullUrl.get(reference)
    if (byFullUrl !== undefined) return byKey.get(byFullUrl)
    const typeId = typeIdOf(reference)
    return typeId === undefined ? undefined : byKey.get(typeId)
  }
  return { resources: [...byKey.values()], resolve, warnings, fullUrlOf: (resource) => fullUrls.get(resource) }
}

/* -------------------------------------------------------- patient rule */

/** Resource types that have no subject and belong to no patient: kept whatever the patient rule says. */
const SUBJECTLESS_KEPT: ReadonlySet<string> = new Set(['Medication'])

/**
 * The patient rule (§6.1 rule 1) for the one Patient `patient`: a resource is used only when its
 * `subject` (or `patient`) reference resolves to that Patient. Others are dropped with one warning
 * per code and a count: FHIR_OTHER_PATIENT_RESOURCE (another patient, an unresolvable or non-patient
 * subject, another Patient resource) and FHIR_NO_SUBJECT (no subject reference). The Patient itself
 * and Medication resources have no subject and are kept. A subject of the wrong shape counts as
 * absent, with FHIR_ELEMENT_MALFORMED.
 */
export function keepPatientResources (all: readonly FhirResource[], patient: FhirResource | undefined, resolve: Resolve): { resources: FhirResource[], warnings: MappingWarning[] } {
  const resources: FhirResource[] = []
  const other: FhirResource[] = []
  const noSubject: FhirResource[] = []
  const malformed: FhirResource[] = []
  for (const resource of all) {
    if (resource === patient || SUBJECTLESS_KEPT.has(resource.resourceType)) {
      resources.push(resource)
      continue
    }
    if (resource.resourceType === 'Patient') {
      other.push(resource)
      continue
    }
    const subject = resource.subject ?? resource.patient
    const reference = isObject(subject) ? subject.reference : undefined
    if ((subject !== undefined && !isObject(subject)) || (reference !== undefined && typeof reference !== 'string')) malformed.push(resource)
    if (typeof reference !== 'string' || reference === '') {
      noSubject.push(resource)
    } else if (patient !== undefined && resolve(reference, resource) === patient) {
      resources.push(resource)
    } else {
      other.push(resource)
    }
  }
  const warnings: MappingWarning[] = []
  if (malformed.length > 0) {
    warnings.push({ code: 'FHIR_ELEMENT_MALFORMED', message: `${count(malformed.length, 'resource has a subject', 'resources have a subject')} of the wrong shape (${byType(malformed)}); read as having none.` })
  }
  if (other.length > 0) {
    warnings.push({ code: 'FHIR_OTHER_PATIENT_RESOURCE', message: `${count(other.length, 'resource that belongs', 'resources that belong')} to another patient (or to no patient in the Bundle) ${other.length === 1 ? 'was' : 'were'} not used (${byType(other)}).` })
  }
  if (noSubject.length > 0) {
    warnings.push({ code: 'FHIR_NO_SUBJECT', message: `${count(noSubject.length, 'resource', 'resources')} without a subject reference ${noSubject.length === 1 ? 'was' : 'were'} not used (${byType(noSubject)}).` })
  }
  return { resources, warnings }
}

/** The patient rule for `patientRef` (`Patient/{id}` in CDS Hooks): §6.1 rule 1, as keepPatientResources. */
export function patientResources (all: readonly FhirResource[], patientRef: string, resolve: Resolve): { resources: FhirResource[], warnings: MappingWarning[] } {
  const patient = resolve(patientRef)
  return keepPatientResources(all, patient?.resourceType === 'Patient' ? patient : undefined, resolve)
}

/* ------------------------------------------------------ element shapes */

export type ElementShape = 'object' | 'objects' | 'string' | 'number' | 'integer' | 'boolean'

interface ShapeValue { object: Json, objects: Json[], string: string, number: number, integer: number, boolean: boolean }

const SHAPE_WORDS: Readonly<Record<ElementShape, string>> = {
  object: 'an object',
  objects: 'a list of objects',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false'
}

function hasShape (value: unknown, shape: ElementShape): boolean {
  switch (shape) {
    case 'object': return isObject(value)
    case 'objects': return Array.isArray(value) && value.every(isObject)
    case 'string': return typeof value === 'string'
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'integer': return Number.isInteger(value)
    case 'boolean': return typeof value === 'boolean'
  }
}

/**
 * An element the mapper reads, checked for its shape (§5 last row): absent → undefined; the wrong
 * shape (e.g. `interpretation` as an object instead of a list) → undefined with warning
 * FHIR_ELEMENT_MALFORMED, so the element counts as absent. `path` names the element in the warning
 * (`interpretation`, `valueQuantity.value`). For 'objects', the items that are not objects are dropped
 * (with the warning) and the others kept.
 */
export function wellFormed<S extends ElementShape> (ctx: MappingContext, resource: FhirResource, path: string, value: unknown, shape: S): ShapeValue[S] | undefined {
  if (value === undefined) return undefined
  if (hasShape(value, shape)) return value as ShapeValue[S]
  const objects = shape === 'objects' && Array.isArray(value) ? value.filter(isObject) : undefined
  warnMalformed(ctx, resource, path, shape)
  return objects !== undefined && objects.length > 0 ? objects as ShapeValue[S] : undefined
}

/** A top-level element of `resource` read with wellFormed (`element(ctx, observation, 'interpretation', 'objects')`). */
export function element<S extends ElementShape> (ctx: MappingContext, resource: FhirResource, name: string, shape: S): ShapeValue[S] | undefined {
  return wellFormed(ctx, resource, name, resource[name], shape)
}

/** Warns FHIR_ELEMENT_MALFORMED for an element a section found with the wrong shape. */
export function warnMalformed (ctx: MappingContext, resource: FhirResource, path: string, shape?: ElementShape): void {
  const expected = shape === undefined ? 'has an unexpected shape' : `is not ${SHAPE_WORDS[shape]}`
  ctx.warn('FHIR_ELEMENT_MALFORMED' satisfies FhirWarningCode, `${describeResource(resource)}: ${path} ${expected} and was ignored.`)
}

/* --------------------------------------------------------------- words */

function count (n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** "2 Observation, 1 Condition": resource types with counts, never ids. */
function byType (resources: readonly FhirResource[]): string {
  const counts = new Map<string, number>()
  for (const resource of resources) counts.set(resource.resourceType, (counts.get(resource.resourceType) ?? 0) + 1)
  return [...counts].map(([type, n]) => `${n} ${type}`).join(', ')
}
