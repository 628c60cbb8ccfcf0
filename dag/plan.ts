/**
 * The plan of an experiment: every node, whether the store has it, and for a missing node why
 * (what differs from the nearest cached node of the same kind).
 */
import type { Graph, GraphInput, GraphNode } from "./graph.js";
import type { NodeKey } from "./key.js";
import { canonicalJson, shortKey } from "./key.js";
import { isPlainMap } from "./experiment/sourced.js";

/** The fields of a cached node's manifest that the plan compares. */
export interface CachedNode {
  readonly key: NodeKey;
  readonly kind: string;
  readonly version: string;
  readonly params: unknown;
  readonly inputs: Readonly<Record<string, GraphInput | readonly GraphInput[]>>;
  readonly labels?: readonly string[];
}

/** The part of the store the plan reads (dag/store's `Store` implements it). */
export interface PlanStore {
  /** Whether the node is committed; a `broken` folder (unreadable manifest) is not, and `problem` gives the reason. */
  inspect(key: NodeKey): Promise<{ readonly state: "committed" | "missing" | "broken"; readonly problem?: string }>;
  /** Committed manifests of one kind, newest first. */
  manifestsOfKind(kind: string): Promise<readonly CachedNode[]>;
  nodeDir(key: NodeKey): string;
}

export interface PlanEntry {
  readonly key: NodeKey;
  readonly kind: string;
  readonly labels: readonly string[];
  /** Resolved params, defaults filled. */
  readonly params: unknown;
  readonly inputs: GraphNode["inputs"];
  /** Dotted param paths whose value differs among the plan's nodes of this kind, with this node's value. */
  readonly differing: Readonly<Record<string, unknown>>;
  readonly cached: boolean;
  /** Will run although cached, because of `--force KIND`. */
  readonly forced: boolean;
  /**
   * Why a missing node must run: `never run`, what differs from the nearest cached node, or what
   * is wrong with its cache folder (`manifest unreadable …`). Absent when cached.
   */
  readonly reason: string | undefined;
  /** The node's cache folder. */
  readonly path: string;
}

/** How many differences a reason lists before "and N more". */
const shownDifferences = 3;

/** Lists every node of `graph` in topological order with its cache state; `force` lists kinds to recompute. */
export async function planGraph(graph: Graph, store: PlanStore, force: readonly string[] = []): Promise<PlanEntry[]> {
  const nodes = graph.order.map((key) => graph.nodes.get(key)!);
  const differingByKey = siblingDifferences(nodes);
  const cachedOfKind = new Map<string, Promise<readonly CachedNode[]>>();

  return Promise.all(
    nodes.map(async (node): Promise<PlanEntry> => {
      const entry = await store.inspect(node.key);
      const cached = entry.state === "committed";
      const forced = force.includes(node.kind);
      let reason: string | undefined;
      if (forced) {
        reason = `forced by --force ${node.kind}`;
      } else if (entry.state === "broken") {
        reason = `${entry.problem ?? "cache folder broken"}; the run replaces it`;
      } else if (!cached) {
        if (!cachedOfKind.has(node.kind)) cachedOfKind.set(node.kind, store.manifestsOfKind(node.kind));
        reason = missReason(node, await cachedOfKind.get(node.kind)!);
      }
      return {
        key: node.key,
        kind: node.kind,
        labels: node.labels,
        params: node.params,
        inputs: node.inputs,
        differing: differingByKey.get(node.key) ?? {},
        cached,
        forced,
        reason,
        path: store.nodeDir(node.key),
      };
    }),
  );
}

/**
 * Leaf values of a params object by dotted path; lists and scalars are leaves, maps are walked.
 * Values are canonical JSON so that equal values compare equal.
 */
export function leafParams(params: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  if (isPlainMap(params) && (prefix === "" || Object.keys(params).length > 0)) {
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined) continue;
      for (const [path, text] of leafParams(value, prefix === "" ? key : `${prefix}.${key}`)) out.set(path, text);
    }
    return out;
  }
  out.set(prefix, canonicalJson(params));
  return out;
}

/** For each node, the params in which the nodes of its kind disagree (a kind with one node: none). */
function siblingDifferences(nodes: readonly GraphNode[]): Map<NodeKey, Record<string, unknown>> {
  const byKind = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    const siblings = byKind.get(node.kind);
    if (siblings === undefined) byKind.set(node.kind, [node]);
    else siblings.push(node);
  }

  const out = new Map<NodeKey, Record<string, unknown>>();
  for (const siblings of byKind.values()) {
    const leaves = siblings.map((node) => leafParams(node.params));
    const paths = new Set(leaves.flatMap((leaf) => [...leaf.keys()]));
    const varying = [...paths].filter((path) => new Set(leaves.map((leaf) => leaf.get(path))).size > 1).sort();
    siblings.forEach((node, i) => {
      const own: Record<string, unknown> = {};
      for (const path of varying) {
        const text = leaves[i]!.get(path);
        own[path] = text === undefined ? undefined : JSON.parse(text);
      }
      out.set(node.key, own);
    });
  }
  return out;
}

/** A node's params and inputs in canonical text, computed once per node or manifest. */
interface Comparable {
  readonly leaves: Map<string, string>;
  readonly inputs: Map<string, string>;
}

const comparables = new WeakMap<object, Comparable>();

function comparable(node: GraphNode | CachedNode): Comparable {
  let found = comparables.get(node);
  if (found === undefined) {
    const inputs = new Map(Object.entries(node.inputs).map(([name, value]) => [name, canonicalJson(value)]));
    found = { leaves: leafParams(node.params), inputs };
    comparables.set(node, found);
  }
  return found;
}

