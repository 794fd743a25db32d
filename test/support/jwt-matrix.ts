import { createPublicKey } from 'node:crypto'
import type { FetchImplementation } from 'jose'
import { CdsClient } from '../../src/cds-hooks/clients.js'
import { MAX_TOKEN_CHARS, type JwtRejectReason } from '../../src/cds-hooks/jwt.js'
import {
  assembleToken, base64url, crdKeys, generatedKey, hmacOf, SANDBOX_ISS, SANDBOX_JKU, sandboxKey, sandboxPublicJwks,
  signToken, SPEC_ISS, specKey, specPublicJwks, standardClaims, type SigningKey
} from './jwt-keys.js'
import { SandboxClient } from './sandbox-client.js'
import { thirdPartyAvailable } from './third-party-fixtures.js'

/**
 * The JWT matrix of spec/ehr-integration.md §12.5, written once and run twice: against the verifier
 * itself (test/cds-hooks/jwt.test.ts, which judges the internal reason) and over HTTP against every
 * CDS Hooks route with the real verifier (test/routes/cds-hooks-jwt.test.ts, which judges 200/401).
 *
 * A row is a function of the audience of the route it is run against (`PUBLIC_BASE_URL` + path), so
 * that "a discovery token replayed on a service" or "a trailing slash" mean the same on every route.
 * Each row gives the Authorization header values of one or more requests (none, one, or two values
 * for a request); the last request is the one judged, the earlier ones prepare it (a replay).
 */

export const MATRIX_NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0)
export const MATRIX_NOW_S = MATRIX_NOW_MS / 1000
export const MATRIX_BASE = 'https://cds.example.org'

/** The four routes of the matrix and their audiences. */
export const MATRIX_PATHS = {
  discovery: '/cds-services',
  patientView: '/cds-services/her2-mbc-bone-mets',
  orderCheck: '/cds-services/her2-mbc-order-check',
  feedback: '/cds-services/her2-mbc-bone-mets/feedback'
} as const
export type MatrixRoute = keyof typeof MATRIX_PATHS
export const AUD: Readonly<Record<MatrixRoute, string>> = {
  discovery: MATRIX_BASE + MATRIX_PATHS.discovery,
  patientView: MATRIX_BASE + MATRIX_PATHS.patientView,
  orderCheck: MATRIX_BASE + MATRIX_PATHS.orderCheck,
  feedback: MATRIX_BASE + MATRIX_PATHS.feedback
}

export const ISS_A = 'https://ehr-a.test.example'
export const ISS_B = 'https://ehr-b.test.example'
export const ISS_REMOTE = 'https://ehr-remote.test.example'
export const ISS_DOWN = 'https://ehr-down.test.example'
export const ISS_CRD = 'https://inferno-crd.test.example'
export const TENANT_A = '2ddd6c3a-8e9a-44c6-a305-52111ad302a2'
export const JKU_REMOTE = 'https://ehr-remote.test.example/.well-known/jwks.json'
export const JKU_DOWN = 'https://ehr-down.test.example/jwks.json'

export const keyA = { es384: generatedKey('ES384', 'a-es384'), rs384: generatedKey('RS384', 'a-rs384'), es256: generatedKey('ES256', 'a-es256') }
export const keyB = generatedKey('ES384', 'b-es384')
export const keyRemote = generatedKey('ES384', 'remote-es384')
export const attacker = generatedKey('ES384', 'attacker')

export interface ThirdPartyKeys { spec: SigningKey, sandbox: SigningKey, crd: ReturnType<typeof crdKeys> }
/** The published keys (spec, sandbox, Inferno CRD), when ../shared/ehr-fixtures is there. */
export const thirdParty: ThirdPartyKeys | undefined = thirdPartyAvailable
  ? { spec: specKey(), sandbox: sandboxKey(), crd: crdKeys() }
  : undefined

export function matrixClient (fields: Partial<CdsClient> & { iss: string }): CdsClient {
  return CdsClient.parse({ jku: [], fhirServers: [], openFhirServers: [], ...fields })
}

/**
 * The issuers of the matrix: A (static ES384, RS384 and ES256 keys, one tenant), B (static), a
 * jku-only issuer whose key set is served, one whose key set is down; with ../shared also the spec
 * issuer (static), the sandbox (by its jku) and the Inferno CRD kit (static).
 */
