import { calculateJwkThumbprint, type JWK } from 'jose'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import {
  CdsClient, checkAlgorithms, checkJwtConfig, checkProductionSafety, isTestIssuer, loadCdsClients,
  PUBLISHED_TEST_KEY_THUMBPRINTS, publishedTestKeyName, TEST_ISSUERS, type PublicJwk
} from '../../src/cds-hooks/clients.js'
import { ConfigError, parseConfig, type Config } from '../../src/config.js'
import { crdKeys, ecPublicJwk, generatedKey, okpPublicJwk, rsaPublicJwk, sandboxPublicJwks, specPublicJwks, type Jwk } from '../support/jwt-keys.js'
import { needThirdParty, thirdPartySkip } from '../support/third-party-fixtures.js'

// spec/ehr-integration.md §10.2 (client configuration, production refusals), §10.1 step 4 (key
// checks at load) and §11 (PUBLIC_BASE_URL required when JWT is on; EVALUATION_DATE refused in production).

const ES384 = generatedKey('ES384', 'ehr-es384').publicJwk
const RS384 = generatedKey('RS384', 'ehr-rs384').publicJwk
const PRODUCTION = { NODE_ENV: 'production', CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: 'https://cds.example.org' }

function safeEntry (fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'https://ehr.example.org',
    jwks: { keys: [ES384, RS384] },
    tenants: ['2ddd6c3a-8e9a-44c6-a305-52111ad302a2'],
    fhirServers: ['https://ehr.example.org/fhir/r4'],
    openFhirServers: [],
    jurisdiction: 'US',
    ...fields
  }
}

/** Writes a clients file (and other files) to a fresh folder; returns the clients file's path. */
function clientsFile (t: Test, entries: unknown, files: Record<string, unknown> = {}): string {
  const dir = t.testdir({
    config: { 'cds-clients.json': JSON.stringify(entries), ...Object.fromEntries(Object.entries(files).map(([name, value]) => [name, JSON.stringify(value)])) }
  })
  return join(dir, 'config', 'cds-clients.json')
}

function configWith (env: Record<string, string>): Config {
  return parseConfig(env)
}

async function loadWith (t: Test, entries: unknown, env: Record<string, string> = {}, files: Record<string, unknown> = {}): Promise<CdsClient[]> {
  return await loadCdsClients(configWith({ CDS_CLIENTS_FILE: clientsFile(t, entries, files), ...env }))
}

function clientWith (fields: Partial<CdsClient> = {}): CdsClient {
  return CdsClient.parse({ jku: [], ...safeEntry(), ...fields })
}

t.test('loading: the spec\'s example entry shape, with inline keys', async (t) => {
  const [client, ...rest] = await loadWith(t, [safeEntry()])
  t.equal(rest.length, 0)
  t.equal(client?.iss, 'https://ehr.example.org')
  t.equal(client?.jwks?.keys.length, 2)
  t.strictSame(client?.jku, [])
  t.strictSame(client?.tenants, ['2ddd6c3a-8e9a-44c6-a305-52111ad302a2'])
  t.strictSame(client?.fhirServers, ['https://ehr.example.org/fhir/r4'])
  t.equal(client?.jurisdiction, 'US')
})

t.test('loading: a relative jwksFile resolves against the clients file\'s folder', async (t) => {
  const entry = { ...safeEntry({ jwks: undefined }), jwksFile: 'ehr-jwks.json' }
  const [client] = await loadWith(t, [entry], {}, { 'ehr-jwks.json': { keys: [ES384] } })
  t.equal(client?.jwks?.keys[0]?.kid, 'ehr-es384')
  t.notOk(client !== undefined && 'jwksFile' in client, 'the loaded client holds the keys, not the path')
})

