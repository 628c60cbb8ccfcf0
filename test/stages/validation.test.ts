/**
 * Experiment problems found when the graph is built, so that `plan` fails as `run` would, at once,
 * with exit 2 and a message naming the file, the key and the fix, and nothing in the cache.
 * Through the built CLI (`npm run build` first).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { explainHeapExhaustion } from "../../stages/backend.js";
import { fgaMemoryBudget, fgaTrainingMemory } from "../../stages/study-checks.js";

const repo = process.cwd();
const cli = path.join(repo, "bin", "fancl.js");
const quickstart = path.join(repo, "experiments", "quickstart.yaml");

let dir: string;
let store: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cli-fix-validation-"));
  store = path.join(dir, "runs");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fancl(args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const { FANCL_BACKEND: _inherited, ...rest } = process.env;
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...rest, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function plan(file: string, ...sets: string[]) {
  return fancl(["plan", file, "--store", store, ...sets.flatMap((set) => ["--set", set])]);
}

function cachedNodes(): string[] {
  const cache = path.join(store, "cache");
  return existsSync(cache) ? readdirSync(cache) : [];
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Tells whether a native TensorFlow package is installed with its addon file. */
function addonInstalled(packageName: string): boolean {
  const lib = path.join(repo, "node_modules", packageName, "lib");
  return existsSync(lib) && readdirSync(lib).some((entry) => existsSync(path.join(lib, entry, "tfjs_binding.node")));
}
const autoPicksWasm = !addonInstalled("@tensorflow/tfjs-node-gpu") && !addonInstalled("@tensorflow/tfjs-node");

describe("plan rejects what run would reject later", () => {
  it("names report.baseline when it is not a variant", () => {
    const result = plan(quickstart, "report.baseline=base");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('report.baseline: "base" is not a variant');
    expect(result.stderr).toContain("baseline, cl-only, fga-only, fancl");
    expect(cachedNodes()).toEqual([]);
  });

  it("uses the single point of a file without variants", () => {
    const file = write("no-variants.yaml", "dataset: { synthetic: { cases: 2, seed: 1, shape: [16, 16, 16], spacing: 4 } }\ncross_validation: { folds: 2 }\n");
    expect(plan(file).code).toBe(0);
  });

  it("still rejects a set baseline that names no point", () => {
    const file = write("no-variants-set.yaml", "dataset: { synthetic: { cases: 2, seed: 1, shape: [16, 16, 16], spacing: 4 } }\ncross_validation: { folds: 2 }\n");
    const result = plan(file, "report.baseline=base");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('report.baseline: "base" is not a variant');
  });

  it("names the baseline's matrix points as the likely choices", () => {
    const file = write(
      "matrix.yaml",
      [
        "dataset: { synthetic: { cases: 2, seed: 1, shape: [16, 16, 16], spacing: 4 } }",
        "cross_validation: { folds: 2 }",
        "variants: { baseline: {}, other: { training.lr: 0.02 } }",
        "matrix: { training.seed: [1, 2] }",
        "",
      ].join("\n"),
    );
    const result = plan(file);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the likely choices are baseline,training.seed=1, baseline,training.seed=2");
    expect(result.stderr).not.toContain("other,training.seed=1");
    expect(cachedNodes()).toEqual([]);
  });

  it("needs the patch divisible by 2^(stages-1)", () => {
    // 16 = 2^4 halves 4 times, so 6 stages (5 halvings, factor 32) cannot take it.
    const result = plan(quickstart, "network.stages=6");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("network.stages: 6");
    expect(result.stderr).toContain("divisible by 2^5 = 32");
    expect(result.stderr).toContain("at most 5 stages");
  });

  it("accepts the deepest network the patch allows", () => {
    expect(plan(quickstart, "network.stages=5").code).toBe(0);
  });

  it("checks the mining depths against the patch as well", () => {
    const result = plan(quickstart, "mining.depths=[2, 6]");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("mining.depths: depth 6");
  });

  it("rejects mining.depths: [] when a variant mines a curriculum, naming the file", () => {
    const result = plan(quickstart, "mining.depths=[]");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("quickstart.yaml: variants cl-only, fancl: mining.depths is empty");
  });

  it("checks the training schedule with the experiment's keys", () => {
    const momentum = plan(quickstart, "training.momentum=1.5");
    expect(momentum.code).toBe(2);
    expect(momentum.stderr).toContain("training.momentum: 1.5 is invalid");
    expect(plan(quickstart, "training.oversample_foreground=2").stderr).toContain("training.oversample_foreground: 2 is invalid");
    // The quickstart trains for 20 epochs; two curriculum stages of 15 need 30.
    const curriculum = plan(quickstart, "curriculum.stage_epochs=[15, 15]");
    expect(curriculum.code).toBe(2);
    expect(curriculum.stderr).toContain("curriculum.stage_epochs add up to 30 but training.epochs is 20");
  });

  it("reports an empty file as an experiment error naming it", () => {
    const result = plan(write("empty.yaml", ""));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("empty.yaml: dataset.root is not set");
  });

  it("needs at least as many cases as folds", () => {
    const result = plan(quickstart, "dataset.synthetic.cases=2");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cross_validation.folds: 3 folds need at least 3 cases");
  });

  it("names the case folders without a segmentation when the dataset is listed", () => {
    const root = path.join(dir, "dataset");
    for (const [id, withSeg] of [["BraTS-MET-00001-000", true], ["BraTS-MET-00002-000", false], ["BraTS-MET-00003-000", false]] as const) {
      mkdirSync(path.join(root, id), { recursive: true });
      const roles = ["t1n", "t1c", "t2w", "t2f", ...(withSeg ? ["seg"] : [])];
      for (const role of roles) writeFileSync(path.join(root, id, `${id}-${role}.nii.gz`), "");
    }
    const result = plan(quickstart, `dataset.root=${root}`, "cross_validation.folds=2");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("dataset.root: case folders without a segmentation");
    expect(result.stderr).toContain(path.join(root, "BraTS-MET-00002-000"));
    expect(result.stderr).toContain(path.join(root, "BraTS-MET-00003-000"));
    expect(result.stderr).not.toContain(path.join(root, "BraTS-MET-00001-000"));
  });
});

