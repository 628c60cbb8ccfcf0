/**
 * A training interrupted with Ctrl-C resumes from its checkpoint in the store's scratch folder and
 * ends with the same weights as an uninterrupted run of the same node (through the built CLI).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = process.cwd();
const cli = path.join(repo, "bin", "fancl.js");
const env = { ...process.env, FANCL_BACKEND: "wasm" };

const experiment = `name: resume
dataset:
  synthetic: { cases: 4, seed: 3, shape: [32, 32, 32], spacing: 4 }
cross_validation: { folds: 2, seed: 0 }
network: { stages: 2, base_features: 4, max_features: 8, deep_supervision: true }
training: { epochs: 8, iterations_per_epoch: 4, batch_size: 2, patch_size: [16, 16, 16] }
report: { baseline: baseline }
variants:
  baseline: {}
`;

/** weights.bin digest of every train node in a store, by key, from the manifests. */
function trainedWeights(store: string): Map<string, string> {
  const weights = new Map<string, string>();
  const cache = path.join(store, "cache");
  for (const prefix of readdirSync(cache)) {
    for (const key of readdirSync(path.join(cache, prefix))) {
      const manifest = JSON.parse(readFileSync(path.join(cache, prefix, key, "manifest.json"), "utf8"));
      if (manifest.kind !== "train") continue;
      const record = manifest.outputs.find((o: { path: string }) => o.path === "model/weights.bin");
      weights.set(key, record.sha256);
    }
  }
  return weights;
}

function checkpoints(store: string): string[] {
  const scratch = path.join(store, "scratch");
  if (!existsSync(scratch)) return [];
  return readdirSync(scratch).filter((key) => existsSync(path.join(scratch, key, "checkpoint.bin")));
}

describe("an interrupted training", () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fancl-resume-"));
    file = path.join(dir, "resume.yaml");
    writeFileSync(file, experiment);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resumes from its checkpoint and ends with the uninterrupted weights", async () => {
    const straight = path.join(dir, "straight");
    const first = spawnSync(process.execPath, [cli, "run", file, "--store", straight], { encoding: "utf8", env });
    expect(first.status).toBe(0);
    const expected = trainedWeights(straight);
    expect(expected.size).toBe(2);

    // Interrupt as soon as some training has written a checkpoint (after its first epoch).
    const interrupted = path.join(dir, "interrupted");
    const child = spawn(process.execPath, [cli, "run", file, "--store", interrupted], { env, stdio: "ignore" });
    const exitCode = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (checkpoints(interrupted).length > 0) {
          clearInterval(poll);
          child.kill("SIGINT");
        }
      }, 50);
      child.on("exit", (code) => {
        clearInterval(poll);
        resolve(code);
      });
    });
    expect(exitCode).toBe(130);
    const kept = checkpoints(interrupted);
    expect(kept.length).toBeGreaterThan(0);

    const rerun = spawnSync(process.execPath, [cli, "run", file, "--store", interrupted], { encoding: "utf8", env });
    expect(rerun.status).toBe(0);
    // Same seed and key: an uninterrupted training gives the same weights, so the log shows the resume.
    expect(rerun.stderr).toMatch(/resuming at epoch [2-8] from the checkpoint/);
    expect(trainedWeights(interrupted)).toEqual(expected);
    // Committed nodes leave no scratch behind.
    expect(checkpoints(interrupted)).toEqual([]);
  }, 15 * 60_000);
});
