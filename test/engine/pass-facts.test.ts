import t from 'tap'
import { FACT_NAMES, factSpec, newFactFrame, writeFacts, type FactName } from '../../src/engine/fact-specs.js'
import type { Fired } from '../../src/engine/fired.js'
import { HER2_STATUS_FILTER } from '../../src/engine/filters.js'
import { SYSTEMIC_OPTIONS } from '../../src/engine/options.js'
import { COMPOSITION_OPTIONS, pass3Facts, pass4Facts } from '../../src/engine/pass-facts.js'
import { SYSTEMIC_OPTION_IDS, type OptionId } from '../../src/schemas/common.js'
import { item, option } from '../fixtures/factories.js'

// src/engine/pass-facts.ts: the pass-3 and pass-4 facts as pure functions whose records cover every
// pass-3 / pass-4 fact of the catalogue (code review 8e3dcfc §5).

const catalogueNames = (pass: 3 | 4): string[] => FACT_NAMES.filter((name) => (factSpec(name) as { pass?: number }).pass === pass).sort()

t.test('the records cover exactly the catalogue\'s pass-3 and pass-4 facts', async (t) => {
  t.strictSame(Object.keys(pass3Facts([], [])).sort(), catalogueNames(3))
  t.strictSame(Object.keys(pass4Facts([])).sort(), [...catalogueNames(4), 'firedCodes'].sort())
})

t.test('(r6) a systemic option is an option of the option-composition table or clinical_trial', async (t) => {
  t.strictSame([...SYSTEMIC_OPTIONS].sort(), [...COMPOSITION_OPTIONS, 'clinical_trial'].sort())
  t.strictSame([...SYSTEMIC_OPTIONS].sort(), [...SYSTEMIC_OPTION_IDS].sort())
  t.notOk(COMPOSITION_OPTIONS.has('clinical_trial'))
  t.equal(COMPOSITION_OPTIONS.size, 20)
})

t.test('pass3Facts: codes of passes 1–2, every forbidden option, HER2 therapy forbidden', async (t) => {
  const early = [{ item: item({ code: 'CLS-02' }) }, { item: item({ code: 'CI-04', options: [option('tdxd')], strength: 'avoid' }) }] as Fired[]
  const ci04 = { code: 'CI-04', forbids: ['tdxd', 'tdxd_pertuzumab'] as OptionId[], doesNotFilter: [] }
  t.strictSame(pass3Facts(early, [ci04]), { firedCodes: ['CLS-02', 'CI-04'], forbiddenOptions: ['tdxd', 'tdxd_pertuzumab'], her2TherapyForbidden: false })
  const withHer2 = pass3Facts(early, [ci04, HER2_STATUS_FILTER])
  t.equal(withHer2.her2TherapyForbidden, true)
  t.ok((withHer2.forbiddenOptions as string[]).includes('clinical_trial'), 'the HER2-status filter forbids clinical_trial (r6)')
  t.equal((withHer2.forbiddenOptions as string[]).filter((id) => id === 'tdxd').length, 1, 'each option once')
})

t.test('pass4Facts: offered options only (avoid entries are not offered)', async (t) => {
  const facts = pass4Facts([
    item({ code: 'SYS-12', options: [option('tucatinib_trastuzumab_capecitabine'), option('tdxd', 'avoid'), option('tdm1', 'consider')] }),
    item({ code: 'CI-04', options: [option('tdxd'), option('tdxd_pertuzumab')], strength: 'avoid' })
  ])
  t.strictSame(facts, {
    firedCodes: ['SYS-12', 'CI-04'],
    offeredOptions: ['tucatinib_trastuzumab_capecitabine', 'tdm1'],
    offeredSystemicOption: true,
    offeredCompositionOption: true,
    offeredHer2Option: true,
    offeredHer2AntibodyAdcOption: true,
    offeredTdxdOption: false,
    offeredCapecitabineOption: true,
    offeredTdm1OrTkiOption: true,
    offeredCnsActiveOption: true
  })
})

t.test('pass4Facts: clinical_trial alone is a systemic option, not a composition option (CI-05b)', async (t) => {
  t.match(pass4Facts([item({ code: 'OLI-01', options: [option('clinical_trial')] })]), { offeredSystemicOption: true, offeredCompositionOption: false, offeredHer2Option: false })
  t.match(pass4Facts([item({ code: 'SYS-13', options: [option('endocrine_therapy', 'consider')] })]), { offeredSystemicOption: true, offeredCompositionOption: true, offeredHer2Option: false })
  t.match(pass4Facts([item({ code: 'FU-07', options: [option('palliative_care')] })]), { offeredSystemicOption: false, offeredCompositionOption: false })
  t.match(pass4Facts([]), { offeredOptions: [], offeredSystemicOption: false })
})

t.test('writeFacts: typed by the catalogue (a misspelt name does not compile), values land in their slots', async (t) => {
  const frame = newFactFrame()
  writeFacts(frame, pass4Facts([item({ code: 'SYS-09', options: [option('tdxd')] })]))
  t.equal(frame[FACT_NAMES.indexOf('offeredTdxdOption' satisfies FactName)], true)
  // @ts-expect-error a fact outside the catalogue is a compile error (it used to land on frame[undefined])
  writeFacts(newFactFrame(), { offeredTdxdOptions: true })
})
