import t from 'tap'
import {
  assertConformantDiscovery, assertConformantOperationOutcome, assertConformantResponse, discoveryViolations, emptyValuePaths,
  operationOutcomeViolations, ORD_1, responseViolations
} from '../support/cds-conformance.js'

/**
 * The conformance checks of test/support/cds-conformance.ts (spec §12.5): one test per invariant
 * (cds-resp-1…7, ord-1), per ported Inferno CRD card check, and for the empty-value walk. Each feeds
 * a body that breaks exactly one rule and expects that rule's violation.
 */

const source = { label: 'Knowledge base' }
const card = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ summary: 'A summary', indicator: 'info', source, ...overrides })
const response = (...cards: unknown[]): Record<string, unknown> => ({ cards })
const remove = { type: 'delete', description: 'Remove the order', resourceId: 'ServiceRequest/sr-1' }
const suggestion = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ label: 'Remove it', actions: [remove], ...overrides })
/** The violations whose id is `id`. */
const violationsOf = (id: string, body: unknown): string[] => responseViolations(body).filter((violation) => violation.startsWith(`${id}: `))

t.test('a conformant response has no violation; assertConformantResponse passes it', async (t) => {
  const body = response(card({ uuid: '91b6fc6d-7cc7-581a-92e2-4580a5b92de9', detail: 'Detail', suggestions: [suggestion()], selectionBehavior: 'any', links: [{ label: 'App', url: 'https://smart.example.org/launch', type: 'smart', appContext: 'x' }] }))
  t.same(responseViolations(body), [])
  assertConformantResponse(t, body)
  assertConformantResponse(t, { cards: [] })
})

t.test('cds-resp-1: at-most-one recommends at most one suggestion', async (t) => {
  const two = [suggestion({ isRecommended: true }), suggestion({ label: 'Other', isRecommended: true })]
  t.same(violationsOf('cds-resp-1', response(card({ suggestions: two, selectionBehavior: 'at-most-one' }))), ['cds-resp-1: cards[0] recommends more than one suggestion with selectionBehavior at-most-one'])
  t.same(violationsOf('cds-resp-1', response(card({ suggestions: two, selectionBehavior: 'any' }))), [])
})

t.test('cds-resp-2: a delete action names a resourceId and no resource', async (t) => {
  const body = response(card({ suggestions: [suggestion({ actions: [{ type: 'delete', description: 'Remove', resource: { resourceType: 'ServiceRequest' } }] })], selectionBehavior: 'any' }))
  t.same(violationsOf('cds-resp-2', body), ['cds-resp-2: cards[0].suggestions[0].actions[0] deletes by resourceId, without a resource'])
  t.same(violationsOf('cds-resp-2', response(card({ suggestions: [suggestion()], selectionBehavior: 'any' }))), [])
})

t.test('cds-resp-3: appContext only for smart links', async (t) => {
  const body = response(card({ links: [{ label: 'Page', url: 'https://example.org', type: 'absolute', appContext: 'x' }] }))
  t.same(violationsOf('cds-resp-3', body), ['cds-resp-3: cards[0].links[0] has appContext but is not a smart link'])
})

t.test('cds-resp-4: every override reason has a display', async (t) => {
  const body = response(card({ overrideReasons: [{ code: 'c', system: 'https://example.org/cs' }] }))
  t.same(violationsOf('cds-resp-4', body), ['cds-resp-4: cards[0].overrideReasons[0] has no display'])
})

t.test('cds-resp-5: every action has a description, system actions too', async (t) => {
  const body = { cards: [card({ suggestions: [suggestion({ actions: [{ type: 'delete', resourceId: 'ServiceRequest/1' }] })], selectionBehavior: 'any' })], systemActions: [{ type: 'delete', resourceId: 'ServiceRequest/2' }] }
  t.same(violationsOf('cds-resp-5', body), ['cds-resp-5: cards[0].suggestions[0].actions[0] has no description', 'cds-resp-5: systemActions[0] has no description'])
})

t.test('cds-resp-6: suggestions need a selectionBehavior', async (t) => {
  t.same(violationsOf('cds-resp-6', response(card({ suggestions: [suggestion()] }))), ['cds-resp-6: cards[0] has suggestions without selectionBehavior'])
})

