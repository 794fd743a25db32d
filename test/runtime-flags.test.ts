import { readFileSync } from 'node:fs'
import t from 'tap'
import { PRODUCTION_NODE_FLAGS } from '../bench/node-flags.js'

// The benchmark measures the server as it runs in production: the same Node flags everywhere.
t.test('Dockerfile, npm start and the benchmark start the compiled server with the same flags', async (t) => {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8')
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts
  for (const flag of PRODUCTION_NODE_FLAGS) {
    t.match(dockerfile, `"node", "${flag}", "dist/server.js"`, 'Dockerfile CMD')
    t.match(scripts.start, `node ${flag} dist/server.js`, 'npm start')
  }
  t.equal(scripts.prestart, 'node scripts/build-if-stale.mjs', 'npm start builds dist/ first when it is stale')
  // exec: the shell npm runs the script in is replaced by node, so a SIGTERM sent to npm (which
  // forwards it to its child) reaches the server and drains it, instead of orphaning it.
  t.match(scripts.start, /^exec node /, 'npm start execs node')
})
