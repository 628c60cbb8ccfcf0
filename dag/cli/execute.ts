/**
 * The part of `fancl run` that computes nodes: GPU discovery, the Effect runner in a fiber,
 * and Ctrl-C handling. Loaded only when some node must run, so that a no-op rerun stays fast.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import type { Application } from "../app.js";
import type { Graph } from "../graph.js";
import { defaultJobs, resolveGpus } from "../runner/devices.js";
import { localExecutor } from "../runner/executor.js";
import { GpuPool, type GpuDevice } from "../runner/gpu-pool.js";
import type { RunPlan } from "../runner/plan-run.js";
import type { Reporter } from "../runner/reporter.js";
import { runGraph, type RunResult } from "../runner/runner.js";
import type { Store } from "../store/store.js";
import type { GlobalOptions } from "./options.js";

export interface ExecuteOptions {
  readonly store: Store;
  readonly app: Application;
  readonly global: GlobalOptions;
  /** Memory of each `--gpus` device from `--gpu-memory`; undefined reads it from nvidia-smi. */
  readonly gpuMemoryMiB: number | undefined;
  readonly reporter: Reporter;
  readonly runId: number;
}

export type Executed =
  | { readonly _tag: "Finished"; readonly result: RunResult }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Refused"; readonly message: string };

/**
 * Runs the graph until it finishes or SIGINT/SIGTERM arrives. A signal interrupts the runner's
 * fiber, which kills workers and removes tmp folders before this function resolves.
 */
export async function executeGraph(graph: Graph, plan: RunPlan, options: ExecuteOptions): Promise<Executed> {
  const { global, reporter } = options;
  const needsGpu = [...plan.toRun].some((key) => graph.nodes.get(key)!.resources.gpus > 0);
  let devices: GpuDevice[] = [];
  if (needsGpu) {
    try {
      devices = await resolveGpus(global.gpus?.map(String), options.gpuMemoryMiB);
    } catch (error) {
      return { _tag: "Refused", message: (error as Error).message };
    }
  }

  const fiber = Effect.runFork(
    runGraph(graph, {
      store: options.store,
      stages: options.app.stages,
      registryModule: options.app.registryModule,
      jobs: global.jobs ?? defaultJobs(),
      gpus: new GpuPool(devices),
      executor: localExecutor(),
      reporter,
      force: global.force,
      keepGoing: global.keepGoing,
      runId: options.runId,
    }),
  );
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    reporter.line("interrupted: stopping every node and removing their temporary folders");
    Effect.runFork(Fiber.interrupt(fiber));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const exit = await Effect.runPromise(Fiber.await(fiber));
    if (interrupted) return { _tag: "Interrupted" };
    if (Exit.isSuccess(exit)) return { _tag: "Finished", result: exit.value };
    return { _tag: "Refused", message: refusal(exit.cause) };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function refusal(cause: Cause.Cause<unknown>): string {
  const error = Cause.squash(cause) as { _tag?: string; message?: string } | undefined;
  if (error?._tag === "ResourcesUnavailable") return `cannot run: nodes need resources this machine does not have:\n${error.message}`;
  return typeof error?.message === "string" ? error.message : Cause.pretty(cause);
}
