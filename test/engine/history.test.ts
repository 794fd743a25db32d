import t from 'tap'
import {
  ANTI_HER2_AGENTS, currentAgents, HER2_ANTIBODY_ADC_AGENTS, hasAntiHer2, lastLine, monthsBetween, monthsSinceLastAntiHer2,
  priorAgents, progressedAgents, treatmentDecision
} from '../../src/engine/history.js'
import type { Case, ExtracranialStatus } from '../../src/schemas/case.js'
import type { Agent } from '../../src/schemas/common.js'
import { caseOf } from '../fixtures/factories.js'

type History = NonNullable<Case['history']>
type Line = NonNullable<History['metastaticLines']>[number]
type Early = NonNullable<History['earlyStageTherapy']>[number]
type Outcome = Line['outcome']
type Pattern = NonNullable<Line['progressionPattern']>
type Status = ExtracranialStatus

const EVALUATION_DATE = '2026-03-01'
const LAST_DOSE = '2024-01-15'

/** The calendar date `days` after `date` (UTC). */
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

const early = (agents: Agent[], lastDoseDate?: string): Early => ({
  setting: 'adjuvant', agents, ...(lastDoseDate === undefined ? {} : { lastDoseDate })
})
const line = (lineNumber: number, outcome: Outcome, agents: Agent[], progressionPattern?: Pattern): Line => ({
  lineNumber, outcome, agents, ...(progressionPattern === undefined ? {} : { progressionPattern })
})

t.test('anti-HER2 agent sets', async (t) => {
  t.strictSame([...ANTI_HER2_AGENTS].sort(), ['lapatinib', 'margetuximab', 'neratinib', 'pertuzumab', 't_dm1', 't_dxd', 'trastuzumab', 'tucatinib'])
  t.strictSame([...HER2_ANTIBODY_ADC_AGENTS].sort(), ['margetuximab', 'pertuzumab', 't_dm1', 't_dxd', 'trastuzumab'])
  t.equal(hasAntiHer2(['docetaxel', 'tucatinib']), true)
  t.equal(hasAntiHer2(['docetaxel', 'capecitabine', 'aromatase_inhibitor']), false)
  t.equal(hasAntiHer2([]), false)
})

t.test('monthsBetween: days / 30.4375 rounded to one decimal', async (t) => {
  t.equal(addDays('2025-01-01', 183), '2025-07-03', 'date helper')
  const rows: Array<[number, number]> = [
    [0, 0], [182, 6.0], [183, 6.0], [184, 6.0], [185, 6.1], [186, 6.1],
    [365, 12.0], [366, 12.0], [367, 12.1], [368, 12.1], [-2, -0.1], [-183, -6.0], [-185, -6.1], [-367, -12.1]
  ]
  for (const [days, months] of rows) t.equal(monthsBetween(LAST_DOSE, addDays(LAST_DOSE, days)), months, `${days} days`)
  t.equal(monthsBetween('2025-02-28', '2025-03-01'), 0, 'one day')
  t.equal(monthsBetween('2024-02-28', '2024-03-01'), 0.1, 'two days across a leap day')
})

t.test('monthsSinceLastAntiHer2: 6.0 / 6.1 and 12.0 / 12.1 boundaries to metastaticDiagnosisDate', async (t) => {
  const rows: Array<[number, number]> = [[183, 6.0], [186, 6.1], [366, 12.0], [367, 12.1]]
  for (const [days, months] of rows) {
    const input = caseOf({ history: { earlyStageTherapy: [early(['trastuzumab', 'pertuzumab'], LAST_DOSE)] }, disease: { metastaticDiagnosisDate: addDays(LAST_DOSE, days) } })
    t.equal(monthsSinceLastAntiHer2(input, EVALUATION_DATE), months, `${days} days`)
  }
})

