import t from 'tap'
import { orderSelectionOf } from '../../src/cds-hooks/card-builders.js'
import type { FhirResource } from '../../src/fhir/types.js'

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm'

t.test('§4.5: a selected order naming a Medication of draftOrders by reference is read through it (§6.6 table)', async (t) => {
  const medication: FhirResource = { resourceType: 'Medication', id: 'med-1', code: { coding: [{ system: RXNORM, code: '1156253', display: 'zoledronic acid' }] } }
  const order: FhirResource = { resourceType: 'MedicationRequest', id: 'order-1', status: 'draft', medicationReference: { reference: 'Medication/med-1' } }
  const selection = orderSelectionOf({ selection: 'MedicationRequest/order-1', resource: order }, [order, medication])
  t.strictSame(selection.agents, ['zoledronic_acid'])
  t.equal(selection.selection, 'MedicationRequest/order-1')
  const missing = orderSelectionOf({ selection: 'MedicationRequest/order-1', resource: order }, [order])
  t.strictSame(missing.agents, [], 'a Medication not among the draft orders names no agent')
})

t.test('a draft order without an id is never the Medication an order names', async (t) => {
  const order: FhirResource = { resourceType: 'MedicationRequest', id: 'order-2', status: 'draft', medicationReference: { reference: 'Medication/' } }
  const selection = orderSelectionOf({ selection: 'MedicationRequest/order-2', resource: order }, [order, { resourceType: 'Medication' }])
  t.strictSame(selection.agents, [])
})
