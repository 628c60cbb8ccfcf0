import * as Data from "effect/Data";

/** A node's stage threw, its worker exited abnormally, or its outputs could not be committed. */
export class NodeFailed extends Data.TaggedError("NodeFailed")<{
  readonly key: string;
  readonly kind: string;
  readonly message: string;
  /** The last lines the worker wrote to stderr (or the error's stack for in-process stages). */
  readonly stderrTail: readonly string[];
}> {}

/** A node was not run because an upstream node failed or was skipped. */
export class NodeSkipped extends Data.TaggedError("NodeSkipped")<{
  readonly key: string;
  readonly kind: string;
  /** The key of the failed node upstream that caused the skip. */
  readonly because: string;
}> {}

/** A node was not started because another node failed and `--keep-going` was not given. */
export class NodeNotStarted extends Data.TaggedError("NodeNotStarted")<{
  readonly key: string;
  readonly kind: string;
}> {}

/** Nodes need resources no device can give (e.g. a GPU on a machine without one); nothing was started. */
export class ResourcesUnavailable extends Data.TaggedError("ResourcesUnavailable")<{
  readonly message: string;
}> {}
