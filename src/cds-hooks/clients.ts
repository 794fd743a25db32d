import type { Config } from '../config.js'

/*
 * PLACEHOLDER — replaced by the jwt helper (src/cds-hooks/clients.ts: CdsClient, loadCdsClients).
 * The cds-service branch needs the names to compile; the shape is the brief's contract (§10.2).
 */

export interface CdsClient {
  iss: string
  jwks?: unknown
  jku: string[]
  tenants?: string[]
  fhirServers: string[]
  openFhirServers: string[]
  jurisdiction?: string
}

/** PLACEHOLDER: no CDS_CLIENTS_FILE reading here; the jwt helper's version loads and checks it. */
export function loadCdsClients (_config: Config): CdsClient[] {
  return []
}
