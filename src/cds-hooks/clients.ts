import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { z } from 'zod'
import { ConfigError, type Config } from '../config.js'
import { JURISDICTIONS } from '../schemas/case.js'

/**
 * The EHR issuers this service trusts (spec/ehr-integration.md §10.2): one entry per issuer in the
 * JSON array of CDS_CLIENTS_FILE, each with its own keys. A key configured for issuer A never
 * verifies a token of issuer B (§10.1 step 4), so keys live in the client entry, not in a shared set.
 */

/** The JWS algorithms the service can verify: asymmetric only. `none` and HS* never (§10.1 step 2). */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'
] as const

/** The EC curve each ECDSA algorithm signs with (§10.1 step 4: a curve that does not match `alg` is refused at load). */
const CURVE_OF_ALGORITHM: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }
const RSA_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
const OKP_ALGORITHMS = new Set(['EdDSA', 'Ed25519'])
/** The smallest RSA modulus accepted at load (§10.1 step 4). */
export const MIN_RSA_BITS = 2048

/**
 * Issuers whose tokens anyone can sign: the CDS Hooks sandbox and the spec's example EHR (§10.2).
 * Compared without a trailing slash and case-insensitively.
 */
export const TEST_ISSUERS = ['https://sandbox.cds-hooks.org', 'https://fhir-ehr.example.com/'] as const

/**
 * RFC 7638 SHA-256 thumbprints of published test keys, whose private halves are public (§10.2):
 * the CDS Hooks spec's `example-kid`, the CDS Hooks sandbox, the Inferno CRD kit's ES384 and RS384.
 */
export const PUBLISHED_TEST_KEY_THUMBPRINTS: Readonly<Record<string, string>> = {
  '-UtOymI2Z0XB5SZogEZu3s5oMyQ4YaewHtR9huroTQs': 'CDS Hooks spec example-kid',
  's9fOe-KDYD1myZ8YCzleUqJQgrYZL49kVijBxhnZvZc': 'CDS Hooks sandbox',
  RBFgQFFUIf4hfG8iUUZrf3vFZ_V2r3YRGPx9nKJXk5M: 'Inferno CRD ES384',
  Q7fgcIzqt0bVAKsWaw_FyUFSDDpOTfsGdGtjJmAnzFY: 'Inferno CRD RS384'
}

const HttpsUrl = z.url({ protocol: /^https$/, message: 'must be an https URL' })
const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' })

/** A public verification key. `kid` is required: tokens must name their key (§10.1 step 2). */
export const PublicJwk = z.looseObject({
  kty: z.string().min(1),
  kid: z.string().min(1).max(256),
  alg: z.string().optional(),
  crv: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  d: z.unknown().optional()
})
export type PublicJwk = z.infer<typeof PublicJwk>

export const Jwks = z.object({ keys: z.array(PublicJwk).min(1) })
export type Jwks = z.infer<typeof Jwks>

const ClientFields = {
  /** The token's `iss`, compared exactly. */
  iss: z.string().min(1),
  /** Hosts whose FHIR server may be called with the request's `fhirAuthorization` (§4.3). */
  fhirServers: z.array(HttpUrl).default([]),
  /** Hosts that may be called without `fhirAuthorization` (open servers; refused in production). */
  openFhirServers: z.array(HttpUrl).default([]),
  /** The allowed `tenant` claims; absent: the claim is not checked (§10.1 step 7). */
  tenants: z.array(z.string().min(1)).min(1, { message: 'must list at least one tenant, or be left out' }).optional(),
  /** The `Case` jurisdiction of this issuer's patients (§6.2); absent: `other`. */
  jurisdiction: z.enum(JURISDICTIONS).optional()
}

/** One entry of CDS_CLIENTS_FILE as written: keys inline (`jwks`), in a file (`jwksFile`), or remote (`jku`). */
export const CdsClientEntry = z.strictObject({
  ...ClientFields,
  jwks: Jwks.optional(),
  /** Relative paths resolve against the clients file's folder. */
  jwksFile: z.string().min(1).optional(),
  /** Allowed JWKS URLs, compared exactly with the token's `jku` header, used only without static keys. */
  jku: z.array(HttpsUrl).default([])
}).check((ctx) => {
  const entry = ctx.value
  if (entry.jwks !== undefined && entry.jwksFile !== undefined) {
    ctx.issues.push({ code: 'custom', input: entry, path: ['jwksFile'], message: 'give jwks or jwksFile, not both' })
  }
  if (entry.jwks === undefined && entry.jwksFile === undefined && entry.jku.length === 0) {
    ctx.issues.push({ code: 'custom', input: entry, path: ['jku'], message: 'one of jwks, jwksFile or jku is required' })
  }
})
export type CdsClientEntry = z.infer<typeof CdsClientEntry>

