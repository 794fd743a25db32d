import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { PLAIN_STRING } from '../engine/canonical-json.js'

/**
 * Response serialisation. The zod schemas define every response. For the hot response
 * (RecommendationResponse, ~57 KB per request) a zod encode cost more than the whole evaluation, so
 * the JSON Schema that zod generates from that same schema is compiled into a writer: it writes only
 * the properties the schema defines, in schema order, and skips absent ones (as zod's output does).
 * Frozen objects — the per-rule evidence, options and rule references, the cited references'
 * entries, the `because` lineages, which every response that has them shares — are written once and
 * their JSON reused, and so are the knowledge base's own strings (titles, details: `constantJson`).
 * The text is ASCII (`asciiJson`). Every other response goes through zod itself. The tests hold
 * this writer to zod's encode, with the same escapes, over the example and generated responses.
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

const BEYOND_ASCII = /[\u0080-\uffff]/g
const unicodeEscape = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`

/**
 * JSON.stringify, with every character beyond ASCII written as a \u escape (RFC 8259 §7: the same
 * JSON text to any parser). One "–" or "≥" made the whole ~50 KB response a two-byte string, which
 * V8 encodes to UTF-8 about ten times slower than an ASCII one: that encoding was the largest single
 * cost of a response. A character outside the BMP is escaped as its surrogate pair.
 */
export function asciiJson (value: unknown): string {
  if (typeof value === 'string' && PLAIN_STRING.test(value)) return `"${value}"`
  return (JSON.stringify(value) as string).replace(BEYOND_ASCII, unicodeEscape)
}

/**
 * Appends a value's JSON, piece by piece, to `out`; the writer joins the pieces once. Building the
 * text by `+=` made a rope of thousands of strings that V8 then had to flatten before sending it:
 * that flattening cost more than the evaluation.
 */
type Emitter = (value: unknown, out: string[]) => void

/**
 * The JSON of strings known before any request: the knowledge base's titles, details and messages,
 * which responses carry unchanged. Most hold a "–" or "≥", so each would otherwise be stringified
 * and escaped on every response. Filled once from the knowledge base, never from a request: a
 * client's strings are not kept.
 */
export type ConstantJson = ReadonlyMap<string, string>

export function constantJson (strings: Iterable<string>): ConstantJson {
  const json = new Map<string, string>()
  for (const text of strings) json.set(text, asciiJson(text))
  return json
}

const primitiveEmitter = (constants: ConstantJson | undefined): Emitter => (value, out) => {
  out.push((typeof value === 'string' ? constants?.get(value) : undefined) ?? asciiJson(value))
}

/** Reuses the JSON of frozen values: they cannot change, and rule data is shared by every response. */
function memoiseFrozen (emit: Emitter): Emitter {
  const written = new WeakMap<object, string>()
  return (value, out) => {
    if (!Object.isFrozen(value)) {
      emit(value, out)
      return
    }
    let json = written.get(value as object)
    if (json === undefined) {
      const own: string[] = []
      emit(value, own)
      json = own.join('')
      written.set(value as object, json)
    }
    out.push(json)
  }
}

/** Compiles a draft-7 JSON Schema (as zod writes it) into a JSON writer. */
export function compileSchemaWriter (root: JsonSchema, constants?: ConstantJson): Writer {
  const definitions = root.definitions ?? {}
  const emitPrimitive = primitiveEmitter(constants)
  const references = new Map<string, Emitter>()

  const byReference = (ref: string): Emitter => {
    const name = ref.slice(ref.lastIndexOf('/') + 1)
    let emitter = references.get(name)
    if (emitter === undefined) {
      // Compiled on first use, so that schemas may refer to each other in any order.
      let compiled: Emitter | undefined
      emitter = (value, out) => { (compiled ??= build(definitions[name] as JsonSchema))(value, out) }
      references.set(name, emitter)
    }
    return emitter
  }

  const objectEmitter = (properties: Record<string, JsonSchema>): Emitter => {
    const members = Object.entries(properties).map(([key, schema]) => {
      const prefix = `${asciiJson(key)}:`
      return { key, first: `{${prefix}`, next: `,${prefix}`, emit: build(schema) }
    })
    return (value, out) => {
      const object = value as Record<string, unknown>
      let empty = true
      for (const { key, first, next, emit } of members) {
        const member = object[key]
        if (member === undefined) continue
        out.push(empty ? first : next)
        empty = false
        emit(member, out)
      }
      out.push(empty ? '{}' : '}')
    }
  }

  /** A record: its own keys in their order (as zod's encode keeps them), each value by the one schema. */
  const recordEmitter = (emit: Emitter): Emitter => (value, out) => {
    const object = value as Record<string, unknown>
    let empty = true
    for (const key in object) {
      const member = object[key]
      if (member === undefined) continue
      out.push(`${empty ? '{' : ','}${asciiJson(key)}:`)
      empty = false
      emit(member, out)
    }
    out.push(empty ? '{}' : '}')
  }

  const arrayEmitter = (emit: Emitter): Emitter => (value, out) => {
    const array = value as unknown[]
    for (let i = 0; i < array.length; i++) {
      out.push(i === 0 ? '[' : ',')
      emit(array[i], out)
    }
    out.push(array.length === 0 ? '[]' : ']')
  }

  function build (schema: JsonSchema): Emitter {
    if (schema.$ref !== undefined) return byReference(schema.$ref)
    if (schema.allOf?.length === 1) return build(schema.allOf[0] as JsonSchema)
    if (schema.type === 'object' && schema.properties !== undefined) return memoiseFrozen(objectEmitter(schema.properties))
    if (schema.type === 'object' && typeof schema.additionalProperties === 'object') return memoiseFrozen(recordEmitter(build(schema.additionalProperties)))
    if (schema.type === 'array' && schema.items !== undefined) return memoiseFrozen(arrayEmitter(build(schema.items)))
    // Strings, numbers, booleans, enums, constants and values of any shape (`because` values).
    return emitPrimitive
  }

  const emit = build(root)
  return (value) => {
    const out: string[] = []
    emit(value, out)
    return out.join('')
  }
}

export function compileFastSerializer (schema: z.ZodType, constants?: ConstantJson): Writer {
  return compileSchemaWriter(jsonSchemaOf(schema), constants)
}

export function createSerializerCompiler (fastSchemas: ReadonlySet<z.ZodType>, constants?: ConstantJson): FastifySerializerCompiler<z.ZodType> {
  return (routeSchema) => fastSchemas.has(routeSchema.schema) ? compileFastSerializer(routeSchema.schema, constants) : zodSerializerCompiler(routeSchema)
}
