import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import type { PreprocessedCase } from "../../src/preprocess/types.js";
import { loadPreprocessed, savePreprocessed } from "../../src/preprocess/storage.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fancl-preprocessed-"));
  dirs.push(dir);
  return dir;
}

function sampleCase(withLabel: boolean): PreprocessedCase {
  const shape = [2, 3, 4] as const;
  const image = new Float32Array(2 * 3 * 4 * 2);
  for (let i = 0; i < image.length; i++) image[i] = (i - 7) / 3;
  image[5] = -0.0;
  image[6] = 1e-30;
  const label = Uint8Array.from({ length: 24 }, (_, i) => i % 4);
  return {
    id: "SYN-00001-000",
    modalities: ["t1n", "t2f"],
    shape,
    spacing: [1, 1.5, 2],
    image,
    ...(withLabel ? { label } : {}),
    meta: {
      originalGeometry: axisAlignedGeometry([10, 9, 8], [1, 1.5, 2], [-4.5, -6, -7]),
      originalShape: [8, 9, 10],
      cropBox: { start: [1, 2, 3], end: [3, 5, 7] },
      croppedShape: [2, 3, 4],
      preprocessedShape: [2, 3, 4],
      spacingBefore: [1, 1.5, 2],
      spacingAfter: [1, 1.5, 2],
      targetSpacing: null,
      normalisation: [
        { modality: "t1n", mean: 812.123456789, sd: 171.7 },
        { modality: "t2f", mean: 0.1 + 0.2, sd: 1 / 3 },
      ],
    },
  };
}

describe("savePreprocessed and loadPreprocessed", () => {
  it("round-trip a case with labels bit for bit", async () => {
    const dir = await tempDir();
    const original = sampleCase(true);
    await savePreprocessed(dir, original);
    const loaded = await loadPreprocessed(dir);
    expect(loaded).toEqual(original);
    expect(new Uint8Array(loaded.image.buffer)).toEqual(new Uint8Array(original.image.buffer));
  });

  it("round-trip a case without labels", async () => {
    const dir = await tempDir();
    await savePreprocessed(dir, sampleCase(false));
    const loaded = await loadPreprocessed(dir);
    expect(loaded.label).toBeUndefined();
    expect(loaded.shape).toEqual([2, 3, 4]);
  });

  it("writes the image as raw little-endian float32", async () => {
    const dir = await tempDir();
    await savePreprocessed(dir, sampleCase(true));
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(path.join(dir, "image.f32"));
    // Value 0 is (0 - 7) / 3 = -2.3333333 → float32 0xC0155555, little-endian 55 55 15 C0.
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x55, 0x55, 0x15, 0xc0]);
    expect(bytes.length).toBe(48 * 4);
  });

  it("names the damaged file and the expected size", async () => {
    const dir = await tempDir();
    await savePreprocessed(dir, sampleCase(true));
    await truncate(path.join(dir, "image.f32"), 100);
    await expect(loadPreprocessed(dir)).rejects.toThrow(/image\.f32 has 100 bytes but case\.json records 2x3x4 voxels × 2 modalities × 4 = 192/);
  });

  it("rejects a folder that is not a preprocessed case", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "case.json"), JSON.stringify({ format: "other" }));
    await expect(loadPreprocessed(dir)).rejects.toThrow(/not a fancl preprocessed case of version 1/);
  });
});
