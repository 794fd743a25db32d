import t from 'tap'
import { finishDocument, groupOf, operationIdOf, serversFor, type OpenApiDocument, type RouteGroup } from '../src/plugins/openapi-document.js'

const servers = serversFor(undefined)
const problemRef = { $ref: '#/components/schemas/Problem' }
const undescribedProblem = { description: 'Default Response', content: { 'application/json': { schema: problemRef } } }
const undescribedOutcome = { description: 'Default Response', content: { 'application/json': { schema: { $ref: '#/components/schemas/OperationOutcome' } } } }

t.test('a path belongs to the group whose prefix is the path or one of its parents', async (t) => {
  t.equal(groupOf('/v1')?.prefix, '/v1')
  t.equal(groupOf('/v1/rulesets')?.prefix, '/v1')
  t.equal(groupOf('/cds-services/x/feedback')?.prefix, '/cds-services')
  t.equal(groupOf('/v10/rulesets'), undefined, 'a prefix is a whole segment')
  t.equal(groupOf('/documentation'), undefined)
})

t.test('operationIds: the public names, else method and path in camelCase', async (t) => {
  t.equal(operationIdOf('post', '/v1/recommendations'), 'evaluateCase')
  t.equal(operationIdOf('get', '/metrics'), 'getMetrics')
  t.equal(operationIdOf('delete', '/v2/cases/{caseId}/notes-draft'), 'deleteV2CasesCaseIdNotesDraft')
})

t.test('identical input and output copies become one; different ones stay; unused schemas go', async (t) => {
  const document = finishDocument({
    paths: {
      '/v1/things': {
        post: {
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingInput' } } } },
          responses: { 200: { description: 'Default Response', content: { 'application/json': { schema: { $ref: '#/components/schemas/Answer' } } } } }
        }
      }
    },
    components: {
      schemas: {
        Part: { type: 'object', description: 'a part' },
        PartInput: { type: 'object', description: 'a part' },
        Thing: { type: 'object', properties: { part: { $ref: '#/components/schemas/Part' } } },
        ThingInput: { type: 'object', properties: { part: { $ref: '#/components/schemas/PartInput' } } },
        Answer: { type: 'object', additionalProperties: false, properties: { thing: { $ref: '#/components/schemas/Thing' } } },
        AnswerInput: { type: 'object', properties: { thing: { $ref: '#/components/schemas/ThingInput' } } },
        Orphan: { type: 'string' },
        Problem: { type: 'object' }
      }
    }
  }, { servers })
  t.strictSame(Object.keys(document.components?.schemas ?? {}), ['Part', 'Thing', 'Answer', 'Problem'])
  const operation = document.paths?.['/v1/things']?.post
  t.strictSame((operation?.requestBody as { content: Record<string, unknown> }).content['application/json'], { schema: { $ref: '#/components/schemas/Thing' } })
  t.equal(operation?.operationId, 'postV1Things')
  t.equal((operation?.responses?.['200'] as { description: string }).description, 'Success.', 'a component without a description: a plain one')
})

t.test('a copy that differs only through a ref to a copy that differs stays apart', async (t) => {
  const document = finishDocument({
    paths: { '/v1/a': { post: { requestBody: { $ref: '#/components/schemas/OuterInput' }, responses: { 200: { $ref: '#/components/schemas/Outer' } } } } },
    components: {
      schemas: {
        Inner: { type: 'object', additionalProperties: false },
        InnerInput: { type: 'object' },
        Outer: { properties: { inner: { $ref: '#/components/schemas/Inner' } } },
        OuterInput: { properties: { inner: { $ref: '#/components/schemas/InnerInput' } } },
        Problem: {}
      }
    }
  }, { servers })
  t.strictSame(Object.keys(document.components?.schemas ?? {}).sort(), ['Inner', 'InnerInput', 'Outer', 'OuterInput', 'Problem'])
})

