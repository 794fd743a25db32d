import { agentsOfMedication } from '../fhir/sections/medications.js'
import type { FhirResource } from '../fhir/types.js'
import { incompleteCard, orderSelectCards, patientViewCards, type OrderAgent, type OrderSelection } from './cards.js'
import type { CardBuilders, SelectedOrder } from './service.js'

/**
 * The card builders the CDS Hooks services use (src/cds-hooks/cards.ts), with the one step between
 * a selected draft order and its order check: the drug of the MedicationRequest → its agents (§4.5
 * last bullet: `medicationCodeableConcept`, or `medicationReference` to a contained or `draftOrders`
 * Medication, read with the drug table of §6.6).
 */
export function orderSelectionOf (order: SelectedOrder, draftOrders: readonly FhirResource[]): OrderSelection {
  const resolve = (reference: string): FhirResource | undefined =>
    draftOrders.find((resource) => `${resource.resourceType}/${resource.id ?? ''}` === reference)
  const drug = agentsOfMedication(resolve, order.resource)
  const agents: OrderAgent[] = [...drug.agents, ...(drug.bma === undefined ? [] : [drug.bma])]
  return { selection: order.selection, display: drug.display, agents }
}

export const cardBuilders: CardBuilders = {
  patientViewCards: (input) => patientViewCards(input),
  orderSelectCards: ({ selections, draftOrders, ...input }) =>
    orderSelectCards({ ...input, selections: selections.map((order) => orderSelectionOf(order, draftOrders)) }),
  incompleteCard: (input) => incompleteCard(input)
}