describe("the FGA head's memory on the WASM backend", () => {
  it("rejects a 64³ patch with fga.patch_size 4 when the graph is built", () => {
    const result = plan(quickstart, "training.patch_size=[64, 64, 64]", "compute.backend=wasm");
    expect(result.code).toBe(2);
    // (64 / 4)³ = 4096 patches of 4³ voxels.
    expect(result.stderr).toContain("N_p = 4096");
    expect(result.stderr).toContain("training.patch_size [64, 64, 64]");
    expect(result.stderr).toContain("fga.patch_size 4");
    expect(cachedNodes()).toEqual([]);
  });

  it("rejects the paper's 128³ patches on WASM", () => {
    const result = fancl(["plan", path.join(repo, "experiments", "brats-mets-2023.yaml"), "--store", store], { FANCL_BACKEND: "wasm" });
    expect(result.code).toBe(2);
    // (128 / 8)³ = 4096 patches of 8³ voxels.
    expect(result.stderr).toContain("N_p = 4096");
  });

  it("accepts the quickstart's own patch on WASM", () => {
    expect(plan(quickstart, "compute.backend=wasm").code).toBe(0);
  });

  it("grows with the square of N_p and linearly with the batch", () => {
    const at = (patch: number, batchSize: number) =>
      fgaTrainingMemory({ patchSize: [patch, patch, patch], fgaPatchSize: 4, batchSize, numClasses: 4 });
    expect(at(64, 2).bytes).toBe(2 * at(64, 1).bytes);
    // 8³ patches of 4³ voxels at 32³ against 16³ at 64³: the attention term grows 64-fold.
    expect(at(64, 1).bytes).toBeGreaterThan(30 * at(32, 1).bytes);
    expect(at(64, 2).bytes).toBeGreaterThan(fgaMemoryBudget);
    expect(at(16, 2).bytes).toBeLessThan(fgaMemoryBudget);
  });

  // Without the native packages "auto" trains on WASM, so plan must not wait for the first FGA training.
  it.runIf(autoPicksWasm)("rejects a 64³ patch when the graph is built if auto picks WASM", () => {
    const result = plan(quickstart, "training.patch_size=[64, 64, 64]");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("N_p = 4096");
    expect(result.stderr).toContain("compute.backend auto (which picks wasm here");
    expect(cachedNodes()).toEqual([]);
  });

  it.runIf(autoPicksWasm)("rejects it in run before any node is computed", () => {
    const runs = path.join(dir, "auto-runs");
    const result = fancl(["run", quickstart, "--store", runs, "--set", "training.patch_size=[64, 64, 64]"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("N_p = 4096");
    expect(existsSync(path.join(runs, "cache")) ? readdirSync(path.join(runs, "cache")) : []).toEqual([]);
  });
});

describe("a native backend that is not installed", () => {
  for (const [backend, packageName] of [
    ["tensorflow-gpu", "@tensorflow/tfjs-node-gpu"],
    ["tensorflow", "@tensorflow/tfjs-node"],
  ] as const) {
    it.runIf(!addonInstalled(packageName))(`is rejected by plan when compute.backend is ${backend}`, () => {
      const result = plan(quickstart, `compute.backend=${backend}`);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`compute.backend: ${backend} needs the package ${packageName}`);
      expect(result.stderr).toContain("auto");
      expect(result.stderr).toContain("wasm");
      expect(cachedNodes()).toEqual([]);
    });
  }

  it.runIf(!addonInstalled("@tensorflow/tfjs-node-gpu"))("is rejected by run and named as FANCL_BACKEND when set there", () => {
    const runs = path.join(dir, "gpu-runs");
    const result = fancl(["run", quickstart, "--store", runs], { FANCL_BACKEND: "tensorflow-gpu" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("FANCL_BACKEND: tensorflow-gpu needs the package @tensorflow/tfjs-node-gpu");
    expect(existsSync(path.join(runs, "cache")) ? readdirSync(path.join(runs, "cache")) : []).toEqual([]);
  });
});

describe("a WASM heap that runs out", () => {
  /** A module whose one function loads an i32 just past its single 64 KiB page. */
  const outOfBounds = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
    0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x80, 0x80, 0x04, 0x28, 0x02, 0x00, 0x0b,
  ]);

  function wasmTrap(): unknown {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(outOfBounds));
    try {
      (instance.exports["f"] as () => number)();
    } catch (error) {
      return error;
    }
    throw new Error("the load past the page did not trap");
  }

  it("is explained with the settings to lower", () => {
    const explained = explainHeapExhaustion(wasmTrap(), "training.patch_size");
    expect(explained).toBeInstanceOf(Error);
    expect((explained as Error).message).toContain("WASM backend's heap");
    expect((explained as Error).message).toContain("lower training.patch_size");
  });

  it("leaves other errors as they are", () => {
    const other = new RangeError("Invalid array length");
    expect(explainHeapExhaustion(other, "training.patch_size")).toBe(other);
  });
});

