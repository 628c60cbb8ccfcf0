import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Application } from "../app.js";
import { didYouMean } from "../experiment/suggest.js";
import type { Graph } from "../graph.js";
import type { NodeKey } from "../key.js";
import { planRun } from "../runner/plan-run.js";
import { describeNode, formatDuration, reporterFor, type TextSink } from "../runner/reporter.js";
import type { NodeOutcome, RunResult } from "../runner/runner.js";
import { Store, type RunStatus } from "../store/store.js";
import { experimentGraph, processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, UsageError, type Command, type VerbSpec } from "./options.js";

/** Exit code of a run stopped by Ctrl-C (SIGINT) or SIGTERM, as shells report 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

const spec: VerbSpec = {
  name: "run",
  summary: "run an experiment file; cached nodes are reused",
  arguments: "FILE",
  minPositionals: 1,
  maxPositionals: 1,
  description: [
    "Computes every node of the experiment that is not in the store, as soon as its inputs are",
    "ready and CPU slots and GPU memory allow. Progress goes to stderr; when the graph has a",
    "`report` node, its report.md is printed to stdout at the end. Ctrl-C stops every node,",
    "removes their temporary folders and exits with 130.",
  ].join("\n"),
  options: {
    "gpu-memory": { type: "string", value: "MiB", description: "memory of each --gpus device (default: from nvidia-smi)" },
    executor: { type: "string", value: "NAME", description: "where nodes run: local (default; slurm is planned)" },
  },
  globals: ["jobs", "dry-run", "force", "keep-going", "set", "gpus"],
};

/** `fancl run FILE`: load, build and run an experiment on the store. */
export function makeRunCommand<C>(app: Application<C>, io: VerbIo = processIo, progress: TextSink = process.stderr): Command {
  return verbCommand(spec, async ({ global, options, positionals }) => {
    const executorName = (options["executor"] as string | undefined) ?? "local";
    if (executorName !== "local") {
      throw new UsageError(`run: --executor ${executorName} is not available; only "local" is implemented (a Slurm executor is planned)`);
    }
    const gpuMemory = parseGpuMemory(options["gpu-memory"] as string | undefined);

    const store = await Store.open(global.store);
    try {
      const loaded = await experimentGraph(app, positionals[0]!, global.set, store);
      if ("error" in loaded) {
        io.err(`${loaded.error}\n`);
        return 2;
      }
      const { graph, file } = loaded;
      checkForcedKinds(global.force, app);

      const plan = await planRun(graph, store, global.force);
      if (global.dryRun) {
        io.out(dryRunText(graph, plan.toRun));
        return 0;
      }

      const runId = await store.startRun(file, graph.order);
      const started = Date.now();
      let result: RunResult;
      if (plan.toRun.size === 0) {
        // A no-op rerun: nothing to schedule, so the Effect runner is not even loaded.
        result = { outcomes: new Map(graph.order.map((key) => [key, "cached" as const])), failures: [] };
      } else {
        const { executeGraph } = await import("./execute.js");
        const executed = await executeGraph(graph, plan, {
          store,
          app,
          global,
          gpuMemoryMiB: gpuMemory,
          reporter: reporterFor(progress),
          runId,
        });
        if (executed._tag !== "Finished") {
          await store.endRun(runId, executed._tag === "Interrupted" ? "interrupted" : "failed");
          if (executed._tag === "Interrupted") {
            io.err(`run ${runId} interrupted after ${formatDuration(Date.now() - started)}\n`);
            return EXIT_INTERRUPTED;
          }
          io.err(`${executed.message}\n`);
          return 1;
        }
        result = executed.result;
      }
      const status: RunStatus = result.failures.length === 0 ? "ok" : "failed";
      await store.endRun(runId, status);

      io.err(summaryText(runId, result, Date.now() - started));
      if (result.failures.length > 0) return 1;
      await printReports(graph, store, io);
      return 0;
    } finally {
      await store.close();
    }
  });
}

function parseGpuMemory(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`run: --gpu-memory takes a whole number of MiB (e.g. 24000), found "${text}"`);
  return Number(text);
}

function checkForcedKinds(force: readonly string[], app: Application): void {
  const names = app.stages.map((stage) => stage.name);
  for (const kind of force) {
    if (!names.includes(kind)) throw new UsageError(`run: --force ${kind}: no stage kind has that name${didYouMean(kind, names)}; kinds are ${names.join(", ")}`);
  }
}

function dryRunText(graph: Graph, toRun: ReadonlySet<NodeKey>): string {
  const lines = graph.order.filter((key) => toRun.has(key)).map((key) => `would run  ${describeNode(graph.nodes.get(key)!)}`);
  lines.push(`${toRun.size} of ${graph.order.length} nodes would run; ${graph.order.length - toRun.size} are cached`);
  return `${lines.join("\n")}\n`;
}

function summaryText(runId: number, result: RunResult, durationMs: number): string {
  const counts = new Map<NodeOutcome, number>();
  for (const outcome of result.outcomes.values()) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const order: NodeOutcome[] = ["computed", "cached", "failed", "skipped", "not-started"];
  const parts = order.filter((outcome) => counts.has(outcome)).map((outcome) => `${counts.get(outcome)} ${outcome}`);
  const lines = [`run ${runId}: ${result.outcomes.size} nodes: ${parts.join(", ")} in ${formatDuration(durationMs)}`];
  for (const failure of result.failures) lines.push(`  failed: ${failure.key} (${failure.kind}): ${failure.message}`);
  return `${lines.join("\n")}\n`;
}

/** Prints the `report.md` of every node of kind `report` in the graph, in graph order. */
async function printReports(graph: Graph, store: Store, io: VerbIo): Promise<void> {
  for (const key of graph.order) {
    if (graph.nodes.get(key)!.kind !== "report") continue;
    const text = await readFile(path.join(store.nodeDir(key), "report.md"), "utf8").catch(() => undefined);
    if (text !== undefined) io.out(text.endsWith("\n") ? text : `${text}\n`);
  }
}
