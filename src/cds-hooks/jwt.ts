import {
  createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify,
  type FetchImplementation, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters
} from 'jose'
import type { Config } from '../config.js'
import type { KeyValueStore } from '../stores/store.js'
import { checkAlgorithms, type CdsClient } from './clients.js'

/**
 * CDS Hooks JWT verification (spec/ehr-integration.md §10.1), steps 1–8 in the spec's order.
 *
 * Wiring it into the routes (one Fastify `onRequest` hook on the `/cds-services` prefix):
 *
 * ```ts
 * const clients = await loadCdsClients(config)            // at startup; throws ConfigError
 * const verifier = createJwtVerifier({ clients, config, store })
 * app.addHook('onRequest', async (request, reply) => {
 *   if (request.method === 'OPTIONS') return               // CORS preflight: no JWT (§10.4)
 *   const path = request.url                                // the routed path; expectedAudience drops the query
 *   if (isDiscovery(path) && config.cdsHooks.discoveryAuth === 'optional' && !hasAuthorization(request.raw.rawHeaders)) return
 *   try {
 *     request.caller = await verifier.verify(request.raw, expectedAudience(config.cdsHooks.publicBaseUrl!, path))
 *   } catch (error) {
 *     const status = verificationStatus(error)             // 401, 503, or undefined (rethrow)
 *     if (status === undefined) throw error
 *     request.log.info((error as JwtRejected | ReplayCacheFull).logFields(), 'cds-hooks jwt refused')
 *     if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE)
 *     return reply.code(status).send(operationOutcome(status === 401 ? 'security' : 'transient'))
 *   }
 * })
 * ```
 *
 * `request.raw.rawHeaders` is what step 1 needs: Node keeps only one `authorization` in
 * `request.headers`. In `app.inject`, pass `headers: { authorization: [a, b] }` to send two.
 * A header larger than Node's 16 KiB limit never reaches the hook (431 from Node).
 */

/** Internal reason codes of a 401, for the log line only (never sent to the caller, §9). */
export const JWT_REJECT_REASONS = [
  // step 1: the Authorization header line
  'authorization-missing', 'authorization-duplicate', 'scheme-not-bearer', 'token-too-large', 'token-malformed',
  // step 2: the JOSE header
  'header-malformed', 'alg-not-allowed', 'typ-invalid', 'kid-missing', 'kid-invalid',
  // step 3: the issuer
  'payload-malformed', 'issuer-unknown',
  // step 4: keys bound to the issuer
  'jku-not-allowed', 'key-not-found', 'key-ambiguous', 'jwks-unavailable',
  // step 5: jose's verification
  'signature-invalid', 'header-unsupported', 'jws-invalid', 'claim-missing', 'claim-invalid', 'aud-mismatch',
  'iss-mismatch', 'expired', 'not-yet-valid', 'iat-in-future', 'token-too-old', 'verification-failed',
  // steps 6–8
  'lifetime-too-long', 'tenant-not-allowed', 'jti-invalid', 'replayed'
] as const
export type JwtRejectReason = typeof JWT_REJECT_REASONS[number]

/** What the log line may carry (§10.5): the reason, and iss, tenant and jti once they are trustworthy. */
export interface JwtLogFields {
  reason: JwtRejectReason | 'replay-cache-full' | 'replay-cache-error'
  claim?: string
  iss?: string
  tenant?: string
  jti?: string
}

/** A token refused: 401 with an OperationOutcome `security` and `WWW-Authenticate: Bearer` (§9). */
export class JwtRejected extends Error {
  override name = 'JwtRejected'
  constructor (
    readonly reason: JwtRejectReason,
    readonly known: { iss?: string, tenant?: string, jti?: string, claim?: string } = {},
    options?: { cause?: unknown }
  ) {
    super(`CDS Hooks JWT rejected: ${reason}`, options)
  }

  logFields (): JwtLogFields {
    return { reason: this.reason, ...this.known }
  }
}

/**
 * The replay cache could not record the (iss, jti): full with nothing expired to evict, or the store
 * failed. 503 with an OperationOutcome `transient`, never an unchecked accept (§10.1 step 8).
 */
