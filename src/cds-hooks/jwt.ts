import type { Config } from '../config.js'
import type { KeyValueStore } from '../stores/store.js'
import type { CdsClient } from './clients.js'

/*
 * PLACEHOLDER — replaced by the jwt helper (src/cds-hooks/jwt.ts: createJwtVerifier, JwtRejected,
 * ReplayCacheFull). The cds-service branch needs the names to compile and its tests inject fakes;
 * the shape is the brief's contract (§10.1).
 */

export interface VerifiedCaller { iss: string, sub?: string, tenant?: string, jti: string, client: CdsClient }

export interface JwtVerifier {
  verify: (request: { rawHeaders: string[] }, expectedAud: string) => Promise<VerifiedCaller>
}

/** Any verification failure: 401 (§9), logged with its internal reason code only. */
export class JwtRejected extends Error {
  override name = 'JwtRejected'
  constructor (readonly reason: string, readonly claims: { iss?: string, tenant?: string, jti?: string } = {}) {
    super(`JWT rejected: ${reason}`)
  }
}

/** The replay cache is full and nothing expired can be evicted: 503, never an unchecked accept (§10.1 step 8). */
export class ReplayCacheFull extends Error {
  override name = 'ReplayCacheFull'
}

export interface JwtVerifierOptions {
  clients: CdsClient[]
  config: Config
  store: KeyValueStore
  now?: () => Date
  fetchJwks?: typeof globalThis.fetch
}

/** PLACEHOLDER: rejects every token until the jwt helper's verifier is merged. */
export function createJwtVerifier (_options: JwtVerifierOptions): JwtVerifier {
  return {
    verify: async () => { throw new JwtRejected('verifier_not_installed') }
  }
}
