/**
 * The no-op benchmark's application: `items` item nodes, one group node per `group` items,
 * and one summary node over the groups (90 + 9 + 1 = 100 nodes with the benchmark's file).
 */
import { fileURLToPath } from "node:url";
import * as Schema from "effect/Schema";
import type { Application } from "../../dag/app.js";
import type { NodeRef } from "../../dag/graph.js";
import { stages } from "./stages.js";

const BenchExperiment = Schema.Struct({ items: Schema.Int, group: Schema.Int });

export const benchApplication: Application<typeof BenchExperiment.Type> = {
  registryModule: fileURLToPath(new URL("./stages.js", import.meta.url)),
  stages,
  experimentSchema: BenchExperiment,
  buildGraph(experiment, graph) {
    const { items, group } = experiment.base;
    const itemNodes: NodeRef[] = [];
    for (let index = 0; index < items; index++) itemNodes.push(graph.node("item", { index }, {}, { label: `item${index}` }));
    const groups: NodeRef[] = [];
    for (let g = 0; g * group < items; g++) {
      groups.push(graph.node("group", { group: g }, { items: itemNodes.slice(g * group, (g + 1) * group) }, { label: `group${g}` }));
    }
    graph.node("summary", {}, { groups }, { label: "summary" });
  },
};
