import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { mapBundle } from '../../src/fhir/index.js'
import type { MappingResult } from '../../src/fhir/types.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { EXAMPLE_NAMES, loadBaseBundle, loadExample, type Bundle, type ExampleName } from '../fixtures/fhir/bundles.js'
import { buildVariant, VARIANTS } from '../fixtures/fhir/variants.js'

/**
 * spec/ehr-integration.md §12.4 A and B: our fixture bundles, posted as FHIR, give the response the
 * example's JSON Case gives — except requestId, provenance.evaluatedAt and inputDigest, the FHIR_*
 * warnings, the FHIR reasons appended to data-gap messages and the `sources` member (the issue's
 * "plus the source references"; §12.4's list predates it). Each messy variant differs from its base
 * only as its expectation says (test/fixtures/fhir/variants.ts).
 */

type Json = Record<string, any>

const FHIR_REASONS = / From the FHIR record: .*\.$/

/** The response without what §12.4 allows to differ between the JSON and the FHIR paths. */
function comparable (body: Json): Json {
  const { requestId: _requestId, sources: _sources, ...rest } = structuredClone(body)
  const { evaluatedAt: _evaluatedAt, inputDigest: _inputDigest, ...provenance } = rest.provenance
  return {
    ...rest,
    provenance,
    warnings: rest.warnings.filter((warning: Json) => !String(warning.code).startsWith('FHIR_')),
    dataGaps: rest.dataGaps.map((gap: Json) => ({ ...gap, message: String(gap.message).replace(FHIR_REASONS, '') }))
  }
}

function queryOf (name: ExampleName): string {
  const { case: example } = loadExample(name)
  const params = new URLSearchParams()
  if (example.context?.evaluationDate !== undefined) params.set('evaluationDate', example.context.evaluationDate)
  if (example.context?.jurisdiction !== undefined) params.set('jurisdiction', example.context.jurisdiction)
  if (example.caseId !== undefined) params.set('caseId', example.caseId)
  return params.toString()
}

async function postFhir (app: FastifyInstance, bundle: Bundle, query: string): Promise<{ status: number, body: Json }> {
  const reply = await app.inject({
    method: 'POST',
    url: `/v1/recommendations?${query}`,
    headers: { 'content-type': 'application/fhir+json' },
    payload: JSON.stringify(bundle)
  })
  return { status: reply.statusCode, body: reply.json() }
}

function mappingOf (bundle: Bundle, name: ExampleName): MappingResult {
  const { case: example } = loadExample(name)
  const mapped = mapBundle(bundle, {
    evaluationDate: example.context?.evaluationDate,
    ...(example.context?.jurisdiction === undefined ? {} : { jurisdiction: example.context.jurisdiction }),
    ...(example.caseId === undefined ? {} : { caseId: example.caseId })
  })
  if (!mapped.ok) throw new Error(`${name}: the bundle did not map (${mapped.detail})`)
  return mapped.mapping
}

/** The value at a dotted Case path with indices (`disease.spineLesions[0].level`). */
function valueAt (value: unknown, path: string): unknown {
  return path.split(/\.|(?=\[)/).reduce<unknown>((current, part) => {
    if (current === undefined || current === null) return undefined
    const index = /^\[(\d+)\]$/.exec(part)
    return index === null ? (current as Json)[part] : (current as unknown[])[Number(index[1])]
  }, value)
}

const codesOf = (body: Json): string[] => body.recommendations.map((item: Json) => item.code)
const fhirWarnings = (body: Json): string[] => body.warnings.map((warning: Json) => warning.code).filter((code: string) => code.startsWith('FHIR_'))

t.test('§12.4 A: each example bundle gives the JSON case\'s response', async (t) => {
  const app = await buildTestApp(t)
  for (const name of EXAMPLE_NAMES) {
    const json = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: loadExample(name).case })
    t.equal(json.statusCode, 200, `${name}: the JSON case is accepted`)
    const fhir = await postFhir(app, loadBaseBundle(name), queryOf(name))
    t.equal(fhir.status, 200, `${name}: the bundle is accepted`)
    t.strictSame(comparable(fhir.body), comparable(json.json()), `${name}: same response as the JSON case`)
    t.ok(Object.keys(fhir.body.sources ?? {}).length > 0, `${name}: the response names the resources behind the case`)
    t.notSame(fhir.body.provenance.inputDigest, json.json().provenance.inputDigest, `${name}: inputDigest is over the received Bundle`)
  }
})

t.test('§12.4 A: the mapped case equals the example\'s case, field for field', async (t) => {
  for (const name of EXAMPLE_NAMES) {
    const mapping = mappingOf(loadBaseBundle(name), name)
    t.strictSame(mapping.missing, [], `${name}: nothing required is missing`)
    const { case: example } = loadExample(name)
    for (const key of ['patient', 'tumor', 'disease', 'history', 'preferences'] as const) {
      t.same(normalise(mapping.case[key]), normalise(example[key]), `${name}: ${key}`)
    }
  }
})

/** Agent lists are sets for the engine (§6.6 sorts early-stage agents); everything else compares as written. */
function normalise (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, key === 'agents' && Array.isArray(inner) ? [...inner].sort() : normalise(inner)]))
}

t.test('§12.4 B: each messy variant differs from its base only as its expectation says', async (t) => {
  const app = await buildTestApp(t)
  const baseResponses = new Map<ExampleName, Json>()
  for (const name of EXAMPLE_NAMES) baseResponses.set(name, (await postFhir(app, loadBaseBundle(name), queryOf(name))).body)

  for (const variant of VARIANTS) {
    t.test(`${variant.id}: ${variant.change}`, async (t) => {
      const bundle = buildVariant(variant)
      const { expect } = variant
      const mapping = mappingOf(bundle, variant.base)
      const reply = await postFhir(app, bundle, queryOf(variant.base))
      const base = baseResponses.get(variant.base) as Json

      for (const [path, value] of Object.entries(expect.caseValues ?? {})) {
        t.same(valueAt(mapping.case, path), value, `mapped ${path}`)
      }
      for (const path of expect.gaps ?? []) t.ok(mapping.gaps[path] !== undefined, `a mapping gap on ${path}`)

      if (expect.response === 'rejected') {
        const rejection = expect.rejection as NonNullable<typeof expect.rejection>
        t.equal(reply.status, rejection.status)
        t.match(reply.body.type, new RegExp(`/problems/${rejection.type}$`))
        t.same(reply.body.errors.map((error: Json) => error.path), rejection.paths)
        return
      }
      t.equal(reply.status, 200)
      for (const code of expect.warnings ?? []) t.ok(fhirWarnings(reply.body).includes(code), `warning ${code}`)
      if (expect.response === 'identical') {
        t.strictSame(comparable(reply.body), comparable(base), 'the same recommendations as the base')
      } else {
        t.notSame(comparable(reply.body), comparable(base), 'the response differs from the base')
      }
      if (expect.inScope !== undefined) t.equal(reply.body.scope.inScope, expect.inScope, 'scope')
      for (const [key, value] of Object.entries(expect.assessment ?? {})) t.same(reply.body.assessment[key], value, `assessment.${key}`)
      for (const code of expect.codes ?? []) t.ok(codesOf(reply.body).includes(code), `${code} is given`)
      for (const code of expect.absentCodes ?? []) t.notOk(codesOf(reply.body).includes(code), `${code} is not given`)
      for (const { code, id } of expect.options ?? []) {
        const item = reply.body.recommendations.find((candidate: Json) => candidate.code === code)
        t.ok(item?.options?.some((option: Json) => option.id === id), `${code} offers ${id}`)
      }
    })
  }
})
