import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readLabelVolume, readVolume } from "../../src/nifti/read.js";
import { generateCase } from "../../src/synth/generate.js";
import { writeSyntheticDataset } from "../../src/synth/dataset.js";

// A small grid keeps the gzip work of these tests short.
const shape = [24, 32, 28] as const;
const options = { seed: 11, shape, spacing: 3 };
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "fancl-synth-"));
  await writeSyntheticDataset(path.join(root, "a"), { cases: 3, ...options });
  await writeSyntheticDataset(path.join(root, "b"), { cases: 3, ...options });
  await writeSyntheticDataset(path.join(root, "two"), { cases: 2, ...options });
  await writeSyntheticDataset(path.join(root, "other-seed"), { cases: 1, ...options, seed: 12 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const caseFiles = (id: string) => [
  `${id}-seg.nii.gz`,
  `${id}-t1c.nii.gz`,
  `${id}-t1n.nii.gz`,
  `${id}-t2f.nii.gz`,
  `${id}-t2w.nii.gz`,
  "lesions.json",
];

async function bytes(...parts: string[]): Promise<Buffer> {
  return readFile(path.join(root, ...parts));
}

describe("writeSyntheticDataset", () => {
  it("writes the BraTS-METS 2023 layout", async () => {
    expect((await readdir(path.join(root, "a"))).sort()).toEqual(["SYN-00000-000", "SYN-00001-000", "SYN-00002-000"]);
    expect((await readdir(path.join(root, "a", "SYN-00001-000"))).sort()).toEqual(caseFiles("SYN-00001-000"));
  });

  it("writes byte-identical files for the same seed", async () => {
    for (const id of ["SYN-00000-000", "SYN-00002-000"]) {
      for (const file of caseFiles(id)) {
        expect((await bytes("a", id, file)).equals(await bytes("b", id, file)), `${id}/${file}`).toBe(true);
      }
    }
  });

  it("writes case i the same whatever the number of cases", async () => {
    for (const file of caseFiles("SYN-00001-000")) {
      expect((await bytes("a", "SYN-00001-000", file)).equals(await bytes("two", "SYN-00001-000", file)), file).toBe(true);
    }
  });

  it("writes different files for a different seed", async () => {
    const id = "SYN-00000-000";
    for (const file of caseFiles(id).filter((f) => f.endsWith(".nii.gz") && !f.includes("seg"))) {
      expect((await bytes("a", id, file)).equals(await bytes("other-seed", id, file)), file).toBe(false);
    }
  });

  it("stores generated voxels on the grid", async () => {
    const expected = generateCase(2, options);
    const t1c = await readVolume(path.join(root, "a", "SYN-00002-000", "SYN-00002-000-t1c.nii.gz"));
    const seg = await readLabelVolume(path.join(root, "a", "SYN-00002-000", "SYN-00002-000-seg.nii.gz"));
    expect(t1c.datatype).toBe("int16");
    expect(t1c.geometry.dims).toEqual([28, 32, 24]);
    expect(t1c.geometry.spacing).toEqual([3, 3, 3]);
    // Voxel (0, 0, 0) sits at minus half the field of view: -(n - 1) / 2 · 3 mm per axis.
    expect(t1c.geometry.affine.map((row) => row[3])).toEqual([-40.5, -46.5, -34.5, 1]);
    expect(Buffer.from(t1c.data.buffer).equals(Buffer.from(expected.images[1]!.buffer))).toBe(true);
    expect(Buffer.from(seg.data).equals(Buffer.from(expected.seg))).toBe(true);
  });

  it("records the painted lesions in lesions.json", async () => {
    const json = JSON.parse((await bytes("a", "SYN-00000-000", "lesions.json")).toString("utf8"));
    const expected = generateCase(0, options);
    expect(json.id).toBe("SYN-00000-000");
    expect(json.lesions).toEqual(JSON.parse(JSON.stringify(expected.lesions)));
  });

  it("rejects a negative number of cases", async () => {
    await expect(writeSyntheticDataset(path.join(root, "bad"), { cases: -1, seed: 1 })).rejects.toThrow(/cases -1 is not a whole number/);
  });
});
