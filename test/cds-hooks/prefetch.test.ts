import t from 'tap'
import { LOINC_CODES, SNOMED_STAGING_CODES } from '../../src/fhir/codes.js'
import { CASE_FACT_SYSTEM } from '../../src/fhir/constants.js'
import { PREFETCH_CODES, PREFETCH_KEYS, prefetchTemplates, readKeyValue, renderTemplate, templateViolations, type PrefetchKey } from '../../src/cds-hooks/prefetch.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/** §4.1 as the spec writes it: `P`, `L` and `S` are its abbreviations. */
const SPEC_TABLE: Array<[key: string, template: string, required: boolean]> = [
  ['patient', 'Patient/{{context.patientId}}', true],
  ['conditions', 'Condition?P&_count=100', true],
  ['markers', 'Observation?P&code=L48676-1,L85319-2,L18474-7,L85318-4,L31150-6,L49683-6,L74860-8,L85337-4,L85339-0,L40556-3,L40557-1,L16112-5,L16113-3,L85329-1,L85325-9,L14228-1,L14230-7&_sort=-date&_count=50', true],
  ['ecog', 'Observation?P&code=L89247-1&_sort=-date&_count=5', true],
  ['diseaseStatus', 'Observation?P&code=L97509-4&_sort=-date&_count=50', true],
  ['medicationRequests', 'MedicationRequest?P&_count=200', true],
  ['procedures', 'Procedure?P&_count=100', true],
  ['medicationAdministrations', 'MedicationAdministration?P&_count=200', false],
  ['medicationStatements', 'MedicationStatement?P&_count=200', false],
  ['cardiac', 'Observation?P&code=L10230-1&_sort=-date&_count=20', false],
  ['renal', 'Observation?P&code=L2160-0,L14682-9,L2164-2&_sort=-date&_count=10', false],
  ['weight', 'Observation?P&code=L29463-7&_sort=-date&_count=3', false],
  ['calcium', 'Observation?P&code=L29265-6,L17861-6&_sort=-date&_count=5', false],
  ['vitaminD', 'Observation?P&code=L62292-8,L1989-3&_sort=-date&_count=3', false],
  ['pregnancy', 'Observation?P&code=L82810-3&_sort=-date&_count=1', false],
  ['staging', 'Observation?P&code=L21908-9,L21902-2,L21905-5,L21906-3,L21907-1,L21899-0,L21900-6,L21901-4,S399537006,S399588009,S399504009,S399534004,S399387003&_sort=-date&_count=20', false],
  ['facts', 'Observation?P&code=<CASE_FACT_SYSTEM>|,L72514-3&_count=200', false]
]

const expand = (template: string): string => template
  .replace('?P', '?patient={{context.patientId}}')
  .replace(/([=,])L/g, '$1http://loinc.org|')
  .replace(/([=,])S/g, '$1http://snomed.info/sct|')
  .replace('<CASE_FACT_SYSTEM>', CASE_FACT_SYSTEM)

t.test('the templates are §4.1, key by key, in its order, with its required column', async (t) => {
  t.strictSame(PREFETCH_KEYS.map(({ key, template, required }) => [key, template, required]), SPEC_TABLE.map(([key, template, required]) => [key, expand(template), required]))
  t.strictSame(prefetchTemplates(), Object.fromEntries(SPEC_TABLE.map(([key, template]) => [key, expand(template)])))
})

t.test('every template keeps the CDS Hooks 3.0 prefetch query restrictions', async (t) => {
  for (const { key, template } of PREFETCH_KEYS) t.strictSame(templateViolations(template), [], key)
})

t.test('the R4 _sort=-date, never sort:desc=date', async (t) => {
  for (const { key, template } of PREFETCH_KEYS) {
    t.notMatch(template, /sort:/, key)
    if (template.includes('_sort')) t.match(template, /&_sort=-date&/, key)
  }
})

