import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NodeKey } from "../../dag/key.js";
import { isHeld } from "../../dag/store/lock.js";
import { describeOutputs, type Manifest } from "../../dag/store/manifest.js";
import { hostName, Store, UnreadableIndexError } from "../../dag/store/store.js";

// SHA-256 test vectors from FIPS 180-2, appendix B.1, and of the empty message.
const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const keyA = ("ab" + "1".repeat(62)) as NodeKey;
const keyB = ("ab" + "2".repeat(62)) as NodeKey;
const keyC = ("cd" + "3".repeat(62)) as NodeKey;

/** Returns the pid of a process that has exited (Linux hands out pids in sequence, so it is not reused within a test). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

let root: string;
let store: Store;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "fancl-store-"));
  store = await Store.open(path.join(root, "runs"));
});

afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

function manifestFor(key: NodeKey, kind: string, outputs: Manifest["outputs"], metrics?: Record<string, number>): Manifest {
  return {
    key,
    kind,
    version: "1",
    params: { size: 3 },
    inputs: {},
    labels: [`${kind}-label`],
    outputs,
    start: "2024-01-01T00:00:00.000Z",
    end: "2024-01-01T00:00:01.000Z",
    host: "test-host",
    summary: metrics === undefined ? {} : { metrics },
  };
}

/** Commits a node whose only output is `out.txt` holding "abc". */
async function commitAbc(key: NodeKey, kind = "toy", metrics?: Record<string, number>): Promise<void> {
  const tmp = await store.createTmpDir(key);
  await writeFile(path.join(tmp, "out.txt"), "abc");
  const outputs = await describeOutputs(tmp, ["out.txt"], kind);
  await store.commit(tmp, manifestFor(key, kind, outputs, metrics));
}

describe("Store.open", () => {
  it("creates cache, tmp, locks and a WAL index", async () => {
    const names = await readdir(path.join(root, "runs"));
    expect(names).toEqual(expect.arrayContaining(["cache", "tmp", "locks", "index.db"]));
    // WAL mode keeps a -wal file beside the database while a connection is open.
    await commitAbc(keyA);
    expect(await readdir(path.join(root, "runs"))).toContain("index.db-wal");
  });

  it("rejects a store path that is a file", async () => {
    const file = path.join(root, "not-a-folder");
    await writeFile(file, "x");
    await expect(Store.open(file)).rejects.toThrow(`the store ${file} is a file, not a folder`);
  });
});

describe("Store.commit", () => {
  it("renames tmp into the cache", async () => {
    expect(await store.has(keyA)).toBe(false);
    await commitAbc(keyA);

    expect(store.nodeDir(keyA)).toBe(path.join(root, "runs", "cache", "ab", keyA));
    expect(await store.has(keyA)).toBe(true);
    const manifest = await store.manifest(keyA);
    expect(manifest?.outputs).toEqual([{ path: "out.txt", size: 3, sha256: SHA256_ABC }]);
    expect(await readdir(path.join(root, "runs", "tmp"))).toEqual([]);
  });

  it("records every file, in folders file by file", async () => {
    const tmp = await store.createTmpDir(keyA);
    await writeFile(path.join(tmp, "undeclared.txt"), "not declared");
    await mkdir(path.join(tmp, "dir", "sub"), { recursive: true });
    await writeFile(path.join(tmp, "dir", "sub", "b.txt"), "");
    await writeFile(path.join(tmp, "dir", "a.txt"), "abc");

    const outputs = await describeOutputs(tmp, ["dir"], "toy");
    expect(outputs).toEqual([
      { path: "dir/a.txt", size: 3, sha256: SHA256_ABC },
      { path: "dir/sub/b.txt", size: 0, sha256: SHA256_EMPTY },
      // sha256 of the 12 bytes "not declared", from coreutils' sha256sum.
      { path: "undeclared.txt", size: 12, sha256: "afdbd7b988d7eeca660d6dfe6b244fafb2cab9a9f33d3e6435e5a969e2e3d89f" },
    ]);
  });

  it("rejects a missing declared output", async () => {
    const tmp = await store.createTmpDir(keyA);
    await expect(describeOutputs(tmp, ["model.json"], "train")).rejects.toThrow(/stage train .*"model.json"/);
  });

  it("keeps the first of two commits", async () => {
    await commitAbc(keyA);
    const tmp = await store.createTmpDir(keyA);
    await writeFile(path.join(tmp, "out.txt"), "");
    await store.commit(tmp, manifestFor(keyA, "toy", await describeOutputs(tmp, ["out.txt"], "toy")));

    expect((await store.manifest(keyA))?.outputs[0]?.sha256).toBe(SHA256_ABC);
    expect(await readdir(path.join(root, "runs", "tmp"))).toEqual([]);
  });

  it("stores summary metrics in the metrics table", async () => {
    await commitAbc(keyA, "evaluate", { dice: 0.75, hd95: 3.5 });
    expect(await store.index.metrics(keyA)).toEqual([
      { name: "dice", value: 0.75 },
      { name: "hd95", value: 3.5 },
    ]);
  });
});