/** A loaded client: `jwksFile` read into `jwks`. This is what the verifier and the FHIR fetcher use. */
export const CdsClient = z.object({
  ...ClientFields,
  jwks: Jwks.optional(),
  jku: z.array(HttpsUrl)
})
export type CdsClient = z.infer<typeof CdsClient>

/**
 * Reads CDS_CLIENTS_FILE (relative to the working directory) and returns its clients, with every
 * key checked (§10.1 step 4) and, in production, the refusals of §10.2 applied. Without
 * CDS_CLIENTS_FILE there are no clients (every token is then rejected: unknown issuer). Call it
 * at startup whatever CDS_HOOKS_JWT says: the production refusals include "JWT off".
 */
export async function loadCdsClients (config: Config): Promise<CdsClient[]> {
  checkJwtConfig(config)
  const file = config.cdsHooks.clientsFile
  const clients = file === undefined ? [] : parseCdsClients(readJsonFile(resolve(file), 'CDS_CLIENTS_FILE'), dirname(resolve(file)))
  await checkProductionSafety(config, clients)
  return clients
}

/** Checks that hold in every environment: JWT_ALGORITHMS asymmetric only, PUBLIC_BASE_URL when JWT is on (§11). */
export function checkJwtConfig (config: Config): void {
  checkAlgorithms(config.cdsHooks.jwtAlgorithms)
  if (config.cdsHooks.jwt && config.cdsHooks.publicBaseUrl === undefined) {
    throw new ConfigError('PUBLIC_BASE_URL is required when CDS_HOOKS_JWT is on: it is the audience of every CDS Hooks token (§10.1)')
  }
}

/** JWT_ALGORITHMS: non-empty, and only asymmetric algorithms jose verifies (never `none`, never HS*). */
export function checkAlgorithms (algorithms: readonly string[]): void {
  if (algorithms.length === 0) throw new ConfigError('JWT_ALGORITHMS: at least one algorithm is required')
  const refused = algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))
  if (refused.length > 0) {
    throw new ConfigError(`JWT_ALGORITHMS: ${refused.join(', ')} refused; only asymmetric algorithms (${ASYMMETRIC_ALGORITHMS.join(', ')}) are allowed, never none or HS*`)
  }
}

/** Validates the parsed clients file; `baseDir` resolves relative `jwksFile` paths. */
export function parseCdsClients (raw: unknown, baseDir: string): CdsClient[] {
  const parsed = z.array(CdsClientEntry).safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`CDS_CLIENTS_FILE: ${problems.join('; ')}`)
  }
  const seen = new Set<string>()
  return parsed.data.map((entry, index) => {
    const where = `CDS_CLIENTS_FILE entry ${index} (iss ${entry.iss})`
    if (seen.has(entry.iss)) throw new ConfigError(`${where}: the issuer is listed twice`)
    seen.add(entry.iss)
    const jwks = entry.jwksFile === undefined ? entry.jwks : readJwksFile(resolve(baseDir, entry.jwksFile), where)
    if (jwks !== undefined) checkJwks(jwks, where)
    const { jwksFile: _file, jwks: _inline, ...rest } = entry
    return jwks === undefined ? rest : { ...rest, jwks }
  })
}

function readJsonFile (path: string, what: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${path}: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`${what}: ${path} is not JSON: ${(error as Error).message}`)
  }
}

function readJwksFile (path: string, where: string): Jwks {
  const parsed = Jwks.safeParse(readJsonFile(path, `${where} jwksFile`))
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`${where} jwksFile ${path}: not a JWKS with a kid on every key: ${problems.join('; ')}`)
  }
  return parsed.data
}

/** Every key of a verifier's JWKS: public, asymmetric, RSA ≥ 2048 bits, EC curve matching `alg` (§10.1 step 4). */
export function checkJwks (jwks: Jwks, where: string): void {
  const kids = new Set<string>()
  for (const jwk of jwks.keys) {
    const problem = jwkProblem(jwk)
    if (problem !== undefined) throw new ConfigError(`${where}: key ${jwk.kid} refused: ${problem}`)
    if (kids.has(jwk.kid)) throw new ConfigError(`${where}: kid ${jwk.kid} appears twice`)
    kids.add(jwk.kid)
  }
}

