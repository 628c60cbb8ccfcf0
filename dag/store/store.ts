import { randomBytes } from "node:crypto";
import os from "node:os";
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { FileDigest, NodeKey } from "../key.js";
import { IndexDb, UnreadableIndexError, type NodeEvent, type RunRecord, type RunStatus } from "./index-db.js";
import { type HeldLock, type LockOwner, isDeadHere, lockHolder, removeStaleLock, tryLock } from "./lock.js";
import { type CacheEntry, type Manifest, inspectEntry, readManifest, sha256File, writeManifest } from "./manifest.js";

export type { CacheEntry, Manifest, OutputRecord } from "./manifest.js";
export type { RunRecord, RunStatus, NodeEvent } from "./index-db.js";
export { UnreadableIndexError } from "./index-db.js";

const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Raised when `--store` names a folder that contains no store. */
export class MissingStoreError extends Error {
  override readonly name = "UsageError";
}

/** Raised when `gc` would delete every cache entry because the index records no runs at all. */
export class NoRunsError extends Error {
  override readonly name = "UsageError";
}

/** Raised when the store's `index.db` is a folder or another thing that is not a file. */
export class IndexNotFileError extends Error {
  override readonly name = "IndexNotFileError";

  constructor(readonly file: string) {
    super(
      `the store index ${file} is a folder, not a SQLite file; move it out of the way (\`mv ${file} ${file}.aside\`) ` +
        `and run \`fancl index rebuild --store ${path.dirname(file)}\` to rebuild it from the manifests in the cache`,
    );
  }
}

/**
 * The content-addressed store under one root (default `runs/`):
 * - `cache/<key[0:2]>/<key>/`: a committed node, its outputs and `manifest.json`;
 * - `tmp/<key>.<pid>.<random>/`: a node being computed, renamed into `cache/` on success;
 * - `locks/<key>.lock`: who is computing a key right now;
 * - `scratch/<key>/`: a node's files kept across failed attempts (training checkpoints);
 * - `index.db`: SQLite (WAL) record of runs, nodes, events, metrics and file digests.
 */
export class Store {
  private constructor(
    readonly root: string,
    readonly index: IndexDb,
  ) {}

  /**
   * Opens the store at `root`, creating its folders and index when absent. Throws
   * `UnreadableIndexError` when `index.db` is not a SQLite database.
   */
  static async open(root: string): Promise<Store> {
    const absolute = path.resolve(root);
    rejectFileAsStore(absolute);
    const file = path.join(absolute, "index.db");
    if (existsSync(file) && !statSync(file).isFile()) throw new IndexNotFileError(file);
    for (const dir of ["cache", "tmp", "locks"]) await mkdir(path.join(absolute, dir), { recursive: true });
    return new Store(absolute, await IndexDb.open(file));
  }

  /**
   * Opens a store that a run already created. The verbs that only read a store use it, so a
   * mistyped --store is an error instead of a new empty store.
   */
  static async openExisting(root: string): Promise<Store> {
    return Store.open(requireStore(root));
  }

  /**
   * Opens an existing store for `index rebuild`. An `index.db` that SQLite cannot open, or whose
   * pages fail `PRAGMA quick_check`, is moved aside (with its -wal and -shm files) to
   * `index.db.corrupt-<time>` and a fresh index is created. `movedAside` then names the moved
   * database and `cause` gives the error SQLite reported.
   */
  static async openToRebuild(root: string): Promise<{ store: Store; movedAside?: string; cause?: string }> {
    const absolute = requireStore(root);
    const file = path.join(absolute, "index.db");
    let cause: string | undefined;
    try {
      const store = await Store.open(absolute);
      cause = await store.index.damage();
      if (cause === undefined) return { store };
      await store.close();
    } catch (error) {
      if (!(error instanceof UnreadableIndexError)) throw error;
      cause = error.reason;
    }

    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const movedAside = `${file}.corrupt-${stamp}`;
    // SQLite finds a database's -wal and -shm files by name, so they keep the suffix after the new
    // name. (SQLite itself may already have discarded a -wal file it could not read.)
    for (const suffix of ["", "-wal", "-shm"]) {
      await rename(`${file}${suffix}`, `${movedAside}${suffix}`).catch((failure: NodeJS.ErrnoException) => {
        if (failure.code !== "ENOENT") throw new Error(`cannot move the unreadable index ${file}${suffix} aside: ${failure.message}`);
      });
    }
    return { store: await Store.open(absolute), movedAside, cause };
  }

