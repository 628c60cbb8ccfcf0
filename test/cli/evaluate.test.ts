import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateCommand } from "../../src/cli/evaluate.js";
import { closeRelative, readCsv } from "../metrics/csv.js";

const data = path.resolve(process.cwd(), "../shared/data");
const scratch = mkdtempSync(path.join(os.tmpdir(), "fancl-evaluate-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("fancl evaluate", () => {
  it("names an --out folder that is a file", async () => {
    const file = path.join(scratch, "not-a-folder");
    writeFileSync(file, "");
    const dir = path.join(data, "metric-edge");
    const run = evaluateCommand.run([
      "--gt", path.join(dir, "label-4-legacy-gt.nii.gz"),
      "--pred", path.join(dir, "label-4-legacy-pred.nii.gz"),
      "--out", path.join(file, "scores.csv"),
    ]);
    await expect(run).rejects.toThrow(`${file} is a file, not a folder`);
  });

  it("maps legacy label 4 to 3", async () => {
    const out = path.join(scratch, "legacy.csv");
    const dir = path.join(data, "metric-edge");
    const code = await evaluateCommand.run([
      "--gt", path.join(dir, "label-4-legacy-gt.nii.gz"),
      "--pred", path.join(dir, "label-4-legacy-pred.nii.gz"),
      "--out", out,
    ]);
    expect(code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(
      "case,region,dice,hd95\nlabel-4-legacy,ET,1,0\nlabel-4-legacy,TC,1,0\nlabel-4-legacy,WT,1,0\n",
    );
  });

  it("matches folders by case id and reproduces reference-metrics.csv with max-directed", async () => {
    // Two BraTS 2018 cases linked into gt/<id>/<id>_seg.nii.gz and pred/<id>.nii.gz.
    const ids = ["Brats18_TCIA01_378_1", "Brats18_TCIA03_265_1"];
    const gtRoot = path.join(scratch, "gt"), predRoot = path.join(scratch, "pred");
    mkdirSync(predRoot, { recursive: true });
    for (const id of ids) {
      mkdirSync(path.join(gtRoot, id), { recursive: true });
      symlinkSync(path.join(data, "brats2018", id, `${id}_seg.nii.gz`), path.join(gtRoot, id, `${id}_seg.nii.gz`));
      symlinkSync(path.join(data, "brats2018", id, `${id}_prediction.nii.gz`), path.join(predRoot, `${id}.nii.gz`));
    }
    const out = path.join(scratch, "folders.csv");
    expect(await evaluateCommand.run(["--gt", gtRoot, "--pred", predRoot, "--hd95", "max-directed", "--out", out])).toBe(0);

    const rows = readCsv(out);
    const expected = readCsv(path.join(data, "brats2018/reference-metrics.csv")).filter((r) => ids.includes(r.case!));
    expect(rows.map((r) => `${r.case} ${r.region}`)).toEqual(expected.map((r) => `${r.case} ${r.region}`));
    for (const [k, row] of rows.entries()) {
      expect(closeRelative(Number(row.dice), Number(expected[k]!.dice))).toBe(true);
      expect(closeRelative(Number(row.hd95), Number(expected[k]!.hd95_max_directed))).toBe(true);
    }
  }, 60_000);

  it("adds lesion-wise columns on request", async () => {
    // Expected: the official BraTS 2023 columns of reference-metrics.csv for this case.
    const id = "Brats18_TCIA02_370_1";
    const out = path.join(scratch, "lesions.csv");
    const dir = path.join(data, "brats2018", id);
    const args = ["--gt", path.join(dir, `${id}_seg.nii.gz`), "--pred", path.join(dir, `${id}_prediction.nii.gz`), "--lesion-wise", "--out", out];
    expect(await evaluateCommand.run(args)).toBe(0);

    const rows = readCsv(out);
    const expected = readCsv(path.join(data, "brats2018/reference-metrics.csv")).filter((r) => r.case === id);
    expect(Object.keys(rows[0]!)).toEqual(["case", "region", "dice", "hd95", "lesion_dice", "lesion_hd95", "gt_lesions", "tp", "fp", "fn"]);
    for (const [k, row] of rows.entries()) {
      const want = expected[k]!;
      expect([row.gt_lesions, row.tp, row.fp, row.fn]).toEqual([want.gt_lesions, want.tp, want.fp, want.fn]);
      expect(closeRelative(Number(row.lesion_dice), Number(want.official_lesion_dice))).toBe(true);
      expect(closeRelative(Number(row.lesion_hd95), Number(want.official_lesion_hd95))).toBe(true);
    }
  }, 60_000);

  it("writes a Markdown table", async () => {
    const out = path.join(scratch, "shifted.md");
    const dir = path.join(data, "metric-edge");
    const args = ["--gt", path.join(dir, "shifted-by-one-gt.nii.gz"), "--pred", path.join(dir, "shifted-by-one-pred.nii.gz"), "--format", "md", "--out", out];
    expect(await evaluateCommand.run(args)).toBe(0);
    // expected.csv: Dice 0.833333 (= 2·180/432), HD95 1.
    expect(readFileSync(out, "utf8")).toContain("| shifted-by-one | ET | 0.8333 | 1 |");
  });

  it("names a case that has no prediction", async () => {
    const gtRoot = path.join(scratch, "gt-extra"), predRoot = path.join(scratch, "pred-empty");
    mkdirSync(path.join(gtRoot, "CASE-A"), { recursive: true });
    mkdirSync(predRoot, { recursive: true });
    symlinkSync(path.join(data, "metric-edge", "identical-gt.nii.gz"), path.join(gtRoot, "CASE-A", "CASE-A-seg.nii.gz"));
    await expect(evaluateCommand.run(["--gt", gtRoot, "--pred", predRoot])).rejects.toThrow(/case CASE-A .* has no prediction/);
  });

  it("rejects an unknown HD95 definition", async () => {
    const file = path.join(data, "metric-edge", "identical-gt.nii.gz");
    await expect(evaluateCommand.run(["--gt", file, "--pred", file, "--hd95", "mean"])).rejects.toThrow(/--hd95 mean is not one of medpy, max-directed/);
  });
});
