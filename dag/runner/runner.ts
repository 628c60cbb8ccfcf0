import { mkdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Semaphore from "effect/Semaphore";
import { upstreamKeys, type Graph, type GraphInput, type GraphNode } from "../graph.js";
import type { NodeKey } from "../key.js";
import type { StageKind } from "../stage.js";
import { type HeldLock, isHeld } from "../store/lock.js";
import { describeOutputs, type Manifest } from "../store/manifest.js";
import { hostName, type Store } from "../store/store.js";
import { NodeFailed, ResourcesUnavailable } from "./errors.js";
import type { Executor } from "./executor.js";
import type { GpuLease, GpuPool } from "./gpu-pool.js";
import type { Reporter } from "./reporter.js";
import { planRun, type RunPlan } from "./plan-run.js";

export { planRun, type RunPlan } from "./plan-run.js";

export interface RunnerOptions {
  readonly store: Store;
  /** Every stage kind of the application, looked up by the nodes' kind. */
  readonly stages: readonly StageKind[];
  /** Absolute path of the module exporting `stages`, for worker processes. */
  readonly registryModule: string;
  /** CPU slots: the sum of `resources.cpu` of running nodes stays at or below this. */
  readonly jobs: number;
  readonly gpus: GpuPool;
  readonly executor: Executor;
  readonly reporter: Reporter;
  /** Stage kinds recomputed even when cached; their dependents are recomputed too. */
  readonly force?: readonly string[];
  /** After a failure, keep starting nodes that do not depend on it. */
  readonly keepGoing?: boolean;
  /** The run record node events are filed under. */
  readonly runId?: number;
  /** How often a node waiting for another process's lock looks again, in ms. */
  readonly lockPollMs?: number;
}

/**
 * The outcome of a node: reused from the store (`cached`), computed now (`computed`), failed,
 * skipped because an upstream node failed, or not started because the run stopped after a
 * failure (no `--keep-going`).
 */
export type NodeOutcome = "cached" | "computed" | "failed" | "skipped" | "not-started";

export interface RunResult {
  readonly outcomes: ReadonlyMap<NodeKey, NodeOutcome>;
  readonly failures: readonly NodeFailed[];
}

/**
 * Runs a graph: every node that `planRun` marks starts once its inputs are ready, within the
 * CPU slots and GPU leases. Each computed node takes its per-key lock (so another process on
 * the same store waits for it and reuses the result), writes into a tmp folder and is committed
 * by rename. Interrupting the effect kills workers and removes tmp folders and locks.
 * Fails up front with `ResourcesUnavailable` when a node to run needs a GPU no device can give.
 */
export const runGraph = Effect.fn("runGraph")(function* (graph: Graph, options: RunnerOptions) {
  const { store, reporter } = options;
  const plan = yield* Effect.promise(() => planRun(graph, store, options.force));
  yield* checkResources(graph, plan, options);

  const kinds = new Map(options.stages.map((stage) => [stage.name, stage]));
  const cpu = Semaphore.makeUnsafe(options.jobs);
  const outcomes = new Map<NodeKey, NodeOutcome>();
  const failures: NodeFailed[] = [];
  // Each node's deferred holds the key of the failed node that blocks its dependents, or undefined when usable.
  const ready = new Map<NodeKey, Deferred.Deferred<NodeKey | undefined>>(graph.order.map((key) => [key, Deferred.makeUnsafe()]));
  // Whatever a node still holds when the run is interrupted is cleaned up from here as well.
  const heldLocks = new Set<HeldLock>();
  const tmpDirs = new Set<string>();
  let halted = false;

  const record = (key: NodeKey, event: "start" | "end" | "error", message?: string) =>
    Effect.promise(() => store.recordEvent(options.runId, key, event, message).catch(() => undefined));

  const lockNode = (node: GraphNode) =>
    Effect.acquireRelease(
      Effect.gen(function* () {
        let told = false;
        while (true) {
          const attempt = yield* Effect.promise(() => store.tryLock(node.key));
          if (isHeld(attempt)) {
            heldLocks.add(attempt);
            return attempt;
          }
          if (!told) reporter.nodeWaiting(node, `pid ${attempt.pid} on ${attempt.host}`);
          told = true;
          yield* Effect.sleep(options.lockPollMs ?? 200);
        }
      }),
      (lock) => Effect.promise(() => lock.release().then(() => void heldLocks.delete(lock))),
      { interruptible: true },
    );

  const tmpDir = (key: NodeKey) =>
    Effect.acquireRelease(
      Effect.promise(() => store.createTmpDir(key)).pipe(Effect.tap((dir) => Effect.sync(() => tmpDirs.add(dir)))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }).then(() => void tmpDirs.delete(dir))),
    );

  const fail = (node: GraphNode, error: unknown): NodeFailed =>
    error instanceof NodeFailed ? error : new NodeFailed({ key: node.key, kind: node.kind, message: error instanceof Error ? error.message : String(error), stderrTail: [] });

  /** Lock, resources, execute, commit. Returns "cached" when another process committed the node meanwhile. */
  const compute = (node: GraphNode) =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* lockNode(node);
        // Another process may have committed the node while this one waited for the lock.
        const forced = plan.forced.has(node.key);
        if (!forced && (yield* Effect.promise(() => store.has(node.key)))) return "cached" as const;

        const lease: GpuLease | undefined = node.resources.gpus > 0 ? yield* options.gpus.lease(node.resources.gpus, node.resources.gpuMemoryMiB) : undefined;
        yield* cpu.takeScoped(Math.min(Math.max(0, node.resources.cpu), options.jobs));
        if (halted) return "not-started" as const;

        // Halting happens here, before this node's CPU slot is released, so that no waiting node slips in.
        const failed = (failure: NodeFailed, start: Date) =>
          Effect.gen(function* () {
            if (options.keepGoing !== true) halted = true;
            reporter.nodeFailed(node, failure, Date.now() - start.getTime());
            yield* record(node.key, "error", failure.message);
          });

        const outDir = yield* tmpDir(node.key);
        const scratchDir = path.join(store.root, "scratch", node.key);
        yield* Effect.promise(() => mkdir(scratchDir, { recursive: true }));
        const device = lease === undefined ? undefined : `cuda:${lease.cudaVisibleDevices}`;
        const start = new Date();
        reporter.nodeStarted(node, device);
        yield* record(node.key, "start", device);

        const summary = yield* options.executor
          .execute({
            node,
            stage: kinds.get(node.kind)!,
            registryModule: options.registryModule,
            inputs: inputPaths(node, store),
            outDir,
            scratchDir,
            ...(lease === undefined ? {} : { cudaVisibleDevices: lease.cudaVisibleDevices }),
            progress: (fraction, message) => reporter.nodeProgress(node, fraction, message),
            log: (message, annotations) => reporter.nodeLog(node, message, annotations),
          })
          .pipe(
            Effect.tapError((failure) =>
              Effect.gen(function* () {
                // A checkpoint stays for the next attempt; an empty scratch folder does not.
                yield* Effect.promise(() => rmdir(scratchDir).catch(() => undefined));
                yield* failed(failure, start);
              }),
            ),
          );

        yield* Effect.tryPromise({
          try: async () => {
            const stage = kinds.get(node.kind)!;
            const manifest: Manifest = {
              key: node.key,
              kind: node.kind,
              version: node.version,
              params: node.params,
              inputs: node.inputs,
              labels: node.labels,
              outputs: await describeOutputs(outDir, stage.outputs, node.kind),
              start: start.toISOString(),
              end: new Date().toISOString(),
              host: hostName(),
              ...(typeof summary["backend"] === "string" ? { backend: summary["backend"] } : {}),
              ...(device === undefined ? {} : { device }),
              summary,
            };
            await store.commit(outDir, manifest, forced);
            await rm(scratchDir, { recursive: true, force: true });
          },
          catch: (error) => fail(node, error),
        }).pipe(
          Effect.tapError((failure) => failed(failure, start)),
        );

        const durationMs = Date.now() - start.getTime();
        reporter.nodeFinished(node, durationMs, device);
        yield* record(node.key, "end");
        return "computed" as const;
      }),
    );

  const runNode = (key: NodeKey) =>
    Effect.gen(function* () {
      const node = graph.nodes.get(key)!;
      const settle = (outcome: NodeOutcome, blockedBy?: NodeKey) =>
        Effect.gen(function* () {
          outcomes.set(key, outcome);
          yield* Deferred.succeed(ready.get(key)!, blockedBy);
        });

      for (const up of upstreamKeys(node)) {
        const blockedBy = yield* Deferred.await(ready.get(up)!);
        if (blockedBy !== undefined) {
          const what = outcomes.get(blockedBy) === "failed" ? "failed" : "was not started";
          reporter.nodeSkipped(node, `upstream node ${blockedBy.slice(0, 12)} ${what}`);
          return yield* settle("skipped", blockedBy);
        }
      }
      if (plan.cached.has(key)) return yield* settle("cached");
      if (halted) return yield* settle("not-started", key);

      const outcome = yield* compute(node).pipe(
        Effect.catchTag("NodeFailed", (failure) =>
          Effect.sync(() => {
            failures.push(failure);
            return "failed" as const;
          }),
        ),
      );
      return yield* settle(outcome, outcome === "failed" || outcome === "not-started" ? key : undefined);
    });

  yield* Effect.forEach(graph.order, runNode, { concurrency: "unbounded", discard: true }).pipe(
    Effect.ensuring(
      Effect.promise(async () => {
        reporter.close();
        for (const lock of heldLocks) await lock.release();
        for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
      }),
    ),
  );

  return { outcomes, failures } satisfies RunResult;
});

