import type { Application } from "../app.js";
import { Store } from "../store/store.js";
import { processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, type Command, type VerbSpec } from "./options.js";

const spec: VerbSpec = {
  name: "show",
  summary: "print the manifest of a node (key prefixes accepted)",
  arguments: "KEY",
  minPositionals: 1,
  maxPositionals: 1,
  description: "Prints the node's manifest.json (kind, params, inputs, outputs with digests, times, host, device, summary) and its folder.",
  options: {
    path: { type: "boolean", description: "print only the node's folder" },
  },
};

/** `fancl show KEY`: a committed node's manifest; any unambiguous key prefix works. */
export function makeShowCommand(_app: Application, io: VerbIo = processIo): Command {
  return verbCommand(spec, async ({ global, options, positionals }) => {
    const store = await Store.openExisting(global.store);
    try {
      let key;
      try {
        key = await store.resolveKeyPrefix(positionals[0]!);
      } catch (error) {
        io.err(`show: ${(error as Error).message}\n`);
        return 1;
      }
      if (options["path"] === true) {
        io.out(`${store.nodeDir(key)}\n`);
        return 0;
      }
      const entry = await store.inspect(key);
      if (entry.state !== "committed") {
        const problem = entry.state === "broken" ? entry.problem : "cache folder missing";
        io.err(`show: node ${key} in ${store.nodeDir(key)}: ${problem}; \`fancl run\` recomputes it\n`);
        return 1;
      }
      io.out(`${JSON.stringify(entry.manifest, null, 2)}\n`);
      io.err(`folder: ${store.nodeDir(key)}\n`);
      return 0;
    } finally {
      await store.close();
    }
  });
}
