import { readFileSync } from 'node:fs'
import t from 'tap'
import { generateOpenApi } from '../scripts/generate-openapi.js'
import { buildTestApp } from './fixtures/build-app.js'
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
  const patient = document.components.schemas.PatientInput
  t.match(patient.properties.ecog.description, /ECOG/)
  t.match(document.components.schemas.SpineLesionInput.properties.sinsTotal.description, /Spinal Instability Neoplastic Score/)
  t.match(document.components.schemas.SpineLesionInput.properties.bilsky.description, /Bilsky/)
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
    // fastify-type-provider-zod emits an input and an output copy of shared schemas; check each once.
    if (name.endsWith('Input') && name.slice(0, -'Input'.length) in schemas) continue
    if (schema.description === undefined) missing.push(`${name} (schema)`)
    missing.push(...undescribed(schema, name))
  }
  t.strictSame(missing, [])
})
