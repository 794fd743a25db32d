import t from 'tap'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { latest, resourceDate } from '../../src/fhir/read.js'
import type { FhirResource } from '../../src/fhir/types.js'

const context = (): MappingContext => new MappingContext([], { patientRef: 'Patient/p1', evaluationDate: '2026-06-01' }, () => undefined)

t.test('resourceDate: Observation, Condition and Procedure have a clinical date; other types none (medications read their own, §6.6)', async (t) => {
  const ctx = context()
  t.equal(resourceDate(ctx, { resourceType: 'Observation', id: 'o', effectiveDateTime: '2026-01-02T10:00:00Z' }), '2026-01-02')
  t.equal(resourceDate(ctx, { resourceType: 'Condition', id: 'c', onsetPeriod: { start: '2025-03-04' } }), '2025-03-04')
  t.equal(resourceDate(ctx, { resourceType: 'Procedure', id: 'p', performedPeriod: { start: '2024-05-06' } }), '2024-05-06')
  t.equal(resourceDate(ctx, { resourceType: 'MedicationRequest', id: 'm', authoredOn: '2024-05-06' }), undefined)
})

t.test('latest: candidates alike in date, issued, lastUpdated and id are a tie resolved by their order, without a conflict', async (t) => {
  const ctx = context()
  const resource: FhirResource = { resourceType: 'Observation', id: 'same', issued: '2026-01-02T10:00:00Z', meta: { lastUpdated: '2026-01-02T10:00:00Z' } }
  const chosen = latest(ctx, [{ item: 1, resource, date: '2026-01-02' }, { item: 1, resource: { ...resource }, date: '2026-01-02' }], 'ECOG')
  t.equal(chosen?.item, 1)
  t.strictSame(ctx.warnings, [])
})
