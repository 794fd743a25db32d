import { createRequire } from 'node:module'

/** Name and version of the service and of json-rules-engine, for provenance and logs. */
const require = createRequire(import.meta.url)
const pkg = require('../package.json') as { name: string, version: string }
const engine = require('json-rules-engine/package.json') as { version: string }

export const SERVICE_INFO = Object.freeze({ name: pkg.name, version: pkg.version })
export const ENGINE_VERSION: string = engine.version