t.test('monthsSinceLastAntiHer2: falls back to evaluationDate without metastaticDiagnosisDate', async (t) => {
  const input = caseOf({ history: { earlyStageTherapy: [early(['trastuzumab'], LAST_DOSE)] } })
  t.equal(monthsSinceLastAntiHer2(input, addDays(LAST_DOSE, 186)), 6.1)
  t.equal(monthsSinceLastAntiHer2(input, addDays(LAST_DOSE, 366)), 12.0)
  const dated = caseOf({ history: { earlyStageTherapy: [early(['trastuzumab'], LAST_DOSE)] }, disease: { metastaticDiagnosisDate: addDays(LAST_DOSE, 30) } })
  t.equal(monthsSinceLastAntiHer2(dated, addDays(LAST_DOSE, 366)), 1.0, 'the diagnosis date wins when given')
})

t.test('monthsSinceLastAntiHer2: the latest dated anti-HER2 early-stage entry counts', async (t) => {
  const input = caseOf({
    history: {
      earlyStageTherapy: [
        early(['trastuzumab', 'pertuzumab', 'docetaxel'], '2023-06-01'),
        early(['t_dm1'], LAST_DOSE),
        early(['capecitabine'], addDays(LAST_DOSE, 150)),
        early(['neratinib'])
      ]
    },
    disease: { metastaticDiagnosisDate: addDays(LAST_DOSE, 183) }
  })
  t.equal(monthsSinceLastAntiHer2(input, EVALUATION_DATE), 6.0, 'a later non-HER2 entry and an undated entry are ignored')
})

t.test('monthsSinceLastAntiHer2: null without a dated anti-HER2 early-stage entry', async (t) => {
  const rows: Array<[string, History | undefined]> = [
    ['no history', undefined],
    ['no early-stage therapy', { metastaticLines: [line(1, 'ongoing', ['trastuzumab'])] }],
    ['empty early-stage therapy', { earlyStageTherapy: [] }],
    ['anti-HER2 entry without a date', { earlyStageTherapy: [early(['trastuzumab'])] }],
    ['dated entry without an anti-HER2 agent', { earlyStageTherapy: [early(['docetaxel', 'cyclophosphamide'], LAST_DOSE)] }]
  ]
  for (const [name, history] of rows) t.equal(monthsSinceLastAntiHer2(caseOf({ history }), EVALUATION_DATE), null, name)
})

t.test('monthsSinceLastAntiHer2: negative when the relapse precedes the last dose', async (t) => {
  const input = caseOf({ history: { earlyStageTherapy: [early(['trastuzumab'], LAST_DOSE)] }, disease: { metastaticDiagnosisDate: addDays(LAST_DOSE, -185) } })
  t.equal(monthsSinceLastAntiHer2(input, EVALUATION_DATE), -6.1)
})

t.test('lastLine: the highest lineNumber, whatever the order', async (t) => {
  t.equal(lastLine([]), undefined)
  const one = line(1, 'progression', ['trastuzumab'])
  const two = line(2, 'ongoing', ['t_dxd'])
  const three = line(3, 'response', ['tucatinib'])
  t.equal(lastLine([one]), one)
  t.equal(lastLine([one, three, two]), three)
  t.equal(lastLine([three, one, two]), three)
})

t.test('treatmentDecision: start_line without a metastatic line', async (t) => {
  t.equal(treatmentDecision(undefined, undefined), 'start_line')
  t.equal(treatmentDecision(undefined, 'stable'), 'start_line')
})

t.test('treatmentDecision: each outcome with stable extracranial disease', async (t) => {
  const rows: Array<[Outcome, string, string]> = [
    ['ongoing', 'continue_line', 'continue_line'], ['response', 'continue_line', 'continue_line'],
    ['completed_planned', 'continue_line', 'continue_line'], ['progression', 'start_line', 'start_line'],
    // A toxicity stop is a switch only while the disease is recorded controlled (red-team H5).
    ['toxicity', 'toxicity_switch', 'start_line']
  ]
  for (const [outcome, stable, absent] of rows) {
    t.equal(treatmentDecision(line(1, outcome, ['trastuzumab']), 'stable'), stable, outcome)
    t.equal(treatmentDecision(line(1, outcome, ['trastuzumab']), undefined), absent, `${outcome}, status absent`)
  }
})

