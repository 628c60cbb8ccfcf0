import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Effect, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../dag/app.js";
import { makePlanCommand } from "../../dag/cli/plan.js";
import type { GraphNode } from "../../dag/graph.js";
import type { FileDigest, NodeKey } from "../../dag/key.js";
import type { PlanEntry } from "../../dag/plan.js";
import { formatPlan, missReason } from "../../dag/plan.js";
import { defineStage } from "../../dag/stage.js";
import { Store } from "../../dag/store/store.js";

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) => schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)));

const toy = (name: string, params: Schema.Decoder<unknown>, inputs: string[]) =>
  defineStage({ name, version: "1", params, inputs, outputs: [], worker: false, resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }), run: async () => ({}) });

const stages = [
  toy("prep", Schema.Struct({ spacing: withDefault(Schema.Number, 1) }), ["case"]),
  toy("train", Schema.Struct({ lr: Schema.Number, epochs: withDefault(Schema.Int, 10) }), ["data"]),
];

const ExperimentSchema = Schema.Struct({
  cases: Schema.Array(Schema.String),
  train: Schema.Struct({ lr: Schema.Number, epochs: Schema.optionalKey(Schema.Int) }),
});
type Experiment = typeof ExperimentSchema.Type;

/** prep per case file (shared by every point), one train per point labelled train[point]. */
const app: Application<Experiment> = {
  registryModule: "/nonexistent/registry.js",
  stages,
  experimentSchema: ExperimentSchema,
  buildGraph(experiment, graph) {
    for (const point of experiment.points) {
      const preps = point.config.cases.map((file, i) =>
        graph.node("prep", {}, { case: graph.file(resolve(dirname(experiment.file), file)) }, { label: `prep[${i}]` }),
      );
      graph.node("train", point.config.train, { data: preps }, { label: `train[${point.name}]` });
    }
  },
};

