/**
 * `node dist/bench/preprocess/run.js`: times fancl's preprocessing of one real BraTS case
 * (240×240×155, 4 modalities, 1 mm) against the same steps in numpy and PyTorch (one thread),
 * both in this run, and writes the `## preprocess` section of docs/benchmarks.md.
 *
 * Steps:
 * - crop+zscore: crop to the non-zero box, z-score and stack the modalities channels last;
 * - crop+zscore+resample: the same, then resample to the target spacing (trilinear images,
 *   nearest-neighbour labels);
 * - restore: return the resampled label map to the scan grid;
 * - resample full grid: trilinear resampling of the uncropped [155, 240, 240, 4] array.
 *
 * Usage: node dist/bench/preprocess/run.js [--runs N] [--target MM] [CASE_FOLDER]
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { caseFiles, loadCase } from "../../src/data/dataset.js";
import { preprocessCase, restoreLabels } from "../../src/preprocess/pipeline.js";
import { resampleLinear, resampledShape } from "../../src/preprocess/resample.js";
import { writeSection as writeBenchmarkSection } from "../section.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const pythonScript = path.join(repoRoot, "bench/preprocess/preprocess_torch.py");
const docsFile = path.join(repoRoot, "docs/benchmarks.md");
const writeSection = (section: string): void => writeBenchmarkSection(docsFile, section);
const defaultCase = path.resolve(repoRoot, "../shared/data/brats2023/BraTS-GLI-00000-000");
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const STEPS = ["crop+zscore", "crop+zscore+resample", "restore", "resample full grid"] as const;
type Step = (typeof STEPS)[number];

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timed<T>(fn: () => T): [number, T] {
  const start = performance.now();
  const result = fn();
  return [(performance.now() - start) / 1000, result];
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { runs: { type: "string", default: "5" }, target: { type: "string", default: "2" } },
});
const runs = Number(values.runs);
const target = Number(values.target);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs} is not a positive whole number; e.g. --runs 5`);
if (!(target > 0)) throw new Error(`--target ${values.target} is not a positive spacing in mm; e.g. --target 2`);
const folder = positionals[0] === undefined ? defaultCase : path.resolve(positionals[0]);

const files = await caseFiles(folder);
if (files === undefined || files.seg === undefined) {
  throw new Error(`${folder} is not a case folder with four modalities and a segmentation`);
}
const loaded = await loadCase(files, { requireSeg: true });
const targetSpacing = [target, target, target] as const;
const [nx, ny, nz] = loaded.images[0]!.geometry.dims;
const gridShape = [nz, ny, nx] as const;
const fullGrid = new Float32Array(nx * ny * nz * 4);
loaded.images.forEach((v, m) => {
  for (let i = 0; i < v.data.length; i++) fullGrid[i * 4 + m] = v.data[i]!;
});
const fullGridTarget = resampledShape(gridShape, loaded.images[0]!.geometry.spacing, targetSpacing);

// fancl: one warm-up run, then the timed runs.
const fancl: Record<Step, number[]> = { "crop+zscore": [], "crop+zscore+resample": [], restore: [], "resample full grid": [] };
let resampledShapeOut: readonly number[] = [];
for (let run = 0; run <= runs; run++) {
  const [plain] = timed(() => preprocessCase(loaded, { targetSpacing: null }));
  const [full, small] = timed(() => preprocessCase(loaded, { targetSpacing }));
  const [restore] = timed(() => restoreLabels(small.label!, small.meta));
  const [grid] = timed(() => resampleLinear(fullGrid, gridShape, fullGridTarget, 4));
  resampledShapeOut = small.shape;
  if (run === 0) continue;
  fancl["crop+zscore"].push(plain);
  fancl["crop+zscore+resample"].push(full);
  fancl.restore.push(restore);
  fancl["resample full grid"].push(grid);
}

const peer = JSON.parse(execFileSync(python, [pythonScript, String(runs), String(target), folder], { encoding: "utf8" })) as {
  seconds: Record<Step, number[]>;
  resampledShape: number[];
  fullGridShape: number[];
  versions: { torch: string; numpy: string; scipy: string };
};
if (peer.resampledShape.join() !== resampledShapeOut.join() || peer.fullGridShape.join() !== fullGridTarget.join()) {
  throw new Error(
    `the Python twin resampled to ${peer.resampledShape.join("x")} / ${peer.fullGridShape.join("x")} but fancl to ` +
      `${resampledShapeOut.join("x")} / ${fullGridTarget.join("x")}; the two sides must do the same work`,
  );
}

const rows = STEPS.map((step) => {
  const f = median(fancl[step]);
  const p = median(peer.seconds[step]);
  process.stdout.write(`${step}: fancl ${(f * 1000).toFixed(0)} ms, numpy/torch ${(p * 1000).toFixed(0)} ms\n`);
  return `| ${step} | ${(f * 1000).toFixed(0)} | ${(p * 1000).toFixed(0)} | ${(f / p).toFixed(2)} |`;
});

const command = `node dist/bench/preprocess/run.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
const section = [
  "## preprocess",
  "",
  `Preprocessing ${files.id} (4 modalities, ${nx}×${ny}×${nz} at 1 mm) with fancl's \`preprocessCase\``,
  `against the same steps in numpy ${peer.versions.numpy}, scipy ${peer.versions.scipy} (binary_fill_holes on the`,
  `brain mask) and PyTorch ${peer.versions.torch} (one thread; trilinear \`F.interpolate\` with align_corners=False,`,
  "nearest-exact for labels), both in this run. Medians of",
  `${runs} runs after one warm-up, in milliseconds. Target spacing ${target} mm: the cropped case becomes`,
  `${resampledShapeOut.join("×")} (D×H×W); the full-grid row resamples the uncropped [${gridShape.join(", ")}, 4]`,
  `channels-last array to ${fullGridTarget.join("×")}. "restore" is \`restoreLabels\` from the resampled grid back`,
  "to the scan grid (nearest neighbour, then uncrop).",
  "",
  "| step | fancl ms | numpy/torch ms | fancl / numpy/torch |",
  "| --- | ---: | ---: | ---: |",
  ...rows,
  "",
  `Machine: ${os.cpus().length} cores (nproc), ${os.cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}; load average ${os.loadavg()[0]!.toFixed(1)} at the end of the run (other work on the machine inflates wall times).`,
  `Command: \`npm run build && ${command}\``,
  "",
].join("\n");


await writeSection(section);
process.stdout.write(`wrote the preprocess section of ${path.relative(process.cwd(), docsFile)}\n`);
