import t from 'tap'
import {
  CdsHookRequest, DraftOrders, FeedbackRequest, FhirAuthorization, OrderSelectContext, OrderSelectRequest,
  PATIENT_ID_PATTERN, PatientViewRequest, SELECTION_PATTERN
} from '../../src/schemas/cds-hooks-request.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

const hookInstance = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea'
const patientView = { hook: 'patient-view', hookInstance, context: { userId: 'Practitioner/1', patientId: 'p-1.a' } }
const orderSelect = {
  hook: 'order-select',
  hookInstance,
  context: {
    userId: 'Practitioner/1',
    patientId: 'p1',
    selections: ['MedicationRequest/mr-1'],
    draftOrders: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: 'mr-1' } }] }
  }
}

const paths = (result: { success: boolean, error?: { issues: Array<{ path: PropertyKey[] }> } }): string[] =>
  (result.error?.issues ?? []).map((issue) => issue.path.join('.'))

interface ManifestEntry { file: string, kind: string, expect: string }

t.test('the request-kind examples of the CDS Hooks spec are valid or invalid as the manifest says', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const manifest = readThirdPartyJson<{ examples: ManifestEntry[] }>('cds-hooks-spec/manifest.json')
  const requests = manifest.examples.filter((entry) => entry.kind === 'request')
  t.ok(requests.length >= 3)
  for (const entry of requests) {
    const result = CdsHookRequest.safeParse(readThirdPartyJson(`cds-hooks-spec/${entry.file}`))
    t.equal(result.success, entry.expect === 'valid', `${entry.file}: ${entry.expect}`)
  }
  // The one invalid request lacks context.patientId (extensions-request.json), and nothing else fails.
  t.strictSame(paths(CdsHookRequest.safeParse(readThirdPartyJson('cds-hooks-spec/examples/extensions-request.json'))), ['context.patientId'])
})

t.test('the feedback examples of the CDS Hooks spec are valid', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const manifest = readThirdPartyJson<{ examples: ManifestEntry[] }>('cds-hooks-spec/manifest.json')
  const feedback = manifest.examples.filter((entry) => entry.kind === 'feedback')
  t.equal(feedback.length, 3)
  for (const entry of feedback) {
    t.equal(FeedbackRequest.safeParse(readThirdPartyJson(`cds-hooks-spec/${entry.file}`)).success, entry.expect === 'valid', entry.file)
  }
})

t.test('the fhirAuthorization and context fragments match their sub-schemas', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const authorization = readThirdPartyJson<{ fhirAuthorization: unknown }>('cds-hooks-spec/examples/fhir-authorization-example.json')
  t.ok(FhirAuthorization.safeParse(authorization.fhirAuthorization).success)
  for (const file of ['prefetch-token-context-draftorders.json', 'prefetch-token-context-draftorders-2.json']) {
    // draftOrders without `type` (§4.5).
    const context = readThirdPartyJson<{ context: { draftOrders: { type?: string } } }>(`cds-hooks-spec/examples/${file}`).context
    t.equal(context.draftOrders.type, undefined, file)
    t.ok(DraftOrders.safeParse(context.draftOrders).success, file)
  }
  const token = readThirdPartyJson<{ context: { patientId: string } }>('cds-hooks-spec/examples/prefetch-token-example-context.json')
  t.match(token.context.patientId, PATIENT_ID_PATTERN)
})

t.test('the hook library order-select context, wrapped in a request, is a valid order-select request', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const { context } = readThirdPartyJson<{ context: unknown }>('cds-hooks-library/order-select.r4.context.json')
  t.ok(OrderSelectContext.safeParse(context).success)
  t.ok(OrderSelectRequest.safeParse({ hook: 'order-select', hookInstance, context }).success)
  // order-sign has no selections: a valid hook request, not an order-select one.
  const sign = readThirdPartyJson<{ context: unknown }>('cds-hooks-library/order-sign.r4.context.json').context
  t.ok(CdsHookRequest.safeParse({ hook: 'order-sign', hookInstance, context: sign }).success)
  t.strictSame(paths(OrderSelectRequest.safeParse({ hook: 'order-select', hookInstance, context: sign })), ['context.selections'])
})

