/**
 * Every request body limit of the service, per route group, in one place: the routes, the parsers
 * and the 413 texts read them from here.
 * @see spec/api.md "Errors" (1 MiB for /v1/*), spec/ehr-integration.md §2 and §5
 */

const MIB = 1024 * 1024

/** A JSON Case on /v1 (spec/api.md), and the server-wide default of every other JSON body. */
export const JSON_BODY_LIMIT_BYTES = MIB

/** A FHIR Bundle on POST /v1/recommendations (application/fhir+json, §5), and every CDS Hooks call (§2). */
export const FHIR_BODY_LIMIT_BYTES = 5 * MIB

/** CDS Hooks feedback (§2). */
export const FEEDBACK_BODY_LIMIT_BYTES = 64 * 1024

/** A limit in words, for 413 texts and descriptions: "1 MiB", "64 KiB". */
export function sizeInWords (bytes: number): string {
  return bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / 1024} KiB`
}
