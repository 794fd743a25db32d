import type { Case } from '../schemas/case.js'
import type { Recommendation } from '../schemas/recommendation.js'
import type { BecauseItem } from './conditions.js'
import type { FactName } from './fact-specs.js'
import { lastLine } from './history.js'

/**
 * Where each fact comes from: its name in clinical words (with its unit) and the request fields it
 * is derived from, as JSON-pointer templates (RFC 6901). A recommendation's `because` items carry
 * both (spec/api.md, Recommendation `because`, revision 8): `label`, and `inputs` resolved against
 * the case. Facts computed from other items (pass 3 and 4) read no request field and have no inputs.
 *
 * Template segments:
 * - `{spine}`: the index of the spine lesion being evaluated (`disease.spineLesions`);
 * - `{bone}`: the index of the non-spine bone lesion being evaluated (`disease.nonSpineBoneLesions`);
 * - `{lastLine}`: the index, in `history.metastaticLines`, of the line with the highest lineNumber;
 * - `*`: every index present in that array.
 * A derived fact lists the inputs of the facts it is computed from (e.g. `lineOfTherapy` those of
 * `priorHer2Lines`, `earlyRelapse` and `treatmentDecision`). A plain pointer to an array is listed
 * where the fact reads whether entries exist (e.g. "no spine lesion recorded", "no metastatic line").
 * Pure: no I/O.
 * @see spec/clinical-rules.md Part 1 "Derived facts"; src/engine/facts.ts, history.ts, spine.ts
 */

export type InputTemplate = `/${string}`
/** A because-item with its `label` and `inputs`, as responses carry it. */
export type LinedBecauseItem = Recommendation['because'][number]
export interface FactLineage {
  /** The fact in clinical words, with its unit where one applies. */
  label: string
  /** JSON-pointer templates of the request fields the fact is derived from (empty: computed from other items). */
  inputs: readonly InputTemplate[]
}

/** Concatenates template groups, dropping repeats, first occurrence first. */
const from = (...groups: ReadonlyArray<readonly InputTemplate[]>): readonly InputTemplate[] => [...new Set(groups.flat())]

// --- shared input groups (a derived fact reads the inputs of the facts it is computed from)
const METASTATIC = ['/disease/metastaticSites', '/disease/ajcc/m', '/disease/presentation'] as const
const HER2 = ['/tumor/her2Ihc', '/tumor/her2IshResult', '/tumor/her2IshRatio', '/tumor/her2IshCopyNumber'] as const
const IN_SCOPE = from(METASTATIC, HER2)
const PERFORMANCE_ECOG = ['/patient/ecogBeforeDeficit', '/patient/ecog'] as const
const COMFORT_CARE = ['/preferences/goalsOfCare', '/patient/estimatedSurvivalMonths'] as const
const CALCIUM = ['/patient/correctedCalcium/value', '/patient/correctedCalcium/unit'] as const
const LVEF_FALL = ['/patient/lvefBaselinePercent', '/patient/lvefPercent'] as const
const CNS = ['/disease/brain/present', '/disease/brain/leptomeningeal', '/disease/metastaticSites'] as const
const NEURO = ['/disease/neuro/deficit'] as const
const SPINE_BILSKY = ['/disease/spineLesions/*/bilsky'] as const
const SPINE_LEVELS_BY_BILSKY = ['/disease/spineLesions/*/bilsky', '/disease/spineLesions/*/level'] as const
const EARLY_AGENTS = ['/history/earlyStageTherapy/*/agents'] as const
const MONTHS_SINCE_ANTI_HER2 = from(EARLY_AGENTS, [
  '/history/earlyStageTherapy/*/lastDoseDate', '/disease/metastaticDiagnosisDate', '/context/evaluationDate'
])
const LINE_AGENTS = ['/history/metastaticLines/*/agents'] as const
const LAST = '/history/metastaticLines/{lastLine}'
const TREATMENT_DECISION = [
  '/history/metastaticLines', `${LAST}/outcome`, '/disease/extracranialStatus', `${LAST}/agents`,
  `${LAST}/toxicAgents`, `${LAST}/progressionPattern`
] as const
const SPINE = '/disease/spineLesions/{spine}'
const BONE = '/disease/nonSpineBoneLesions/{bone}'

