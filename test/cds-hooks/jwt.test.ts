import { createPublicKey, randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { createLocalJWKSet, errors, jwtVerify, type FetchImplementation } from 'jose'
import t from 'tap'
import { CdsClient } from '../../src/cds-hooks/clients.js'
import {
  createJwtVerifier, expectedAudience, hasAuthorization, JWT_REJECT_REASONS, JwtRejected, MAX_TOKEN_CHARS,
  REMOTE_JWKS_OPTIONS, REPLAY_KEY_PREFIX, ReplayCacheFull, verificationStatus, WWW_AUTHENTICATE,
  type JwtRejectReason, type JwtVerifier, type VerifiedCaller
} from '../../src/cds-hooks/jwt.js'
import { ConfigError, parseConfig } from '../../src/config.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { KeyValueStore } from '../../src/stores/store.js'
import {
  assembleToken, base64url, bearerHeaders, crdKeys, generatedKey, hmacOf, SANDBOX_ISS, SANDBOX_JKU, sandboxKey,
  sandboxPublicJwks, signatureOf, signToken, SPEC_ISS, specKey, specPublicJwks, specTestVector, standardClaims,
  type SigningKey
} from '../support/jwt-keys.js'
import { SandboxClient } from '../support/sandbox-client.js'
import { needThirdParty, thirdPartyAvailable, thirdPartySkip } from '../support/third-party-fixtures.js'

// spec/ehr-integration.md §10.1 and the JWT matrix of §12.5, against the verifier itself (the
// routes turn JwtRejected into 401 and ReplayCacheFull into 503).

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0)
const NOW_S = NOW_MS / 1000
const BASE = 'https://cds.example.org'
const AUD = {
  discovery: `${BASE}/cds-services`,
  patientView: `${BASE}/cds-services/her2-mbc-bone-mets`,
  orderCheck: `${BASE}/cds-services/her2-mbc-order-check`,
  feedback: `${BASE}/cds-services/her2-mbc-bone-mets/feedback`
}
const config = parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: BASE })

const ISS_A = 'https://ehr-a.test.example'
const ISS_B = 'https://ehr-b.test.example'
const ISS_REMOTE = 'https://ehr-remote.test.example'
const ISS_DOWN = 'https://ehr-down.test.example'
const ISS_CRD = 'https://inferno-crd.test.example'
const TENANT_A = '2ddd6c3a-8e9a-44c6-a305-52111ad302a2'
const JKU_REMOTE = 'https://ehr-remote.test.example/.well-known/jwks.json'
const JKU_DOWN = 'https://ehr-down.test.example/jwks.json'

const keyA = { es384: generatedKey('ES384', 'a-es384'), rs384: generatedKey('RS384', 'a-rs384'), es256: generatedKey('ES256', 'a-es256') }
const keyB = generatedKey('ES384', 'b-es384')
const keyRemote = generatedKey('ES384', 'remote-es384')
const attacker = generatedKey('ES384', 'attacker')

interface ThirdPartyKeys { spec: SigningKey, sandbox: SigningKey, crd: ReturnType<typeof crdKeys> }
const thirdParty: ThirdPartyKeys | undefined = thirdPartyAvailable
  ? { spec: specKey(), sandbox: sandboxKey(), crd: crdKeys() }
  : undefined

function client (fields: Partial<CdsClient> & { iss: string }): CdsClient {
  return CdsClient.parse({ jku: [], fhirServers: [], openFhirServers: [], ...fields })
}

function clients (): CdsClient[] {
  const list = [
    client({ iss: ISS_A, jwks: { keys: [keyA.es384.publicJwk, keyA.rs384.publicJwk, keyA.es256.publicJwk] }, tenants: [TENANT_A], jurisdiction: 'US' }),
    client({ iss: ISS_B, jwks: { keys: [keyB.publicJwk] } }),
    client({ iss: ISS_REMOTE, jku: [JKU_REMOTE] }),
    client({ iss: ISS_DOWN, jku: [JKU_DOWN] })
  ]
  if (thirdParty !== undefined) {
    list.push(
      client({ iss: SPEC_ISS, jwks: specPublicJwks() as CdsClient['jwks'] }),
      client({ iss: SANDBOX_ISS, jku: [SANDBOX_JKU] }),
      client({ iss: ISS_CRD, jwks: thirdParty.crd.publicJwks as CdsClient['jwks'] })
    )
  }
  return list
}

