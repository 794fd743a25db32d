import { readFileSync } from 'node:fs'
import t from 'tap'
import { generateOpenApi } from '../scripts/generate-openapi.js'
import { buildTestApp } from './fixtures/build-app.js'
import { parseConfig } from '../src/config.js'
import { loadRequestExamples, withRequestExamples } from '../src/plugins/swagger.js'

t.test('openapi/openapi.json is what the app generates (run `npm run openapi` after an API change)', async (t) => {
  const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')
  t.equal(await generateOpenApi(), committed)
})

t.test('the document is OpenAPI 3.1 with every endpoint and described schemas', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/documentation/json' })
  t.equal(response.statusCode, 200)
  const document = response.json()
  t.equal(document.openapi, '3.1.0')
  for (const path of ['/v1/recommendations', '/v1/rulesets', '/v1/references', '/health/live', '/health/ready']) t.ok(document.paths[path], path)
  const media = document.paths['/v1/recommendations'].post.requestBody.content['application/json']
  t.strictSame(Object.keys(media.examples).sort(), Object.keys(loadRequestExamples()).sort())
  const patient = document.components.schemas.Patient
  t.match(patient.properties.ecog.description, /ECOG/)
  t.match(document.components.schemas.SpineLesion.properties.sinsTotal.description, /Spinal Instability Neoplastic Score/)
  t.match(document.components.schemas.SpineLesion.properties.bilsky.description, /Bilsky/)
})

t.test('the request examples are the example cases and are valid', async (t) => {
  const app = await buildTestApp(t)
  for (const [name, example] of Object.entries(loadRequestExamples())) {
    const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: example.value as object })
    t.equal(response.statusCode, 200, name)
  }
})

t.test('examples are attached only where the request body exists', async (t) => {
  t.strictSame(withRequestExamples({}, {}), {})
})

t.test('Swagger UI is served at /documentation', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/documentation' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/html/)
})

interface JsonSchemaNode { description?: string, $ref?: string, properties?: Record<string, JsonSchemaNode>, items?: JsonSchemaNode, anyOf?: JsonSchemaNode[], type?: unknown }

/** Every property without its own description or a $ref to a described component, by path. */
function undescribed (node: JsonSchemaNode, path: string): string[] {
  const missing: string[] = []
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const describedByRef = child.$ref !== undefined || child.items?.$ref !== undefined
    if (child.description === undefined && !describedByRef) missing.push(`${path}.${key}`)
    missing.push(...undescribed(child, `${path}.${key}`))
  }
  if (node.items !== undefined) missing.push(...undescribed(node.items, `${path}[]`))
  for (const [i, option] of (node.anyOf ?? []).entries()) missing.push(...undescribed(option, `${path}|${i}`))
  return missing
}

t.test('every schema and every field of the API has a description', async (t) => {
  const document = JSON.parse(await generateOpenApi()) as { components: { schemas: Record<string, JsonSchemaNode> } }
  const schemas = document.components.schemas
  const missing: string[] = []
  for (const [name, schema] of Object.entries(schemas)) {
    if (schema.description === undefined) missing.push(`${name} (schema)`)
    missing.push(...undescribed(schema, name))
  }
  t.strictSame(missing, [])
})

interface Operation { operationId?: string, security?: unknown, responses: Record<string, { $ref?: string }> }
interface Document {
  servers: Array<{ url: string }>
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>, responses: Record<string, { headers?: Record<string, unknown>, content: Record<string, { schema: { $ref: string } }> }> }
}

const operations = (document: Document): Array<[string, string, Operation]> =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]): [string, string, Operation] => [method, path, operation]))

const responseOf = (document: Document, ref: string | undefined): Document['components']['responses'][string] | undefined =>
  ref === undefined ? undefined : document.components.responses[ref.replace('#/components/responses/', '')]

t.test('every operation has its stable operationId, its group\'s security, and the errors its group can answer', async (t) => {
  const document = JSON.parse(await generateOpenApi()) as Document
  const ids = Object.fromEntries(operations(document).map(([method, path, operation]) => [`${method.toUpperCase()} ${path}`, operation.operationId]))
  t.strictSame(ids, {
    'GET /health/live': 'checkLiveness',
    'GET /health/ready': 'checkReadiness',
    'GET /metrics': 'getMetrics',
    'GET /v1/rulesets': 'listRulesets',
    'GET /v1/references': 'listReferences',
    'POST /v1/recommendations': 'evaluateCase',
    'GET /cds-services': 'cdsDiscovery',
    'POST /cds-services/her2-mbc-bone-mets': 'cdsPatientView',
    'POST /cds-services/her2-mbc-bone-mets/feedback': 'cdsPatientViewFeedback',
    'POST /cds-services/her2-mbc-order-check': 'cdsOrderSelect',
    'POST /cds-services/her2-mbc-order-check/feedback': 'cdsOrderSelectFeedback'
  })
  t.strictSame(document.servers, [{ url: '/', description: 'The host serving this document' }])
  for (const [method, path, operation] of operations(document)) {
    const name = `${method} ${path}`
    const cds = path.startsWith('/cds-services')
    if (path.startsWith('/health') || path === '/metrics') {
      t.strictSame(operation.security, [], `${name}: no authentication`)
      continue
    }
    t.strictSame(operation.security, cds ? [{ CdsHooksJwt: [] }] : [{ ApiKey: [] }, {}], `${name}: security`)
    for (const status of ['401', '429', '503']) t.ok(operation.responses[status], `${name}: ${status}`)
    for (const status of ['429', '503']) t.ok(responseOf(document, operation.responses[status]?.$ref)?.headers?.['Retry-After'], `${name}: ${status} has Retry-After`)
    t.ok(responseOf(document, operation.responses['401']?.$ref)?.headers?.['WWW-Authenticate'], `${name}: 401 has WWW-Authenticate`)
    for (const [status, response] of Object.entries(operation.responses)) {
      if (Number(status) < 400) continue
      const content = responseOf(document, response.$ref)?.content ?? {}
      t.strictSame(Object.keys(content), cds ? ['application/json', 'application/fhir+json'] : ['application/problem+json'], `${name}: ${status} media types`)
      for (const media of Object.values(content)) t.equal(media.schema.$ref, cds ? '#/components/schemas/OperationOutcome' : '#/components/schemas/Problem', `${name}: ${status} body`)
    }
  }
})

t.test('the error bodies are the ones the service sends: problem+json on /v1, an OperationOutcome under /cds-services', async (t) => {
  const app = await buildTestApp(t)
  const v1 = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: {} })
  t.equal(v1.statusCode, 400)
  t.match(v1.headers['content-type'], /^application\/problem\+json/)
  const cds = await app.inject({ method: 'POST', url: '/cds-services/her2-mbc-bone-mets', payload: {}, headers: { accept: 'application/fhir+json' } })
  t.equal(cds.statusCode, 400)
  t.match(cds.headers['content-type'], /^application\/fhir\+json/)
  t.equal(cds.json().resourceType, 'OperationOutcome')
})

t.test('with PUBLIC_BASE_URL, "Try it out" is offered the public URL first, then the serving host', async (t) => {
  const app = await buildTestApp(t, {}, parseConfig({ PUBLIC_BASE_URL: 'https://gateway.test/her2/' }))
  const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json() as Document
  t.strictSame(document.servers.map((server) => server.url), ['https://gateway.test/her2', '/'])
})
