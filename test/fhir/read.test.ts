import t from 'tap'
import { MappingContext } from '../../src/fhir/mapping-context.js'
import { calendarDate, latest, matchConcept, readQuantity, resourceDate, statusUsable } from '../../src/fhir/read.js'
import { SYSTEMS } from '../../src/fhir/constants.js'
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

t.test('latest: a tie on date, issued and lastUpdated goes to the resource id, a resource without one last', async (t) => {
  const ctx = context()
  const withId: FhirResource = { resourceType: 'Observation', id: 'a' }
  const withoutId: FhirResource = { resourceType: 'Observation' }
  t.equal(latest(ctx, [{ item: 'none', resource: withoutId, date: '2026-01-02' }, { item: 'a', resource: withId, date: '2026-01-02' }], 'ECOG', () => true)?.item, 'a')
})

t.test('calendarDate: not a date → undefined; partial dates read as their first day, the warning quoting only year and month', async (t) => {
  const ctx = context()
  t.equal(calendarDate(ctx, 'soon', 'Observation/x'), undefined)
  t.equal(calendarDate(ctx, '2024', 'Observation/x'), '2024-01-01')
  t.equal(calendarDate(ctx, '2024-05-3', 'Observation/y'), '2024-05-01')
  t.match(ctx.warnings.map((warning) => warning.message), [/\(2024\)/, /\(2024-05\)/])
})

t.test('statusUsable: a resource type without a status rule is usable', async (t) => {
  t.equal(statusUsable(context(), { resourceType: 'Patient', id: 'p1' }), true)
})

t.test('matchConcept: a coding without a system or a code is passed over (the text may still match)', async (t) => {
  const ctx = context()
  const rows = [{ value: 'ecog', codes: [[SYSTEMS.loinc, '89247-1']] as const, text: /ECOG/ }]
  t.strictSame(matchConcept(ctx, { coding: [{ code: '89247-1' }, { system: SYSTEMS.loinc }], text: 'ECOG performance status' }, rows, 'Observation/e'), { value: 'ecog', byText: true })
})

t.test('readQuantity: a UCUM code without a unit text; a bare code without a system is read as the unit', async (t) => {
  const units = { 'mg/dL': (value: number) => value }
  t.match(readQuantity({ value: 5, system: SYSTEMS.ucum, code: 'mg/dL' }, units), { value: 5, unit: 'mg/dL' })
  t.match(readQuantity({ value: 6, code: 'mg/dL' }, units), { value: 6, unit: 'mg/dL' })
})
