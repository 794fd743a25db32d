import { createHash } from 'node:crypto'
import type { PreparedKnowledgeBase } from '../engine/knowledge-base.js'
import type { EvaluationBody } from '../engine/recommender.js'
import { CARD_UUID_NAMESPACE } from '../fhir/constants.js'
import type { CaseResult } from '../fhir/index.js'
import type { FhirResource, MappingResult } from '../fhir/types.js'
import type { Card } from '../schemas/cds-hooks-response.js'

/*
 * PLACEHOLDER — replaced by the cards helper (src/cds-hooks/cards.ts: patientViewCards,
 * orderSelectCards, dataCard, incompleteCard, cardUuid). The cds-service branch needs the names to
 * compile; its tests inject fakes. Only cardUuid follows the spec exactly (§7.1 test vectors).
 */

export interface PatientViewCardsInput {
  hookInstance: string
  response: EvaluationBody
  mapping: MappingResult
  kb: PreparedKnowledgeBase
  kbPublicUrl?: string
}

/** A selected MedicationRequest of `draftOrders` (§4.5), with its selection string (`MedicationRequest/id`). */
export interface SelectedOrder { selection: string, resource: FhirResource }

export interface OrderSelectCardsInput {
  hookInstance: string
  selections: SelectedOrder[]
  /** Every resource of `draftOrders` (a medicationReference may point to a draft Medication, §4.5). */
  draftOrders: FhirResource[]
  caseResult: CaseResult
  /** Absent when the case is incomplete or inconsistent. */
  response?: EvaluationBody
  mapping: MappingResult
  kb: PreparedKnowledgeBase
  kbPublicUrl?: string
}

export interface IncompleteCardInput {
  hookInstance: string
  mapping: MappingResult
  caseResult: Extract<CaseResult, { ok: false }>
  kbPublicUrl?: string
}

/** §7.1: RFC 4122 version 5 of `hookInstance|code|targets` in CARD_UUID_NAMESPACE. */
export function cardUuid (hookInstance: string, code: string, targets: readonly string[]): string {
  const namespace = Buffer.from(CARD_UUID_NAMESPACE.replaceAll('-', ''), 'hex')
  const hash = createHash('sha1').update(namespace).update(`${hookInstance}|${code}|${targets.join(',')}`, 'utf8').digest()
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const source = { label: 'HER2+ MBC knowledge base' }

/** PLACEHOLDER: one bare card per recommendation that is not `info`. */
export function patientViewCards (input: PatientViewCardsInput): Card[] {
  return input.response.recommendations.filter((item) => item.strength !== 'info').map((item) => ({
    uuid: cardUuid(input.hookInstance, item.code, item.targets ?? []),
    summary: item.title,
    indicator: item.strength === 'urgent' ? 'critical' : item.strength === 'avoid' ? 'warning' : 'info',
    source
  }))
}

/** PLACEHOLDER: no order cards. */
export function orderSelectCards (_input: OrderSelectCardsInput): Card[] {
  return []
}

/** PLACEHOLDER: the §7.3 incomplete-case card, without its detail. */
export function incompleteCard (input: IncompleteCardInput): Card {
  return { uuid: cardUuid(input.hookInstance, 'CASE-INCOMPLETE', []), summary: 'HER2+ MBC guidance unavailable: data missing', indicator: 'info', source }
}

/** PLACEHOLDER: no data-quality card. */
export function dataCard (_input: PatientViewCardsInput): Card | undefined {
  return undefined
}
