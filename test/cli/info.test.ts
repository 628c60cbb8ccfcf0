/**
 * `fancl info` on real files; expected numbers from nibabel 5.0.0 (shape, get_zooms(), affine,
 * min/max/mean of get_fdata(dtype=np.float32)), and from the raw header bytes for scl_*.
 */
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";

import { infoCommand, valueSummary } from "../../src/cli/info.js";
import { UsageError } from "../../src/cli/command.js";

const edge = path.resolve(process.cwd(), "../shared/data/nifti-edge");

async function runInfo(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await infoCommand.run(argv);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("fancl info --json", () => {
  it("reports the int32 mask's scaling and nibabel's numbers", async () => {
    const { code, out } = await runInfo([path.join(edge, "int32-scl-slope-brainmask.nii.gz"), "--json"]);
    const report = JSON.parse(out);
    expect(code).toBe(0);
    expect(report.shape).toEqual([240, 240, 155]);
    expect(report.spacing).toEqual([1, 1, 1]);
    expect(report.datatype).toBe("int32");
    expect(report.byteOrder).toBe("little");
    // The header's float32 scl_slope is 2^-32 and scl_inter 0.5 (struct.unpack of bytes 112..119).
    expect(report.sclSlope).toBe(2 ** -32);
    expect(report.sclInter).toBe(0.5);
    expect([report.qformCode, report.sformCode]).toEqual([0, 2]);
    expect(report.affine).toEqual([
      [-1, 0, 0, 0],
      [0, -1, 0, 239],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect([report.min, report.max]).toEqual([0, 1]);
    expect(report.mean).toBeCloseTo(0.1666179435483871, 12);
  });

  it("works on a 5-D file", async () => {
    const report = JSON.parse((await runInfo([path.join(edge, "5D_small.nii"), "--json"])).out);
    expect(report.shape).toEqual([1, 2, 3, 1, 3]);
    expect([report.min, report.max]).toEqual([0.07691901922225952, 0.7802449464797974]);
    // nibabel scales in float32 steps, fancl in double then rounds once: means differ by < 1e-9.
    expect(report.mean).toBeCloseTo(0.40452486897508305, 8);
  });

  it("works on a 4-D NIfTI-2 file", async () => {
    const report = JSON.parse((await runInfo([path.join(edge, "example_nifti2.nii.gz"), "--json"])).out);
    expect(report.niftiVersion).toBe(2);
    expect(report.shape).toEqual([32, 20, 12, 2]);
    expect([report.min, report.max]).toEqual([46, 757]);
  });
});

describe("fancl info text", () => {
  it("prints shape, datatype and the affine rows", async () => {
    const { out } = await runInfo([path.join(edge, "anatomical.nii")]);
    expect(out).toMatch(/^shape\s+33 x 41 x 25$/m);
    expect(out).toMatch(/^format\s+NIfTI-1, big-endian$/m);
    expect(out).toMatch(/^affine \(sform\)$/m);
    expect(out).toMatch(/^\s+\[\s+-2\s+0\s+0\s+32 \]$/m);
    expect(out).toMatch(/^scl_slope\s+\S+ \(scaling none\)$/m);
  });

  it("needs exactly one file", async () => {
    await expect(infoCommand.run([])).rejects.toBeInstanceOf(UsageError);
  });
});

describe("valueSummary", () => {
  it("leaves NaN and infinities out and counts them", () => {
    expect(valueSummary([1, Number.NaN, 3, Number.POSITIVE_INFINITY])).toEqual({ min: 1, max: 3, mean: 2, nonFinite: 2 });
  });

  it("gives null for no finite value", () => {
    expect(valueSummary([])).toEqual({ min: null, max: null, mean: null, nonFinite: 0 });
  });
});