describe("Store.fileDigest", () => {
  it("memoises digests by size and mtime", async () => {
    const file = path.join(root, "data.bin");
    await writeFile(file, "abc");
    const fixed = new Date("2024-02-03T04:05:06Z");
    await utimes(file, fixed, fixed);
    expect(await store.fileDigest(file)).toBe(SHA256_ABC);

    // Same size and mtime, different bytes: the memo returns the old digest.
    await writeFile(file, "xyz");
    await utimes(file, fixed, fixed);
    expect(await store.fileDigest(file)).toBe(SHA256_ABC);

    await utimes(file, new Date("2024-02-03T04:05:07Z"), new Date("2024-02-03T04:05:07Z"));
    expect(await store.fileDigest(file)).not.toBe(SHA256_ABC);
  });

  it("names the missing file", async () => {
    await expect(store.fileDigest(path.join(root, "absent.nii.gz"))).rejects.toThrow(/absent\.nii\.gz/);
  });
});

describe("Store.resolveKeyPrefix", () => {
  it("resolves unique prefixes only", async () => {
    await commitAbc(keyA);
    await commitAbc(keyB);
    await commitAbc(keyC);

    expect(await store.resolveKeyPrefix("ab1")).toBe(keyA);
    expect(await store.resolveKeyPrefix("CD")).toBe(keyC);
    await expect(store.resolveKeyPrefix("ab")).rejects.toThrow(/ambiguous/);
    await expect(store.resolveKeyPrefix("ef")).rejects.toThrow(/no node/);
    await expect(store.resolveKeyPrefix("xyz")).rejects.toThrow(/not a node key/);
  });
});

describe("Store.tryLock", () => {
  it("admits one holder at a time", async () => {
    const first = await store.tryLock(keyA);
    expect(isHeld(first)).toBe(true);
    const second = await store.tryLock(keyA);
    expect(isHeld(second)).toBe(false);
    expect(second).toMatchObject({ pid: process.pid, host: os.hostname() });

    if (isHeld(first)) await first.release();
    const third = await store.tryLock(keyA);
    expect(isHeld(third)).toBe(true);
    if (isHeld(third)) await third.release();
  });

  it("breaks a dead owner's lock", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    await writeFile(path.join(root, "runs", "locks", `${keyA}.lock`), JSON.stringify({ pid: deadPid, host: os.hostname(), since: "" }));

    const taken = await store.tryLock(keyA);
    expect(isHeld(taken)).toBe(true);
    if (isHeld(taken)) await taken.release();
  });

  it("waits for a lock held on another host", async () => {
    await writeFile(path.join(root, "runs", "locks", `${keyA}.lock`), JSON.stringify({ pid: 1, host: "elsewhere", since: "" }));
    expect(await store.tryLock(keyA)).toMatchObject({ host: "elsewhere" });
  });
});

describe("Store.rebuildIndex", () => {
  it("reproduces the nodes table", async () => {
    await commitAbc(keyA, "toy", { dice: 0.5 });
    await commitAbc(keyB, "other");
    await commitAbc(keyC);
    const before = await store.index.nodes();
    expect(before.map((row) => row.key)).toEqual([keyA, keyB, keyC]);

    await store.close();
    for (const name of ["index.db", "index.db-wal", "index.db-shm"]) await rm(path.join(root, "runs", name), { force: true });
    store = await Store.open(path.join(root, "runs"));
    expect(await store.index.nodes()).toEqual([]);

    expect(await store.rebuildIndex()).toBe(3);
    expect(await store.index.nodes()).toEqual(before);
    expect(await store.index.metrics(keyA)).toEqual([{ name: "dice", value: 0.5 }]);
  });
});