/** A fetch that serves the allow-listed key sets and records every URL asked for. */
function jwksServer (): { fetchJwks: FetchImplementation, calls: string[] } {
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

function setup (options: { store?: KeyValueStore, now?: number } = {}): { verifier: JwtVerifier, calls: string[], store: KeyValueStore } {
  const now = options.now ?? NOW_MS
  const store = options.store ?? new MemoryStore(1000, () => now)
  const { fetchJwks, calls } = jwksServer()
  return { verifier: createJwtVerifier({ clients: clients(), config, store, now: () => now, fetchJwks }), calls, store }
}

/** A valid token of issuer A (tenant listed) for `aud`, adjustable. */
function tokenA (key: SigningKey = keyA.es384, aud: string | string[] = AUD.patientView, options: Parameters<typeof signToken>[2] = {}): string {
  return signToken(key, { ...standardClaims(ISS_A, aud, NOW_S), tenant: TENANT_A }, options)
}

async function reasonOf (promise: Promise<unknown>): Promise<JwtRejectReason | 'accepted' | string> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    return error instanceof JwtRejected ? error.reason : `unexpected ${(error as Error).name}: ${(error as Error).message}`
  }
}

interface MatrixRow {
  name: string
  expect: 'accepted' | JwtRejectReason
  /** Runs the verification(s) of the row; its last verification is the one judged. */
  run: (verifier: JwtVerifier) => Promise<unknown>
  /** The key sets that may be fetched during the row (default: none). */
  fetches?: string[]
  thirdParty?: true
}

const verifyToken = (token: string, aud = AUD.patientView) => async (verifier: JwtVerifier) => await verifier.verify({ rawHeaders: bearerHeaders(token) }, aud)
const verifyHeaders = (rawHeaders: string[], aud = AUD.patientView) => async (verifier: JwtVerifier) => await verifier.verify({ rawHeaders }, aud)

