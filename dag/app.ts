/**
 * The application the engine runs: its stage kinds, its experiment schema, and how one
 * experiment point becomes nodes.
 */
import type { AnyDecoder } from "./experiment/issues.js";
import type { GraphBuilder } from "./graph.js";
import type { StageKind } from "./stage.js";

/** One variant × matrix combination of an experiment, with its fully resolved config. */
export interface ExperimentPoint<C> {
  /** `default`, a variant name (`fancl`), or variant and matrix values (`fancl,train.fga.lambda=0.1`). */
  readonly name: string;
  /** The dotted keys this point sets on top of the base config, with their values. */
  readonly overrides: Record<string, unknown>;
  /** The base config with `overrides` applied, decoded by the experiment schema. */
  readonly config: C;
}

/** An experiment file after `extends`, `--set`, validation and expansion into points. */
export interface LoadedExperiment<C> {
  /** Absolute path of the file named on the command line. */
  readonly file: string;
  /** The config without any variant or matrix overrides, decoded by the experiment schema. */
  readonly base: C;
  /** At least one; a file with neither `variants` nor `matrix` has the single point `default`. */
  readonly points: readonly ExperimentPoint<C>[];
}

export interface Application<C = any> {
  /** Absolute path of the module exporting `stages`; worker processes import it. */
  readonly registryModule: string;
  readonly stages: readonly StageKind[];
  /** Schema of the experiment body (the file without `extends`, `variants` and `matrix`). */
  readonly experimentSchema: AnyDecoder<C>;
  /** Declares the nodes of every point; equal nodes across points merge into one. */
  buildGraph(experiment: LoadedExperiment<C>, graph: GraphBuilder): void | Promise<void>;
}
