/**
 * `fancl report`, `predict` and `evaluate` on a store made by a real two-case run (a few seconds
 * on WASM), through the built CLI (`npm run build` first).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = process.cwd();
const cli = path.join(repo, "bin", "fancl.js");
const env = { ...process.env, FANCL_BACKEND: "wasm" };

const experiment = [
  "name: tiny",
  "dataset: { synthetic: { cases: 2, seed: 3, shape: [16, 16, 16], spacing: 4 } }",
  "cross_validation: { folds: 2, seed: 0 }",
  "network: { stages: 2, base_features: 2, max_features: 4, deep_supervision: false }",
  "training: { epochs: 1, iterations_per_epoch: 1, batch_size: 1, patch_size: [16, 16, 16] }",
  "report: { baseline: default }",
  "",
].join("\n");

function fancl(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Reads the kind of every committed key of a store from the manifests on disk. */
function cachedKinds(store: string): Map<string, string> {
  const kinds = new Map<string, string>();
  const cache = path.join(store, "cache");
  for (const prefix of readdirSync(cache)) {
    for (const key of readdirSync(path.join(cache, prefix))) {
      const manifest = JSON.parse(readFileSync(path.join(cache, prefix, key, "manifest.json"), "utf8")) as { kind: string };
      kinds.set(key, manifest.kind);
    }
  }
  return kinds;
}

/** Returns the shortest prefix of `key` that no other key starts with. */
function uniquePrefix(key: string, keys: readonly string[]): string {
  for (let length = 1; ; length++) {
    const prefix = key.slice(0, length);
    if (keys.filter((other) => other.startsWith(prefix)).length === 1) return prefix;
  }
}

let dir: string;
let store: string;
let file: string;
let kinds: Map<string, string>;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cli-fix-store-"));
  store = path.join(dir, "runs");
  file = path.join(dir, "tiny.yaml");
  writeFileSync(file, experiment);
  const run = fancl(["run", file, "--store", store]);
  if (run.code !== 0) throw new Error(`the fixture run failed:\n${run.stderr}`);
  kinds = cachedKinds(store);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const reportKey = () => [...kinds].find(([, kind]) => kind === "report")![0];

describe("fancl report", () => {
  it("names the run and node it prints on stderr", () => {
    const result = fancl(["report", "--store", store]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(path.join(store, "cache", reportKey().slice(0, 2), reportKey(), "report.md"), "utf8"));
    expect(result.stderr).toContain(`report ${reportKey().slice(0, 12)} from run 1 (ok, tiny.yaml`);
  });

  it("falls back to the cached report node after the index is lost", () => {
    const copy = path.join(dir, "lost-index");
    cpSync(store, copy, { recursive: true });
    for (const name of readdirSync(copy).filter((entry) => entry.startsWith("index.db"))) rmSync(path.join(copy, name));

    const result = fancl(["report", "--store", copy]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Baseline: default");
    expect(result.stderr).toContain(`report ${reportKey().slice(0, 12)} from the newest cached report node`);
  });

  it("finds the report through the run that index rebuild records", () => {
    const copy = path.join(dir, "rebuilt-index");
    cpSync(store, copy, { recursive: true });
    for (const name of readdirSync(copy).filter((entry) => entry.startsWith("index.db"))) rmSync(path.join(copy, name));
    expect(fancl(["index", "rebuild", "--store", copy]).code).toBe(0);

    const result = fancl(["report", "--store", copy]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Baseline: default");
    expect(result.stderr).toContain(`report ${reportKey().slice(0, 12)} from run 1 (ok, (index rebuild`);
  });

  it("report names newer runs without one; --run picks", () => {
    const copy = path.join(dir, "failed-latest");
    cpSync(store, copy, { recursive: true });
    // A case whose images are not NIfTI: the ingest node fails, so run 2 finishes no report.
    const root = path.join(dir, "broken-dataset");
    for (const id of ["BraTS-MET-00001-000", "BraTS-MET-00002-000"]) {
      mkdirSync(path.join(root, id), { recursive: true });
      for (const role of ["t1n", "t1c", "t2w", "t2f", "seg"]) writeFileSync(path.join(root, id, `${id}-${role}.nii.gz`), "not a NIfTI file");
    }
    const failed = fancl(["run", file, "--store", copy, "--set", `dataset.root=${root}`]);
    expect(failed.code).toBe(1);

    const latest = fancl(["report", "--store", copy]);
    expect(latest.code).toBe(0);
    expect(latest.stderr).toContain("from run 1 (ok");
    expect(latest.stderr).toContain("newer run 2 (failed) finished no report");

    expect(fancl(["report", "--store", copy, "--run", "1"]).stderr).toContain("from run 1 (ok");
    const second = fancl(["report", "--store", copy, "--run", "2"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("--run 2: run 2 (failed");
    const missing = fancl(["report", "--store", copy, "--run", "9"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("its runs are 2, 1");
  });
});

describe("fancl predict --model", () => {
  const caseDir = () => {
    const synth = [...kinds].find(([, kind]) => kind === "synth")![0];
    return path.join(store, "cache", synth.slice(0, 2), synth, "cases", "SYN-00000-000");
  };

  it("takes the shortest unique prefix of a train node's key, as show does", () => {
    const keys = [...kinds.keys()];
    const train = [...kinds].find(([, kind]) => kind === "train")![0];
    const prefix = uniquePrefix(train, keys);
    expect(fancl(["show", prefix, "--store", store, "--path"]).code).toBe(0);

    const out = path.join(dir, "predicted", "nested", "SYN-00000-000.nii.gz");
    const result = fancl(["predict", "--model", prefix, "--case", caseDir(), "--out", out, "--store", store]);
    expect(result.stderr).not.toContain("neither a model folder");
    expect(result.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it("calls a prefix of several keys ambiguous", () => {
    const keys = [...kinds.keys()];
    const shared = keys.map((key) => key[0]!).find((first, i, firsts) => firsts.indexOf(first) !== i)!;
    const result = fancl(["predict", "--model", shared, "--case", caseDir(), "--out", path.join(dir, "x.nii.gz"), "--store", store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ambiguous");
  });

  it("checks the case folder before loading anything", () => {
    const missing = path.join(dir, "no-such-case");
    const result = fancl(["predict", "--model", "ab", "--case", missing, "--out", path.join(dir, "x.nii.gz"), "--store", store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--case ${missing}: folder not found`);
    expect(result.stderr).not.toContain("ENOENT");
    expect(result.stderr).not.toContain("tensor backend");
  });
});

describe("fancl evaluate --out", () => {
  it("creates the folder of the output file", () => {
    const synth = [...kinds].find(([, kind]) => kind === "synth")![0];
    const seg = path.join(store, "cache", synth.slice(0, 2), synth, "cases", "SYN-00000-000", "SYN-00000-000-seg.nii.gz");
    const out = path.join(dir, "scores", "a", "b.csv");
    const result = fancl(["evaluate", "--gt", seg, "--pred", seg, "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // A label map scored against itself: Dice 1 and HD95 0 in every region.
    const rows = readFileSync(out, "utf8").trim().split("\n");
    expect(rows[0]).toBe("case,region,dice,hd95");
    expect(rows.slice(1).map((row) => row.split(",").slice(2).join(","))).toEqual(["1,0", "1,0", "1,0"]);
  });
});