function matrix (): MatrixRow[] {
  const claimsA = (): Record<string, unknown> => ({ ...standardClaims(ISS_A, AUD.patientView, NOW_S), tenant: TENANT_A })
  const validA = tokenA()
  const [headerA, payloadA] = validA.split('.') as [string, string, string]
  const publicPem = createPublicKey(keyA.es384.privateKey).export({ type: 'spki', format: 'pem' }) as string
  const rows: MatrixRow[] = [
    // Accepted.
    ...Object.entries(AUD).map(([route, aud]): MatrixRow => ({ name: `valid ES384 (generated) on ${route}`, expect: 'accepted', run: verifyToken(tokenA(keyA.es384, aud), aud) })),
    ...Object.entries(AUD).map(([route, aud]): MatrixRow => ({ name: `valid RS384 (generated) on ${route}`, expect: 'accepted', run: verifyToken(tokenA(keyA.rs384, aud), aud) })),
    { name: 'aud as an array containing ours', expect: 'accepted', run: verifyToken(tokenA(keyA.es384, ['https://other.example', AUD.patientView])) },
    { name: 'exp 10 s ago (inside the 30 s tolerance)', expect: 'accepted', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iat: NOW_S - 290, exp: NOW_S - 10 } })) },
    { name: 'scheme written "bearer" (case-insensitive)', expect: 'accepted', run: verifyHeaders(['authorization', `bearer ${tokenA()}`]) },
    { name: 'ES384 via an allow-listed jku (generated, fetched)', expect: 'accepted', fetches: [JKU_REMOTE], run: verifyToken(signToken(keyRemote, standardClaims(ISS_REMOTE, AUD.feedback, NOW_S), { header: { jku: JKU_REMOTE } }), AUD.feedback) },
    // Step 1: the header line.
    { name: 'no Authorization header', expect: 'authorization-missing', run: verifyHeaders(['host', 'cds.example.org']) },
    { name: 'two Authorization headers (both valid)', expect: 'authorization-duplicate', run: verifyHeaders(['authorization', `Bearer ${tokenA()}`, 'Authorization', `Bearer ${tokenA()}`]) },
    { name: 'Basic scheme', expect: 'scheme-not-bearer', run: verifyHeaders(['authorization', `Basic ${base64url('user:password')}`]) },
    { name: 'scheme only', expect: 'scheme-not-bearer', run: verifyHeaders(['authorization', 'Token']) },
    { name: 'garbage token', expect: 'token-malformed', run: verifyHeaders(['authorization', 'Bearer not a token at all']) },
    { name: 'two segments', expect: 'token-malformed', run: verifyToken(`${headerA}.${payloadA}`) },
    { name: 'Bearer without a token', expect: 'token-malformed', run: verifyHeaders(['authorization', 'Bearer']) },
    { name: `token over ${MAX_TOKEN_CHARS} characters`, expect: 'token-too-large', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { padding: 'x'.repeat(MAX_TOKEN_CHARS) } })) },
    // Step 2: the JOSE header.
    { name: 'header not JSON', expect: 'header-malformed', run: verifyToken(`${base64url('{nope')}.${payloadA}.c2ln`) },
    { name: 'alg: none', expect: 'alg-not-allowed', run: verifyToken(assembleToken({ alg: 'none', typ: 'JWT', kid: keyA.es384.kid }, claimsA(), () => '')) },
    { name: 'HS256 keyed with the public key PEM', expect: 'alg-not-allowed', run: verifyToken(assembleToken({ alg: 'HS256', typ: 'JWT', kid: keyA.es384.kid }, claimsA(), (input) => hmacOf('HS256', publicPem, input))) },
    { name: 'HS384 keyed with the JWK x', expect: 'alg-not-allowed', run: verifyToken(assembleToken({ alg: 'HS384', typ: 'JWT', kid: keyA.es384.kid }, claimsA(), (input) => hmacOf('HS384', keyA.es384.publicJwk.x as string, input))) },
    { name: 'ES256 (a configured key, but not on JWT_ALGORITHMS)', expect: 'alg-not-allowed', run: verifyToken(tokenA(keyA.es256)) },
    { name: 'typ missing', expect: 'typ-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { typ: undefined } })) },
    { name: 'typ at+jwt', expect: 'typ-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { typ: 'at+jwt' } })) },
    { name: 'no kid', expect: 'kid-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: undefined } })) },
    { name: 'empty kid', expect: 'kid-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: '' } })) },
    { name: 'kid of 257 characters', expect: 'kid-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: 'k'.repeat(257) } })) },
    { name: 'kid not a string', expect: 'kid-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: 7 } })) },
    // Step 3: the issuer.
    { name: 'payload not JSON', expect: 'payload-malformed', run: verifyToken(`${headerA}.${base64url('[1')}.c2ln`) },
    { name: 'iss not configured', expect: 'issuer-unknown', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iss: 'https://unknown.example' } })) },
    { name: 'no iss', expect: 'issuer-unknown', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iss: undefined } })) },
    // Step 4: keys bound to the issuer.
    { name: 'a key of issuer A under iss B', expect: 'key-not-found', run: verifyToken(signToken(keyA.es384, standardClaims(ISS_B, AUD.patientView, NOW_S))) },
    { name: 'issuer A\'s key with issuer B\'s kid, under iss B', expect: 'signature-invalid', run: verifyToken(signToken(keyA.es384, standardClaims(ISS_B, AUD.patientView, NOW_S), { header: { kid: keyB.kid } })) },
    { name: 'unknown kid', expect: 'key-not-found', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: 'nobody' } })) },
    { name: 'an RSA kid with an ES header', expect: 'key-not-found', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { kid: keyA.rs384.kid } })) },
    { name: 'a jku not on the list (nothing fetched)', expect: 'jku-not-allowed', run: verifyToken(signToken(keyRemote, standardClaims(ISS_REMOTE, AUD.patientView, NOW_S), { header: { jku: 'https://attacker.example/jwks.json' } })) },
    { name: 'the allow-listed jku with a different case (exact match only)', expect: 'jku-not-allowed', run: verifyToken(signToken(keyRemote, standardClaims(ISS_REMOTE, AUD.patientView, NOW_S), { header: { jku: JKU_REMOTE.toUpperCase() } })) },
    { name: 'no jku for an issuer without static keys', expect: 'jku-not-allowed', run: verifyToken(signToken(keyRemote, standardClaims(ISS_REMOTE, AUD.patientView, NOW_S))) },
    { name: 'the jku key set cannot be fetched', expect: 'jwks-unavailable', fetches: [JKU_DOWN], run: verifyToken(signToken(keyRemote, standardClaims(ISS_DOWN, AUD.patientView, NOW_S), { header: { jku: JKU_DOWN } })) },
    // Step 5: jose.
    { name: 'an attacker key in the jwk header', expect: 'signature-invalid', run: verifyToken(tokenA(attacker, AUD.patientView, { header: { kid: keyA.es384.kid, jwk: attacker.publicJwk } })) },
    { name: 'crit not an array', expect: 'jws-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { crit: 'x-unknown' } })) },
    { name: 'an unknown crit', expect: 'header-unsupported', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { header: { crit: ['x-unknown'], 'x-unknown': true } })) },
    { name: 'a tampered payload', expect: 'signature-invalid', run: verifyToken(`${headerA}.${base64url(JSON.stringify({ ...claimsA(), jti: 'forged' }))}.${validA.split('.')[2] as string}`) },
    { name: 'a DER-encoded ES384 signature', expect: 'signature-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { ecdsaEncoding: 'der' })) },
    { name: 'wrong aud: the base URL only', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, BASE)) },
    { name: 'wrong aud: a trailing slash', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, `${AUD.patientView}/`)) },
    { name: 'wrong aud: http for https', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, AUD.patientView.replace('https:', 'http:'))) },
    { name: 'wrong aud: a discovery token replayed on a service', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, AUD.discovery), AUD.patientView) },
    { name: 'wrong aud: a service token replayed on feedback', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, AUD.patientView), AUD.feedback) },
    { name: 'wrong aud: an array without ours', expect: 'aud-mismatch', run: verifyToken(tokenA(keyA.es384, [AUD.discovery, AUD.feedback])) },
    { name: 'exp 120 s ago', expect: 'expired', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iat: NOW_S - 420, exp: NOW_S - 120 } })) },
    { name: 'iat 1 h ahead', expect: 'iat-in-future', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iat: NOW_S + 3600, exp: NOW_S + 3900 } })) },
    { name: 'nbf ahead', expect: 'not-yet-valid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { nbf: NOW_S + 120 } })) },
    { name: 'iat older than the maximum age (600 s)', expect: 'token-too-old', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iat: NOW_S - 700, exp: NOW_S + 60 } })) },
    { name: 'no jti', expect: 'claim-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { jti: undefined } })) },
    { name: 'no exp', expect: 'claim-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { exp: undefined } })) },
    { name: 'no iat', expect: 'claim-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { iat: undefined } })) },
    { name: 'no aud', expect: 'claim-missing', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { aud: undefined } })) },
    { name: 'exp not a number', expect: 'claim-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { exp: String(NOW_S + 300) } })) },
    // Step 6.
    { name: 'exp − iat of one day', expect: 'lifetime-too-long', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { exp: NOW_S + 86400 } })) },
    { name: 'exp − iat of 601 s', expect: 'lifetime-too-long', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { exp: NOW_S + 601 } })) },
    { name: 'exp − iat of exactly 600 s', expect: 'accepted', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { exp: NOW_S + 600 } })) },
    // Step 7.
    { name: 'tenant not listed', expect: 'tenant-not-allowed', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { tenant: 'another-tenant' } })) },
    { name: 'no tenant where the issuer lists tenants', expect: 'tenant-not-allowed', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { tenant: undefined } })) },
    // Step 8.
    { name: 'a replayed jti (the same token twice)', expect: 'replayed', run: async (verifier) => { const token = tokenA(); await verifyToken(token)(verifier); return await verifyToken(token)(verifier) } },
    { name: 'jti of 257 characters', expect: 'jti-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { jti: 'j'.repeat(257) } })) },
    { name: 'jti not a string', expect: 'jti-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { jti: 12345 } })) },
    { name: 'empty jti', expect: 'jti-invalid', run: verifyToken(tokenA(keyA.es384, AUD.patientView, { claims: { jti: '' } })) }
  ]
  if (thirdParty !== undefined) {
    const { spec, sandbox, crd } = thirdParty
    const sandboxClient = new SandboxClient({ baseUrl: BASE, key: sandbox, now: () => NOW_MS })
    rows.push(
      { thirdParty: true, name: 'spec key (example-kid), fresh token with the spec\'s jku header: static JWKS wins, nothing fetched', expect: 'accepted', run: verifyToken(signToken(spec, standardClaims(SPEC_ISS, AUD.patientView, NOW_S), { header: { jku: 'https://fhir-ehr.example.com/jwk_uri' } })) },
      { thirdParty: true, name: 'sandbox token (ES384, its jku on the list, fetched)', expect: 'accepted', fetches: [SANDBOX_JKU], run: verifyToken(sandboxClient.jwt('/cds-services/her2-mbc-bone-mets')) },
      { thirdParty: true, name: 'sandbox token on discovery', expect: 'accepted', fetches: [SANDBOX_JKU], run: verifyToken(sandboxClient.jwt('/cds-services'), AUD.discovery) },
      { thirdParty: true, name: 'Inferno CRD ES384', expect: 'accepted', run: verifyToken(signToken(crd.es384, standardClaims(ISS_CRD, AUD.orderCheck, NOW_S)), AUD.orderCheck) },
      { thirdParty: true, name: 'Inferno CRD RS384', expect: 'accepted', run: verifyToken(signToken(crd.rs384, standardClaims(ISS_CRD, AUD.orderCheck, NOW_S)), AUD.orderCheck) },
      { thirdParty: true, name: 'the sandbox key under the CRD issuer', expect: 'key-not-found', run: verifyToken(signToken(sandbox, standardClaims(ISS_CRD, AUD.patientView, NOW_S))) },
      { thirdParty: true, name: 'the spec key under the sandbox issuer (jku-only issuer, sandbox jku)', expect: 'key-not-found', fetches: [SANDBOX_JKU], run: verifyToken(signToken(spec, standardClaims(SANDBOX_ISS, AUD.patientView, NOW_S), { header: { jku: SANDBOX_JKU } })) },
      { thirdParty: true, name: 'CRD RS384 kid with an ES384 header', expect: 'key-not-found', run: verifyToken(signToken(crd.es384, standardClaims(ISS_CRD, AUD.patientView, NOW_S), { header: { kid: crd.rs384.kid } })) },
      { thirdParty: true, name: 'HS256 keyed with the sandbox public JWK x', expect: 'alg-not-allowed', run: verifyToken(assembleToken({ alg: 'HS256', typ: 'JWT', kid: sandbox.kid, jku: SANDBOX_JKU }, standardClaims(SANDBOX_ISS, AUD.patientView, NOW_S), (input) => hmacOf('HS256', sandbox.publicJwk.x as string, input))) }
    )
  }
  return rows
}

