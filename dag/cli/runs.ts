import type { Application } from "../app.js";
import { formatDuration } from "../runner/reporter.js";
import { Store } from "../store/store.js";
import { processIo, type VerbIo } from "./experiment-graph.js";
import { verbCommand, UsageError, type Command, type VerbSpec } from "./options.js";

const spec: VerbSpec = {
  name: "runs",
  summary: "list past runs in the store",
  arguments: "",
  maxPositionals: 0,
  description: "One line per run, newest first: id, start time, duration, status, node count and experiment file.",
  options: {
    limit: { type: "string", value: "N", description: "show at most N runs (default 20)" },
  },
};

/** `fancl runs`: the runs table of the store's index, newest first. */
export function makeRunsCommand(_app: Application, io: VerbIo = processIo): Command {
  return verbCommand(spec, async ({ global, options }) => {
    const limitText = (options["limit"] as string | undefined) ?? "20";
    if (!/^[1-9][0-9]*$/.test(limitText)) throw new UsageError(`runs: --limit must be a positive whole number, found "${limitText}"`);

    const store = await Store.openExisting(global.store);
    try {
      const runs = await store.runs(Number(limitText));
      if (runs.length === 0) {
        io.out(`no runs in ${store.root}\n`);
        return 0;
      }
      const rows = runs.map((run) => [
        String(run.id),
        run.start.replace("T", " ").slice(0, 19),
        run.end === undefined ? "-" : formatDuration(Date.parse(run.end) - Date.parse(run.start)),
        run.status,
        String(run.nodes.length),
        run.experiment,
      ]);
      io.out(table(["id", "start (UTC)", "took", "status", "nodes", "experiment"], rows));
      return 0;
    } finally {
      await store.close();
    }
  });
}

/** Left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