t.test('the template codes are exactly the codes of src/fhir/codes.ts (one module)', async (t) => {
  const inTemplates = new Set(PREFETCH_KEYS.flatMap(({ template }) => /[?&]code=([^&]*)/.exec(template)?.[1]?.split(',') ?? []))
  const inCodeModule = new Set([
    ...Object.values(LOINC_CODES).flat().map((code) => `http://loinc.org|${code}`),
    ...Object.values(SNOMED_STAGING_CODES).flat().map((code) => `http://snomed.info/sct|${code}`),
    `${CASE_FACT_SYSTEM}|`
  ])
  t.strictSame([...inTemplates].sort(), [...inCodeModule].sort())
  t.strictSame(new Set(Object.values(PREFETCH_CODES).flat()), inTemplates)
})

t.test('the checker refuses what the 3.0 restrictions do not list', async (t) => {
  const P = 'patient={{context.patientId}}'
  const refused: Record<string, string> = {
    'pre-R4 sort': `Observation?${P}&code=4548-4&_count=1&sort:desc=date`,
    _include: `PractitionerRole?${P}&_include=PractitionerRole:practitioner`,
    _revinclude: `Patient?${P}&_revinclude=Provenance:target`,
    chaining: `Observation?${P}&subject.name=peter`,
    'FHIRPath token': `Observation?${P}&date=gt{{today() - 90 days}}`,
    'other token': 'PractitionerRole?_id={{userPractitionerRoleId}}',
    'token modifier': `Observation?${P}&code:not=http://loinc.org|1`,
    'modifier on a non-token': `Observation?${P}&date:missing=true`,
    'two modifiers': `Observation?${P}&code:in:x=http://vs`,
    'date prefix sa': `Observation?${P}&date=sa2020-01-01`,
    'no patient': 'Observation?code=http://loinc.org|1',
    'another patient value': 'Observation?patient=123',
    '_count not a number': `Observation?${P}&_count=ten`,
    '_sort syntax': `Observation?${P}&_sort=date:desc`,
    'an unknown parameter': `Observation?${P}&value-quantity=gt5`,
    'empty token item': `Observation?${P}&code=http://loinc.org|1,`,
    'two pipes': `Observation?${P}&code=a|b|c`,
    'not a resource type': 'observation?patient={{context.patientId}}',
    'read of a user token': '{{context.userId}}',
    'read of another id': 'Patient/123',
    'read of a lower-case type': 'patient/{{context.patientId}}',
    'empty query': 'Observation?',
    'two query marks': `Observation?${P}?x=1`
  }
  for (const [name, template] of Object.entries(refused)) t.not(templateViolations(template).length, 0, name)
  const allowed = [
    `Observation?${P}&code:in=http://example.org/ValueSet/x`,
    `Observation?${P}&date=ge2020-01-01`,
    `Observation?${P}&date=2020`,
    `Condition?${P}&status=active&category=problem-list-item`,
    `Observation?${P}&code=4548-4&_sort=-date,code`,
    `Observation?${P}&flag`,
    'Patient/{{context.patientId}}'
  ]
  for (const template of allowed.slice(0, -2)) t.strictSame(templateViolations(template), [], template)
  t.not(templateViolations(allowed[5] as string).length, 0, 'a parameter without value is not allowed')
  t.strictSame(templateViolations(allowed[6] as string), [])
})

t.test('the spec examples: the plain templates pass, the ones outside the restrictions fail', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const discovery = readThirdPartyJson<{ services: Array<{ prefetch?: Record<string, string> }> }>('cds-hooks-spec/examples/discovery-example.json')
  for (const template of discovery.services.flatMap((service) => Object.values(service.prefetch ?? {}))) t.strictSame(templateViolations(template), [], template)
  for (const file of ['prefetch-template.json', 'prefetch-tokens-user-read.json', 'prefetch-tokens-user-search.json', 'prefetch-fhirpath-relative-dates.json', 'prefetch-fhirpath-querystring.json', 'prefetch-fhirpath-example-templates.json']) {
    const { prefetch } = readThirdPartyJson<{ prefetch: Record<string, string> }>(`cds-hooks-spec/examples/${file}`)
    for (const [key, template] of Object.entries(prefetch)) t.not(templateViolations(template).length, 0, `${file} ${key}`)
  }
  const mixed = readThirdPartyJson<{ prefetch: Record<string, string> }>('cds-hooks-spec/examples/prefetch-templates-example.json').prefetch
  t.strictSame(Object.keys(mixed).filter((key) => templateViolations(mixed[key] as string).length === 0), ['patient', 'diabetes-type2'])
})

