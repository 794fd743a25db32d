/** The value at quantile p (0–1) of values sorted ascending (nearest rank, no interpolation); undefined when there are none. */
export const percentile = (sorted: readonly number[], p: number): number | undefined =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

/** The median of values in any order (the upper one of an even count). */
export function median (values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5) as number
}
