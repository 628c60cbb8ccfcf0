/**
 * The experiment graph: nodes declared by an application, resolved to content keys, with equal
 * nodes merged into one.
 */
import { isAbsolute, resolve } from "node:path";
import type { FileDigest, KeyInput, NodeKey } from "./key.js";
import { canonicalJson, nodeKey } from "./key.js";
import type { Resources, StageKind } from "./stage.js";
import { resolveParams } from "./stage.js";
import { didYouMean } from "./experiment/suggest.js";

/** A node declared with `GraphBuilder.node`, usable as another node's input. */
export interface NodeRef { readonly _tag: "NodeRef"; readonly id: number }

/** A dataset file (absolute path) used as an input; it enters keys by the digest of its bytes. */
export interface FileRef { readonly _tag: "FileRef"; readonly path: string }

export type InputRef = NodeRef | FileRef;

/** An input of a finalized node: an upstream node's key, or a file with its digest. */
export type GraphInput = { readonly node: NodeKey } | { readonly file: string; readonly digest: FileDigest };

/** One unit of caching. */
export interface GraphNode {
  readonly key: NodeKey;
  readonly kind: string;
  readonly version: string;
  /** Resolved by the kind's schema, defaults filled: exactly what was hashed. */
  readonly params: unknown;
  readonly inputs: Record<string, GraphInput | readonly GraphInput[]>;
  /** Every label given to a declaration merged into this node, first-seen order, no repeats. */
  readonly labels: readonly string[];
  /** Tags of every merged declaration; where they disagree, the distinct values joined by ",". */
  readonly tags: Readonly<Record<string, string>>;
  readonly resources: Resources;
}

export interface Graph {
  readonly nodes: ReadonlyMap<NodeKey, GraphNode>;
  /** Every key once, each after all of its inputs. */
  readonly order: readonly NodeKey[];
}

/** A node declaration that cannot be built: unknown kind, bad params, missing or unknown input. */
export class GraphError extends Error {
  override readonly name = "GraphError";
}

interface Declaration {
  readonly stage: StageKind;
  readonly params: unknown;
  /** `params` in canonical JSON, checked at declaration so a NaN fails with the node's label. */
  readonly canonicalParams: string;
  readonly inputs: Readonly<Record<string, InputRef | readonly InputRef[]>>;
  readonly label: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly resources: Resources;
}

/**
 * Collects node declarations, then `finalize` digests the files and computes keys. A node can
 * only take inputs declared before it, so declaration order is already topological.
 */
export class GraphBuilder {
  private readonly kinds = new Map<string, StageKind>();
  private readonly declarations: Declaration[] = [];
  private readonly ownRefs = new WeakSet<NodeRef>();

  constructor(stages: readonly StageKind[]) {
    for (const stage of stages) {
      if (this.kinds.has(stage.name)) throw new GraphError(`two stage kinds are named "${stage.name}": stage names must be unique`);
      this.kinds.set(stage.name, stage);
    }
  }

  /**
   * Declares a node of stage `kind`. Params are decoded now (defaults filled), so a bad value
   * fails here with the node's label. Every declared input of the kind must be given, and no other.
   */
  node(
    kind: string,
    rawParams: unknown,
    inputs: Record<string, InputRef | readonly InputRef[]>,
    meta?: { label?: string; tags?: Record<string, string> },
  ): NodeRef {
    const label = meta?.label;
    const where = label === undefined ? `a ${kind} node` : `node ${label}`;
    const stage = this.kinds.get(kind);
    if (stage === undefined) throw new GraphError(`${where}: unknown stage kind "${kind}"${didYouMean(kind, [...this.kinds.keys()])}`);

    let params: unknown;
    let canonicalParams: string;
    try {
      params = resolveParams(stage, rawParams);
      canonicalParams = canonicalJson(params);
    } catch (error) {
      throw new GraphError(`${where}: ${(error as Error).message}`);
    }

    for (const name of stage.inputs) {
      if (!(name in inputs)) throw new GraphError(`${where}: input "${name}" is missing; stage ${kind} takes inputs ${stage.inputs.join(", ")}`);
    }
    for (const [name, value] of Object.entries(inputs)) {
      if (!stage.inputs.includes(name)) throw new GraphError(`${where}: stage ${kind} has no input "${name}"${didYouMean(name, stage.inputs)}`);
      for (const ref of Array.isArray(value) ? (value as readonly InputRef[]) : [value as InputRef]) this.checkRef(ref, `${where}, input "${name}"`);
    }

    this.declarations.push({ stage, params, canonicalParams, inputs: { ...inputs }, label, tags: { ...meta?.tags }, resources: stage.resources(params) });
    const ref: NodeRef = { _tag: "NodeRef", id: this.declarations.length - 1 };
    this.ownRefs.add(ref);
    return ref;
  }

  /** Returns a dataset file as an input; a relative path is resolved against the working directory. */
  file(path: string): FileRef {
    return { _tag: "FileRef", path: isAbsolute(path) ? path : resolve(path) };
  }

