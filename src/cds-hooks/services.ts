import { CDS_HOOKS_SPEC_VERSION, HOOK_VERSION } from '../fhir/constants.js'
import type { Discovery, DiscoveryService } from '../schemas/cds-hooks-response.js'
import { prefetchTemplates } from './prefetch.js'

/**
 * The two CDS Hooks services of spec/ehr-integration.md §3: their ids, hooks and the words of
 * discovery (the card builders name the title in each card's source label; the routes register one
 * route per service).
 */

export const PATIENT_VIEW_SERVICE_ID = 'her2-mbc-bone-mets'
export const ORDER_SELECT_SERVICE_ID = 'her2-mbc-order-check'
export type ServiceId = typeof PATIENT_VIEW_SERVICE_ID | typeof ORDER_SELECT_SERVICE_ID

export interface CdsServiceInfo {
  id: ServiceId
  hook: 'patient-view' | 'order-select'
  title: string
  description: string
  usageRequirements: string
}

const USAGE_REQUIREMENTS = 'Needs the prefetch keys, or fhirServer + fhirAuthorization with read access to Patient, Condition, Observation, ' +
  'MedicationRequest, MedicationAdministration, MedicationStatement, Medication and Procedure. Calls must carry a JWT.'

const POPULATION = 'adults with HER2-positive metastatic breast cancer with bone, including vertebral, metastases'

/** The two services of §3, without their prefetch templates (src/cds-hooks/prefetch.ts holds those). */
export const CDS_SERVICES: Readonly<Record<ServiceId, CdsServiceInfo>> = {
  [PATIENT_VIEW_SERVICE_ID]: {
    id: PATIENT_VIEW_SERVICE_ID,
    hook: 'patient-view',
    title: 'HER2+ metastatic breast cancer with bone metastases: guideline options',
    description: 'Guideline-derived options for the multidisciplinary team to discuss: decision support, not orders. ' +
      `For oncologists caring for ${POPULATION}. ` +
      'Not for emergencies: it does not replace immediate clinical assessment. ' +
      'Each card names the FHIR data it used.',
    usageRequirements: USAGE_REQUIREMENTS
  },
  [ORDER_SELECT_SERVICE_ID]: {
    id: ORDER_SELECT_SERVICE_ID,
    hook: 'order-select',
    title: 'HER2+ metastatic breast cancer: medication safety check',
    description: 'Warns when a selected MedicationRequest names an agent the knowledge base says to avoid: T-DXd with interstitial lung disease, ' +
      'an anti-HER2 antibody or ADC with low LVEF, pregnancy, zoledronic acid or capecitabine at creatinine clearance below 30 mL/min, ' +
      'capecitabine in a DPYD poor metaboliser, bone-modifying agents with osteonecrosis of the jaw. ' +
      `Guideline-derived decision support, not orders, for oncologists caring for ${POPULATION}. ` +
      'Not for emergencies: it does not replace immediate clinical assessment. ' +
      'Each card names the FHIR data it used.',
    usageRequirements: USAGE_REQUIREMENTS
  }
}

/** A discovery entry (§3): the service with its prefetch templates, `version` 2.0.1 and `hookVersion` 1.0. */
export function discoveryService (id: ServiceId, prefetch: Readonly<Record<string, string>>): DiscoveryService {
  const { hook, title, description, usageRequirements } = CDS_SERVICES[id]
  return { hook, title, description, id, prefetch: { ...prefetch }, usageRequirements, version: CDS_HOOKS_SPEC_VERSION, hookVersion: HOOK_VERSION }
}

/** The discovery document: exactly the two services, every field set (§3: no empty values). */
export function discoveryDocument (): Discovery {
  const prefetch = prefetchTemplates()
  return { services: Object.values(CDS_SERVICES).map((service) => discoveryService(service.id, prefetch)) }
}