t.test('cds-resp-7: actionSelectionBehavior is all, any or at-most-one', async (t) => {
  const body = response(card({ suggestions: [suggestion({ actionSelectionBehavior: 'several' })], selectionBehavior: 'any' }))
  t.same(violationsOf('cds-resp-7', body), ['cds-resp-7: cards[0].suggestions[0].actionSelectionBehavior is not all, any or at-most-one'])
  t.same(violationsOf('cds-resp-7', response(card({ suggestions: [suggestion({ actionSelectionBehavior: 'all' })], selectionBehavior: 'any' }))), [])
})

t.test('ord-1: an action\'s resourceId is {type}/{id}', async (t) => {
  t.ok(ORD_1.test('MedicationRequest/mr-1.2'))
  t.notOk(ORD_1.test('MedicationRequest/'))
  t.notOk(ORD_1.test('http://fhir.example.org/MedicationRequest/1'))
  t.notOk(ORD_1.test(`MedicationRequest/${'x'.repeat(65)}`), 'a FHIR id has at most 64 characters')
  const body = response(card({ suggestions: [suggestion({ actions: [{ ...remove, resourceId: 'sr-1' }] })], selectionBehavior: 'any' }))
  t.same(violationsOf('ord-1', body), ['ord-1: cards[0].suggestions[0].actions[0].resourceId is not {type}/{id}'])
  t.same(violationsOf('ord-1', { cards: [], systemActions: [{ ...remove, resourceId: 42 }] }), ['ord-1: systemActions[0].resourceId is not {type}/{id}'])
})

t.test('Inferno CRD: cards is an array of objects with summary, indicator and source', async (t) => {
  t.same(responseViolations({}), ['crd: the response has no cards array'])
  t.same(responseViolations({ cards: {} }), ['crd: the response has no cards array'])
  t.same(violationsOf('crd', response('card')), ['crd: cards[0] is not an object'])
  t.same(violationsOf('crd', response({ source })), ['crd: cards[0].summary is not a string', 'crd: cards[0].indicator is not a string'])
  t.same(violationsOf('crd', response(card({ source: 'kb' }))), ['crd: cards[0].source is not an object'])
})

t.test('Inferno CRD: summary under 140 characters', async (t) => {
  t.same(violationsOf('crd', response(card({ summary: 'x'.repeat(140) }))), ['crd: cards[0].summary is over the 140-character limit'])
  t.same(violationsOf('crd', response(card({ summary: 'x'.repeat(139) }))), [])
})

t.test('Inferno CRD: indicator info, warning or critical', async (t) => {
  t.same(violationsOf('crd', response(card({ indicator: 'hard-stop' }))), ['crd: cards[0].indicator must be info, warning or critical'])
})

t.test('Inferno CRD: source.label present (source.topic not required: a CRD-only rule)', async (t) => {
  t.same(violationsOf('crd', response(card({ source: { url: 'https://kb.example.org' } }))), ['crd: cards[0].source.label is not a string'])
  t.same(violationsOf('crd', response(card({ source: { label: 'no topic' } }))), [], 'no topic is fine')
})

t.test('Inferno CRD: the optional members\' types', async (t) => {
  t.same(violationsOf('crd', response(card({ uuid: 1, detail: 2, suggestions: 'x', overrideReasons: {}, links: 'y' }))), [
    'crd: cards[0].uuid is not a string', 'crd: cards[0].detail is not a string', 'crd: cards[0].suggestions is not an array',
    'crd: cards[0].overrideReasons is not an array', 'crd: cards[0].links is not an array'
  ])
})

t.test('Inferno CRD: selectionBehavior at-most-one or any when there are suggestions', async (t) => {
  t.same(violationsOf('crd', response(card({ suggestions: [suggestion()], selectionBehavior: 'all' }))), ['crd: cards[0].selectionBehavior must be at-most-one or any'])
})

t.test('Inferno CRD: override reasons with code, system and display', async (t) => {
  t.same(violationsOf('crd', response(card({ overrideReasons: [{ code: 'c', display: 'd' }] }))), ['crd: cards[0].overrideReasons[0] needs code and system'])
  t.same(responseViolations(response(card({ overrideReasons: ['reason'] }))).filter((v) => !v.startsWith('schema')), [
    'cds-resp-4: cards[0].overrideReasons[0] has no display', 'crd: cards[0].overrideReasons[0] needs code and system'
  ])
})

