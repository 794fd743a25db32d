import type { Test } from 'tap'
import type { z } from 'zod'
import {
  ACTION_SELECTION_BEHAVIORS, CdsServiceResponse, Discovery, INDICATORS, ISSUE_TYPE_BY_STATUS, LINK_TYPES, OperationOutcome, SELECTION_BEHAVIORS
} from '../../src/schemas/cds-hooks-response.js'

/**
 * Conformance checks for every body the CDS Hooks routes send (spec/ehr-integration.md §12.5
 * "Conformance"). Route tests call `assertConformantResponse(t, body)` on each 200 of a service,
 * `assertConformantDiscovery(t, body)` on discovery and `assertConformantOperationOutcome(t, status,
 * body)` on each error. Each returns nothing and adds one assertion listing every violation, so a
 * failure names all of them at once.
 *
 * The checks, each reported with its id:
 * - `schema`: our zod schemas (src/schemas/cds-hooks-response.ts);
 * - the invariants of the CDS Hooks logical model (HL7/cds-hooks, input/fsh/invariants/), checked
 *   here on the raw JSON, independently of the schema:
 *   - cds-resp-1 "only one action can be suggested if selectionBehavior = at-most-one"
 *     (`(selectionBehavior = 'at-most-one') implies suggestions.where(isRecommended).count() <= 1`);
 *   - cds-resp-2 "A resourceId not a resource must be provided when type = delete" (severity warning
 *     in the model; reported here all the same: we never send actions);
 *   - cds-resp-3 "AppContext only for smart Apps" (`(type != 'smart') implies (appContext.empty())`);
 *   - cds-resp-4 "the CDS Service MUST populate a display value for each reason's Coding";
 *   - cds-resp-5 "All suggestion actions must have a description" (2.0.1: every Action, systemActions too);
 *   - cds-resp-6 "If suggestions are present, selectionBehavior MUST also be provided.";
 *   - cds-resp-7 "actionSelectionBehavior must be 'all', 'any', or 'at-most-one'";
 *   - ord-1 "Must be in the format {type}/{id}" (the order-select `selections`), where it concerns a
 *     response: every action's `resourceId` is such a relative reference;
 * - `crd`: the card checks of the Inferno Da Vinci CRD test kit (`cards_validation.rb`), ported:
 *   `cards` an array; `summary`, `indicator` strings and `source` an object; `summary` under 140
 *   characters; `indicator` info | warning | critical; `source.label` a string; the optional members'
 *   types; `selectionBehavior` present (at-most-one | any) when there are suggestions; each override
 *   reason with code, system and display; each link with label, type and url, `type` absolute |
 *   smart, and `appContext` only for smart links; each suggestion with a label and, when it has
 *   `actions`, a non-empty array. Its CRD-only rules are skipped: `source.topic` required, and the
 *   system actions of `order-sign`;
 * - `empty`: no `null`, `""`, `[]` or `{}` anywhere (2.0.1 "JSON elements SHALL NOT be empty"),
 *   except `"cards": []` (spec §7.1).
 */

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const isString = (value: unknown): value is string => typeof value === 'string'
const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

/** §4.5: the library's ord-1, `{type}/{id}`, as the order-select selections are checked. */
export const ORD_1 = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/

const isAbsoluteUrl = (value: unknown): boolean => isString(value) && URL.canParse(value)