t.test('treatmentDecision: toxicity_switch needs controlled disease, trastuzumab itself, and no toxic HER2 antibody', async (t) => {
  const stopped = (agents: Agent[], toxicAgents?: Agent[]): Line => ({ ...line(1, 'toxicity', agents), ...(toxicAgents === undefined ? {} : { toxicAgents }) })
  const thp: Agent[] = ['docetaxel', 'trastuzumab', 'pertuzumab']
  const rows: Array<[string, Line, Status | undefined, string]> = [
    ['THP, responding', stopped(thp), 'responding', 'toxicity_switch'],
    ['THP, stable, docetaxel toxic', stopped(thp, ['docetaxel']), 'stable', 'toxicity_switch'],
    ['THP, unknown status', stopped(thp), 'unknown', 'start_line'],
    ['THP, progressing', stopped(thp), 'progressing', 'start_line'],
    ['THP, trastuzumab toxic', stopped(thp, ['trastuzumab']), 'stable', 'start_line'],
    ['THP, pertuzumab toxic', stopped(thp, ['docetaxel', 'pertuzumab']), 'stable', 'start_line'],
    // Decision D6: an ADC line (± pertuzumab) stopped for toxicity is a new line.
    ['T-DXd + pertuzumab', stopped(['t_dxd', 'pertuzumab']), 'stable', 'start_line'],
    ['T-DM1', stopped(['t_dm1']), 'responding', 'start_line'],
    ['trastuzumab + capecitabine', stopped(['trastuzumab', 'capecitabine'], ['capecitabine']), 'stable', 'toxicity_switch']
  ]
  for (const [name, last, status, expected] of rows) t.equal(treatmentDecision(last, status), expected, name)
})

t.test('currentAgents: the current line, under toxicity_switch only its HER2 antibodies', async (t) => {
  const thp = line(1, 'toxicity', ['docetaxel', 'trastuzumab', 'pertuzumab'])
  t.strictSame(currentAgents(thp, 'toxicity_switch'), ['trastuzumab', 'pertuzumab'])
  t.strictSame(currentAgents(line(1, 'ongoing', ['t_dxd', 'pertuzumab']), 'continue_line'), ['t_dxd', 'pertuzumab'])
  t.strictSame(currentAgents(undefined, 'start_line'), [])
})

t.test('treatmentDecision: extracranialStatus progressing starts a line for every outcome', async (t) => {
  for (const outcome of ['ongoing', 'response', 'completed_planned', 'progression', 'toxicity'] as Outcome[]) {
    t.equal(treatmentDecision(line(1, outcome, ['trastuzumab']), 'progressing'), 'start_line', outcome)
  }
  for (const status of ['responding', 'stable', 'unknown'] as Status[]) {
    t.equal(treatmentDecision(line(1, 'ongoing', ['trastuzumab']), status), 'continue_line', status)
  }
})

t.test('treatmentDecision: oligoprogression and cns_only continue the line; other or absent patterns do not', async (t) => {
  const rows: Array<[Outcome, Status | undefined, Pattern | undefined, string]> = [
    ['progression', undefined, 'oligoprogression', 'continue_line'],
    ['progression', undefined, 'cns_only', 'continue_line'],
    ['progression', undefined, 'extracranial', 'start_line'],
    ['progression', undefined, 'both', 'start_line'],
    ['progression', undefined, undefined, 'start_line'],
    ['ongoing', 'progressing', 'oligoprogression', 'continue_line'],
    ['response', 'progressing', 'cns_only', 'continue_line'],
    ['ongoing', 'progressing', 'extracranial', 'start_line'],
    ['ongoing', 'progressing', undefined, 'start_line'],
    ['toxicity', undefined, 'oligoprogression', 'start_line'],
    ['toxicity', 'unknown', 'cns_only', 'start_line'],
    ['toxicity', 'stable', 'cns_only', 'toxicity_switch']
  ]
  for (const [outcome, status, pattern, expected] of rows) {
    t.equal(treatmentDecision(line(1, outcome, ['trastuzumab'], pattern), status), expected, `${outcome}, ${status ?? 'status absent'}, ${pattern ?? 'pattern absent'}`)
  }
})

