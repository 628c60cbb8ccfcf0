/** `fancl synth`: writes a deterministic synthetic BraTS-METS 2023-layout dataset. */
import { parseArgs } from "node:util";

import { writeSyntheticDataset } from "../synth/dataset.js";
import { DEFAULT_SHAPE, DEFAULT_SPACING_MM } from "../synth/generate.js";
import { UsageError, type Command } from "./command.js";

const usage = `Usage: fancl synth --out DIR --cases N --seed S [--shape D,H,W] [--spacing MM]

Writes N synthetic cases in the BraTS-METS 2023 layout, DIR/<id>/<id>-{t1n,t1c,t2w,t2f,seg}.nii.gz
plus DIR/<id>/lesions.json, with ids SYN-00000-000, SYN-00001-000, ... Each case is a brain with
grey matter, white matter and CSF, a bias field and noise, 1 to 10 metastases (necrotic core 1,
edema 2, enhancing rim 3) and vessel-like distractors that enhance on t1c. The same seed always
gives the same bytes, and case i is the same whatever N is.

  --out DIR       the dataset folder (created if missing)
  --cases N       number of cases
  --seed S        whole number in [0, 4294967295]
  --shape D,H,W   voxels per axis, z,y,x (default ${DEFAULT_SHAPE.join(",")})
  --spacing MM    isotropic voxel size in mm (default ${DEFAULT_SPACING_MM})
`;

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`${flag} is required\n\n${usage}`);
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} ${text} is not a whole number in [${min}, ${max}]; e.g. ${flag} 8`);
  }
  return value;
}

function parseShape(text: string): [number, number, number] {
  const parts = text.split(",").map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p)) || values.some((v) => v < 1 || v > 32767)) {
    throw new UsageError(`--shape ${text} is not three whole numbers D,H,W between 1 and 32767; e.g. --shape 64,96,96`);
  }
  return [values[0]!, values[1]!, values[2]!];
}

function parseSpacing(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--spacing ${text} is not a positive size in mm; e.g. --spacing 2`);
  }
  return value;
}

export const synthCommand: Command = {
  name: "synth",
  summary: "write a synthetic BraTS-METS 2023-layout dataset",
  usage,
  run: async (argv) => {
    let values: { out?: string; cases?: string; seed?: string; shape?: string; spacing?: string };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          out: { type: "string" },
          cases: { type: "string" },
          seed: { type: "string" },
          shape: { type: "string" },
          spacing: { type: "string" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }

    if (values.out === undefined || values.out === "") throw new UsageError(`--out DIR is required\n\n${usage}`);
    if (values.cases?.trim() === "0") {
      throw new UsageError("--cases 0 would write an empty dataset; give at least 1, e.g. --cases 8");
    }
    const cases = wholeNumber("--cases", values.cases, 1, 99999);
    const seed = wholeNumber("--seed", values.seed, 0, 2 ** 32 - 1);
    const shape = values.shape === undefined ? DEFAULT_SHAPE : parseShape(values.shape);
    const spacing = values.spacing === undefined ? DEFAULT_SPACING_MM : parseSpacing(values.spacing);

    const started = Date.now();
    const ids = await writeSyntheticDataset(values.out, { cases, seed, shape, spacing });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `wrote ${ids.length} case(s) of ${shape.join("x")} voxels (D,H,W) at ${spacing} mm to ${values.out} in ${seconds} s\n`,
    );
    return 0;
  },
};
