import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { createLocalJWKSet, errors, jwtVerify, type FetchImplementation } from 'jose'
import t from 'tap'
import type { CdsClient } from '../../src/cds-hooks/clients.js'
import {
  createJwtVerifier, expectedAudience, hasAuthorization, JWT_REJECT_REASONS, JwtRejected,
  REMOTE_JWKS_OPTIONS, REPLAY_KEY_PREFIX, ReplayCacheFull, verificationStatus, WWW_AUTHENTICATE,
  type JwtRejectReason, type JwtVerifier, type VerifiedCaller
} from '../../src/cds-hooks/jwt.js'
import { ConfigError, parseConfig } from '../../src/config.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { KeyValueStore } from '../../src/stores/store.js'
import {
  base64url, bearerHeaders, generatedKey, signatureOf, signToken, SPEC_ISS, specPublicJwks, specTestVector, standardClaims
} from '../support/jwt-keys.js'
import {
  attacker, AUD, ISS_A, ISS_B, ISS_DOWN, ISS_REMOTE, JKU_REMOTE, jwksServer, jwtMatrix, keyA, keyB, keyRemote, MATRIX_BASE as BASE,
  MATRIX_NOW_MS as NOW_MS, MATRIX_NOW_S as NOW_S, matrixClient as client, matrixClients as clients, rawHeadersOf, TENANT_A, tokenA,
  UNREACHABLE_REASONS
} from '../support/jwt-matrix.js'
import { needThirdParty, thirdPartyAvailable, thirdPartySkip } from '../support/third-party-fixtures.js'

// spec/ehr-integration.md §10.1 and the JWT matrix of §12.5, against the verifier itself (the
// routes turn JwtRejected into 401 and ReplayCacheFull into 503). The matrix is shared with the
// HTTP test of the routes (test/support/jwt-matrix.ts, test/routes/cds-hooks-jwt.test.ts).

const config = parseConfig({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: BASE })

function setup (options: { store?: KeyValueStore, now?: number } = {}): { verifier: JwtVerifier, calls: string[], store: KeyValueStore } {
  const now = options.now ?? NOW_MS
  const store = options.store ?? new MemoryStore(1000, () => now)
  const { fetchJwks, calls } = jwksServer()
  return { verifier: createJwtVerifier({ clients: clients(), config, store, now: () => now, fetchJwks }), calls, store }
}

async function reasonOf (promise: Promise<unknown>): Promise<JwtRejectReason | 'accepted' | string> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    return error instanceof JwtRejected ? error.reason : `unexpected ${(error as Error).name}: ${(error as Error).message}`
  }
}

t.test('JWT matrix (§12.5), on the audience of every route: each row accepted or rejected with its internal reason, never another error', async (t) => {
  if (!thirdPartyAvailable) needThirdParty(t) // the generated-key rows still run
  const rows = jwtMatrix()
  t.ok(rows.filter((row) => row.expect === 'accepted').length >= 5, 'accepted rows are part of the table')
  for (const row of rows) {
    for (const [route, aud] of Object.entries(AUD)) {
      // One verifier (and replay cache, and JWKS fetch spy) per row and route, so that nothing carries over.
      const { verifier, calls } = setup()
      let reason = ''
      for (const values of row.requests(aud)) reason = await reasonOf(verifier.verify({ rawHeaders: rawHeadersOf(values) }, aud))
      t.equal(reason, row.expect, `${row.name} on ${route}`)
      t.strictSame(calls, row.fetches ?? [], `${row.name} on ${route}: key sets fetched`)
    }
  }
  const covered = new Set(rows.map((row) => row.expect))
  // (verification-failed has its own test below: a key that slipped past the load checks.)
  for (const reason of JWT_REJECT_REASONS) {
    if (!UNREACHABLE_REASONS.includes(reason)) t.ok(covered.has(reason), `reason ${reason} has a row`)
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
    increment: async (key, windowMs) => await inner.increment(key, windowMs),
    ping: async () => true,
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
    increment: async () => ({ count: 1, ttlMs: 1 }),
    ping: async () => false,
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
