import t from 'tap'
import { z } from 'zod'
import {
  Action, Card, CdsServiceResponse, Discovery, ISSUE_TYPE_BY_STATUS, Link, OperationOutcome, Source, SUMMARY_MAX_CHARACTERS
} from '../../src/schemas/cds-hooks-response.js'
import { operationOutcomeViolations, responseViolations } from '../support/cds-conformance.js'
import { readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/**
 * The JSON examples of the CDS Hooks specification (../shared/ehr-fixtures/cds-hooks-spec, read in
 * place) through our response schemas, valid or invalid as `manifest.json` says (spec §12.1). The
 * request-side kinds (requests, prefetch, context, fhirAuthorization, feedback, JWT) belong to the
 * cds-service schemas (src/schemas/cds-hooks-request.ts): REQUEST_KINDS names them so that a new
 * kind in the manifest cannot go unchecked, and `requestSchemaFor` is where those schemas plug in.
 */

interface ManifestEntry { file: string, kind: string, expect: 'valid' | 'invalid' | 'valid-3.0-only' | 'fragment', note?: string }

const RESPONSE_KINDS = ['discovery', 'response', 'card-fragment', 'action', 'operation-outcome'] as const
const REQUEST_KINDS = ['request', 'prefetch-templates', 'context', 'prefetch-values', 'fhirAuthorization', 'feedback', 'jwt'] as const

/** The hook for the cds-service helper: the request-side schema of a kind (none here yet). */
function requestSchemaFor (_kind: typeof REQUEST_KINDS[number]): z.ZodType | undefined {
  return undefined
}

/** A card fragment (`{ "source": … }`, `{ "overrideReasons": … }`) is checked member by member against the Card's sub-schemas. */
const CardFragment = z.strictObject({ source: Card.shape.source.optional(), overrideReasons: Card.shape.overrideReasons }).partial()

const SCHEMAS: Readonly<Record<typeof RESPONSE_KINDS[number], z.ZodType>> = {
  discovery: Discovery,
  response: CdsServiceResponse,
  'card-fragment': CardFragment,
  action: Action,
  'operation-outcome': OperationOutcome
}

const manifest = (): ManifestEntry[] => readThirdPartyJson<{ examples: ManifestEntry[] }>('cds-hooks-spec/manifest.json').examples
const example = (file: string): unknown => readThirdPartyJson(`cds-hooks-spec/${file}`)
const issuePaths = (result: z.ZodSafeParseResult<unknown>): string[] => (result.success ? [] : result.error.issues.map((issue) => issue.path.join('/')))

t.test('every kind of the manifest is either ours or the request side\'s', { skip: thirdPartySkip }, async (t) => {
  const kinds = new Set(manifest().map(({ kind }) => kind))
  for (const kind of kinds) t.ok((RESPONSE_KINDS as readonly string[]).includes(kind) || (REQUEST_KINDS as readonly string[]).includes(kind), kind)
  for (const kind of REQUEST_KINDS) t.equal(requestSchemaFor(kind), undefined, `${kind}: checked by the cds-service schemas`)
})

t.test('the spec examples of responses, cards, actions, discovery and OperationOutcome, as the manifest expects', { skip: thirdPartySkip }, async (t) => {
  const ours = manifest().filter(({ kind }) => (RESPONSE_KINDS as readonly string[]).includes(kind))
  t.equal(ours.length, 12, 'two discovery, four responses, two card fragments, three actions, one OperationOutcome … and their count is pinned')
  for (const entry of ours) {
    const result = SCHEMAS[entry.kind as typeof RESPONSE_KINDS[number]].safeParse(example(entry.file))
    if (entry.expect === 'valid' || entry.expect === 'fragment') {
      t.same(issuePaths(result), [], `${entry.file}: ${entry.expect}`)
    } else if (entry.expect === 'invalid') {
      t.notOk(result.success, `${entry.file}: invalid`)
    } else {
      // valid-3.0-only: our schemas are 2.0.1, where every Action's description is REQUIRED.
      t.same(issuePaths(result), ['systemActions/0/description'], `${entry.file}: valid in 3.0 only, fails 2.0.1 on the action's description alone`)
    }
  }
})

t.test('response-autolaunchable.INVALID-no-indicator.json fails on the card\'s missing indicator', { skip: thirdPartySkip }, async (t) => {
  const body = example('examples/response-autolaunchable.INVALID-no-indicator.json')
  t.same(issuePaths(CdsServiceResponse.safeParse(body)), ['cards/0/indicator'])
  t.ok(responseViolations(body).includes('crd: cards[0].indicator is not a string'), 'the Inferno port says so too')
})

t.test('the spec\'s valid responses pass the conformance checks; its 412 OperationOutcome is the shape of ours', { skip: thirdPartySkip }, async (t) => {
  t.same(responseViolations(example('examples/response-example.json')), [])
  t.same(responseViolations(example('examples/response-empty-cards.json')), [], '"cards": [] is the one empty value allowed')
  t.same(operationOutcomeViolations(412, example('examples/operation-outcome-412.json')), [])
})

// --- the schemas' own rules

const source = { label: 'Knowledge base' }
const card = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ summary: 'A summary', indicator: 'info', source, ...overrides })

