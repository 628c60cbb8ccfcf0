/**
 * `fancl report`: prints the report of the latest run in the store again, or of the run given
 * with --run. Which run and node it comes from goes to stderr, so an older run's report is never
 * taken for the latest one's.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import type { NodeKey } from "../../dag/key.js";
import type { RunRecord, Store } from "../../dag/store/store.js";
import { UsageError, type Command } from "../../src/cli/command.js";

const usage = `Usage: fancl report [--store DIR] [--format md|csv|html] [--run ID]

Prints the report of the latest run in the store that has a finished report (the tables of the
paper's layout, paired tests against the baseline and lesion detection by size). With --format
html, the self-contained page. Which run and report node it comes from is printed to stderr.
When the index lost its runs (after \`fancl index rebuild\`), the newest cached report node is used.

  --store DIR      the store (default runs/)
  --format FORMAT  md (default), csv or html
  --run ID         the report of this run (see \`fancl runs\`) instead of the latest
`;

const files = { md: "report.md", csv: "report.csv", html: "report.html" } as const;

/** A cached report node and where it was found, for the line on stderr. */
interface Found {
  readonly key: NodeKey;
  readonly source: string;
}

export const reportCommand: Command = {
  name: "report",
  summary: "render the latest run's report again (md, csv or html)",
  usage,
  run: async (argv) => {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        store: { type: "string", default: "runs" },
        format: { type: "string", default: "md" },
        run: { type: "string" },
      },
      strict: true,
    });
    const format = values.format as keyof typeof files;
    if (!(format in files)) {
      throw new UsageError(`--format ${values.format} is not one of md, csv, html`);
    }
    if (values.run !== undefined && !/^[1-9][0-9]*$/.test(values.run)) {
      throw new UsageError(`--run ${values.run} is not a run id; run ids are whole numbers from 1 (see \`fancl runs\`)`);
    }
    const { Store } = await import("../../dag/store/store.js");
    const store = await Store.openExisting(values.store);
    try {
      const found = values.run === undefined ? await latestReport(store) : await reportOfRun(store, Number(values.run));
      if (found === undefined) {
        throw new UsageError(
          `no run in ${values.store} has a finished report and no report node is cached; run an experiment first with \`fancl run FILE\``,
        );
      }
      process.stderr.write(`report ${found.key.slice(0, 12)} from ${found.source}\n`);
      process.stdout.write(await fs.readFile(path.join(store.nodeDir(found.key), files[format]), "utf8"));
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** Finds the committed report node of a run's graph, if it has one (the last in graph order). */
async function committedReport(store: Store, run: RunRecord): Promise<NodeKey | undefined> {
  for (const key of [...run.nodes].reverse()) {
    if ((await store.manifest(key))?.kind === "report" && (await store.has(key))) return key;
  }
  return undefined;
}

function describeRun(run: RunRecord): string {
  return `run ${run.id} (${run.status}, ${path.basename(run.experiment)}, started ${run.start})`;
}

/**
 * Finds the report of the newest run that has one. When no run has one, it takes the newest
 * cached report node from the manifests, because a rebuilt index has lost its runs.
 */
async function latestReport(store: Store): Promise<Found | undefined> {
  const runs = await store.runs();
  for (const [i, run] of runs.entries()) {
    const key = await committedReport(store, run);
    if (key === undefined) continue;
    const skipped = runs.slice(0, i).map((newer) => `${newer.id} (${newer.status})`);
    const note = skipped.length === 0 ? "" : `; newer run${skipped.length === 1 ? "" : "s"} ${skipped.join(", ")} finished no report`;
    return { key, source: `${describeRun(run)}${note}` };
  }

  const manifests = await store.manifestsOfKind("report");
  const newest = manifests.length > 0 ? manifests[0] : await newestCachedReport(store);
  if (newest === undefined) return undefined;
  const known = runs.length === 0 ? "the index has no runs" : "no run in the index has a finished report";
  return { key: newest.key, source: `the newest cached report node (finished ${newest.end}; ${known})` };
}

/** Reads every manifest in the cache for the newest report node, for an index that lists none. */
async function newestCachedReport(store: Store): Promise<{ key: NodeKey; end: string } | undefined> {
  let newest: { key: NodeKey; end: string } | undefined;
  for (const key of await store.cacheKeys()) {
    const manifest = await store.manifest(key);
    if (manifest?.kind === "report" && (newest === undefined || manifest.end > newest.end)) {
      newest = { key, end: manifest.end };
    }
  }
  return newest;
}

async function reportOfRun(store: Store, id: number): Promise<Found> {
  const runs = await store.runs();
  const run = runs.find((candidate) => candidate.id === id);
  if (run === undefined) {
    const ids = runs.map((candidate) => candidate.id);
    const known = ids.length === 0 ? "the index has no runs" : `its runs are ${ids.join(", ")}`;
    throw new UsageError(`--run ${id}: no such run in ${store.root} (${known}); list them with \`fancl runs\``);
  }
  const key = await committedReport(store, run);
  if (key === undefined) {
    throw new UsageError(
      `--run ${id}: ${describeRun(run)} has no finished report node; pick a run with status ok from \`fancl runs\``,
    );
  }
  return { key, source: describeRun(run) };
}
