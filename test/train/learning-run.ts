/**
 * The small training that both learning tests run. A 2-stage U-Net (8 and 16 features) trains for
 * 8 epochs × 15 iterations (120 steps, batch 2, 16³ patches) on six synthetic 32×48×48 cases at
 * 4 mm. The sliding window then segments two held-out synthetic cases.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

import { predictVolume } from "../../src/infer/sliding-window.js";
import { initBackend } from "../../src/tensor/backend.js";
import { nnUNetSchedule } from "../../src/train/schedule.js";
import { trainNetwork } from "../../src/train/trainer.js";
import { syntheticTrainingCase } from "./synthetic-cases.js";

/** Whole-tumour Dice written out independently of the code under test: 2|P∩G| / (|P| + |G|). */
export function plainWholeTumourDice(prediction: Uint8Array, truth: Uint8Array): number {
  let both = 0;
  let sizes = 0;
  for (let v = 0; v < truth.length; v++) {
    if (prediction[v]! > 0 && truth[v]! > 0) both++;
    if (prediction[v]! > 0) sizes++;
    if (truth[v]! > 0) sizes++;
  }
  return sizes === 0 ? 1 : (2 * both) / sizes;
}

export interface LearningOutcome {
  /** WT Dice of the trained network on each held-out case. */
  readonly dice: number[];
  /** Tumour voxels of each held-out case (> 0, so an all-background prediction scores 0). */
  readonly tumourVoxels: number[];
  readonly finalLoss: number;
}

export async function trainAndEvaluate(fga: boolean): Promise<LearningOutcome> {
  await initBackend("wasm", () => {});
  const patchSize = [16, 16, 16] as const;
  const cases = [0, 1, 2, 3, 5, 6].map((i) => syntheticTrainingCase(i, [32, 48, 48], 4));
  const heldOut = [4, 7].map((i) => syntheticTrainingCase(i, [32, 48, 48], 4));

  const result = await trainNetwork({
    cases,
    validation: heldOut,
    network: {
      inChannels: 4,
      numClasses: 4,
      stages: 2,
      baseFeatures: 8,
      maxFeatures: 16,
      deepSupervision: true,
      fga: { enabled: fga, patchSize: 4, lambda: 1, goldenGradient: false },
    },
    schedule: { ...nnUNetSchedule, epochs: 8, iterationsPerEpoch: 15, batchSize: 2, patchSize, curriculumEpochs: [] },
    seed: 5,
    checkpointDir: await fs.mkdtemp(path.join(os.tmpdir(), "fancl-learning-")),
  });

  const dice: number[] = [];
  for (const c of heldOut) {
    const { labels } = await predictVolume(result.network, c.image, c.shape, { patchSize });
    dice.push(plainWholeTumourDice(labels, c.label));
  }
  result.network.dispose();
  return {
    dice,
    tumourVoxels: heldOut.map((c) => c.label.reduce((n, l) => n + (l > 0 ? 1 : 0), 0)),
    finalLoss: result.curve[result.curve.length - 1]!.loss,
  };
}
