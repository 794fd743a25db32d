import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Recommender } from '../engine/recommender.js'
import { prepareKnowledgeBase, type PreparedKnowledgeBase } from '../engine/knowledge-base.js'
import type { RuleRunnerName } from '../engine/rule-runners.js'
import { loadKnowledgeBase } from '../engine/load-rules.js'
import { ENGINE_VERSION, SERVICE_INFO } from '../service-info.js'

/**
 * Loads, validates and compiles the rulesets at startup and decorates the app with them. The app
 * becomes ready (and the server listens) only once they are loaded: a knowledge base supplied as a
 * promise (tests, tools) is awaited, and a bad rule file or a rejected promise fails startup. So no
 * handler ever runs without a knowledge base, and none checks for one.
 */

export interface KnowledgeState {
  kb: PreparedKnowledgeBase
  recommender: Recommender
  /** Which rule runner the recommender uses (RULES_EVALUATOR): compiled or json-rules-engine. */
  evaluator: RuleRunnerName
}

declare module 'fastify' {
  interface FastifyInstance {
    knowledge: KnowledgeState
  }
}

export interface KnowledgeBaseOptions {
  rulesDir: string
  evaluator: RuleRunnerName
  /** Supplied instead of loading rulesDir (tests, tools). */
  knowledgeBase?: PreparedKnowledgeBase | Promise<PreparedKnowledgeBase>
}

async function knowledgeBasePlugin (app: FastifyInstance, options: KnowledgeBaseOptions): Promise<void> {
  // A bad rule file throws here and stops startup: never serve from a half-valid knowledge base.
  const kb = await (options.knowledgeBase ?? prepareKnowledgeBase(loadKnowledgeBase(options.rulesDir)))
  const recommender = new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator: options.evaluator })
  app.log.info({
    rulesets: kb.rulesets.map(({ id, version, digest }) => ({ id, version, digest })),
    rules: kb.rulesets.reduce((count, ruleset) => count + ruleset.rules.length, 0),
    references: kb.references.size,
    evaluator: options.evaluator
  }, 'knowledge base loaded')
  app.decorate('knowledge', { kb, recommender, evaluator: options.evaluator } satisfies KnowledgeState)
}

export default fp(knowledgeBasePlugin, { name: 'knowledge-base', fastify: '5.x' })
