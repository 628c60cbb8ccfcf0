/**
 * On-disk form of a preprocessed case, a folder with three files:
 * - case.json: id, modalities, shape [D, H, W], spacing [dx, dy, dz] in mm, hasLabel and meta.
 * - image.f32: the channels-last [D, H, W, M] image, raw little-endian float32.
 * - label.u8: the [D, H, W] labels as raw bytes, only when the case has a segmentation.
 * Raw arrays load with one read and no decoding, which matters because training reads every case.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { PreprocessMeta, PreprocessedCase } from "./types.js";

const FORMAT = "fancl-preprocessed-case";
const VERSION = 1;

interface CaseJson {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly id: string;
  readonly modalities: readonly string[];
  readonly shape: readonly [number, number, number];
  readonly spacing: readonly [number, number, number];
  readonly hasLabel: boolean;
  readonly meta: PreprocessMeta;
}

const LITTLE_ENDIAN = os.endianness() === "LE";

function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return bytes;
}

function float32FromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** Writes `preprocessed` into `dir` (created if missing; existing files are replaced). */
export async function savePreprocessed(dir: string, preprocessed: PreprocessedCase): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const json: CaseJson = {
    format: FORMAT,
    version: VERSION,
    id: preprocessed.id,
    modalities: preprocessed.modalities,
    shape: preprocessed.shape,
    spacing: preprocessed.spacing,
    hasLabel: preprocessed.label !== undefined,
    meta: preprocessed.meta,
  };
  await fs.writeFile(path.join(dir, "image.f32"), float32Bytes(preprocessed.image));
  if (preprocessed.label !== undefined) await fs.writeFile(path.join(dir, "label.u8"), preprocessed.label);
  await fs.writeFile(path.join(dir, "case.json"), JSON.stringify(json, null, 2) + "\n");
}

/** Reads a case written by savePreprocessed, checking that the arrays match the recorded shape. */
export async function loadPreprocessed(dir: string): Promise<PreprocessedCase> {
  const jsonPath = path.join(dir, "case.json");
  const json = JSON.parse(await fs.readFile(jsonPath, "utf8")) as Partial<CaseJson>;
  if (json.format !== FORMAT || json.version !== VERSION) {
    throw new Error(
      `${jsonPath} is not a fancl preprocessed case of version ${VERSION} (format ${String(json.format)}, ` +
        `version ${String(json.version)}); preprocess the case again`,
    );
  }
  const { id, modalities, shape, spacing, hasLabel, meta } = json as CaseJson;
  const voxels = shape[0] * shape[1] * shape[2];

  const imagePath = path.join(dir, "image.f32");
  const imageBytes = await fs.readFile(imagePath);
  const expectedBytes = voxels * modalities.length * 4;
  if (imageBytes.length !== expectedBytes) {
    throw new Error(
      `${imagePath} has ${imageBytes.length} bytes but case.json records ${shape.join("x")} voxels × ` +
        `${modalities.length} modalities × 4 = ${expectedBytes}; the folder is damaged, preprocess the case again`,
    );
  }
  const image = float32FromBytes(imageBytes);

  let label: Uint8Array | undefined;
  if (hasLabel) {
    const labelPath = path.join(dir, "label.u8");
    const labelBytes = await fs.readFile(labelPath);
    if (labelBytes.length !== voxels) {
      throw new Error(
        `${labelPath} has ${labelBytes.length} bytes but case.json records ${shape.join("x")} = ${voxels} voxels; ` +
          "the folder is damaged, preprocess the case again",
      );
    }
    label = new Uint8Array(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength).slice();
  }

  return { id, modalities, shape, spacing, image, ...(label === undefined ? {} : { label }), meta };
}
