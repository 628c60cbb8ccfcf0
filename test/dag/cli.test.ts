import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Store } from "../../dag/store/store.js";

// The engine verbs run as real processes: test/dag/fixtures/toy-cli.mjs calls the compiled
// command factories in dist/ with a toy application (leaf, join and report nodes).
const cli = path.resolve("test/dag/fixtures/toy-cli.mjs");

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface ToyEvent {
  readonly event: "start" | "end" | "fail";
  readonly name: string;
  readonly pid: number;
}

let dir: string;
let logFile: string;

beforeAll(() => {
  if (!existsSync(path.resolve("dist/dag/cli/run.js"))) throw new Error("dist/dag/cli/run.js is missing: run `npm run build` before these tests");
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "fancl-cli-"));
  logFile = path.join(dir, "toy.log");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(args: readonly string[]) {
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, FANCL_TOY_LOG: logFile }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, finished };
}

function fancl(...args: string[]): Promise<Finished> {
  return start(args).finished;
}

async function experiment(name: string, yaml: string): Promise<string> {
  await writeFile(path.join(dir, name), yaml);
  return name;
}

async function toyEvents(): Promise<ToyEvent[]> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ToyEvent);
}

async function startsByName(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const event of await toyEvents()) if (event.event === "start") counts[event.name] = (counts[event.name] ?? 0) + 1;
  return counts;
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const storeDir = () => path.join(dir, "runs");
const cacheKeys = async () => {
  const store = await Store.open(storeDir());
  try {
    return await store.cacheKeys();
  } finally {
    await store.close();
  }
};

/**
 * Runs `file` (two leaves, leaf1 slow) until leaf0 is committed and leaf1 has started, then kills
 * the runner and leaf1's orphaned worker with SIGKILL, as a machine reboot would.
 */
async function killRunDuringLeaf1(file: string): Promise<void> {
  const run = start(["run", file, "--jobs", "2"]);
  await waitFor(async () => (await cacheKeys()).length === 1, "leaf0 to be committed");
  await waitFor(async () => (await toyEvents()).some((e) => e.event === "start" && e.name === "leaf1"), "leaf1 to start");
  // leaf0's lock goes just after its commit; on a loaded machine the kill could land in between.
  await waitFor(async () => (await readdir(path.join(storeDir(), "locks"))).length === 1, "leaf0's lock to be released");
  run.child.kill("SIGKILL");
  await run.finished;
  process.kill((await toyEvents()).find((e) => e.name === "leaf1")!.pid, "SIGKILL");
}

describe("fancl run", () => {
  it("computes, reports, then reuses", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\n");
    const first = await fancl("run", file, "--jobs", "2");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("# toy report\n- leaf0\n- leaf1\n");
    expect(first.stderr).toMatch(/run 1: 3 nodes: 3 computed/);

    const second = await fancl("run", file);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/run 2: 3 nodes: 3 cached/);
    expect(second.stdout).toBe(first.stdout);
    expect(await startsByName()).toEqual({ leaf0: 1, leaf1: 1, "toy report": 1 });
  });

  it("lists nodes with --dry-run", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\n");
    const dry = await fancl("run", file, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would run {2}[0-9a-f]{12} {2}leaf {2}leaf0/);
    expect(dry.stdout).toContain("3 of 3 nodes would run; 0 are cached");
    expect(await toyEvents()).toEqual([]);
  });

  it("rejects an invalid experiment", async () => {
    const file = await experiment("bad.yaml", "leaves: many\n");
    const result = await fancl("run", file);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("bad.yaml");
  });
});

describe("fancl run options", () => {
  it("rejects unknown executors and kinds", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");

    const slurm = await fancl("run", file, "--executor", "slurm");
    expect(slurm.code).toBe(2);
    expect(slurm.stderr).toContain("--executor slurm is not available");

    const force = await fancl("run", file, "--force", "lef");
    expect(force.code).toBe(2);
    expect(force.stderr).toMatch(/--force lef: no stage kind has that name.*"leaf"/);
    expect(await toyEvents()).toEqual([]);
  });
});