t.test('progressedAgents: lines ended in progression add their agents, sorted and unique', async (t) => {
  const lines = [
    line(1, 'progression', ['trastuzumab', 'pertuzumab', 'docetaxel']),
    line(2, 'progression', ['t_dxd', 'trastuzumab']),
    line(3, 'ongoing', ['tucatinib', 'capecitabine'])
  ]
  t.strictSame(progressedAgents(lines, 'stable'), ['docetaxel', 'pertuzumab', 't_dxd', 'trastuzumab'])
  t.strictSame(progressedAgents([], 'progressing'), [])
})

t.test('progressedAgents: toxicity and completed_planned lines never add', async (t) => {
  for (const outcome of ['toxicity', 'completed_planned'] as Outcome[]) {
    t.strictSame(progressedAgents([line(1, outcome, ['t_dxd'])], 'progressing'), [], `${outcome} as last line, progressing`)
    t.strictSame(progressedAgents([line(1, outcome, ['t_dxd']), line(2, 'ongoing', ['t_dm1'])], 'stable'), [], `${outcome} earlier`)
  }
})

t.test('progressedAgents: the active last line adds when extracranial disease progresses systemically', async (t) => {
  const first = line(1, 'progression', ['trastuzumab', 'pertuzumab'])
  const rows: Array<[Outcome, Status | undefined, Pattern | undefined, Agent[]]> = [
    ['ongoing', 'progressing', undefined, ['pertuzumab', 't_dxd', 'trastuzumab']],
    ['response', 'progressing', 'extracranial', ['pertuzumab', 't_dxd', 'trastuzumab']],
    ['ongoing', 'progressing', 'both', ['pertuzumab', 't_dxd', 'trastuzumab']],
    ['ongoing', 'progressing', 'oligoprogression', ['pertuzumab', 'trastuzumab']],
    ['response', 'progressing', 'cns_only', ['pertuzumab', 'trastuzumab']],
    ['ongoing', 'stable', undefined, ['pertuzumab', 'trastuzumab']],
    ['ongoing', undefined, undefined, ['pertuzumab', 'trastuzumab']],
    ['response', 'unknown', undefined, ['pertuzumab', 'trastuzumab']]
  ]
  for (const [outcome, status, pattern, expected] of rows) {
    t.strictSame(progressedAgents([first, line(2, outcome, ['t_dxd'], pattern)], status), expected,
      `${outcome}, ${status ?? 'status absent'}, ${pattern ?? 'pattern absent'}`)
  }
  t.strictSame(progressedAgents([line(2, 'ongoing', ['t_dxd']), line(1, 'ongoing', ['t_dm1'])], 'progressing'), ['t_dxd'], 'only the last line, not an earlier active one')
})

t.test('priorAgents: every agent of every history entry, unique and sorted', async (t) => {
  t.strictSame(priorAgents(undefined), [])
  t.strictSame(priorAgents({}), [])
  t.strictSame(priorAgents({
    earlyStageTherapy: [early(['trastuzumab', 'pertuzumab', 'docetaxel']), early(['t_dm1'])],
    metastaticLines: [line(1, 'progression', ['trastuzumab', 'pertuzumab', 'paclitaxel']), line(2, 'ongoing', ['t_dxd'])],
    boneModifyingAgent: { agent: 'denosumab' }
  }), ['docetaxel', 'paclitaxel', 'pertuzumab', 't_dm1', 't_dxd', 'trastuzumab'])
  t.strictSame(priorAgents({ metastaticLines: [line(1, 'ongoing', ['tucatinib', 'capecitabine'])] }), ['capecitabine', 'tucatinib'])
})
