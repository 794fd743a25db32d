import { z } from 'zod'

/**
 * The CDS Hooks 2.0.1 response bodies this service sends (spec/ehr-integration.md §3, §7, §9), as zod
 * schemas: discovery, the service response with its cards, and the FHIR OperationOutcome of every
 * non-2xx answer under /cds-services (CDS Hooks 3.0, STU: "Returning OperationOutcome").
 *
 * Objects are strict, with the one member the specification reserves for extensions (`extension`,
 * "Extensions": "the specification reserves the name `extension`"), so that a misspelt member of a
 * card we build is an error rather than a silently ignored key. FHIR resources inside actions are
 * read structurally (any member passes).
 *
 * The invariants of the specification's logical model (HL7/cds-hooks `input/fsh/invariants/`,
 * CDSHooksResponse) are refinements here, each named by its id:
 * - cds-resp-1 "only one action can be suggested if selectionBehavior = at-most-one":
 *   `(selectionBehavior = 'at-most-one') implies suggestions.where(isRecommended).count() <= 1`;
 * - cds-resp-2 (severity warning) "A resourceId not a resource must be provided when type = delete":
 *   a warning only, so not a schema failure (test/support/cds-conformance.ts reports it);
 * - cds-resp-3 "AppContext only for smart Apps": `(type != 'smart') implies (appContext.empty())`;
 * - cds-resp-4 "the CDS Service MUST populate a display value for each reason's Coding";
 * - cds-resp-5 "All suggestion actions must have a description" (2.0.1: `description` REQUIRED in
 *   every Action, systemActions included);
 * - cds-resp-6 "If suggestions are present, selectionBehavior MUST also be provided.";
 * - cds-resp-7 "actionSelectionBehavior must be 'all', 'any', or 'at-most-one'" (a 3.0 STU member of
 *   Suggestion; accepted so that the invariant can be stated, never sent by this service).
 */

const Text = z.string().min(1)
/** An absolute URL (card `source.url`, `source.icon`, `links[].url`). */
const AbsoluteUrl = z.url()
const Extension = z.record(z.string(), z.unknown()).optional()
  .describe('Reserved for extensions (CDS Hooks "Extensions"): a pre-coordinated JSON object.')

/** "One-sentence, <140-character summary": counted in characters (code points), as Inferno's CRD kit does. */
export const SUMMARY_MAX_CHARACTERS = 139
const characters = (text: string): number => [...text].length

/** CDS Hooks "Coding": `code` and `system` REQUIRED, `display` CONDITIONAL (REQUIRED for override reasons). */
export const Coding = z.strictObject({
  code: Text.describe('The code within the system.'),
  system: Text.describe('The code system (a URI).'),
  display: Text.optional().describe('The code\'s text for people; required for override reasons.')
}).meta({ id: 'CdsCoding', description: 'A CDS Hooks Coding: a code, its system and, where a person reads it, its display.' })

/** An override reason: a Coding whose display is REQUIRED (cds-resp-4). */
export const OverrideReason = Coding.extend({ display: Text })

export const INDICATORS = ['info', 'warning', 'critical'] as const
export const SELECTION_BEHAVIORS = ['at-most-one', 'any'] as const
export const LINK_TYPES = ['absolute', 'smart'] as const
export const ACTION_TYPES = ['create', 'update', 'delete'] as const
export const ACTION_SELECTION_BEHAVIORS = ['all', 'any', 'at-most-one'] as const

export const Source = z.strictObject({
  label: Text,
  url: AbsoluteUrl.optional(),
  icon: AbsoluteUrl.optional(),
  topic: Coding.optional()
})

/** A FHIR resource inside an action: read structurally. */
const Resource = z.looseObject({ resourceType: Text })

export const Action = z.strictObject({
  type: z.enum(ACTION_TYPES),
  description: Text,
  resource: Resource.optional(),
  resourceId: Text.optional(),
  extension: Extension
}).superRefine((action, ctx) => {
  // "When the type attribute is create, the resource attribute SHALL contain a new FHIR resource …
  // For update, this holds the updated resource in its entirety" (2.0.1, Action).
  if (action.type !== 'delete' && action.resource === undefined) {
    ctx.addIssue({ code: 'custom', path: ['resource'], message: `a ${action.type} action carries the resource` })
  }
})

export const Suggestion = z.strictObject({
  label: Text,
  uuid: z.uuid().optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(Action).min(1).optional(),
  actionSelectionBehavior: z.enum(ACTION_SELECTION_BEHAVIORS).optional(),
  extension: Extension
})

export const Link = z.strictObject({
  label: Text,
  url: AbsoluteUrl,
  type: z.enum(LINK_TYPES),
  appContext: Text.optional(),
  autolaunchable: z.boolean().optional(),
  extension: Extension
}).refine((link) => link.type === 'smart' || link.appContext === undefined, {
  path: ['appContext'],
  message: 'cds-resp-3: appContext only for smart links'
})

