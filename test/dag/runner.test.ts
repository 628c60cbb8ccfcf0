import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GraphBuilder, type Graph, type NodeRef } from "../../dag/graph.js";
import type { NodeKey } from "../../dag/key.js";
import type { StageKind } from "../../dag/stage.js";
import { defaultWorkerModule, localExecutor } from "../../dag/runner/executor.js";
import { GpuPool, type GpuDevice } from "../../dag/runner/gpu-pool.js";
import { PlainReporter } from "../../dag/runner/reporter.js";
import { runGraph, type RunnerOptions } from "../../dag/runner/runner.js";
import { describeOutputs } from "../../dag/store/manifest.js";
import { Store } from "../../dag/store/store.js";
// @ts-expect-error: a plain .mjs fixture without type declarations
import * as toy from "./fixtures/toy-stages.mjs";

const registryModule = path.resolve("test/dag/fixtures/toy-stages.mjs");
const stages = (toy as { stages: StageKind[] }).stages;

interface ToyEvent {
  readonly event: "start" | "end" | "fail";
  readonly name: string;
  readonly pid: number;
  readonly at: number;
  readonly cuda?: string | null;
  readonly gpuMemoryMiB?: number;
}

let root: string;
let store: Store;
let logFile: string;
let output: string[];

beforeAll(() => {
  if (!existsSync(defaultWorkerModule())) throw new Error(`${defaultWorkerModule()} is missing: run \`npm run build\` before these tests`);
});

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "fancl-runner-"));
  store = await Store.open(path.join(root, "runs"));
  logFile = path.join(root, "toy.log");
  process.env["FANCL_TOY_LOG"] = logFile;
  output = [];
});

afterEach(async () => {
  delete process.env["FANCL_TOY_LOG"];
  await store.close();
  await rm(root, { recursive: true, force: true });
});

async function toyEvents(): Promise<ToyEvent[]> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ToyEvent);
}

async function started(): Promise<string[]> {
  return (await toyEvents()).filter((e) => e.event === "start").map((e) => e.name).sort();
}

function options(overrides: Partial<RunnerOptions> = {}): RunnerOptions {
  return {
    store,
    stages,
    registryModule,
    jobs: 4,
    gpus: new GpuPool([]),
    executor: localExecutor(),
    reporter: new PlainReporter({ write: (text: string) => output.push(text) }),
    ...overrides,
  };
}

/** a, b leaves; ab = join(a, b); c an independent leaf. */
async function diamond(params: { failA?: boolean; kind?: string } = {}): Promise<{ graph: Graph; keys: Record<string, NodeKey> }> {
  const g = new GraphBuilder(stages);
  const kind = params.kind ?? "leaf";
  const a = g.node(kind, { name: "a", ...(params.failA === true ? { fail: true } : {}) }, {}, { label: "a" });
  const b = g.node(kind, { name: "b" }, {}, { label: "b" });
  const ab = g.node("join", { name: "ab" }, { parts: [a, b] }, { label: "ab" });
  const c = g.node(kind, { name: "c", sleepMs: 300 }, {}, { label: "c" });
  const graph = await g.finalize((file) => store.fileDigest(file));
  const keyOf = (ref: NodeRef) => graph.order[ref.id]!;
  return { graph, keys: { a: keyOf(a), b: keyOf(b), ab: keyOf(ab), c: keyOf(c) } };
}

describe("runGraph", () => {
  it("computes once, then reuses", async () => {
    const { graph, keys } = await diamond();
    const first = await Effect.runPromise(runGraph(graph, options()));

    expect([...first.outcomes.values()]).toEqual(["computed", "computed", "computed", "computed"]);
    expect(await readFile(path.join(store.nodeDir(keys["ab"]!), "out.txt"), "utf8")).toBe("ab+a+b");
    expect(await started()).toEqual(["a", "ab", "b", "c"]);
    const workerPids = new Set((await toyEvents()).map((e) => e.pid));
    expect(workerPids.has(process.pid)).toBe(false);

    const second = await Effect.runPromise(runGraph(graph, options()));
    expect([...second.outcomes.values()]).toEqual(["cached", "cached", "cached", "cached"]);
    expect(await started()).toEqual(["a", "ab", "b", "c"]);
  });

  it("fills the manifest and metrics", async () => {
    const { graph, keys } = await diamond();
    await Effect.runPromise(runGraph(graph, options()));

    const manifest = await store.manifest(keys["ab"]!);
    expect(manifest).toMatchObject({
      key: keys["ab"],
      kind: "join",
      params: { name: "ab" },
      inputs: { parts: [{ node: keys["a"] }, { node: keys["b"] }] },
      labels: ["ab"],
      backend: "toy-backend",
      outputs: [{ path: "out.txt", size: 6 }],
    });
    expect(await store.index.metrics(keys["ab"]!)).toEqual([{ name: "length", value: 6 }]);
    expect((await store.index.events(keys["ab"]!)).map((e) => e.event)).toEqual(["start", "end"]);
  });

  it("recomputes forced kinds and dependents", async () => {
    const g = new GraphBuilder(stages);
    const a = g.node("leaf", { name: "a" }, {});
    const i = g.node("inline", { name: "i" }, {});
    g.node("join", { name: "ai" }, { parts: [a, i] });
    const graph = await g.finalize((file) => store.fileDigest(file));
    await Effect.runPromise(runGraph(graph, options()));
    await rm(logFile);

    const forced = await Effect.runPromise(runGraph(graph, options({ force: ["inline"] })));
    expect([...forced.outcomes.values()].sort()).toEqual(["cached", "computed", "computed"]);
    expect(await started()).toEqual(["ai", "i"]);
    expect(await readdir(path.join(root, "runs", "tmp"))).toEqual([]);
  });
});

