/**
 * Content addressing: the key of a node is the SHA-256 of the canonical JSON of `KeyFields`.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

declare const nodeKeyBrand: unique symbol;
declare const fileDigestBrand: unique symbol;

/** 64 lowercase hex digits: the SHA-256 of a node's `KeyFields` in canonical JSON. */
export type NodeKey = string & { readonly [nodeKeyBrand]: "NodeKey" };

/** 64 lowercase hex digits: the SHA-256 of a file's bytes. */
export type FileDigest = string & { readonly [fileDigestBrand]: "FileDigest" };

/** One input of a node's key: an upstream node's key or a dataset file's digest. */
export type KeyInput = NodeKey | FileDigest;

/**
 * Everything a node's outputs depend on, and nothing else. Two nodes with equal `KeyFields`
 * are one node: computed once, cached under one folder.
 *
 * Deliberately NOT part of the key, because they change where or how fast a node runs but not
 * what it produces (each is recorded in the manifest instead):
 * - the store path, and the paths of dataset files (a moved dataset keeps its cache; a file
 *   enters by the digest of its bytes);
 * - concurrency (`--jobs`), device ids (`--gpus`, `CUDA_VISIBLE_DEVICES`), the tensor backend,
 *   the log level;
 * - labels and tags given to `GraphBuilder.node` (they name nodes for people);
 * - the stage's source code: a reworded comment must not retrain a network; `version` stands
 *   for it.
 */
export interface KeyFields {
  /** The stage kind: two kinds given equal params compute different things. */
  readonly kind: string;
  /**
   * The stage's version string, bumped by hand when the meaning of its outputs changes, so
   * that old cache entries stop matching.
   */
  readonly version: string;
  /**
   * The params after decoding with the stage's schema, defaults filled in, so that writing a
   * default explicitly and leaving it out give the same key. Key order does not matter
   * (canonical JSON sorts keys).
   */
  readonly params: unknown;
  /**
   * By input name: the key of each upstream node, or the digest of each dataset file's bytes.
   * A list input keeps its order, because stages may depend on it (e.g. fold order). Because
   * upstream keys are hashed here, a change upstream changes every key downstream.
   */
  readonly inputs: Readonly<Record<string, KeyInput | readonly KeyInput[]>>;
}

/** A value that cannot be hashed: NaN, Infinity, a function, a class instance and so on. */
export class CanonicalJsonError extends Error {
  override readonly name = "CanonicalJsonError";
}

/**
 * Serializes `value` as canonical JSON: object keys sorted by code unit at every level, no
 * whitespace, and numbers in JavaScript's shortest round-trip form (`1.0` and `1` are both `1`,
 * `-0` is `0`). Object fields whose value is undefined are dropped and arrays keep their order.
 * Throws a `CanonicalJsonError` naming the path of NaN, ±Infinity, a bigint, a function, a
 * symbol, an undefined array entry or an object that is not plain (Date, Map, class instance).
 */
export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(`cannot hash ${value} at ${path}: only finite numbers have a canonical form`);
      }
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => {
          if (item === undefined) throw new CanonicalJsonError(`cannot hash undefined at ${path}[${i}]: use null for a missing list entry`);
          return encode(item, `${path}[${i}]`);
        }).join(",")}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (value as object).constructor?.name ?? "object";
        throw new CanonicalJsonError(`cannot hash a ${name} at ${path}: params must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)`);
      }
      // Sorting here is what makes the key independent of the order keys were written in.
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const field = (value as Record<string, unknown>)[key];
        if (field === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${encode(field, `${path}.${key}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`cannot hash a ${typeof value} at ${path}: params must be plain JSON`);
  }
}

/** SHA-256 of a string's UTF-8 bytes, as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Computes a node's key: the SHA-256 of the canonical JSON of its `KeyFields`. */
export function nodeKey(fields: KeyFields): NodeKey {
  const whole: KeyFields = { kind: fields.kind, version: fields.version, params: fields.params, inputs: fields.inputs };
  return sha256Hex(canonicalJson(whole)) as NodeKey;
}

const hex64 = /^[0-9a-f]{64}$/;

/** Checks that `text` is 64 lowercase hex digits and brands it as a node key. */
export function asNodeKey(text: string): NodeKey {
  if (!hex64.test(text)) throw new Error(`"${text}" is not a node key: expected 64 lowercase hex digits`);
  return text as NodeKey;
}

/** Checks that `text` is 64 lowercase hex digits and brands it as a file digest. */
export function asFileDigest(text: string): FileDigest {
  if (!hex64.test(text)) throw new Error(`"${text}" is not a file digest: expected 64 lowercase hex digits`);
  return text as FileDigest;
}

/** Returns the first 12 hex digits of a key, the form `plan` and logs print. */
export function shortKey(key: string): string {
  return key.slice(0, 12);
}

/**
 * SHA-256 of a file's bytes, read as a stream. The store memoises this by (path, size, mtime);
 * call this directly only where no store is at hand (tests, one-off tools).
 */
export function digestFile(path: string): Promise<FileDigest> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("error", (error) => reject(new Error(`cannot read ${path} to digest it: ${error.message}`)))
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex") as FileDigest));
  });
}
