import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Problem } from './schemas/problem.js'
import { withoutMessage } from './http/loggable-error.js'
import { RequestValidationError } from './http/validator.js'
import { FHIR_BODY_LIMIT_BYTES, JSON_BODY_LIMIT_BYTES, sizeInWords } from './limits.js'

/**
 * Every error leaves as RFC 9457 application/problem+json (under /cds-services: a FHIR
 * OperationOutcome, src/routes/cds-hooks.ts). 4xx problems say what was wrong in words of our own;
 * a 5xx says nothing about internals. No message ever echoes the request body (Node's JSON.parse
 * messages quote it, so they are never passed through).
 * @see spec/api.md "Errors"
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'
/** FHIR input on /v1 (spec/ehr-integration.md §5); src/routes/fhir-input.ts re-exports it. */
export const FHIR_MEDIA_TYPE = 'application/fhir+json'
const PROBLEM_BASE = 'https://her2-bone-mets-cds.example/problems/'

/** What a problem may carry besides status, type and detail: one entry per invalid field. */
export type ProblemExtra = Pick<Problem, 'errors'>

/**
 * The error that routes and hooks throw to answer with a problem: the status, a type slug
 * (`…/problems/<type>`), a detail safe to send (our own words, never request data) and optional
 * `errors[]`. The root error handler sends it as problem+json, the /cds-services scope as an
 * OperationOutcome. Headers (Retry-After, WWW-Authenticate) are set on the reply before throwing.
 */
export class ProblemError extends Error {
  override name = 'ProblemError'
  /** The same as `status`, under the name Fastify and its plugins read. */
  readonly statusCode: number

  constructor (readonly status: number, readonly type: string, readonly detail: string, readonly extra: ProblemExtra = {}) {
    super(detail)
    this.statusCode = status
  }
}

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

/** The words of a route group for the errors Fastify raises before a handler runs. */
export interface GroupErrorTexts {
  unsupportedMediaType: string
  bodyTooLarge: (request: FastifyRequest) => string
}

/** Outside a group of its own (health, documentation, unknown paths): JSON bodies at the server's default limit. */
export const DEFAULT_ERROR_TEXTS: GroupErrorTexts = {
  unsupportedMediaType: 'Unsupported content type: send application/json.',
  bodyTooLarge: () => `The request body is larger than the ${sizeInWords(JSON_BODY_LIMIT_BYTES)} limit.`
}

/** /v1: a Case as JSON (1 MiB) or a FHIR Bundle (5 MiB, spec/ehr-integration.md §5). */
export const V1_ERROR_TEXTS: GroupErrorTexts = {
  unsupportedMediaType: 'Unsupported content type: send a Case as application/json, or a FHIR Bundle as application/fhir+json.',
  bodyTooLarge: (request) => request.mediaType === FHIR_MEDIA_TYPE
    ? `The request body is larger than the ${sizeInWords(FHIR_BODY_LIMIT_BYTES)} limit of FHIR input.`
    : `The request body is larger than the ${sizeInWords(JSON_BODY_LIMIT_BYTES)} limit.`
}

/** Fastify's own client errors, mapped to our words (413 and 415 are the group's). */
const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, { status: number, type: string, detail: (texts: GroupErrorTexts, request: FastifyRequest) => string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, type: 'unsupported-media-type', detail: (texts) => texts.unsupportedMediaType },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, type: 'payload-too-large', detail: (texts, request) => texts.bodyTooLarge(request) },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, type: 'invalid-request', detail: () => 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, type: 'invalid-json', detail: () => 'The request body is empty; send a JSON case.' },
  // Fastify wraps JSON.parse errors in this code; Node's own message quotes the body, so it is never used.
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, type: 'invalid-json', detail: () => 'The request body is not valid JSON.' }
}

function validationDetail (error: RequestValidationError & Pick<FastifyError, 'validationContext'>, request: FastifyRequest): string {
  // A query parameter (`explain`) is named in the detail; its errors' paths point into the query ("/explain").
  if (error.validationContext === 'querystring') {
    return `Invalid query parameter ${[...new Set(error.errors.map((entry) => entry.path.slice(1)))].join(', ')}: ${error.errors.map((entry) => entry.message).join('; ')}.`
  }
  return request.mediaType === FHIR_MEDIA_TYPE
    ? `The FHIR Bundle fails ${error.errors.length === 1 ? 'a structural check' : `${error.errors.length} structural checks`} (only structure is checked; unknown elements pass).`
    : `The request does not match the schema: ${error.errors.length} invalid field${error.errors.length === 1 ? '' : 's'}.`
}

/** A rejection's problem type, as the reason in the request's one log line (and its metrics). */
export function noteProblem (request: FastifyRequest, type: string): void {
  request.logSummary = { ...request.logSummary, problem: type }
}

/** The problem+json error handler of a route group, with the group's 413/415 words. */
export function problemErrorHandler (texts: GroupErrorTexts) {
  return function errorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const instance = request.url.split('?')[0]
    if (error instanceof ProblemError) {
      noteProblem(request, error.type)
      return sendProblem(reply, problem(error.status, error.detail, { instance, ...error.extra }, error.type))
    }
    if (error instanceof RequestValidationError) {
      noteProblem(request, 'validation')
      return sendProblem(reply, problem(400, validationDetail(error, request), { instance, errors: error.errors }, 'validation'))
    }
    const known = error.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[error.code]
    if (known !== undefined) {
      noteProblem(request, known.type)
      return sendProblem(reply, problem(known.status, known.detail(texts, request), { instance }, known.type))
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status < 500) {
      return sendProblem(reply, problem(status, `The request was rejected (${error.code ?? 'client error'}).`, { instance }))
    }
    request.log.error({ err: withoutMessage(error) }, 'unhandled error')
    return sendProblem(reply, problem(500, 'An internal error occurred. It has been logged with the request id; nothing about it is returned here.', { instance }))
  }
}

/** The root's handler: health, documentation, unknown paths. */
export const errorHandler = problemErrorHandler(DEFAULT_ERROR_TEXTS)
/** The /v1 group's handler. */
export const v1ErrorHandler = problemErrorHandler(V1_ERROR_TEXTS)

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