describe("runGraph after a failure", () => {
  it("stops and skips dependents", async () => {
    const { graph, keys } = await diamond({ failA: true });
    const result = await Effect.runPromise(runGraph(graph, options({ jobs: 1 })));

    expect(result.outcomes.get(keys["a"]!)).toBe("failed");
    expect(result.outcomes.get(keys["ab"]!)).toBe("skipped");
    // One CPU slot: nothing starts after a fails, so b and c finished if they ran before a and
    // never started otherwise (the order of independent roots is the scheduler's choice).
    const failedAt = (await toyEvents()).find((e) => e.event === "fail")!.at;
    expect((await toyEvents()).filter((e) => e.event === "start" && e.at > failedAt)).toEqual([]);
    const startedBefore = await started();
    for (const name of ["b", "c"]) {
      expect(result.outcomes.get(keys[name]!)).toBe(startedBefore.includes(name) ? "computed" : "not-started");
    }
    expect(await store.has(keys["a"]!)).toBe(false);

    const failure = result.failures[0]!;
    expect(failure.key).toBe(keys["a"]);
    expect(failure.message).toBe("toy node a failed on purpose");
    // The worker wrote 30 numbered lines, then the error's stack: the tail is the last 20 of those.
    const numbered = failure.stderrTail.filter((line) => line.startsWith("toy stderr line"));
    expect(numbered.length).toBeGreaterThan(0);
    expect(numbered).toEqual(Array.from({ length: numbered.length }, (_, i) => `toy stderr line ${31 - numbered.length + i}`));
    expect(failure.stderrTail).toContain("Error: toy node a failed on purpose");
    expect(failure.stderrTail).toHaveLength(20);
    expect((await store.index.events(keys["a"]!)).map((e) => [e.event, e.message])).toEqual([
      ["start", null],
      ["error", "toy node a failed on purpose"],
    ]);
    expect(output.join("")).toContain(`failed ${keys["a"]!.slice(0, 12)}`);
    expect(output.join("")).toContain(`of node ${keys["a"]}`);
    expect(await readdir(path.join(root, "runs", "tmp"))).toEqual([]);
  });

  it("finishes independent branches with keepGoing", async () => {
    const { graph, keys } = await diamond({ failA: true });
    const result = await Effect.runPromise(runGraph(graph, options({ jobs: 1, keepGoing: true })));

    expect(result.outcomes.get(keys["a"]!)).toBe("failed");
    expect(result.outcomes.get(keys["ab"]!)).toBe("skipped");
    expect(result.outcomes.get(keys["b"]!)).toBe("computed");
    expect(result.outcomes.get(keys["c"]!)).toBe("computed");
    expect(output.join("")).toMatch(/skip .*ab .*upstream node [0-9a-f]{12} failed/);
  });
});

