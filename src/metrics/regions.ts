/**
 * Tumour regions of a BraTS label map (1 NETC, 2 SNFH/edema, 3 ET; legacy ET label 4 must be
 * mapped to 3 before, see src/data/labels.ts).
 */

export type Region = "ET" | "TC" | "WT";

/** In report order. */
export const REGIONS: readonly Region[] = ["ET", "TC", "WT"];

/** Labels that make up each region: ET = {3}, TC = {1, 3}, WT = {1, 2, 3}. */
export const REGION_LABELS: Readonly<Record<Region, readonly number[]>> = {
  ET: [3],
  TC: [1, 3],
  WT: [1, 2, 3],
};

/**
 * Binary mask (1 inside, 0 outside) of a region, same layout and length as `labels`.
 * An empty input gives an empty mask.
 */
export function regionMask(labels: Uint8Array, region: Region): Uint8Array {
  const member = new Uint8Array(256);
  for (const label of REGION_LABELS[region]) member[label] = 1;
  const mask = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) mask[i] = member[labels[i]!]!;
  return mask;
}
