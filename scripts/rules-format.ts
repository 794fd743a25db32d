import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * `npm run rules:format`: rewrites the rule files (`rules/*.json`) and the rule-case tables
 * (`test/fixtures/rule-cases/*.json`) in one canonical compact style, so that a clinician reads a
 * condition per line and a diff shows what changed, not how it was spaced:
 * - a leaf condition (`{ "fact", "operator", "value" }`) always on one line;
 * - an object or array that holds at most one object and fits in {@link WIDTH} columns on one line,
 *   `{ "key": value, … }` and `[a, b]`;
 * - a longer list of scalars (codes, agents) filled into lines of at most {@link WIDTH} columns;
 * - anything else over several lines, one entry per line, 2-space indentation; keys keep their order.
 * The output depends only on the parsed value, so formatting is deterministic and idempotent.
 * test/rules/format.test.ts fails when a file is not in this form.
 */

/** Columns a one-line object or array may reach, indentation, key and trailing comma included. */
export const WIDTH = 120

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

const isLeafCondition = (value: unknown): boolean =>
  isObject(value) && Object.keys(value).join() === 'fact,operator,value'

/** How many objects a value holds below itself (arrays do not count; their objects do). */
function nestedObjects (value: unknown): number {
  const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : []
  return children.reduce<number>((count, child) => count + (isObject(child) ? 1 : 0) + nestedObjects(child), 0)
}

/** The one-line form: `{ "a": 1, "b": [2, 3] }`, `{}` and `[]` when empty. */
function oneLine (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`
  if (isObject(value)) {
    const entries = Object.entries(value)
    return entries.length === 0 ? '{}' : `{ ${entries.map(([key, child]) => `${JSON.stringify(key)}: ${oneLine(child)}`).join(', ')} }`
  }
  return JSON.stringify(value)
}

/** Scalars filled into lines of at most {@link WIDTH} columns (a long list of codes or ids). */
function fill (items: string[], indent: string): string {
  const lines: string[] = []
  let line = ''
  for (const item of items) {
    if (line !== '' && indent.length + line.length + item.length + 3 > WIDTH) {
      lines.push(`${indent}${line},`)
      line = item
    } else {
      line = line === '' ? item : `${line}, ${item}`
    }
  }
  return [...lines, `${indent}${line}`].join('\n')
}

/** `value` printed at `indent`, its first line starting at column `column`. */
function print (value: unknown, indent: string, column: number): string {
  const flat = oneLine(value)
  if (!isObject(value) && !Array.isArray(value)) return flat
  const fits = column + flat.length + 1 <= WIDTH && nestedObjects(value) <= 1
  if (fits || isLeafCondition(value) || flat === '{}' || flat === '[]') return flat
  const inner = `${indent}  `
  if (Array.isArray(value) && value.every((child) => !isObject(child) && !Array.isArray(child))) return `[\n${fill(value.map(oneLine), inner)}\n${indent}]`
  const lines = Array.isArray(value)
    ? value.map((child) => `${inner}${print(child, inner, inner.length)}`)
    : Object.entries(value).map(([key, child]) => {
      const prefix = `${inner}${JSON.stringify(key)}: `
      return `${prefix}${print(child, inner, prefix.length)}`
    })
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}']
  return `${open}\n${lines.join(',\n')}\n${indent}${close}`
}

/** The canonical text of a JSON value, with a final newline. */
export function formatJson (value: unknown): string {
  return `${print(value, '', 0)}\n`
}

/** The canonical text of a JSON file's text; throws when it is not JSON. */
export function formatJsonText (text: string): string {
  return formatJson(JSON.parse(text))
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const FORMATTED_DIRS = ['rules', join('test', 'fixtures', 'rule-cases')]

/** Every file the formatter owns, as paths relative to the project's root, sorted. */
export function formattedFiles (root: string = ROOT): string[] {
  return FORMATTED_DIRS.flatMap((dir) => readdirSync(join(root, dir)).filter((name) => name.endsWith('.json')).sort().map((name) => join(dir, name)))
}

/** Rewrites every file that is not in canonical form; returns the paths it rewrote. */
export function formatFiles (root: string = ROOT): string[] {
  const changed: string[] = []
  for (const file of formattedFiles(root)) {
    const path = join(root, file)
    const text = readFileSync(path, 'utf8')
    const formatted = formatJsonText(text)
    if (formatted !== text) {
      writeFileSync(path, formatted)
      changed.push(file)
    }
  }
  return changed
}

/* c8 ignore next 4 -- the command-line entry; tests call formatFiles() on a copy and the drift test checks the real files */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const changed = formatFiles()
  console.log(changed.length === 0 ? 'rules:format: every file is in canonical form' : `rules:format: rewrote ${changed.join(', ')}`)
}
