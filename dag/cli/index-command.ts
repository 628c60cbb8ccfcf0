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
  description: [
    "Rebuilds the nodes and metrics tables of the store's index from the manifest.json of every cache",
    "folder; run and event records are kept. An index.db that SQLite cannot read is moved aside to",
    "index.db.corrupt-<time> and a fresh index is built. Rebuilt nodes that no run record references",
    "(the index was deleted, emptied or moved aside) are recorded as one run, which keeps gc from deleting",
    "them. Folders with a broken manifest are listed and left out; the next `fancl run` recomputes them.",
  ].join("\n"),
};

/** `fancl index rebuild`. */
export function makeIndexCommand(_app: Application, io: VerbIo = processIo): Command {
  return verbCommand(spec, async ({ global, positionals }) => {
    if (positionals[0] !== "rebuild") throw new UsageError(`index: unknown action "${positionals[0]}"; the only action is "rebuild"`);
    const { store, movedAside, cause } = await Store.openToRebuild(global.store);
    try {
      if (movedAside !== undefined) {
        io.out(`the index was not a readable SQLite database (${cause}); moved it to ${movedAside} and created a fresh one\n`);
      }
      const count = await store.rebuildIndex((key, problem) => io.err(`left out ${key}: ${problem}; \`fancl run\` recomputes it\n`));
      io.out(`index rebuilt from ${count} manifest(s) in ${store.root}\n`);

      const recorded = await store.recordUnreferencedNodes("(index rebuild: nodes no run referenced)");
      if (recorded !== undefined) {
        io.out(
          `recorded the ${recorded.keys.length} node(s) that no run referenced as run ${recorded.id}, ` +
            `so that gc keeps them until a newer run replaces it (gc --keep-runs N)\n`,
        );
      }
      return 0;
    } finally {
      await store.close();
    }
  });
}
