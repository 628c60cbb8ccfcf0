import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import type { GraphNode } from "../graph.js";
import type { StageKind } from "../stage.js";
import { NodeFailed } from "./errors.js";
import type { RunRequest, WorkerMessage } from "./protocol.js";

/** Everything an executor needs to compute one node into `outDir`. */
export interface NodeJob {
  readonly node: GraphNode;
  readonly stage: StageKind;
  /** Absolute path of the module exporting `stages`, for worker processes. */
  readonly registryModule: string;
  /** By input name: upstream node folders or dataset file paths. */
  readonly inputs: Readonly<Record<string, string | readonly string[]>>;
  readonly outDir: string;
  /** `<store>/scratch/<key>/`: kept across failed attempts, removed on commit. */
  readonly scratchDir: string;
  /** The GPU lease's device ids, for `CUDA_VISIBLE_DEVICES`; absent for CPU-only nodes. */
  readonly cudaVisibleDevices?: string;
  readonly progress: (fraction: number, message?: string) => void;
  readonly log: (message: string, annotations?: Record<string, unknown>) => void;
}

/**
 * The place and manner in which a node's stage runs. The runner owns scheduling, locks and
 * commits, so an executor only turns a job into a summary (or a `NodeFailed`). Interrupting the
 * effect must stop the work. `local` is the only executor today. A Slurm executor would submit
 * one sbatch job per node that runs the worker on the shared store and reports through files.
 */
export interface Executor {
  readonly name: string;
  execute(job: NodeJob): Effect.Effect<Record<string, unknown>, NodeFailed>;
}

export interface LocalExecutorOptions {
  /** The compiled worker entry; default: `worker.js` beside this module, or dist/ when running from sources. */
  readonly workerModule?: string;
  /** How many of the worker's last stderr lines a failure shows. */
  readonly stderrTailLines?: number;
}

/**
 * Runs stages on this machine: kinds with `worker: true` in a forked worker process per node
 * (killed with SIGKILL on interrupt), the others in this process.
 */
export function localExecutor(options: LocalExecutorOptions = {}): Executor {
  const workerModule = options.workerModule ?? defaultWorkerModule();
  const tailLines = options.stderrTailLines ?? 20;
  return {
    name: "local",
    execute: (job) => (job.stage.worker ? inWorker(job, workerModule, tailLines) : inProcess(job)),
  };
}

/** `worker.js` beside this file once compiled; from the TypeScript sources (tests), the build's copy. */
export function defaultWorkerModule(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return fileURLToPath(new URL("./worker.js", import.meta.url));
  return fileURLToPath(new URL("../../dist/dag/runner/worker.js", import.meta.url));
}

function inProcess(job: NodeJob): Effect.Effect<Record<string, unknown>, NodeFailed> {
  return Effect.tryPromise({
    try: (signal) =>
      job.stage.run({
        params: job.node.params,
        outDir: job.outDir,
        scratchDir: job.scratchDir,
        inputs: job.inputs,
        log: job.log,
        progress: job.progress,
        signal,
        device: job.cudaVisibleDevices === undefined ? {} : { cudaVisibleDevices: job.cudaVisibleDevices },
      }),
    catch: (error) =>
      new NodeFailed({
        key: job.node.key,
        kind: job.node.kind,
        message: error instanceof Error ? error.message : String(error),
        stderrTail: error instanceof Error && error.stack !== undefined ? error.stack.split("\n").slice(0, 20) : [],
      }),
  });
}

function inWorker(job: NodeJob, workerModule: string, tailLines: number): Effect.Effect<Record<string, unknown>, NodeFailed> {
  return Effect.callback<Record<string, unknown>, NodeFailed>((resume) => {
    const failed = (message: string, tail: readonly string[]) =>
      resume(Effect.fail(new NodeFailed({ key: job.node.key, kind: job.node.kind, message, stderrTail: tail })));
    if (!existsSync(workerModule)) {
      failed(`the worker entry ${workerModule} does not exist; run \`npm run build\` first`, []);
      return;
    }

    const env: NodeJS.ProcessEnv = { ...process.env };
    if (job.cudaVisibleDevices !== undefined) env["CUDA_VISIBLE_DEVICES"] = job.cudaVisibleDevices;
    const child = fork(workerModule, [], { env, stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "json" });
    const stderr = new LineTail(tailLines);
    const stdout = new LineTail(0, (line) => job.log(line));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk.toString("utf8")));

    let summary: Record<string, unknown> | undefined;
    let reported: string | undefined;
    let closed = false;
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "progress") job.progress(message.fraction, message.message);
      else if (message.type === "log") job.log(message.message, message.annotations);
      else if (message.type === "done") summary = message.summary;
      else if (message.type === "error") reported = message.message;
    });
    child.on("error", (error) => {
      if (!closed) failed(`cannot start the worker process: ${error.message}`, stderr.lines());
    });
    child.on("close", (code, signal) => {
      closed = true;
      stdout.flush();
      if (code === 0 && summary !== undefined) {
        resume(Effect.succeed(summary));
        return;
      }
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      failed(reported ?? `the worker process ${how} before finishing`, stderr.lines());
    });

    const request: RunRequest = {
      type: "run",
      registryModule: job.registryModule,
      kind: job.node.kind,
      params: job.node.params,
      inputs: job.inputs,
      outDir: job.outDir,
      scratchDir: job.scratchDir,
      ...(job.cudaVisibleDevices === undefined ? {} : { cudaVisibleDevices: job.cudaVisibleDevices }),
    };
    child.send(request);

    // On interrupt: kill the worker and wait until it is gone, so that nothing writes into
    // the node's tmp folder after the runner removes it.
    return Effect.callback<void>((done) => {
      if (closed || child.exitCode !== null || child.signalCode !== null) {
        done(Effect.void);
        return;
      }
      child.once("exit", () => done(Effect.void));
      child.kill("SIGKILL");
    });
  });
}

/** Splits a byte stream into lines; keeps the last `keep` lines and passes each complete line to `onLine`. */
class LineTail {
  private partial = "";
  private readonly kept: string[] = [];

  constructor(
    private readonly keep: number,
    private readonly onLine?: (line: string) => void,
  ) {}

  push(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop()!;
    for (const line of parts) this.add(line);
  }

  flush(): void {
    if (this.partial !== "") this.add(this.partial);
    this.partial = "";
  }

  lines(): string[] {
    const pending = this.partial === "" ? [] : [this.partial];
    return [...this.kept, ...pending].slice(-Math.max(this.keep, 1));
  }

  private add(line: string): void {
    this.onLine?.(line);
    if (this.keep === 0) return;
    this.kept.push(line);
    if (this.kept.length > this.keep) this.kept.shift();
  }
}