const dir = mkdtempSync(join(tmpdir(), "fancl-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "a.bin"), "case a");
writeFileSync(join(dir, "b.bin"), "case b");
let stores = 0;
/** A path for a fresh, empty store. */
const freshStore = (): string => join(dir, `runs-${stores++}`);

function experimentFile(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

interface JsonEntry { key: NodeKey; kind: string; labels: string[]; params: Record<string, unknown>; inputs: GraphNode["inputs"]; cached: boolean; reason: string | null; path: string }

async function plan(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const command = makePlanCommand(app, { out: (text) => void (out += text), err: (text) => void (err += text) });
  const code = await command.run(argv);
  return { code, out, err };
}

async function planEntries(storeDir: string, argv: string[]): Promise<JsonEntry[]> {
  const result = await plan([...argv, "--json", "--store", storeDir]);
  expect(result.err).toBe("");
  return JSON.parse(result.out) as JsonEntry[];
}

/** Commits a node to the store as if it had run, with an empty output list. */
async function commit(storeDir: string, entry: JsonEntry): Promise<void> {
  const store = await Store.open(storeDir);
  try {
    const tmp = await store.createTmpDir(entry.key);
    const now = new Date().toISOString();
    await store.commit(tmp, {
      key: entry.key, kind: entry.kind, version: "1", params: entry.params, inputs: entry.inputs,
      labels: entry.labels, outputs: [], start: now, end: now, host: "test", summary: {},
    });
  } finally {
    await store.close();
  }
}

const single = experimentFile("single.yaml", ["cases: [a.bin, b.bin]", "train:", "  lr: 0.1"]);

describe("plan on an empty store", () => {
  it("lists every node as never run, with its cache folder", async () => {
    const storeDir = freshStore();
    const entries = await planEntries(storeDir, [single]);
    expect(entries.map((e) => [e.kind, e.labels, e.cached, e.reason])).toEqual([
      ["prep", ["prep[0]"], false, "never run"],
      ["prep", ["prep[1]"], false, "never run"],
      ["train", ["train[default]"], false, "never run"],
    ]);
    const train = entries[2]!;
    expect(train.path).toBe(join(storeDir, "cache", train.key.slice(0, 2), train.key));
    expect(train.params).toEqual({ lr: 0.1, epochs: 10 });
  });
});

describe("plan against cached nodes", () => {
  // The store contains every node of `single` (lr 0.1, cases a and b), as if it had run.
  const storeDir = freshStore();
  beforeAll(async () => {
    for (const entry of await planEntries(storeDir, [single])) await commit(storeDir, entry);
  });

  it("marks committed nodes cached and explains the param that differs", async () => {
    const cachedTrain = (await planEntries(storeDir, [single]))[2]!;
    expect(cachedTrain.cached).toBe(true);
    expect(cachedTrain.reason).toBeNull();

    const entries = await planEntries(storeDir, [single, "--set", "train.lr=0.2"]);
    expect(entries.map((e) => e.cached)).toEqual([true, true, false]);
    expect(entries[2]!.reason).toBe(`vs cached ${cachedTrain.key.slice(0, 12)}: params.lr 0.1 → 0.2`);
  });

  it("explains an input that changed upstream", async () => {
    const cachedTrain = (await planEntries(storeDir, [single]))[2]!;
    const entries = await planEntries(storeDir, [single, "--set", "cases=[a.bin]"]);
    expect(entries.map((e) => e.cached)).toEqual([true, false]);
    expect(entries[1]!.reason).toBe(`vs cached ${cachedTrain.key.slice(0, 12)}: input data has 1 entries, cached 2`);
  });

  it("reports a --force kind as forced", async () => {
    const entries = await planEntries(storeDir, [single, "--force", "prep"]);
    expect(entries.map((e) => e.reason)).toEqual(["forced by --force prep", "forced by --force prep", null]);
  });

  it("prints the table with sibling differences", async () => {
    const variants = experimentFile("variants.yaml", [
      "cases: [a.bin]",
      "train:",
      "  lr: 0.1",
      "variants:",
      "  slow: {}",
      "  fast:",
      "    train.lr: 0.5",
    ]);
    const { code, out } = await plan([variants, "--store", storeDir]);
    expect(code).toBe(0);
    const lines = out.split("\n");
    expect(lines[0]).toMatch(/^key +kind +label +status +params +reason$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{12}  prep +prep\[0\] +cached +-$/);
    expect(lines[2]).toMatch(/^[0-9a-f]{12}  train +train\[slow\] +missing +lr=0\.1 +vs cached [0-9a-f]{12}: input data has 1 entries, cached 2$/);
    expect(lines[3]).toMatch(/^[0-9a-f]{12}  train +train\[fast\] +missing +lr=0\.5 +vs cached [0-9a-f]{12}: params\.lr 0\.1 → 0\.5; input data has 1 entries, cached 2$/);
    expect(lines[5]).toBe("3 nodes: 1 cached, 2 to run");
  });
});

describe("plan over a broken cache entry", () => {
  it("lists a node whose manifest does not parse as missing, with the reason", async () => {
    const storeDir = freshStore();
    for (const entry of await planEntries(storeDir, [single])) await commit(storeDir, entry);
    const train = (await planEntries(storeDir, [single]))[2]!;
    writeFileSync(join(train.path, "manifest.json"), "{ truncated");

    const entries = await planEntries(storeDir, [single]);
    expect(entries.map((e) => e.cached)).toEqual([true, true, false]);
    expect(entries[2]!.reason).toBe("manifest unreadable (not valid JSON); the run replaces it");
  });
});

describe("formatPlan", () => {
  const entry = (differing: Record<string, unknown>): PlanEntry => ({
    key: "ab".repeat(32) as NodeKey, kind: "train", labels: ["train[a]"], params: {}, inputs: {}, differing,
    cached: false, forced: false, reason: "never run", path: "/runs/cache/ab/abab",
  });

  it("shortens long lists to their length", () => {
    const cases = Array.from({ length: 6 }, (_, i) => `SYN-0000${i}-000`);
    const line = formatPlan([entry({ cases, lr: 0.1 })]).split("\n")[1]!;
    expect(line).toBe("abababababab  train  train[a]  missing  cases=[6 items] lr=0.1  never run");
  });

  it("lets only the row with long params overflow", () => {
    const long = { a: "x".repeat(40), b: "y".repeat(40), c: "z".repeat(40), d: "w".repeat(40) };
    const [header, short, wide] = formatPlan([entry({ a: 1 }), entry(long)]).split("\n");
    const reasonColumn = header!.indexOf("reason");
    // key 12, kind 5, label 8 and status 7 columns, then params at most 48 wide, two spaces apart.
    expect(reasonColumn).toBeLessThanOrEqual(12 + 5 + 8 + 7 + 48 + 5 * 2);
    expect(short!.indexOf("never run")).toBe(reasonColumn);
    expect(wide).toContain(`a=${long.a} b=${long.b} c=${long.c} d=${long.d}  never run`);
  });

  it("cuts long strings at 40 characters", () => {
    const line = formatPlan([entry({ note: "x".repeat(50) })]).split("\n")[1]!;
    expect(line).toContain(` note=${"x".repeat(39)}… `);
  });
});

describe("missReason", () => {
  const digestA = "a".repeat(64) as FileDigest;
  const digestB = "b".repeat(64) as FileDigest;
  const node: GraphNode = {
    key: "1".repeat(64) as NodeKey, kind: "prep", version: "2", params: { spacing: 1, crop: { margin: 3 } },
    inputs: { case: { file: "/data/a.nii.gz", digest: digestB } }, labels: [], tags: {}, resources: { cpu: 1, gpus: 0, gpuMemoryMiB: 0 },
  };

  it("says never run when nothing of the kind is cached", () => {
    expect(missReason(node, [])).toBe("never run");
  });

  it("picks the cached node with the fewest differences and names a changed file", () => {
    const far = { key: "2".repeat(64) as NodeKey, kind: "prep", version: "1", params: { spacing: 2, crop: { margin: 4 } }, inputs: { case: { file: "/data/a.nii.gz", digest: digestA } } };
    const near = { key: "3".repeat(64) as NodeKey, kind: "prep", version: "2", params: { spacing: 1, crop: { margin: 3 } }, inputs: { case: { file: "/data/a.nii.gz", digest: digestA } } };
    expect(missReason(node, [far, near])).toBe("vs cached 333333333333: input case file /data/a.nii.gz (aaaaaaaaaaaa) → file /data/a.nii.gz (bbbbbbbbbbbb)");
  });

  it("prefers the cached node with the same label on a tie", () => {
    const labelled = { ...node, labels: ["prep[case a]"] };
    const other = { key: "5".repeat(64) as NodeKey, kind: "prep", version: "2", params: { spacing: 2, crop: { margin: 3 } }, inputs: node.inputs, labels: ["prep[case b]"] };
    const same = { key: "6".repeat(64) as NodeKey, kind: "prep", version: "2", params: { spacing: 3, crop: { margin: 3 } }, inputs: node.inputs, labels: ["prep[case a]"] };
    // Both differ in spacing alone; the one labelled like the node is named, in either order.
    expect(missReason(labelled, [other, same])).toBe("vs cached 666666666666: params.spacing 3 → 1");
    expect(missReason(labelled, [same, other])).toBe("vs cached 666666666666: params.spacing 3 → 1");
  });

  it("lists the version and nested params, at most three then a count", () => {
    const cached = { key: "4".repeat(64) as NodeKey, kind: "prep", version: "1", params: { spacing: 2, crop: { margin: 4 } }, inputs: { case: { file: "/data/b.nii.gz", digest: digestA } } };
    expect(missReason(node, [cached])).toBe("vs cached 444444444444: version 1 → 2; params.crop.margin 4 → 3; params.spacing 2 → 1; and 1 more");
  });
});

describe("plan command line", () => {
  it("prints help and exits 0", async () => {
    const { code, out } = await plan(["--help"]);
    expect(code).toBe(0);
    expect(out.startsWith("usage: fancl plan [options] FILE\n")).toBe(true);
    expect(out).toContain("--json");
    expect(out).toContain("--store DIR");
  });

  it("rejects an unknown option with a suggestion and exits 2", async () => {
    const { code, err } = await plan([single, "--jsno"]);
    expect(code).toBe(2);
    expect(err).toBe('plan: unknown option "--jsno" (did you mean "--json"?)\n');
  });

  it("needs exactly one file", async () => {
    const { code, err } = await plan([]);
    expect(code).toBe(2);
    expect(err).toBe("plan: expected FILE, found none (see plan --help)\n");
  });

  it("prints experiment errors with their position and exits 2", async () => {
    const bad = experimentFile("bad.yaml", ["cases: [a.bin]", "train:", "  lr: quick"]);
    const { code, err } = await plan([bad, "--store", freshStore()]);
    expect(code).toBe(2);
    expect(err).toBe(`${bad}:3:7: train.lr: expected number, got "quick"\n`);
  });
});
