import path from "node:path";
import { describe, expect, it } from "vitest";
import { readLabelVolume } from "../../src/nifti/read.js";
import { dice } from "../../src/metrics/dice.js";
import { hd95 } from "../../src/metrics/hd95.js";
import { lesionWise } from "../../src/metrics/lesionwise.js";
import { surfaceHd95 } from "../../src/metrics/surface-distance.js";
import { regionMask, type Region } from "../../src/metrics/regions.js";
import type { Grid } from "../../src/metrics/grid.js";
import { closeRelative, readCsv } from "./csv.js";

const data = path.resolve(process.cwd(), "../shared/data");

/** Maps legacy ET label 4 to 3, as REFERENCE.md does before computing anything. */
function legacyToCurrent(labels: Uint8Array): Uint8Array {
  return labels.map((v) => (v === 4 ? 3 : v));
}

async function loadPair(gtFile: string, predFile: string) {
  const gt = await readLabelVolume(gtFile);
  const pred = await readLabelVolume(predFile);
  const grid: Grid = { dims: gt.geometry.dims, spacing: gt.geometry.spacing };
  return { grid, gt: legacyToCurrent(gt.data), pred: legacyToCurrent(pred.data) };
}

describe("metrics on ../shared/data/metric-edge/expected.csv", () => {
  const rows = readCsv(path.join(data, "metric-edge/expected.csv"));
  for (const row of rows) {
    it(`${row.name} ${row.region}`, async () => {
      const dir = path.join(data, "metric-edge");
      const { grid, gt, pred } = await loadPair(path.join(dir, `${row.name}-gt.nii.gz`), path.join(dir, `${row.name}-pred.nii.gz`));
      const region = row.region as Region;
      const a = regionMask(gt, region), b = regionMask(pred, region);
      expect(closeRelative(dice(a, b), Number(row.dice))).toBe(true);
      expect(closeRelative(hd95(a, b, grid, "medpy"), Number(row.hd95_medpy))).toBe(true);
      expect(closeRelative(hd95(a, b, grid, "max-directed"), Number(row.hd95_max_directed))).toBe(true);
    });
  }
});

describe("metrics on ../shared/data/brats2018/reference-metrics.csv", () => {
  const rows = readCsv(path.join(data, "brats2018/reference-metrics.csv"));
  const cases = [...new Set(rows.map((r) => r.case!))];
  for (const id of cases) {
    it(id, async () => {
      const dir = path.join(data, "brats2018", id);
      const { grid, gt, pred } = await loadPair(path.join(dir, `${id}_seg.nii.gz`), path.join(dir, `${id}_prediction.nii.gz`));
      for (const row of rows.filter((r) => r.case === id)) {
        const region = row.region as Region;
        const a = regionMask(gt, region), b = regionMask(pred, region);
        const where = `${id} ${region}`;
        expect(closeRelative(dice(a, b), Number(row.dice)), `${where} dice`).toBe(true);
        expect(closeRelative(hd95(a, b, grid, "medpy"), Number(row.hd95_medpy)), `${where} hd95 medpy`).toBe(true);
        expect(closeRelative(hd95(a, b, grid, "max-directed"), Number(row.hd95_max_directed)), `${where} hd95 max`).toBe(true);

        const lesions = lesionWise(a, b, grid);
        expect([lesions.gtLesions, lesions.tp, lesions.fp, lesions.fn], `${where} lesion counts`).toEqual(
          [Number(row.gt_lesions), Number(row.tp), Number(row.fp), Number(row.fn)],
        );
        expect(closeRelative(lesions.lesionDice, Number(row.official_lesion_dice)), `${where} lesion dice ${lesions.lesionDice}`).toBe(true);
        expect(closeRelative(lesions.lesionHd95, Number(row.official_lesion_hd95)), `${where} lesion hd95 ${lesions.lesionHd95}`).toBe(true);
        const legacy = surfaceHd95(a, b, grid);
        expect(closeRelative(legacy, Number(row.official_legacy_hd95)), `${where} legacy hd95 ${legacy}`).toBe(true);
      }
    }, 60_000);
  }
});
