import { EXAMPLE_NAMES, loadBaseBundle, type Bundle } from '../test/fixtures/fhir/bundles.js'
import { FHIR_BODY_LIMIT_BYTES } from '../src/limits.js'
import { mapBundle, toCase } from '../src/fhir/index.js'
import type { FhirResource } from '../src/fhir/types.js'

/**
 * FHIR input (spec/ehr-integration.md §5): the parse and mapping time of the largest fixture bundle,
 * and of a bundle grown to just under the 5 MiB body limit the way real exports grow (many
 * Observations, each with a narrative), so that the limit stated in the OpenAPI description is
 * backed by a number. Parse = JSON.parse of the bytes; map = mapBundle + toCase.
 */

const EVALUATION_DATE = '2026-03-16'

function timeMs (iterations: number, run: () => void): number {
  for (let i = 0; i < Math.min(iterations, 5); i++) run()
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) run()
  return Number(process.hrtime.bigint() - started) / 1e6 / iterations
}

/** The bundle plus copies of its Observations (new ids, a 1 KB narrative each) until it nears `bytes`. */
function grownBundle (base: Bundle, bytes: number): Bundle {
  const bundle = structuredClone(base)
  const observations = bundle.entry.filter((entry) => entry.resource?.resourceType === 'Observation')
  const narrative = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(1000)}</div>` }
  let size = JSON.stringify(bundle).length
  for (let copy = 0; size < bytes * 0.97; copy++) {
    const entry = observations[copy % observations.length] as Bundle['entry'][number]
    const resource = { ...structuredClone(entry.resource as FhirResource), id: `grown-${copy}`, text: narrative, effectiveDateTime: '2019-01-01' }
    const added = { fullUrl: `https://example.org/fhir/Observation/grown-${copy}`, resource }
    bundle.entry.push(added)
    size += JSON.stringify(added).length + 1
  }
  return bundle
}

function measure (label: string, bundle: Bundle, iterations: number): void {
  const bytes = JSON.stringify(bundle)
  const parseMs = timeMs(iterations, () => JSON.parse(bytes))
  const mapMs = timeMs(iterations, () => {
    const mapped = mapBundle(JSON.parse(bytes), { evaluationDate: EVALUATION_DATE })
    if (mapped.ok) toCase(mapped.mapping)
  }) - parseMs
  process.stdout.write(`| ${label} | ${(bytes.length / 1024).toFixed(0)} KiB | ${bundle.entry.length} | ${parseMs.toFixed(2)} | ${mapMs.toFixed(2)} |\n`)
}

export function fhirBench (): void {
  const largest = EXAMPLE_NAMES.map((name) => loadBaseBundle(name)).sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0] as Bundle
  process.stdout.write('FHIR input: parse and mapping time per bundle, ms (mapping = mapBundle + toCase):\n| bundle | size | entries | parse ms | map ms |\n|---|---|---|---|---|\n')
  measure('largest fixture', largest, 200)
  measure('grown to the 5 MiB limit', grownBundle(largest, FHIR_BODY_LIMIT_BYTES), 10)
  process.stdout.write('\n')
}
