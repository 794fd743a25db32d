import { z } from 'zod'

/**
 * CDS Hooks request bodies (spec/ehr-integration.md §2, §4.3, §4.5) and the feedback body (§8).
 * Every object passes unknown members through: CDS Hooks clients send `extension` and 3.0 fields,
 * which are ignored, never a 400 (§1). `prefetch` values are judged only when a key is used (§4.2),
 * so they are `unknown` here.
 */

/** `context.patientId`: it is URL-encoded into the prefetch templates, so it is held to the FHIR id alphabet (§4.3). */
export const PATIENT_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/
/** `context.selections[]`: the hook library's `ord-1`, `{type}/{id}` (§4.5). */
export const SELECTION_PATTERN = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/

/**
 * A UUID in its textual form (8-4-4-4-12 hex digits). Any version is accepted: EHRs make hookInstance
 * ids in their own way, and the spec asks for "a UUID", not a version.
 */
const Uuid = z.guid('must be a UUID')

const FhirResourceLike = z.looseObject({
  resourceType: z.string().min(1).describe('The FHIR resource type.'),
  id: z.string().optional().describe('The resource id.')
}).describe('A FHIR resource, read structurally (unknown elements pass).')

export const FhirAuthorization = z.looseObject({
  access_token: z.string().min(1).describe('OAuth 2.0 access token for fhirServer. Never logged, never kept.'),
  token_type: z.string().min(1).describe('Bearer: the only type the service uses (§4.3).'),
  expires_in: z.number().int().min(0).describe('Lifetime of the token in seconds.'),
  scope: z.string().describe('The scopes granted (opaque to the service).'),
  subject: z.string().min(1).describe('The OAuth client id of this service at the EHR.'),
  patient: z.string().optional().describe('CDS Hooks 3.0: the patient the token is bound to; must equal context.patientId.')
}).describe('Access to the client\'s FHIR server (§4.3).')

const BaseContext = z.looseObject({
  userId: z.string().min(1).describe('The user, e.g. Practitioner/123.'),
  patientId: z.string().regex(PATIENT_ID_PATTERN, 'must be a FHIR id: 1 to 64 letters, digits, "-" or "."').describe('The patient whose chart is open.')
}).describe('The hook context.')

/** `draftOrders` is a Bundle whose `type` may be missing: the sandbox and the Inferno fixture omit it (§4.5). */
export const DraftOrders = z.looseObject({
  resourceType: z.literal('Bundle').describe('A FHIR Bundle.'),
  type: z.string().optional().describe('Bundle type (may be missing).'),
  entry: z.array(z.looseObject({
    resource: FhirResourceLike.optional()
  }).describe('One draft order.')).optional().describe('The draft orders.')
}).describe('The orders being written, as a Bundle.')

const OrderSelectContext = BaseContext.extend({
  selections: z.array(z.string().regex(SELECTION_PATTERN, 'must be "{type}/{id}" (ord-1)')).min(1).describe('The orders selected, as Type/id references into draftOrders.'),
  draftOrders: DraftOrders
}).describe('The order-select context.')

const requestShape = {
  hook: z.string().min(1).describe('The hook that triggered the call.'),
  hookInstance: Uuid.describe('A UUID for this call: the correlation id of cards and logs.'),
  fhirServer: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional().describe('Base URL of the client\'s FHIR server (absolute).'),
  fhirAuthorization: FhirAuthorization.optional(),
  prefetch: z.record(z.string(), z.unknown()).optional().describe('Prefetched FHIR data by key (§4.1); values are judged only when used (§4.2).')
}

type RequestCheck = { fhirServer?: string, fhirAuthorization?: { patient?: string }, context: { patientId: string } }