describe("fancl run after a failure", () => {
  it("reports the failed node", async () => {
    const file = await experiment("exp.yaml", "leaves: 3\ngroup: 2\nfail: [leaf0]\n");
    const result = await fancl("run", file, "--jobs", "1");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/failed [0-9a-f]{12} {2}leaf {2}leaf0 .*toy node leaf0 failed on purpose/);
    expect(result.stderr).toMatch(/last 20 line\(s\) of stderr of node [0-9a-f]{64}/);
    expect(result.stderr).toContain("| toy stderr line 30");
    expect(result.stderr).toMatch(/skip {3}[0-9a-f]{12} {2}join {2}group0/);
    expect(result.stdout).toBe("");
    // The failed node wrote no checkpoint, so no scratch folder of it stays behind.
    expect(await readdir(path.join(storeDir(), "scratch"))).toEqual([]);
  });

  it("finishes independent branches with --keep-going", async () => {
    const file = await experiment("exp.yaml", "leaves: 3\ngroup: 2\nfail: [leaf0]\n");
    const result = await fancl("run", file, "--jobs", "1", "--keep-going");
    expect(result.code).toBe(1);
    const starts = await startsByName();
    expect(starts).toMatchObject({ leaf0: 1, leaf1: 1, leaf2: 1, group1: 1 });
    expect(starts["group0"]).toBeUndefined();
    // 6 nodes: leaf0 fails; leaf1, leaf2 and group1 (leaf2 alone) are computed; group0 and the report are skipped.
    expect(result.stderr).toMatch(/6 nodes: 3 computed, 1 failed, 2 skipped/);
  });
});

describe("two fancl run processes on one store", () => {
  it("compute each node once", async () => {
    const file = await experiment("exp.yaml", "leaves: 3\nsleepMs: 400\nslow: [leaf0, leaf1, leaf2]\n");
    const [a, b] = await Promise.all([fancl("run", file, "--jobs", "2"), fancl("run", file, "--jobs", "2")]);

    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toBe("# toy report\n- leaf0\n- leaf1\n- leaf2\n");
    expect(b.stdout).toBe(a.stdout);
    expect(await startsByName()).toEqual({ leaf0: 1, leaf1: 1, leaf2: 1, "toy report": 1 });
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([]);
  });
});

describe("fancl run interrupted", () => {
  it("exits 130 and cleans up", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\nsleepMs: 60000\nslow: [leaf0, leaf1]\n");
    const run = start(["run", file, "--jobs", "2"]);
    await waitFor(async () => (await toyEvents()).filter((e) => e.event === "start").length === 2, "both leaves to start");
    const workers = (await toyEvents()).map((e) => e.pid);

    run.child.kill("SIGINT");
    const result = await run.finished;
    expect(result.code).toBe(130);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
    expect(await readdir(path.join(storeDir(), "tmp"))).toEqual([]);
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([]);
    expect(await cacheKeys()).toEqual([]);

    const runs = await fancl("runs");
    expect(runs.stdout).toMatch(/1 .* interrupted {2}3 {2}.*exp\.yaml/);
  });
});

