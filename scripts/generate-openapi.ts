import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config.js'

/**
 * `npm run openapi`: builds the app exactly as the server does and writes the OpenAPI document it
 * serves to openapi/openapi.json (committed; test/openapi.test.ts fails when they drift apart).
 */
export async function generateOpenApi (): Promise<string> {
  const app = await buildApp(parseConfig({}), { logger: false })
  await app.ready()
  const document = `${JSON.stringify(app.swagger(), null, 2)}\n`
  await app.close()
  return document
}

/* c8 ignore next 3 -- the command-line entry; tests call generateOpenApi() and compare with the committed file */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(fileURLToPath(new URL('../openapi/openapi.json', import.meta.url)), await generateOpenApi())
}