describe("Store.gc", () => {
  it("deletes nodes no kept run used", async () => {
    await commitAbc(keyA);
    await commitAbc(keyB);
    await commitAbc(keyC);
    const oldRun = await store.startRun("old.yaml", [keyA, keyB]);
    await store.endRun(oldRun, "ok");
    const newRun = await store.startRun("new.yaml", [keyB]);
    await store.endRun(newRun, "ok");

    const everyRun = await store.gc();
    expect(everyRun.deleted).toEqual([keyC]);
    expect(everyRun.bytes).toBeGreaterThan(3);

    const lastRun = await store.gc(1);
    expect(lastRun.deleted).toEqual([keyA]);
    expect(lastRun.runsDropped).toBe(1);
    expect(await store.has(keyB)).toBe(true);
    expect((await store.runs()).map((run) => run.experiment)).toEqual(["new.yaml"]);
    expect((await store.index.nodes()).map((row) => row.key)).toEqual([keyB]);
  });

  it("removes tmp folders left by dead processes", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const orphan = path.join(root, "runs", "tmp", `${keyA}.${dead.stdout}.0000`);
    await mkdir(orphan);
    const mine = await store.createTmpDir(keyB);

    await store.gc();
    await expect(stat(orphan)).rejects.toThrow();
    expect((await stat(mine)).isDirectory()).toBe(true);
  });
});

describe("Store.latestRun", () => {
  it("returns the newest run", async () => {
    expect(await store.latestRun()).toBeUndefined();
    const id = await store.startRun("a.yaml", [keyB, keyA]);
    await store.endRun(id, "failed");
    expect(await store.latestRun()).toMatchObject({ id, experiment: "a.yaml", status: "failed", nodes: [keyA, keyB] });
  });
});

describe("Store with an unreadable index", () => {
  it("refuses to open, naming the file and the repair", async () => {
    const other = path.join(root, "other");
    await mkdir(path.join(other, "cache"), { recursive: true });
    await writeFile(path.join(other, "index.db"), "garbage\n");

    const opened = Store.open(other);
    await expect(opened).rejects.toThrow(UnreadableIndexError);
    await expect(Store.open(other)).rejects.toThrow(`${path.join(other, "index.db")} is not a readable SQLite database`);
    await expect(Store.open(other)).rejects.toThrow("fancl index rebuild");
  });

  it("is moved aside by openToRebuild", async () => {
    const other = path.join(root, "other");
    await mkdir(path.join(other, "cache"), { recursive: true });
    await writeFile(path.join(other, "index.db"), "garbage\n");

    const { store: repaired, movedAside, cause } = await Store.openToRebuild(other);
    try {
      expect(cause).toMatch(/SQLITE_NOTADB/);
      expect(path.basename(movedAside!)).toMatch(/^index\.db\.corrupt-/);
      expect(await readFile(movedAside!, "utf8")).toBe("garbage\n");
      expect(await readdir(other)).toContain("index.db");
      expect(await repaired.runs()).toEqual([]);
    } finally {
      await repaired.close();
    }
  });

  it("is moved aside by openToRebuild when pages are damaged", async () => {
    for (let i = 0; i < 200; i++) await store.recordEvent(1, keyA, "start", "x".repeat(200));
    await store.close();
    // SQLite's default page size is 4096 bytes: page 1 (the schema) stays intact, the event pages do not.
    const file = await open(path.join(root, "runs", "index.db"), "r+");
    await file.write(Buffer.alloc(8192, 0x5a), 0, 8192, 4096);
    await file.close();

    const { store: repaired, movedAside, cause } = await Store.openToRebuild(path.join(root, "runs"));
    store = repaired;
    expect(cause).toMatch(/^SQLITE_CORRUPT/);
    expect(path.basename(movedAside!)).toMatch(/^index\.db\.corrupt-/);
    expect(await store.index.events(keyA)).toEqual([]);
  });

  it("is not created by openToRebuild in a folder that holds no store", async () => {
    const empty = path.join(root, "empty");
    await mkdir(empty);
    await expect(Store.openToRebuild(empty)).rejects.toThrow(`no fancl store at ${empty}`);
    expect(await readdir(empty)).toEqual([]);
  });
});

describe("Store runs of dead processes", () => {
  it("are marked interrupted; those on another host stay running", async () => {
    const dead = await store.index.startRun("killed.yaml", hostName(), deadPid(), [keyA]);
    const remote = await store.index.startRun("remote.yaml", "elsewhere", deadPid(), [keyB]);
    const mine = await store.startRun("mine.yaml", [keyC]);

    const status = new Map((await store.runs()).map((run) => [run.id, run.status]));
    expect(status.get(dead)).toBe("interrupted");
    expect(status.get(remote)).toBe("running");
    expect(status.get(mine)).toBe("running");
  });

  it("are not kept by gc like running ones", async () => {
    await commitAbc(keyA);
    await commitAbc(keyB);
    await store.index.startRun("killed.yaml", hostName(), deadPid(), [keyA]);
    await store.index.startRun("remote.yaml", "elsewhere", deadPid(), [keyB]);

    const result = await store.gc(0);
    expect(result.deleted).toEqual([keyA]);
    expect((await store.runs()).map((run) => run.experiment)).toEqual(["remote.yaml"]);
  });
});