t.test('JWT matrix (§12.5): every row accepted or rejected with its internal reason, never another error', async (t) => {
  if (!thirdPartyAvailable) needThirdParty(t) // the generated-key rows still run
  const rows = matrix()
  t.ok(rows.filter((row) => row.expect === 'accepted').length >= 10, 'accepted rows are part of the table')
  for (const row of rows) {
    // One verifier (and replay cache, and JWKS fetch spy) per row, so rows do not depend on each other.
    const { verifier, calls } = setup()
    t.equal(await reasonOf(row.run(verifier)), row.expect, row.name)
    t.strictSame(calls, row.fetches ?? [], `${row.name}: key sets fetched`)
  }
  const covered = new Set(rows.map((row) => row.expect))
  // Mapped for safety but unreachable after steps 1–4: duplicate kids are refused at load, iss is
  // looked up from the token itself, and every jose error has its own code.
  const unreachable = ['key-ambiguous', 'iss-mismatch', 'verification-failed']
  // (verification-failed has its own test below: a key that slipped past the load checks.)
  for (const reason of JWT_REJECT_REASONS) {
    if (!unreachable.includes(reason)) t.ok(covered.has(reason), `reason ${reason} has a row`)
  }
})

t.test('a key jose refuses (an RSA-1024 key that bypassed loadCdsClients) → verification-failed, a 401, never a 500', async (t) => {
  const weak = generatedKey('RS384', 'weak-rs384', 1024)
  const verifier = createJwtVerifier({ clients: [client({ iss: ISS_B, jwks: { keys: [weak.publicJwk] } })], config, store: new MemoryStore(10, () => NOW_MS), now: () => NOW_MS })
  const error = await verifier.verify({ rawHeaders: bearerHeaders(signToken(weak, standardClaims(ISS_B, AUD.discovery, NOW_S))) }, AUD.discovery).catch((caught: unknown) => caught)
  t.type(error, JwtRejected)
  t.strictSame((error as JwtRejected).logFields(), { reason: 'verification-failed', iss: ISS_B })
  t.equal(verificationStatus(error), 401)
})

