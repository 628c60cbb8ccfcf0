/**
 * Data-parallel training steps on several CPU cores. The batch is cut into shards by sample. This
 * thread computes the first shard's gradients while worker threads (gradientWorker.ts) compute the
 * others, each with its own copy of the network on its own tensor backend. The shards' parts are
 * added in a fixed order and the update runs here, once.
 *
 * The split is exact, not an approximation: every loss term is a sum over samples of per-sample
 * parts divided by whole-batch counts (`StepShare`), so the shards' gradients add up to the
 * whole batch's, up to float rounding. Batch Dice couples the samples and is refused.
 *
 * Weights go to the workers with every request (they change after each update); gradients come
 * back as transferred Float32Arrays.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";

import type { NetworkConfig, SegmentationNetwork } from "../nn/network.js";
import type { SgdOptimizer } from "./optimizer.js";
import {
  applyGradients,
  shardGradients,
  sliceBatch,
  stepShare,
  type LossSettings,
  type StepPosition,
  type StepShare,
} from "./step.js";
import type { PatchBatch } from "./types.js";

/** Settings a worker starts with. */
export interface WorkerSetup {
  readonly network: NetworkConfig;
  /** The tensor backend the worker activates: the one this thread uses. */
  readonly backend: "wasm" | "cpu";
}

/** A request to a worker: set these weights, then compute the gradients of this shard. */
export interface ShardRequest {
  readonly id: number;
  /** Every variable's values, in the order of `net.variables`. */
  readonly weights: readonly Float32Array[];
  readonly batch: PatchBatch;
  readonly settings: LossSettings;
  readonly share: StepShare;
}

/** A worker's reply: the shard's loss part and gradients (null: the variable was not reached). */
export type ShardReply =
  | { readonly type: "ready" }
  | { readonly type: "gradients"; readonly id: number; readonly loss: number; readonly gradients: (Float32Array | null)[] }
  | { readonly type: "error"; readonly id: number | null; readonly message: string; readonly stack?: string };

/** Returns the compiled worker script: beside this file under dist/, or in dist/ when run from source (tests). */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith(".js")
    ? fileURLToPath(new URL("./gradientWorker.js", import.meta.url))
    : fileURLToPath(new URL("../../dist/src/train/gradientWorker.js", import.meta.url));
  if (!existsSync(script)) throw new Error(`the gradient worker script ${script} is missing; run npm run build`);
  return script;
}

/** Splits `batchSize` samples into shards for up to `threads` threads: as even as possible, larger first. */
export function shardSizes(batchSize: number, threads: number): number[] {
  const shards = Math.max(1, Math.min(threads, batchSize));
  return Array.from({ length: shards }, (_, i) => Math.floor(batchSize / shards) + (i < batchSize % shards ? 1 : 0));
}

interface Pending {
  readonly resolve: (reply: Extract<ShardReply, { type: "gradients" }>) => void;
  readonly reject: (error: Error) => void;
}

/** One worker thread and its pending requests. */
class GradientWorker {
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private closing = false;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: ShardReply) => {
      if (reply.type === "ready") return;
      const waiting = reply.id === null ? undefined : this.pending.get(reply.id);
      if (reply.type === "error") {
        const error = new Error(`gradient worker: ${reply.message}`);
        if (reply.stack !== undefined) error.stack = reply.stack;
        if (waiting === undefined) this.fail(error);
        else {
          this.pending.delete(reply.id!);
          waiting.reject(error);
        }
        return;
      }
      if (waiting !== undefined) {
        this.pending.delete(reply.id);
        waiting.resolve(reply);
      }
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => {
      if (!this.closing) this.fail(new Error(`gradient worker exited with code ${code}`));
    });
  }

  static async start(setup: WorkerSetup): Promise<GradientWorker> {
    const worker = new Worker(workerScript(), { workerData: setup });
    let onMessage: (reply: ShardReply) => void = () => {};
    let onExit: (code: number) => void = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (reply) => {
          if (reply.type === "ready") resolve();
          else if (reply.type === "error") reject(new Error(`gradient worker could not start: ${reply.message}`));
        };
        onExit = (code) => reject(new Error(`gradient worker exited with code ${code} while starting`));
        worker.on("message", onMessage);
        worker.on("error", reject);
        worker.on("exit", onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    // Only this code's own listeners go: Node's Worker keeps listeners of its own.
    worker.off("message", onMessage);
    worker.off("exit", onExit);
    worker.removeAllListeners("error");
    return new GradientWorker(worker);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  request(request: ShardRequest): Promise<Extract<ShardReply, { type: "gradients" }>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

/**
 * Worker threads that compute shards of each batch. `threads` counts this thread too, so
 * `threads − 1` workers are started; with 1 none are and every step runs here.
 */
export class GradientPool {
  private nextId = 0;

  private constructor(private readonly workers: readonly GradientWorker[]) {}

  static async start(threads: number, setup: WorkerSetup): Promise<GradientPool> {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`training threads must be a positive integer, got ${threads}`);
    }
    const workers = await Promise.allSettled(Array.from({ length: threads - 1 }, () => GradientWorker.start(setup)));
    const failed = workers.find((w): w is PromiseRejectedResult => w.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(workers.flatMap((w) => (w.status === "fulfilled" ? [w.value.close()] : [])));
      throw failed.reason;
    }
    return new GradientPool(workers.map((w) => (w as PromiseFulfilledResult<GradientWorker>).value));
  }

  /** Threads a step may use: the workers and this one. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * One training step on `batch` split across the threads; returns the whole batch's loss before
   * the update. Same contract as `trainStep`, which it equals up to float rounding.
   */
  async step(
    net: SegmentationNetwork,
    optimizer: SgdOptimizer,
    batch: PatchBatch,
    lr: number,
    settings: LossSettings,
    where: StepPosition,
  ): Promise<number> {
    const sizes = shardSizes(batch.batchSize, this.threads);
    if (sizes.length > 1 && settings.batchDice) {
      throw new Error("batch Dice couples every sample of a batch and cannot be split across threads; use one training thread");
    }
    const share = stepShare(batch, settings.hardVoxels, net.config.stages);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((sum, n) => sum + n, 0));
    // Copies: a backend's array may be a view into its whole heap, which a message would clone.
    const weights = sizes.length > 1 ? net.variables.map((v) => (v.dataSync() as Float32Array).slice()) : [];

    // Send the other shards first, so the workers run while this thread computes its own.
    const remote = sizes.slice(1).map((size, i) =>
      this.workers[i]!.request({
        id: this.nextId++,
        weights,
        batch: sliceBatch(batch, starts[i + 1]!, size),
        settings,
        share,
      }),
    );
    // Without this, a worker failing while this thread computes would be an unhandled rejection.
    remote.forEach((reply) => reply.catch(() => undefined));

    const own = shardGradients(net, sizes.length > 1 ? sliceBatch(batch, 0, sizes[0]!) : batch, settings, share);
    let loss = own.loss;
    let gradients = own.gradients;
    try {
      for (const reply of await Promise.all(remote)) {
        loss += reply.loss;
        gradients = gradients.map((g, v) => {
          const values = reply.gradients[v];
          if (values === null || values === undefined) return g;
          const theirs = tf.tensor(values, net.variables[v]!.shape);
          if (g === undefined) return theirs;
          const sum = tf.add(g, theirs);
          tf.dispose([g, theirs]);
          return sum;
        });
      }
      applyGradients(optimizer, loss, gradients, lr, settings, where);
    } finally {
      tf.dispose(gradients.filter((g) => g !== undefined));
    }
    return loss;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
