import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**'] }),
  {
    rules: {
      // The zod idiom: a schema and the type inferred from it share one name (`Case` and `type Case`).
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