export const FACT_LINEAGE = {
  // --- classification
  metastatic: { label: 'Metastatic disease (distant metastasis recorded: sites, M1 or a metastatic presentation)', inputs: METASTATIC },
  stage: { label: 'Stage (IV: metastatic)', inputs: METASTATIC },
  stageReclassified: { label: 'Presented as early or locally advanced, reclassified as stage IV', inputs: METASTATIC },
  her2Status: { label: 'HER2 status (ASCO/CAP 2018, from IHC and ISH)', inputs: HER2 },
  her2Ihc: { label: 'HER2 immunohistochemistry score', inputs: ['/tumor/her2Ihc'] },
  her2Source: { label: 'Sample of the HER2 result (primary or metastasis)', inputs: ['/tumor/her2Source'] },
  erStatus: { label: 'Oestrogen-receptor status (negative < 1 %, low 1–10 %, positive > 10 % of cells)', inputs: ['/tumor/erPercent'] },
  receptorDiscordance: { label: 'Receptor discordance between primary and metastasis', inputs: ['/tumor/receptorDiscordance'] },
  inScope: { label: 'In scope (metastatic, HER2 positive or equivocal)', inputs: IN_SCOPE },
  jurisdiction: { label: 'Jurisdiction of treatment (drug approval)', inputs: ['/context/jurisdiction'] },
  presentation: { label: 'Presentation of the disease', inputs: ['/disease/presentation'] },
  metastaticSites: { label: 'Sites of distant metastasis', inputs: ['/disease/metastaticSites'] },
  // --- patient
  sex: { label: 'Sex', inputs: ['/patient/sex'] },
  ageYears: { label: 'Age (years)', inputs: ['/patient/ageYears'] },
  ecog: { label: 'ECOG performance status now (0–4)', inputs: ['/patient/ecog'] },
  performanceEcog: { label: 'ECOG performance status (0–4), before the neurological deficit when recorded', inputs: PERFORMANCE_ECOG },
  menopausalStatus: { label: 'Menopausal status', inputs: ['/patient/menopausalStatus'] },
  pregnant: { label: 'Pregnant', inputs: ['/patient/pregnant'] },
  gestationalWeeks: { label: 'Gestational age (completed weeks)', inputs: ['/patient/gestationalWeeks'] },
  surgicalCandidate: { label: 'Medically fit for spine surgery', inputs: ['/patient/surgicalCandidate'] },
  estimatedSurvivalMonths: { label: 'Estimated survival (months)', inputs: ['/patient/estimatedSurvivalMonths'] },
  lvefPercent: { label: 'LVEF (%)', inputs: ['/patient/lvefPercent'] },
  lvefBaselinePercent: { label: 'LVEF before anti-HER2 therapy (%)', inputs: ['/patient/lvefBaselinePercent'] },
  lvefFallPoints: { label: 'LVEF fall from baseline (percentage points)', inputs: LVEF_FALL },
  heartFailureSymptoms: { label: 'Heart-failure symptoms (NYHA class)', inputs: ['/patient/heartFailureSymptoms'] },
  ildHistory: { label: 'History of interstitial lung disease or pneumonitis', inputs: ['/patient/ildHistory'] },
  maxIldGrade: { label: 'Worst interstitial lung disease grade on a metastatic line (CTCAE 0–5)', inputs: ['/history/metastaticLines/*/maxIldGrade'] },
  creatinineClearanceMlMin: { label: 'Creatinine clearance (mL/min, Cockcroft–Gault)', inputs: ['/patient/creatinineClearanceMlMin'] },
  hypercalcaemia: { label: 'Hypercalcaemia (corrected calcium > 10.5 mg/dL or > 2.62 mmol/L)', inputs: CALCIUM },
  hypercalcaemiaSeverity: { label: 'Hypercalcaemia severity (mild; moderate ≥ 12 mg/dL or ≥ 3.0 mmol/L; severe ≥ 14 mg/dL or ≥ 3.5 mmol/L)', inputs: CALCIUM },
  hypocalcaemia: { label: 'Hypocalcaemia (corrected calcium < 8.5 mg/dL or < 2.12 mmol/L)', inputs: CALCIUM },
  hypercalcaemiaSymptoms: { label: 'Symptoms attributed to hypercalcaemia', inputs: ['/patient/hypercalcaemiaSymptoms'] },
  vitaminD25OHNgMl: { label: 'Serum 25-hydroxy vitamin D (ng/mL)', inputs: ['/patient/vitaminD25OHNgMl'] },
  dentalStatus: { label: 'Dental status before bone-modifying agents', inputs: ['/patient/dentalStatus'] },
  dpydStatus: { label: 'DPYD metaboliser status (not recorded: not tested)', inputs: ['/patient/dpydStatus'] },
  intensiveTherapyAppropriate: { label: 'Intensive treatment appropriate (ECOG ≤ 2, no comfort-focused care, estimated survival not < 3 months)', inputs: from(PERFORMANCE_ECOG, COMFORT_CARE) },
  comfortCare: { label: 'Comfort-focused care (goals of care, or estimated survival < 3 months)', inputs: COMFORT_CARE },
  declinesChemotherapy: { label: 'Declines chemotherapy', inputs: ['/preferences/declinesChemotherapy'] },
  goalsOfCare: { label: 'Goals of care', inputs: ['/preferences/goalsOfCare'] },
  asksAboutPrimarySurgery: { label: 'Asks about surgery of the primary', inputs: ['/preferences/asksAboutPrimarySurgery'] },
  // --- disease
  visceralCrisis: { label: 'Visceral crisis', inputs: ['/disease/visceralCrisis'] },
  brainSymptoms: { label: 'New neurological symptoms (headache, seizure, focal deficit, cognitive change)', inputs: ['/disease/brainSymptoms'] },
  extracranialStatus: { label: 'Extracranial disease on the current line', inputs: ['/disease/extracranialStatus'] },
  primaryIntact: { label: 'Breast primary in place', inputs: ['/disease/primaryIntact'] },
  primarySymptomatic: { label: 'Symptomatic intact primary', inputs: ['/disease/primarySymptoms'] },
  totalMetastaticLesions: { label: 'Metastatic lesions (count)', inputs: ['/disease/totalMetastaticLesions'] },
  oligometastatic: { label: 'Oligometastatic (1–5 lesions, no CNS disease)', inputs: from(['/disease/totalMetastaticLesions'], CNS) },
  // --- spine
  neuroDeficitSign: { label: 'Worst neurological sign from the spine', inputs: NEURO },
  neuroDeficit: { label: 'Neurological deficit (motor weakness, sensory level, sphincter dysfunction or paraplegia)', inputs: NEURO },
  suspectedMscc: { label: 'Suspected spinal cord compression (neurological sign with a spine lesion Bilsky ≥ 1c or ungraded, or none recorded)', inputs: from(NEURO, ['/disease/spineLesions'], SPINE_BILSKY) },
  deficitLevels: { label: 'Spine levels that may explain the neurological sign (Bilsky ≥ 1c or ungraded)', inputs: from(NEURO, SPINE_LEVELS_BY_BILSKY) },
  spinalCordCompression: { label: 'Spinal cord compression', inputs: from(NEURO, ['/disease/spineLesions'], SPINE_BILSKY) },
  spinalInstability: { label: 'Spinal instability (worst SINS category: stable 0–6, potentially unstable 7–12, unstable 13–18)', inputs: ['/disease/spineLesions', '/disease/spineLesions/*/sinsTotal', '/disease/spineLesions/*/sinsComponents'] },
  mesccSurgical: {
    label: 'Candidate for decompressive surgery for cord compression',
    inputs: from(NEURO, ['/disease/neuro/paraplegiaDurationHours'], SPINE_LEVELS_BY_BILSKY, ['/patient/surgicalCandidate', '/patient/estimatedSurvivalMonths'], PERFORMANCE_ECOG)
  },
  highGradeCompressionLevels: { label: 'Spine levels with high-grade cord compression (Bilsky 2 or 3)', inputs: SPINE_LEVELS_BY_BILSKY },
  highGradeCompressionPriorRt: { label: 'A level with high-grade cord compression (Bilsky 2 or 3) was irradiated before', inputs: ['/disease/spineLesions/*/bilsky', '/disease/spineLesions/*/priorRt'] },
  spineLesionCount: { label: 'Spine lesions recorded (count)', inputs: ['/disease/spineLesions'] },
  painfulSpineLesion: { label: 'Painful spine lesion (pain NRS ≥ 1)', inputs: ['/disease/spineLesions/*/painNrs'] },
  // --- brain
  brainPresent: { label: 'Brain metastases present', inputs: ['/disease/brain/present'] },
  brainCount: { label: 'Brain metastases (count)', inputs: ['/disease/brain/count'] },
  brainMaxDiameterCm: { label: 'Largest brain metastasis (cm)', inputs: ['/disease/brain/maxDiameterCm'] },
  brainSymptomatic: { label: 'Symptomatic brain metastases', inputs: ['/disease/brain/symptomatic'] },
  brainMassEffect: { label: 'Mass effect of brain metastases', inputs: ['/disease/brain/massEffect'] },
  brainStatus: { label: 'Status of the brain metastases after local therapy', inputs: ['/disease/brain/status'] },
  brainPriorRtTechnique: { label: 'Technique of the latest brain radiotherapy', inputs: ['/disease/brain/priorRt/technique'] },
  leptomeningeal: { label: 'Leptomeningeal disease', inputs: ['/disease/brain/leptomeningeal', '/disease/metastaticSites'] },
  cnsMetastases: { label: 'CNS metastases (brain or leptomeningeal)', inputs: CNS },
  // --- history
  monthsSinceLastAntiHer2: { label: 'Months from the last (neo)adjuvant anti-HER2 dose to metastatic diagnosis', inputs: MONTHS_SINCE_ANTI_HER2 },
  earlyRelapse: { label: 'Relapse within 12 months of (neo)adjuvant anti-HER2 therapy', inputs: MONTHS_SINCE_ANTI_HER2 },
  earlyStageAgents: { label: 'Agents of (neo)adjuvant therapy', inputs: EARLY_AGENTS },
  earlyStageAntiHer2: { label: '(Neo)adjuvant anti-HER2 therapy given', inputs: EARLY_AGENTS },
  earlyStageHer2AntibodyAdc: { label: '(Neo)adjuvant HER2 antibody or antibody–drug conjugate given', inputs: EARLY_AGENTS },
  metastaticLineCount: { label: 'Metastatic lines recorded (count)', inputs: ['/history/metastaticLines'] },
  priorHer2Lines: { label: 'Metastatic lines with anti-HER2 therapy (count)', inputs: LINE_AGENTS },
  lastLineNumber: { label: 'Number of the last metastatic line', inputs: [`${LAST}/lineNumber`] },
  lastLineAgents: { label: 'Agents of the last metastatic line', inputs: [`${LAST}/agents`] },
  lastLineOutcome: { label: 'Outcome of the last metastatic line', inputs: [`${LAST}/outcome`] },
  lastLineProgressionPattern: { label: 'Progression pattern on the last metastatic line', inputs: [`${LAST}/progressionPattern`] },
  lastLineHasHer2AntibodyAdc: { label: 'Last metastatic line with a HER2 antibody or antibody–drug conjugate', inputs: [`${LAST}/agents`] },
  lastLineToxicAgents: { label: 'Agents of the last metastatic line stopped for toxicity', inputs: [`${LAST}/toxicAgents`] },
  lastLineToxicAgentsRecorded: { label: 'Agents stopped for toxicity recorded on the last metastatic line', inputs: [`${LAST}/toxicAgents`] },
  lastLineDurationDays: { label: 'Duration of the last metastatic line (days)', inputs: [`${LAST}/startDate`, `${LAST}/endDate`] },
  treatmentDecision: { label: 'Treatment decision (start a new line, continue the current line, or switch partner after toxicity)', inputs: TREATMENT_DECISION },
  lineOfTherapy: { label: 'Line of HER2-directed therapy for metastatic disease', inputs: from(LINE_AGENTS, MONTHS_SINCE_ANTI_HER2, TREATMENT_DECISION) },
  priorAgents: { label: 'Agents given before (any setting)', inputs: from(EARLY_AGENTS, LINE_AGENTS) },
  currentLineNumber: { label: 'Number of the current metastatic line', inputs: from(TREATMENT_DECISION, [`${LAST}/lineNumber`]) },
  currentLineAgents: { label: 'Agents of the current metastatic line as recorded', inputs: TREATMENT_DECISION },
  currentAgents: { label: 'Agents given now', inputs: TREATMENT_DECISION },
  progressedAgents: {
    label: 'Agents the disease progressed on',
    inputs: from(['/history/metastaticLines/*/outcome'], LINE_AGENTS, [`${LAST}/outcome`, `${LAST}/progressionPattern`, '/disease/extracranialStatus'])
  },
  her2TherapyPlanned: { label: 'HER2-directed therapy planned (in scope, HER2 positive, not pregnant, new line or current anti-HER2 line)', inputs: from(IN_SCOPE, ['/patient/pregnant'], TREATMENT_DECISION) },
  onBma: { label: 'On a bone-modifying agent', inputs: ['/history/boneModifyingAgent/agent'] },
  bmaAgent: { label: 'Bone-modifying agent given', inputs: ['/history/boneModifyingAgent/agent'] },
  bmaComplications: { label: 'Complications of the bone-modifying agent', inputs: ['/history/boneModifyingAgent/complications'] },
  // --- pass 3: what passes 1–2 decided
  firedCodes: { label: 'Codes of the items already emitted', inputs: [] },
  forbiddenOptions: { label: 'Options a safety item forbids', inputs: [] },
  her2TherapyForbidden: { label: 'HER2 antibodies and antibody–drug conjugates forbidden', inputs: [] },
  // --- pass 4: the filtered output of pass 3
  offeredOptions: { label: 'Options offered', inputs: [] },
  offeredSystemicOption: { label: 'A systemic option offered', inputs: [] },
  offeredCompositionOption: { label: 'A systemic drug option offered (an option of the composition table; a clinical trial alone does not count)', inputs: [] },
  offeredHer2Option: { label: 'An anti-HER2 option offered', inputs: [] },
  offeredHer2AntibodyAdcOption: { label: 'A HER2 antibody or antibody–drug conjugate option offered', inputs: [] },
  offeredTdxdOption: { label: 'A T-DXd option offered', inputs: [] },
  offeredCapecitabineOption: { label: 'A capecitabine option offered', inputs: [] },
  offeredTdm1OrTkiOption: { label: 'A T-DM1 or HER2 tyrosine-kinase inhibitor option offered', inputs: [] },
  offeredCnsActiveOption: { label: 'A CNS-active HER2 option offered (tucatinib–trastuzumab–capecitabine or T-DXd)', inputs: [] },
  // --- spine lesion scope
  lesionLevel: { label: 'Vertebral level of the lesion', inputs: [`${SPINE}/level`] },
  lesionSins: { label: 'SINS of the lesion (0–18)', inputs: [`${SPINE}/sinsTotal`, `${SPINE}/sinsComponents`] },
  lesionBilsky: { label: 'Bilsky grade of the lesion', inputs: [`${SPINE}/bilsky`] },
  lesionBilskyRank: { label: 'Bilsky grade (rank: 0 = 0, 1 = 1a, 2 = 1b, 3 = 1c, 4 = 2, 5 = 3)', inputs: [`${SPINE}/bilsky`] },
  lesionPainNrs: { label: 'Pain at the lesion (NRS 0–10)', inputs: [`${SPINE}/painNrs`] },
  lesionPainType: { label: 'Type of pain at the lesion', inputs: [`${SPINE}/painType`] },
  lesionPathologicFracture: { label: 'Pathological vertebral fracture', inputs: [`${SPINE}/pathologicFracture`] },
  lesionContiguousLevels: { label: 'Contiguous vertebral levels of the lesion (count)', inputs: [`${SPINE}/contiguousLevels`] },
  lesionPriorRt: { label: 'Radiotherapy already given to the lesion', inputs: [`${SPINE}/priorRt`] },
  lesionSurgeryType: { label: 'Spinal surgery already done at the level', inputs: [`${SPINE}/surgery/type`] },
  lesionRtAfterSurgery: { label: 'Radiotherapy dated after the spinal surgery', inputs: [`${SPINE}/priorRt/date`, `${SPINE}/surgery/date`] },
  lesionSpinalRtOption: { label: 'Radiotherapy option for the level (re-irradiation after prior radiotherapy)', inputs: [`${SPINE}/priorRt`] },
  lesionPostopRtOption: { label: 'Postoperative radiotherapy option for the level (re-irradiation after radiotherapy not dated after surgery)', inputs: [`${SPINE}/priorRt`, `${SPINE}/priorRt/date`, `${SPINE}/surgery/date`] },
  lesionRtSurgeryUndated: { label: 'Prior radiotherapy and surgery at the level, one of them undated', inputs: [`${SPINE}/priorRt`, `${SPINE}/surgery`, `${SPINE}/priorRt/date`, `${SPINE}/surgery/date`] },
  lesionDeficit: { label: 'Lesion that may explain the neurological deficit', inputs: [...NEURO, `${SPINE}/bilsky`] },
  // --- non-spine bone lesion scope
  boneSite: { label: 'Skeletal site of the lesion', inputs: [`${BONE}/site`] },
  bonePainNrs: { label: 'Pain at the lesion (NRS 0–10)', inputs: [`${BONE}/painNrs`] },
  boneMirelsScore: { label: 'Mirels score of the lesion (4–12)', inputs: [`${BONE}/mirelsScore`] },
  bonePathologicFracture: { label: 'Pathological fracture at the lesion', inputs: [`${BONE}/pathologicFracture`] },
  bonePriorRt: { label: 'Radiotherapy already given to the lesion', inputs: [`${BONE}/priorRt`] }
} as const satisfies Record<FactName, FactLineage>

