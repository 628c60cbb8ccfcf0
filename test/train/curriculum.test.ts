import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { readLabelVolume } from "../../src/nifti/read.js";
import { buildCurricula, curriculumStage, curriculumTarget, easyVoxels } from "../../src/train/curriculum.js";

const brats = path.resolve(process.cwd(), "../shared/data/brats2018");
const caseId = "Brats18_CBICA_ABM_1";

/** Plain count of voxels where `predicate` holds. */
function count(length: number, predicate: (v: number) => boolean): number {
  let n = 0;
  for (let v = 0; v < length; v++) if (predicate(v)) n++;
  return n;
}

describe("curriculum on a real BraTS 2018 case", () => {
  let gt: Uint8Array;
  let deep: Uint8Array;
  let shallow: Uint8Array;
  let curricula: Uint8Array[];

  beforeAll(async () => {
    const seg = await readLabelVolume(path.join(brats, caseId, `${caseId}_seg.nii.gz`));
    const prediction = await readLabelVolume(path.join(brats, caseId, `${caseId}_prediction.nii.gz`));
    gt = seg.data.map((l) => (l === 4 ? 3 : l));
    deep = prediction.data;

    // The shallower net: the prediction shifted one voxel along x, with its ET removed, so its
    // easy voxels are not a subset of the deeper net's.
    const nx = prediction.geometry.dims[0];
    shallow = new Uint8Array(deep.length);
    for (let v = 0; v < deep.length; v++) {
      const source = v % nx === 0 ? 0 : deep[v - 1]!;
      shallow[v] = source === 3 ? 0 : source;
    }
    curricula = buildCurricula(gt, [shallow, deep]);
  });

  it("easy voxels of each net equal a direct count and nibabel's count", () => {
    const easyDeep = easyVoxels(gt, deep);
    const easyShallow = easyVoxels(gt, shallow);
    const sum = (mask: Uint8Array) => mask.reduce((a, b) => a + b, 0);

    expect(sum(easyDeep)).toBe(count(gt.length, (v) => gt[v] !== 0 && deep[v] === gt[v]));
    expect(sum(easyShallow)).toBe(count(gt.length, (v) => gt[v] !== 0 && shallow[v] === gt[v]));
    // The same sets counted by nibabel/numpy on the files:
    // ((g != 0) & (p == g)).sum() with g's 4 mapped to 3 → 34828; the shifted, ET-free copy → 27809.
    expect(sum(easyDeep)).toBe(34828);
    expect(sum(easyShallow)).toBe(27809);
  });

  it("gives one mask per mining net", () => {
    expect(curricula).toHaveLength(2);
  });

  it("nests: C1 ⊆ C2 ⊆ G with G's labels kept", () => {
    const [c1, c2] = curricula as [Uint8Array, Uint8Array];
    expect(count(gt.length, (v) => c1[v] !== 0 && c2[v] !== c1[v])).toBe(0);
    expect(count(gt.length, (v) => c2[v] !== 0 && c2[v] !== gt[v])).toBe(0);
    expect(count(gt.length, (v) => c1[v] !== 0 && c1[v] !== gt[v])).toBe(0);
  });

  it("C2 is the union of both nets' easy voxels", () => {
    const c2 = curricula[1]!;
    const union = count(gt.length, (v) => gt[v] !== 0 && (deep[v] === gt[v] || shallow[v] === gt[v]));
    expect(count(gt.length, (v) => c2[v] !== 0)).toBe(union);
    // numpy: (E_shallow | E_deep).sum() = 35931, per label [0, 2837, 27545, 5549].
    expect(union).toBe(35931);
    expect([1, 2, 3].map((k) => count(gt.length, (v) => c2[v] === k))).toEqual([2837, 27545, 5549]);
  });

  it("C1 per label matches numpy (no ET, since the shallow net has none)", () => {
    const c1 = curricula[0]!;
    expect([1, 2, 3].map((k) => count(gt.length, (v) => c1[v] === k))).toEqual([2533, 25276, 0]);
  });

  it("ignore mode marks exactly the hard voxels G \\ C_j", () => {
    const c1 = curricula[0]!;
    const target = curriculumTarget(gt, c1, "ignore");
    const hard = count(gt.length, (v) => gt[v] !== 0 && c1[v] === 0);
    expect(target.ignore!.reduce((a, b) => a + b, 0)).toBe(hard);
    // |G| = 39772 foreground voxels by numpy; |C1| = 27809.
    expect(hard).toBe(39772 - 27809);
  });
});

describe("curriculum on hand-made label maps", () => {
  // G, and two predictions (shallow first), on 8 voxels.
  const gt = Uint8Array.from([0, 1, 2, 3, 3, 2, 1, 0]);
  const shallow = Uint8Array.from([1, 1, 0, 0, 3, 0, 2, 0]);
  const deep = Uint8Array.from([0, 0, 2, 1, 3, 2, 1, 1]);

  it("builds C1 = E_shallow and C2 = E_shallow ∪ E_deep with G's labels", () => {
    const [c1, c2] = buildCurricula(gt, [shallow, deep]);
    // E_shallow = voxels 1, 4; E_deep = voxels 2, 4, 5, 6.
    expect(Array.from(c1!)).toEqual([0, 1, 0, 0, 3, 0, 0, 0]);
    expect(Array.from(c2!)).toEqual([0, 1, 2, 0, 3, 2, 1, 0]);
  });

  it("background mode keeps hard voxels as background with no ignore mask", () => {
    const [c1] = buildCurricula(gt, [shallow]);
    const target = curriculumTarget(gt, c1!, "background");
    expect(Array.from(target.labels)).toEqual([0, 1, 0, 0, 3, 0, 0, 0]);
    expect(target.ignore).toBeUndefined();
  });

  it("ignore mode ignores G's voxels outside C1 only", () => {
    const [c1] = buildCurricula(gt, [shallow]);
    const target = curriculumTarget(gt, c1!, "ignore");
    expect(Array.from(target.ignore!)).toEqual([0, 0, 1, 1, 0, 1, 1, 0]);
  });

  it("rejects label maps of different sizes with a message naming both sizes", () => {
    expect(() => easyVoxels(gt, new Uint8Array(7))).toThrow(/8 voxels .* 7/);
  });

  it("maps epochs to stages: [2, 3] → 0,0,1,1,1 then -1", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((e) => curriculumStage(e, [2, 3]))).toEqual([0, 0, 1, 1, 1, -1, -1]);
    expect(curriculumStage(0, [])).toBe(-1);
  });
});
