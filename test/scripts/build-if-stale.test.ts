import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'

/**
 * `npm start`'s prestart (scripts/build-if-stale.mjs), run as npm runs it, in a scratch package
 * (in the system's temporary folder) whose `typescript/bin/tsc` is a stub: it counts its runs, writes dist/server.js, and fails when
 * told to. The real compiler is not needed to prove when the script decides to build.
 */

const SCRIPT = fileURLToPath(new URL('../../scripts/build-if-stale.mjs', import.meta.url))
const STUB_TSC = `
const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs')
appendFileSync('tsc-runs', process.argv.slice(2).join(' ') + '\\n')
if (process.env.STUB_TSC_FAIL === '1') { mkdirSync('dist', { recursive: true }); writeFileSync('dist/server.js', '// emitted despite errors'); process.exit(2) }
mkdirSync('dist', { recursive: true })
writeFileSync('dist/server.js', '// compiled')
`

function scratchPackage (t: Test, { typescript = true } = {}): string {
  // Outside the project: Node would otherwise find the real TypeScript in a parent's node_modules.
  const root = mkdtempSync(join(tmpdir(), 'build-if-stale-'))
  t.teardown(() => { rmSync(root, { recursive: true, force: true }) })
  mkdirSync(join(root, 'src'))
  writeFileSync(join(root, 'src/server.ts'), 'export {}')
  for (const file of ['tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(root, file), '{}')
  if (typescript) {
    mkdirSync(join(root, 'node_modules/typescript/bin'), { recursive: true })
    writeFileSync(join(root, 'node_modules/typescript/package.json'), '{ "name": "typescript" }')
    writeFileSync(join(root, 'node_modules/typescript/bin/tsc'), STUB_TSC)
  }
  return root
}

function run (root: string, env: Record<string, string> = {}): { status: number | null, stderr: string, tscRuns: number } {
  const result = spawnSync(process.execPath, [SCRIPT], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
  const runs = existsSync(join(root, 'tsc-runs')) ? readFileSync(join(root, 'tsc-runs'), 'utf8').trim().split('\n').length : 0
  return { status: result.status, stderr: result.stderr, tscRuns: runs }
}

/** Moves a file's modification time by a minute or more (no sleeping for the clock). */
function shiftTime (path: string, minutes: number): void {
  const time = new Date(Date.now() + minutes * 60_000)
  utimesSync(path, time, time)
}

t.test('no dist/: builds with tsconfig.build.json and records the build', async (t) => {
  const root = scratchPackage(t)
  const first = run(root)
  t.equal(first.status, 0)
  t.match(first.stderr, 'building dist/ (dist/server.js is missing)')
  t.equal(readFileSync(join(root, 'tsc-runs'), 'utf8'), '-p tsconfig.build.json\n')
  t.ok(existsSync(join(root, 'dist/.build-stamp')))
  const second = run(root)
  t.equal(second.status, 0)
  t.equal(second.stderr, '', 'up to date: silent')
  t.equal(second.tscRuns, 1, 'and no second build')
})

t.test('a source file or a tsconfig newer than the last build: rebuilds, after emptying dist/', async (t) => {
  const root = scratchPackage(t)
  t.equal(run(root).status, 0)
  writeFileSync(join(root, 'dist/left-over.js'), '// from a deleted source file')
  shiftTime(join(root, 'src/server.ts'), 1)
  const afterSource = run(root)
  t.match(afterSource.stderr, '(src changed since the last build)')
  t.equal(afterSource.tscRuns, 2)
  t.notOk(existsSync(join(root, 'dist/left-over.js')), 'nothing compiled from a deleted file survives')
  shiftTime(join(root, 'src/server.ts'), -1)
  shiftTime(join(root, 'tsconfig.build.json'), 1)
  t.match(run(root).stderr, '(tsconfig.build.json changed since the last build)')
})

t.test('a missing input is no reason to build', async (t) => {
  const root = scratchPackage(t)
  t.equal(run(root).status, 0)
  rmSync(join(root, 'tsconfig.json'))
  const result = run(root)
  t.equal(result.status, 0)
  t.equal(result.tscRuns, 1)
})

t.test('a failed build: exit 1, no stamp, so the next start builds again rather than serving it', async (t) => {
  const root = scratchPackage(t)
  const failed = run(root, { STUB_TSC_FAIL: '1' })
  t.equal(failed.status, 1)
  t.match(failed.stderr, 'tsc -p tsconfig.build.json failed (exit 2); not starting.')
  t.ok(existsSync(join(root, 'dist/server.js')), 'tsc emitted despite the errors')
  const retried = run(root)
  t.match(retried.stderr, '(no completed build is recorded)')
  t.equal(retried.status, 0)
  t.equal(retried.tscRuns, 2)
})

t.test('without TypeScript installed: says to run npm ci', async (t) => {
  const root = scratchPackage(t, { typescript: false })
  const result = run(root)
  t.equal(result.status, 1)
  t.match(result.stderr, 'TypeScript is not installed; run npm ci first.')
})
