import path from "node:path";
import type { NodeKey } from "../key.js";
import type { Manifest } from "./manifest.js";
import { SqliteConnection } from "./sqlite.js";

/** One `fancl run` invocation as the index remembers it. */
export interface RunRecord {
  readonly id: number;
  readonly experiment: string;
  readonly start: string;
  readonly end?: string;
  /** `running`, `ok`, `failed` or `interrupted`. */
  readonly status: RunStatus;
  readonly host: string;
  readonly pid: number;
  /** Every node of the run's graph, computed or reused. */
  readonly nodes: readonly NodeKey[];
}

export type RunStatus = "running" | "ok" | "failed" | "interrupted";

export type NodeEvent = "start" | "end" | "error" | "retry";

/** A row of the nodes table, as `runs` and tests read it back. */
export interface NodeRow {
  readonly key: string;
  readonly kind: string;
  readonly version: string;
  readonly start: string;
  readonly end: string;
  readonly host: string;
  readonly backend: string | null;
  readonly device: string | null;
  readonly size: number;
  readonly manifest: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment TEXT NOT NULL,
  start TEXT NOT NULL,
  end TEXT,
  status TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_nodes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS nodes (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  version TEXT NOT NULL,
  start TEXT NOT NULL,
  end TEXT NOT NULL,
  host TEXT NOT NULL,
  backend TEXT,
  device TEXT,
  size INTEGER NOT NULL,
  manifest TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nodes_by_kind ON nodes(kind);
CREATE TABLE IF NOT EXISTS node_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER,
  key TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('start', 'end', 'error', 'retry')),
  at TEXT NOT NULL,
  message TEXT
);
CREATE INDEX IF NOT EXISTS node_events_by_key ON node_events(key);
CREATE TABLE IF NOT EXISTS metrics (
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (key, name)
);
CREATE TABLE IF NOT EXISTS file_digests (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  sha256 TEXT NOT NULL
);
`;

/** Runs `step` again, up to 50 times 20–40 ms apart, while it fails with SQLITE_BUSY. */
async function retryWhileBusy(step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= 50 || !String((error as Error).message).includes("SQLITE_BUSY")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 20));
    }
  }
}

/** Raised when `index.db` exists but SQLite cannot read it as a database (overwritten or damaged). */
export class UnreadableIndexError extends Error {
  override readonly name = "UnreadableIndexError";

  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      `the store index ${file} is not a readable SQLite database (${reason}); ` +
        `run \`fancl index rebuild --store ${path.dirname(file)}\` to move it aside and rebuild it from the manifests in the cache`,
    );
  }
}

/**
 * `runs/index.db`: a queryable record of runs, nodes, node events and metrics, plus the
 * (path, size, mtime) → sha256 memo for dataset files. The cache folders are the truth;
 * the nodes and metrics tables can be rebuilt from their manifests.
 */
export class IndexDb {
  private constructor(private readonly db: SqliteConnection) {}

