/**
 * The quickstart study as a benchmark: runs `fancl run experiments/quickstart.yaml` into a fresh
 * store, then reruns it with everything cached, and reads every node's peak worker memory from
 * the manifests. Writes the `## study` section of docs/benchmarks.md.
 *
 * Usage: node dist/bench/study/run.js [--experiment FILE] [--set key=value ...]   (after `npm run build`)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { machineLine, writeSection } from "../section.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const cli = path.join(repo, "bin", "fancl.js");

function timedRun(args: readonly string[]): { seconds: number; stdout: string; stderr: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: repo, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    throw new Error(`fancl ${args.join(" ")} exited with ${result.status}:\n${result.stderr.slice(-3000)}`);
  }
  return { seconds, stdout: result.stdout, stderr: result.stderr };
}

interface ManifestMemory {
  readonly kind: string;
  readonly labels: readonly string[];
  readonly summary: { readonly peakRssMiB?: number };
}

function manifests(store: string): ManifestMemory[] {
  const cache = path.join(store, "cache");
  return readdirSync(cache).flatMap((prefix) =>
    readdirSync(path.join(cache, prefix)).map(
      (key) => JSON.parse(readFileSync(path.join(cache, prefix, key, "manifest.json"), "utf8")) as ManifestMemory,
    ),
  );
}

function main(argv: readonly string[]): void {
  const at = argv.indexOf("--experiment");
  const experiment = at < 0 ? path.join(repo, "experiments", "quickstart.yaml") : path.resolve(argv[at + 1]!);
  const sets = argv.flatMap((arg, i) => (argv[i - 1] === "--set" ? ["--set", arg] : []));
  const store = mkdtempSync(path.join(os.tmpdir(), "fancl-bench-study-"));
  const name = path.relative(repo, experiment);
  try {
    const first = timedRun(["run", experiment, "--store", store, ...sets]);
    const rerun = timedRun(["run", experiment, "--store", store, ...sets]);
    const nodes = manifests(store);
    const workers = nodes.filter((node) => node.summary.peakRssMiB !== undefined);
    const peak = workers.reduce((best, node) => (node.summary.peakRssMiB! > best.summary.peakRssMiB! ? node : best), workers[0]!);
    const byKind = new Map<string, number>();
    for (const node of workers) byKind.set(node.kind, Math.max(byKind.get(node.kind) ?? 0, node.summary.peakRssMiB!));

    const lines = [
      `Command: \`npm run build && node dist/bench/study/run.js${at < 0 ? "" : ` --experiment ${name}`}${sets.length > 0 ? " " + sets.join(" ") : ""}\``,
      `(\`fancl run ${name}\` into an empty store, then again with everything cached).`,
      `Machine: ${machineLine()}; 1-minute load average before the run ${os.loadavg()[0]!.toFixed(2)}.`,
      "",
      "| measurement | value |",
      "| --- | ---: |",
      `| nodes | ${nodes.length} |`,
      `| whole study, empty store | ${(first.seconds / 60).toFixed(2)} min |`,
      `| rerun, everything cached | ${rerun.seconds.toFixed(2)} s |`,
      `| largest peak resident memory of a worker process | ${peak.summary.peakRssMiB} MiB (${peak.labels[0] ?? peak.kind}) |`,
      ...[...byKind].map(([kind, mib]) => `| peak resident memory, ${kind} workers | ${mib} MiB |`),
      "",
      "Peak memory is each worker's `process.resourceUsage().maxRSS`, recorded in its node's manifest",
      "as `summary.peakRssMiB`.",
    ];
    writeSection(path.join(repo, "docs", "benchmarks.md"), [`## study: ${name}`, "", ...lines].join("\n"));
    console.log(lines.join("\n"));
    console.log(`study ${name}: ${(first.seconds / 60).toFixed(2)} min, cached rerun ${rerun.seconds.toFixed(2)} s, peak worker ${peak.summary.peakRssMiB} MiB`);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

main(process.argv.slice(2));
