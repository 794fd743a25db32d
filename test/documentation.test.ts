import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { chromium } from 'playwright-core'
import { buildTestApp } from './fixtures/build-app.js'
import { loadRequestExamples } from '../src/plugins/swagger.js'

// Swagger UI in a real (headless) browser: every request example can be sent with "Try it out"
// (with the explain example it fills in) and comes back 200. .ci/run installs Debian's Chromium; without it (a developer machine that
// lacks it) the test is skipped locally, never in CI.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)

t.test('Swagger UI: "Try it out" sends every example case and shows a 200', { skip: available ? false : `no browser at ${CHROMIUM}` }, async (t) => {
  const app = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage()
  // Helmet's Content-Security-Policy is on every response: the UI must work under it, with no violation reported.
  const violations: string[] = []
  page.on('console', (message) => { if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text()) })
  const documentation = await page.goto(`http://127.0.0.1:${port}/documentation`)
  t.match(documentation?.headers()['content-security-policy'], /default-src 'self'/, 'the page is served under helmet\'s CSP')
  await page.locator('.opblock-summary-path').filter({ hasText: '/v1/recommendations' }).first().click()
  const select = page.locator('.examples-select select').first()
  const summaries = Object.values(loadRequestExamples()).map((example) => example.summary)
  t.strictSame((await select.locator('option').allTextContents()).sort(), [...summaries].sort(), 'the examples are offered')
  for (let index = 0; index < summaries.length; index++) {
    await select.selectOption({ index })
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/v1/recommendations' && response.request().method() === 'POST')
    await page.getByRole('button', { name: 'Execute' }).click()
    const response = await answered
    t.equal(response.status(), 200, summaries[index] ?? String(index))
    // "Try it out" fills in the explain example (revision 8), so the answer explains those options.
    t.equal(new URL(response.url()).searchParams.get('explain'), 'tdxd,sbrt_spine')
    t.match(await response.json(), { requestId: String, recommendations: Array, explanations: [{ option: 'tdxd' }, { option: 'sbrt_spine' }] })
    await page.locator('.live-responses-table .response-col_status').first().waitFor()
  }
  t.strictSame(violations, [], 'no Content-Security-Policy violation')
})
