/**
 * Child process of `npm run bench:nifti`: loads one case with loadCase and prints, as JSON,
 * the resident set size before loading and the peak (maxRSS) after it.
 *
 * Usage: node dist/bench/nifti/memory.js CASE_FOLDER
 */
import { caseFiles, loadCase } from "../../src/data/dataset.js";

const folder = process.argv[2];
if (folder === undefined) {
  process.stderr.write("usage: node dist/bench/nifti/memory.js CASE_FOLDER\n");
  process.exit(2);
}

const files = await caseFiles(folder);
if (files === undefined) {
  process.stderr.write(`no BraTS case files found in ${folder}\n`);
  process.exit(2);
}

const baselineRssBytes = process.memoryUsage().rss;
const loaded = await loadCase(files, { requireSeg: files.seg !== undefined });
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
const voxels = loaded.images[0]!.data.length;

process.stdout.write(
  `${JSON.stringify({ baselineRssBytes, peakRssBytes, voxels, volumes: loaded.images.length + (loaded.seg ? 1 : 0) })}\n`,
);