t.test('accepted: the caller names the issuer, tenant, jti, sub and client entry', async (t) => {
  const { verifier } = setup()
  const jti = randomUUID()
  const caller: VerifiedCaller = await verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { jti, sub: 'ehr-client-7' } })) }, AUD.patientView)
  t.equal(caller.iss, ISS_A)
  t.equal(caller.tenant, TENANT_A)
  t.equal(caller.jti, jti)
  t.equal(caller.sub, 'ehr-client-7')
  t.equal(caller.client.jurisdiction, 'US')
  const plain = await setup().verifier.verify({ rawHeaders: bearerHeaders(signToken(keyB, standardClaims(ISS_B, AUD.discovery, NOW_S))) }, AUD.discovery)
  t.notOk('sub' in plain, 'no sub when the token has none')
  t.notOk('tenant' in plain, 'no tenant when the token has none')
})

t.test('an issuer without tenants does not check the tenant claim', async (t) => {
  const { verifier } = setup()
  const caller = await verifier.verify({ rawHeaders: bearerHeaders(signToken(keyB, { ...standardClaims(ISS_B, AUD.discovery, NOW_S), tenant: 'anything' })) }, AUD.discovery)
  t.equal(caller.tenant, 'anything')
})

t.test('the spec test vector (cds-hooks-spec/jwt/token.txt)', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const token = specTestVector()
  const mockClock = new Date('2014-05-13T00:00:00Z')
  const jwks = createLocalJWKSet(specPublicJwks() as Parameters<typeof createLocalJWKSet>[0])
  const joseOptions = { algorithms: ['ES384'], issuer: SPEC_ISS, audience: 'https://cds.example.org/cds-services/some-service', typ: 'JWT', requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'] }

  t.test('verifies against jwks.public.json at the mock clock 2014-05-13', async (t) => {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { ...joseOptions, currentDate: mockClock })
    t.equal(payload.jti, 'ee22b021-e1b7-4611-ba5b-8eec6a33ac1e')
    t.equal(protectedHeader.kid, 'example-kid')
  })

  t.test('fails as expired today', async (t) => {
    await t.rejects(jwtVerify(token, jwks, joseOptions), errors.JWTExpired)
  })

  t.test('through our verifier: expired today', async (t) => {
    const verifier = createJwtVerifier({ clients: [client({ iss: SPEC_ISS, jwks: specPublicJwks() as CdsClient['jwks'] })], config, store: new MemoryStore(10) })
    t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(token) }, 'https://cds.example.org/cds-services/some-service')), 'expired')
  })

  // Pinned disagreement with §12.1: the vector's iat is 2011-07-21 and its exp 2015-01-29, a
  // lifetime of 3.5 years, so §10.1 step 5 (maxTokenAge = JWT_MAX_LIFETIME_S ≤ 3600) refuses it at
  // 2014-05-13 even though its signature and the other claims verify. Our verifier never accepts it.
  t.test('through our verifier at the mock clock: signature and claims pass, the token age does not', async (t) => {
    const verifier = createJwtVerifier({
      clients: [client({ iss: SPEC_ISS, jwks: specPublicJwks() as CdsClient['jwks'], tenants: ['2ddd6c3a-8e9a-44c6-a305-52111ad302a2'] })],
      config,
      store: new MemoryStore(10),
      now: () => mockClock.getTime()
    })
    t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(token) }, 'https://cds.example.org/cds-services/some-service')), 'token-too-old')
  })
})