t.test('the patient id is URL-encoded into the template (§4.3)', async (t) => {
  t.equal(renderTemplate('Condition?patient={{context.patientId}}&_count=100', 'a-1.B'), 'Condition?patient=a-1.B&_count=100')
  t.equal(renderTemplate('Patient/{{context.patientId}}', 'a&b=c/d'), 'Patient/a%26b%3Dc%2Fd')
})

const patientKey = PREFETCH_KEYS[0] as PrefetchKey
const searchKey = PREFETCH_KEYS.find((key) => key.key === 'markers') as PrefetchKey
const observation = (id: string): Record<string, unknown> => ({ resourceType: 'Observation', id, status: 'final' })
const searchset = (entry: unknown, extra: Record<string, unknown> = {}): unknown => ({ resourceType: 'Bundle', type: 'searchset', entry, ...extra })

t.test('§4.2: absent and null', async (t) => {
  t.strictSame(readKeyValue(searchKey, undefined, 'p1'), { state: 'absent' })
  t.strictSame(readKeyValue(searchKey, null, 'p1'), { state: 'empty' })
  t.strictSame(readKeyValue(patientKey, null, 'p1'), { state: 'empty' })
})

t.test('§4.2: an OperationOutcome is unavailable, with its issue codes only', async (t) => {
  const outcome = { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', diagnostics: 'Patient 123 secret' }, { code: 'Not A Code' }, 'x'] }
  t.strictSame(readKeyValue(searchKey, outcome, 'p1'), { state: 'unavailable', reason: 'operation-outcome', issueCodes: ['forbidden'] })
  t.strictSame(readKeyValue(patientKey, { resourceType: 'OperationOutcome' }, 'p1'), { state: 'unavailable', reason: 'operation-outcome', issueCodes: [] })
})

t.test('§4.2: a searchset uses match, include and mode-less entries; outcome entries are ignored', async (t) => {
  const value = searchset([
    { resource: observation('a'), search: { mode: 'match' } },
    { resource: observation('b'), search: { mode: 'include' } },
    { resource: observation('c') },
    { resource: { resourceType: 'OperationOutcome' }, search: { mode: 'outcome' } },
    { search: { mode: 'match' } },
    { fullUrl: 'urn:uuid:x' }
  ])
  t.strictSame(readKeyValue(searchKey, value, 'p1'), { state: 'data', resources: [observation('a'), observation('b'), observation('c')] })
  t.strictSame(readKeyValue(searchKey, searchset(undefined), 'p1'), { state: 'data', resources: [] })
})

t.test('§4.2: a collection Bundle is accepted; other Bundle types are malformed', async (t) => {
  t.strictSame(readKeyValue(searchKey, { resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation('a') }] }, 'p1'), { state: 'data', resources: [observation('a')] })
  for (const type of ['transaction', 'batch-response', 'history', undefined]) {
    t.strictSame(readKeyValue(searchKey, { resourceType: 'Bundle', type, entry: [] }, 'p1'), { state: 'unavailable', reason: 'malformed' }, String(type))
  }
})

t.test('§4.2: a next link is kept (to follow, or to mark the key partial)', async (t) => {
  const link = [{ relation: 'self', url: 'https://x/fhir/Observation?a' }, { relation: 'next', url: 'https://x/fhir/Observation?page=2' }]
  t.strictSame(readKeyValue(searchKey, searchset([], { link }), 'p1'), { state: 'data', resources: [], next: 'https://x/fhir/Observation?page=2' })
  t.strictSame(readKeyValue(searchKey, searchset([], { link: [{ relation: 'next' }, 'x'] }), 'p1'), { state: 'data', resources: [] })
})