describe("Store.startRun", () => {
  it("removes tmp folders no live process holds", async () => {
    const pid = deadPid();
    const orphan = path.join(root, "runs", "tmp", `${keyA}.${pid}.0000`);
    const replaced = `${orphan}.replaced`;
    // A process on another host holds keyB's lock and writes into this folder; its pid means nothing here.
    const remote = path.join(root, "runs", "tmp", `${keyB}.${pid}.0000`);
    await writeFile(path.join(root, "runs", "locks", `${keyB}.lock`), JSON.stringify({ pid, host: "elsewhere", since: "" }));
    for (const dir of [orphan, replaced, remote]) await mkdir(dir);
    const mine = await store.createTmpDir(keyC);

    await store.startRun("next.yaml", [keyA]);
    expect((await readdir(path.join(root, "runs", "tmp"))).sort()).toEqual([path.basename(remote), path.basename(mine)].sort());
  });
});

describe("Store.gc of scratch folders", () => {
  const scratch = (key: NodeKey) => path.join(root, "runs", "scratch", key);

  it("removes folders no kept run resumes", async () => {
    for (const key of [keyA, keyB, keyC]) await mkdir(scratch(key), { recursive: true });
    await writeFile(path.join(scratch(keyA), "checkpoint.bin"), "abc");
    // keyB: an interrupted run may resume it; keyC: this process holds its lock.
    const interrupted = await store.startRun("train.yaml", [keyB]);
    await store.endRun(interrupted, "interrupted");
    const lock = await store.tryLock(keyC);
    expect(isHeld(lock)).toBe(true);

    const dry = await store.gc(undefined, true);
    expect(dry.scratch).toEqual([keyA]);
    expect(dry.scratchBytes).toBe(3);
    expect((await stat(scratch(keyA))).isDirectory()).toBe(true);

    expect((await store.gc()).scratch).toEqual([keyA]);
    await expect(stat(scratch(keyA))).rejects.toThrow();

    expect((await store.gc(0)).scratch).toEqual([keyB]);
    expect(await readdir(path.join(root, "runs", "scratch"))).toEqual([keyC]);
    if (isHeld(lock)) await lock.release();
  });
});

describe("Store with a broken manifest", () => {
  const manifestFile = (key: NodeKey) => path.join(store.nodeDir(key), "manifest.json");

  it("does not count an unparsable manifest as committed", async () => {
    await commitAbc(keyA);
    await writeFile(manifestFile(keyA), "{ not json");
    expect(await store.has(keyA)).toBe(false);
    expect(await store.inspect(keyA)).toEqual({ state: "broken", problem: "manifest unreadable (not valid JSON)" });
  });

  it("does not count a manifest naming another key as committed", async () => {
    await commitAbc(keyA);
    const text = await readFile(manifestFile(keyA), "utf8");
    await writeFile(manifestFile(keyA), text.replace(keyA, keyB));
    expect(await store.has(keyA)).toBe(false);
    expect((await store.inspect(keyA)).state).toBe("broken");
  });

  it("does not count an entry whose output was deleted as committed", async () => {
    await commitAbc(keyA);
    await rm(path.join(store.nodeDir(keyA), "out.txt"));
    expect(await store.has(keyA)).toBe(false);
    expect(await store.inspect(keyA)).toEqual({ state: "broken", problem: "output out.txt missing" });
  });

  it("does not count an entry whose output changed size as committed", async () => {
    await commitAbc(keyA);
    // "abc" is 3 bytes; the manifest recorded that size at commit.
    await writeFile(path.join(store.nodeDir(keyA), "out.txt"), "abcd");
    expect(await store.inspect(keyA)).toEqual({ state: "broken", problem: "output out.txt is 4 bytes, the manifest records 3" });
  });

  it("is replaced by the next commit of its key", async () => {
    await commitAbc(keyA);
    await writeFile(manifestFile(keyA), "");
    await commitAbc(keyA);
    expect(await store.has(keyA)).toBe(true);
    expect((await store.manifest(keyA))?.outputs[0]?.sha256).toBe(SHA256_ABC);
  });

  it("is left out of a rebuilt index and reported", async () => {
    await commitAbc(keyA);
    await commitAbc(keyB);
    await writeFile(manifestFile(keyA), "[]");
    const broken: string[] = [];
    expect(await store.rebuildIndex((key, problem) => broken.push(`${key}: ${problem}`))).toBe(1);
    expect(broken).toEqual([`${keyA}: manifest unreadable (no kind or outputs)`]);
    expect((await store.index.nodes()).map((row) => row.key)).toEqual([keyB]);
  });
});
