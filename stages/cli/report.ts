/** `fancl report`: prints the report of the latest run in the store again. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { UsageError, type Command } from "../../src/cli/command.js";

const usage = `Usage: fancl report [--store DIR] [--format md|csv|html]

Prints the report of the latest run in the store (the tables of the paper's layout, paired tests
against the baseline and lesion detection by size). With --format html, the self-contained page.

  --store DIR      the store (default runs/)
  --format FORMAT  md (default), csv or html
`;

const files = { md: "report.md", csv: "report.csv", html: "report.html" } as const;

export const reportCommand: Command = {
  name: "report",
  summary: "render the latest run's report again (md, csv or html)",
  usage,
  run: async (argv) => {
    const { values } = parseArgs({
      args: [...argv],
      options: { store: { type: "string", default: "runs" }, format: { type: "string", default: "md" } },
      strict: true,
    });
    const format = values.format as keyof typeof files;
    if (!(format in files)) {
      throw new UsageError(`--format ${values.format} is not one of md, csv, html`);
    }
    const { Store } = await import("../../dag/store/store.js");
    const store = await Store.openExisting(values.store);
    try {
      for (const run of await store.runs()) {
        for (const key of [...run.nodes].reverse()) {
          const manifest = await store.manifest(key);
          if (manifest?.kind === "report") {
            process.stdout.write(await fs.readFile(path.join(store.nodeDir(key), files[format]), "utf8"));
            return 0;
          }
        }
      }
    } finally {
      await store.close();
    }
    throw new UsageError(`no run in ${values.store} has a finished report; run an experiment first with \`fancl run FILE\``);
  },
};
