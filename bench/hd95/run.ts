/**
 * HD95 speed: fancl's `hd95` (bounding-box crop, separable exact EDT) against the scipy method
 * (binary_erosion surfaces, distance_transform_edt over the full volume), both in this run, on
 * one real 240×240×155 BraTS 2018 case with a real prediction. Writes the `## hd95` section of
 * docs/benchmarks.md.
 *
 * Usage: node dist/bench/hd95/run.js [--runs N] [--python-runs N] [--case ID]
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { normaliseLabels } from "../../src/data/labels.js";
import { hd95 } from "../../src/metrics/hd95.js";
import { REGIONS, regionMask, type Region } from "../../src/metrics/regions.js";
import { readLabelVolume } from "../../src/nifti/read.js";

const distFolder = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(distFolder, "../../..");
const peerScript = path.join(repoRoot, "bench/hd95/hd95_scipy.py");
const docsFile = path.join(repoRoot, "docs/benchmarks.md");
const brats2018 = path.resolve(repoRoot, "../shared/data/brats2018");

/** Debian's python3 (where python3-scipy and python3-nibabel live) when present. */
const python = process.env.PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

interface PeerOutput {
  readonly versions: { scipy: string; numpy: string };
  readonly regions: Record<Region, { seconds: number[]; cpu_seconds: number[]; hd95: number }>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got ${text}`);
  return value;
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string", default: "21" },
    "python-runs": { type: "string", default: "5" },
    case: { type: "string", default: "Brats18_CBICA_ABM_1" },
  },
});
const runs = positiveInteger("--runs", values.runs!);
const peerRuns = positiveInteger("--python-runs", values["python-runs"]!);
const caseId = values.case!;
const gtFile = path.join(brats2018, caseId, `${caseId}_seg.nii.gz`);
const predFile = path.join(brats2018, caseId, `${caseId}_prediction.nii.gz`);

// fancl: masks prepared outside the timed region, as in the peer.
const gt = normaliseLabels(await readLabelVolume(gtFile), caseId).labels;
const pred = normaliseLabels(await readLabelVolume(predFile), caseId).labels;
const grid = { dims: gt.geometry.dims, spacing: gt.geometry.spacing };
const fancl = new Map<Region, { seconds: number[]; cpuSeconds: number[]; hd95: number }>();
for (const region of REGIONS) {
  const a = regionMask(gt.data, region);
  const b = regionMask(pred.data, region);
  hd95(a, b, grid, "medpy");
  const seconds: number[] = [];
  const cpuSeconds: number[] = [];
  let value = NaN;
  for (let k = 0; k < runs; k++) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    value = hd95(a, b, grid, "medpy");
    const cpu = process.cpuUsage(cpuStart);
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    cpuSeconds.push((cpu.user + cpu.system) / 1e6);
  }
  fancl.set(region, { seconds, cpuSeconds, hd95: value });
}

const peer = JSON.parse(execFileSync(python, [peerScript, String(peerRuns), gtFile, predFile], { encoding: "utf8" })) as PeerOutput;

const ms = (seconds: readonly number[]) => (median(seconds) * 1000).toFixed(1);
const rows = REGIONS.map((region) => {
  const ours = fancl.get(region)!;
  const theirs = peer.regions[region];
  const cpuRatio = median(ours.cpuSeconds) / median(theirs.cpu_seconds);
  const wallRatio = median(ours.seconds) / median(theirs.seconds);
  process.stdout.write(
    `${region}: CPU fancl ${ms(ours.cpuSeconds)} ms, scipy ${ms(theirs.cpu_seconds)} ms, ratio ${cpuRatio.toFixed(3)}; ` +
      `wall ratio ${wallRatio.toFixed(3)}; hd95 ${ours.hd95} vs ${theirs.hd95}\n`,
  );
  return (
    `| ${region} | ${ms(ours.cpuSeconds)} | ${ms(theirs.cpu_seconds)} | ${cpuRatio.toFixed(3)} | ` +
    `${ms(ours.seconds)} | ${ms(theirs.seconds)} | ${wallRatio.toFixed(3)} | ${ours.hd95.toFixed(4)} | ${theirs.hd95.toFixed(4)} |`
  );
});

const loadAverage = os.loadavg()[0]!.toFixed(1);
const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown CPU";
const argsText = process.argv.slice(2).join(" ");
const section = [
  "## hd95",
  "",
  `HD95 (medpy definition) of one region on a 240×240×155 pair at 1 mm: ${caseId} ground truth vs`,
  "its DeepBrainSeg prediction. fancl: `hd95(gt, pred, grid, \"medpy\")` (crop to the union's bounding",
  "box plus one voxel, 6-connected erosion surfaces, separable exact EDT). Peer: scipy's",
  "`binary_erosion` surfaces and `distance_transform_edt(sampling=spacing)` on the full volume, pooled",
  `95th percentile (scipy ${peer.versions.scipy}, numpy ${peer.versions.numpy}; bench/hd95/hd95_scipy.py).`,
  `Masks are built before timing in both. Medians of ${runs} fancl runs (after one warm-up) and ${peerRuns} scipy runs,`,
  "in the same benchmark run, as process CPU time (both are single-threaded) and as wall-clock time. CPU time",
  "is the comparison to use on a shared machine, where other processes stretch wall-clock time.",
  `Target: fancl / scipy ≤ 0.1. One-minute load average at the end of the run: ${loadAverage}.`,
  "",
  "| region | fancl CPU ms | scipy CPU ms | CPU ratio | fancl wall ms | scipy wall ms | wall ratio | fancl hd95 mm | scipy hd95 mm |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
  "",
  `Machine: ${os.cpus().length} cores (nproc), ${cpu}, Node ${process.version}.`,
  `Command: \`npm run build && npm run bench:hd95${argsText === "" ? "" : ` -- ${argsText}`}\``,
  "",
].join("\n");

// Replace the `## hd95` section of docs/benchmarks.md, or append it; other sections stay.
await mkdir(path.dirname(docsFile), { recursive: true });
const current = existsSync(docsFile) ? await readFile(docsFile, "utf8") : "# Benchmarks\n";
const lines = current.split("\n");
const start = lines.findIndex((l) => l.trim() === "## hd95");
let updated: string;
if (start === -1) {
  updated = `${current.trimEnd()}\n\n${section}`;
} else {
  const next = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  const end = next === -1 ? lines.length : next;
  updated = `${[...lines.slice(0, start), ...section.trimEnd().split("\n"), "", ...lines.slice(end)].join("\n").trimEnd()}\n`;
}
await writeFile(docsFile, updated);
process.stdout.write(`wrote the hd95 section of ${path.relative(process.cwd(), docsFile)}\n`);
