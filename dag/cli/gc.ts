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
    "records of the runs that are not kept. Runs still in progress are always kept; a run whose",
    "process died counts as interrupted. Also removes temporary folders left by processes that no",
    "longer exist, and the scratch/<key> folders (training checkpoints) that no kept run can resume:",
    "those of keys no kept run uses or that are already cached, unless a live process holds the key,",
    "and the lock files of processes that died on this host. When the index records no runs at all",
    "(it was deleted or recreated), gc refuses unless --keep-runs 0 is given: run `fancl index rebuild`",
    "first, which records the cached nodes as a run.",
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
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
      for (const key of result.deleted) io.out(`${verb} ${key}\n`);
      for (const key of result.scratch) io.out(`${verb} scratch/${key}\n`);
      for (const name of result.tmp) io.out(`${verb} tmp/${name}\n`);
      for (const name of result.locks) io.out(`${verb} locks/${name}\n`);
      io.out(
        `${verb} ${result.deleted.length} node(s), ${mib(result.bytes)}; ` +
          `${result.scratch.length} scratch folder(s), ${mib(result.scratchBytes)}; ` +
          `${result.tmp.length} tmp folder(s) and ${result.locks.length} lock file(s) of dead processes; ` +
          `${global.dryRun ? "would drop" : "dropped"} ${result.runsDropped} run record(s)\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  });
}
