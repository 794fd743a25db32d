import { Recommender } from '../src/engine/recommender.js'
import { prepareKnowledgeBase } from '../src/engine/knowledge-base.js'
import { loadKnowledgeBase } from '../src/engine/load-rules.js'
import { compileFastSerializer } from '../src/http/serializer.js'
import { Case } from '../src/schemas/case.js'
import { RecommendationResponse } from '../src/schemas/recommendation.js'
import { ENGINE_VERSION, SERVICE_INFO } from '../src/service-info.js'
import { benchCase } from './cases.js'

/**
 * `npx tsx bench/response-size.ts`: the size of the JSON response body of each case of the bench mix
 * (benchCase(0..23)), written by the service's own writer, and their median (issue 10 item 2).
 * No server and no load: the bytes only. The requestId stands in for a UUID of the same length.
 */

const kb = prepareKnowledgeBase(loadKnowledgeBase(new URL('../rules/', import.meta.url).pathname))
const evaluator = new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator: 'compiled' })
const write = compileFastSerializer(RecommendationResponse)

const sizes: number[] = []
for (let i = 0; i < 24; i++) {
  const { body } = await evaluator.evaluate(Case.parse(benchCase(i)))
  sizes.push(Buffer.byteLength(write({ requestId: '00000000-0000-4000-8000-000000000000', ...body })))
}
const sorted = [...sizes].sort((a, b) => a - b)
const median = ((sorted[11] as number) + (sorted[12] as number)) / 2
process.stdout.write(`bytes per case: ${sizes.join(' ')}\nmin ${sorted[0]} · median ${median} · max ${sorted[23]} bytes\n`)