/** The index of each placeholder segment, or undefined when the context cannot give it. */
function placeholderIndex (segment: string, context: LineageContext): number | undefined {
  if (segment === '{spine}') return context.spineLesionIndex
  if (segment === '{bone}') return context.boneLesionIndex
  // Many templates name the last line: its index is looked up once per context.
  if (context.lastLineIndex === undefined) {
    const lines = context.input.history?.metastaticLines ?? []
    const last = lastLine(lines)
    context.lastLineIndex = last === undefined ? -1 : lines.indexOf(last)
  }
  return context.lastLineIndex
}

const isPlaceholder = (segment: string): boolean => segment === '{spine}' || segment === '{bone}' || segment === '{lastLine}'

/** A template's segments, split once per template (the catalogue has a fixed set of them). */
const segmentsOf = new Map<string, readonly string[]>()
function templateSegments (template: string): readonly string[] {
  let segments = segmentsOf.get(template)
  if (segments === undefined) segmentsOf.set(template, segments = template.split('/').slice(1))
  return segments
}

/**
 * Walks the template segment by segment through the case, appending each pointer it resolves to:
 * `*` branches over the array entries present, a placeholder takes its index (nothing when
 * unresolved or not an entry of the array), a plain segment is kept whether or not the field exists.
 */
function expandInto (segments: readonly string[], at: number, node: unknown, prefix: string, context: LineageContext, into: string[]): void {
  if (at === segments.length) {
    // Duplicates dropped, the first kept: a fact lists a few pointers, so a scan beats a Set.
    if (!into.includes(prefix)) into.push(prefix)
    return
  }
  const segment = segments[at] as string
  if (segment === '*' || isPlaceholder(segment)) {
    if (!Array.isArray(node)) return
    if (segment === '*') {
      for (let i = 0; i < node.length; i++) expandInto(segments, at + 1, node[i], `${prefix}/${i}`, context, into)
      return
    }
    const i = placeholderIndex(segment, context)
    if (i !== undefined && i >= 0 && i < node.length) expandInto(segments, at + 1, node[i], `${prefix}/${i}`, context, into)
    return
  }
  expandInto(segments, at + 1, (node as Record<string, unknown> | null | undefined)?.[segment], `${prefix}/${segment}`, context, into)
}

