import {
  createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject
} from 'node:crypto'
import { readThirdPartyJson, readThirdPartyText } from './third-party-fixtures.js'

/**
 * Signing keys for the CDS Hooks JWT tests (spec/ehr-integration.md §12.5): the published test keys
 * of the CDS Hooks spec, the sandbox and the Inferno CRD kit (read in place through
 * third-party-fixtures.ts, never copied), and keys generated here so that the tests also run
 * without ../shared. Tokens are assembled by hand (node:crypto), so that a test can sign anything
 * an attacker could: a DER signature, HS256 keyed with a public key, a header jose would refuse.
 */

/** A key that signs, and the public JWK (with kid and alg) a verifier is configured with. */
export interface SigningKey {
  name: string
  alg: string
  kid: string
  privateKey: KeyObject
  publicJwk: JsonWebKey & { kty: string, kid: string, alg: string }
}

export type Jwk = JsonWebKey & { kid?: string, alg?: string, d?: string }

export const SPEC_ISS = 'https://fhir-ehr.example.com/'
export const SPEC_KID = 'example-kid'
export const SANDBOX_ISS = 'https://sandbox.cds-hooks.org'
export const SANDBOX_KID = '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f'
export const SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json'

const HASH_OF: Record<string, string> = {
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', HS256: 'sha256', HS384: 'sha384'
}

function publicJwkOf (privateKey: KeyObject, kid: string, alg: string): SigningKey['publicJwk'] {
  return { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg, use: 'sig' } as SigningKey['publicJwk']
}

/** A fresh key pair: ES256/ES384/ES512 (P-256/P-384/P-521) or RS256/RS384 (2048 bits unless told). */
export function generatedKey (alg: 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384', kid = `generated-${alg.toLowerCase()}-${randomUUID()}`, modulusLength = 2048): SigningKey {
  const { privateKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg] as string })
    : generateKeyPairSync('rsa', { modulusLength })
  return { name: `generated ${alg}`, alg, kid, privateKey, publicJwk: publicJwkOf(privateKey, kid, alg) }
}

/** The public half of a generated RSA key of `bits` (e.g. 1024, to test the refusal at load). */
export function rsaPublicJwk (bits: number, kid: string, alg = 'RS384'): Jwk {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return { ...publicKey.export({ format: 'jwk' }), kid, alg }
}

/** The public half of a generated EC key on `curve`, labelled with `alg` (which may not match: the test's point). */
export function ecPublicJwk (curve: string, kid: string, alg?: string): Jwk {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
  return { ...publicKey.export({ format: 'jwk' }), kid, ...(alg === undefined ? {} : { alg }) }
}

