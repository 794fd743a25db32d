/** The value at quantile p (0–1) of values sorted ascending (nearest rank, no interpolation); undefined when there are none. */
export const percentile = (sorted: readonly number[], p: number): number | undefined =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

/** The median of values in any order (the upper one of an even count). */
export function median (values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5) as number
}

/** The arithmetic mean; 0 when there are no values. */
export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1)
