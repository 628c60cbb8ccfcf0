import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Schema } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import type { Graph, GraphNode, InputRef } from "../../dag/graph.js";
import { GraphBuilder, GraphError, upstreamKeys } from "../../dag/graph.js";
import type { NodeKey } from "../../dag/key.js";
import { digestFile } from "../../dag/key.js";
import type { StageKind } from "../../dag/stage.js";
import { defineStage } from "../../dag/stage.js";

/** Declares a toy stage whose run does nothing; only its declaration matters to the graph. */
function toyStage<P>(name: string, params: StageKind<P>["params"], inputs: string[]): StageKind<P> {
  return defineStage<P>({
    name,
    version: "1",
    params,
    inputs,
    outputs: ["out.json"],
    worker: false,
    resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
    run: async () => ({}),
  });
}

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) => schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)));

const stages = [
  toyStage("ingest", Schema.Struct({}), ["dataset"]),
  toyStage("prep", Schema.Struct({ spacing: withDefault(Schema.Number, 1), crop: withDefault(Schema.Boolean, true) }), ["case"]),
  toyStage("train", Schema.Struct({ lr: Schema.Number, epochs: withDefault(Schema.Int, 10) }), ["data"]),
  toyStage("report", Schema.Struct({ title: withDefault(Schema.String, "results") }), ["models"]),
];

