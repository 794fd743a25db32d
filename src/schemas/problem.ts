import { z } from 'zod'

/** RFC 9457 problem details, the body of every error response. */
export const Problem = z.object({
  type: z.string().describe('A URI identifying the problem type.'),
  title: z.string().describe('Short summary of the problem type.'),
  status: z.int().describe('The HTTP status code.'),
  detail: z.string().describe('What went wrong with this request, in words (never an echo of the request body).'),
  instance: z.string().optional().describe('The request path.'),
  errors: z.array(z.object({
    path: z.string().describe('JSON pointer into the request body, e.g. /patient/ecog (for FHIR input: into the Bundle for a 400, into the mapped Case for a 422).'),
    message: z.string().describe('What is wrong with the value at that pointer.')
  })).optional().describe('One entry per invalid field (400), or per missing or inconsistent field of the Case mapped from FHIR input (422 case-incomplete, case-inconsistent).')
}).meta({ id: 'Problem', description: 'RFC 9457 problem details (content type application/problem+json).' })
export type Problem = z.infer<typeof Problem>
