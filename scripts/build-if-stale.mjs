/**
 * `npm start` runs the compiled server (`dist/server.js`); this script, its `prestart`, compiles
 * `src/` first when `dist/` is missing or older than what it is built from. Plain JavaScript with
 * Node's built-ins only: it has to run before anything is compiled, and it costs a few milliseconds
 * when there is nothing to do. Run from the package root (npm does).
 *
 * A build counts only once `tsc` exits 0: the stamp `dist/.build-stamp` is written then, so a build
 * that failed (tsc still emits JavaScript on type errors) is retried on the next start instead of
 * being served. `dist/` is emptied first, so a deleted source file leaves no compiled copy behind.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json']
const ENTRY = join('dist', 'server.js')
const STAMP = join('dist', '.build-stamp')

/** The newest modification time under a path (a directory's own time covers added and deleted files). */
function newestChange (path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stat.mtimeMs)
}

/** Why dist/ must be rebuilt, or undefined when it is up to date. */
function staleReason (root) {
  if (!existsSync(join(root, ENTRY))) return `${ENTRY} is missing`
  if (!existsSync(join(root, STAMP))) return 'no completed build is recorded'
  const built = statSync(join(root, STAMP)).mtimeMs
  const changed = INPUTS.find((input) => existsSync(join(root, input)) && newestChange(join(root, input)) > built)
  return changed === undefined ? undefined : `${changed} changed since the last build`
}

function build (root) {
  let tsc
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
  } catch {
    process.stderr.write('build-if-stale: TypeScript is not installed; run npm ci first.\n')
    return 1
  }
  rmSync(join(root, 'dist'), { recursive: true, force: true })
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    process.stderr.write(`build-if-stale: tsc -p tsconfig.build.json failed (exit ${String(result.status)}); not starting.\n`)
    return 1
  }
  writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`)
  return 0
}

const root = process.cwd()
const reason = staleReason(root)
if (reason !== undefined) {
  process.stderr.write(`build-if-stale: building dist/ (${reason}) …\n`)
  process.exitCode = build(root)
}