export class ReplayCacheFull extends Error {
  override name = 'ReplayCacheFull'
  constructor (
    readonly known: { iss: string, tenant?: string, jti: string },
    readonly storeFailed = false,
    options?: { cause?: unknown }
  ) {
    super(storeFailed ? 'CDS Hooks replay cache unavailable' : 'CDS Hooks replay cache full', options)
  }

  logFields (): JwtLogFields {
    return { reason: this.storeFailed ? 'replay-cache-error' : 'replay-cache-full', ...this.known }
  }
}

/** The `WWW-Authenticate` value of every 401 (§9). */
export const WWW_AUTHENTICATE = 'Bearer'

/** The HTTP status of a verification failure: 401, 503, or undefined for anything else (a bug: let it be a 500). */
export function verificationStatus (error: unknown): 401 | 503 | undefined {
  if (error instanceof JwtRejected) return 401
  if (error instanceof ReplayCacheFull) return 503
  return undefined
}

/** The caller a verified token names. `client` is its issuer's configuration (FHIR allow-list, jurisdiction). */
export interface VerifiedCaller {
  iss: string
  sub?: string
  tenant?: string
  jti: string
  client: CdsClient
}

export interface JwtVerifier {
  /** Resolves with the caller, or rejects with JwtRejected (401) or ReplayCacheFull (503). */
  verify: (request: { rawHeaders: string[] }, expectedAud: string) => Promise<VerifiedCaller>
}

export interface JwtVerifierOptions {
  clients: readonly CdsClient[]
  config: { cdsHooks: Pick<Config['cdsHooks'], 'jwtAlgorithms' | 'jwtMaxLifetimeS' | 'jwtClockToleranceS'> }
  /** The replay cache (§10.1 step 8): memory on one replica, the shared store with several. */
  store: KeyValueStore
  /** Milliseconds since the epoch; tests pin the clock (the spec's test vector is dated 2014-05-13). */
  now?: () => number
  /** The fetch used for `jku` key sets (jose's customFetch); tests serve key sets without a network. */
  fetchJwks?: FetchImplementation
}

/** Step 1: a token of at most 8 KiB. */
export const MAX_TOKEN_CHARS = 8 * 1024
/** Step 2 and step 8: `kid` and `jti` of at most 256 characters. */
export const MAX_KID_CHARS = 256
export const MAX_JTI_CHARS = 256
/** Step 4: jose's remote key set options, as the spec fixes them. */
export const REMOTE_JWKS_OPTIONS = { timeoutDuration: 1500, cooldownDuration: 30000, cacheMaxAge: 600000 } as const
/** The (iss, jti) keys in the shared store are namespaced: the store also holds feedback and card records. */
export const REPLAY_KEY_PREFIX = 'cds-hooks:jti:'

const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'jti']
const THREE_SEGMENTS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * The `aud` a token must carry (§10.1 step 5): PUBLIC_BASE_URL plus the routed path, without query,
 * fragment or trailing slash: `…/cds-services`, `…/cds-services/{id}`, `…/cds-services/{id}/feedback`.
 */