export function matrixClients (): CdsClient[] {
  const list = [
    matrixClient({ iss: ISS_A, jwks: { keys: [keyA.es384.publicJwk, keyA.rs384.publicJwk, keyA.es256.publicJwk] }, tenants: [TENANT_A], jurisdiction: 'US' }),
    matrixClient({ iss: ISS_B, jwks: { keys: [keyB.publicJwk] } }),
    matrixClient({ iss: ISS_REMOTE, jku: [JKU_REMOTE] }),
    matrixClient({ iss: ISS_DOWN, jku: [JKU_DOWN] })
  ]
  if (thirdParty !== undefined) {
    list.push(
      matrixClient({ iss: SPEC_ISS, jwks: specPublicJwks() as CdsClient['jwks'] }),
      matrixClient({ iss: SANDBOX_ISS, jku: [SANDBOX_JKU] }),
      matrixClient({ iss: ISS_CRD, jwks: thirdParty.crd.publicJwks as CdsClient['jwks'] })
    )
  }
  return list
}

/** A fetch that serves the allow-listed key sets (JKU_DOWN: 404) and records every URL asked for. */
export function jwksServer (): { fetchJwks: FetchImplementation, calls: string[] } {
  const served: Record<string, unknown> = { [JKU_REMOTE]: { keys: [keyRemote.publicJwk] } }
  if (thirdParty !== undefined) served[SANDBOX_JKU] = sandboxPublicJwks()
  const calls: string[] = []
  const fetchJwks: FetchImplementation = async (url) => {
    calls.push(url)
    const jwks = served[url]
    return jwks === undefined
      ? new Response('not here', { status: 404 })
      : new Response(JSON.stringify(jwks), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return { fetchJwks, calls }
}

/** A valid token of issuer A (tenant listed) for `aud`, adjustable. */
export function tokenA (key: SigningKey = keyA.es384, aud: string | string[] = AUD.patientView, options: Parameters<typeof signToken>[2] = {}): string {
  return signToken(key, { ...standardClaims(ISS_A, aud, MATRIX_NOW_S), tenant: TENANT_A }, options)
}

/** The Authorization header values of one request: none, one, or several. */
export type AuthorizationValues = string[]

export interface MatrixRow {
  name: string
  expect: 'accepted' | JwtRejectReason
  /** The requests of the row against a route of audience `aud`; the last one is judged. */
  requests: (aud: string) => AuthorizationValues[]
  /** The key sets that may be fetched during the row (default: none). */
  fetches?: string[]
  thirdParty?: true
}

/** Raw headers as Node gives them, with these Authorization values (the second spelt `Authorization`). */
export function rawHeadersOf (values: AuthorizationValues): string[] {
  return ['host', 'cds.example.org', ...values.flatMap((value, index) => [index === 0 ? 'authorization' : 'Authorization', value])]
}

const bearer = (token: string): AuthorizationValues[] => [[`Bearer ${token}`]]
const once = (value: string): AuthorizationValues[] => [[value]]
const routeAudiences = Object.values(AUD)
/** Another route's audience: a service token on discovery, a discovery token on a service or on feedback. */
const otherRoute = (aud: string): string => aud === AUD.discovery ? AUD.patientView : AUD.discovery
/** The audience next to `aud` on the service/feedback axis: a service token on its feedback, a feedback token elsewhere. */
const serviceOrFeedback = (aud: string): string => aud.endsWith('/feedback') ? aud.slice(0, -'/feedback'.length) : AUD.feedback

export function jwtMatrix (): MatrixRow[] {
  const claimsA = (aud: string): Record<string, unknown> => ({ ...standardClaims(ISS_A, aud, MATRIX_NOW_S), tenant: TENANT_A })
  const publicPem = createPublicKey(keyA.es384.privateKey).export({ type: 'spki', format: 'pem' }) as string
  const withA = (options: Parameters<typeof signToken>[2], key: SigningKey = keyA.es384) => (aud: string) => bearer(tokenA(key, aud, options))
  const rows: MatrixRow[] = [
    // Accepted.
    { name: 'valid ES384 (generated)', expect: 'accepted', requests: (aud) => bearer(tokenA(keyA.es384, aud)) },
    { name: 'valid RS384 (generated)', expect: 'accepted', requests: (aud) => bearer(tokenA(keyA.rs384, aud)) },
    { name: 'aud as an array containing ours', expect: 'accepted', requests: (aud) => bearer(tokenA(keyA.es384, ['https://other.example', aud])) },
    { name: 'exp 10 s ago (inside the 30 s tolerance)', expect: 'accepted', requests: withA({ claims: { iat: MATRIX_NOW_S - 290, exp: MATRIX_NOW_S - 10 } }) },
    { name: 'scheme written "bearer" (case-insensitive)', expect: 'accepted', requests: (aud) => once(`bearer ${tokenA(keyA.es384, aud)}`) },
    { name: 'ES384 via an allow-listed jku (generated, fetched)', expect: 'accepted', fetches: [JKU_REMOTE], requests: (aud) => bearer(signToken(keyRemote, standardClaims(ISS_REMOTE, aud, MATRIX_NOW_S), { header: { jku: JKU_REMOTE } })) },
    // Step 1: the header line.
    { name: 'no Authorization header', expect: 'authorization-missing', requests: () => [[]] },
    { name: 'two Authorization headers (both valid)', expect: 'authorization-duplicate', requests: (aud) => [[`Bearer ${tokenA(keyA.es384, aud)}`, `Bearer ${tokenA(keyA.es384, aud)}`]] },
    { name: 'Basic scheme', expect: 'scheme-not-bearer', requests: () => once(`Basic ${base64url('user:password')}`) },
    { name: 'scheme only', expect: 'scheme-not-bearer', requests: () => once('Token') },
    { name: 'garbage token', expect: 'token-malformed', requests: () => once('Bearer not a token at all') },
    { name: 'two segments', expect: 'token-malformed', requests: (aud) => bearer(tokenA(keyA.es384, aud).split('.').slice(0, 2).join('.')) },
    { name: 'Bearer without a token', expect: 'token-malformed', requests: () => once('Bearer') },
    { name: `token over ${MAX_TOKEN_CHARS} characters`, expect: 'token-too-large', requests: withA({ claims: { padding: 'x'.repeat(MAX_TOKEN_CHARS) } }) },
    // Step 2: the JOSE header.
    { name: 'header not JSON', expect: 'header-malformed', requests: (aud) => bearer(`${base64url('{nope')}.${tokenA(keyA.es384, aud).split('.')[1] as string}.c2ln`) },
    { name: 'alg: none', expect: 'alg-not-allowed', requests: (aud) => bearer(assembleToken({ alg: 'none', typ: 'JWT', kid: keyA.es384.kid }, claimsA(aud), () => '')) },
    { name: 'HS256 keyed with the public key PEM', expect: 'alg-not-allowed', requests: (aud) => bearer(assembleToken({ alg: 'HS256', typ: 'JWT', kid: keyA.es384.kid }, claimsA(aud), (input) => hmacOf('HS256', publicPem, input))) },
    { name: 'HS384 keyed with the JWK x', expect: 'alg-not-allowed', requests: (aud) => bearer(assembleToken({ alg: 'HS384', typ: 'JWT', kid: keyA.es384.kid }, claimsA(aud), (input) => hmacOf('HS384', keyA.es384.publicJwk.x as string, input))) },
    { name: 'ES256 (a configured key, but not on JWT_ALGORITHMS)', expect: 'alg-not-allowed', requests: (aud) => bearer(tokenA(keyA.es256, aud)) },
    { name: 'typ missing', expect: 'typ-invalid', requests: withA({ header: { typ: undefined } }) },
    { name: 'typ at+jwt', expect: 'typ-invalid', requests: withA({ header: { typ: 'at+jwt' } }) },
    { name: 'no kid', expect: 'kid-missing', requests: withA({ header: { kid: undefined } }) },
    { name: 'empty kid', expect: 'kid-missing', requests: withA({ header: { kid: '' } }) },
    { name: 'kid of 257 characters', expect: 'kid-invalid', requests: withA({ header: { kid: 'k'.repeat(257) } }) },
    { name: 'kid not a string', expect: 'kid-invalid', requests: withA({ header: { kid: 7 } }) },
    // Step 3: the issuer.
    { name: 'payload not JSON', expect: 'payload-malformed', requests: (aud) => bearer(`${tokenA(keyA.es384, aud).split('.')[0] as string}.${base64url('[1')}.c2ln`) },
    { name: 'iss not configured', expect: 'issuer-unknown', requests: withA({ claims: { iss: 'https://unknown.example' } }) },
    { name: 'no iss', expect: 'issuer-unknown', requests: withA({ claims: { iss: undefined } }) },
    // Step 4: keys bound to the issuer.
    { name: 'a key of issuer A under iss B', expect: 'key-not-found', requests: (aud) => bearer(signToken(keyA.es384, standardClaims(ISS_B, aud, MATRIX_NOW_S))) },
    { name: 'issuer A\'s key with issuer B\'s kid, under iss B', expect: 'signature-invalid', requests: (aud) => bearer(signToken(keyA.es384, standardClaims(ISS_B, aud, MATRIX_NOW_S), { header: { kid: keyB.kid } })) },
    { name: 'unknown kid', expect: 'key-not-found', requests: withA({ header: { kid: 'nobody' } }) },
    { name: 'an RSA kid with an ES header', expect: 'key-not-found', requests: withA({ header: { kid: keyA.rs384.kid } }) },
    { name: 'a jku not on the list (nothing fetched)', expect: 'jku-not-allowed', requests: (aud) => bearer(signToken(keyRemote, standardClaims(ISS_REMOTE, aud, MATRIX_NOW_S), { header: { jku: 'https://attacker.example/jwks.json' } })) },
    { name: 'the allow-listed jku with a different case (exact match only)', expect: 'jku-not-allowed', requests: (aud) => bearer(signToken(keyRemote, standardClaims(ISS_REMOTE, aud, MATRIX_NOW_S), { header: { jku: JKU_REMOTE.toUpperCase() } })) },
    { name: 'no jku for an issuer without static keys', expect: 'jku-not-allowed', requests: (aud) => bearer(signToken(keyRemote, standardClaims(ISS_REMOTE, aud, MATRIX_NOW_S))) },
    { name: 'the jku key set cannot be fetched', expect: 'jwks-unavailable', fetches: [JKU_DOWN], requests: (aud) => bearer(signToken(keyRemote, standardClaims(ISS_DOWN, aud, MATRIX_NOW_S), { header: { jku: JKU_DOWN } })) },
    // Step 5: jose.
    { name: 'an attacker key in the jwk header', expect: 'signature-invalid', requests: withA({ header: { kid: keyA.es384.kid, jwk: attacker.publicJwk } }, attacker) },
    { name: 'crit not an array', expect: 'jws-invalid', requests: withA({ header: { crit: 'x-unknown' } }) },
    { name: 'an unknown crit', expect: 'header-unsupported', requests: withA({ header: { crit: ['x-unknown'], 'x-unknown': true } }) },
    {
      name: 'a tampered payload',
      expect: 'signature-invalid',
      requests: (aud) => {
        const [header, , signature] = tokenA(keyA.es384, aud).split('.') as [string, string, string]
        return bearer(`${header}.${base64url(JSON.stringify({ ...claimsA(aud), jti: 'forged' }))}.${signature}`)
      }
    },
    { name: 'a DER-encoded ES384 signature', expect: 'signature-invalid', requests: withA({ ecdsaEncoding: 'der' }) },
    { name: 'wrong aud: the base URL only', expect: 'aud-mismatch', requests: () => bearer(tokenA(keyA.es384, MATRIX_BASE)) },
    { name: 'wrong aud: a trailing slash', expect: 'aud-mismatch', requests: (aud) => bearer(tokenA(keyA.es384, `${aud}/`)) },
    { name: 'wrong aud: http for https', expect: 'aud-mismatch', requests: (aud) => bearer(tokenA(keyA.es384, aud.replace('https:', 'http:'))) },
    { name: 'wrong aud: a discovery token replayed on a service (on discovery: a service token)', expect: 'aud-mismatch', requests: (aud) => bearer(tokenA(keyA.es384, otherRoute(aud))) },
    { name: 'wrong aud: a service token replayed on its feedback (on the others: a feedback token)', expect: 'aud-mismatch', requests: (aud) => bearer(tokenA(keyA.es384, serviceOrFeedback(aud))) },
    { name: 'wrong aud: an array without ours', expect: 'aud-mismatch', requests: (aud) => bearer(tokenA(keyA.es384, routeAudiences.filter((other) => other !== aud).slice(0, 2))) },
    { name: 'exp 120 s ago', expect: 'expired', requests: withA({ claims: { iat: MATRIX_NOW_S - 420, exp: MATRIX_NOW_S - 120 } }) },
    { name: 'iat 1 h ahead', expect: 'iat-in-future', requests: withA({ claims: { iat: MATRIX_NOW_S + 3600, exp: MATRIX_NOW_S + 3900 } }) },
    { name: 'nbf ahead', expect: 'not-yet-valid', requests: withA({ claims: { nbf: MATRIX_NOW_S + 120 } }) },
    { name: 'iat older than the maximum age (600 s)', expect: 'token-too-old', requests: withA({ claims: { iat: MATRIX_NOW_S - 700, exp: MATRIX_NOW_S + 60 } }) },
    { name: 'no jti', expect: 'claim-missing', requests: withA({ claims: { jti: undefined } }) },
    { name: 'no exp', expect: 'claim-missing', requests: withA({ claims: { exp: undefined } }) },
    { name: 'no iat', expect: 'claim-missing', requests: withA({ claims: { iat: undefined } }) },
    { name: 'no aud', expect: 'claim-missing', requests: withA({ claims: { aud: undefined } }) },
    { name: 'exp not a number', expect: 'claim-invalid', requests: withA({ claims: { exp: String(MATRIX_NOW_S + 300) } }) },
    // Step 6.
    { name: 'exp − iat of one day', expect: 'lifetime-too-long', requests: withA({ claims: { exp: MATRIX_NOW_S + 86400 } }) },
    { name: 'exp − iat of 601 s', expect: 'lifetime-too-long', requests: withA({ claims: { exp: MATRIX_NOW_S + 601 } }) },
    { name: 'exp − iat of exactly 600 s', expect: 'accepted', requests: withA({ claims: { exp: MATRIX_NOW_S + 600 } }) },
    // Step 7.
    { name: 'tenant not listed', expect: 'tenant-not-allowed', requests: withA({ claims: { tenant: 'another-tenant' } }) },
    { name: 'no tenant where the issuer lists tenants', expect: 'tenant-not-allowed', requests: withA({ claims: { tenant: undefined } }) },
    // Step 8.
    { name: 'a replayed jti (the same token twice)', expect: 'replayed', requests: (aud) => { const token = tokenA(keyA.es384, aud); return [...bearer(token), ...bearer(token)] } },
    { name: 'jti of 257 characters', expect: 'jti-invalid', requests: withA({ claims: { jti: 'j'.repeat(257) } }) },
    { name: 'jti not a string', expect: 'jti-invalid', requests: withA({ claims: { jti: 12345 } }) },
    { name: 'empty jti', expect: 'jti-invalid', requests: withA({ claims: { jti: '' } }) }
  ]
  if (thirdParty !== undefined) {
    const { spec, sandbox, crd } = thirdParty
    const sandboxClient = new SandboxClient({ baseUrl: MATRIX_BASE, key: sandbox, now: () => MATRIX_NOW_MS })
    rows.push(
      { thirdParty: true, name: 'spec key (example-kid), fresh token with the spec\'s jku header: static JWKS wins, nothing fetched', expect: 'accepted', requests: (aud) => bearer(signToken(spec, standardClaims(SPEC_ISS, aud, MATRIX_NOW_S), { header: { jku: 'https://fhir-ehr.example.com/jwk_uri' } })) },
      { thirdParty: true, name: 'sandbox token (ES384, its jku on the list, fetched)', expect: 'accepted', fetches: [SANDBOX_JKU], requests: (aud) => bearer(sandboxClient.jwt(aud.slice(MATRIX_BASE.length))) },
      { thirdParty: true, name: 'Inferno CRD ES384', expect: 'accepted', requests: (aud) => bearer(signToken(crd.es384, standardClaims(ISS_CRD, aud, MATRIX_NOW_S))) },
      { thirdParty: true, name: 'Inferno CRD RS384', expect: 'accepted', requests: (aud) => bearer(signToken(crd.rs384, standardClaims(ISS_CRD, aud, MATRIX_NOW_S))) },
      { thirdParty: true, name: 'the sandbox key under the CRD issuer', expect: 'key-not-found', requests: (aud) => bearer(signToken(sandbox, standardClaims(ISS_CRD, aud, MATRIX_NOW_S))) },
      { thirdParty: true, name: 'the spec key under the sandbox issuer (jku-only issuer, sandbox jku)', expect: 'key-not-found', fetches: [SANDBOX_JKU], requests: (aud) => bearer(signToken(spec, standardClaims(SANDBOX_ISS, aud, MATRIX_NOW_S), { header: { jku: SANDBOX_JKU } })) },
      { thirdParty: true, name: 'CRD RS384 kid with an ES384 header', expect: 'key-not-found', requests: (aud) => bearer(signToken(crd.es384, standardClaims(ISS_CRD, aud, MATRIX_NOW_S), { header: { kid: crd.rs384.kid } })) },
      { thirdParty: true, name: 'HS256 keyed with the sandbox public JWK x', expect: 'alg-not-allowed', requests: (aud) => bearer(assembleToken({ alg: 'HS256', typ: 'JWT', kid: sandbox.kid, jku: SANDBOX_JKU }, standardClaims(SANDBOX_ISS, aud, MATRIX_NOW_S), (input) => hmacOf('HS256', sandbox.publicJwk.x as string, input))) }
    )
  }
  return rows
}

/** Reasons mapped for safety but unreachable after steps 1–4 (duplicate kids are refused at load; iss is looked up from the token itself; every jose error has its own code). */
export const UNREACHABLE_REASONS: readonly JwtRejectReason[] = ['key-ambiguous', 'iss-mismatch', 'verification-failed']