  /** Opens or creates the index; throws `UnreadableIndexError` when the file is not a SQLite database. */
  static async open(file: string): Promise<IndexDb> {
    const db = await SqliteConnection.open(file);
    try {
      // Two processes opening a new index at once race to switch it to WAL. SQLite fails the loser
      // with SQLITE_BUSY without waiting for its busy timeout, so that step is retried.
      await retryWhileBusy(() => db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"));
      await retryWhileBusy(() => db.exec(SCHEMA));
    } catch (error) {
      await db.close().catch(() => undefined);
      const code = /SQLITE_(NOTADB|CORRUPT)[^(]*/.exec((error as Error).message);
      if (code !== null) throw new UnreadableIndexError(file, code[0].trim());
      throw error;
    }
    return new IndexDb(db);
  }

  /**
   * Runs SQLite's `PRAGMA quick_check` (it reads every page, so only `index rebuild` calls it)
   * and returns its first complaint, or undefined when the database is intact.
   */
  async damage(): Promise<string | undefined> {
    try {
      const rows = await this.db.all<{ quick_check: string }>("PRAGMA quick_check");
      const first = rows[0]?.quick_check;
      return first === "ok" ? undefined : (first ?? "quick_check returned nothing");
    } catch (error) {
      const message = (error as Error).message;
      return /SQLITE_\w+:[^(]*/.exec(message)?.[0].trim() ?? message;
    }
  }

  async recordNode(manifest: Manifest): Promise<void> {
    await this.db.transaction(async (run) => {
      await insertNode(run, manifest);
    });
  }

  /** Replaces the nodes and metrics tables with the contents of `manifests`. */
  async replaceNodes(manifests: readonly Manifest[]): Promise<void> {
    await this.db.transaction(async (run) => {
      await run("DELETE FROM nodes");
      await run("DELETE FROM metrics");
      for (const manifest of manifests) await insertNode(run, manifest);
    });
  }

  async removeNodes(keys: readonly string[]): Promise<void> {
    await this.db.transaction(async (run) => {
      for (const key of keys) {
        await run("DELETE FROM nodes WHERE key = ?", [key]);
        await run("DELETE FROM metrics WHERE key = ?", [key]);
      }
    });
  }

  nodes(): Promise<NodeRow[]> {
    return this.db.all<NodeRow>("SELECT * FROM nodes ORDER BY key");
  }

  async manifestsOfKind(kind: string): Promise<Manifest[]> {
    const rows = await this.db.all<{ manifest: string }>("SELECT manifest FROM nodes WHERE kind = ? ORDER BY end DESC", [kind]);
    return rows.map((row) => JSON.parse(row.manifest) as Manifest);
  }

  async keysWithPrefix(prefix: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ key: string }>("SELECT key FROM nodes WHERE key >= ? AND key < ? ORDER BY key LIMIT ?", [
      prefix,
      prefix + "\uffff",
      limit,
    ]);
    return rows.map((row) => row.key);
  }

  metrics(key: string): Promise<{ name: string; value: number }[]> {
    return this.db.all("SELECT name, value FROM metrics WHERE key = ? ORDER BY name", [key]);
  }

  async recordEvent(runId: number | undefined, key: string, event: NodeEvent, message?: string): Promise<void> {
    await this.db.run("INSERT INTO node_events (run_id, key, event, at, message) VALUES (?, ?, ?, ?, ?)", [
      runId ?? null,
      key,
      event,
      new Date().toISOString(),
      message ?? null,
    ]);
  }

  events(key: string): Promise<{ run_id: number | null; event: NodeEvent; at: string; message: string | null }[]> {
    return this.db.all("SELECT run_id, event, at, message FROM node_events WHERE key = ? ORDER BY id", [key]);
  }

  /** Starts a run record holding every node key of its graph (so that gc keeps what the run used). */
  async startRun(experiment: string, host: string, pid: number, keys: readonly string[]): Promise<number> {
    return this.db.transaction(async (run) => {
      const inserted = (await run("INSERT INTO runs (experiment, start, status, host, pid) VALUES (?, ?, 'running', ?, ?)", [
        experiment,
        new Date().toISOString(),
        host,
        pid,
      ])) as { lastID: number };
      for (const key of keys) await run("INSERT OR IGNORE INTO run_nodes (run_id, key) VALUES (?, ?)", [inserted.lastID, key]);
      return inserted.lastID;
    });
  }

  async endRun(id: number, status: RunStatus): Promise<void> {
    await this.db.run("UPDATE runs SET end = ?, status = ? WHERE id = ?", [new Date().toISOString(), status, id]);
  }

  /** Lists the runs still recorded as running, with the host and pid of the process that started each. */
  runningRuns(): Promise<{ id: number; host: string; pid: number }[]> {
    return this.db.all("SELECT id, host, pid FROM runs WHERE status = 'running' ORDER BY id");
  }

  /** Marks runs whose process is gone as interrupted; the end time stays unknown (NULL). */
  async markInterrupted(ids: readonly number[]): Promise<void> {
    await this.db.transaction(async (run) => {
      for (const id of ids) await run("UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", [id]);
    });
  }

  /** Runs, newest first; `limit` caps how many. */
  async runs(limit = 1_000_000): Promise<RunRecord[]> {
    const rows = await this.db.all<Omit<RunRecord, "nodes"> & { end: string | null }>(
      "SELECT id, experiment, start, end, status, host, pid FROM runs ORDER BY id DESC LIMIT ?",
      [limit],
    );
    const records: RunRecord[] = [];
    for (const row of rows) {
      const keys = await this.db.all<{ key: NodeKey }>("SELECT key FROM run_nodes WHERE run_id = ? ORDER BY key", [row.id]);
      const { end, ...rest } = row;
      records.push({ ...rest, ...(end === null ? {} : { end }), nodes: keys.map((k) => k.key) });
    }
    return records;
  }

  async deleteRuns(ids: readonly number[]): Promise<void> {
    await this.db.transaction(async (run) => {
      for (const id of ids) {
        await run("DELETE FROM run_nodes WHERE run_id = ?", [id]);
        await run("DELETE FROM runs WHERE id = ?", [id]);
      }
    });
  }

  async memoDigest(file: string, size: number, mtimeNs: bigint): Promise<string | undefined> {
    const row = await this.db.get<{ sha256: string }>("SELECT sha256 FROM file_digests WHERE path = ? AND size = ? AND mtime_ns = ?", [
      file,
      size,
      mtimeNs.toString(),
    ]);
    return row?.sha256;
  }

  async rememberDigest(file: string, size: number, mtimeNs: bigint, sha256: string): Promise<void> {
    await this.db.run("INSERT OR REPLACE INTO file_digests (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)", [
      file,
      size,
      mtimeNs.toString(),
      sha256,
    ]);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

async function insertNode(run: (sql: string, params?: readonly (string | number | null)[]) => Promise<unknown>, manifest: Manifest) {
  const size = manifest.outputs.reduce((total, output) => total + output.size, 0);
  await run(
    "INSERT OR REPLACE INTO nodes (key, kind, version, start, end, host, backend, device, size, manifest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [
      manifest.key,
      manifest.kind,
      manifest.version,
      manifest.start,
      manifest.end,
      manifest.host,
      manifest.backend ?? null,
      manifest.device ?? null,
      size,
      JSON.stringify(manifest),
    ],
  );
  await run("DELETE FROM metrics WHERE key = ?", [manifest.key]);
  for (const [name, value] of Object.entries(metricsOf(manifest.summary))) {
    await run("INSERT INTO metrics (key, name, value) VALUES (?, ?, ?)", [manifest.key, name, value]);
  }
}

/** Returns the finite numbers of a summary's `metrics` object and ignores any other value there. */
export function metricsOf(summary: Record<string, unknown>): Record<string, number> {
  const metrics = summary["metrics"];
  if (typeof metrics !== "object" || metrics === null) return {};
  return Object.fromEntries(
    Object.entries(metrics as Record<string, unknown>).filter((entry): entry is [string, number] => typeof entry[1] === "number" && Number.isFinite(entry[1])),
  );
}
