import { createHash } from 'node:crypto'
import type { FeedbackItem } from '../schemas/cds-hooks-request.js'
import { StoreUnavailable, type KeyValueStore, type PutResult } from '../stores/store.js'
import type { VerifiedCaller } from './jwt.js'

/**
 * Feedback (spec/ehr-integration.md §8) and the issued-card records it is matched against (§7.1).
 * Both live in the KeyValueStore, with the TTL FEEDBACK_CARD_TTL_H, so that replicas sharing a store
 * agree. Framework-free.
 */

/** What we remember of an issued card (never PHI): the code and targets when the uuid names them. */
export interface CardRecord { service: string, hookInstance: string, code?: string, targets?: string[] }
export interface IssuedCard { uuid: string, record: CardRecord }

const cardKey = (uuid: string): string => `cds:card:${uuid.toLowerCase()}`

/** The idempotency key of one feedback item: (card, outcome, outcomeTimestamp) as sent (§8). */
function feedbackKey (item: Pick<FeedbackItem, 'card' | 'outcome' | 'outcomeTimestamp'>): string {
  const digest = createHash('sha256').update(`${item.card.toLowerCase()}|${item.outcome}|${item.outcomeTimestamp}`).digest('hex')
  return `cds:feedback:${digest}`
}

export const hoursToMs = (hours: number): number => hours * 60 * 60 * 1000

/**
 * Remembers each issued card; returns how many could not be stored (a full or unreachable store: their
 * feedback will be unmatched). The cards are sent anyway: a hook call does not fail for want of a record.
 */
export async function rememberCards (store: KeyValueStore, cards: readonly IssuedCard[], ttlMs: number): Promise<number> {
  const results = await Promise.all(cards.map(async ({ uuid, record }) => await store.put(cardKey(uuid), JSON.stringify(record), ttlMs).catch(unstoredIfUnavailable)))
  return results.filter((result) => result === 'full').length
}

function unstoredIfUnavailable (error: unknown): 'full' {
  if (error instanceof StoreUnavailable) return 'full'
  throw error
}

/** The one audit event of a feedback item (§8): ids and codes only; `userComment` only as "present". */
export interface FeedbackAudit {
  event: 'cds_feedback'
  service: string
  card: string
  matched: boolean
  code?: string
  targets?: string[]
  outcome: FeedbackItem['outcome']
  reasonSystem?: string
  reasonCode?: string
  userComment: boolean
  iss?: string
  tenant?: string
  jti?: string
}

/** A client-chosen string in a log line: bounded, so that a long value cannot flood the log. */
const bounded = (text: string): string => text.length > 200 ? `${text.slice(0, 200)}…` : text

function parseRecord (text: string | undefined): CardRecord | undefined {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as CardRecord
  } catch {
    return undefined
  }
}

/**
 * The audits of the items recorded (all of them, or those before a full or unreachable store stopped
 * the rest: `ok: false`, with the reason).
 */
export interface FeedbackResult { ok: boolean, audits: FeedbackAudit[], repeats: number, failure?: 'store_full' | 'store_unavailable' }

/**
 * Records the items in order. A repeat of (card, outcome, outcomeTimestamp) is a no-op. A card we never
 * issued, whose record expired, or issued by another service, is `matched: false` and still accepted,
 * so that a replay cannot probe which cards exist. A full or unreachable store stops the list (`ok: false`,
 * a 503): the items before it are recorded and audited, and a retry finds them as repeats.
 */
export async function recordFeedback (store: KeyValueStore, service: string, items: readonly FeedbackItem[], caller: VerifiedCaller | undefined, ttlMs: number): Promise<FeedbackResult> {
  const audits: FeedbackAudit[] = []
  let repeats = 0
  for (const item of items) {
    let put: PutResult
    let recordText: string | undefined
    try {
      // The card's record is read first: once the key is stored, the item counts as recorded.
      recordText = await store.get(cardKey(item.card))
      put = await store.putIfAbsent(feedbackKey(item), '1', ttlMs)
    } catch (error) {
      if (error instanceof StoreUnavailable) return { ok: false, audits, repeats, failure: 'store_unavailable' }
      throw error
    }
    if (put === 'full') return { ok: false, audits, repeats, failure: 'store_full' }
    if (put === 'exists') { repeats++; continue }
    const record = parseRecord(recordText)
    const matched = record !== undefined && record.service === service
    const reason = item.overrideReason?.reason
    audits.push({
      event: 'cds_feedback',
      service,
      card: item.card.toLowerCase(),
      matched,
      ...(matched && record.code !== undefined ? { code: record.code } : {}),
      ...(matched && record.targets !== undefined && record.targets.length > 0 ? { targets: record.targets } : {}),
      outcome: item.outcome,
      ...(reason?.system === undefined ? {} : { reasonSystem: bounded(reason.system) }),
      ...(reason === undefined ? {} : { reasonCode: bounded(reason.code) }),
      userComment: item.overrideReason?.userComment !== undefined,
      ...(caller === undefined ? {} : { iss: caller.iss, jti: caller.jti }),
      ...(caller?.tenant === undefined ? {} : { tenant: caller.tenant })
    })
  }
  return { ok: true, audits, repeats }
}
