/**
 * The drug table of spec/ehr-integration.md §6.6: per Agent of api.md (`AGENTS`, src/schemas/common.ts)
 * and per bone-modifying agent, the names, the brands and the RxNorm codes that map to it. Data only:
 * the matching rules live in src/fhir/sections/medications.ts. Bump `version` with every change (a
 * correction of an [U] code is a one-line change here, with a test).
 *
 * Names and brands are matched in lower case against the drug's text, longest first (§6.6 rule 2).
 * Every RxNorm code is [U] (§6.6: "no RxNorm release is reachable here") and names its source; products
 * arrive as SCD/SBD/"Pill"/"Product" codes, not as ingredients. The codes are transcribed one by one
 * (code → drug); the source files themselves are not part of the project.
 */

/** Where an RxNorm code was seen with its drug name. */
export const DRUG_CODE_SOURCES = {
  'sandbox rxnorm-extract': 'CDS Hooks sandbox (github.com/cds-hooks/sandbox, commit 3b7e25546771c6e7fc5e360aa7db6eb64af0b8b6, src/assets/medication-list.js, object rxnorm.cuiToName; Apache-2.0): the entries whose name contains a name or brand of this table, i.e. the oral capecitabine, lapatinib, letrozole, anastrozole, exemestane, tamoxifen and cyclophosphamide products its Rx View can order. Each code is mapped to the agent its name contains.',
  'MITRE fixtures': 'MITRE mCODE clinical-trial-matching test patients (github.com/mcode: clinical-trial-matching-app, commit 4891254e9f80edca25aa8041ed93f92990b7c3aa, TrialMatching_Patient01/02; clinical-trial-matching-service-breastcancertrials.org, commit ba32a5f88a0f6061555b01dd3a624da8e1a6924a, spec/data/patient_data.json; Apache-2.0): the RxNorm code and display of their MedicationStatements, as listed in spec/ehr-integration.md §6.6.'
} as const
export type DrugCodeSource = keyof typeof DRUG_CODE_SOURCES

const SANDBOX = 'sandbox rxnorm-extract'
const MITRE = 'MITRE fixtures'

export interface RxNormEntry {
  readonly code: string
  readonly source: DrugCodeSource
  /** [U]: not checked against an RxNorm release. */
  readonly unverified: true
  /** A known doubt about this code, beyond [U]. */
  readonly flag?: string
}

const ABEMACICLIB_FLAG = 'The MITRE fixtures give abemaciclib both 1946827 and 1946828 under one name ("abemaciclib Oral Product"); both are kept until an RxNorm release settles which is right (§6.6).'

