import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { SERVICE_INFO } from '../service-info.js'

/**
 * OpenAPI 3.1 from the zod schemas (one source of truth), Swagger UI at /documentation, and the
 * example cases of openapi/examples/ as request examples so that "Try it out" works at once.
 */

/**
 * The one copy of the public example cases, `{ name, case, expect }` as the specification writes
 * them: served here as request examples (the container ships this folder) and run by the tests
 * against their `expect`.
 */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../openapi/examples/', import.meta.url))

export interface ExampleCase { name: string, case: unknown, expect: unknown }
interface NamedExample { summary: string, value: unknown }

export function loadExampleCases (dir: string = EXAMPLES_DIR): Record<string, ExampleCase> {
  const examples: Record<string, ExampleCase> = {}
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    examples[file.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ExampleCase
  }
  return examples
}

/** The example cases as OpenAPI examples: the name as summary, the case as value (no `expect`). */
export function loadRequestExamples (dir: string = EXAMPLES_DIR): Record<string, NamedExample> {
  return Object.fromEntries(Object.entries(loadExampleCases(dir))
    .map(([id, example]) => [id, { summary: example.name.replace(/^Example — /, ''), value: example.case }]))
}

const DESCRIPTION = [
  'Clinical decision support for **HER2-positive breast cancer with bone — above all vertebral — metastases**.',
  'POST a structured case and receive guideline-based recommendations for local therapy, systemic therapy by line,',
  'bone health and follow-up, each with the rule that fired, the case values that made it fire, the versioned ruleset',
  'and its evidence (with verification status).',
  '',
  'Intended users: oncologists and tumour boards, through EHR integrations. Decision support only: the multidisciplinary',
  'team decides; drug approval differs by jurisdiction. Not a substitute for emergency assessment.',
  '',
  'Errors are RFC 9457 `application/problem+json`; unknown request keys are rejected (400) so that a misspelt clinical',
  'fact is never silently dropped. Every response carries `x-request-id` (a safe client-supplied value is echoed).'
].join('\n')

interface OpenApiDocument { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { examples?: unknown }> } }>> }

/** Adds the named examples to the request body of POST /v1/recommendations (Swagger UI offers them in "Try it out"). */
export function withRequestExamples (document: OpenApiDocument, examples: Record<string, NamedExample>): OpenApiDocument {
  const media = document.paths?.['/v1/recommendations']?.post?.requestBody?.content?.['application/json']
  if (media !== undefined) media.examples = examples
  return document
}

type RouteDocument = Parameters<typeof jsonSchemaTransform>[0]
interface ContentBody { content: Record<string, { schema: unknown }> }

const isContentBody = (body: unknown): body is ContentBody =>
  typeof body === 'object' && body !== null && 'content' in body && typeof body.content === 'object' && body.content !== null

/**
 * jsonSchemaTransform, plus request bodies given per content type (`body: { content: { … } }`, as
 * POST /v1/recommendations takes a Case or a FHIR Bundle): fastify-type-provider-zod converts only a
 * body that is one zod schema, so each content type's schema is converted on its own.
 */
export function transformRouteSchema (document: RouteDocument): ReturnType<typeof jsonSchemaTransform> {
  const body = (document.schema as { body?: unknown } | undefined)?.body
  if (!isContentBody(body)) return jsonSchemaTransform(document)
  const { body: _body, ...rest } = document.schema as Record<string, unknown>
  const transformed = jsonSchemaTransform({ ...document, schema: rest } as RouteDocument)
  const content = Object.fromEntries(Object.entries(body.content).map(([type, { schema }]) => {
    const converted = jsonSchemaTransform({ ...document, schema: { body: schema } } as RouteDocument)
    return [type, { schema: (converted.schema as { body: unknown }).body }]
  }))
  return { ...transformed, schema: { ...transformed.schema, body: { content } } }
}

async function swaggerPlugin (app: FastifyInstance): Promise<void> {
  const examples = loadRequestExamples()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'HER2+ metastatic breast cancer with bone metastases — recommendation API', version: SERVICE_INFO.version, description: DESCRIPTION, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
      tags: [
        { name: 'recommendations', description: 'Evaluate a case' },
        { name: 'knowledge base', description: 'Rulesets and evidence, for review' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'metrics', description: 'Prometheus metrics' }
      ]
    },
    transform: transformRouteSchema,
    transformObject: (document) => withRequestExamples(jsonSchemaTransformObject(document) as OpenApiDocument, examples)
  })
  await app.register(swaggerUi, { routePrefix: '/documentation', uiConfig: { tryItOutEnabled: true, deepLinking: true } })
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' })
