import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { formatFiles, formatJson, formatJsonText, formattedFiles, WIDTH } from '../../scripts/rules-format.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

t.test('every rule file and rule-case table is in canonical form', async (t) => {
  const files = formattedFiles()
  t.ok(files.includes(join('rules', 'local-therapy.json')) && files.includes(join('rules', 'references.json')))
  t.ok(files.includes(join('test', 'fixtures', 'rule-cases', 'local-therapy.json')))
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8')
    t.equal(text, formatJsonText(text), `${file} is in canonical form (if not, run \`npm run rules:format\`)`)
  }
})

t.test('a leaf condition per line, small objects and short lists on one line, 2-space indentation', async (t) => {
  const rule = {
    conditions: {
      all: [
        { fact: 'lesionPainNrs', operator: 'greaterThanInclusive', value: 1 },
        { not: { fact: 'comfortCare', operator: 'equal', value: true } }
      ]
    },
    when: { all: [{ fact: 'pregnant', operator: 'equal', value: true }] },
    empty: { list: [], object: {} },
    codes: ['SYS-01', 'SYS-02']
  }
  t.equal(formatJson(rule), [
    '{',
    '  "conditions": {',
    '    "all": [',
    '      { "fact": "lesionPainNrs", "operator": "greaterThanInclusive", "value": 1 },',
    '      { "not": { "fact": "comfortCare", "operator": "equal", "value": true } }',
    '    ]',
    '  },',
    '  "when": { "all": [{ "fact": "pregnant", "operator": "equal", "value": true }] },',
    '  "empty": { "list": [], "object": {} },',
    '  "codes": ["SYS-01", "SYS-02"]',
    '}',
    ''
  ].join('\n'))
  t.equal(formatJson('text'), '"text"\n', 'a scalar')
  t.equal(formatJson([]), '[]\n')
})

t.test('what does not fit in the width breaks; a leaf never does; a long list of scalars is filled', async (t) => {
  const long = 'x'.repeat(WIDTH)
  t.equal(formatJson({ detail: long }), `{\n  "detail": "${long}"\n}\n`)
  const leaf = { fact: 'forbiddenOptions', operator: 'doesNotContain', value: long }
  t.equal(formatJson([leaf]), `[\n  { "fact": "forbiddenOptions", "operator": "doesNotContain", "value": "${long}" }\n]\n`)
  const codes = Array.from({ length: 30 }, (_, i) => `SYS-${String(i).padStart(2, '0')}`)
  const text = formatJson({ absentCodes: codes })
  const lines = text.split('\n')
  t.ok(lines.length > 3 && lines.every((line) => line.length <= WIDTH), 'filled lines within the width')
  t.match(lines[2], /^ {4}"SYS-00", "SYS-01", /)
  t.strictSame(JSON.parse(text), { absentCodes: codes })
  t.equal(formatJson({ [long]: {} }), `{\n  "${long}": {}\n}\n`, 'an empty object stays {} past the width')
  t.equal(formatJson({ [long]: [] }), `{\n  "${long}": []\n}\n`)
  t.equal(formatJson({ a: [1, 2, 3] }), '{ "a": [1, 2, 3] }\n')
  t.equal(formatJson({ a: { b: { c: 1 } } }), '{\n  "a": { "b": { "c": 1 } }\n}\n', 'two nested objects break the outer one')
  t.equal(formatJson([[1], ['a', { b: 1 }]]), '[[1], ["a", { "b": 1 }]]\n')
})

t.test('formatting is idempotent and keeps the value', async (t) => {
  for (const file of formattedFiles()) {
    const text = readFileSync(join(root, file), 'utf8')
    const once = formatJsonText(text)
    t.equal(formatJsonText(once), once, file)
    t.strictSame(JSON.parse(once), JSON.parse(text), file)
  }
})

t.test('formatFiles rewrites the files not in canonical form, and only those', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-format-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'test', 'fixtures'), { recursive: true })
  cpSync(join(root, 'rules'), join(dir, 'rules'), { recursive: true })
  cpSync(join(root, 'test', 'fixtures', 'rule-cases'), join(dir, 'test', 'fixtures', 'rule-cases'), { recursive: true })
  writeFileSync(join(dir, 'rules', 'classification.json'), JSON.stringify(JSON.parse(readFileSync(join(root, 'rules', 'classification.json'), 'utf8')), null, 4))
  writeFileSync(join(dir, 'rules', 'notes.txt'), 'not JSON')
  t.strictSame(formatFiles(dir), [join('rules', 'classification.json')])
  t.equal(readFileSync(join(dir, 'rules', 'classification.json'), 'utf8'), readFileSync(join(root, 'rules', 'classification.json'), 'utf8'))
  t.strictSame(formatFiles(dir), [], 'a second run changes nothing')
  t.throws(() => formatJsonText('{"a": '), SyntaxError)
})