/**
 * The JSON pointers the templates resolve to in this case: placeholders substituted, `*` expanded
 * to every index present; a template over an absent array or an unresolved placeholder yields
 * nothing. Duplicates removed, order kept.
 */
export function resolveInputs (templates: readonly string[], context: LineageContext): string[] {
  const pointers: string[] = []
  for (const template of templates) expandInto(templateSegments(template), 0, context.input, '', context, pointers)
  return pointers
}

type Lineage = Readonly<{ label: string, inputs?: readonly string[] }>

export interface LineageContext {
  input: Case
  /** The index of the spine lesion being evaluated (spine-lesion rules). */
  spineLesionIndex?: number
  /** The index of the non-spine bone lesion being evaluated (bone-lesion rules). */
  boneLesionIndex?: number
  /** The index of the last metastatic line (-1: none), once looked up. */
  lastLineIndex?: number
}

/** The lineage contexts of one evaluation: the case's, and each lesion's. */
export interface EvaluationLineages { case: LineageContext, spine_lesion: LineageContext[], bone_lesion: LineageContext[] }

export function evaluationLineages (input: Case, spineLesions: number, boneLesions: number): EvaluationLineages {
  return {
    case: { input },
    spine_lesion: Array.from({ length: spineLesions }, (_, spineLesionIndex) => ({ input, spineLesionIndex })),
    bone_lesion: Array.from({ length: boneLesions }, (_, boneLesionIndex) => ({ input, boneLesionIndex }))
  }
}