/** Where a JSON value holds `null`, `""`, `[]` or `{}` (as JSON pointers); `"cards": []` at the top is allowed when asked. */
export function emptyValuePaths (value: unknown, options: { allowEmptyCards?: boolean } = {}, pointer = ''): string[] {
  if (value === null || value === '') return [pointer]
  if (Array.isArray(value)) {
    if (value.length === 0) return options.allowEmptyCards === true && pointer === '/cards' ? [] : [pointer]
    return value.flatMap((child, i) => emptyValuePaths(child, options, `${pointer}/${i}`))
  }
  if (isObject(value)) {
    const entries = Object.entries(value)
    if (entries.length === 0) return [pointer]
    return entries.flatMap(([key, child]) => emptyValuePaths(child, options, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`))
  }
  return []
}

const schemaViolations = (result: z.ZodSafeParseResult<unknown>): string[] =>
  result.success ? [] : result.error.issues.map((issue) => `schema: /${issue.path.join('/')}: ${issue.message}`)

function actionViolations (action: unknown, at: string): string[] {
  const out: string[] = []
  if (!isObject(action)) return [`crd: ${at} is not an object`]
  if (!isString(action.description)) out.push(`cds-resp-5: ${at} has no description`)
  if (action.type === 'delete' && (action.resourceId === undefined || action.resource !== undefined)) {
    out.push(`cds-resp-2: ${at} deletes by resourceId, without a resource`)
  }
  if (action.resourceId !== undefined && !(isString(action.resourceId) && ORD_1.test(action.resourceId))) {
    out.push(`ord-1: ${at}.resourceId is not {type}/{id}`)
  }
  return out
}

function suggestionViolations (suggestion: unknown, at: string): string[] {
  if (!isObject(suggestion)) return [`crd: ${at} is not an object`]
  const out: string[] = []
  if (!isString(suggestion.label)) out.push(`crd: ${at}.label is not a string`)
  const behavior = suggestion.actionSelectionBehavior
  if (behavior !== undefined && !(ACTION_SELECTION_BEHAVIORS as readonly unknown[]).includes(behavior)) {
    out.push(`cds-resp-7: ${at}.actionSelectionBehavior is not all, any or at-most-one`)
  }
  if (suggestion.actions !== undefined) {
    if (!Array.isArray(suggestion.actions)) out.push(`crd: ${at}.actions is not an array`)
    else if (suggestion.actions.length === 0) out.push(`crd: ${at}.actions is an empty array`)
    else suggestion.actions.forEach((action, i) => out.push(...actionViolations(action, `${at}.actions[${i}]`)))
  }
  return out
}

function linkViolations (link: unknown, at: string): string[] {
  if (!isObject(link)) return [`crd: ${at} is not an object`]
  const out: string[] = []
  if (!isString(link.label)) out.push(`crd: ${at}.label is not a string`)
  if (!isString(link.type)) out.push(`crd: ${at}.type is not a string`)
  else if (!(LINK_TYPES as readonly string[]).includes(link.type)) out.push(`crd: ${at}.type must be absolute or smart`)
  if (!isAbsoluteUrl(link.url)) out.push(`crd: ${at}.url is not a URL`)
  if (link.type !== 'smart' && link.appContext !== undefined) out.push(`cds-resp-3: ${at} has appContext but is not a smart link`)
  return out
}

const OPTIONAL_CARD_TYPES: ReadonlyArray<[string, (value: unknown) => boolean, string]> = [
  ['uuid', isString, 'a string'], ['detail', isString, 'a string'], ['suggestions', Array.isArray, 'an array'],
  ['overrideReasons', Array.isArray, 'an array'], ['links', Array.isArray, 'an array']
]

function cardViolations (card: unknown, at: string): string[] {
  if (!isObject(card)) return [`crd: ${at} is not an object`]
  const out: string[] = []
  if (!isString(card.summary)) out.push(`crd: ${at}.summary is not a string`)
  else if ([...card.summary].length >= 140) out.push(`crd: ${at}.summary is over the 140-character limit`)
  if (!isString(card.indicator)) out.push(`crd: ${at}.indicator is not a string`)
  else if (!(INDICATORS as readonly string[]).includes(card.indicator)) out.push(`crd: ${at}.indicator must be info, warning or critical`)
  if (!isObject(card.source)) out.push(`crd: ${at}.source is not an object`)
  else if (!isString(card.source.label)) out.push(`crd: ${at}.source.label is not a string`)
  for (const [field, test, type] of OPTIONAL_CARD_TYPES) {
    if (card[field] !== undefined && !test(card[field])) out.push(`crd: ${at}.${field} is not ${type}`)
  }
  const suggestions = arrayOf(card.suggestions)
  if (suggestions.length > 0) {
    if (card.selectionBehavior === undefined) out.push(`cds-resp-6: ${at} has suggestions without selectionBehavior`)
    else if (!(SELECTION_BEHAVIORS as readonly unknown[]).includes(card.selectionBehavior)) out.push(`crd: ${at}.selectionBehavior must be at-most-one or any`)
  }
  if (card.selectionBehavior === 'at-most-one' && suggestions.filter((s) => isObject(s) && s.isRecommended === true).length > 1) {
    out.push(`cds-resp-1: ${at} recommends more than one suggestion with selectionBehavior at-most-one`)
  }
  suggestions.forEach((suggestion, i) => out.push(...suggestionViolations(suggestion, `${at}.suggestions[${i}]`)))
  arrayOf(card.overrideReasons).forEach((reason, i) => {
    const where = `${at}.overrideReasons[${i}]`
    if (!isObject(reason) || !isString(reason.display)) out.push(`cds-resp-4: ${where} has no display`)
    if (!isObject(reason) || !isString(reason.code) || !isString(reason.system)) out.push(`crd: ${where} needs code and system`)
  })
  arrayOf(card.links).forEach((link, i) => out.push(...linkViolations(link, `${at}.links[${i}]`)))
  return out
}

/** Every violation of a service response (empty when it conforms). */
export function responseViolations (body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.cards)) return ['crd: the response has no cards array']
  return [
    ...schemaViolations(CdsServiceResponse.safeParse(body)),
    ...body.cards.flatMap((card, i) => cardViolations(card, `cards[${i}]`)),
    ...arrayOf(body.systemActions).flatMap((action, i) => actionViolations(action, `systemActions[${i}]`)),
    ...emptyValuePaths(body, { allowEmptyCards: true }).map((path) => `empty: ${path}`)
  ]
}

/** Every violation of a discovery body: the schema, and no empty value anywhere (§3). */
export function discoveryViolations (body: unknown): string[] {
  return [...schemaViolations(Discovery.safeParse(body)), ...emptyValuePaths(body).map((path) => `empty: ${path}`)]
}

/**
 * Every violation of an error body (§9): the schema, one issue with the status's code, no empty
 * value, and for 401 neither details nor diagnostics.
 */
export function operationOutcomeViolations (status: number, body: unknown): string[] {
  const out = [...schemaViolations(OperationOutcome.safeParse(body)), ...emptyValuePaths(body).map((path) => `empty: ${path}`)]
  const issues = isObject(body) ? arrayOf(body.issue) : []
  const expected = ISSUE_TYPE_BY_STATUS[status]
  if (expected === undefined) out.push(`§9: no issue code is defined for status ${status}`)
  else if (!issues.some((issue) => isObject(issue) && issue.code === expected)) out.push(`§9: a ${status} carries an issue with code ${expected}`)
  if (status === 401 && issues.some((issue) => isObject(issue) && (issue.details !== undefined || issue.diagnostics !== undefined))) {
    out.push('§9: a 401 carries neither details nor diagnostics')
  }
  return out
}

export function assertConformantResponse (t: Test, body: unknown): void {
  t.same(responseViolations(body), [], 'conformant CDS Hooks response (cds-resp-1…7, ord-1, Inferno CRD card checks, no empty values)')
}

export function assertConformantDiscovery (t: Test, body: unknown): void {
  t.same(discoveryViolations(body), [], 'conformant CDS Hooks discovery (schema, no empty values)')
}

export function assertConformantOperationOutcome (t: Test, status: number, body: unknown): void {
  t.same(operationOutcomeViolations(status, body), [], `conformant OperationOutcome for ${status} (§9)`)
}
