import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { GraphInput } from "../graph.js";
import type { FileDigest, NodeKey } from "../key.js";

/** One file a node left in its folder; `path` is relative to the node folder, with `/` separators. */
export interface OutputRecord {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/**
 * The record in `runs/cache/<key[0:2]>/<key>/manifest.json`: enough to know how the outputs
 * were made (kind, version, resolved params, inputs), to check them (size and digest of
 * every file) and where (host, tensor backend, device). The key is the only part that
 * decides reuse; everything else is a record.
 */
export interface Manifest {
  readonly key: NodeKey;
  readonly kind: string;
  readonly version: string;
  readonly params: unknown;
  readonly inputs: Readonly<Record<string, GraphInput | readonly GraphInput[]>>;
  readonly labels: readonly string[];
  readonly outputs: readonly OutputRecord[];
  /** ISO 8601 times of the run that computed the node. */
  readonly start: string;
  readonly end: string;
  readonly host: string;
  /** The tensor backend the stage reported in its summary (`backend`), if any. */
  readonly backend?: string;
  /** The leased device, e.g. `cuda:1`, or absent for CPU-only nodes. */
  readonly device?: string;
  readonly summary: Record<string, unknown>;
}

export const MANIFEST_FILE = "manifest.json";

/** SHA-256 of a file's bytes, streamed so that large volumes need no large buffer. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("error", (error) => reject(new Error(`cannot read ${file} to hash it: ${error.message}`)))
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Computes the digest of a dataset file, branded so that it cannot pass for a node key. */
export async function fileDigestOf(file: string): Promise<FileDigest> {
  return (await sha256File(file)) as FileDigest;
}

/**
 * Lists every file a finished node wrote, with size and digest, sorted by path, after checking
 * that each declared output exists. A declared output that is missing is an error naming the stage's kind,
 * because a node that did not write what it promised must not be committed.
 */
export async function describeOutputs(dir: string, declared: readonly string[], kind: string): Promise<OutputRecord[]> {
  for (const name of declared) {
    const full = path.join(dir, name);
    if ((await stat(full).catch(() => undefined)) === undefined) {
      throw new Error(`stage ${kind} finished without writing its declared output "${name}" (expected ${full})`);
    }
  }

  // Every file the node left is recorded, declared or not, so that the manifest covers the whole entry.
  const records: OutputRecord[] = [];
  for (const file of await listFiles(dir)) {
    const relative = path.relative(dir, file).split(path.sep).join("/");
    if (relative === MANIFEST_FILE) continue;
    records.push({ path: relative, size: (await stat(file)).size, sha256: await sha256File(file) });
  }
  return records.sort(byPath);
}

/** Orders output records by path in code-unit order, the same on every machine and locale. */
function byPath(a: OutputRecord, b: OutputRecord): number {
  if (a.path < b.path) return -1;
  if (a.path > b.path) return 1;
  return 0;
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}

/**
 * The state of a cache folder: `committed` with a usable manifest, `missing` (no folder), or
 * `broken` with the reason it cannot be reused. A folder is broken when its manifest is absent,
 * unreadable, not valid JSON, not a manifest, or names another key than the folder, and when an
 * output it lists is missing or has another size.
 */
export type CacheEntry =
  | { readonly state: "committed"; readonly manifest: Manifest }
  | { readonly state: "missing" }
  | { readonly state: "broken"; readonly problem: string };

/** Reads and checks the manifest of the cache folder `dir`, which should hold node `key`. */
export async function inspectEntry(dir: string, key: NodeKey): Promise<CacheEntry> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") return { state: "broken", problem: `manifest unreadable (${code ?? (error as Error).message})` };
    const folder = await stat(dir).catch(() => undefined);
    return folder === undefined ? { state: "missing" } : { state: "broken", problem: "manifest missing from its folder" };
  }

  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return { state: "broken", problem: "manifest unreadable (not valid JSON)" };
  }
  if (typeof manifest !== "object" || manifest === null || typeof (manifest as Manifest).kind !== "string" || !Array.isArray((manifest as Manifest).outputs)) {
    return { state: "broken", problem: "manifest unreadable (no kind or outputs)" };
  }
  const named = (manifest as Manifest).key;
  if (named !== key) return { state: "broken", problem: `manifest names key ${String(named).slice(0, 12)}, not its folder's` };

  // One stat per output: a file deleted or truncated by hand makes the entry broken, so the node
  // is recomputed instead of failing its dependents. Contents are not re-hashed.
  const problems = await Promise.all(
    (manifest as Manifest).outputs.map(async (output) => {
      const found = await stat(path.join(dir, output.path)).catch(() => undefined);
      if (found === undefined) return `output ${output.path} missing`;
      if (found.size !== output.size) return `output ${output.path} is ${found.size} bytes, the manifest records ${output.size}`;
      return undefined;
    }),
  );
  const problem = problems.find((text) => text !== undefined);
  if (problem !== undefined) return { state: "broken", problem };
  return { state: "committed", manifest: manifest as Manifest };
}

/** Reads a node folder's manifest; undefined when the folder or file is absent. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (error) {
    throw new Error(`${path.join(dir, MANIFEST_FILE)} is not valid JSON (${(error as Error).message}); delete that node folder and rerun to recompute it`);
  }
}
