import { upstreamKeys, type Graph } from "../graph.js";
import type { NodeKey } from "../key.js";
import type { Store } from "../store/store.js";

/** The nodes a run would compute, and the ones it reuses from the store. */
export interface RunPlan {
  readonly toRun: ReadonlySet<NodeKey>;
  readonly cached: ReadonlySet<NodeKey>;
  /** The nodes of `toRun` that are recomputed although they may be in the store (`--force`). */
  readonly forced: ReadonlySet<NodeKey>;
}

/**
 * Decides what to compute: a node runs when it is not in the store, when its kind is in
 * `force`, or when an upstream node is forced. Checking the store is one stat per node.
 */
export async function planRun(graph: Graph, store: Store, force: readonly string[] = []): Promise<RunPlan> {
  const present = await Promise.all(graph.order.map((key) => store.has(key)));
  const forced = new Set<NodeKey>();
  const toRun = new Set<NodeKey>();
  const cached = new Set<NodeKey>();
  graph.order.forEach((key, i) => {
    const node = graph.nodes.get(key)!;
    if (force.includes(node.kind) || upstreamKeys(node).some((up) => forced.has(up))) forced.add(key);
    if (forced.has(key) || !present[i]) toRun.add(key);
    else cached.add(key);
  });
  return { toRun, cached, forced };
}
