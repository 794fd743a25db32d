import { z } from 'zod'

/*
 * PLACEHOLDER — replaced by the cards helper (src/schemas/cds-hooks-response.ts: Card,
 * CdsServiceResponse, Discovery, OperationOutcome). The cds-service branch needs the names to
 * compile and to document its routes; the shapes follow CDS Hooks 2.0.1 and
 * spec/ehr-integration.md §3, §7 and §9.
 */

const Coding = z.object({
  system: z.string().optional().describe('The code system.'),
  code: z.string().describe('The code.'),
  display: z.string().optional().describe('The display of the code.')
}).describe('A FHIR Coding.')

export const Card = z.object({
  uuid: z.string().optional().describe('The card id (RFC 4122 version 5), quoted back in feedback.'),
  summary: z.string().max(140).describe('One line for the clinician (< 140 characters).'),
  detail: z.string().optional().describe('GitHub-flavoured Markdown: options, why, evidence, data gaps.'),
  indicator: z.enum(['info', 'warning', 'critical']).describe('Urgency of the card.'),
  source: z.object({
    label: z.string().describe('The knowledge base that produced the card.'),
    url: z.string().optional().describe('A public page about the knowledge base.'),
    topic: Coding.optional().describe('The domain of the card.')
  }).describe('Where the card comes from.'),
  overrideReasons: z.array(Coding).optional().describe('Reasons a clinician may give when overriding the card.')
}).meta({ id: 'CdsCard', description: 'A CDS Hooks card.' })
export type Card = z.infer<typeof Card>

export const CdsServiceResponse = z.object({
  cards: z.array(Card).describe('The cards; empty when the service has nothing to say.')
}).meta({ id: 'CdsServiceResponse', description: 'The response of a CDS Hooks service call.' })
export type CdsServiceResponse = z.infer<typeof CdsServiceResponse>

export const Discovery = z.object({
  services: z.array(z.object({
    id: z.string().describe('The service id, the last segment of its URL.'),
    hook: z.string().describe('The hook the service answers.'),
    hookVersion: z.string().describe('The version of the hook definition.'),
    version: z.string().describe('The CDS Hooks specification version.'),
    title: z.string().describe('The name of the service.'),
    description: z.string().describe('What the service does, for whom (Markdown).'),
    prefetch: z.record(z.string(), z.string()).describe('Prefetch templates by key.'),
    usageRequirements: z.string().describe('What the client must provide.')
  }).describe('One CDS service.')).describe('The services of this server.')
}).meta({ id: 'CdsDiscovery', description: 'The CDS Hooks discovery document.' })
export type Discovery = z.infer<typeof Discovery>

export const OperationOutcome = z.object({
  resourceType: z.literal('OperationOutcome').describe('Always OperationOutcome.'),
  issue: z.array(z.object({
    severity: z.enum(['fatal', 'error', 'warning', 'information']).describe('How bad the issue is.'),
    code: z.string().describe('The FHIR issue type (invalid, security, not-found, processing…).'),
    details: z.object({ text: z.string().describe('The issue in words.') }).optional().describe('The issue in words.'),
    diagnostics: z.string().optional().describe('More about the issue; never patient data.'),
    expression: z.array(z.string()).optional().describe('The request elements concerned.')
  }).describe('One problem.')).min(1).describe('The problems.')
}).meta({ id: 'OperationOutcome', description: 'A FHIR OperationOutcome: the body of every CDS Hooks error.' })
export type OperationOutcome = z.infer<typeof OperationOutcome>
