import type { FastifyError } from 'fastify'

/**
 * An error for the log without its message: a message may quote the data being processed (a case
 * value, a FHIR resource or patient id) that logs never carry (spec/ehr-integration.md §10.5). The
 * type, code and stack frames remain, which is what locates the fault. Both error handlers (the
 * root's problem+json one and the /cds-services one) log 5xx errors through it.
 */
export function withoutMessage (error: FastifyError): { type: string, code?: string, stack?: string } {
  const frames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line)).join('\n')
  return { type: error.name, ...(error.code === undefined ? {} : { code: error.code }), ...(frames === undefined ? {} : { stack: frames }) }
}
