/**
 * On-disk form of one case's curriculum: `curricula.u8` contains the S−1 label maps C_1 … C_{S−1},
 * each row-major [D, H, W] on the preprocessed grid, one after another. `curricula.json` records
 * their count and shape.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

import { readJson, writeJson } from "./io.js";

interface CurriculumHeader {
  readonly caseId: string;
  readonly shape: readonly [number, number, number];
  readonly stages: number;
  readonly easyVoxels: readonly number[];
}

export async function saveCurricula(
  dir: string,
  header: CurriculumHeader,
  curricula: readonly Uint8Array[],
): Promise<void> {
  const voxels = header.shape[0] * header.shape[1] * header.shape[2];
  const joined = new Uint8Array(voxels * curricula.length);
  curricula.forEach((map, j) => joined.set(map, j * voxels));
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "curricula.u8"), joined);
  await writeJson(path.join(dir, "curricula.json"), header);
}

export async function loadCurricula(dir: string): Promise<Uint8Array[]> {
  const header = await readJson<CurriculumHeader>(path.join(dir, "curricula.json"));
  const bytes = await fs.readFile(path.join(dir, "curricula.u8"));
  const voxels = header.shape[0] * header.shape[1] * header.shape[2];
  if (bytes.length !== voxels * header.stages) {
    throw new Error(
      `${path.join(dir, "curricula.u8")} has ${bytes.length} bytes, expected ${voxels * header.stages}; rerun with --force curriculum`,
    );
  }
  return Array.from({ length: header.stages }, (_, j) =>
    new Uint8Array(bytes.buffer, bytes.byteOffset + j * voxels, voxels),
  );
}