describe("runGraph with GPU leases on fake devices", () => {
  const devices: GpuDevice[] = [
    { id: "0", memoryMiB: 1000 },
    { id: "1", memoryMiB: 1000 },
  ];

  /** Computes the peak GPU memory that overlapping toy nodes took on each device, from their own start and end records. */
  async function peakMemoryByDevice(): Promise<Record<string, number>> {
    const events = (await toyEvents()).filter((e) => e.event !== "fail").sort((x, y) => x.at - y.at || (x.event === "end" ? -1 : 1));
    const current: Record<string, number> = {};
    const peak: Record<string, number> = {};
    for (const event of events) {
      for (const device of (event.cuda ?? "").split(",").filter((d) => d !== "")) {
        current[device] = (current[device] ?? 0) + (event.event === "start" ? 1 : -1) * (event.gpuMemoryMiB ?? 0);
        peak[device] = Math.max(peak[device] ?? 0, current[device]!);
      }
    }
    return peak;
  }

  it("never oversubscribes device memory", async () => {
    const g = new GraphBuilder(stages);
    for (let i = 0; i < 6; i++) g.node("leaf", { name: `big${i}`, gpus: 1, gpuMemoryMiB: 600, sleepMs: 150 }, {});
    for (let i = 0; i < 4; i++) g.node("leaf", { name: `small${i}`, gpus: 1, gpuMemoryMiB: 300, sleepMs: 150 }, {});
    const graph = await g.finalize((file) => store.fileDigest(file));
    const pool = new GpuPool(devices);

    const result = await Effect.runPromise(runGraph(graph, options({ jobs: 8, gpus: pool })));
    expect([...result.outcomes.values()].every((o) => o === "computed")).toBe(true);

    const starts = (await toyEvents()).filter((e) => e.event === "start");
    expect(new Set(starts.map((e) => e.cuda))).toEqual(new Set(["0", "1"]));
    const peak = await peakMemoryByDevice();
    expect(peak["0"]).toBeLessThanOrEqual(1000);
    expect(peak["1"]).toBeLessThanOrEqual(1000);
    expect(pool.inUse()).toEqual({ "0": 0, "1": 0 });
    expect((await store.manifest(graph.order[0]!))?.device).toMatch(/^cuda:[01]$/);
  });

  it("releases a failed node's lease", async () => {
    const g = new GraphBuilder(stages);
    g.node("leaf", { name: "gpu-fail", gpus: 2, gpuMemoryMiB: 1000, fail: true }, {});
    for (let i = 0; i < 3; i++) g.node("leaf", { name: `whole${i}`, gpus: 2, gpuMemoryMiB: 1000 }, {});
    const graph = await g.finalize((file) => store.fileDigest(file));
    const pool = new GpuPool(devices);

    const result = await Effect.runPromise(runGraph(graph, options({ jobs: 8, gpus: pool, keepGoing: true })));
    expect([...result.outcomes.values()].sort()).toEqual(["computed", "computed", "computed", "failed"]);
    expect((await toyEvents()).filter((e) => e.event === "start").every((e) => e.cuda === "0,1" || e.cuda === "1,0")).toBe(true);
    expect(pool.inUse()).toEqual({ "0": 0, "1": 0 });
  });

  it("rejects GPU nodes without GPUs", async () => {
    const g = new GraphBuilder(stages);
    g.node("leaf", { name: "cpu" }, {});
    g.node("leaf", { name: "needs-gpu", gpus: 1, gpuMemoryMiB: 100 }, {}, { label: "train-fold0" });
    const graph = await g.finalize((file) => store.fileDigest(file));

    const exit = await Effect.runPromiseExit(runGraph(graph, options()));
    expect(Exit.isFailure(exit)).toBe(true);
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toMatch(/train-fold0.*--gpus/);
    expect(await started()).toEqual([]);
  });
});

describe("runGraph interrupted", () => {
  it("kills workers and cleans up", async () => {
    const g = new GraphBuilder(stages);
    g.node("leaf", { name: "slow1", sleepMs: 60_000, gpus: 1, gpuMemoryMiB: 500 }, {});
    g.node("leaf", { name: "slow2", sleepMs: 60_000 }, {});
    const graph = await g.finalize((file) => store.fileDigest(file));
    const pool = new GpuPool([{ id: "0", memoryMiB: 1000 }]);

    const fiber = Effect.runFork(runGraph(graph, options({ gpus: pool })));
    while ((await started()).length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    const pids = (await toyEvents()).map((e) => e.pid);
    await Effect.runPromise(Fiber.interrupt(fiber));

    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(await readdir(path.join(root, "runs", "tmp"))).toEqual([]);
    expect(await readdir(path.join(root, "runs", "locks"))).toEqual([]);
    expect(await store.cacheKeys()).toEqual([]);
    expect(pool.inUse()).toEqual({ "0": 0 });
  });
});

describe("runGraph with a lock held by another process", () => {
  it("waits, then reuses the result", async () => {
    const g = new GraphBuilder(stages);
    g.node("inline", { name: "shared" }, {});
    const graph = await g.finalize((file) => store.fileDigest(file));
    const key = graph.order[0]!;

    // A live process plays another `fancl run` that owns the key's lock.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    await writeFile(path.join(root, "runs", "locks", `${key}.lock`), JSON.stringify({ pid: other.pid, host: os.hostname(), since: "" }));
    const fiber = Effect.runFork(runGraph(graph, options({ lockPollMs: 50 })));

    await new Promise((resolve) => setTimeout(resolve, 300));
    const tmp = await store.createTmpDir(key);
    await writeFile(path.join(tmp, "out.txt"), "from the other process");
    await store.commit(tmp, {
      key,
      kind: "inline",
      version: "1",
      params: { name: "shared" },
      inputs: {},
      labels: [],
      outputs: await describeOutputs(tmp, ["out.txt"], "inline"),
      start: new Date().toISOString(),
      end: new Date().toISOString(),
      host: "other",
      summary: {},
    });
    await rm(path.join(root, "runs", "locks", `${key}.lock`));
    other.kill();

    const result = await Effect.runPromise(Fiber.join(fiber));
    expect(result.outcomes.get(key)).toBe("cached");
    expect(await started()).toEqual([]);
    expect(output.join("")).toContain(`wait   ${key.slice(0, 12)}`);
  });
});