describe("--gpus without a GPU backend", () => {
  const tiny = () =>
    write(
      "tiny.yaml",
      [
        "dataset: { synthetic: { cases: 2, seed: 1, shape: [16, 16, 16], spacing: 4 } }",
        "cross_validation: { folds: 2 }",
        "network: { stages: 2, base_features: 2, max_features: 4, deep_supervision: false }",
        "training: { epochs: 1, iterations_per_epoch: 1, batch_size: 1, patch_size: [16, 16, 16] }",
        "compute: { backend: wasm }",
        "report: { baseline: default }",
        "",
      ].join("\n"),
    );

  it("prints one warning line naming the backend", () => {
    const result = fancl(["run", tiny(), "--store", store, "--gpus", "0", "--dry-run"]);
    expect(result.code).toBe(0);
    const warnings = result.stderr.split("\n").filter((line) => line.includes("warning"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("--gpus 0");
    expect(warnings[0]).toContain("wasm");
  });

  it("prints none when no GPU was requested", () => {
    const result = fancl(["run", tiny(), "--store", store, "--dry-run"]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("warning");
  });
});

describe("execution settings in the environment", () => {
  it("rejects a FANCL_NATIVE that is neither 0 nor 1", () => {
    const result = fancl(["plan", quickstart, "--store", store], { FANCL_NATIVE: "false" });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("FANCL_NATIVE=false is neither 0 nor 1");
  });

  it("rejects a FANCL_TRAINING_THREADS that is not a positive integer", () => {
    const result = fancl(["plan", quickstart, "--store", store], { FANCL_TRAINING_THREADS: "1.5" });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("FANCL_TRAINING_THREADS=1.5 is not a positive integer");
    expect(result.stderr).toContain("unset it to use compute.training_threads");
  });

  it("says nothing about the native kernels when they load", () => {
    const result = fancl(["plan", quickstart, "--store", store]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("native kernels");
  });
});
