/**
 * The number of CPU threads one training uses, from the experiment's `compute.training_threads`,
 * passed to worker processes in FANCL_TRAINING_THREADS by the CLI. Like the backend it is not a
 * param, so it never enters a node key. This module loads no tensor library: the stage registry
 * reads it in every worker.
 */

/** Threads of one training (`compute.training_threads`), passed to workers like the backend. */
export const trainingThreadsEnvironmentVariable = "FANCL_TRAINING_THREADS";

/**
 * Returns the training threads in effect: FANCL_TRAINING_THREADS, else 1. Throws for a value that
 * is not a positive integer.
 */
export function trainingThreads(): number {
  const value = process.env[trainingThreadsEnvironmentVariable];
  if (value === undefined || value === "") return 1;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(
      `${trainingThreadsEnvironmentVariable}=${value} is not a positive integer; set it to 1 or more, ` +
        "or unset it to use compute.training_threads",
    );
  }
  return threads;
}