t.test('the Inferno CRD order-select request (draftOrders without type) is valid', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const request = readThirdPartyJson<{ context: { draftOrders: { type?: string } } }>('inferno-crd/order_select_hook_request.json')
  t.equal(request.context.draftOrders.type, undefined)
  t.ok(OrderSelectRequest.safeParse(request).success)
})

t.test('unknown members pass through at every level (§1)', async (t) => {
  const parsed = PatientViewRequest.parse({
    ...patientView,
    extension: { 'com.example.x': 1 },
    context: { ...patientView.context, encounterId: 'e1' },
    fhirServer: 'https://ehr.example.org/fhir',
    fhirAuthorization: { access_token: 'a', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c', extra: true }
  }) as Record<string, unknown>
  t.strictSame(parsed.extension, { 'com.example.x': 1 })
  t.equal((parsed.context as Record<string, unknown>).encounterId, 'e1')
  t.equal((parsed.fhirAuthorization as Record<string, unknown>).extra, true)
})

t.test('hook, hookInstance and fhirServer', async (t) => {
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, hook: 'order-select' })), ['hook'])
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, hookInstance: 'not-a-uuid' })), ['hookInstance'])
  // Any UUID version is a UUID (EHRs make their own).
  t.ok(PatientViewRequest.safeParse({ ...patientView, hookInstance: '00000000-0000-1000-8000-000000000000' }).success)
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, fhirServer: 'ehr.example.org/fhir' })), ['fhirServer'])
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, fhirServer: 'ftp://ehr.example.org/fhir' })), ['fhirServer'])
  t.ok(PatientViewRequest.safeParse({ ...patientView, fhirServer: 'http://localhost:8080/fhir' }).success)
})

t.test('fhirAuthorization: the first five members are required, patient optional', async (t) => {
  const authorization = { access_token: 'a', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' }
  t.ok(FhirAuthorization.safeParse(authorization).success)
  for (const member of Object.keys(authorization)) {
    const { [member as keyof typeof authorization]: _dropped, ...rest } = authorization
    t.strictSame(paths(FhirAuthorization.safeParse(rest)), [member], member)
  }
  t.ok(FhirAuthorization.safeParse({ ...authorization, patient: 'p1' }).success)
})

t.test('cds-r-1: fhirAuthorization without fhirServer is a 400', async (t) => {
  const authorization = { access_token: 'a', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' }
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, fhirAuthorization: authorization })), ['fhirServer'])
  t.ok(PatientViewRequest.safeParse({ ...patientView, fhirServer: 'https://x.org/fhir', fhirAuthorization: authorization }).success)
})

t.test('§4.3 condition 3: fhirAuthorization.patient must equal context.patientId', async (t) => {
  const authorization = { access_token: 'a', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' }
  const request = { ...patientView, fhirServer: 'https://x.org/fhir' }
  t.strictSame(paths(PatientViewRequest.safeParse({ ...request, fhirAuthorization: { ...authorization, patient: 'other' } })), ['fhirAuthorization.patient'])
  t.ok(PatientViewRequest.safeParse({ ...request, fhirAuthorization: { ...authorization, patient: 'p-1.a' } }).success)
})

t.test('context: userId and patientId are required for both hooks; patientId is a FHIR id', async (t) => {
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, context: { patientId: 'p1' } })), ['context.userId'])
  t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, userId: undefined } })), ['context.userId'])
  for (const bad of ['', 'a b', 'p/1', 'p%31', 'x'.repeat(65), 'ü']) {
    t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, context: { userId: 'u', patientId: bad } })), ['context.patientId'], JSON.stringify(bad))
  }
  t.ok(PatientViewRequest.safeParse({ ...patientView, context: { userId: 'u', patientId: 'x'.repeat(64) } }).success)
})

t.test('ord-1: each selection is {type}/{id}; at least one', async (t) => {
  t.ok(OrderSelectRequest.safeParse(orderSelect).success)
  for (const bad of ['MedicationRequest', 'MedicationRequest/', 'Medication Request/1', 'MedicationRequest/a/b', '1Type/x', 'MedicationRequest/a b']) {
    t.notOk(SELECTION_PATTERN.test(bad), bad)
    t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, selections: [bad] } })), ['context.selections.0'], bad)
  }
  t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, selections: [] } })), ['context.selections'])
})