describe("fancl run after a SIGKILL", () => {
  it("resumes after a killed worker", async () => {
    const file = await experiment("exp.yaml", "leaves: 3\nsleepMs: 60000\nslow: [leaf2]\n");
    const run = start(["run", file, "--jobs", "3"]);
    await waitFor(async () => (await toyEvents()).some((e) => e.event === "start" && e.name === "leaf2"), "leaf2 to start");
    await waitFor(async () => (await toyEvents()).filter((e) => e.event === "end").length === 2, "leaf0 and leaf1 to end");
    await waitFor(async () => (await cacheKeys()).length === 2, "leaf0 and leaf1 to be committed");
    process.kill((await toyEvents()).find((e) => e.name === "leaf2")!.pid, "SIGKILL");

    const result = await run.finished;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the worker process was killed by SIGKILL/);
    expect(await cacheKeys()).toHaveLength(2);
    expect(await readdir(path.join(storeDir(), "tmp"))).toEqual([]);

    // Rerun without the slow leaf's sleep: only leaf2 and the report are computed.
    await experiment("exp.yaml", "leaves: 3\n");
    await rm(logFile);
    const rerun = await fancl("run", file);
    expect(rerun.code).toBe(0);
    expect(await startsByName()).toEqual({ leaf2: 1, "toy report": 1 });
  });

  it("resumes after a killed runner", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\nsleepMs: 2000\nslow: [leaf1]\n");
    await killRunDuringLeaf1(file);

    expect(await cacheKeys()).toHaveLength(1);
    expect(await readdir(path.join(storeDir(), "locks"))).toHaveLength(1);

    await rm(logFile);
    const rerun = await fancl("run", file);
    expect(rerun.code).toBe(0);
    expect(await startsByName()).toEqual({ leaf1: 1, "toy report": 1 });
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([]);
    // The killed run's tmp folder went when the rerun started; the killed run reads as interrupted.
    expect(await readdir(path.join(storeDir(), "tmp"))).toEqual([]);
    const runs = await fancl("runs");
    expect(runs.stdout).toMatch(/\n2 .* ok +3 +.*exp\.yaml\n1 .* interrupted +3 +.*exp\.yaml\n$/);
  });

  it("lets gc remove the killed run's nodes and scratch folders", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\nsleepMs: 60000\nslow: [leaf1]\n");
    await killRunDuringLeaf1(file);
    const scratch = await readdir(path.join(storeDir(), "scratch"));
    expect(scratch).toHaveLength(1);

    expect((await fancl("runs")).stdout).toMatch(/\n1 .* interrupted +3 +.*exp\.yaml\n$/);
    const dry = await fancl("gc", "--keep-runs", "0", "--dry-run");
    expect(dry.stdout).toContain(`would delete scratch/${scratch[0]}\n`);
    expect(dry.stdout).toContain("would delete 1 node(s)");
    expect(dry.stdout).toContain("1 scratch folder(s)");

    const gc = await fancl("gc", "--keep-runs", "0");
    expect(gc.code).toBe(0);
    expect(await cacheKeys()).toEqual([]);
    expect(await readdir(path.join(storeDir(), "scratch"))).toEqual([]);
  });
});

