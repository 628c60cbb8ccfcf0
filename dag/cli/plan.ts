/**
 * `fancl plan FILE [--json]`: what a run would compute and why, without running anything.
 */
import type { Application } from "../app.js";
import { loadExperiment } from "../experiment/load.js";
import { ExperimentError } from "../experiment/yaml.js";
import { GraphBuilder, GraphError } from "../graph.js";
import { formatPlan, planGraph, planJson } from "../plan.js";
import { Store } from "../store/store.js";
import { processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, type Command, type VerbSpec } from "./options.js";

const verb: VerbSpec = {
  name: "plan",
  summary: "Show every node of an experiment, whether it is cached, and why a missing one must run",
  arguments: "FILE",
  minPositionals: 1,
  maxPositionals: 1,
  description: [
    "Columns: short key (12 hex), stage kind, label, status (cached, missing or forced), the params in",
    "which the node differs from the other nodes of its kind, and for a missing node what differs",
    "from the nearest cached node of its kind (or \"never run\"). Nothing is computed. The table",
    "shortens values longer than 40 characters; --json prints them whole.",
  ].join("\n"),
  options: {
    json: { type: "boolean", description: "print a JSON array of {key, kind, labels, params, inputs, cached, reason, path}" },
  },
  globals: ["set", "force"],
};

/** Makes the `plan` verb for `app`, which prints the plan to stdout and experiment problems to stderr (exit 2). */
export function makePlanCommand<C>(
  app: Application<C>,
  io: VerbIo = processIo,
): Command {
  return verbCommand(
    verb,
    async ({ global, options, positionals }) => {
      let store: Store | undefined;
      try {
        const experiment = await loadExperiment(positionals[0]!, app.experimentSchema, { set: global.set });
        const builder = new GraphBuilder(app.stages);
        await app.buildGraph(experiment, builder);
        store = await Store.open(global.store);
        const opened = store;
        const graph = await builder.finalize((path) => opened.fileDigest(path));
        const entries = await planGraph(graph, store, global.force);
        io.out(options["json"] === true ? `${JSON.stringify(planJson(entries), null, 2)}\n` : formatPlan(entries));
        return 0;
      } catch (error) {
        if (error instanceof ExperimentError || error instanceof GraphError) {
          io.err(`${error.message}\n`);
          return 2;
        }
        throw error;
      } finally {
        await store?.close();
      }
    },
    io,
  );
}