/** The public half of a generated OKP key (ed25519, x25519…). */
export function okpPublicJwk (type: 'ed25519' | 'x25519', kid: string, alg?: string): Jwk {
  const { publicKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519')
  return { ...publicKey.export({ format: 'jwk' }), kid, ...(alg === undefined ? {} : { alg }) }
}

/** The CDS Hooks spec's ES384 `example-kid` (`cds-hooks-spec/jwt/jwk.private.json`). */
export function specKey (): SigningKey {
  const jwk = readThirdPartyJson<Jwk>('cds-hooks-spec/jwt/jwk.private.json')
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' })
  return { name: 'CDS Hooks spec example-kid', alg: 'ES384', kid: SPEC_KID, privateKey, publicJwk: publicJwkOf(privateKey, SPEC_KID, 'ES384') }
}

/** The spec's published verification key set (`cds-hooks-spec/jwt/jwks.public.json`). */
export function specPublicJwks (): { keys: Jwk[] } {
  return readThirdPartyJson<{ keys: Jwk[] }>('cds-hooks-spec/jwt/jwks.public.json')
}

/** The spec's test vector token (`cds-hooks-spec/jwt/token.txt`), dated 2014. */
export function specTestVector (): string {
  return readThirdPartyText('cds-hooks-spec/jwt/token.txt').trim()
}

/** The CDS Hooks sandbox's ES384 key (`sandbox/ecprivkey.pem`, PKCS#8). */
export function sandboxKey (): SigningKey {
  const privateKey = createPrivateKey(readThirdPartyText('sandbox/ecprivkey.pem'))
  return { name: 'CDS Hooks sandbox', alg: 'ES384', kid: SANDBOX_KID, privateKey, publicJwk: publicJwkOf(privateKey, SANDBOX_KID, 'ES384') }
}

/** The sandbox's published key set (`sandbox/jwks.json`), what its `jku` serves. */
export function sandboxPublicJwks (): { keys: Jwk[] } {
  return readThirdPartyJson<{ keys: Jwk[] }>('sandbox/jwks.json')
}

/** The Inferno CRD kit's keys (`inferno-crd/crd_jwks.json`): entries with `d` sign, entries without verify. */
export function crdKeys (): { es384: SigningKey, rs384: SigningKey, publicJwks: { keys: Jwk[] } } {
  const all = readThirdPartyJson<{ keys: Jwk[] }>('inferno-crd/crd_jwks.json').keys
  const signer = (alg: string): SigningKey => {
    const jwk = all.find((key) => key.alg === alg && key.d !== undefined)
    if (jwk?.kid === undefined) throw new Error(`inferno-crd/crd_jwks.json has no private ${alg} key with a kid`)
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' })
    return { name: `Inferno CRD ${alg}`, alg, kid: jwk.kid, privateKey, publicJwk: publicJwkOf(privateKey, jwk.kid, alg) }
  }
  return { es384: signer('ES384'), rs384: signer('RS384'), publicJwks: { keys: all.filter((key) => key.d === undefined) } }
}

export function base64url (value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url')
}

/** A compact JWS of exactly these header and payload objects, signed by `signer`. */
export function assembleToken (header: object, payload: object, signer: (signingInput: string) => Uint8Array | string): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = signer(signingInput)
  return `${signingInput}.${typeof signature === 'string' ? signature : base64url(signature)}`
}

/** The JWS signature of `input` with `key` under `alg` (ES* in the JOSE form, or DER when asked: an attack row). */
export function signatureOf (alg: string, key: KeyObject, input: string, ecdsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Uint8Array {
  const hash = HASH_OF[alg]
  if (hash === undefined) throw new Error(`no signer for ${alg}`)
  return sign(hash, Buffer.from(input), alg.startsWith('ES') ? { key, dsaEncoding: ecdsaEncoding } : key)
}

/** An HMAC "signature" keyed with arbitrary bytes (the HS256-with-a-public-key attack). */
export function hmacOf (alg: 'HS256' | 'HS384', secret: string | Uint8Array, input: string): Uint8Array {
  return createHmac(HASH_OF[alg] as string, secret).update(input).digest()
}

export interface TokenOptions {
  /** Header members added or replaced (undefined removes one: `{ kid: undefined }`). */
  header?: Record<string, unknown>
  /** Claims added or replaced (undefined removes one: `{ jti: undefined }`). */
  claims?: Record<string, unknown>
  ecdsaEncoding?: 'ieee-p1363' | 'der'
}

/** Standard claims of a valid CDS Hooks token at `nowS`, living `lifetimeS` (the sandbox and CRD kit use 300). */
export function standardClaims (iss: string, aud: string | string[], nowS: number, lifetimeS = 300): Record<string, unknown> {
  return { iss, aud, exp: nowS + lifetimeS, iat: nowS, jti: randomUUID() }
}

/** A token signed by `key` with header { alg, typ: 'JWT', kid } and `claims`, both adjustable. */
export function signToken (key: SigningKey, claims: Record<string, unknown>, options: TokenOptions = {}): string {
  const header = dropUndefined({ alg: key.alg, typ: 'JWT', kid: key.kid, ...options.header })
  const payload = dropUndefined({ ...claims, ...options.claims })
  return assembleToken(header, payload, (input) => signatureOf(key.alg, key.privateKey, input, options.ecdsaEncoding))
}

function dropUndefined (value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined))
}

/** Raw headers as Node gives them: name, value, name, value… */
export function bearerHeaders (token: string): string[] {
  return ['host', 'cds.example.org', 'authorization', `Bearer ${token}`]
}