t.test('draftOrders is a Bundle whose type may be missing', async (t) => {
  t.ok(OrderSelectRequest.safeParse(orderSelect).success)
  const withType = { ...orderSelect.context.draftOrders, type: 'collection' }
  t.ok(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, draftOrders: withType } }).success)
  t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, draftOrders: { resourceType: 'Parameters' } } })), ['context.draftOrders.resourceType'])
  t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, draftOrders: undefined } })), ['context.draftOrders'])
  const badEntry = { resourceType: 'Bundle', entry: [{ resource: { id: 'x' } }] }
  t.strictSame(paths(OrderSelectRequest.safeParse({ ...orderSelect, context: { ...orderSelect.context, draftOrders: badEntry } })), ['context.draftOrders.entry.0.resource.resourceType'])
})

t.test('prefetch is an object whose values are not judged here (§4.2)', async (t) => {
  t.ok(PatientViewRequest.safeParse({ ...patientView, prefetch: { patient: 'a string', markers: 42, x: null } }).success)
  t.strictSame(paths(PatientViewRequest.safeParse({ ...patientView, prefetch: ['patient'] })), ['prefetch'])
})

const item = { card: hookInstance, outcome: 'overridden', outcomeTimestamp: '2026-01-02T03:04:05Z' }

t.test('feedback: 1 to 100 items; card a UUID', async (t) => {
  t.ok(FeedbackRequest.safeParse({ feedback: [item] }).success)
  t.ok(FeedbackRequest.safeParse({ feedback: Array.from({ length: 100 }, () => item) }).success)
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [] })), ['feedback'])
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: Array.from({ length: 101 }, () => item) })), ['feedback'])
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, card: 'card-1' }] })), ['feedback.0.card'])
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, card: undefined }] })), ['feedback.0.card'])
})

t.test('cds-fb-1: outcome is accepted or overridden', async (t) => {
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, outcome: 'ignored' }] })), ['feedback.0.outcome'])
})

t.test('cds-fb-2: acceptedSuggestions is required when accepted', async (t) => {
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, outcome: 'accepted' }] })), ['feedback.0.acceptedSuggestions'])
  t.ok(FeedbackRequest.safeParse({ feedback: [{ ...item, outcome: 'accepted', acceptedSuggestions: [{ id: 's1' }] }] }).success)
  t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, outcome: 'accepted', acceptedSuggestions: [{}] }] })), ['feedback.0.acceptedSuggestions.0.id'])
})

t.test('cds-fb-3: overrideReason has a reason (with a code) or a userComment ≤ 1000', async (t) => {
  const withReason = (overrideReason: unknown): unknown => ({ feedback: [{ ...item, overrideReason }] })
  t.ok(FeedbackRequest.safeParse(withReason({ reason: { code: 'patient-refuses' } })).success, 'no system, no display')
  t.ok(FeedbackRequest.safeParse(withReason({ userComment: 'c' })).success)
  t.ok(FeedbackRequest.safeParse(withReason({ userComment: 'c'.repeat(1000) })).success)
  t.strictSame(paths(FeedbackRequest.safeParse(withReason({}))), ['feedback.0.overrideReason'])
  t.strictSame(paths(FeedbackRequest.safeParse(withReason({ reason: { system: 'x' } }))), ['feedback.0.overrideReason.reason.code'])
  t.strictSame(paths(FeedbackRequest.safeParse(withReason({ userComment: 'c'.repeat(1001) }))), ['feedback.0.overrideReason.userComment'])
})

t.test('outcomeTimestamp is an RFC 3339 date-time with an offset', async (t) => {
  for (const good of ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.123+02:00', '2026-01-02t03:04:05z', '2026-01-02T03:04:05-05:30']) {
    t.ok(FeedbackRequest.safeParse({ feedback: [{ ...item, outcomeTimestamp: good }] }).success, good)
  }
  for (const bad of ['2026-01-02T03:04:05', '2026-01-02', '2026-01-02 03:04:05Z', '2026-13-02T03:04:05Z', 'yesterday']) {
    t.strictSame(paths(FeedbackRequest.safeParse({ feedback: [{ ...item, outcomeTimestamp: bad }] })), ['feedback.0.outcomeTimestamp'], bad)
  }
})