  /**
   * Digests every file once (at most `digestConcurrency` at a time), computes every key in
   * declaration order, and merges declarations with equal keys into one node.
   */
  async finalize(digest: (path: string) => Promise<FileDigest>): Promise<Graph> {
    const files = new Set<string>();
    for (const declaration of this.declarations) {
      for (const value of Object.values(declaration.inputs)) {
        for (const ref of Array.isArray(value) ? (value as readonly InputRef[]) : [value as InputRef]) if (ref._tag === "FileRef") files.add(ref.path);
      }
    }
    const digests = await digestAll([...files], digest);

    const keyOf: NodeKey[] = [];
    const nodes = new Map<NodeKey, GraphNode>();
    const order: NodeKey[] = [];
    const positionOf = new Map<NodeKey, number>();
    // Applications declare shared nodes once per point. A declaration whose kind, params and
    // (deduplicated) inputs were seen before has the same key, so it is found without hashing.
    const keyBySignature = new Map<string, NodeKey>();
    for (const declaration of this.declarations) {
      const signature = declarationSignature(declaration, (ref) =>
        ref._tag === "NodeRef" ? `n${positionOf.get(keyOf[ref.id]!)}` : `f${digests.get(ref.path)}`,
      );
      const known = keyBySignature.get(signature);
      if (known !== undefined) {
        keyOf.push(known);
        const existing = nodes.get(known)!;
        nodes.set(known, { ...existing, labels: mergeLabels(existing.labels, declaration.label), tags: mergeTags(existing.tags, declaration.tags) });
        continue;
      }

      const keyInputs: Record<string, KeyInput | readonly KeyInput[]> = {};
      const graphInputs: Record<string, GraphInput | readonly GraphInput[]> = {};
      for (const [name, value] of Object.entries(declaration.inputs)) {
        const toGraph = (ref: InputRef): GraphInput =>
          ref._tag === "NodeRef" ? { node: keyOf[ref.id]! } : { file: ref.path, digest: digests.get(ref.path)! };
        const toKey = (input: GraphInput): KeyInput => ("node" in input ? input.node : input.digest);
        if (Array.isArray(value)) {
          const list = (value as readonly InputRef[]).map(toGraph);
          graphInputs[name] = list;
          keyInputs[name] = list.map(toKey);
        } else {
          const single = toGraph(value as InputRef);
          graphInputs[name] = single;
          keyInputs[name] = toKey(single);
        }
      }

      const key = nodeKey({ kind: declaration.stage.name, version: declaration.stage.version, params: declaration.params, inputs: keyInputs });
      keyOf.push(key);
      keyBySignature.set(signature, key);
      const existing = nodes.get(key);
      if (existing === undefined) {
        positionOf.set(key, order.length);
        order.push(key);
        nodes.set(key, {
          key,
          kind: declaration.stage.name,
          version: declaration.stage.version,
          params: declaration.params,
          inputs: graphInputs,
          labels: declaration.label === undefined ? [] : [declaration.label],
          tags: declaration.tags,
          resources: declaration.resources,
        });
      } else {
        nodes.set(key, { ...existing, labels: mergeLabels(existing.labels, declaration.label), tags: mergeTags(existing.tags, declaration.tags) });
      }
    }
    return { nodes, order };
  }

  private checkRef(ref: InputRef, where: string): void {
    if (ref?._tag === "FileRef") {
      if (!isAbsolute(ref.path)) throw new GraphError(`${where}: file path "${ref.path}" is not absolute; make file refs with GraphBuilder.file`);
      return;
    }
    if (ref?._tag !== "NodeRef" || !this.ownRefs.has(ref)) {
      throw new GraphError(`${where}: not a node or file of this graph; pass what GraphBuilder.node or GraphBuilder.file returned`);
    }
  }
}

/** Files digested at once: enough to overlap disk reads, few enough to stay far from the open-file limit. */
const digestConcurrency = 8;

async function digestAll(files: readonly string[], digest: (path: string) => Promise<FileDigest>): Promise<Map<string, FileDigest>> {
  const digests = new Map<string, FileDigest>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const path = files[next++]!;
      digests.set(path, await digest(path));
    }
  };
  await Promise.all(Array.from({ length: Math.min(digestConcurrency, files.length) }, worker));
  return digests;
}

/** Returns the keys of a node's upstream nodes, each once, in input order. */
export function upstreamKeys(node: GraphNode): NodeKey[] {
  const keys = new Set<NodeKey>();
  for (const value of Object.values(node.inputs)) {
    for (const input of Array.isArray(value) ? (value as readonly GraphInput[]) : [value as GraphInput]) if ("node" in input) keys.add(input.node);
  }
  return [...keys];
}

/**
 * Identifies a declaration's key inputs cheaply: kind, version, canonical params and each input as
 * a short token (`n<position of the upstream node>` or `f<file digest>`). Equal signatures mean
 * equal keys, because positions map one-to-one to keys.
 */
function declarationSignature(declaration: Declaration, token: (ref: InputRef) => string): string {
  const inputs = Object.keys(declaration.inputs)
    .sort()
    .map((name) => {
      const value = declaration.inputs[name]!;
      const tokens = Array.isArray(value) ? `[${(value as readonly InputRef[]).map(token).join(",")}]` : token(value as InputRef);
      return `${JSON.stringify(name)}=${tokens}`;
    });
  return `${declaration.stage.name}\u0000${declaration.stage.version}\u0000${declaration.canonicalParams}\u0000${inputs.join(";")}`;
}

function mergeLabels(labels: readonly string[], label: string | undefined): readonly string[] {
  return label === undefined || labels.includes(label) ? labels : [...labels, label];
}

function mergeTags(into: Readonly<Record<string, string>>, from: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const merged: Record<string, string> = { ...into };
  for (const [name, value] of Object.entries(from)) {
    const current = merged[name];
    if (current === undefined) merged[name] = value;
    else if (!current.split(",").includes(value)) merged[name] = `${current},${value}`;
  }
  return merged;
}