t.test('§4.2: anything else is malformed', async (t) => {
  const malformed = { state: 'unavailable', reason: 'malformed' }
  const cases: Record<string, unknown> = {
    string: 'Observation/1',
    number: 3,
    array: [observation('a')],
    'no resourceType': { type: 'searchset' },
    'a resource for a search key': observation('a'),
    'entry not an array': searchset({ resource: observation('a') }),
    'an entry not an object': searchset(['x']),
    'a resource without resourceType': searchset([{ resource: { id: 'a' } }]),
    'a resource not an object': searchset([{ resource: 'Observation/a' }])
  }
  for (const [name, value] of Object.entries(cases)) t.strictSame(readKeyValue(searchKey, value, 'p1'), malformed, name)
  t.strictSame(readKeyValue(patientKey, searchset([{ resource: { resourceType: 'Patient', id: 'p1' } }]), 'p1'), malformed, 'a Bundle for a read key')
  t.strictSame(readKeyValue(patientKey, observation('p1'), 'p1'), malformed, 'another resource type for a read key')
})

t.test('§4.2: the patient value must have id = context.patientId', async (t) => {
  const patient = { resourceType: 'Patient', id: 'p1' }
  t.strictSame(readKeyValue(patientKey, patient, 'p1'), { state: 'data', resources: [patient] })
  t.strictSame(readKeyValue(patientKey, { ...patient, id: 'p2' }, 'p1'), { state: 'unavailable', reason: 'patient-mismatch' })
  t.strictSame(readKeyValue(patientKey, { resourceType: 'Patient' }, 'p1'), { state: 'unavailable', reason: 'patient-mismatch' })
  // A read key of another type needs only its type.
  const medication = { key: 'm', resourceType: 'Medication', read: true, required: false, template: 'Medication/x' }
  t.strictSame(readKeyValue(medication, { resourceType: 'Medication', id: 'x' }, 'p1'), { state: 'data', resources: [{ resourceType: 'Medication', id: 'x' }] })
})

t.test('the spec\'s prefetch-data examples: 2.0.1 has a malformed value, 3.0 none', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const search = { key: 'any', resourceType: 'Observation', read: false, required: false, template: '' }
  const v2 = readThirdPartyJson<{ prefetch: Record<string, unknown> }>('cds-hooks-spec/examples/prefetch-data-example.v2.0.1.json').prefetch
  t.strictSame(readKeyValue(search, v2.user, '123'), { state: 'unavailable', reason: 'malformed' }, 'user is a string')
  const v3 = readThirdPartyJson<{ prefetch: Record<string, unknown> }>('cds-hooks-spec/examples/prefetch-data-example.v3.0.0-ballot.json').prefetch
  t.match(readKeyValue(search, v3['hemoglobin-a1c'], '123'), { state: 'data', resources: [{ resourceType: 'Observation' }] })
  t.match(readKeyValue(search, v3.user, '123'), { state: 'data', resources: [{ resourceType: 'Practitioner', id: '123' }] })
  // The example's Patient has its id snipped: a Patient, so not malformed, but not the context's patient.
  t.strictSame(readKeyValue(patientKey, v3.patient, '123'), { state: 'unavailable', reason: 'patient-mismatch' })
})

t.test('the spec\'s pagination example: a searchset page with a next link', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const { prefetch } = readThirdPartyJson<{ prefetch: { orders: unknown } }>('cds-hooks-spec/examples/prefetch-pagination-example.json')
  const orders = { key: 'orders', resourceType: 'MedicationRequest', read: false, required: false, template: '' }
  t.match(readKeyValue(orders, prefetch.orders, '1288992'), {
    state: 'data',
    resources: [{ resourceType: 'MedicationRequest' }],
    next: 'https://ehr.example.org/fhir/MedicationRequest?patient=1288992&_count=1&_page=2'
  })
})