/** cds-r-1, and the 3.0 `fhirAuthorization.patient` binding (§4.3 conditions 1 and 3). */
function checkAuthorization (request: RequestCheck, ctx: z.core.$RefinementCtx): void {
  if (request.fhirAuthorization === undefined) return
  if (request.fhirServer === undefined) {
    ctx.addIssue({ code: 'custom', path: ['fhirServer'], message: 'is required when fhirAuthorization is given (cds-r-1)' })
  }
  const patient = request.fhirAuthorization.patient
  if (patient !== undefined && patient !== request.context.patientId) {
    ctx.addIssue({ code: 'custom', path: ['fhirAuthorization', 'patient'], message: 'must equal context.patientId' })
  }
}

/** Any hook request: what every service reads. */
export const CdsHookRequest = z.looseObject({ ...requestShape, context: BaseContext })
  .superRefine(checkAuthorization)
  .describe('A CDS Hooks service request.')
export type CdsHookRequest = z.infer<typeof CdsHookRequest>

/** `patient-view` (hook library 1.0): context `userId` and `patientId`. */
export const PatientViewRequest = z.looseObject({ ...requestShape, hook: z.literal('patient-view').describe('patient-view.'), context: BaseContext })
  .superRefine(checkAuthorization)
  .describe('A patient-view request.')
export type PatientViewRequest = z.infer<typeof PatientViewRequest>

/** `order-select` (hook library 1.0): context adds `selections` and `draftOrders` (§4.5). */
export const OrderSelectRequest = z.looseObject({ ...requestShape, hook: z.literal('order-select').describe('order-select.'), context: OrderSelectContext })
  .superRefine(checkAuthorization)
  .describe('An order-select request.')
export type OrderSelectRequest = z.infer<typeof OrderSelectRequest>

/** The `order-select` context alone (the hook library's examples are contexts, not requests). */
export { OrderSelectContext }

/** RFC 3339 date-time: `T` or `t`, seconds, optional fraction, and an offset (`Z` or ±hh:mm); a real instant. */
const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const Rfc3339 = z.string().refine((text) => RFC3339_DATE_TIME.test(text) && !Number.isNaN(Date.parse(text.toUpperCase())), 'must be an RFC 3339 date-time with an offset')

/** `overrideReason`: a Coding with a code (system and display optional: the sandbox sends neither display nor always system) or a comment, or both (cds-fb-3). */
export const OverrideReason = z.looseObject({
  reason: z.looseObject({
    code: z.string().min(1).describe('The reason code.'),
    system: z.string().optional().describe('The code system.'),
    display: z.string().optional().describe('The display (optional in feedback).')
  }).optional().describe('The reason, as a Coding.'),
  userComment: z.string().max(1000).optional().describe('Free text; never logged or kept (at most whether it was present).')
}).refine((reason) => reason.reason !== undefined || reason.userComment !== undefined, 'must give a reason, a userComment or both (cds-fb-3)')
  .describe('Why the card was overridden.')

export const FeedbackItem = z.looseObject({
  card: Uuid.describe('The uuid of the card.'),
  outcome: z.enum(['accepted', 'overridden']).describe('What the user did (cds-fb-1).'),
  acceptedSuggestions: z.array(z.looseObject({ id: z.string().describe('The suggestion uuid.') }).describe('An accepted suggestion.')).optional().describe('Required when accepted (cds-fb-2).'),
  overrideReason: OverrideReason.optional(),
  outcomeTimestamp: Rfc3339.describe('When the user acted (RFC 3339 with an offset).')
}).superRefine((item, ctx) => {
  if (item.outcome === 'accepted' && item.acceptedSuggestions === undefined) {
    ctx.addIssue({ code: 'custom', path: ['acceptedSuggestions'], message: 'is required when the outcome is accepted (cds-fb-2)' })
  }
}).describe('Feedback on one card.')
export type FeedbackItem = z.infer<typeof FeedbackItem>

export const FeedbackRequest = z.looseObject({
  feedback: z.array(FeedbackItem).min(1).max(100).describe('1 to 100 items.')
}).describe('A CDS Hooks feedback request (§8).')
export type FeedbackRequest = z.infer<typeof FeedbackRequest>
