/**
 * No-op rerun benchmark: a 100-node experiment whose every node is cached, rerun with
 * `fancl run` (the engine's run verb with bench/noop/app.ts) and, side by side, Snakemake on
 * the equivalent Snakefile whose every output exists. Both are timed as whole processes, the
 * two alternating so that both see the same machine load. Prints the medians and, as its last
 * line, the ratio fancl / Snakemake; writes the `## noop` section of docs/benchmarks.md.
 *
 * Usage: node dist/bench/noop/run.js [--reps N]   (after `npm run build`)
 *
 * Module loading dominates fancl's time. Node itself starts in about 50 ms, and loading the run verb
 * from the unbundled dist/ modules took about 160 ms more (ratio 0.44). So the benchmark runs the
 * bundled CLI that `npm run build` writes (scripts/bundle.mjs), as bin/fancl.js does.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection as writeBenchmarkSection } from "../section.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const fanclCli = path.join(repo, "dist/bundle/bench-noop.js");
const snakefile = path.join(repo, "bench/noop/Snakefile");
const docs = path.join(repo, "docs/benchmarks.md");
const writeSection = (section: string): void => writeBenchmarkSection(docs, section);

interface Timed {
  readonly ms: number;
  readonly output: string;
  readonly status: number | null;
}

function timed(command: string, args: readonly string[], cwd: string): Timed {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return { ms, output: `${result.stdout}${result.stderr}`, status: result.status };
}

function expectOk(what: string, run: Timed, pattern: RegExp): void {
  if (run.status !== 0 || !pattern.test(run.output)) {
    throw new Error(`${what} did not behave as expected (exit ${run.status}, wanted output matching ${pattern}):\n${run.output.slice(-2000)}`);
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function parseReps(argv: readonly string[]): number {
  const at = argv.indexOf("--reps");
  if (at < 0) return 9;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--reps takes a positive whole number, found "${argv[at + 1]}"`);
  return value;
}

function cpuModel(): string {
  const line = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"));
  return line?.split(":")[1]?.trim() ?? "unknown CPU";
}


function main(): void {
  const reps = parseReps(process.argv.slice(2));
  const work = mkdtempSync(path.join(os.tmpdir(), "fancl-bench-noop-"));
  try {
    const fanclDir = path.join(work, "fancl");
    const snakeDir = path.join(work, "snakemake");
    for (const dir of [fanclDir, snakeDir]) spawnSync("mkdir", ["-p", dir]);
    writeFileSync(path.join(fanclDir, "experiment.yaml"), "items: 90\ngroup: 10\n");
    copyFileSync(snakefile, path.join(snakeDir, "Snakefile"));

    const fanclArgs = [fanclCli, "run", "experiment.yaml", "--store", "runs"];
    const snakeArgs = ["--cores", "2"];

    // Fill both caches once; the greedy scheduler spares Snakemake its ILP solver on every round.
    expectOk("the first fancl run", timed(process.execPath, fanclArgs, fanclDir), /100 nodes: 100 computed/);
    expectOk("the first snakemake run", timed("snakemake", [...snakeArgs, "--scheduler", "greedy"], snakeDir), /100%|steps \(100%\) done/);

    const fancl: number[] = [];
    const snakemake: number[] = [];
    for (let i = 0; i < reps; i++) {
      const f = timed(process.execPath, fanclArgs, fanclDir);
      expectOk("a fancl no-op rerun", f, /100 nodes: 100 cached/);
      fancl.push(f.ms);
      const s = timed("snakemake", snakeArgs, snakeDir);
      expectOk("a snakemake no-op rerun", s, /Nothing to be done/);
      snakemake.push(s.ms);
    }

    const fanclMs = median(fancl);
    const snakeMs = median(snakemake);
    const ratio = fanclMs / snakeMs;
    const snakeVersion = spawnSync("snakemake", ["--version"], { encoding: "utf8" }).stdout.trim();
    const load = os.loadavg()[0]!.toFixed(1);

    writeSection(
      [
        "## noop",
        "",
        "A no-op rerun of a 100-node experiment: 90 item nodes, 9 group nodes over 10 items each and",
        "one summary node, every node cached. Each run is timed as a whole process from spawn to exit.",
        "fancl runs `node dist/bundle/bench-noop.js run experiment.yaml`: bench/noop/cli.ts, the engine's",
        "run verb with bench/noop/app.ts, bundled by scripts/bundle.mjs as bin/fancl.js is. The peer is",
        `\`snakemake --cores 2\` (Snakemake ${snakeVersion}) on bench/noop/Snakefile, the same DAG with every`,
        `output present. Medians of ${reps} runs each, the two alternating. Target: fancl / Snakemake ≤ 0.4.`,
        "",
        "| fancl ms | snakemake ms | fancl / snakemake |",
        "| ---: | ---: | ---: |",
        `| ${fanclMs.toFixed(0)} | ${snakeMs.toFixed(0)} | ${ratio.toFixed(2)} |`,
        "",
        `Machine: ${os.availableParallelism()} cores (nproc), ${cpuModel()}, Node ${process.version}; 1-minute load`,
        `average ${load} at the end of the run (other jobs slow both columns).`,
        "Command: `npm run build && npm run bench:noop`",
        "",
      ].join("\n"),
    );

    console.log(`fancl no-op rerun: median ${fanclMs.toFixed(0)} ms of ${reps} (${fancl.map((ms) => ms.toFixed(0)).join(", ")})`);
    console.log(`snakemake no-op rerun: median ${snakeMs.toFixed(0)} ms of ${reps} (${snakemake.map((ms) => ms.toFixed(0)).join(", ")})`);
    console.log(`noop: 100 nodes, fancl ${fanclMs.toFixed(0)} ms, snakemake ${snakeMs.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
