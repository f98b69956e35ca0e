/** The median: the middle value, or the mean of the two middle values. NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Which side goes first in each round: A B, B A, A B... so that a machine getting busier or
 * quieter during the run does not favour one side.
 */
export function roundOrder(round: number): ['a', 'b'] | ['b', 'a'] {
  return round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
}

/** `value` with `digits` decimals, as text. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
