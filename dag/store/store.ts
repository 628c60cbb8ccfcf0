import { randomBytes } from "node:crypto";
import os from "node:os";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { FileDigest, NodeKey } from "../key.js";
import { IndexDb, type NodeEvent, type RunRecord, type RunStatus } from "./index-db.js";
import { type HeldLock, type LockOwner, tryLock } from "./lock.js";
import { MANIFEST_FILE, type Manifest, readManifest, sha256File, writeManifest } from "./manifest.js";

export type { Manifest, OutputRecord } from "./manifest.js";
export type { RunRecord, RunStatus, NodeEvent } from "./index-db.js";

const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Raised when `--store` names a folder that contains no store. */
export class MissingStoreError extends Error {
  override readonly name = "UsageError";
}

/**
 * The content-addressed store under one root (default `runs/`):
 * - `cache/<key[0:2]>/<key>/`: a committed node, its outputs and `manifest.json`;
 * - `tmp/<key>.<pid>.<random>/`: a node being computed, renamed into `cache/` on success;
 * - `locks/<key>.lock`: who is computing a key right now;
 * - `index.db`: SQLite (WAL) record of runs, nodes, events, metrics and file digests.
 */
export class Store {
  private constructor(
    readonly root: string,
    readonly index: IndexDb,
  ) {}

  /** Opens the store at `root`, creating its folders and index when absent. */
  static async open(root: string): Promise<Store> {
    const absolute = path.resolve(root);
    for (const dir of ["cache", "tmp", "locks"]) await mkdir(path.join(absolute, dir), { recursive: true });
    return new Store(absolute, await IndexDb.open(path.join(absolute, "index.db")));
  }

  /**
   * Opens a store that a run already created. The verbs that only read a store use it, so a
   * mistyped --store is an error instead of a new empty store.
   */
  static async openExisting(root: string): Promise<Store> {
    const absolute = path.resolve(root);
    if (!existsSync(path.join(absolute, "cache")) && !existsSync(path.join(absolute, "index.db"))) {
      throw new MissingStoreError(
        `no fancl store at ${absolute} (it has no cache/ or index.db); run an experiment first with \`fancl run FILE\`, or pass the store's folder with --store DIR`,
      );
    }
    return Store.open(absolute);
  }

  nodeDir(key: NodeKey): string {
    return path.join(this.root, "cache", key.slice(0, 2), key);
  }

  /** Checks whether the node is committed, with one stat of its manifest and no index query. */
  async has(key: NodeKey): Promise<boolean> {
    try {
      await stat(path.join(this.nodeDir(key), MANIFEST_FILE));
      return true;
    } catch {
      return false;
    }
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

  runs(limit?: number): Promise<RunRecord[]> {
    return this.index.runs(limit);
  }

  startRun(experiment: string, keys: readonly NodeKey[]): Promise<number> {
    return this.index.startRun(experiment, hostName(), process.pid, keys);
  }

  endRun(id: number, status: RunStatus): Promise<void> {
    return this.index.endRun(id, status);
  }

  recordEvent(runId: number | undefined, key: NodeKey, event: NodeEvent, message?: string): Promise<void> {
    return this.index.recordEvent(runId, key, event, message);
  }

  /** Tries once to take the per-key lock; returns the owner when another live process holds it. */
  tryLock(key: NodeKey): Promise<HeldLock | LockOwner> {
    return tryLock(path.join(this.root, "locks", `${key}.lock`));
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
    let replaced: string | undefined;
    if (replace && (await this.has(manifest.key))) {
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

  /** Recreates the nodes and metrics tables from the manifests in the cache; returns how many nodes. */
  async rebuildIndex(): Promise<number> {
    const manifests: Manifest[] = [];
    for (const key of await this.cacheKeys()) {
      const manifest = await this.manifest(key);
      if (manifest !== undefined) manifests.push(manifest);
    }
    await this.index.replaceNodes(manifests);
    return manifests.length;
  }

  /**
   * Deletes every committed node that none of the newest `keepRuns` runs (and no run still
   * marked running) references, the older run records, and leftover tmp folders of dead
   * processes. `keepRuns` undefined keeps every run. Returns the deleted keys and bytes;
   * with `dryRun`, what would be deleted, deleting nothing.
   */
  async gc(keepRuns?: number, dryRun = false): Promise<{ deleted: NodeKey[]; bytes: number; runsDropped: number }> {
    const runs = await this.index.runs();
    const kept = runs.filter((run, i) => keepRuns === undefined || i < keepRuns || run.status === "running");
    const dropped = runs.filter((run) => !kept.includes(run));
    const referenced = new Set<string>(kept.flatMap((run) => run.nodes));

    const deleted: NodeKey[] = [];
    let bytes = 0;
    for (const key of await this.cacheKeys()) {
      if (referenced.has(key)) continue;
      bytes += await folderSize(this.nodeDir(key));
      if (!dryRun) await rm(this.nodeDir(key), { recursive: true, force: true });
      deleted.push(key);
    }
    if (dryRun) return { deleted, bytes, runsDropped: dropped.length };
    await this.index.removeNodes(deleted);
    await this.index.deleteRuns(dropped.map((run) => run.id));
    await this.removeDeadTmpDirs();
    return { deleted, bytes, runsDropped: dropped.length };
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

  /** Removes `tmp/<key>.<pid>.<random>` folders whose process no longer runs on this host. */
  private async removeDeadTmpDirs(): Promise<void> {
    const tmp = path.join(this.root, "tmp");
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const pid = Number(name.split(".")[1]);
      if (Number.isInteger(pid) && !isAlive(pid)) await rm(path.join(tmp, name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
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