t.test('jku: nothing is fetched for a URL off the list; one cache per (issuer, jku)', async (t) => {
  const calls: string[] = []
  const fetchJwks: FetchImplementation = async (url) => {
    calls.push(url)
    return new Response(JSON.stringify({ keys: [keyRemote.publicJwk] }), { status: 200 })
  }
  const shared = 'https://keys.test.example/jwks.json'
  const verifier = createJwtVerifier({
    clients: [client({ iss: ISS_REMOTE, jku: [JKU_REMOTE, shared] }), client({ iss: ISS_DOWN, jku: [shared] })],
    config,
    store: new MemoryStore(100, () => NOW_MS),
    now: () => NOW_MS,
    fetchJwks
  })
  const remoteToken = (iss: string, jku: string, kid = keyRemote.kid): string => signToken(keyRemote, standardClaims(iss, AUD.patientView, NOW_S), { header: { jku, kid } })
  const verify = async (token: string): Promise<string> => await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(token) }, AUD.patientView))

  t.equal(await verify(remoteToken(ISS_REMOTE, 'https://attacker.example/jwks.json')), 'jku-not-allowed')
  t.equal(await verify(remoteToken(ISS_REMOTE, `${JKU_REMOTE}?x=1`)), 'jku-not-allowed')
  t.strictSame(calls, [], 'no fetch for a jku off the list')

  t.equal(await verify(remoteToken(ISS_REMOTE, JKU_REMOTE)), 'accepted')
  t.equal(await verify(remoteToken(ISS_REMOTE, JKU_REMOTE)), 'accepted')
  t.strictSame(calls, [JKU_REMOTE], 'the key set is cached')

  t.equal(await verify(remoteToken(ISS_REMOTE, JKU_REMOTE, 'rotated-kid')), 'key-not-found')
  t.strictSame(calls, [JKU_REMOTE], 'an unknown kid inside the cooldown triggers no refetch')

  t.equal(await verify(remoteToken(ISS_REMOTE, shared)), 'accepted')
  t.equal(await verify(remoteToken(ISS_DOWN, shared)), 'accepted')
  t.strictSame(calls, [JKU_REMOTE, shared, shared], 'the same URL under two issuers: two caches')
})

t.test('the remote key set uses the options of §10.1 step 4', async (t) => {
  t.strictSame(REMOTE_JWKS_OPTIONS, { timeoutDuration: 1500, cooldownDuration: 30000, cacheMaxAge: 600000 })
})

t.test('a static JWKS wins: jku is ignored and never fetched', async (t) => {
  const calls: string[] = []
  const verifier = createJwtVerifier({
    clients: [client({ iss: ISS_A, jwks: { keys: [keyA.es384.publicJwk] }, jku: [JKU_REMOTE] })],
    config,
    store: new MemoryStore(10, () => NOW_MS),
    now: () => NOW_MS,
    fetchJwks: async (url) => { calls.push(url); return new Response('{}', { status: 500 }) }
  })
  const token = signToken(keyA.es384, standardClaims(ISS_A, AUD.patientView, NOW_S), { header: { jku: JKU_REMOTE } })
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(token) }, AUD.patientView)), 'accepted')
  const remoteSigned = signToken(keyRemote, standardClaims(ISS_A, AUD.patientView, NOW_S), { header: { jku: JKU_REMOTE } })
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(remoteSigned) }, AUD.patientView)), 'key-not-found')
  t.strictSame(calls, [])
})

