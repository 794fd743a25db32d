import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

/**
 * The one way into the third-party fixtures (../shared/ehr-fixtures, spec/ehr-integration.md §12.1):
 * they are not ours and are never copied into the project. Tests read them in place; when the folder
 * is absent (a clone outside this team's machines) the tests that need them skip with a message, and
 * under CI=true its absence is a failure.
 */
export const THIRD_PARTY_DIR = fileURLToPath(new URL('../../../shared/ehr-fixtures/', import.meta.url))

export const thirdPartyAvailable = existsSync(THIRD_PARTY_DIR)

/** Skips `t` (or fails it under CI=true) when the folder is absent; returns whether the test may go on. */
export function needThirdParty (t: Test): boolean {
  if (thirdPartyAvailable) return true
  if (process.env.CI === 'true') {
    t.fail(`the third-party EHR fixtures are required under CI=true but ${THIRD_PARTY_DIR} is absent`)
  } else {
    t.comment(`skipped: third-party EHR fixtures not found at ${THIRD_PARTY_DIR} (they live beside the project, in ../shared/ehr-fixtures)`)
    t.pass('third-party fixtures absent: skipped')
  }
  return false
}

/** The path of a file in the fixtures folder, e.g. `sandbox/jwks.json`. */
export function thirdPartyPath (relative: string): string {
  return THIRD_PARTY_DIR + relative
}

export function readThirdPartyText (relative: string): string {
  return readFileSync(thirdPartyPath(relative), 'utf8')
}

export function readThirdPartyJson<T = unknown> (relative: string): T {
  return JSON.parse(readThirdPartyText(relative)) as T
}

/** For `t.test(name, { skip: thirdPartySkip }, …)`: false when the folder is there or CI=true (a missing folder then fails in needThirdParty). */
export const thirdPartySkip: string | false = thirdPartyAvailable || process.env.CI === 'true'
  ? false
  : `third-party EHR fixtures not found at ${THIRD_PARTY_DIR}`
