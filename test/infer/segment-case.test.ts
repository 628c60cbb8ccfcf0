import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { segmentCase } from "../../src/infer/segment-case.js";
import { readLabelVolume, readVolume } from "../../src/nifti/read.js";
import { createNetwork, saveNetwork, type NetworkConfig } from "../../src/nn/network.js";
import { writeSyntheticCase } from "../../src/synth/dataset.js";
import { generateCase } from "../../src/synth/generate.js";
import { initBackend } from "../../src/tensor/backend.js";

const config: NetworkConfig = {
  inChannels: 4,
  numClasses: 4,
  stages: 2,
  baseFeatures: 4,
  maxFeatures: 8,
  deepSupervision: false,
  fga: { enabled: false, patchSize: 4, lambda: 1, goldenGradient: false },
};

/**
 * Writes a model folder whose network predicts class 2 at every voxel: every weight is 0, so every
 * feature map is 0 and the logits equal the full-resolution head's bias [0, 0, 5, 0].
 */
async function constantModel(dir: string, targetSpacing: [number, number, number] | null): Promise<void> {
  const net = createNetwork(config, 1);
  for (const [name, variable] of net.namedVariables) {
    variable.assign(name === "decoder.0.head.bias" ? tf.tensor1d([0, 0, 5, 0]) : tf.zerosLike(variable));
  }
  await saveNetwork(net, dir);
  net.dispose();
  await fs.writeFile(path.join(dir, "preprocess.json"), JSON.stringify({ targetSpacing, patchSize: [8, 16, 16] }));
}

/** 2 inside the non-zero bounding box of all four images, 0 outside: a plain loop over [D, H, W]. */
function expectedLabels(images: readonly Float32Array[], shape: readonly [number, number, number]): Uint8Array {
  const [d, h, w] = shape;
  const low = [d, h, w];
  const high = [-1, -1, -1];
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = (z * h + y) * w + x;
        if (images.some((image) => image[v] !== 0)) {
          [z, y, x].forEach((c, a) => {
            low[a] = Math.min(low[a]!, c);
            high[a] = Math.max(high[a]!, c);
          });
        }
      }
    }
  }
  const out = new Uint8Array(d * h * w);
  for (let z = low[0]!; z <= high[0]!; z++) {
    for (let y = low[1]!; y <= high[1]!; y++) for (let x = low[2]!; x <= high[2]!; x++) out[(z * h + y) * w + x] = 2;
  }
  return out;
}

beforeAll(async () => {
  await initBackend("wasm", () => {});
});

describe("segmentCase", () => {
  const synthetic = generateCase(0, { seed: 7, shape: [20, 30, 28], spacing: 4 });

  for (const targetSpacing of [null, [6, 6, 6]] as const) {
    it(`writes the prediction on the input's grid (targetSpacing ${JSON.stringify(targetSpacing)})`, async () => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), "fancl-segment-"));
      const caseDir = await writeSyntheticCase(path.join(root, "cases"), synthetic);
      const modelDir = path.join(root, "model");
      await constantModel(modelDir, targetSpacing === null ? null : [...targetSpacing]);
      const outFile = path.join(root, "out", "prediction.nii.gz");
      const fractions: number[] = [];

      await segmentCase(modelDir, caseDir, outFile, { mirror: true, onProgress: (f) => fractions.push(f) });

      const written = await readLabelVolume(outFile);
      const reference = await readVolume(path.join(caseDir, `${synthetic.id}-t1n.nii.gz`));
      expect(written.geometry.dims).toEqual(reference.geometry.dims);
      expect(written.geometry.affine).toEqual(reference.geometry.affine);
      const expected = expectedLabels(synthetic.images, synthetic.shape);
      // The head does not fill the grid, so the uncropping is visible.
      expect(expected.includes(0)).toBe(true);
      expect(expected.includes(2)).toBe(true);
      expect(Array.from(written.data)).toEqual(Array.from(expected));
      expect(fractions[fractions.length - 1]).toBe(1);
    });
  }

  it("names preprocess.json when the model folder lacks it", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "fancl-segment-"));
    await expect(segmentCase(root, root, path.join(root, "x.nii.gz"))).rejects.toThrow(/preprocess\.json/);
  });
});