export function expectedAudience (publicBaseUrl: string, routedPath: string): string {
  const path = routedPath.replace(/[?#].*$/s, '').replace(/\/+$/, '')
  return publicBaseUrl.replace(/\/+$/, '') + path
}

/** Whether the raw headers carry any `Authorization` (for CDS_DISCOVERY_AUTH=optional, §10.3). */
export function hasAuthorization (rawHeaders: readonly string[]): boolean {
  return authorizationValues(rawHeaders).length > 0
}

export function createJwtVerifier (options: JwtVerifierOptions): JwtVerifier {
  const { clients, store } = options
  const { jwtAlgorithms, jwtMaxLifetimeS, jwtClockToleranceS } = options.config.cdsHooks
  checkAlgorithms(jwtAlgorithms)
  const now = options.now ?? Date.now
  const clientsByIss = new Map(clients.map((client) => [client.iss, client]))
  const staticKeys = new Map<string, JWTVerifyGetKey>()
  for (const client of clients) {
    if (client.jwks !== undefined) staticKeys.set(client.iss, createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]))
  }
  // One remote key set (and its cache) per (issuer, jku URL), created on first use.
  const remoteKeys = new Map<string, JWTVerifyGetKey>()
  const remoteOptions = options.fetchJwks === undefined
    ? REMOTE_JWKS_OPTIONS
    : { ...REMOTE_JWKS_OPTIONS, [customFetch]: options.fetchJwks }

  /** Step 4: the key resolver of this issuer only; a static JWKS wins and `jku` is then ignored. */
  function keysFor (client: CdsClient, header: ProtectedHeaderParameters): JWTVerifyGetKey {
    const local = staticKeys.get(client.iss)
    if (local !== undefined) return local
    const jku = header.jku
    // Exact match against the allow-list before anything is fetched.
    if (typeof jku !== 'string' || !client.jku.includes(jku)) throw new JwtRejected('jku-not-allowed', { iss: client.iss })
    const cacheKey = JSON.stringify([client.iss, jku])
    let remote = remoteKeys.get(cacheKey)
    if (remote === undefined) {
      remote = unavailableAsRejection(createRemoteJWKSet(new URL(jku), remoteOptions), client.iss)
      remoteKeys.set(cacheKey, remote)
    }
    return remote
  }

  async function verify (request: { rawHeaders: string[] }, expectedAud: string): Promise<VerifiedCaller> {
    const token = bearerToken(request.rawHeaders)
    const header = joseHeader(token, jwtAlgorithms)
    const client = issuerClient(token, clientsByIss)
    const getKey = keysFor(client, header)
    const currentMs = now()
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: jwtAlgorithms,
        issuer: client.iss,
        audience: expectedAud,
        typ: 'JWT',
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: jwtClockToleranceS,
        maxTokenAge: jwtMaxLifetimeS,
        currentDate: new Date(currentMs)
      }))
    } catch (error) {
      throw rejectionOf(error, client.iss)
    }
    // jose has checked that exp and iat are numbers and that jti is present.
    const exp = payload.exp as number
    const iat = payload.iat as number
    const tenant = typeof payload.tenant === 'string' ? payload.tenant : undefined
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined
    // A jti over the limit is refused below and kept out of the log line.
    const loggableJti = jti !== undefined && jti.length <= MAX_JTI_CHARS ? jti : undefined
    const known = { iss: client.iss, ...(tenant === undefined ? {} : { tenant }), ...(loggableJti === undefined ? {} : { jti: loggableJti }) }
    // Step 6: jose alone accepts a one-day token.
    if (exp - iat > jwtMaxLifetimeS) throw new JwtRejected('lifetime-too-long', known)
    // Step 7.
    if (client.tenants !== undefined && (tenant === undefined || !client.tenants.includes(tenant))) {
      throw new JwtRejected('tenant-not-allowed', known)
    }
    // Step 8: (iss, jti) once, until exp + tolerance.
    if (jti === undefined || jti.length === 0 || jti.length > MAX_JTI_CHARS) throw new JwtRejected('jti-invalid', known)
    const ttlMs = Math.max(1, (exp + jwtClockToleranceS) * 1000 - currentMs)
    let stored
    try {
      stored = await store.putIfAbsent(REPLAY_KEY_PREFIX + JSON.stringify([client.iss, jti]), '1', ttlMs)
    } catch (error) {
      throw new ReplayCacheFull({ ...known, jti }, true, { cause: error })
    }
    if (stored === 'exists') throw new JwtRejected('replayed', known)
    if (stored === 'full') throw new ReplayCacheFull({ ...known, jti })
    return {
      iss: client.iss,
      ...(typeof payload.sub === 'string' ? { sub: payload.sub } : {}),
      ...(tenant === undefined ? {} : { tenant }),
      jti,
      client
    }
  }

  return { verify }
}

/**
 * A remote key set whose fetch failures (network, timeout, non-200, not a JWKS) become
 * `jwks-unavailable`; a kid it does not hold stays `key-not-found`.
 */
function unavailableAsRejection (remote: JWTVerifyGetKey, iss: string): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await remote(header, token)
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error
      throw new JwtRejected('jwks-unavailable', { iss }, { cause: error })
    }
  }
}