/** The template names an array index: `*` or a placeholder (so it resolves differently from case to case). */
const readsIndex = (template: string): boolean => templateSegments(template).some((segment) => segment === '*' || isPlaceholder(segment))
const lineageOfInputs = (label: string, inputs: readonly string[]): Lineage => (inputs.length === 0 ? { label } : { label, inputs })

/**
 * A template's variable segment (`*` or a placeholder) and the path of the array it indexes. Only
 * plain segments follow it, and a plain segment is kept whether or not the field exists, so what
 * the template resolves to depends only on that array's length (`*`) or on the entry it names.
 */
export interface VariableSegment { arrayPath: readonly string[], segment: string }

export function variableSegment (template: string): VariableSegment {
  const segments = templateSegments(template)
  const at = segments.findIndex((segment) => segment === '*' || isPlaceholder(segment))
  // A second one would make the resolution depend on the entries' own arrays: the key below would not hold.
  if (segments.slice(at + 1).some((segment) => segment === '*' || isPlaceholder(segment))) throw new Error(`Two array indices in one input template: ${template}`)
  return { arrayPath: segments.slice(0, at), segment: segments[at] as string }
}

/**
 * What each fact's lineage needs, found with one lookup per because item:
 * - `constant`: a fact whose templates name no array index resolves to the templates themselves in
 *   every case, so it is built once and shared by every response (frozen: the response writer then
 *   writes its JSON once);
 * - otherwise its variable segments: the lineage is the same for every case of the same shape (the
 *   lengths of those arrays, the entries the placeholders name), so it is resolved once per shape and
 *   shared in the same way.
 */
