import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

/**
 * The ceiling to compare against: a bare Fastify POST route that accepts the same JSON body and
 * returns a fixed response of similar size (a real response of the service, read from a file the
 * bench runner writes), with no validation, no rules and no logging.
 */
const port = Number(process.env.PORT)
const response = JSON.parse(readFileSync(process.env.BASELINE_RESPONSE as string, 'utf8')) as unknown

const app = Fastify({ logger: false })
app.post('/v1/recommendations', async () => response)
await app.listen({ host: '127.0.0.1', port })
process.send?.('ready')