export const DRUG_TABLE = {
  version: '1.0.0',
  agents: {
    trastuzumab: {
      names: ['trastuzumab'],
      brands: ['Herceptin', 'Herceptin Hylecta', 'Herzuma', 'Ogivri', 'Kanjinti', 'Trazimera', 'Ontruzant'],
      rxnorm: []
    },
    pertuzumab: { names: ['pertuzumab'], brands: ['Perjeta'], rxnorm: [] },
    t_dm1: { names: ['ado-trastuzumab emtansine', 'trastuzumab emtansine'], brands: ['Kadcyla'], rxnorm: [] },
    t_dxd: { names: ['fam-trastuzumab deruxtecan', 'trastuzumab deruxtecan'], brands: ['Enhertu'], rxnorm: [] },
    tucatinib: { names: ['tucatinib'], brands: ['Tukysa'], rxnorm: [] },
    neratinib: { names: ['neratinib'], brands: ['Nerlynx'], rxnorm: [] },
    lapatinib: {
      names: ['lapatinib'],
      brands: ['Tykerb', 'Tyverb'],
      rxnorm: [
        { code: '672147', source: SANDBOX, unverified: true },
        { code: '672150', source: SANDBOX, unverified: true },
        { code: '672149', source: SANDBOX, unverified: true },
        { code: '672152', source: SANDBOX, unverified: true },
        { code: '1162550', source: SANDBOX, unverified: true },
        { code: '1186915', source: SANDBOX, unverified: true }
      ]
    },
    margetuximab: { names: ['margetuximab'], brands: ['Margenza'], rxnorm: [] },
    docetaxel: { names: ['docetaxel'], brands: ['Taxotere'], rxnorm: [] },
    paclitaxel: {
      names: ['paclitaxel'],
      brands: ['Taxol'],
      rxnorm: [
        { code: '583214', source: MITRE, unverified: true }
      ]
    },
    nab_paclitaxel: {
      names: ['paclitaxel protein-bound', 'nab-paclitaxel', 'albumin-bound paclitaxel'],
      brands: ['Abraxane'],
      rxnorm: []
    },
    capecitabine: {
      names: ['capecitabine'],
      brands: ['Xeloda'],
      rxnorm: [
        { code: '315557', source: SANDBOX, unverified: true },
        { code: '573202', source: SANDBOX, unverified: true },
        { code: '200327', source: SANDBOX, unverified: true },
        { code: '213292', source: SANDBOX, unverified: true },
        { code: '315558', source: SANDBOX, unverified: true },
        { code: '573203', source: SANDBOX, unverified: true },
        { code: '200328', source: SANDBOX, unverified: true },
        { code: '213293', source: SANDBOX, unverified: true },
        { code: '1158878', source: SANDBOX, unverified: true },
        { code: '1186411', source: SANDBOX, unverified: true },
        { code: '1158877', source: MITRE, unverified: true }
      ]
    },
    vinorelbine: { names: ['vinorelbine'], brands: ['Navelbine'], rxnorm: [] },
    eribulin: { names: ['eribulin'], brands: ['Halaven'], rxnorm: [] },
    gemcitabine: {
      names: ['gemcitabine'],
      brands: ['Gemzar'],
      rxnorm: [
        { code: '1156710', source: MITRE, unverified: true }
      ]
    },
    carboplatin: { names: ['carboplatin'], brands: ['Paraplatin'], rxnorm: [] },
    /** Doxorubicin includes its liposomal forms ("doxorubicin hydrochloride liposome" contains the name). */
    anthracycline: { names: ['doxorubicin', 'epirubicin'], brands: ['Adriamycin', 'Doxil', 'Caelyx', 'Ellence'], rxnorm: [] },
    cyclophosphamide: {
      names: ['cyclophosphamide'],
      brands: ['Cytoxan'],
      rxnorm: [
        { code: '315746', source: SANDBOX, unverified: true },
        { code: '1437968', source: SANDBOX, unverified: true },
        { code: '197549', source: SANDBOX, unverified: true },
        { code: '315747', source: SANDBOX, unverified: true },
        { code: '1437969', source: SANDBOX, unverified: true },
        { code: '197550', source: SANDBOX, unverified: true },
        { code: '1156183', source: SANDBOX, unverified: true }
      ]
    },
    aromatase_inhibitor: {
      names: ['letrozole', 'anastrozole', 'exemestane'],
      brands: ['Femara', 'Arimidex', 'Aromasin'],
      rxnorm: [
        { code: '315382', source: SANDBOX, unverified: true },
        { code: '564931', source: SANDBOX, unverified: true },
        { code: '199224', source: SANDBOX, unverified: true },
        { code: '151124', source: SANDBOX, unverified: true },
        { code: '1157703', source: SANDBOX, unverified: true },
        { code: '1170753', source: SANDBOX, unverified: true },
        { code: '1170771', source: SANDBOX, unverified: true },
        { code: '330333', source: SANDBOX, unverified: true },
        { code: '574539', source: SANDBOX, unverified: true },
        { code: '310261', source: SANDBOX, unverified: true },
        { code: '261317', source: SANDBOX, unverified: true },
        { code: '1163789', source: SANDBOX, unverified: true },
        { code: '1176625', source: SANDBOX, unverified: true },
        { code: '316135', source: SANDBOX, unverified: true },
        { code: '565177', source: SANDBOX, unverified: true },
        { code: '200064', source: SANDBOX, unverified: true },
        { code: '153124', source: SANDBOX, unverified: true },
        { code: '1163196', source: SANDBOX, unverified: true },
        { code: '1157702', source: MITRE, unverified: true },
        { code: '1163195', source: MITRE, unverified: true },
        { code: '1163788', source: MITRE, unverified: true }
      ]
    },
    fulvestrant: {
      names: ['fulvestrant'],
      brands: ['Faslodex'],
      rxnorm: [
        { code: '1156671', source: MITRE, unverified: true }
      ]
    },
    tamoxifen: {
      names: ['tamoxifen'],
      brands: ['Nolvadex', 'Soltamox'],
      rxnorm: [
        { code: '1185106', source: SANDBOX, unverified: true },
        { code: '330520', source: SANDBOX, unverified: true },
        { code: '564131', source: SANDBOX, unverified: true },
        { code: '198240', source: SANDBOX, unverified: true },
        { code: '105630', source: SANDBOX, unverified: true },
        { code: '330595', source: SANDBOX, unverified: true },
        { code: '572144', source: SANDBOX, unverified: true },
        { code: '313195', source: SANDBOX, unverified: true },
        { code: '211811', source: SANDBOX, unverified: true },
        { code: '1164215', source: SANDBOX, unverified: true },
        { code: '1164214', source: MITRE, unverified: true }
      ]
    },
    ovarian_suppression: {
      names: ['goserelin', 'leuprolide', 'leuprorelin', 'triptorelin'],
      brands: ['Zoladex', 'Lupron', 'Eligard', 'Trelstar', 'Decapeptyl'],
      rxnorm: [
        { code: '1163443', source: MITRE, unverified: true }
      ]
    },
    palbociclib: {
      names: ['palbociclib'],
      brands: ['Ibrance'],
      rxnorm: [
        { code: '1601377', source: MITRE, unverified: true }
      ]
    },
    ribociclib: {
      names: ['ribociclib'],
      brands: ['Kisqali'],
      rxnorm: [
        { code: '1873980', source: MITRE, unverified: true }
      ]
    },
    abemaciclib: {
      names: ['abemaciclib'],
      brands: ['Verzenio'],
      rxnorm: [
        { code: '1946827', source: MITRE, unverified: true, flag: ABEMACICLIB_FLAG },
        { code: '1946828', source: MITRE, unverified: true, flag: ABEMACICLIB_FLAG }
      ]
    }
  },
  /** Brands of fixed combinations: one name, several agents (§6.6: "Phesgo (= pertuzumab + trastuzumab)"). */
  combinations: [
    { brand: 'Phesgo', agents: ['pertuzumab', 'trastuzumab'] }
  ],
  /**
   * Bone-modifying agents (`history.boneModifyingAgent.agent`). The osteoporosis products map to the
   * same agent, with warning FHIR_BMA_OSTEOPOROSIS_PRODUCT [D].
   */
  boneAgents: {
    zoledronic_acid: {
      names: ['zoledronic acid'],
      brands: ['Zometa'],
      osteoporosisBrands: ['Reclast', 'Aclasta'],
      rxnorm: [
        { code: '1156253', source: MITRE, unverified: true }
      ]
    },
    denosumab: { names: ['denosumab'], brands: ['Xgeva'], osteoporosisBrands: ['Prolia'], rxnorm: [] },
    pamidronate: { names: ['pamidronate'], brands: ['Aredia'], osteoporosisBrands: [], rxnorm: [] }
  }
} as const satisfies DrugTableShape

/** The shape the table must keep (checked at compile time; the tests check its content). */
interface DrugTableShape {
  version: string
  agents: Readonly<Record<string, DrugRow>>
  combinations: ReadonlyArray<{ brand: string, agents: readonly string[] }>
  boneAgents: Readonly<Record<string, DrugRow & { osteoporosisBrands: readonly string[] }>>
}
interface DrugRow {
  names: readonly string[]
  brands: readonly string[]
  rxnorm: readonly RxNormEntry[]
}

export type TableAgent = keyof typeof DRUG_TABLE.agents
export type BoneAgent = keyof typeof DRUG_TABLE.boneAgents
