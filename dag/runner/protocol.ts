/** Messages between the runner and a worker process (child_process IPC, JSON-serialisable). */

/** Runner → worker: run one node. Params are already decoded (defaults filled) and passed to the stage as they are. */
export interface RunRequest {
  readonly type: "run";
  readonly registryModule: string;
  readonly kind: string;
  readonly params: unknown;
  readonly inputs: Readonly<Record<string, string | readonly string[]>>;
  readonly outDir: string;
  readonly scratchDir: string;
  readonly cudaVisibleDevices?: string;
}

/** Worker → runner. */
export type WorkerMessage =
  | { readonly type: "progress"; readonly fraction: number; readonly message?: string }
  | { readonly type: "log"; readonly message: string; readonly annotations?: Record<string, unknown> }
  | { readonly type: "done"; readonly summary: Record<string, unknown> }
  | { readonly type: "error"; readonly message: string };
