import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

/**
 * The honest ceiling (issue 10): a bare Fastify POST route that parses the request as the service
 * does (Fastify's JSON parser) and sends, for the case's `caseId`, the very bytes the service
 * returned for that case, captured by the bench runner before the run. Same parsing, same bytes on
 * the wire, nothing else: no validation, no rules, no serialisation, no logging.
 */
const port = Number(process.env.PORT)
// Encoded once, here: the ceiling sends bytes, and pays nothing per request for turning text into them.
const responses = new Map(Object.entries(JSON.parse(readFileSync(process.env.CEILING_RESPONSES as string, 'utf8')) as Record<string, string>)
  .map(([caseId, text]) => [caseId, Buffer.from(text, 'utf8')]))

const app = Fastify({ logger: false })
app.post('/v1/recommendations', async (request, reply) => {
  const caseId = (request.body as { caseId?: unknown } | null)?.caseId
  const bytes = typeof caseId === 'string' ? responses.get(caseId) : undefined
  if (bytes === undefined) return await reply.code(404).send()
  return await reply.type('application/json; charset=utf-8').send(bytes)
})
await app.listen({ host: '127.0.0.1', port })
process.send?.('ready')
