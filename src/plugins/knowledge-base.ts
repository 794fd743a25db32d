import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Recommender } from '../engine/recommender.js'
import { prepareKnowledgeBase, type PreparedKnowledgeBase } from '../engine/knowledge-base.js'
import type { RuleRunnerName } from '../engine/rule-runners.js'
import { loadKnowledgeBase } from '../engine/load-rules.js'
import { ENGINE_VERSION, SERVICE_INFO } from '../service-info.js'

/**
 * Loads, validates and compiles the rulesets at startup and decorates the app with them.
 * A knowledge base given as a promise (tests) leaves the app "not ready" (503) until it resolves.
 */

export interface KnowledgeState {
  /** Undefined until every ruleset is loaded and valid. */
  kb: PreparedKnowledgeBase | undefined
  recommender: Recommender | undefined
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
  const state: KnowledgeState = { kb: undefined, recommender: undefined, evaluator: options.evaluator }
  const install = (kb: PreparedKnowledgeBase): void => {
    state.kb = kb
    state.recommender = new Recommender(kb, { service: SERVICE_INFO, engineVersion: ENGINE_VERSION, evaluator: options.evaluator })
    app.log.info({
      rulesets: kb.rulesets.map(({ id, version, digest }) => ({ id, version, digest })),
      rules: kb.rulesets.reduce((count, ruleset) => count + ruleset.rules.length, 0),
      references: kb.references.size,
      evaluator: options.evaluator
    }, 'knowledge base loaded')
  }
  app.decorate('knowledge', state)
  const supplied = options.knowledgeBase
  if (supplied instanceof Promise) {
    supplied.then(install, (error: unknown) => { app.log.error({ err: error }, 'knowledge base failed to load') })
  } else {
    // A bad rule file throws here and stops startup: never serve from a half-valid knowledge base.
    install(supplied ?? prepareKnowledgeBase(loadKnowledgeBase(options.rulesDir)))
  }
}

export default fp(knowledgeBasePlugin, { name: 'knowledge-base', fastify: '5.x' })
