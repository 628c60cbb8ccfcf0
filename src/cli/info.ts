/** `fancl info FILE [--json]`: the header facts and value range of any NIfTI file. */
import { parseArgs } from "node:util";

import { hasScaling } from "../nifti/header.js";
import { readNifti } from "../nifti/read.js";
import type { NiftiImage } from "../nifti/types.js";
import { UsageError, type Command } from "./command.js";

const usage = `Usage: fancl info FILE [--json]

Prints the header facts of a NIfTI-1 or NIfTI-2 file (.nii or .nii.gz, any number of axes):
shape, voxel spacing (mm, first three axes), datatype, byte order, scl_slope and scl_inter,
qform and sform codes, the voxel-to-world affine (sform when its code is > 0, else qform, else
pixdim alone, as nibabel chooses) and min, max and mean of the scaled voxel values.

  --json   print one JSON object instead of text; NaN header values print as null
`;

/** Everything `fancl info` reports; the --json output is this object. */
export interface InfoReport {
  readonly file: string;
  readonly niftiVersion: 1 | 2;
  readonly shape: readonly number[];
  /** mm, first three axes. */
  readonly spacing: readonly number[];
  readonly pixdim: readonly number[];
  readonly datatype: string;
  readonly datatypeCode: number;
  readonly byteOrder: string;
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly qformCode: number;
  readonly sformCode: number;
  readonly affineSource: string;
  /** 4×4 row-major, mm. */
  readonly affine: readonly (readonly number[])[];
  readonly xyztUnits: number;
  readonly description: string;
  readonly extensions: readonly { code: number; size: number }[];
  /** Over finite scaled values; null when there is none. */
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** Voxels that are NaN or infinite (left out of min, max and mean). */
  readonly nonFinite: number;
}

/** Builds the report of one image. */
export function infoReport(image: NiftiImage): InfoReport {
  const { min, max, mean, nonFinite } = valueSummary(image.data);
  const g = image.geometry;
  return {
    file: image.path,
    niftiVersion: image.niftiVersion,
    shape: image.shape,
    spacing: g.spacing,
    pixdim: image.pixdim,
    datatype: image.datatype,
    datatypeCode: image.datatypeCode,
    byteOrder: image.byteOrder,
    sclSlope: image.sclSlope,
    sclInter: image.sclInter,
    qformCode: g.qformCode,
    sformCode: g.sformCode,
    affineSource: g.affineSource,
    affine: g.affine,
    xyztUnits: g.xyztUnits,
    description: image.description,
    extensions: image.extensions,
    min,
    max,
    mean,
    nonFinite,
  };
}

/** Min, max and mean (summed in double precision) of the finite values, and the others' count. */
export function valueSummary(data: ArrayLike<number>): {
  min: number | null;
  max: number | null;
  mean: number | null;
  nonFinite: number;
} {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finite++;
  }
  return finite === 0
    ? { min: null, max: null, mean: null, nonFinite: data.length }
    : { min, max, mean: sum / finite, nonFinite: data.length - finite };
}

/** Formats the report as text: one fact per line, the affine as four rows. */
export function formatInfo(report: InfoReport): string {
  const fmt = (v: number | null) => (v === null ? "none" : String(v));
  const scaling = hasScaling(report) ? "applied" : "none";
  const lines = [
    ["file", report.file],
    ["format", `NIfTI-${report.niftiVersion}, ${report.byteOrder}-endian`],
    ["shape", report.shape.join(" x ")],
    ["spacing", `${report.spacing.join(" x ")} mm`],
    ["pixdim", report.pixdim.join(" ")],
    ["datatype", `${report.datatype} (code ${report.datatypeCode})`],
    ["scl_slope", `${report.sclSlope} (scaling ${scaling})`],
    ["scl_inter", String(report.sclInter)],
    ["qform_code", String(report.qformCode)],
    ["sform_code", String(report.sformCode)],
    ["xyzt_units", String(report.xyztUnits)],
    ["description", report.description],
    ["extensions", report.extensions.length === 0 ? "none" : report.extensions.map((e) => `code ${e.code} (${e.size} bytes)`).join(", ")],
    ["min", fmt(report.min)],
    ["max", fmt(report.max)],
    ["mean", fmt(report.mean)],
    ["non-finite", String(report.nonFinite)],
    [`affine (${report.affineSource})`, ""],
  ].map(([key, value]) => `${key!.padEnd(18)}${value}`.trimEnd());
  // Six significant digits keep the rows aligned; --json has full precision.
  const rows = report.affine.map((row) => `  [${row.map((v) => String(Number(v.toPrecision(6))).padStart(12)).join(" ")} ]`);
  return `${[...lines, ...rows].join("\n")}\n`;
}

export const infoCommand: Command = {
  name: "info",
  summary: "print the header facts and value range of a NIfTI file",
  usage,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } },
      });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }
    if (parsed.values.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (parsed.positionals.length !== 1) {
      throw new UsageError(`fancl info takes one FILE, got ${parsed.positionals.length}; e.g. fancl info t1c.nii.gz\n\n${usage}`);
    }

    const report = infoReport(await readNifti(parsed.positionals[0]!));
    process.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInfo(report));
    return 0;
  },
};
