import type { Application } from "../app.js";
import { Store } from "../store/store.js";
import { processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, UsageError, type Command, type VerbSpec } from "./options.js";

const spec: VerbSpec = {
  name: "index",
  summary: "index rebuild: recreate runs/index.db from the manifests",
  arguments: "rebuild",
  minPositionals: 1,
  maxPositionals: 1,
  description: "Rebuilds the nodes and metrics tables of the store's index from the manifest.json of every cache folder; run and event records are kept.",
};

/** `fancl index rebuild`. */
export function makeIndexCommand(_app: Application, io: VerbIo = processIo): Command {
  return verbCommand(spec, async ({ global, positionals }) => {
    if (positionals[0] !== "rebuild") throw new UsageError(`index: unknown action "${positionals[0]}"; the only action is "rebuild"`);
    const store = await Store.open(global.store);
    try {
      const count = await store.rebuildIndex();
      io.out(`index rebuilt from ${count} manifest(s) in ${store.root}\n`);
      return 0;
    } finally {
      await store.close();
    }
  });
}
