/**
 * Dice overlap of two binary masks of equal length (any layout): 2|A∩B| / (|A| + |B|).
 * Both empty gives 1; exactly one empty gives 0.
 */
export function dice(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) {
    throw new Error(`dice: masks have ${a.length} and ${b.length} voxels; they must share one grid`);
  }
  let countA = 0;
  let countB = 0;
  let both = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA) countA++;
    if (inB) countB++;
    if (inA && inB) both++;
  }
  if (countA + countB === 0) return 1;
  return (2 * both) / (countA + countB);
}