t.test('replay: two tokens with the same jti, the second is rejected; other issuers have their own jti space', async (t) => {
  const { verifier } = setup()
  const jti = randomUUID()
  const first = tokenA(keyA.es384, AUD.patientView, { claims: { jti } })
  const second = tokenA(keyA.rs384, AUD.orderCheck, { claims: { jti, iat: NOW_S - 5 } })
  t.not(first, second)
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(first) }, AUD.patientView)), 'accepted')
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(second) }, AUD.orderCheck)), 'replayed')
  const underB = signToken(keyB, { ...standardClaims(ISS_B, AUD.patientView, NOW_S), jti })
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(underB) }, AUD.patientView)), 'accepted')
})

t.test('replay: the (iss, jti) is kept until exp + clock tolerance', async (t) => {
  const puts: Array<{ key: string, ttlMs: number }> = []
  const inner = new MemoryStore(10, () => NOW_MS)
  const store: KeyValueStore = {
    putIfAbsent: async (key, value, ttlMs) => { puts.push({ key, ttlMs }); return await inner.putIfAbsent(key, value, ttlMs) },
    put: async (key, value, ttlMs) => await inner.put(key, value, ttlMs),
    get: async (key) => await inner.get(key),
    close: async () => { await inner.close() }
  }
  const { verifier } = setup({ store })
  await verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { jti: 'jti-1', exp: NOW_S + 100 } })) }, AUD.patientView)
  t.strictSame(puts, [{ key: `${REPLAY_KEY_PREFIX}${JSON.stringify([ISS_A, 'jti-1'])}`, ttlMs: (100 + 30) * 1000 }])
})

t.test('replay cache full → ReplayCacheFull (503), never an unchecked accept', async (t) => {
  const { verifier } = setup({ store: new MemoryStore(1, () => NOW_MS) })
  await verifier.verify({ rawHeaders: bearerHeaders(tokenA()) }, AUD.patientView)
  const error = await verifier.verify({ rawHeaders: bearerHeaders(tokenA()) }, AUD.patientView).catch((caught: unknown) => caught)
  t.type(error, ReplayCacheFull)
  t.equal(verificationStatus(error), 503)
  t.equal((error as ReplayCacheFull).storeFailed, false)
  t.match((error as ReplayCacheFull).logFields(), { reason: 'replay-cache-full', iss: ISS_A, tenant: TENANT_A })
})

t.test('a failing store → ReplayCacheFull (503) as well', async (t) => {
  const store: KeyValueStore = {
    putIfAbsent: async () => { throw new Error('connection refused') },
    put: async () => 'stored',
    get: async () => undefined,
    close: async () => {}
  }
  const { verifier } = setup({ store })
  const error = await verifier.verify({ rawHeaders: bearerHeaders(tokenA()) }, AUD.patientView).catch((caught: unknown) => caught)
  t.type(error, ReplayCacheFull)
  t.equal((error as ReplayCacheFull).storeFailed, true)
  t.equal((error as ReplayCacheFull).logFields().reason, 'replay-cache-error')
})

t.test('log fields: the reason, and iss/tenant/jti only once they are trustworthy; never the token', async (t) => {
  const { verifier } = setup()
  const forged = tokenA(attacker, AUD.patientView, { header: { kid: keyA.es384.kid }, claims: { jti: 'forged-jti' } })
  const unsigned = await verifier.verify({ rawHeaders: bearerHeaders(forged) }, AUD.patientView).catch((caught: unknown) => caught) as JwtRejected
  t.strictSame(unsigned.logFields(), { reason: 'signature-invalid', iss: ISS_A }, 'an unverified jti is not logged')

  const unknown = await verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { iss: 'https://unknown.example' } })) }, AUD.patientView).catch((caught: unknown) => caught) as JwtRejected
  t.strictSame(unknown.logFields(), { reason: 'issuer-unknown' }, 'an unconfigured iss is not logged')

  const token = tokenA(keyA.es384, AUD.patientView, { claims: { tenant: 'other', jti: 'jti-7' } })
  const tenant = await verifier.verify({ rawHeaders: bearerHeaders(token) }, AUD.patientView).catch((caught: unknown) => caught) as JwtRejected
  t.strictSame(tenant.logFields(), { reason: 'tenant-not-allowed', iss: ISS_A, tenant: 'other', jti: 'jti-7' })
  t.notMatch(JSON.stringify(tenant.logFields()) + tenant.message, token.split('.')[2] as string, 'no token in the log fields or message')

  const long = await verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { jti: 'j'.repeat(257) } })) }, AUD.patientView).catch((caught: unknown) => caught) as JwtRejected
  t.strictSame(long.logFields(), { reason: 'jti-invalid', iss: ISS_A, tenant: TENANT_A }, 'a jti over 256 characters is not logged')

  const missing = await verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { jti: undefined } })) }, AUD.patientView).catch((caught: unknown) => caught) as JwtRejected
  t.strictSame(missing.logFields(), { reason: 'claim-missing', iss: ISS_A, claim: 'jti' }, 'the missing claim is named')
})