t.test('loading: an absolute jwksFile is read as is', async (t) => {
  // A folder of its own: t.testdir is recreated by each clientsFile call of this test.
  const dir = mkdtempSync(join(tmpdir(), 'cds-keys-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: [RS384] }))
  const [client] = await loadWith(t, [{ ...safeEntry({ jwks: undefined }), jwksFile: join(dir, 'keys.json') }])
  t.equal(client?.jwks?.keys[0]?.kid, 'ehr-rs384')
})

t.test('loading: a jku-only issuer; defaults for the lists; no jurisdiction', async (t) => {
  const [client] = await loadWith(t, [{ iss: 'https://remote.example.org', jku: ['https://remote.example.org/.well-known/jwks.json'] }])
  t.strictSame(client, { iss: 'https://remote.example.org', jku: ['https://remote.example.org/.well-known/jwks.json'], fhirServers: [], openFhirServers: [] })
})

t.test('loading: without CDS_CLIENTS_FILE there are no clients', async (t) => {
  t.strictSame(await loadCdsClients(configWith({})), [])
})

t.test('loading: a relative CDS_CLIENTS_FILE resolves against the working directory', async (t) => {
  const dir = t.testdir({ 'clients.json': JSON.stringify([safeEntry()]) })
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => { process.chdir(cwd) })
  t.equal((await loadCdsClients(configWith({ CDS_CLIENTS_FILE: 'clients.json' }))).length, 1)
})

t.test('refused at load, with a message naming the problem', async (t) => {
  const cases: Array<[string, unknown, RegExp, Record<string, unknown>?]> = [
    ['not an array', { iss: 'x' }, /CDS_CLIENTS_FILE/],
    ['no keys at all', [{ iss: 'https://ehr.example.org' }], /one of jwks, jwksFile or jku is required/],
    ['both jwks and jwksFile', [{ ...safeEntry(), jwksFile: 'k.json' }], /jwks or jwksFile, not both/],
    ['an unknown member (a typo stays visible)', [{ ...safeEntry(), tenant: ['x'] }], /tenant/],
    ['a jku that is not https', [{ iss: 'https://ehr.example.org', jku: ['http://ehr.example.org/jwks.json'] }], /jku\.0: must be an https URL/],
    ['a fhirServers entry that is not a URL', [safeEntry({ fhirServers: ['ehr'] })], /fhirServers/],
    ['an empty tenants list', [safeEntry({ tenants: [] })], /at least one tenant/],
    ['a jurisdiction outside the Case enum', [safeEntry({ jurisdiction: 'FR' })], /jurisdiction/],
    ['the same issuer twice', [safeEntry(), safeEntry()], /listed twice/],
    ['a key without kid', [safeEntry({ jwks: { keys: [{ ...ES384, kid: undefined }] } })], /kid/],
    ['an empty key set', [safeEntry({ jwks: { keys: [] } })], /keys/],
    ['the same kid twice', [safeEntry({ jwks: { keys: [ES384, ES384] } })], /kid ehr-es384 appears twice/],
    ['a private key', [safeEntry({ jwks: { keys: [{ ...ES384, d: 'secret' }] } })], /private key/],
    ['a symmetric key', [safeEntry({ jwks: { keys: [{ kty: 'oct', kid: 'hs', k: 'c2VjcmV0' }] } })], /kty oct/],
    ['an HS256 alg on a key', [safeEntry({ jwks: { keys: [{ ...ES384, alg: 'HS256' }] } })], /alg HS256 is not an asymmetric/],
    ['an RSA-1024 key', [safeEntry({ jwks: { keys: [rsaPublicJwk(1024, 'rsa-1024')] } })], /RSA key of 1024 bits; at least 2048/],
    ['an RSA key labelled ES384', [safeEntry({ jwks: { keys: [{ ...RS384, alg: 'ES384' }] } })], /alg ES384 does not fit an RSA key/],
    ['a P-256 key labelled ES384', [safeEntry({ jwks: { keys: [ecPublicJwk('P-256', 'p256', 'ES384')] } })], /curve P-256 does not match alg ES384 \(P-384 expected\)/],
    ['a P-384 key labelled ES256', [safeEntry({ jwks: { keys: [{ ...ES384, alg: 'ES256' }] } })], /curve P-384 does not match alg ES256 \(P-256 expected\)/],
    ['an EC key labelled RS384', [safeEntry({ jwks: { keys: [{ ...ES384, alg: 'RS384' }] } })], /alg RS384 does not fit an EC key/],
    ['an EC key on secp256k1 without alg', [safeEntry({ jwks: { keys: [ecPublicJwk('secp256k1', 'k1')] } })], /curve secp256k1 is not an ECDSA curve/],
    ['an X25519 key', [safeEntry({ jwks: { keys: [okpPublicJwk('x25519', 'x')] } })], /OKP curve X25519/],
    ['an Ed25519 key labelled ES384', [safeEntry({ jwks: { keys: [okpPublicJwk('ed25519', 'ed', 'ES384')] } })], /alg ES384 does not fit an Ed25519 key/],
    ['a point off the curve', [safeEntry({ jwks: { keys: [{ ...ES384, y: ES384.x }] } })], /not a valid public key/],
    ['a jwksFile that is missing', [{ ...safeEntry({ jwks: undefined }), jwksFile: 'missing.json' }], /cannot read/],
    ['a jwksFile that is not a JWKS', [{ ...safeEntry({ jwks: undefined }), jwksFile: 'bad.json' }], /not a JWKS/, { 'bad.json': { keys: [{ kty: 'EC' }] } }],
    ['a jwksFile with an RSA-1024 key', [{ ...safeEntry({ jwks: undefined }), jwksFile: 'weak.json' }], /RSA key of 1024 bits/, { 'weak.json': { keys: [rsaPublicJwk(1024, 'weak')] } }]
  ]
  for (const [name, entries, message, files] of cases) {
    await t.rejects(loadWith(t, entries, {}, files), message, name)
    await t.rejects(loadWith(t, entries, {}, files), ConfigError, `${name}: a ConfigError`)
  }
})

t.test('accepted at load: an EC key without alg on an ECDSA curve, an Ed25519 key, an RSA key without alg', async (t) => {
  const { alg: _alg, ...rsaWithoutAlg } = RS384
  const clients = await loadWith(t, [safeEntry({ jwks: { keys: [ecPublicJwk('P-521', 'p521'), okpPublicJwk('ed25519', 'ed', 'EdDSA'), rsaWithoutAlg] } })])
  t.equal(clients[0]?.jwks?.keys.length, 3)
})

t.test('a clients file that cannot be read or is not JSON', async (t) => {
  await t.rejects(loadCdsClients(configWith({ CDS_CLIENTS_FILE: join(t.testdir({}), 'absent.json') })), /CDS_CLIENTS_FILE: cannot read/)
  const dir = t.testdir({ 'clients.json': '[{' })
  await t.rejects(loadCdsClients(configWith({ CDS_CLIENTS_FILE: join(dir, 'clients.json') })), /is not JSON/)
})

t.test('every environment: PUBLIC_BASE_URL is required when CDS_HOOKS_JWT is on (§11)', async (t) => {
  await t.rejects(loadCdsClients(configWith({ CDS_HOOKS_JWT: 'on' })), /PUBLIC_BASE_URL is required when CDS_HOOKS_JWT is on/)
  t.doesNotThrow(() => { checkJwtConfig(configWith({ CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' })) })
  t.doesNotThrow(() => { checkJwtConfig(configWith({})) }, 'JWT off: no base URL needed')
})

t.test('every environment: JWT_ALGORITHMS only asymmetric (never none or HS*)', async (t) => {
  t.throws(() => { checkAlgorithms(['none']) }, /none refused/)
  t.throws(() => { checkAlgorithms(['ES384', 'HS256']) }, /HS256 refused/)
  t.throws(() => { checkAlgorithms([]) }, /at least one/)
  t.doesNotThrow(() => { checkAlgorithms(['ES384', 'RS384', 'PS256', 'EdDSA']) })
  await t.rejects(loadCdsClients(configWith({ JWT_ALGORITHMS: 'HS384' })), ConfigError)
})

t.test('production: a safe configuration starts', async (t) => {
  const clients = await loadWith(t, [safeEntry(), { iss: 'https://remote.example.org', jku: ['https://remote.example.org/jwks.json'] }], { ...PRODUCTION, CORS_ORIGINS: 'https://ehr.example.org' })
  t.equal(clients.length, 2)
})

t.test('production refusals (§10.2, §11), each named in the message', async (t) => {
  const cases: Array<[string, Record<string, string>, Partial<CdsClient>, RegExp]> = [
    ['CDS_HOOKS_JWT off', { CDS_HOOKS_JWT: 'off' }, {}, /CDS_HOOKS_JWT is off/],
    ['a fhirServers entry over http', {}, { fhirServers: ['http://ehr.example.org/fhir/r4'] }, /fhirServers entry http:\/\/ehr\.example\.org\/fhir\/r4 is not https/],
    ['a non-empty openFhirServers', {}, { openFhirServers: ['https://open.example.org/fhir'] }, /openFhirServers must be empty/],
    ['CORS_ORIGINS containing *', { CORS_ORIGINS: 'https://a.example.org,*' }, {}, /CORS_ORIGINS contains \*/],
    ['the sandbox issuer', {}, { iss: 'https://sandbox.cds-hooks.org' }, /published test issuer/],
    ['the sandbox issuer with a trailing slash', {}, { iss: 'https://sandbox.cds-hooks.org/' }, /published test issuer/],
    ['the spec example issuer', {}, { iss: 'https://fhir-ehr.example.com/' }, /published test issuer/],
    ['the spec example issuer without its slash, in capitals', {}, { iss: 'HTTPS://FHIR-EHR.EXAMPLE.COM' }, /published test issuer/],
    ['the sandbox jku under another issuer', {}, { jwks: undefined, jku: ['https://sandbox.cds-hooks.org/.well-known/jwks.json'] }, /jku https:\/\/sandbox\.cds-hooks\.org\/\.well-known\/jwks\.json is a published test issuer's key set/],
    ['EVALUATION_DATE set', { EVALUATION_DATE: '2026-03-01' }, {}, /EVALUATION_DATE is set/]
  ]
  for (const [name, env, fields, message] of cases) {
    const config = configWith({ ...PRODUCTION, ...env })
    await t.rejects(checkProductionSafety(config, [clientWith(fields)]), message, name)
    await t.rejects(checkProductionSafety(config, [clientWith(fields)]), ConfigError, `${name}: a ConfigError`)
    await t.resolves(checkProductionSafety(configWith({ ...PRODUCTION, ...env, NODE_ENV: 'development' }), [clientWith(fields)]), `${name}: allowed outside production`)
  }
})

t.test('production: PUBLIC_BASE_URL missing with JWT on is refused (also by loadCdsClients in any environment)', async (t) => {
  const config = configWith({ NODE_ENV: 'production', CDS_HOOKS_JWT: 'on' })
  await t.rejects(checkProductionSafety(config, []), /PUBLIC_BASE_URL is missing/)
  await t.rejects(loadCdsClients(config), /PUBLIC_BASE_URL/)
})

t.test('production: every problem is listed in one message', async (t) => {
  const config = configWith({ NODE_ENV: 'production', CDS_HOOKS_JWT: 'off', CORS_ORIGINS: '*' })
  await t.rejects(checkProductionSafety(config, []), /CDS_HOOKS_JWT is off.*; CORS_ORIGINS contains \*/)
})

t.test('production: loadCdsClients applies the refusals (the sandbox issuer in the file)', async (t) => {
  await t.rejects(loadWith(t, [safeEntry({ iss: 'https://sandbox.cds-hooks.org' })], PRODUCTION), /refusing to start in production/)
  t.equal((await loadWith(t, [safeEntry({ iss: 'https://sandbox.cds-hooks.org' })], { CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' })).length, 1, 'allowed in development')
})

t.test('the test issuers are the sandbox and the spec example (§10.2)', async (t) => {
  t.strictSame([...TEST_ISSUERS], ['https://sandbox.cds-hooks.org', 'https://fhir-ehr.example.com/'])
  t.equal(isTestIssuer('https://ehr.example.org'), false)
})

t.test('published test keys: the four thumbprints of §10.2, computed from the third-party files', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const publicOnly = (jwk: Jwk): Jwk => Object.fromEntries(Object.entries(jwk).filter(([name]) => name !== 'd')) as Jwk
  const crd = crdKeys().publicJwks.keys
  const published: Array<[string, Jwk, string]> = [
    ['CDS Hooks spec example-kid', specPublicJwks().keys[0] as Jwk, '-UtOymI2Z0XB5SZogEZu3s5oMyQ4YaewHtR9huroTQs'],
    ['CDS Hooks sandbox', sandboxPublicJwks().keys[0] as Jwk, 's9fOe-KDYD1myZ8YCzleUqJQgrYZL49kVijBxhnZvZc'],
    ['Inferno CRD ES384', crd.find((key) => key.alg === 'ES384') as Jwk, 'RBFgQFFUIf4hfG8iUUZrf3vFZ_V2r3YRGPx9nKJXk5M'],
    ['Inferno CRD RS384', crd.find((key) => key.alg === 'RS384') as Jwk, 'Q7fgcIzqt0bVAKsWaw_FyUFSDDpOTfsGdGtjJmAnzFY']
  ]
  t.equal(Object.keys(PUBLISHED_TEST_KEY_THUMBPRINTS).length, 4)
  for (const [name, jwk, thumbprint] of published) {
    t.equal(await calculateJwkThumbprint(jwk as JWK, 'sha256'), thumbprint, `${name}: RFC 7638 thumbprint`)
    t.equal(PUBLISHED_TEST_KEY_THUMBPRINTS[thumbprint], name)
    t.equal(await publishedTestKeyName(publicOnly(jwk) as PublicJwk), name)
    // Under an ordinary issuer, loaded from a file as production would: refused, naming the key.
    const entry = safeEntry({ jwks: { keys: [{ ...publicOnly(jwk), kid: `renamed-${jwk.kid ?? ''}` }] } })
    await t.rejects(loadWith(t, [entry], PRODUCTION), new RegExp(`is the published test key "${name}"`), `${name}: production refuses it, even with another kid`)
    t.equal((await loadWith(t, [entry], { CDS_HOOKS_JWT: 'on', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' })).length, 1, `${name}: allowed in development`)
  }
  t.equal(await publishedTestKeyName(ES384 as PublicJwk), undefined, 'a freshly generated key is not a published one')
})