function authorizationValues (rawHeaders: readonly string[]): string[] {
  const values: string[] = []
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if ((rawHeaders[index] as string).toLowerCase() === 'authorization') values.push(rawHeaders[index + 1] as string)
  }
  return values
}

/** Step 1: exactly one Authorization header, scheme Bearer, a token of at most 8 KiB with three segments. */
function bearerToken (rawHeaders: readonly string[]): string {
  const values = authorizationValues(rawHeaders)
  if (values.length === 0) throw new JwtRejected('authorization-missing')
  if (values.length > 1) throw new JwtRejected('authorization-duplicate')
  const value = (values[0] as string).trim()
  const space = value.indexOf(' ')
  const scheme = space === -1 ? value : value.slice(0, space)
  // The auth-scheme is case-insensitive (RFC 9110 §11.1).
  if (scheme.toLowerCase() !== 'bearer') throw new JwtRejected('scheme-not-bearer')
  const token = value.slice(scheme.length).trim()
  if (token.length > MAX_TOKEN_CHARS) throw new JwtRejected('token-too-large')
  if (!THREE_SEGMENTS.test(token)) throw new JwtRejected('token-malformed')
  return token
}

/** Step 2: the JOSE header, decoded but not trusted: alg on the list, typ JWT, a kid. */
function joseHeader (token: string, algorithms: readonly string[]): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch (error) {
    throw new JwtRejected('header-malformed', {}, { cause: error })
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw new JwtRejected('alg-not-allowed')
  if (header.typ !== 'JWT') throw new JwtRejected('typ-invalid')
  // jose accepts a token without kid: refuse it here.
  if (header.kid === undefined || header.kid === '') throw new JwtRejected('kid-missing')
  if (typeof header.kid !== 'string' || header.kid.length > MAX_KID_CHARS) throw new JwtRejected('kid-invalid')
  return header
}

/** Step 3: the issuer's entry, from the unverified `iss`. */
function issuerClient (token: string, clientsByIss: ReadonlyMap<string, CdsClient>): CdsClient {
  let payload: JWTPayload
  try {
    payload = decodeJwt(token)
  } catch (error) {
    throw new JwtRejected('payload-malformed', {}, { cause: error })
  }
  const client = typeof payload.iss === 'string' ? clientsByIss.get(payload.iss) : undefined
  if (client === undefined) throw new JwtRejected('issuer-unknown')
  return client
}

/** Steps 4–5: jose's errors as internal reason codes. The unverified claims are not logged. */
function rejectionOf (error: unknown, iss: string): JwtRejected {
  if (error instanceof JwtRejected) return error
  const claim = error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired ? error.claim : undefined
  // Anything else jose or a key throws is still a 401, never a 500.
  const reason = joseReason(error) ?? 'verification-failed'
  return new JwtRejected(reason, { iss, ...(claim === undefined ? {} : { claim }) }, { cause: error })
}

function joseReason (error: unknown): JwtRejectReason | undefined {
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'token-too-old' : 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'claim-missing'
    if (error.reason === 'invalid') return 'claim-invalid'
    return REASON_OF_FAILED_CLAIM[error.claim]
  }
  return error instanceof errors.JOSEError ? REASON_OF_JOSE_CODE[error.code] : undefined
}

/**
 * jose's other errors. Some cannot happen after steps 1–4 (an alg off the list, a payload that is
 * not an object) and are mapped anyway, so that a change of order never turns them into a 500.
 */
const REASON_OF_JOSE_CODE: Readonly<Record<string, JwtRejectReason>> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature-invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'key-not-found',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'key-ambiguous',
  ERR_JOSE_NOT_SUPPORTED: 'header-unsupported',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg-not-allowed',
  ERR_JWS_INVALID: 'jws-invalid',
  ERR_JWT_INVALID: 'jws-invalid'
}

/** The failed check of a claim (or of `typ`); `iss` and `typ` are checked before jose and cannot fail here. */
const REASON_OF_FAILED_CLAIM: Readonly<Record<string, JwtRejectReason>> = {
  aud: 'aud-mismatch', iss: 'iss-mismatch', nbf: 'not-yet-valid', iat: 'iat-in-future', typ: 'typ-invalid'
}