type FactEntry = { constant: Lineage } | { constant?: undefined, label: string, inputs: readonly InputTemplate[], variables: readonly VariableSegment[] }
const FACT_ENTRIES = new Map<string, FactEntry>(Object.entries(FACT_LINEAGE as Record<string, FactLineage>).map(([fact, { label, inputs }]) => [
  fact,
  inputs.some(readsIndex)
    ? { label, inputs, variables: inputs.filter(readsIndex).map(variableSegment) }
    : { constant: Object.freeze(lineageOfInputs(label, Object.freeze([...inputs]))) }
]))

/** What decides what the fact's templates resolve to: for `*` the array's length (-1: no array), for a placeholder the entry it names. */
function shapeKey (fact: string, variables: readonly VariableSegment[], context: LineageContext): string {
  let key = fact
  for (const { arrayPath, segment } of variables) {
    let node: unknown = context.input
    for (const name of arrayPath) node = (node as Record<string, unknown> | null | undefined)?.[name]
    const length = Array.isArray(node) ? node.length : -1
    if (segment === '*') {
      key += `|${length}`
    } else {
      // A placeholder names one entry, or nothing when it is unresolved or not an entry of the array.
      const index = placeholderIndex(segment, context) ?? -1
      key += `|@${index >= 0 && index < length ? index : -1}`
    }
  }
  return key
}