describe("lock files of a run killed with SIGKILL", () => {
  /** Runs an experiment whose leaf1 is slow, kills the runner and the worker, and returns leaf1's lock file name. */
  async function killedRun(): Promise<string> {
    const file = await experiment("killed.yaml", "leaves: 2\nsleepMs: 60000\nslow: [leaf1]\n");
    await killRunDuringLeaf1(file);
    const locks = await readdir(path.join(storeDir(), "locks"));
    expect(locks).toHaveLength(1);
    expect(await readdir(path.join(storeDir(), "tmp"))).toHaveLength(1);
    return locks[0]!;
  }

  it("are listed by gc --dry-run and removed by gc", async () => {
    const lock = await killedRun();
    const tmp = (await readdir(path.join(storeDir(), "tmp")))[0]!;

    const dry = await fancl("gc", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would delete locks/${lock}\n`);
    expect(dry.stdout).toContain(`would delete tmp/${tmp}\n`);
    expect(dry.stdout).toContain("1 tmp folder(s) and 1 lock file(s) of dead processes");
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([lock]);

    const gc = await fancl("gc");
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain(`deleted locks/${lock}\n`);
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([]);
    expect(await readdir(path.join(storeDir(), "tmp"))).toEqual([]);
  });

  it("are removed when a run that does not use their key starts", async () => {
    await killedRun();
    const other = await experiment("other.yaml", "leaves: 1\ntext: other\n");
    expect((await fancl("run", other)).code).toBe(0);
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual([]);
    expect(await readdir(path.join(storeDir(), "tmp"))).toEqual([]);
  });

  it("of a live process are kept by gc", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\nsleepMs: 60000\nslow: [leaf0]\n");
    const run = start(["run", file]);
    await waitFor(async () => (await toyEvents()).some((e) => e.event === "start" && e.name === "leaf0"), "leaf0 to start");
    const locks = await readdir(path.join(storeDir(), "locks"));
    expect(locks).toHaveLength(1);

    const gc = await fancl("gc");
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain("0 tmp folder(s) and 0 lock file(s)");
    expect(await readdir(path.join(storeDir(), "locks"))).toEqual(locks);
    run.child.kill("SIGINT");
    await run.finished;
  });
});

describe("fancl run over a broken cache entry", () => {
  it("recomputes the node whose manifest does not parse", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\n");
    expect((await fancl("run", file)).code).toBe(0);
    const keys = await cacheKeys();
    const store = await Store.open(storeDir());
    const labelled = await Promise.all(keys.map(async (key) => ({ key, labels: (await store.manifest(key))!.labels })));
    await store.close();
    const broken = labelled.find((entry) => entry.labels.includes("leaf0"))!.key;
    await writeFile(path.join(storeDir(), "cache", broken.slice(0, 2), broken, "manifest.json"), "{ truncated");

    await rm(logFile);
    expect((await fancl("run", file)).code).toBe(0);
    expect(await startsByName()).toEqual({ leaf0: 1 });
    const shown = await fancl("show", broken);
    expect((JSON.parse(shown.stdout) as { key: string }).key).toBe(broken);
  });
});

describe("fancl runs, show, gc and index", () => {
  it("list, show and rebuild the index", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);

    const runs = await fancl("runs");
    expect(runs.stdout).toMatch(/^id +start \(UTC\) +took +status +nodes +experiment\n1 .* ok {6}2 {6}.*exp\.yaml\n$/);

    const key = (await cacheKeys())[0]!;
    const shown = await fancl("show", key.slice(0, 10));
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.stdout) as { key: string }).key).toBe(key);
    expect((await fancl("show", "zz")).code).toBe(1);

    const store = await Store.open(storeDir());
    const before = await store.index.nodes();
    await store.close();
    for (const name of ["index.db", "index.db-wal", "index.db-shm"]) await rm(path.join(storeDir(), name), { force: true });
    const rebuilt = await fancl("index", "rebuild");
    expect(rebuilt.stdout).toContain("index rebuilt from 2 manifest(s)");
    const reopened = await Store.open(storeDir());
    expect(await reopened.index.nodes()).toEqual(before);
    await reopened.close();
  });

  it("index rebuild repairs an index that is not a database", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);
    await writeFile(path.join(storeDir(), "index.db"), "garbage\n");

    const runs = await fancl("runs");
    expect(runs.code).toBe(1);
    expect(runs.stderr).toContain(`${path.join(storeDir(), "index.db")} is not a readable SQLite database`);
    expect(runs.stderr).toContain("fancl index rebuild");

    const rebuilt = await fancl("index", "rebuild");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toContain("moved it to");
    expect(rebuilt.stdout).toContain("index rebuilt from 2 manifest(s)");
    const aside = (await readdir(storeDir())).filter((name) => name.startsWith("index.db.corrupt-") && !/-(wal|shm)$/.test(name));
    expect(aside).toHaveLength(1);
    expect(await readFile(path.join(storeDir(), aside[0]!), "utf8")).toBe("garbage\n");

    // The rebuilt nodes are kept by a plain gc, although the damaged file took the run records with it.
    expect((await fancl("runs")).code).toBe(0);
    expect((await fancl("gc")).stdout).toContain("deleted 0 node(s)");
    expect(await cacheKeys()).toHaveLength(2);
  });

  it("index rebuild keeps nodes of a lost index", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);
    const keys = await cacheKeys();
    expect(keys).toHaveLength(2);

    const removeIndex = async () => {
      for (const name of ["index.db", "index.db-wal", "index.db-shm"]) await rm(path.join(storeDir(), name), { force: true });
    };
    for (const lose of [removeIndex, async () => (await removeIndex(), writeFile(path.join(storeDir(), "index.db"), ""))]) {
      await lose();
      const rebuilt = await fancl("index", "rebuild");
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      expect(rebuilt.stdout).toMatch(/recorded the 2 node\(s\) that no run referenced as run 1\b/);
      expect((await fancl("runs")).stdout).toMatch(/\n1 .* ok +2 +\(index rebuild/);
      const dry = await fancl("gc", "--dry-run");
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain("would delete 0 node(s)");
    }

    // A rebuild over an intact index, whose run references every node, records no run.
    const again = await fancl("index", "rebuild");
    expect(again.stdout).not.toContain("recorded");
    expect((await fancl("runs")).stdout.trim().split("\n")).toHaveLength(2);
    expect((await fancl("gc")).code).toBe(0);
    expect(await cacheKeys()).toEqual(keys);
  });

  it("gc refuses to empty the cache when the index records no runs", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);
    for (const name of ["index.db", "index.db-wal", "index.db-shm"]) await rm(path.join(storeDir(), name), { force: true });

    for (const args of [["gc"], ["gc", "--dry-run"], ["gc", "--keep-runs", "5"]]) {
      const refused = await fancl(...args);
      expect(refused.code, args.join(" ")).toBe(2);
      expect(refused.stderr).toContain(`${path.join(storeDir(), "index.db")} records no runs`);
      expect(refused.stderr).toContain("fancl index rebuild");
      expect(await cacheKeys()).toHaveLength(2);
    }

    const explicit = await fancl("gc", "--keep-runs", "0");
    expect(explicit.code).toBe(0);
    expect(explicit.stdout).toContain("deleted 2 node(s)");
    expect(await cacheKeys()).toEqual([]);
  });

  it("show reports a node whose manifest is missing or not a manifest", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);
    const key = (await cacheKeys())[0]!;
    const manifest = path.join(storeDir(), "cache", key.slice(0, 2), key, "manifest.json");

    for (const text of [undefined, "{}", "null", "[]"]) {
      if (text === undefined) await rm(manifest);
      else await writeFile(manifest, text);
      const shown = await fancl("show", key);
      expect(shown.code, String(text)).toBe(1);
      expect(shown.stdout).toBe("");
      expect(shown.stderr).toContain(`node ${key}`);
      expect(shown.stderr).toMatch(text === undefined ? /manifest missing from its folder/ : /manifest unreadable \(no kind or outputs\)/);
    }
  });

  it("runs names a file passed as --store as a file", async () => {
    await writeFile(path.join(dir, "notes.txt"), "x\n");
    const runs = await fancl("runs", "--store", "notes.txt");
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain(`the store ${path.join(dir, "notes.txt")} is a file, not a folder`);
  });

  it("index rebuild names a folder index.db", async () => {
    const file = await experiment("exp.yaml", "leaves: 1\n");
    expect((await fancl("run", file)).code).toBe(0);
    const index = path.join(storeDir(), "index.db");
    for (const name of ["index.db", "index.db-wal", "index.db-shm"]) await rm(path.join(storeDir(), name), { force: true });
    await mkdir(index);

    const rebuilt = await fancl("index", "rebuild");
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.stderr).toContain(`the store index ${index} is a folder`);
    expect(rebuilt.stderr).toContain(`mv ${index} ${index}.aside`);
    expect(rebuilt.stderr).not.toContain("SQLITE_CANTOPEN");
  });

  it("index rebuild refuses a folder that holds no store", async () => {
    const rebuilt = await fancl("index", "rebuild", "--store", "elsewhere");
    expect(rebuilt.code).toBe(2);
    expect(rebuilt.stderr).toContain(`no fancl store at ${path.join(dir, "elsewhere")}`);
    expect(existsSync(path.join(dir, "elsewhere"))).toBe(false);
  });

  it("gc keeps the newest run's nodes", async () => {
    const file = await experiment("exp.yaml", "leaves: 2\ntext: old\n");
    expect((await fancl("run", file)).code).toBe(0);
    const oldKeys = await cacheKeys();
    await experiment("exp.yaml", "leaves: 2\ntext: new\n");
    expect((await fancl("run", file)).code).toBe(0);
    expect(await cacheKeys()).toHaveLength(6);

    const dry = await fancl("gc", "--keep-runs", "1", "--dry-run");
    expect(dry.stdout).toContain("would delete 3 node(s)");
    expect(await cacheKeys()).toHaveLength(6);

    const gc = await fancl("gc", "--keep-runs", "1");
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain("deleted 3 node(s)");
    const left = await cacheKeys();
    expect(left).toHaveLength(3);
    expect(left.some((key) => oldKeys.includes(key))).toBe(false);
  });

  it("print usage for --help", async () => {
    for (const verb of ["run", "runs", "show", "gc", "index"]) {
      const help = await fancl(verb, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: fancl ${verb} `));
      expect(help.stdout).toContain("--store DIR");
    }
  });

  it("list and accept only the options each verb honours", async () => {
    const runOnly = ["--jobs", "--force", "--keep-going", "--set", "--gpus"];
    for (const verb of ["runs", "show", "gc", "index"]) {
      const help = (await fancl(verb, "--help")).stdout;
      for (const option of runOnly) expect(help).not.toContain(option);
      expect(help.includes("--dry-run")).toBe(verb === "gc");
    }
    expect((await fancl("run", "--help")).stdout).toContain("--keep-going");

    const rejected = await fancl("runs", "--jobs", "4");
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain("runs: option --jobs does not apply to fancl runs");
  });
});
