import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Problem } from './schemas/problem.js'
import { withoutMessage } from './http/loggable-error.js'
import { RequestValidationError } from './http/validator.js'

/**
 * Every error leaves as RFC 9457 application/problem+json. 4xx problems say what was wrong in
 * words of our own; a 5xx says nothing about internals. No message ever echoes the request body
 * (Node's JSON.parse messages quote it, so they are never passed through).
 * @see spec/api.md "Errors"
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'
/** FHIR input on /v1 (spec/ehr-integration.md §5); src/routes/fhir-input.ts re-exports it. */
export const FHIR_MEDIA_TYPE = 'application/fhir+json'
const PROBLEM_BASE = 'https://her2-bone-mets-cds.example/problems/'

export function problem (status: number, detail: string, extra: Partial<Problem> = {}, type?: string): Problem {
  return {
    type: type === undefined ? 'about:blank' : `${PROBLEM_BASE}${type}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extra
  }
}

export function sendProblem (reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body)
}

/** 503 while the rulesets are not loaded (health, knowledge and recommendation routes). */
export function sendNotReady (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problem(503, 'The knowledge base is not loaded yet.', { instance: request.url.split('?')[0] }))
}

/** Fastify's own client errors, mapped to our words. */
const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, { status: number, detail: string, type: string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, detail: 'Unsupported content type: send a Case as application/json, or a FHIR Bundle as application/fhir+json.', type: 'unsupported-media-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, detail: 'The Content-Length header does not match the body.', type: 'invalid-request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, detail: 'The request body is empty; send a JSON case.', type: 'invalid-json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, detail: 'The request body is larger than the 1 MiB limit.', type: 'payload-too-large' },
  // Fastify wraps JSON.parse errors in this code; Node's own message quotes the body, so it is never used.
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, detail: 'The request body is not valid JSON.', type: 'invalid-json' }
}

export function errorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const instance = request.url.split('?')[0]
  if (error instanceof RequestValidationError) {
    // A query parameter (`explain`) is named in the detail; its errors' paths point into the query ("/explain").
    const detail = error.validationContext === 'querystring'
      ? `Invalid query parameter ${[...new Set(error.errors.map((entry) => entry.path.slice(1)))].join(', ')}: ${error.errors.map((entry) => entry.message).join('; ')}.`
      : request.mediaType === FHIR_MEDIA_TYPE
        ? `The FHIR Bundle fails ${error.errors.length === 1 ? 'a structural check' : `${error.errors.length} structural checks`} (only structure is checked; unknown elements pass).`
        : `The request does not match the schema: ${error.errors.length} invalid field${error.errors.length === 1 ? '' : 's'}.`
    return sendProblem(reply, problem(400, detail, { instance, errors: error.errors }, 'validation'))
  }
  const known = error.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[error.code]
  if (known !== undefined) {
    // FHIR input has its own limit (spec/ehr-integration.md §5).
    const detail = known.status === 413 && request.mediaType === FHIR_MEDIA_TYPE ? 'The request body is larger than the 5 MiB limit of FHIR input.' : known.detail
    return sendProblem(reply, problem(known.status, detail, { instance }, known.type))
  }
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  if (status < 500) {
    return sendProblem(reply, problem(status, `The request was rejected (${error.code ?? 'client error'}).`, { instance }))
  }
  // Logged without its message, which may quote case data.
  request.log.error({ err: withoutMessage(error) }, 'unhandled error')
  return sendProblem(reply, problem(500, 'An internal error occurred. It has been logged with the request id; nothing about it is returned here.', { instance }))
}

/** 404 for unknown paths, 405 (with Allow) for a known path with the wrong method. */
export function notFoundHandler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] as string
  const allowed = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
    .filter((method) => method !== request.method && this.hasRoute({ method, url: path }))
  if (allowed.length > 0) {
    reply.header('allow', allowed.join(', '))
    return sendProblem(reply, problem(405, `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`, { instance: path }))
  }
  return sendProblem(reply, problem(404, `No resource at ${path}. See /documentation for the API.`, { instance: path }))
}