  nodeDir(key: NodeKey): string {
    return path.join(this.root, "cache", key.slice(0, 2), key);
  }

  /** Checks whether the node is committed with a manifest that reads back and names its key; no index query. */
  async has(key: NodeKey): Promise<boolean> {
    return (await this.inspect(key)).state === "committed";
  }

  /** Reports the state of the cache folder of `key`: committed, missing, or broken and why it cannot be reused. */
  inspect(key: NodeKey): Promise<CacheEntry> {
    return inspectEntry(this.nodeDir(key), key);
  }

  manifest(key: NodeKey): Promise<Manifest | undefined> {
    return readManifest(this.nodeDir(key));
  }

  /** Committed manifests of one kind, newest first (from the index; entries whose folder was removed are dropped). */
  async manifestsOfKind(kind: string): Promise<Manifest[]> {
    const manifests = await this.index.manifestsOfKind(kind);
    const present = await Promise.all(manifests.map((manifest) => this.has(manifest.key)));
    return manifests.filter((_, i) => present[i]);
  }

  /**
   * Returns the SHA-256 of a dataset file. The index remembers (path, size, mtime in ns) → digest,
   * so an unchanged file is hashed once. A changed size or mtime makes it hash again.
   */
  async fileDigest(file: string): Promise<FileDigest> {
    const absolute = path.resolve(file);
    let info;
    try {
      info = await stat(absolute, { bigint: true });
    } catch (error) {
      throw new Error(`input file ${absolute} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path in the experiment`);
    }
    const size = Number(info.size);
    const memo = await this.index.memoDigest(absolute, size, info.mtimeNs);
    if (memo !== undefined) return memo as FileDigest;

    const digest = await sha256File(absolute);
    await this.index.rememberDigest(absolute, size, info.mtimeNs, digest);
    return digest as FileDigest;
  }

  /** Finds the one committed key starting with `prefix`; throws when none or several match. */
  async resolveKeyPrefix(prefix: string): Promise<NodeKey> {
    const wanted = prefix.toLowerCase();
    if (!/^[0-9a-f]{1,64}$/.test(wanted)) {
      throw new Error(`"${prefix}" is not a node key or key prefix; keys are hexadecimal (see \`fancl runs\` or \`fancl plan\`)`);
    }
    const matches = new Set(await this.index.keysWithPrefix(wanted, 5));
    for (const key of await this.scanCacheKeys(wanted)) matches.add(key);
    if (matches.size === 0) throw new Error(`no node in ${this.root} has a key starting with ${wanted}`);
    if (matches.size > 1) {
      const listed = [...matches].sort().slice(0, 5).map((key) => key.slice(0, 16));
      throw new Error(`key prefix ${wanted} is ambiguous: it matches ${listed.join(", ")}${matches.size > 5 ? ", …" : ""}; give more characters`);
    }
    return [...matches][0] as NodeKey;
  }

  latestRun(): Promise<RunRecord | undefined> {
    return this.index.runs(1).then((runs) => runs[0]);
  }

  /** Runs, newest first, after marking those whose process died as interrupted. */
  async runs(limit?: number): Promise<RunRecord[]> {
    await this.markDeadRunsInterrupted();
    return this.index.runs(limit);
  }

