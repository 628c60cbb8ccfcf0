/**
 * A config tree that remembers where each value came from (a YAML file position or a `--set`
 * argument), so that a problem found after merging still points at the right file:line:col.
 */
import type { ValuePath } from "./issues.js";

/** The printable location of a key and its value: `exp.yaml:3:5` or `--set train.lr=x`. */
export interface Origin {
  /** Location of the key itself (for unknown-key errors). */
  readonly key: string;
  /** Location where the value starts (for type errors). */
  readonly value: string;
}

/** A plain JSON-like value with the origin of every key and list entry in it. */
export interface Sourced {
  readonly value: unknown;
  /** By `pathId(path)`; the root path (empty) maps to the origin of the whole document. */
  readonly origins: ReadonlyMap<string, Origin>;
}

const separator = "\u0001";

/** Returns the map key of a value path in `Sourced.origins`. */
export function pathId(path: ValuePath): string {
  return path.map(String).join(separator);
}

function isUnder(id: string, prefix: string): boolean {
  return prefix === "" || id === prefix || id.startsWith(prefix + separator);
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns the origin of `path`, or of its nearest ancestor that has one. */
export function locate(tree: Sourced, path: ValuePath, which: "key" | "value"): string {
  for (let length = path.length; length >= 0; length--) {
    const origin = tree.origins.get(pathId(path.slice(0, length)));
    if (origin !== undefined) return length === path.length ? origin[which] : origin.value;
  }
  return "(unknown location)";
}

/** Returns the value at `path`, or undefined. */
export function valueAt(value: unknown, path: ValuePath): unknown {
  let current = value;
  for (const part of path) {
    if (Array.isArray(current) && typeof part === "number") current = current[part];
    else if (isPlainMap(current)) current = current[String(part)];
    else return undefined;
  }
  return current;
}

/** Returns the subtree at `path` with its origins, re-rooted so that `path` becomes the root. */
export function subtree(tree: Sourced, path: ValuePath): Sourced {
  const prefix = pathId(path);
  const origins = new Map<string, Origin>();
  for (const [id, origin] of tree.origins) {
    if (!isUnder(id, prefix)) continue;
    let relativeId = id;
    if (prefix !== "") relativeId = id === prefix ? "" : id.slice(prefix.length + 1);
    origins.set(relativeId, origin);
  }
  return { value: valueAt(tree.value, path), origins };
}

/** Returns the tree without the given top-level keys. */
export function withoutKeys(tree: Sourced, keys: readonly string[]): Sourced {
  const value = isPlainMap(tree.value) ? { ...tree.value } : tree.value;
  const origins = new Map(tree.origins);
  for (const key of keys) {
    if (isPlainMap(value)) delete value[key];
    for (const id of [...origins.keys()]) if (isUnder(id, key)) origins.delete(id);
  }
  return { value, origins };
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/**
 * Lays `top` over `base`. Maps merge key by key at any depth, and anything else in `top` (a list,
 * a scalar, null) replaces what `base` had there, together with its origins.
 */
export function overlay(base: Sourced, top: Sourced): Sourced {
  if (!isPlainMap(base.value) || !isPlainMap(top.value)) return { value: clone(top.value), origins: new Map(top.origins) };
  const value = clone(base.value) as Record<string, unknown>;
  const origins = new Map(base.origins);
  const rootOrigin = top.origins.get("");
  if (rootOrigin !== undefined && !origins.has("")) origins.set("", rootOrigin);
  mergeMap(value, [], top, origins);
  return { value, origins };
}

function mergeMap(into: Record<string, unknown>, path: (string | number)[], top: Sourced, origins: Map<string, Origin>): void {
  const source = valueAt(top.value, path) as Record<string, unknown>;
  for (const [key, topValue] of Object.entries(source)) {
    const childPath = [...path, key];
    const id = pathId(childPath);
    if (isPlainMap(into[key]) && isPlainMap(topValue)) {
      const origin = top.origins.get(id);
      if (origin !== undefined) origins.set(id, origin);
      mergeMap(into[key], childPath, top, origins);
      continue;
    }
    into[key] = clone(topValue);
    for (const existing of [...origins.keys()]) if (isUnder(existing, id)) origins.delete(existing);
    for (const [topId, origin] of top.origins) if (isUnder(topId, id)) origins.set(topId, origin);
  }
}

/**
 * Sets `path` to `value`, creating maps on the way, and records `origin` for it and everything
 * inside it. Throws when a step of the path contains something that is not a map.
 */
export function setPath(tree: Sourced, path: readonly string[], value: unknown, origin: Origin): Sourced {
  const root = isPlainMap(tree.value) ? (clone(tree.value) as Record<string, unknown>) : {};
  const origins = new Map(tree.origins);
  let current = root;
  for (let i = 0; i < path.length - 1; i++) {
    const part = path[i]!;
    const next = current[part];
    if (next === undefined || next === null) {
      current[part] = {};
      origins.set(pathId(path.slice(0, i + 1)), origin);
    } else if (!isPlainMap(next)) {
      throw new Error(`${path.slice(0, i + 1).join(".")} is ${JSON.stringify(next)}, not a map, so it has no key "${path[i + 1]}"`);
    }
    current = current[part] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = clone(value);

  const id = pathId(path);
  for (const existing of [...origins.keys()]) if (isUnder(existing, id)) origins.delete(existing);
  const mark = (v: unknown, at: (string | number)[]): void => {
    origins.set(pathId(at), origin);
    if (Array.isArray(v)) v.forEach((item, i) => mark(item, [...at, i]));
    else if (isPlainMap(v)) for (const [k, item] of Object.entries(v)) mark(item, [...at, k]);
  };
  mark(value, [...path]);
  return { value: root, origins };
}
