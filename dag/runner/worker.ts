/**
 * Entry of a worker process (forked by the local executor, compiled to
 * dist/dag/runner/worker.js): receives one `RunRequest` over IPC, imports the application's
 * stage registry, runs the node and reports progress, logs and the summary back, then exits.
 */
import { pathToFileURL } from "node:url";
import type { StageKind } from "../stage.js";
import type { RunRequest, WorkerMessage } from "./protocol.js";

const abort = new AbortController();

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function runRequest(request: RunRequest): Promise<Record<string, unknown>> {
  const registry = (await import(pathToFileURL(request.registryModule).href)) as { stages?: readonly StageKind[] };
  if (!Array.isArray(registry.stages)) {
    throw new Error(`${request.registryModule} does not export \`stages\` (an array of stage kinds); the application's registryModule must point at it`);
  }
  const stage = registry.stages.find((kind) => kind.name === request.kind);
  if (stage === undefined) {
    throw new Error(`stage kind "${request.kind}" is not in ${request.registryModule}; rebuild (npm run build) so that the worker sees the same stages as the runner`);
  }

  // The params were decoded when the graph was built (that is what the key hashes), and
  // decoding them again could fail for schemas whose decoded form differs from the encoded one.
  return stage.run({
    params: request.params,
    outDir: request.outDir,
    scratchDir: request.scratchDir,
    inputs: request.inputs,
    log: (message: string, annotations?: Record<string, unknown>) => void send({ type: "log", message, ...(annotations === undefined ? {} : { annotations }) }),
    progress: (fraction: number, message?: string) => void send({ type: "progress", fraction, ...(message === undefined ? {} : { message }) }),
    signal: abort.signal,
    device: request.cudaVisibleDevices === undefined ? {} : { cudaVisibleDevices: request.cudaVisibleDevices },
  });
}

process.once("SIGTERM", () => abort.abort(new Error("terminated by the runner")));

process.once("message", (request: RunRequest) => {
  runRequest(request).then(
    async (summary) => {
      // Peak resident memory of this worker (maxRSS is in KiB on Linux), for the manifest.
      const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
      await send({ type: "done", summary: { ...summary, peakRssMiB } });
      process.exit(0);
    },
    async (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${text}\n`);
      await send({ type: "error", message: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
