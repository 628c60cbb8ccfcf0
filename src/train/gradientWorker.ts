/**
 * A worker thread of `GradientPool` (parallel.ts). It keeps a copy of the network on its own tensor
 * backend, and for each request sets the weights it is sent, computes one shard's loss part and
 * gradients, and sends them back. It never updates weights itself.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";

import { createNetwork } from "../nn/network.js";
import { initBackend } from "../tensor/backend.js";
import type { ShardReply, ShardRequest, WorkerSetup } from "./parallel.js";
import { shardGradients } from "./step.js";

function send(reply: ShardReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(reply, transfer);
}

function describe(error: unknown): { message: string; stack?: string } {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  await initBackend(setup.backend, () => {});
  // The seed does not matter: every request brings the weights.
  const net = createNetwork(setup.network, 0);

  parentPort!.on("message", (request: ShardRequest) => {
    try {
      if (request.weights.length !== net.variables.length) {
        throw new Error(`got ${request.weights.length} weight arrays for ${net.variables.length} variables`);
      }
      net.variables.forEach((variable, i) => {
        const values = tf.tensor(request.weights[i]!, variable.shape);
        variable.assign(values);
        values.dispose();
      });
      const { loss, gradients } = shardGradients(net, request.batch, request.settings, request.share);
      // Copies, so that the transfer never detaches memory the backend owns.
      const arrays = gradients.map((g) => (g === undefined ? null : new Float32Array(g.dataSync() as Float32Array)));
      tf.dispose(gradients.filter((g) => g !== undefined));
      send(
        { type: "gradients", id: request.id, loss, gradients: arrays },
        arrays.flatMap((a) => (a === null ? [] : [a.buffer as ArrayBuffer])),
      );
    } catch (error) {
      send({ type: "error", id: request.id, ...describe(error) });
    }
  });
  send({ type: "ready" });
}

main().catch((error: unknown) => send({ type: "error", id: null, ...describe(error) }));
