import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'

/**
 * Response serialisation. The zod schemas define every response. For the hot response
 * (RecommendationResponse, ~45 KB per request) a zod encode cost more than the whole evaluation, so
 * the JSON Schema that zod generates from that same schema is compiled into a writer: it writes only
 * the properties the schema defines, in schema order, and skips absent ones (as zod's output does).
 * Frozen objects — the per-rule evidence, options and rule references, which every response of that
 * rule shares, and the cited references' entries, which every response citing them shares — are
 * written once and their JSON reused. Every other response goes through zod itself.
 * The tests hold this writer to zod's encode over the example and generated responses.
 */

interface JsonSchema {
  $ref?: string
  allOf?: JsonSchema[]
  type?: string
  properties?: Record<string, JsonSchema>
  /** A record (z.record): every own key, each value of this schema. `false` on objects with properties. */
  additionalProperties?: JsonSchema | boolean
  items?: JsonSchema
  definitions?: Record<string, JsonSchema>
}

type Writer = (value: unknown) => string

export function jsonSchemaOf (schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' }) as JsonSchema
}

/** Reuses the JSON of frozen values: they cannot change, and rule data is shared by every response. */
function memoiseFrozen (writer: Writer): Writer {
  const written = new WeakMap<object, string>()
  return (value) => {
    if (!Object.isFrozen(value)) return writer(value)
    let json = written.get(value as object)
    if (json === undefined) {
      json = writer(value)
      written.set(value as object, json)
    }
    return json
  }
}

/** Compiles a draft-7 JSON Schema (as zod writes it) into a JSON writer. */
export function compileSchemaWriter (root: JsonSchema): Writer {
  const definitions = root.definitions ?? {}
  const references = new Map<string, Writer>()

  const byReference = (ref: string): Writer => {
    const name = ref.slice(ref.lastIndexOf('/') + 1)
    let writer = references.get(name)
    if (writer === undefined) {
      // Compiled on first use, so that schemas may refer to each other in any order.
      let compiled: Writer | undefined
      writer = (value) => (compiled ??= build(definitions[name] as JsonSchema))(value)
      references.set(name, writer)
    }
    return writer
  }

  const objectWriter = (properties: Record<string, JsonSchema>): Writer => {
    const members = Object.entries(properties).map(([key, schema]) => ({ key, prefix: `${JSON.stringify(key)}:`, write: build(schema) }))
    return (value) => {
      const object = value as Record<string, unknown>
      let out = ''
      for (const { key, prefix, write } of members) {
        const member = object[key]
        if (member === undefined) continue
        out += `${out === '' ? '' : ','}${prefix}${write(member)}`
      }
      return `{${out}}`
    }
  }

  /** A record: its own keys in their order (as zod's encode keeps them), each value by the one schema. */
  const recordWriter = (write: Writer): Writer => (value) => {
    const object = value as Record<string, unknown>
    let out = ''
    for (const key in object) {
      const member = object[key]
      if (member === undefined) continue
      out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${write(member)}`
    }
    return `{${out}}`
  }

  const arrayWriter = (write: Writer): Writer => (value) => {
    const array = value as unknown[]
    let out = ''
    for (let i = 0; i < array.length; i++) out += `${i === 0 ? '' : ','}${write(array[i])}`
    return `[${out}]`
  }

  function build (schema: JsonSchema): Writer {
    if (schema.$ref !== undefined) return byReference(schema.$ref)
    if (schema.allOf?.length === 1) return build(schema.allOf[0] as JsonSchema)
    if (schema.type === 'object' && schema.properties !== undefined) return memoiseFrozen(objectWriter(schema.properties))
    if (schema.type === 'object' && typeof schema.additionalProperties === 'object') return memoiseFrozen(recordWriter(build(schema.additionalProperties)))
    if (schema.type === 'array' && schema.items !== undefined) return memoiseFrozen(arrayWriter(build(schema.items)))
    // Strings, numbers, booleans, enums, constants and values of any shape (`because` values).
    return JSON.stringify as Writer
  }

  return build(root)
}

export function compileFastSerializer (schema: z.ZodType): Writer {
  return compileSchemaWriter(jsonSchemaOf(schema))
}

/**
 * The fast writer's JSON, encoded once: given a string, Fastify measures its UTF-8 length for
 * Content-Length and then the socket encodes it again, two passes over ~50 KB that held a fifth of
 * the server's CPU under load (the text is not ASCII: "–", "≥", "é"). A Buffer costs one pass.
 */
const encodedOnce = (write: Writer) => (value: unknown): Buffer => Buffer.from(write(value), 'utf8')

export function createSerializerCompiler (fastSchemas: ReadonlySet<z.ZodType>): FastifySerializerCompiler<z.ZodType> {
  // Fastify sends a Buffer as it is; its serializer type only names strings.
  return (routeSchema) => fastSchemas.has(routeSchema.schema)
    ? encodedOnce(compileFastSerializer(routeSchema.schema)) as unknown as (data: unknown) => string
    : zodSerializerCompiler(routeSchema)
}
