import { NON_SPINE_SITES, SPINE_LEVELS, type SpineLevel } from '../schemas/common.js'
import { LATERALITY, SPINE_REGION_CODES } from './codes.js'
import { asArray, codingsOf, isObject, SNOMED, wordsOf } from './read.js'
import type { FhirResource } from './types.js'

/**
 * Readers of `bodySite` shared by the Condition and Procedure sections (§6.3, §6.7, §6.8a): the
 * vertebral level parser, vertebral regions, the skeletal site of a non-spine lesion, and laterality.
 * Text patterns are matched case-insensitively against a bodySite's `text` and codings' displays.
 */

export type SpineRegion = 'cervical' | 'thoracic' | 'lumbar' | 'sacral'
export type Side = 'left' | 'right'
export type NonSpineSite = typeof NON_SPINE_SITES[number]

export const SPINE_REGIONS: readonly SpineRegion[] = ['cervical', 'thoracic', 'lumbar', 'sacral']

/** The bodySite CodeableConcepts of a resource (malformed entries dropped). */
export function bodySitesOf (resource: FhirResource): Array<Record<string, unknown>> {
  return asArray(resource.bodySite).filter(isObject)
}

// §6.3 / §6.8a: `T7`, `t7`, `T 7`, `T-7`, `Th7`, and `thoracic vertebra 7`.
const LEVEL_PATTERN = /\b([CTLS])h?\s?-?(\d{1,2})\b/gi
const NAMED_LEVEL_PATTERN = /(cervical|thoracic|lumbar|sacral) vertebrae? (\d{1,2})/gi
const REGION_LETTER: Readonly<Record<SpineRegion, string>> = { cervical: 'C', thoracic: 'T', lumbar: 'L', sacral: 'S' }

/** The distinct vertebral levels written in the words, in order of appearance, within C1–C7, T1–T12, L1–L5, S1–S5. */
export function spineLevelsIn (words: readonly string[]): SpineLevel[] {
  const levels: SpineLevel[] = []
  const add = (letter: string, digits: string): void => {
    const level = `${letter.toUpperCase()}${Number(digits)}`
    if ((SPINE_LEVELS as readonly string[]).includes(level) && !levels.includes(level as SpineLevel)) levels.push(level as SpineLevel)
  }
  for (const word of words) {
    for (const match of word.matchAll(LEVEL_PATTERN)) add(match[1] as string, match[2] as string)
    for (const match of word.matchAll(NAMED_LEVEL_PATTERN)) add(REGION_LETTER[(match[1] as string).toLowerCase() as SpineRegion], match[2] as string)
  }
  return levels
}

/** The region a level belongs to. */
export function regionOfLevel (level: SpineLevel): SpineRegion {
  const letter = level[0]
  return letter === 'C' ? 'cervical' : letter === 'T' ? 'thoracic' : letter === 'L' ? 'lumbar' : 'sacral'
}

const SPINE_WORDS = /vertebra|spine|spinal|sacrum|sacral/i
const REGION_WORDS: ReadonlyArray<readonly [SpineRegion, RegExp]> = [
  ['cervical', /cervical/i], ['thoracic', /thoracic/i], ['lumbar', /lumbar/i], ['sacral', /sacral|sacrum/i]
]

/**
 * The vertebral regions a bodySite names without a level (§6.3: e.g. 122496007 "Structure of lumbar
 * vertebral column"): a region code, or a spine word (vertebra, spine, spinal, sacrum). The region
 * comes from the words (cervical, thoracic, lumbar, sacral) or the code; a spine named without a
 * region stands for every region. undefined: the bodySite is not the spine.
 */
export function spineRegionsOf (bodySite: unknown): SpineRegion[] | undefined {
  const words = wordsOf(bodySite)
  const codes = codingsOf(bodySite).filter((coding) => coding.system === SNOMED).map((coding) => coding.code)
  const lumbarCode = codes.some((code) => (SPINE_REGION_CODES.lumbar as readonly unknown[]).includes(code))
  const regionCode = lumbarCode || codes.some((code) => (SPINE_REGION_CODES.unspecified as readonly unknown[]).includes(code))
  if (!regionCode && !words.some((word) => SPINE_WORDS.test(word))) return undefined
  const named = REGION_WORDS.filter(([, pattern]) => words.some((word) => pattern.test(word))).map(([region]) => region)
  if (lumbarCode && !named.includes('lumbar')) named.push('lumbar')
  return named.length > 0 ? SPINE_REGIONS.filter((region) => named.includes(region)) : [...SPINE_REGIONS]
}

// §6.3 "another bone site gives nonSpineBoneLesions[], with site by text".
const NON_SPINE_SITE_WORDS: ReadonlyArray<readonly [NonSpineSite, RegExp]> = [
  ['femur', /femur/i],
  ['humerus', /humerus/i],
  ['pelvis', /pelvi|ilium|iliac|acetabul|ischi|pubi|sacroiliac/i],
  ['rib', /\bribs?\b/i],
  ['sternum', /sternum/i],
  ['skull', /skull|crani|calvari/i]
]

/** The skeletal site of a non-spine bone bodySite, by text; `other` when no word names one. */
export function nonSpineSiteOf (bodySite: unknown): NonSpineSite {
  const words = wordsOf(bodySite)
  return NON_SPINE_SITE_WORDS.find(([, pattern]) => words.some((word) => pattern.test(word)))?.[0] ?? 'other'
}

/** True when the words name a non-spine skeletal site (used to tell a bone RT target from a soft-tissue one). */
export function namesNonSpineBone (bodySite: unknown): boolean {
  const words = wordsOf(bodySite)
  return NON_SPINE_SITE_WORDS.some(([, pattern]) => words.some((word) => pattern.test(word))) ||
    words.some((word) => /bone|osseous|skeletal/i.test(word))
}

/**
 * The side a bodySite names (§6.3): the mcode-laterality-qualifier extension (SNOMED 24028007 right,
 * 7771000 left [U]), else the words `left` / `right` in its text or displays. Both sides, or none:
 * undefined.
 */
export function sideOf (bodySite: Record<string, unknown>): Side | undefined {
  const sides = new Set<Side>()
  for (const extension of asArray(bodySite.extension).filter(isObject)) {
    if (extension.url !== LATERALITY.extensionUrl) continue
    for (const coding of codingsOf(extension.valueCodeableConcept)) {
      if (coding.system !== SNOMED) continue
      if (coding.code === LATERALITY.right) sides.add('right')
      if (coding.code === LATERALITY.left) sides.add('left')
    }
  }
  for (const word of wordsOf(bodySite)) {
    if (/\bright\b/i.test(word)) sides.add('right')
    if (/\bleft\b/i.test(word)) sides.add('left')
  }
  return sides.size === 1 ? [...sides][0] : undefined
}

/** The one side named by a resource's bodySites; undefined when none or when they disagree. */
export function sideOfResource (resource: FhirResource): Side | undefined {
  const sides = new Set(bodySitesOf(resource).map(sideOf).filter((side) => side !== undefined))
  return sides.size === 1 ? [...sides][0] : undefined
}