  /**
   * Records a run by this process. Before that, runs whose process died are marked interrupted,
   * and tmp folders that no live process uses and lock files of dead processes are removed, so
   * that a killed run leaves nothing behind once the next one starts.
   */
  async startRun(experiment: string, keys: readonly NodeKey[]): Promise<number> {
    await this.markDeadRunsInterrupted();
    await this.removeOrphanedTmpDirs(false);
    await this.removeStaleLocks(false);
    return this.index.startRun(experiment, hostName(), process.pid, keys);
  }

  /**
   * Finds runs still recorded as running whose process ran on this host and no longer exists
   * (killed, or the machine rebooted) and, unless `dryRun`, marks them interrupted. Returns their ids.
   * NOTE: a dead run whose pid the system has given to a new process still reads as running.
   */
  async markDeadRunsInterrupted(dryRun = false): Promise<Set<number>> {
    const dead = (await this.index.runningRuns()).filter((run) => isDeadHere(run)).map((run) => run.id);
    if (!dryRun && dead.length > 0) await this.index.markInterrupted(dead);
    return new Set(dead);
  }

  endRun(id: number, status: RunStatus): Promise<void> {
    return this.index.endRun(id, status);
  }

  recordEvent(runId: number | undefined, key: NodeKey, event: NodeEvent, message?: string): Promise<void> {
    return this.index.recordEvent(runId, key, event, message);
  }

  /** Tries once to take the per-key lock; returns the owner when another live process holds it. */
  tryLock(key: NodeKey): Promise<HeldLock | LockOwner> {
    return tryLock(this.lockFile(key));
  }

  /** `scratch/<key>/`: files a node keeps across failed attempts until it is committed. */
  scratchDir(key: NodeKey): string {
    return path.join(this.root, "scratch", key);
  }

  /** Creates a fresh, empty folder `tmp/<key>.<pid>.<random>` for a node to write into. */
  async createTmpDir(key: NodeKey): Promise<string> {
    const dir = path.join(this.root, "tmp", `${key}.${process.pid}.${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Writes the manifest into the finished `tmpDir` and renames the folder into the cache.
   * The rename is the commit: until it happens, the node does not exist. When the key is
   * already committed (another store user got there first), `tmpDir` is discarded, unless
   * `replace` is set (`--force`): then the old entry is moved aside and deleted after the rename.
   */
  async commit(tmpDir: string, manifest: Manifest, replace = false): Promise<void> {
    await writeManifest(tmpDir, manifest);
    const target = this.nodeDir(manifest.key);
    await mkdir(path.dirname(target), { recursive: true });
    // A broken entry (unreadable manifest) is replaced like a forced one; a missing one has nothing to move.
    let replaced: string | undefined;
    const existing = await this.inspect(manifest.key);
    if (existing.state === "broken" || (replace && existing.state === "committed")) {
      replaced = `${tmpDir}.replaced`;
      await rename(target, replaced);
    }
    try {
      await rename(tmpDir, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      await rm(tmpDir, { recursive: true, force: true });
    }
    if (replaced !== undefined) await rm(replaced, { recursive: true, force: true });
    await this.index.recordNode(manifest);
  }

  /** Lists every committed key in the cache folders (the truth the index is rebuilt from). */
  async cacheKeys(): Promise<NodeKey[]> {
    return this.scanCacheKeys("");
  }

  /**
   * Recreates the nodes and metrics tables from the manifests in the cache; returns how many
   * nodes. A folder whose manifest is broken is left out and passed to `onBroken`.
   */
  async rebuildIndex(onBroken: (key: NodeKey, problem: string) => void = () => {}): Promise<number> {
    const manifests: Manifest[] = [];
    for (const key of await this.cacheKeys()) {
      const entry = await this.inspect(key);
      if (entry.state === "committed") manifests.push(entry.manifest);
      else if (entry.state === "broken") onBroken(key, entry.problem);
    }
    await this.index.replaceNodes(manifests);
    return manifests.length;
  }

  /**
   * Records the indexed nodes that no run references as one finished run, so that gc keeps them
   * (after `index rebuild` over a lost or fresh index, whose run records are gone). Returns the
   * run's id and keys, or undefined when every node is referenced already.
   */
  async recordUnreferencedNodes(experiment: string): Promise<{ id: number; keys: NodeKey[] } | undefined> {
    const referenced = new Set<string>((await this.index.runs()).flatMap((run) => run.nodes));
    const keys = (await this.index.nodes()).map((row) => row.key as NodeKey).filter((key) => !referenced.has(key));
    if (keys.length === 0) return undefined;
    const id = await this.startRun(experiment, keys);
    await this.endRun(id, "ok");
    return { id, keys };
  }

  /**
   * Deletes every cache entry that none of the newest `keepRuns` runs (and no run still
   * running) references, the older run records, and leftover tmp folders. `keepRuns` undefined
   * keeps every run, and a run marked running whose process died counts as interrupted.
   * Also deletes the `scratch/<key>` folders that no kept run can resume: those of committed
   * keys and of keys no kept run references. A key whose lock a live process holds keeps its
   * scratch folder. Returns the deleted keys, scratch keys and bytes; with `dryRun`, the ones
   * it would delete, deleting nothing. Lock files whose owner died here go too.
   *
   * Throws `NoRunsError` when the index records no run while the cache contains entries (the index
   * was lost or recreated), because every entry would go. An explicit `keepRuns` 0 allows that.
   */
  async gc(keepRuns?: number, dryRun = false): Promise<GcResult> {
    const dead = await this.markDeadRunsInterrupted(dryRun);
    const runs = await this.index.runs();
    const cached = await this.cacheKeys();
    if (runs.length === 0 && cached.length > 0 && keepRuns !== 0) {
      throw new NoRunsError(
        `the index ${path.join(this.root, "index.db")} records no runs, so gc would delete all ${cached.length} cache entries; ` +
          `run \`fancl index rebuild --store ${this.root}\` first to record them as a run, or pass --keep-runs 0 to delete them all`,
      );
    }
    const kept = runs.filter((run, i) => keepRuns === undefined || i < keepRuns || (run.status === "running" && !dead.has(run.id)));
    const dropped = runs.filter((run) => !kept.includes(run));
    const referenced = new Set<string>(kept.flatMap((run) => run.nodes));

