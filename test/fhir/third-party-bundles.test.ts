import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { mapBundle } from '../../src/fhir/index.js'
import { buildTestApp } from '../fixtures/build-app.js'
import { needThirdParty, readThirdPartyJson, thirdPartySkip } from '../support/third-party-fixtures.js'

/**
 * spec/ehr-integration.md §12.3: the seven MITRE mCODE bundles (none is HER2+ MBC to bone) through
 * POST /v1/recommendations as FHIR. Each gives the scope, gaps and warnings the spec names, and never
 * a 5xx. Read in place from ../shared/ehr-fixtures (never copied into the project).
 */

type Json = Record<string, any>
const EVALUATION_DATE = '2026-06-01'

async function post (app: FastifyInstance, file: string): Promise<{ status: number, body: Json }> {
  const reply = await app.inject({
    method: 'POST',
    url: `/v1/recommendations?evaluationDate=${EVALUATION_DATE}`,
    headers: { 'content-type': 'application/fhir+json' },
    payload: JSON.stringify(readThirdPartyJson(`mcode-thirdparty/${file}`))
  })
  return { status: reply.statusCode, body: reply.json() }
}

const warningCodes = (body: Json): string[] => body.warnings.map((warning: Json) => warning.code)
const errorPaths = (body: Json): string[] => body.errors.map((error: Json) => error.path).sort()

function mapped (file: string): Json {
  const result = mapBundle(readThirdPartyJson(`mcode-thirdparty/${file}`), { evaluationDate: EVALUATION_DATE })
  if (!result.ok) throw new Error(`${file} did not map`)
  return result.mapping as unknown as Json
}

t.test('§12.3 MITRE bundles', { skip: thirdPartySkip }, async (t) => {
  if (!needThirdParty(t)) return
  const app = await buildTestApp(t)

  t.test('TrialMatching_Patient01: out of scope, HER2 negative, bone and liver (the side-less axillary node not counted)', async (t) => {
    const { status, body } = await post(app, 'ctm-app.TrialMatching_Patient01.json')
    t.equal(status, 200)
    t.equal(body.scope.inScope, false)
    t.equal(body.assessment.her2Status, 'negative')
    t.same([...mapped('ctm-app.TrialMatching_Patient01.json').case.disease.metastaticSites].sort(), ['bone', 'liver'])
    for (const code of ['FHIR_NODE_LATERALITY_UNKNOWN', 'FHIR_ER_PERCENT_STAND_IN', 'FHIR_SEX_FROM_GENDER']) t.ok(warningCodes(body).includes(code), code)
  })

  t.test('TrialMatching_Patient02: out of scope, primary resected, no prior RT (both courses without dose)', async (t) => {
    const { status, body } = await post(app, 'ctm-app.TrialMatching_Patient02.json')
    t.equal(status, 200)
    t.equal(body.scope.inScope, false)
    const mapping = mapped('ctm-app.TrialMatching_Patient02.json')
    t.equal(mapping.case.disease.primaryIntact, false)
    const lesions = [...(mapping.case.disease.spineLesions ?? []), ...(mapping.case.disease.nonSpineBoneLesions ?? [])]
    t.notOk(lesions.some((lesion: Json) => lesion.priorRt !== undefined), 'no priorRt anywhere')
    for (const code of ['FHIR_RT_SITE_WITHOUT_LESION', 'FHIR_HISTORY_UNSPLIT']) t.ok(warningCodes(body).includes(code), code)
  })

  t.test('eom_patient_1: out of scope, lung, cT3 cN3 M0 with a staging conflict, ER stand-in 0, ECOG 3', async (t) => {
    const { status, body } = await post(app, 'ctm-service.eom_patient_1.json')
    t.equal(status, 200)
    t.equal(body.scope.inScope, false)
    const mapping = mapped('ctm-service.eom_patient_1.json')
    t.same(mapping.case.disease.metastaticSites, ['lung'])
    t.same(mapping.case.disease.ajcc, { t: 'cT3', n: 'cN3', m: 'M0' })
    t.ok(warningCodes(body).includes('STAGING_CONFLICT'))
    t.equal(mapping.case.tumor.erPercent, 0)
    t.ok(warningCodes(body).includes('FHIR_ER_PERCENT_STAND_IN'))
    t.equal(mapping.case.patient.ecog, 3)
  })

  t.test('patient_data: 422 case-incomplete on /patient/ecog (the only ECOG is another patient\'s)', async (t) => {
    const { status, body } = await post(app, 'ctm-service.patient_data.json')
    t.equal(status, 422)
    t.match(body.type, /\/problems\/case-incomplete$/)
    t.same(errorPaths(body), ['/patient/ecog'])
    const mapping = mapped('ctm-service.patient_data.json')
    t.equal(mapping.case.tumor.her2Ihc, '3+')
    t.equal(mapping.case.tumor.her2IshResult, 'amplified')
    t.equal(mapping.case.tumor.erPercent, 11)
    t.ok(mapping.case.disease.metastaticSites.includes('other'))
    const codes = mapping.warnings.map((warning: Json) => warning.code)
    t.ok(codes.includes('FHIR_HER2_NUMERIC_SCORE'))
    t.ok(codes.includes('FHIR_OTHER_PATIENT_RESOURCE'))
  })

  t.test('missing birthdate, invalid ECOG and Karnofsky: 422 on age, ECOG and ER', async (t) => {
    const { status, body } = await post(app, 'ctm-service.patient_data_missing_birthdate_invalid_ecog_karnofsky.json')
    t.equal(status, 422)
    t.match(body.type, /\/problems\/case-incomplete$/)
    t.same(errorPaths(body), ['/patient/ageYears', '/patient/ecog', '/tumor/erPercent'])
  })

  t.test('empty-cgv: no Patient → 422 patient-count', async (t) => {
    const { status, body } = await post(app, 'ctm-service.patient_data_empty-cgv.json')
    t.equal(status, 422)
    t.match(body.type, /\/problems\/patient-count$/)
  })

  t.test('ctm-bct: 422 on ECOG and ER; HER2 read by its text; the duplicate id keeps the last entry', async (t) => {
    const { status, body } = await post(app, 'ctm-bct.patient_data.json')
    t.equal(status, 422)
    t.match(body.type, /\/problems\/case-incomplete$/)
    t.same(errorPaths(body), ['/patient/ecog', '/tumor/erPercent'])
    const codes = mapped('ctm-bct.patient_data.json').warnings.map((warning: Json) => warning.code)
    t.ok(codes.includes('FHIR_MATCHED_BY_TEXT'))
    t.ok(codes.includes('FHIR_DUPLICATE_RESOURCE'))
  })
})