t.test('Card: summary under 140 characters (counted in code points)', async (t) => {
  t.equal(SUMMARY_MAX_CHARACTERS, 139)
  t.ok(Card.safeParse(card({ summary: 'x'.repeat(139) })).success, '139 characters')
  t.same(issuePaths(Card.safeParse(card({ summary: 'x'.repeat(140) }))), ['summary'], '140 characters')
  t.ok(Card.safeParse(card({ summary: '≥'.repeat(139) })).success, '139 characters outside ASCII')
  t.same(issuePaths(Card.safeParse(card({ summary: '' }))), ['summary'], 'never empty')
})

t.test('Card: indicator info | warning | critical; source.label required; uuid a UUID; unknown members refused but extension', async (t) => {
  for (const indicator of ['info', 'warning', 'critical']) t.ok(Card.safeParse(card({ indicator })).success, indicator)
  t.same(issuePaths(Card.safeParse(card({ indicator: 'hard-stop' }))), ['indicator'])
  t.same(issuePaths(Card.safeParse(card({ source: { url: 'https://kb.example.org' } }))), ['source/label'])
  t.same(issuePaths(Card.safeParse(card({ uuid: 'not-a-uuid' }))), ['uuid'])
  t.same(issuePaths(Card.safeParse(card({ sumary: 'typo' }))), [''], 'a misspelt member')
  t.ok(Card.safeParse(card({ extension: { 'org.example.x': 1 } })).success, 'extension is reserved')
  t.same(issuePaths(Source.safeParse({ label: 'x', url: 'not a url' })), ['url'])
  t.same(issuePaths(Source.safeParse({ label: 'x', topic: { code: 'c' } })), ['topic/system'], 'a Coding needs code and system')
})

t.test('cds-resp-3: appContext only for smart links', async (t) => {
  t.ok(Link.safeParse({ label: 'App', url: 'https://smart.example.org/launch', type: 'smart', appContext: '{"a":1}' }).success)
  t.same(issuePaths(Link.safeParse({ label: 'Page', url: 'https://example.org', type: 'absolute', appContext: 'x' })), ['appContext'])
  t.same(issuePaths(Link.safeParse({ label: 'Page', url: 'https://example.org', type: 'relative' })), ['type'], 'type absolute | smart')
})

