import { beforeAll, describe, expect, it } from "vitest";

import { Tissue } from "../../src/synth/anatomy.js";
import { generateCase, type SyntheticCase } from "../../src/synth/generate.js";

const SEED = 7;
const CASES = 12;

/** 26-connected components of the voxels where mask[i] is true, on a [D, H, W] grid. */
function countComponents(mask: (i: number) => boolean, shape: readonly [number, number, number]): number {
  const [nz, ny, nx] = shape;
  const seen = new Uint8Array(nz * ny * nx);
  const stack: number[] = [];
  let components = 0;
  for (let start = 0; start < seen.length; start++) {
    if (seen[start] || !mask(start)) continue;
    components++;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const z = Math.floor(i / (ny * nx));
      const y = Math.floor((i % (ny * nx)) / nx);
      const x = i % nx;
      for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const zz = z + dz, yy = y + dy, xx = x + dx;
        if (zz < 0 || yy < 0 || xx < 0 || zz >= nz || yy >= ny || xx >= nx) continue;
        const j = (zz * ny + yy) * nx + xx;
        if (!seen[j] && mask(j)) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return components;
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

describe("generateCase", () => {
  let cases: SyntheticCase[];
  beforeAll(() => {
    cases = Array.from({ length: CASES }, (_, i) => generateCase(i, { seed: SEED }));
  });

  it("uses the default grid and ids", () => {
    const c = cases[3]!;
    expect(c.id).toBe("SYN-00003-000");
    expect(c.dims).toEqual([96, 96, 64]);
    expect(c.shape).toEqual([64, 96, 96]);
    expect(c.spacing).toEqual([2, 2, 2]);
    expect(c.modalities).toEqual(["t1n", "t1c", "t2w", "t2f"]);
    expect(c.images.every((im) => im.length === 96 * 96 * 64)).toBe(true);
    expect(c.seg.length).toBe(96 * 96 * 64);
  });

  it("is pure: the same index and seed give identical arrays", () => {
    const again = generateCase(5, { seed: SEED });
    expect(Buffer.from(again.seg).equals(Buffer.from(cases[5]!.seg))).toBe(true);
    again.images.forEach((im, m) => {
      expect(Buffer.from(im.buffer).equals(Buffer.from(cases[5]!.images[m]!.buffer))).toBe(true);
    });
  });

  it("changes with the seed", () => {
    const other = generateCase(5, { seed: SEED + 1 });
    expect(Buffer.from(other.images[0]!.buffer).equals(Buffer.from(cases[5]!.images[0]!.buffer))).toBe(false);
  });

  it("uses exactly the labels 0 to 3", () => {
    const all = new Set<number>();
    for (const c of cases) for (const v of new Set(c.seg)) all.add(v);
    expect([...all].sort()).toEqual([0, 1, 2, 3]);
  });

  it("has 1 to 10 lesions, each one 26-connected component of the tumour mask", () => {
    for (const c of cases) {
      expect(c.lesions.length, c.id).toBeGreaterThanOrEqual(1);
      expect(c.lesions.length, c.id).toBeLessThanOrEqual(10);
      expect(countComponents((i) => c.seg[i] !== 0, c.shape), c.id).toBe(c.lesions.length);
      const painted = c.seg.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
      expect(c.lesions.reduce((n, l) => n + l.voxels, 0), c.id).toBe(painted);
    }
  });

  it("spreads enhancing radii from about 1 to 15 mm and has tiny-only cases", () => {
    const radii = cases.flatMap((c) => c.lesions.map((l) => l.radiusMm));
    expect(Math.min(...radii)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...radii)).toBeLessThan(15);
    expect(radii.some((r) => r < 2)).toBe(true);
    expect(radii.some((r) => r > 8)).toBe(true);
    const tiny = cases.filter((c) => c.tinyOnly);
    expect(tiny.length).toBeGreaterThan(0);
    for (const c of tiny) expect(c.lesions.every((l) => l.radiusMm <= 3)).toBe(true);
  });

  it("gives large lesions a necrotic core, an enhancing rim and edema", () => {
    const large = cases.flatMap((c) => c.lesions).filter((l) => l.radiusMm >= 8);
    expect(large.length).toBeGreaterThan(0);
    for (const l of large) expect(l.labels).toEqual([1, 2, 3]);
  });

  it("is exactly 0 outside the brain and non-zero inside, with labels only inside", () => {
    for (const c of cases) {
      let wrong = 0;
      for (let i = 0; i < c.seg.length; i++) {
        const brain = c.tissue[i] !== Tissue.background;
        for (const im of c.images) if ((im[i] !== 0) !== brain) wrong++;
        if (!brain && c.seg[i] !== 0) wrong++;
      }
      expect(wrong, c.id).toBe(0);
      // The eight corners of the grid are outside the head.
      const [nz, ny, nx] = c.shape;
      for (const z of [0, nz - 1]) for (const y of [0, ny - 1]) for (const x of [0, nx - 1]) {
        expect(c.images[0]![(z * ny + y) * nx + x]).toBe(0);
      }
    }
  });

  it("stores whole numbers within int16", () => {
    for (const im of cases[0]!.images) {
      expect(im.every((v) => Number.isInteger(v) && v >= 0 && v <= 32767)).toBe(true);
    }
  });

  /** Mean intensity of one modality over lesion label `label` and over nearby plain white matter. */
  function lesionVersusWhiteMatter(c: SyntheticCase, modality: number, inLesion: (label: number) => boolean) {
    const [nz, ny, nx] = c.shape;
    const lesion: number[] = [];
    const wm: number[] = [];
    for (const l of c.lesions) {
      // Box around the lesion reaching 4 voxels past its stretched outer radius.
      const reach = Math.ceil((Math.max(l.radiusMm, l.edemaRadiusMm) * 1.33) / c.spacing[0]) + 4;
      const [cx, cy, cz] = l.centre;
      for (let z = Math.max(0, cz - reach); z <= Math.min(nz - 1, cz + reach); z++)
        for (let y = Math.max(0, cy - reach); y <= Math.min(ny - 1, cy + reach); y++)
          for (let x = Math.max(0, cx - reach); x <= Math.min(nx - 1, cx + reach); x++) {
            const i = (z * ny + y) * nx + x;
            if (inLesion(c.seg[i]!)) lesion.push(c.images[modality]![i]!);
            else if (c.seg[i] === 0 && c.tissue[i] === Tissue.wm && c.vessels[i] === 0) wm.push(c.images[modality]![i]!);
          }
    }
    return { lesion: mean(lesion), wm: mean(wm), lesionVoxels: lesion.length, wmVoxels: wm.length };
  }

  it("shows enhancing tumour brighter than surrounding white matter on t1c", () => {
    let compared = 0;
    for (const c of cases) {
      const r = lesionVersusWhiteMatter(c, 1, (label) => label === 3);
      if (r.lesionVoxels === 0 || r.wmVoxels === 0) continue;
      compared++;
      // Relative levels 1.7 vs 1.0, each jittered by at most 5 %.
      expect(r.lesion / r.wm, c.id).toBeGreaterThan(1.3);
    }
    expect(compared).toBe(CASES);
  });

  it("shows edema brighter than surrounding white matter on t2w and t2f", () => {
    let compared = 0;
    for (const c of cases) {
      for (const m of [2, 3]) {
        const r = lesionVersusWhiteMatter(c, m, (label) => label === 2);
        if (r.lesionVoxels === 0 || r.wmVoxels === 0) continue;
        compared++;
        expect(r.lesion / r.wm, `${c.id} modality ${m}`).toBeGreaterThan(1.5);
      }
    }
    // Tiny-only cases may have no edema at all; the others have some.
    expect(compared).toBeGreaterThanOrEqual(2 * (CASES - 4));
  });

  it("shows lesions darker than surrounding white matter on t1n", () => {
    for (const c of cases) {
      const r = lesionVersusWhiteMatter(c, 0, (label) => label !== 0);
      expect(r.lesionVoxels, c.id).toBeGreaterThan(0);
      expect(r.lesion / r.wm, c.id).toBeLessThan(0.8);
    }
  });

  it("draws vessel distractors that are bright on t1c and carry label 0", () => {
    for (const c of cases.slice(0, 4)) {
      const vessel: number[] = [];
      const wm: number[] = [];
      for (let i = 0; i < c.seg.length; i++) {
        if (c.vessels[i] === 1) {
          expect(c.seg[i]).toBe(0);
          vessel.push(c.images[1]![i]!);
        } else if (c.tissue[i] === Tissue.wm && c.seg[i] === 0) {
          wm.push(c.images[1]![i]!);
        }
      }
      expect(vessel.length, c.id).toBeGreaterThan(20);
      expect(mean(vessel) / mean(wm), c.id).toBeGreaterThan(1.3);
    }
  });

  it("works on a small odd-sized grid", () => {
    const c = generateCase(0, { seed: 3, shape: [20, 30, 25], spacing: 1.5 });
    expect(c.dims).toEqual([25, 30, 20]);
    expect(c.spacing).toEqual([1.5, 1.5, 1.5]);
    expect(c.images[2]!.length).toBe(20 * 30 * 25);
    expect(c.lesions.length).toBeGreaterThanOrEqual(1);
  });

  it("rejects a shape that is not three positive whole numbers", () => {
    expect(() => generateCase(0, { seed: 1, shape: [0, 5, 5] })).toThrow(/shape \[0,5,5\] is not three positive whole numbers/);
  });
});