t.test('verificationStatus: 401 for JwtRejected, 503 for ReplayCacheFull, undefined otherwise', async (t) => {
  t.equal(verificationStatus(new JwtRejected('replayed')), 401)
  t.equal(verificationStatus(new ReplayCacheFull({ iss: ISS_A, jti: 'x' })), 503)
  t.equal(verificationStatus(new Error('bug')), undefined)
  t.equal(WWW_AUTHENTICATE, 'Bearer')
})

t.test('the verifier refuses none, HS* and unknown algorithms in its configuration', async (t) => {
  for (const algorithms of ['none', 'HS256', 'ES384,HS384', 'XYZ', '']) {
    t.throws(() => createJwtVerifier({ clients: [], config: parseConfig({ JWT_ALGORITHMS: algorithms }), store: new MemoryStore(1) }), ConfigError, `JWT_ALGORITHMS=${algorithms}`)
  }
})

t.test('JWT_ALGORITHMS decides: ES256 accepted once listed', async (t) => {
  const verifier = createJwtVerifier({ clients: clients(), config: parseConfig({ JWT_ALGORITHMS: 'ES256' }), store: new MemoryStore(10, () => NOW_MS), now: () => NOW_MS })
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es256)) }, AUD.patientView)), 'accepted')
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384)) }, AUD.patientView)), 'alg-not-allowed')
})

t.test('JWT_MAX_LIFETIME_S and JWT_CLOCK_TOLERANCE_S are read from the configuration', async (t) => {
  const strict = parseConfig({ JWT_MAX_LIFETIME_S: '300', JWT_CLOCK_TOLERANCE_S: '0' })
  const verifier = createJwtVerifier({ clients: clients(), config: strict, store: new MemoryStore(10, () => NOW_MS), now: () => NOW_MS })
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { exp: NOW_S + 301 } })) }, AUD.patientView)), 'lifetime-too-long')
  t.equal(await reasonOf(verifier.verify({ rawHeaders: bearerHeaders(tokenA(keyA.es384, AUD.patientView, { claims: { iat: NOW_S - 290, exp: NOW_S - 1 } })) }, AUD.patientView)), 'expired')
})

t.test('expectedAudience: PUBLIC_BASE_URL + routed path, no query, fragment or trailing slash', async (t) => {
  t.equal(expectedAudience('https://cds.example.org', '/cds-services'), AUD.discovery)
  t.equal(expectedAudience('https://cds.example.org/', '/cds-services/'), AUD.discovery)
  t.equal(expectedAudience('https://cds.example.org', '/cds-services/her2-mbc-bone-mets?x=1'), AUD.patientView)
  t.equal(expectedAudience('https://cds.example.org', '/cds-services/her2-mbc-bone-mets/feedback#top'), AUD.feedback)
  t.equal(expectedAudience('https://gw.example.org/cds', '/cds-services/her2-mbc-order-check'), 'https://gw.example.org/cds/cds-services/her2-mbc-order-check')
})

t.test('hasAuthorization reads raw headers in any case', async (t) => {
  t.equal(hasAuthorization(['Authorization', 'Bearer x']), true)
  t.equal(hasAuthorization(['host', 'a', 'accept', '*/*']), false)
  t.equal(hasAuthorization([]), false)
})

t.test('never an error other than JwtRejected for arbitrary Authorization values', async (t) => {
  const { verifier } = setup()
  const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/)
  const value = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
    fc.tuple(fc.json(), fc.json()).map(([header, payload]) => `Bearer ${base64url(header)}.${base64url(payload)}.${base64url('sig')}`)
  )
  await fc.assert(fc.asyncProperty(value, async (authorization) => {
    const reason = await reasonOf(verifier.verify({ rawHeaders: ['authorization', authorization] }, AUD.patientView))
    return (JWT_REJECT_REASONS as readonly string[]).includes(reason)
  }), { numRuns: 300 })
  t.pass('300 arbitrary values, all JwtRejected')
})

t.test('the signing helpers sign what the verifier accepts (DER only when asked)', async (t) => {
  t.equal(signatureOf('ES384', keyA.es384.privateKey, 'x').length, 96, 'ES384 in the JOSE form is 96 bytes')
  t.not(signatureOf('ES384', keyA.es384.privateKey, 'x', 'der').length, 96)
  t.throws(() => signatureOf('PS999', keyA.es384.privateKey, 'x'))
})
