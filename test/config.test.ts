import t from 'tap'
import { ConfigError, DEFAULT_RULES_DIR, parseConfig } from '../src/config.js'

t.test('defaults: loopback, port 3000, info logs, bundled rules, compiled evaluator', async (t) => {
  t.strictSame(parseConfig({}), { host: '127.0.0.1', port: 3000, logLevel: 'info', rulesDir: DEFAULT_RULES_DIR, evaluator: 'compiled' })
})

t.test('every variable is read', async (t) => {
  t.strictSame(parseConfig({ HOST: '0.0.0.0', PORT: '8080', LOG_LEVEL: 'warn', RULES_DIR: '/srv/rules', RULES_EVALUATOR: 'reference' }),
    { host: '0.0.0.0', port: 8080, logLevel: 'warn', rulesDir: '/srv/rules', evaluator: 'reference' })
})

t.test('a bad value stops startup naming the variable', async (t) => {
  t.throws(() => parseConfig({ PORT: '70000' }), ConfigError)
  t.throws(() => parseConfig({ RULES_EVALUATOR: 'fast' }), /RULES_EVALUATOR/)
  t.throws(() => parseConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
})
