import fastJson from 'fast-json-stringify'
import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'

/**
 * Response serialisation. The zod schemas define every response. For the hot response
 * (RecommendationResponse, tens of kilobytes per request) the JSON Schema that zod generates from
 * that same schema is compiled with fast-json-stringify, Fastify's own serialiser: it writes only
 * the fields the schema defines, in schema order, at a fraction of the cost of a zod encode (which
 * dominated request time). Every other response goes through zod itself. The tests parse every
 * recommendation response with the zod schema (property test) and hold both serialisers to the same
 * bytes.
 */
export function jsonSchemaOf (schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>
}

export function compileFastSerializer (schema: z.ZodType): (data: unknown) => string {
  return fastJson(jsonSchemaOf(schema) as unknown as Parameters<typeof fastJson>[0]) as (data: unknown) => string
}

export function createSerializerCompiler (fastSchemas: ReadonlySet<z.ZodType>): FastifySerializerCompiler<z.ZodType> {
  return (routeSchema) => fastSchemas.has(routeSchema.schema) ? compileFastSerializer(routeSchema.schema) : zodSerializerCompiler(routeSchema)
}
