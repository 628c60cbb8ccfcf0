/**
 * `npm run bench:nifti`: times loading a real BraTS case (4 modalities + segmentation) with
 * fancl's loadCase and with nibabel's `nib.load(f).get_fdata(dtype=np.float32)` in the same
 * run. It also measures the peak memory of both while loading, and writes the `## nifti`
 * section of docs/benchmarks.md.
 *
 * Usage: node dist/bench/nifti/run.js [--runs N] [CASE_FOLDER...]
 * Default cases: one BraTS 2023 and one BraTS 2018 case from ../shared/data.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import { caseFiles, loadCase } from "../../src/data/dataset.js";
import { writeSection as writeBenchmarkSection } from "../section.js";

const compiledDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(compiledDir, "../../..");
const pythonScript = path.join(repoRoot, "bench/nifti/load_nibabel.py");
const memoryScript = path.join(compiledDir, "memory.js");
const docsFile = path.join(repoRoot, "docs/benchmarks.md");
const writeSection = (section: string): void => writeBenchmarkSection(docsFile, section);
const sharedData = path.resolve(repoRoot, "../shared/data");

const defaultCases = [
  path.join(sharedData, "brats2023/BraTS-GLI-00000-000"),
  path.join(sharedData, "brats2018/Brats18_CBICA_ABM_1"),
];

interface CaseResult {
  readonly id: string;
  readonly voxels: number;
  readonly fanclSeconds: number[];
  readonly nibabelSeconds: number[];
  readonly fanclPeakIncreaseBytes: number;
  readonly nibabelPeakIncreaseBytes: number;
  readonly decodedFloat32Bytes: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Debian's python3 (where python3-nibabel lives) when present, else python3 on PATH. */
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** A python process that loads the files with nibabel each time it is asked. */
class NibabelServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(files: readonly string[]) {
    this.child = spawn(python, [pythonScript, "serve", ...files]);
    this.child.stderr.pipe(process.stderr);
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Seconds nibabel took for one load of all files. */
  async load(): Promise<number> {
    this.child.stdin.write("run\n");
    const next = await this.lines.next();
    if (next.done === true) throw new Error("the nibabel process ended early; see its error above");
    return Number(next.value);
  }

  close(): void {
    this.child.stdin.end();
  }
}

async function benchCase(folder: string, runs: number): Promise<CaseResult> {
  const files = await caseFiles(folder);
  if (files === undefined || files.seg === undefined) {
    throw new Error(`${folder} is not a case folder with four modalities and a segmentation`);
  }
  const all = [...files.images, files.seg];

  // Runs alternate between fancl and a resident nibabel process, so both see the same load.
  const nibabel = new NibabelServer(all);
  let loaded = await loadCase(files, { requireSeg: true });
  await nibabel.load();
  const voxels = loaded.images[0]!.data.length;
  const fanclSeconds: number[] = [];
  const nibabelSeconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    loaded = await loadCase(files, { requireSeg: true });
    fanclSeconds.push((performance.now() - start) / 1000);
    nibabelSeconds.push(await nibabel.load());
  }
  nibabel.close();
  const nibabelMemory = JSON.parse(execFileSync(python, [pythonScript, "memory", ...all], { encoding: "utf8" }));

  const memory = JSON.parse(execFileSync(process.execPath, [memoryScript, folder], { encoding: "utf8" }));
  return {
    id: files.id,
    voxels,
    fanclSeconds,
    nibabelSeconds,
    fanclPeakIncreaseBytes: memory.peakRssBytes - memory.baselineRssBytes,
    nibabelPeakIncreaseBytes: nibabelMemory.peakRssBytes - nibabelMemory.baselineRssBytes,
    decodedFloat32Bytes: all.length * voxels * 4,
  };
}

function nibabelVersion(): string {
  return execFileSync(python, ["-c", "import nibabel, numpy; print(nibabel.__version__, numpy.__version__)"], {
    encoding: "utf8",
  }).trim();
}

function section(results: readonly CaseResult[], runs: number, command: string, loadAverage: number): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const [nib, numpy] = nibabelVersion().split(" ");
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const rows = results.map((r) => {
    const f = median(r.fanclSeconds);
    const n = median(r.nibabelSeconds);
    return (
      `| ${r.id} | ${(f * 1000).toFixed(0)} | ${(n * 1000).toFixed(0)} | ${(f / n).toFixed(2)} | ` +
      `${mib(r.decodedFloat32Bytes)} | ${mib(r.fanclPeakIncreaseBytes)} (${(r.fanclPeakIncreaseBytes / r.decodedFloat32Bytes).toFixed(2)}×) | ` +
      `${mib(r.nibabelPeakIncreaseBytes)} (${(r.nibabelPeakIncreaseBytes / r.decodedFloat32Bytes).toFixed(2)}×) |`
    );
  });
  return [
    "## nifti",
    "",
    "Loading one real BraTS case: 4 modalities + segmentation, 240×240×155 each.",
    "fancl: `loadCase(files, { requireSeg: true })` (gunzip, decode to float32 images and uint8",
    "labels, grid, finite-value and label checks). nibabel: `nib.load(f).get_fdata(dtype=np.float32)`",
    `for the same 5 files (nibabel ${nib}, numpy ${numpy}), in a resident python process. Medians of`,
    `${runs} runs after one warm-up each, fancl and nibabel runs alternating, so both see the same machine`,
    "load. Peak memory: maxRSS minus the RSS just before loading, each in a fresh child",
    "process; the budget is 3× the decoded float32 size of the 5 volumes.",
    "",
    "| case | fancl ms | nibabel ms | fancl / nibabel | decoded float32 MiB | fancl peak MiB (× decoded) | nibabel peak MiB (× decoded) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Machine: ${os.cpus().length} cores (nproc), ${cpu}, Node ${process.version}; 1-minute load average`,
    `${loadAverage.toFixed(1)} when the run started (other jobs inflate both columns alike).`,
    `Command: \`npm run build && ${command}\``,
    "",
  ].join("\n");
}


const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { runs: { type: "string", default: "7" } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);

const loadAverage = os.loadavg()[0]!;
const folders = positionals.length > 0 ? positionals.map((p) => path.resolve(p)) : defaultCases;
const results: CaseResult[] = [];
for (const folder of folders) {
  const result = await benchCase(folder, runs);
  results.push(result);
  process.stdout.write(
    `${result.id}: fancl ${(median(result.fanclSeconds) * 1000).toFixed(0)} ms, nibabel ${(median(result.nibabelSeconds) * 1000).toFixed(0)} ms, ` +
      `peak +${(result.fanclPeakIncreaseBytes / 2 ** 20).toFixed(0)} MiB\n`,
  );
}

const command = `npm run bench:nifti${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
await writeSection(section(results, runs, command, loadAverage));
process.stdout.write(`wrote the nifti section of ${path.relative(process.cwd(), docsFile)}\n`);