t.test('Inferno CRD: links with label, type and url; type absolute or smart', async (t) => {
  t.same(violationsOf('crd', response(card({ links: [{ type: 'absolute' }, { label: 'x', url: 'https://example.org', type: 'page' }, { label: 'x', url: '/relative', type: 5 }, 'link'] }))), [
    'crd: cards[0].links[0].label is not a string', 'crd: cards[0].links[0].url is not a URL',
    'crd: cards[0].links[1].type must be absolute or smart',
    'crd: cards[0].links[2].type is not a string', 'crd: cards[0].links[2].url is not a URL',
    'crd: cards[0].links[3] is not an object'
  ])
})

t.test('Inferno CRD: suggestions with a label, and actions a non-empty array', async (t) => {
  const body = response(card({ suggestions: [{ actions: [] }, { label: 'x', actions: 'a' }, 'suggestion', { label: 'y', actions: ['action'] }], selectionBehavior: 'any' }))
  t.same(violationsOf('crd', body), [
    'crd: cards[0].suggestions[0].label is not a string', 'crd: cards[0].suggestions[0].actions is an empty array',
    'crd: cards[0].suggestions[1].actions is not an array',
    'crd: cards[0].suggestions[2] is not an object',
    'crd: cards[0].suggestions[3].actions[0] is not an object'
  ])
})

t.test('the schema is checked too, and reported by path', async (t) => {
  t.same(violationsOf('schema', response(card({ summry: 'typo' }))), ['schema: /cards/0: Unrecognized key: "summry"'])
})

t.test('no null, "", [] or {} anywhere, except "cards": []', async (t) => {
  t.same(emptyValuePaths({ cards: [], a: null, b: '', c: [], d: {}, e: [{ f: '' }], 'g/h': { 'i~j': null }, k: 0, l: false }, { allowEmptyCards: true }),
    ['/a', '/b', '/c', '/d', '/e/0/f', '/g~1h/i~0j'], 'zero and false are values')
  t.same(emptyValuePaths({ cards: [] }), ['/cards'], 'only when allowed')
  t.same(emptyValuePaths({ x: { cards: [] } }, { allowEmptyCards: true }), ['/x/cards'], 'only at the top')
  t.same(violationsOf('empty', response(card({ detail: '' }))), ['empty: /cards/0/detail'])
})

t.test('discovery: the schema and no empty value anywhere (§3)', async (t) => {
  const service = { hook: 'patient-view', description: 'd', id: 'x' }
  assertConformantDiscovery(t, { services: [service] })
  t.same(discoveryViolations({ services: [{ ...service, prefetch: {} }] }), ['empty: /services/0/prefetch'])
  t.same(discoveryViolations({ services: [{ ...service, title: null }] }), ['schema: /services/0/title: Invalid input: expected string, received null', 'empty: /services/0/title'])
})

t.test('OperationOutcome: the issue code of its status (§9), 401 bare, no empty value', async (t) => {
  const outcome = (issue: Record<string, unknown>): unknown => ({ resourceType: 'OperationOutcome', issue: [issue] })
  assertConformantOperationOutcome(t, 400, outcome({ severity: 'error', code: 'invalid', diagnostics: 'context.patientId is required', expression: ['context.patientId'] }))
  assertConformantOperationOutcome(t, 401, outcome({ severity: 'error', code: 'security' }))
  t.same(operationOutcomeViolations(404, outcome({ severity: 'error', code: 'invalid' })), ['§9: a 404 carries an issue with code not-found'])
  t.same(operationOutcomeViolations(401, outcome({ severity: 'error', code: 'security', diagnostics: 'bad signature' })), ['§9: a 401 carries neither details nor diagnostics'])
  t.same(operationOutcomeViolations(418, outcome({ severity: 'error', code: 'exception' })), ['§9: no issue code is defined for status 418'])
  t.same(operationOutcomeViolations(500, outcome({ severity: 'error', code: 'exception', diagnostics: '' })), ['schema: /issue/0/diagnostics: Too small: expected string to have >=1 characters', 'empty: /issue/0/diagnostics'])
  t.same(operationOutcomeViolations(500, 'error'), ['schema: /: Invalid input: expected object, received string', '§9: a 500 carries an issue with code exception'])
})