const dir = mkdtempSync(join(tmpdir(), "fancl-graph-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const caseA = join(dir, "case-a.bin");
const caseB = join(dir, "case-b.bin");
writeFileSync(caseA, "case a bytes");
writeFileSync(caseB, "case b bytes");

interface ToyConfig {
  readonly prep?: Record<string, unknown>;
  readonly lrs?: readonly number[];
  readonly trainExtra?: Record<string, unknown>;
  readonly files?: readonly string[];
}

/** ingest(file) -> prep(case) for each file, train(all preps) for each lr, report(all trains). */
async function toyGraph(config: ToyConfig = {}): Promise<{ graph: Graph }> {
  const builder = new GraphBuilder(stages);
  const preps = (config.files ?? [caseA, caseB]).map((file, i) => {
    const ingest = builder.node("ingest", {}, { dataset: builder.file(file) }, { label: `ingest[${i}]` });
    return builder.node("prep", config.prep ?? {}, { case: ingest }, { label: `prep[${i}]` });
  });
  const trains = (config.lrs ?? [0.1]).map((lr) => builder.node("train", { lr, ...config.trainExtra }, { data: preps }, { label: `train[lr=${lr}]` }));
  builder.node("report", {}, { models: trains }, { label: "report" });
  return { graph: await builder.finalize(digestFile) };
}

/** Node keys by label (every toy declaration has a unique label). */
function keysByLabel(graph: Graph): Map<string, NodeKey> {
  const out = new Map<string, NodeKey>();
  for (const node of graph.nodes.values()) for (const label of node.labels) out.set(label, node.key);
  return out;
}

describe("GraphBuilder keys", () => {
  it("does not change when a default is written explicitly or keys are reordered", async () => {
    const implicit = keysByLabel((await toyGraph()).graph);
    const explicit = keysByLabel((await toyGraph({ prep: { crop: true, spacing: 1.0 }, trainExtra: { epochs: 10 } })).graph);
    expect(explicit).toEqual(implicit);
  });

  it("changes exactly the edited node and its downstream nodes when one param changes", async () => {
    const before = keysByLabel((await toyGraph()).graph);
    const after = keysByLabel((await toyGraph({ trainExtra: { epochs: 20 } })).graph);
    const changed = [...before.keys()].filter((label) => before.get(label) !== after.get(label)).sort();
    expect(changed).toEqual(["report", "train[lr=0.1]"]);
  });

  it("changes a file's ingest node and everything after it when the file's bytes change", async () => {
    const copy = join(dir, "case-b-copy.bin");
    writeFileSync(copy, "case b bytes, edited");
    const before = keysByLabel((await toyGraph()).graph);
    const after = keysByLabel((await toyGraph({ files: [caseA, copy] })).graph);
    const changed = [...before.keys()].filter((label) => before.get(label) !== after.get(label)).sort();
    expect(changed).toEqual(["ingest[1]", "prep[1]", "report", "train[lr=0.1]"]);
  });

  it("does not depend on a file's path, only on its bytes", async () => {
    const moved = join(dir, "moved-case-a.bin");
    writeFileSync(moved, "case a bytes");
    const before = keysByLabel((await toyGraph()).graph);
    const after = keysByLabel((await toyGraph({ files: [moved, caseB] })).graph);
    expect(after).toEqual(before);
  });

  it("digests each distinct file once", async () => {
    const builder = new GraphBuilder(stages);
    builder.node("ingest", {}, { dataset: builder.file(caseA) });
    builder.node("ingest", {}, { dataset: builder.file(caseA) });
    const seen: string[] = [];
    await builder.finalize(async (path) => (seen.push(path), digestFile(path)));
    expect(seen).toEqual([caseA]);
  });
  it("digests at most eight files at a time", async () => {
    const builder = new GraphBuilder(stages);
    for (let i = 0; i < 20; i++) {
      const file = join(dir, `many-${i}.bin`);
      writeFileSync(file, `bytes ${i}`);
      builder.node("ingest", {}, { dataset: builder.file(file) });
    }
    let inFlight = 0;
    let maxInFlight = 0;
    await builder.finalize(async (path) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return digestFile(path);
    });
    expect(maxInFlight).toBe(8);
  });
});

describe("GraphBuilder dedup", () => {
  it("merges equal declarations into one node", async () => {
    const builder = new GraphBuilder(stages);
    const ingest = builder.node("ingest", {}, { dataset: builder.file(caseA) });
    const first = builder.node("prep", {}, { case: ingest }, { label: "prep[baseline]", tags: { variant: "baseline" } });
    const second = builder.node("prep", { spacing: 1 }, { case: ingest }, { label: "prep[fancl]", tags: { variant: "fancl" } });
    builder.node("train", { lr: 0.1 }, { data: [first] }, { label: "train[baseline]" });
    builder.node("train", { lr: 0.1, epochs: 5 }, { data: [second] }, { label: "train[fancl]" });
    const graph = await builder.finalize(digestFile);

    const preps = [...graph.nodes.values()].filter((n) => n.kind === "prep");
    expect(preps).toHaveLength(1);
    expect(preps[0]!.labels).toEqual(["prep[baseline]", "prep[fancl]"]);
    expect(preps[0]!.tags).toEqual({ variant: "baseline,fancl" });
    expect([...graph.nodes.values()].filter((n) => n.kind === "train")).toHaveLength(2);
    expect(graph.nodes.size).toBe(4);
  });

  it("merges nodes whose inputs merged", async () => {
    const builder = new GraphBuilder(stages);
    const firstIngest = builder.node("ingest", {}, { dataset: builder.file(caseA) });
    const secondIngest = builder.node("ingest", {}, { dataset: builder.file(caseA) });
    builder.node("prep", {}, { case: firstIngest }, { label: "prep[first]" });
    builder.node("prep", { crop: true }, { case: secondIngest }, { label: "prep[second]" });
    builder.node("prep", { crop: false }, { case: secondIngest }, { label: "prep[uncropped]" });
    const graph = await builder.finalize(digestFile);
    const labels = [...graph.nodes.values()].filter((n) => n.kind === "prep").map((n) => n.labels);
    expect(labels).toEqual([["prep[first]", "prep[second]"], ["prep[uncropped]"]]);
  });

  it("shares upstream nodes across a sweep", async () => {
    // 3 learning rates over 2 cases: 2 ingest, 2 prep, 3 train and 1 report node.
    const { graph } = await toyGraph({ lrs: [0.1, 0.01, 0.001] });
    const count = (kind: string) => [...graph.nodes.values()].filter((n) => n.kind === kind).length;
    expect([count("ingest"), count("prep"), count("train"), count("report")]).toEqual([2, 2, 3, 1]);
  });
});

describe("GraphBuilder finalized nodes", () => {
  it("lists every node after all of its inputs", async () => {
    const { graph } = await toyGraph({ lrs: [0.1, 0.2] });
    const position = new Map(graph.order.map((key, i) => [key, i]));
    expect(graph.order).toHaveLength(graph.nodes.size);
    for (const key of graph.order) {
      for (const upstream of upstreamKeys(graph.nodes.get(key)!)) expect(position.get(upstream)!).toBeLessThan(position.get(key)!);
    }
  });

  it("keeps resolved params, file inputs with digests, and list inputs as lists", async () => {
    const { graph } = await toyGraph();
    const prepKeys = keysByLabel(graph);
    const nodes = [...graph.nodes.values()];
    const prep = nodes.find((n) => n.kind === "prep")!;
    expect(prep.params).toEqual({ spacing: 1, crop: true });
    const ingest = nodes.find((n) => n.kind === "ingest")! as GraphNode;
    // python3 -c "import hashlib; print(hashlib.sha256(b'case a bytes').hexdigest())"
    expect(ingest.inputs["dataset"]).toEqual({ file: caseA, digest: "738dab09d8145a70f68bf42f090933b7ce33f4bed09d1f9ebb2800029f56776e" });
    const train = nodes.find((n) => n.kind === "train")!;
    expect(train.inputs["data"]).toEqual([{ node: prepKeys.get("prep[0]") }, { node: prepKeys.get("prep[1]") }]);
  });
});

describe("GraphBuilder errors", () => {
  const builder = new GraphBuilder(stages);
  const ingest = builder.node("ingest", {}, { dataset: builder.file(caseA) });

  it("suggests the closest kind for an unknown one", () => {
    expect(() => builder.node("trian", { lr: 1 }, { data: [ingest] })).toThrow('unknown stage kind "trian" (did you mean "train"?)');
  });

  it("names the node's label and the bad param", () => {
    expect(() => builder.node("train", { lr: "fast" }, { data: [ingest] }, { label: "train[fancl fold=0]" })).toThrow(
      'node train[fancl fold=0]: stage train: params.lr: expected number, got "fast"',
    );
  });

  it("rejects a NaN param with the label", () => {
    expect(() => builder.node("train", { lr: Number.NaN }, { data: [ingest] }, { label: "train[nan]" })).toThrow(
      "node train[nan]: cannot hash NaN at $.lr: only finite numbers have a canonical form",
    );
  });

  it("rejects an unknown param with a suggestion", () => {
    expect(() => builder.node("train", { lr: 1, epoch: 3 }, { data: [ingest] })).toThrow('params.epoch: unknown key "epoch" (did you mean "epochs"?)');
  });

  it("rejects a missing input", () => {
    expect(() => builder.node("train", { lr: 1 }, {})).toThrow('input "data" is missing');
  });

  it("rejects an undeclared input with a suggestion", () => {
    expect(() => builder.node("train", { lr: 1 }, { data: [ingest], dat: ingest })).toThrow('has no input "dat" (did you mean "data"?)');
  });

  it("rejects a ref made by another builder", () => {
    const other = new GraphBuilder(stages);
    const foreign = other.node("ingest", {}, { dataset: other.file(caseA) });
    expect(() => builder.node("prep", {}, { case: foreign })).toThrow(GraphError);
  });

  it("rejects a forged ref", () => {
    const forged = { _tag: "NodeRef", id: 0 } as InputRef;
    expect(() => builder.node("prep", {}, { case: forged })).toThrow("not a node or file of this graph");
  });

  it("rejects two stage kinds with one name", () => {
    expect(() => new GraphBuilder([stages[0]!, stages[0]!])).toThrow('two stage kinds are named "ingest"');
  });
});