t.test('cds-resp-4: override reasons need a display', async (t) => {
  const reason = { system: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes', code: 'patient-refuses' }
  t.same(issuePaths(Card.safeParse(card({ overrideReasons: [reason] }))), ['overrideReasons/0/display'])
  t.ok(Card.safeParse(card({ overrideReasons: [{ ...reason, display: 'Patient refuses/declines (no context given)*' }] })).success)
})

t.test('cds-resp-5: every action has a description (2.0.1); create and update carry the resource', async (t) => {
  t.same(issuePaths(Action.safeParse({ type: 'delete', resourceId: 'ServiceRequest/1' })), ['description'])
  t.same(issuePaths(Action.safeParse({ type: 'create', description: 'Create' })), ['resource'])
  t.same(issuePaths(Action.safeParse({ type: 'update', description: 'Update' })), ['resource'])
  t.ok(Action.safeParse({ type: 'delete', description: 'Remove', resourceId: 'ServiceRequest/1' }).success)
  t.same(issuePaths(Action.safeParse({ type: 'patch', description: 'x', resourceId: 'a/b' })), ['type'])
})

t.test('cds-resp-6 and cds-resp-1: selectionBehavior with suggestions; at-most-one recommends at most one', async (t) => {
  const suggestion = { label: 'Do it', actions: [{ type: 'delete', description: 'Remove', resourceId: 'ServiceRequest/1' }] }
  t.same(issuePaths(Card.safeParse(card({ suggestions: [suggestion] }))), ['selectionBehavior'], 'cds-resp-6')
  t.ok(Card.safeParse(card({ suggestions: [suggestion], selectionBehavior: 'any' })).success)
  t.same(issuePaths(Card.safeParse(card({ suggestions: [suggestion], selectionBehavior: 'all' }))), ['selectionBehavior'], 'at-most-one | any')
  const two = [{ ...suggestion, isRecommended: true }, { ...suggestion, label: 'Or this', isRecommended: true }]
  t.same(issuePaths(Card.safeParse(card({ suggestions: two, selectionBehavior: 'at-most-one' }))), ['suggestions'], 'cds-resp-1')
  t.ok(Card.safeParse(card({ suggestions: two, selectionBehavior: 'any' })).success, 'any may recommend several')
  t.ok(Card.safeParse(card({ selectionBehavior: 'at-most-one' })).success, 'a selectionBehavior without suggestions is not an error')
})

t.test('cds-resp-7: actionSelectionBehavior all | any | at-most-one', async (t) => {
  const suggestion = { label: 'Do it', actionSelectionBehavior: 'some' }
  t.same(issuePaths(Card.safeParse(card({ suggestions: [suggestion], selectionBehavior: 'any' }))), ['suggestions/0/actionSelectionBehavior'])
  t.ok(Card.safeParse(card({ suggestions: [{ ...suggestion, actionSelectionBehavior: 'at-most-one' }], selectionBehavior: 'any' })).success)
})

t.test('CdsServiceResponse: cards required (may be empty); no empty optional arrays', async (t) => {
  t.ok(CdsServiceResponse.safeParse({ cards: [] }).success)
  t.same(issuePaths(CdsServiceResponse.safeParse({})), ['cards'])
  t.same(issuePaths(CdsServiceResponse.safeParse({ cards: [], systemActions: [] })), ['systemActions'])
  t.same(issuePaths(CdsServiceResponse.safeParse({ cards: [card({ links: [] })] })), ['cards/0/links'])
})

t.test('Discovery: hook, description and id required; 3.0 version and hookVersion accepted', async (t) => {
  const service = { hook: 'patient-view', description: 'd', id: 'x', version: '2.0.1', hookVersion: '1.0', prefetch: { patient: 'Patient/{{context.patientId}}' } }
  t.ok(Discovery.safeParse({ services: [service] }).success)
  t.same(issuePaths(Discovery.safeParse({ services: [{ ...service, id: undefined }] })), ['services/0/id'])
  t.same(issuePaths(Discovery.safeParse({ services: [{ ...service, prefetch: { patient: '' } }] })), ['services/0/prefetch/patient'])
})

t.test('OperationOutcome: one issue or more, FHIR severities and issue types; §9 codes per status', async (t) => {
  const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'context.patientId is required', expression: ['context.patientId'] }] }
  t.ok(OperationOutcome.safeParse(outcome).success)
  t.same(issuePaths(OperationOutcome.safeParse({ ...outcome, issue: [] })), ['issue'])
  t.same(issuePaths(OperationOutcome.safeParse({ ...outcome, issue: [{ severity: 'bad', code: 'invalid' }] })), ['issue/0/severity'])
  t.same(issuePaths(OperationOutcome.safeParse({ ...outcome, issue: [{ severity: 'error', code: 'oops' }] })), ['issue/0/code'])
  t.same(issuePaths(OperationOutcome.safeParse({ ...outcome, resourceType: 'Bundle' })), ['resourceType'])
  t.same(ISSUE_TYPE_BY_STATUS, { 400: 'invalid', 401: 'security', 404: 'not-found', 405: 'not-supported', 412: 'processing', 413: 'too-costly', 415: 'not-supported', 429: 'throttled', 500: 'exception', 503: 'transient' })
  for (const code of Object.values(ISSUE_TYPE_BY_STATUS)) t.ok(OperationOutcome.safeParse({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] }).success, code)
})
