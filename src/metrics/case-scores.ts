/**
 * Dice and HD95 of one case in every region, the rows of `fancl evaluate`.
 */
import { dice } from "./dice.js";
import { hd95, type Hd95Definition } from "./hd95.js";
import { REGIONS, regionMask, type Region } from "./regions.js";
import type { Grid } from "./grid.js";

export interface RegionScore {
  readonly region: Region;
  readonly dice: number;
  /** mm. */
  readonly hd95: number;
}

/**
 * Scores of ET, TC and WT, in that order. `gt` and `pred` are label maps (labels 0–3, legacy
 * 4 already mapped to 3), row-major [nz, ny, nx] on `grid` (spacing in mm, the ground truth's).
 */
export function scoreCase(gt: Uint8Array, pred: Uint8Array, grid: Grid, definition: Hd95Definition): RegionScore[] {
  return REGIONS.map((region) => {
    const a = regionMask(gt, region);
    const b = regionMask(pred, region);
    return { region, dice: dice(a, b), hd95: hd95(a, b, grid, definition) };
  });
}
