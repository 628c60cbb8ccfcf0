import type { Application } from "../app.js";
import { loadExperiment } from "../experiment/load.js";
import { ExperimentError } from "../experiment/yaml.js";
import { GraphBuilder, GraphError, type Graph } from "../graph.js";
import type { Store } from "../store/store.js";

/** Output streams of an engine verb; tests pass collectors. */
export interface VerbIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo: VerbIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Loads an experiment file with the application's schema and `--set` overrides, declares its
 * nodes with `app.buildGraph` and finalizes the graph, digesting dataset files through the
 * store's memo. Returns an error message instead when the file or the graph is invalid.
 */
export async function experimentGraph<C>(
  app: Application<C>,
  file: string,
  sets: readonly string[],
  store: Store,
): Promise<{ graph: Graph; file: string } | { error: string }> {
  try {
    const experiment = await loadExperiment(file, app.experimentSchema, { set: sets });
    const builder = new GraphBuilder(app.stages);
    await app.buildGraph(experiment, builder);
    const graph = await builder.finalize((path) => store.fileDigest(path));
    return { graph, file: experiment.file };
  } catch (error) {
    if (error instanceof ExperimentError || error instanceof GraphError) return { error: error.message };
    throw error;
  }
}
