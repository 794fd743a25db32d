import t from 'tap'
import { compileFastSerializer } from '../../src/http/serializer.js'
import { RecommendationResponse } from '../../src/schemas/recommendation.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { loadExamples } from '../fixtures/expectations.js'

// The body on the wire is the very JSON the recommendation writer gives, ASCII only (its "–", "≥",
// "é" written as \u escapes: src/http/serializer.ts asciiJson), with Content-Length its length in bytes.
const write = compileFastSerializer(RecommendationResponse)

t.test('the response body is the writer\'s JSON in UTF-8, with its byte length', async (t) => {
  const app = await buildTestApp(t)
  for (const example of loadExamples()) {
    const response = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: example.case as object })
    t.equal(response.statusCode, 200, example.name)
    const bytes = response.rawPayload
    t.equal(Number(response.headers['content-length']), bytes.length, `${example.name}: Content-Length counts bytes`)
    t.ok(bytes.every((byte) => byte < 0x80), `${example.name}: ASCII only`)
    const text = bytes.toString('utf8')
    t.match(text, /\\u2013|\\u2265|\\u00e9/, `${example.name}: the characters beyond ASCII are escaped`)
    t.equal(text, write(JSON.parse(text)), `${example.name}: the bytes are the writer's JSON`)
  }
})
