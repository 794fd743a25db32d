import type { Case } from '../src/schemas/case.js'
import { SPINE_LEVELS } from '../src/schemas/common.js'

/**
 * A deterministic mix of realistic cases for the benchmark: 1–6 spine lesions (some with non-spine
 * lesions), 0–3 prior metastatic lines, varied HER2/ER, neurology, organ function and history.
 * About 2 KB each, like the EHR payloads the service receives.
 */

const AGENT_LINES: Array<Case['history'] extends infer H ? H extends { metastaticLines?: infer L } ? NonNullable<L> : never : never> = [
  [],
  [{ lineNumber: 1, agents: ['docetaxel', 'trastuzumab', 'pertuzumab'], startDate: '2024-02-01', endDate: '2025-09-01', outcome: 'progression', progressionPattern: 'extracranial' }],
  [
    { lineNumber: 1, agents: ['paclitaxel', 'trastuzumab', 'pertuzumab'], startDate: '2023-01-10', endDate: '2024-06-01', outcome: 'progression', progressionPattern: 'extracranial' },
    { lineNumber: 2, agents: ['t_dxd'], startDate: '2024-06-15', outcome: 'ongoing' }
  ],
  [
    { lineNumber: 1, agents: ['docetaxel', 'trastuzumab', 'pertuzumab'], startDate: '2022-03-01', endDate: '2023-05-01', outcome: 'progression' },
    { lineNumber: 2, agents: ['t_dxd'], startDate: '2023-05-20', endDate: '2024-11-01', outcome: 'progression', maxIldGrade: 1 },
    { lineNumber: 3, agents: ['tucatinib', 'trastuzumab', 'capecitabine'], startDate: '2024-11-20', endDate: '2025-10-01', outcome: 'progression' }
  ]
]

export function benchCase (index: number): Case {
  const lesionCount = 1 + (index % 6)
  const lines = AGENT_LINES[index % AGENT_LINES.length] as typeof AGENT_LINES[number]
  const bilsky = ['0', '1a', '1b', '1c', '2', '0'] as const
  const spineLesions = Array.from({ length: lesionCount }, (_, i) => ({
    level: SPINE_LEVELS[(index * 3 + i * 4) % SPINE_LEVELS.length] as Case['disease']['spineLesions'] extends Array<infer L> | undefined ? L extends { level: infer V } ? V : never : never,
    contiguousLevels: 1 + (i % 2),
    sinsTotal: (index + i * 5) % 16,
    bilsky: bilsky[(index + i) % bilsky.length],
    painNrs: (index + i) % 8,
    painType: (i % 3 === 0 ? 'mechanical' : 'nonmechanical') as 'mechanical' | 'nonmechanical',
    pathologicFracture: (index + i) % 5 === 0,
    ...(i === 2 ? { priorRt: { doseGy: 8, fractions: 1, technique: 'conventional' as const, date: '2025-01-10' } } : {})
  }))
  return {
    caseId: `bench-${index}`,
    context: { evaluationDate: '2026-03-01', jurisdiction: (['US', 'EU', 'UK', 'other'] as const)[index % 4] },
    patient: {
      ageYears: 38 + (index * 7) % 45,
      sex: 'female',
      ecog: index % 4 === 3 ? 2 : index % 2,
      menopausalStatus: index % 3 === 0 ? 'premenopausal' : 'postmenopausal',
      pregnant: false,
      surgicalCandidate: index % 5 !== 0,
      estimatedSurvivalMonths: 6 + (index % 30),
      lvefPercent: 45 + (index * 3) % 20,
      lvefBaselinePercent: 62,
      heartFailureSymptoms: 'none',
      ildHistory: index % 9 === 4 ? 'ild_steroid_requiring' : 'none',
      creatinineClearanceMlMin: 25 + (index * 11) % 80,
      correctedCalcium: { value: 2.3, unit: 'mmol/L' },
      vitaminD25OHNgMl: 14 + index % 30,
      dentalStatus: (['cleared', 'not_assessed', 'invasive_procedure_needed'] as const)[index % 3],
      dpydStatus: index % 2 === 0 ? 'normal' : 'not_tested'
    },
    tumor: { her2Ihc: index % 7 === 6 ? '2+' : '3+', ...(index % 7 === 6 ? { her2IshResult: 'amplified' as const } : {}), her2Source: 'primary', erPercent: (index * 13) % 100, prPercent: 10 },
    disease: {
      presentation: lines.length === 0 && index % 2 === 0 ? 'de_novo_metastatic' : 'recurrent_metastatic',
      metastaticSites: index % 4 === 0 ? ['bone', 'liver'] : index % 4 === 1 ? ['bone', 'brain'] : ['bone'],
      metastaticDiagnosisDate: lines.length === 0 ? '2026-02-01' : '2022-01-15',
      totalMetastaticLesions: lesionCount + (index % 3),
      visceralCrisis: false,
      brainSymptoms: index % 4 === 1,
      extracranialStatus: lines.length === 0 ? 'unknown' : 'progressing',
      primaryIntact: lines.length === 0,
      neuro: { deficit: index % 6 === 5 ? 'motor_weakness' : 'none', ambulatory: 'independent' },
      spineLesions,
      ...(index % 3 === 0 ? { nonSpineBoneLesions: [{ site: 'pelvis' as const, painNrs: 4 }, { site: 'femur' as const, mirelsScore: 8 + index % 3 }] } : {}),
      ...(index % 4 === 1 ? { brain: { present: true, count: 2 + index % 4, maxDiameterCm: 1.5, symptomatic: false, massEffect: false, status: 'untreated' as const } } : { brain: { present: false } })
    },
    history: {
      earlyStageTherapy: index % 2 === 0 ? [{ setting: 'adjuvant', agents: ['docetaxel', 'carboplatin', 'trastuzumab'], lastDoseDate: '2021-05-01' }] : [],
      metastaticLines: lines,
      boneModifyingAgent: index % 3 === 1 ? { agent: 'denosumab', startDate: '2025-01-01', intervalWeeks: 4 } : { agent: 'none' }
    }
  } as Case
}

/** A case with n spine lesions (n may exceed 6) for the lesion-scaling measurement. */
export function caseWithLesions (n: number): Case {
  const base = benchCase(5)
  const lesions = Array.from({ length: n }, (_, i) => ({ ...(base.disease.spineLesions?.[i % 6] as object), level: SPINE_LEVELS[i % SPINE_LEVELS.length] }))
  return { ...base, disease: { ...base.disease, spineLesions: lesions as NonNullable<Case['disease']['spineLesions']> } }
}