    const deleted: NodeKey[] = [];
    let bytes = 0;
    for (const key of cached) {
      if (referenced.has(key)) continue;
      bytes += await folderSize(this.nodeDir(key));
      if (!dryRun) await rm(this.nodeDir(key), { recursive: true, force: true });
      deleted.push(key);
    }

    const scratch: NodeKey[] = [];
    let scratchBytes = 0;
    for (const key of await this.scratchKeys()) {
      const resumable = referenced.has(key) && !(await this.has(key));
      if (resumable || (await lockHolder(this.lockFile(key))) !== undefined) continue;
      scratchBytes += await folderSize(this.scratchDir(key));
      if (!dryRun) await rm(this.scratchDir(key), { recursive: true, force: true });
      scratch.push(key);
    }

    if (!dryRun) {
      await this.index.removeNodes(deleted);
      await this.index.deleteRuns(dropped.map((run) => run.id));
    }
    const tmp = await this.removeOrphanedTmpDirs(dryRun);
    const locks = await this.removeStaleLocks(dryRun);
    return { deleted, bytes, scratch, scratchBytes, tmp, locks, runsDropped: dropped.length };
  }

  close(): Promise<void> {
    return this.index.close();
  }

  private async scanCacheKeys(prefix: string): Promise<NodeKey[]> {
    const cache = path.join(this.root, "cache");
    const keys: NodeKey[] = [];
    for (const shard of await readdir(cache).catch(() => [] as string[])) {
      const shardMatches = prefix.length >= 2 ? shard === prefix.slice(0, 2) : shard.length === 2 && shard.startsWith(prefix);
      if (!shardMatches) continue;
      for (const name of await readdir(path.join(cache, shard)).catch(() => [] as string[])) {
        if (KEY_PATTERN.test(name) && name.startsWith(prefix)) keys.push(name as NodeKey);
      }
    }
    return keys.sort();
  }

  private lockFile(key: NodeKey): string {
    return path.join(this.root, "locks", `${key}.lock`);
  }

  private async scratchKeys(): Promise<NodeKey[]> {
    const names = await readdir(path.join(this.root, "scratch")).catch(() => [] as string[]);
    return names.filter((name) => KEY_PATTERN.test(name)).sort() as NodeKey[];
  }

  /**
   * Removes `tmp/<key>.<pid>.<random>` folders (and their `.replaced` companions) that no live
   * process holds. A node's process takes the key's lock before it creates its tmp folder and
   * keeps it until the folder is gone, so a folder is held when the key's lock names its pid.
   * The name carries no host, so a folder whose pid is alive here is kept as well. Returns the
   * folders' names; with `dryRun`, the ones it would remove.
   */
  private async removeOrphanedTmpDirs(dryRun: boolean): Promise<string[]> {
    const tmp = path.join(this.root, "tmp");
    const removed: string[] = [];
    for (const name of (await readdir(tmp).catch(() => [] as string[])).sort()) {
      const [key, pidText] = name.split(".");
      const pid = Number(pidText);
      if (!KEY_PATTERN.test(key ?? "") || !Number.isInteger(pid) || pid <= 0) continue;
      const holder = await lockHolder(this.lockFile(key as NodeKey));
      if (holder?.pid === pid || !isDeadHere({ pid, host: hostName() })) continue;
      if (!dryRun) await rm(path.join(tmp, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /**
   * Removes `locks/<key>.lock` files whose owner ran on this host and died (a run killed with
   * SIGKILL), which no later run would break when it never needs the key. Returns their names;
   * with `dryRun`, the ones it would remove.
   */
  private async removeStaleLocks(dryRun: boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const name of (await readdir(path.join(this.root, "locks")).catch(() => [] as string[])).sort()) {
      if (!name.endsWith(".lock") || !KEY_PATTERN.test(name.slice(0, -".lock".length))) continue;
      if (await removeStaleLock(path.join(this.root, "locks", name), dryRun)) removed.push(name);
    }
    return removed;
  }
}

/** Resolves `root` and checks that a run created a store there; throws `MissingStoreError` otherwise. */
function requireStore(root: string): string {
  const absolute = path.resolve(root);
  rejectFileAsStore(absolute);
  if (!existsSync(path.join(absolute, "cache")) && !existsSync(path.join(absolute, "index.db"))) {
    throw new MissingStoreError(
      `no fancl store at ${absolute} (it has no cache/ or index.db); run an experiment first with \`fancl run FILE\`, or pass the store's folder with --store DIR`,
    );
  }
  return absolute;
}

/** Throws `MissingStoreError` when `absolute` exists and is not a folder. */
function rejectFileAsStore(absolute: string): void {
  if (existsSync(absolute) && !statSync(absolute).isDirectory()) {
    throw new MissingStoreError(`the store ${absolute} is a file, not a folder; pass a folder with --store DIR (default runs/)`);
  }
}

/** The keys and sizes that `Store.gc` deleted, or would delete with `dryRun`. */
export interface GcResult {
  /** Cache entries, and the bytes they held. */
  readonly deleted: NodeKey[];
  readonly bytes: number;
  /** Keys whose `scratch/<key>/` folder went, and the bytes those held. */
  readonly scratch: NodeKey[];
  readonly scratchBytes: number;
  /** Names of the `tmp/` folders and `locks/` files of dead processes. */
  readonly tmp: string[];
  readonly locks: string[];
  readonly runsDropped: number;
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await folderSize(full) : (await stat(full)).size;
  }
  return total;
}

/** This machine's name, as manifests, runs and locks record it. */
export function hostName(): string {
  return os.hostname();
}