// Keys are facts with array lengths and indices, never case values. Bounded (the case schema allows
// at most 40 lesions of each kind, 20 regimens and 30 lines, but a bound should not rest on that).
const SHAPED_MAX = 4096
const shaped = new Map<string, Lineage>()

/** The `label` and `inputs` of a because item for this fact (no `inputs` key when there are none). */
export function lineageOf (fact: FactName, context: LineageContext): Lineage {
  const entry = FACT_ENTRIES.get(fact) as FactEntry
  if (entry.constant !== undefined) return entry.constant
  const key = shapeKey(fact, entry.variables, context)
  let result = shaped.get(key)
  if (result === undefined) {
    result = Object.freeze(lineageOfInputs(entry.label, Object.freeze(resolveInputs(entry.inputs, context))))
    if (shaped.size < SHAPED_MAX) shaped.set(key, result)
  }
  return result
}

/** A because-item (or an explanation's `failed`) in clinical words, with the request fields its fact came from. */
export function withLineage (items: readonly BecauseItem[], context: LineageContext): LinedBecauseItem[] {
  return items.map((item) => {
    const { label, inputs } = lineageOf(item.fact as FactName, context)
    // Written out rather than spread: spreading the frozen lineage was most of an evaluation's time.
    const lined: LinedBecauseItem = { fact: item.fact, label, operator: item.operator }
    if ('value' in item) lined.value = item.value
    if ('actual' in item) lined.actual = item.actual
    // Shared by every response with the same lineage, frozen.
    if (inputs !== undefined) lined.inputs = inputs as string[]
    return lined
  })
}