export const Card = z.strictObject({
  uuid: z.uuid().optional(),
  summary: Text.refine((summary) => characters(summary) <= SUMMARY_MAX_CHARACTERS, { message: 'must be under 140 characters' }),
  detail: Text.optional(),
  indicator: z.enum(INDICATORS),
  source: Source,
  suggestions: z.array(Suggestion).min(1).optional(),
  selectionBehavior: z.enum(SELECTION_BEHAVIORS).optional(),
  overrideReasons: z.array(OverrideReason).min(1).optional(),
  links: z.array(Link).min(1).optional(),
  extension: Extension
}).superRefine((card, ctx) => {
  if (card.suggestions !== undefined && card.selectionBehavior === undefined) {
    ctx.addIssue({ code: 'custom', path: ['selectionBehavior'], message: 'cds-resp-6: selectionBehavior is required when there are suggestions' })
  }
  if (card.selectionBehavior === 'at-most-one' && (card.suggestions ?? []).filter((suggestion) => suggestion.isRecommended === true).length > 1) {
    ctx.addIssue({ code: 'custom', path: ['suggestions'], message: 'cds-resp-1: at most one suggestion may be recommended with selectionBehavior at-most-one' })
  }
})
export type Card = z.infer<typeof Card>

/** The 200 body of a service call: `cards` REQUIRED (may be empty), `systemActions` OPTIONAL. */
export const CdsServiceResponse = z.strictObject({
  cards: z.array(Card),
  systemActions: z.array(Action).min(1).optional(),
  extension: Extension
})
export type CdsServiceResponse = z.infer<typeof CdsServiceResponse>

/**
 * A discovery entry: `hook`, `description` and `id` REQUIRED; `title` RECOMMENDED; `prefetch` and
 * `usageRequirements` OPTIONAL (2.0.1); `version` and `hookVersion` from 3.0 (spec §1: the cheap items).
 */
export const DiscoveryService = z.strictObject({
  hook: Text,
  title: Text.optional(),
  description: Text,
  id: Text,
  prefetch: z.record(Text, Text).optional(),
  usageRequirements: Text.optional(),
  version: Text.optional(),
  hookVersion: Text.optional(),
  extension: Extension
})
export type DiscoveryService = z.infer<typeof DiscoveryService>

export const Discovery = z.strictObject({
  services: z.array(DiscoveryService),
  extension: Extension
})
export type Discovery = z.infer<typeof Discovery>

/** FHIR R4 IssueSeverity and IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html). */
export const ISSUE_SEVERITIES = ['fatal', 'error', 'warning', 'information'] as const
export const ISSUE_TYPES = [
  'invalid', 'structure', 'required', 'value', 'invariant', 'security', 'login', 'unknown', 'expired', 'forbidden',
  'suppressed', 'processing', 'not-supported', 'duplicate', 'multiple-matches', 'not-found', 'deleted', 'too-long',
  'code-invalid', 'extension', 'too-costly', 'business-rule', 'conflict', 'transient', 'lock-error', 'no-store',
  'exception', 'timeout', 'incomplete', 'throttled', 'informational'
] as const

/** The issue code of each status of spec/ehr-integration.md §9. */
export const ISSUE_TYPE_BY_STATUS: Readonly<Record<number, typeof ISSUE_TYPES[number]>> = {
  400: 'invalid',
  401: 'security',
  404: 'not-found',
  405: 'not-supported',
  412: 'processing',
  413: 'too-costly',
  415: 'not-supported',
  429: 'throttled',
  500: 'exception',
  503: 'transient'
}

const FhirCoding = z.looseObject({
  system: Text.optional().describe('The code system.'),
  code: Text.optional().describe('The code within the system.'),
  display: Text.optional().describe('The code\'s display text.')
}).describe('A FHIR Coding.')

export const OperationOutcomeIssue = z.looseObject({
  severity: z.enum(ISSUE_SEVERITIES).describe('FHIR IssueSeverity.'),
  code: z.enum(ISSUE_TYPES).describe('FHIR IssueType, by status (§9): 400 invalid, 401 security, 404 not-found, 405 and 415 not-supported, 412 processing, 413 too-costly, 429 throttled, 500 exception, 503 transient.'),
  details: z.looseObject({
    coding: z.array(FhirCoding).min(1).optional().describe('Coded details.'),
    text: Text.optional().describe('The details in words.')
  }).optional().describe('Coded details of the issue (none on a 401).'),
  diagnostics: Text.optional().describe('What went wrong, in words: never patient data, a token, a stack trace or an echo of the request (none on a 401).'),
  expression: z.array(Text).min(1).optional().describe('The request element at fault, FHIRPath-like (`context.patientId`), on a 400.')
}).describe('One problem.')

/** FHIR R4 OperationOutcome: one `issue` per problem (§9, like the spec's 412 example). */
export const OperationOutcome = z.looseObject({
  resourceType: z.literal('OperationOutcome').describe('Always `OperationOutcome`.'),
  id: Text.optional().describe('A resource id (optional).'),
  issue: z.array(OperationOutcomeIssue).min(1).describe('One entry per problem.')
}).meta({ id: 'OperationOutcome', description: 'A FHIR R4 OperationOutcome: the body of every error under /cds-services (spec/ehr-integration.md §9).' })
export type OperationOutcome = z.infer<typeof OperationOutcome>