t.test('errors: shared responses for undescribed group errors, route-specific ones kept under the group\'s media types', async (t) => {
  const custom = { description: 'Conflict of a special kind', content: { 'application/json': { schema: problemRef } } }
  const otherSchema = { description: 'Default Response', content: { 'application/json': { schema: { type: 'object', description: 'inline error' } } } }
  const document = finishDocument({
    tags: [{ name: 'used' }, { name: 'unused' }],
    paths: {
      '/cds-services/x': {
        parameters: [] as unknown as Record<string, never>,
        post: { tags: ['used'], responses: { default: undescribedProblem, 404: undescribedOutcome, 409: custom, 500: { $ref: '#/components/responses/Existing' }, 200: { description: 'Default Response' } } }
      },
      '/v1/y': { get: { security: [{ Other: [] }], responses: { 418: otherSchema, '4XX': undescribedProblem, 400: { description: 'Default Response' } } } },
      '/elsewhere': { get: { responses: { 400: undescribedProblem, 200: { description: 'Default Response', content: { 'text/plain': { schema: { description: 'Some text.' } } } } } } }
    },
    components: { schemas: { Problem: {}, OperationOutcome: {} }, responses: { Existing: { description: 'kept' } }, headers: { Kept: {} } }
  }, { servers })
  const cds = document.paths?.['/cds-services/x']?.post
  t.strictSame(Object.keys(cds?.responses ?? {}), ['200', '401', '404', '409', '429', '500', '503', 'default'], 'in status order, default last')
  t.strictSame(cds?.responses?.['404'], { $ref: '#/components/responses/NotFoundOutcome' })
  t.strictSame(cds?.responses?.['409'], { description: 'Conflict of a special kind', content: { 'application/json': { schema: problemRef }, 'application/fhir+json': { schema: problemRef } } })
  t.strictSame(cds?.responses?.['500'], { $ref: '#/components/responses/Existing' }, 'a route\'s own ref is kept')
  t.equal((cds?.responses?.default as { description: string }).description, 'Error default.')
  t.strictSame(cds?.security, [{ CdsHooksJwt: [] }])
  t.strictSame(document.paths?.['/cds-services/x']?.parameters, [], 'path-level keys pass through')
  const v1 = document.paths?.['/v1/y']?.get
  t.strictSame(v1?.security, [{ Other: [] }], 'a route\'s own security wins')
  t.strictSame(v1?.responses?.['418'], { description: 'inline error', content: { 'application/problem+json': { schema: { type: 'object', description: 'inline error' } } } })
  t.strictSame(v1?.responses?.['400'], { description: 'Error 400.' }, 'an error without a body keeps none')
  t.equal((v1?.responses?.['4XX'] as { description: string }).description, 'Error 4XX.', 'a range is no single status: no shared response')
  const elsewhere = document.paths?.['/elsewhere']?.get
  t.equal(elsewhere?.security, undefined, 'outside every group: no security, so that the lint flags the new group')
  t.strictSame(Object.keys(elsewhere?.responses ?? {}), ['200', '400'])
  t.equal((elsewhere?.responses?.['200'] as { description: string }).description, 'Some text.')
  t.equal((elsewhere?.responses?.['400'] as { description: string }).description, 'Error 400.')
  t.strictSame(document.tags, [{ name: 'used' }])
  const responses = document.components?.responses ?? {}
  t.strictSame(Object.keys(responses).sort(), ['Existing', 'NotFoundOutcome', 'ServiceUnavailableOutcome', 'TooManyRequestsOutcome', 'UnauthorizedOutcome', 'UnauthorizedProblem', 'ServiceUnavailableProblem', 'TooManyRequestsProblem'].sort())
  t.equal(responses.NotFoundOutcome?.description, 'Error 404.', 'a status without a description of its own')
  t.strictSame(Object.keys(document.components?.headers ?? {}), ['Kept', 'WwwAuthenticate', 'RetryAfter'])
})

t.test('a status without a name of its own, groups of one\'s choosing, a document without tags or schemas', async (t) => {
  const groups: RouteGroup[] = [{ prefix: '/x', errorBody: 'problem', security: [], errors: [418] }]
  const document = finishDocument({ paths: { '/x': { get: { responses: {} } } } } satisfies OpenApiDocument, { groups, servers })
  t.strictSame(document.paths?.['/x']?.get?.responses, { 418: { $ref: '#/components/responses/Status418Problem' } })
  t.equal(document.components?.responses?.Status418Problem?.description, 'Error 418.')
  t.equal(document.tags, undefined)
  t.equal(document.components?.schemas, undefined)
  t.strictSame(finishDocument({}, { servers }).paths, {})
  const own = finishDocument({ paths: { '/health/x': { get: { operationId: 'mine' } } } }, { servers }).paths?.['/health/x']?.get
  t.strictSame(own, { operationId: 'mine', security: [], responses: {} }, 'a route\'s own operationId wins; no responses, none added')
})

t.test('servers: the serving host, and first the public URL when there is one', async (t) => {
  t.strictSame(serversFor(undefined), [{ url: '/', description: 'The host serving this document' }])
  t.strictSame(serversFor('https://gw.test/x').map(({ url }) => url), ['https://gw.test/x', '/'])
})
