import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { SERVICE_INFO } from '../service-info.js'
import { finishDocument, SECURITY_SCHEMES, serversFor, type OpenApiDocument } from './openapi-document.js'

/**
 * OpenAPI 3.1 from the zod schemas (one source of truth), Swagger UI at /documentation, and the
 * example cases of openapi/examples/ as request examples so that "Try it out" works at once. What
 * the route groups add to every operation (security, error bodies, 401/429/503, operationIds) is
 * added by finishDocument (openapi-document.ts), keyed on the path prefix: route modules declare
 * only what is theirs.
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
  'Errors are RFC 9457 `application/problem+json` (under `/cds-services`, FHIR OperationOutcome); unknown request keys are',
  'rejected (400) so that a misspelt clinical fact is never silently dropped. Every response carries `x-request-id` (a safe',
  'client-supplied value is echoed). A client over its rate limit gets 429, an overloaded service 503, both with `Retry-After`.',
  '',
  'Authentication: `/v1` takes an optional API key (`X-API-Key`, required only where the site sets API_KEYS); `/cds-services`',
  'takes the CDS Hooks JWT of a registered EHR (`Authorization: Bearer`); health probes take none.'
].join('\n')

interface RequestBody { content?: Record<string, { examples?: unknown }> }

/** Adds the named examples to the request body of POST /v1/recommendations (Swagger UI offers them in "Try it out"). */
export function withRequestExamples (document: OpenApiDocument, examples: Record<string, NamedExample>): OpenApiDocument {
  const media = (document.paths?.['/v1/recommendations']?.post?.requestBody as RequestBody | undefined)?.content?.['application/json']
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

export interface SwaggerOptions {
  /** PUBLIC_BASE_URL: offered as the first server, for a document read through the gateway (see serversFor). */
  publicBaseUrl?: string | undefined
}

async function swaggerPlugin (app: FastifyInstance, options: SwaggerOptions): Promise<void> {
  const examples = loadRequestExamples()
  const servers = serversFor(options.publicBaseUrl)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'HER2+ metastatic breast cancer with bone metastases — recommendation API', version: SERVICE_INFO.version, description: DESCRIPTION, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
      // Declared here, not in finishDocument: @fastify/swagger looks up the schemes a route's own `security` names.
      components: { securitySchemes: SECURITY_SCHEMES },
      // A tag no documented operation uses is dropped (finishDocument).
      tags: [
        { name: 'recommendations', description: 'Evaluate a case' },
        { name: 'knowledge base', description: 'Rulesets and evidence, for review' },
        { name: 'cds-hooks', description: 'CDS Hooks 2.0 services for EHRs (errors are FHIR OperationOutcome)' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'metrics', description: 'Prometheus metrics' }
      ]
    },
    transform: transformRouteSchema,
    transformObject: (document) => finishDocument(withRequestExamples(jsonSchemaTransformObject(document) as OpenApiDocument, examples), { servers })
  })
  await app.register(swaggerUi, { routePrefix: '/documentation', uiConfig: { tryItOutEnabled: true, deepLinking: true } })
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' })
