import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.js";

describe("checkpoint files", () => {
  it("round-trips variables, velocities, epoch, generator state and curve exactly, leaving no temporary file", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fancl-ckpt-"));
    const checkpoint = {
      nextEpoch: 3,
      rngState: 4294967295,
      curve: [{ epoch: 0, loss: 0.5, lr: 0.01, valDice: null, curriculumStage: 1 }],
      fingerprint: '{"seed":1}',
      variables: [Float32Array.from([1.5, -2, 3e-8]), Float32Array.from([7])],
      velocities: [Float32Array.from([0.25, 0, -1]), Float32Array.from([Math.fround(0.1)])],
    };
    await saveCheckpoint(dir, checkpoint);
    const loaded = await loadCheckpoint(dir);
    expect(loaded).toEqual(checkpoint);
    expect(await fs.readdir(dir)).toEqual(["checkpoint.bin"]);
  });

  it("is undefined where no checkpoint exists", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fancl-ckpt-"));
    expect(await loadCheckpoint(dir)).toBeUndefined();
  });

  it("rejects a truncated file with a message naming it and the fix", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fancl-ckpt-"));
    await saveCheckpoint(dir, { nextEpoch: 1, rngState: 1, curve: [], fingerprint: "x", variables: [new Float32Array(10)], velocities: [new Float32Array(10)] });
    const file = path.join(dir, "checkpoint.bin");
    const bytes = await fs.readFile(file);
    await fs.writeFile(file, bytes.subarray(0, bytes.length - 4));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/checkpoint\.bin has .* bytes .* delete it/);
  });
});
