/**
 * The `fancl` command line: dispatches a verb to its Command. Domain verbs live in src/cli, engine
 * verbs are made by dag/cli from the FANCL application, and the verbs that need both (predict,
 * report) live beside this file. Modules load lazily so that `fancl --help` stays instant.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { closest } from "../../dag/experiment/suggest.js";
import type { Command } from "../../src/cli/command.js";
import { gpusArgument, noteRequestedGpus } from "../gpu-request.js";

type Loader = () => Promise<Command>;

const engine = async () => (await import("../app.js")).fanclApplication;

const verbs: Record<string, { summary: string; load: Loader }> = {
  run: {
    summary: "run an experiment file; cached nodes are reused",
    load: async () => (await import("../../dag/cli/run.js")).makeRunCommand(await engine()),
  },
  plan: {
    summary: "list every node of an experiment, cached or missing and why",
    load: async () => (await import("../../dag/cli/plan.js")).makePlanCommand(await engine()),
  },
  runs: {
    summary: "list past runs in the store",
    load: async () => (await import("../../dag/cli/runs.js")).makeRunsCommand(await engine()),
  },
  show: {
    summary: "print the manifest of a node (key prefixes accepted)",
    load: async () => (await import("../../dag/cli/show.js")).makeShowCommand(await engine()),
  },
  gc: {
    summary: "delete cache entries that no kept run references",
    load: async () => (await import("../../dag/cli/gc.js")).makeGcCommand(await engine()),
  },
  index: {
    summary: "index rebuild: recreate runs/index.db from the manifests",
    load: async () => (await import("../../dag/cli/index-command.js")).makeIndexCommand(await engine()),
  },
  report: {
    summary: "render the latest run's report again (md, csv or html)",
    load: async () => (await import("./report.js")).reportCommand,
  },
  predict: {
    summary: "segment one case folder with a trained model",
    load: async () => (await import("./predict.js")).predictCommand,
  },
  evaluate: {
    summary: "score predicted label maps against ground truth (Dice, HD95)",
    load: async () => (await import("../../src/cli/evaluate.js")).evaluateCommand,
  },
  synth: {
    summary: "write a synthetic BraTS-METS 2023-layout dataset",
    load: async () => (await import("../../src/cli/synth.js")).synthCommand,
  },
  info: {
    summary: "print the header facts of a NIfTI file",
    load: async () => (await import("../../src/cli/info.js")).infoCommand,
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(verbs).map((v) => v.length));
  const lines = Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(width)}  ${verb.summary}`);
  return [
    "fancl: FANCL brain-metastasis segmentation as a cached experiment DAG",
    "",
    "Usage: fancl VERB [options]     (fancl VERB --help for a verb's options; fancl --version)",
    "",
    "Verbs:",
    ...lines,
    "",
  ].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    process.stdout.write(overview());
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version" || verb === "-V" || verb === "-v") {
    process.stdout.write(`fancl ${packageVersion()}\n`);
    return 0;
  }
  const entry = verbs[verb];
  if (entry === undefined) {
    process.stderr.write(`fancl: unknown verb "${verb}"${suggest(verb)}\n\n${overview()}`);
    return 2;
  }
  if (verb === "run") noteRequestedGpus(gpusArgument(rest));
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage.endsWith("\n") ? command.usage : command.usage + "\n");
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`fancl ${verb}: ${message}\n`);
    return isUsageError(error) ? 2 : 1;
  }
}

/** Returns whether an error is a bad command line: a `UsageError`, or an unknown option or argument from `parseArgs`. */
function isUsageError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return error.name === "UsageError" || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_"));
}

/**
 * "; did you mean "plan"?" for a likely typo of a verb or the start of exactly one, else nothing
 * (the overview below it lists every verb).
 */
function suggest(verb: string): string {
  const names = Object.keys(verbs);
  const starting = names.filter((name) => verb.length >= 2 && name.startsWith(verb));
  const close = closest(verb, names) ?? (starting.length === 1 ? starting[0] : undefined);
  return close === undefined ? "" : `; did you mean "${close}"?`;
}

/**
 * The version in fancl's package.json, found by walking up from this module: it runs from
 * stages/cli/ under vitest, from dist/stages/cli/ after tsc and from dist/bundle/ once bundled.
 */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "fancl" && manifest.version !== undefined) return manifest.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find fancl's package.json above the CLI's module to read the version");
    dir = parent;
  }
}
