import type { Application } from "../app.js";
import { Store } from "../store/store.js";
import { processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, UsageError, type Command, type VerbSpec } from "./options.js";

const spec: VerbSpec = {
  name: "gc",
  summary: "delete cache entries that no kept run references",
  arguments: "",
  maxPositionals: 0,
  description: [
    "Keeps every node that a kept run used (computed or reused) and deletes the rest, with the",
    "records of the runs that are not kept. Runs still in progress are always kept. Also removes",
    "temporary folders left by processes that no longer exist.",
  ].join("\n"),
  options: {
    "keep-runs": { type: "string", value: "N", description: "keep the newest N runs (default: all runs)" },
  },
  globals: ["dry-run"],
};

/** `fancl gc [--keep-runs N]`. */
export function makeGcCommand(_app: Application, io: VerbIo = processIo): Command {
  return verbCommand(spec, async ({ global, options }) => {
    const keepText = options["keep-runs"] as string | undefined;
    if (keepText !== undefined && !/^[0-9]+$/.test(keepText)) {
      throw new UsageError(`gc: --keep-runs must be a whole number, found "${keepText}"`);
    }
    const store = await Store.openExisting(global.store);
    try {
      const result = await store.gc(keepText === undefined ? undefined : Number(keepText), global.dryRun);
      const verb = global.dryRun ? "would delete" : "deleted";
      for (const key of result.deleted) io.out(`${verb} ${key}\n`);
      io.out(
        `${verb} ${result.deleted.length} node(s), ${(result.bytes / 2 ** 20).toFixed(1)} MiB; ` +
          `${global.dryRun ? "would drop" : "dropped"} ${result.runsDropped} run record(s)\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  });
}