/** Lists what differs between a node and one cached node of its kind, one phrase per difference. */
export function differences(node: GraphNode, cached: CachedNode): string[] {
  const out: string[] = [];
  if (node.version !== cached.version) out.push(`version ${cached.version} → ${node.version}`);

  const now = comparable(node);
  const then = comparable(cached);
  for (const path of [...new Set([...then.leaves.keys(), ...now.leaves.keys()])].sort()) {
    const before = then.leaves.get(path);
    const after = now.leaves.get(path);
    if (before !== after) out.push(`params.${path} ${before ?? "(absent)"} → ${after ?? "(absent)"}`);
  }

  for (const name of [...new Set([...then.inputs.keys(), ...now.inputs.keys()])].sort()) {
    if (then.inputs.get(name) === now.inputs.get(name)) continue;
    out.push(inputDifference(name, cached.inputs[name], node.inputs[name]));
  }
  return out;
}

function inputDifference(name: string, cached: GraphInput | readonly GraphInput[] | undefined, now: GraphInput | readonly GraphInput[] | undefined): string {
  if (cached === undefined) return `input ${name} is new`;
  if (now === undefined) return `input ${name} is gone`;
  const listA = Array.isArray(cached) ? (cached as readonly GraphInput[]) : [cached as GraphInput];
  const listB = Array.isArray(now) ? (now as readonly GraphInput[]) : [now as GraphInput];
  if (listA.length !== listB.length) return `input ${name} has ${listB.length} entries, cached ${listA.length}`;
  const changed = listB.flatMap((b, i) => (canonicalJson(b) === canonicalJson(listA[i]!) ? [] : [i]));
  const first = changed[0]!;
  const where = listB.length > 1 || Array.isArray(now) ? `input ${name}[${first}]` : `input ${name}`;
  const more = changed.length > 1 ? ` (and ${changed.length - 1} more entries)` : "";
  return `${where} ${describeInput(listA[first]!)} → ${describeInput(listB[first]!)}${more}`;
}

function describeInput(input: GraphInput): string {
  return "node" in input ? `node ${shortKey(input.node)}` : `file ${input.file} (${shortKey(input.digest)})`;
}

/**
 * Why a missing node must run: `never run` when the store has no node of its kind, else the
 * differences from the cached node with the fewest. On a tie a cached node that shares one of
 * the node's labels wins (the same variant and fold, say, rather than a mining net), then the
 * newest.
 */
export function missReason(node: GraphNode, cached: readonly CachedNode[]): string {
  if (cached.length === 0) return "never run";
  const sharesLabel = (candidate: CachedNode) => (candidate.labels ?? []).some((label) => node.labels.includes(label));
  let best: { node: CachedNode; diff: string[]; shares: boolean } | undefined;
  for (const candidate of cached) {
    const diff = differences(node, candidate);
    const shares = sharesLabel(candidate);
    if (
      best === undefined ||
      diff.length < best.diff.length ||
      (diff.length === best.diff.length && shares && !best.shares)
    ) {
      best = { node: candidate, diff, shares };
    }
  }
  const { node: nearest, diff } = best!;
  if (diff.length === 0) return `same params and inputs as cached ${shortKey(nearest.key)}, but a different key`;
  const listed = diff.slice(0, shownDifferences).join("; ");
  const more = diff.length > shownDifferences ? `; and ${diff.length - shownDifferences} more` : "";
  return `vs cached ${shortKey(nearest.key)}: ${listed}${more}`;
}

/** Maximum length of a value the plan table prints in full; `--json` always has the whole value. */
const maxShownLength = 40;

/** Formats a value for the plan table: strings bare, the rest as JSON, long lists as their length. */
function show(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text.length <= maxShownLength) return text;
  if (Array.isArray(value)) return `[${value.length} items]`;
  return `${text.slice(0, maxShownLength - 1)}…`;
}

function status(entry: PlanEntry): string {
  if (entry.forced) return "forced";
  return entry.cached ? "cached" : "missing";
}

/**
 * Widest a table column grows before a longer cell overflows into the next column of its own
 * row only, so that one node with long params does not push every row's reason off screen.
 */
const maxColumnWidth = 48;

/** Formats the plan as a text table, one node per line, and a summary line. */
export function formatPlan(entries: readonly PlanEntry[]): string {
  const rows = entries.map((entry) => [
    shortKey(entry.key),
    entry.kind,
    entry.labels.join(" ") || "-",
    status(entry),
    Object.entries(entry.differing).map(([path, value]) => `${path}=${show(value)}`).join(" ") || "-",
    entry.reason ?? "",
  ]);
  const header = ["key", "kind", "label", "status", "params", "reason"];
  const widths = header.map((title, column) => Math.min(maxColumnWidth, Math.max(title.length, ...rows.map((row) => row[column]!.length))));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();

  const cached = entries.filter((entry) => entry.cached && !entry.forced).length;
  const summary = `${entries.length} nodes: ${cached} cached, ${entries.length - cached} to run`;
  return [line(header), ...rows.map(line), "", summary, ""].join("\n");
}

/** Converts the plan to what `--json` prints: `{key, kind, labels, params, inputs, cached, reason, path}` per node. */
export function planJson(entries: readonly PlanEntry[]): unknown[] {
  return entries.map((entry) => ({
    key: entry.key,
    kind: entry.kind,
    labels: entry.labels,
    params: entry.params,
    inputs: entry.inputs,
    cached: entry.cached,
    reason: entry.reason ?? null,
    path: entry.path,
  }));
}