/** Fails before anything starts when a node to run needs GPUs that no device list can give. */
function checkResources(graph: Graph, plan: RunPlan, options: RunnerOptions): Effect.Effect<void, ResourcesUnavailable> {
  const problems: string[] = [];
  for (const key of plan.toRun) {
    const node = graph.nodes.get(key)!;
    if (!options.stages.some((stage) => stage.name === node.kind)) {
      problems.push(`node ${key.slice(0, 12)} (${node.kind}): no stage kind "${node.kind}" is registered`);
      continue;
    }
    const why = options.gpus.impossible(node.resources.gpus, node.resources.gpuMemoryMiB);
    if (why !== undefined) problems.push(`node ${key.slice(0, 12)} (${node.kind}${node.labels.length > 0 ? ` ${node.labels[0]}` : ""}): ${why}`);
  }
  return problems.length === 0 ? Effect.void : Effect.fail(new ResourcesUnavailable({ message: problems.join("\n") }));
}

/** Maps node inputs to the paths a stage reads: upstream node folders and dataset files. */
function inputPaths(node: GraphNode, store: Store): Record<string, string | readonly string[]> {
  const toPath = (input: GraphInput) => ("node" in input ? store.nodeDir(input.node) : input.file);
  const paths: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(node.inputs)) {
    paths[name] = Array.isArray(value) ? (value as readonly GraphInput[]).map(toPath) : toPath(value as GraphInput);
  }
  return paths;
}