/** Why a configured key is refused, or undefined when it is usable. */
export function jwkProblem (jwk: PublicJwk): string | undefined {
  if (jwk.d !== undefined) return 'it holds a private key (d); configure only the public key'
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA' && jwk.kty !== 'OKP') return `kty ${jwk.kty} is not an asymmetric signing key type (EC, RSA, OKP)`
  if (jwk.alg !== undefined && !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(jwk.alg)) return `alg ${jwk.alg} is not an asymmetric signing algorithm`
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch (error) {
    return `not a valid public key: ${(error as Error).message}`
  }
  if (jwk.kty === 'RSA') {
    const bits = (key.asymmetricKeyDetails as { modulusLength: number }).modulusLength
    if (bits < MIN_RSA_BITS) return `RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`
    if (jwk.alg !== undefined && !RSA_ALGORITHMS.has(jwk.alg)) return `alg ${jwk.alg} does not fit an RSA key`
    return undefined
  }
  // Node has parsed an EC or OKP key, so `crv` is present.
  const crv = jwk.crv as string
  if (jwk.kty === 'OKP') {
    if (key.asymmetricKeyType !== 'ed25519') return `OKP curve ${crv} is not a signing curve this service verifies (Ed25519)`
    if (jwk.alg !== undefined && !OKP_ALGORITHMS.has(jwk.alg)) return `alg ${jwk.alg} does not fit an Ed25519 key`
    return undefined
  }
  // EC: the curve must be the one of `alg` (ES384 ↔ P-384); without `alg`, one of the three ECDSA curves.
  if (jwk.alg !== undefined) {
    const curve = CURVE_OF_ALGORITHM[jwk.alg]
    if (curve === undefined) return `alg ${jwk.alg} does not fit an EC key`
    if (crv !== curve) return `curve ${crv} does not match alg ${jwk.alg} (${curve} expected)`
    return undefined
  }
  if (!Object.values(CURVE_OF_ALGORITHM).includes(crv)) return `curve ${crv} is not an ECDSA curve (P-256, P-384, P-521)`
  return undefined
}

/**
 * The production refusals of §10.2 (and EVALUATION_DATE, §11): the service refuses to start when
 * any holds. Does nothing outside production. Every problem is named in one ConfigError.
 */
export async function checkProductionSafety (config: Config, clients: readonly CdsClient[]): Promise<void> {
  if (!config.production) return
  const problems = await productionProblems(config, clients)
  if (problems.length > 0) {
    throw new ConfigError(`refusing to start in production (NODE_ENV=production): ${problems.join('; ')}`)
  }
}

/** Every production refusal that holds, as messages (empty when the configuration is safe). */
export async function productionProblems (config: Config, clients: readonly CdsClient[]): Promise<string[]> {
  const problems: string[] = []
  const cds = config.cdsHooks
  if (!cds.jwt) problems.push('CDS_HOOKS_JWT is off; it must be on in production')
  if (cds.jwt && cds.publicBaseUrl === undefined) problems.push('PUBLIC_BASE_URL is missing; it is required when CDS_HOOKS_JWT is on')
  if (cds.corsOrigins.includes('*')) problems.push('CORS_ORIGINS contains *; list exact origins')
  if (cds.evaluationDate !== undefined) problems.push('EVALUATION_DATE is set; it is for tests and demonstrations only')
  for (const client of clients) {
    const who = `client ${client.iss}`
    if (isTestIssuer(client.iss)) problems.push(`${who}: a published test issuer (sandbox or spec example) is never trusted in production`)
    for (const url of client.jku) {
      if (isTestIssuerHost(url)) problems.push(`${who}: jku ${url} is a published test issuer's key set`)
    }
    for (const url of client.fhirServers) {
      if (!url.startsWith('https://')) problems.push(`${who}: fhirServers entry ${url} is not https`)
    }
    if (client.openFhirServers.length > 0) problems.push(`${who}: openFhirServers must be empty in production`)
    for (const jwk of client.jwks?.keys ?? []) {
      const name = await publishedTestKeyName(jwk)
      if (name !== undefined) problems.push(`${who}: key ${jwk.kid} is the published test key "${name}" (its private key is public)`)
    }
  }
  return problems
}

/** The name of the published test key `jwk` is (by RFC 7638 thumbprint), or undefined. */
export async function publishedTestKeyName (jwk: PublicJwk): Promise<string | undefined> {
  const thumbprint = await calculateJwkThumbprint(jwk as JWK, 'sha256')
  return PUBLISHED_TEST_KEY_THUMBPRINTS[thumbprint]
}

const normaliseIssuer = (iss: string): string => iss.trim().replace(/\/+$/, '').toLowerCase()
const TEST_ISSUER_SET = new Set(TEST_ISSUERS.map(normaliseIssuer))
const TEST_ISSUER_HOSTS = new Set(TEST_ISSUERS.map((iss) => new URL(iss).host))

export function isTestIssuer (iss: string): boolean {
  return TEST_ISSUER_SET.has(normaliseIssuer(iss))
}

function isTestIssuerHost (url: string): boolean {
  return TEST_ISSUER_HOSTS.has(new URL(url).host)
}
