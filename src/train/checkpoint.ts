/**
 * Training checkpoints. One file, `checkpoint.bin`, contains everything needed to continue a
 * training exactly where it stopped: the network's variables, the optimiser's velocities, the
 * next epoch, the sampler's PRNG state and the curve so far. It is written to a temporary name
 * and renamed into place, so an interruption leaves the previous checkpoint or the new one.
 *
 * Layout: the 4 bytes "FCKP", a little-endian uint32 header length, the UTF-8 JSON header, zero
 * padding to a multiple of 4 bytes, then the float32 values of every variable followed by every
 * velocity, each flattened in its variable's order.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

import type { CurveEntry } from "./curve.js";

const MAGIC = "FCKP";
export const CHECKPOINT_FILE = "checkpoint.bin";

export interface Checkpoint {
  /** The first epoch still to run (0-based): epochs before it are complete. */
  readonly nextEpoch: number;
  readonly rngState: number;
  readonly curve: readonly CurveEntry[];
  /** Identifies the training the checkpoint belongs to (network, schedule, seed), as JSON. */
  readonly fingerprint: string;
  readonly variables: readonly Float32Array[];
  readonly velocities: readonly Float32Array[];
}

interface Header {
  readonly nextEpoch: number;
  readonly rngState: number;
  readonly curve: readonly CurveEntry[];
  readonly fingerprint: string;
  readonly variableSizes: readonly number[];
  readonly velocitySizes: readonly number[];
}

/** Writes `checkpoint` to `dir/checkpoint.bin` atomically (temporary file, then rename). */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const header: Header = {
    nextEpoch: checkpoint.nextEpoch,
    rngState: checkpoint.rngState,
    curve: checkpoint.curve,
    fingerprint: checkpoint.fingerprint,
    variableSizes: checkpoint.variables.map((v) => v.length),
    velocitySizes: checkpoint.velocities.map((v) => v.length),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const headerBytes = 8 + Math.ceil(json.length / 4) * 4;
  const arrays = [...checkpoint.variables, ...checkpoint.velocities];
  const values = arrays.reduce((n, a) => n + a.length, 0);

  const bytes = Buffer.alloc(headerBytes + values * 4);
  bytes.write(MAGIC, 0, "latin1");
  bytes.writeUInt32LE(json.length, 4);
  json.copy(bytes, 8);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset + headerBytes, values);
  let offset = 0;
  for (const a of arrays) {
    floats.set(a, offset);
    offset += a.length;
  }

  await fs.mkdir(dir, { recursive: true });
  const target = path.join(dir, CHECKPOINT_FILE);
  const temporary = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temporary, bytes);
  await fs.rename(temporary, target);
}

/** Reads `dir/checkpoint.bin`; undefined when there is none. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }

  if (bytes.length < 8 || bytes.toString("latin1", 0, 4) !== MAGIC) {
    throw new Error(`${file} is not a fancl checkpoint (no FCKP signature); delete it to start the training afresh`);
  }
  const jsonLength = bytes.readUInt32LE(4);
  const header = JSON.parse(bytes.toString("utf8", 8, 8 + jsonLength)) as Header;
  const headerBytes = 8 + Math.ceil(jsonLength / 4) * 4;
  const sizes = [...header.variableSizes, ...header.velocitySizes];
  const values = sizes.reduce((n, s) => n + s, 0);
  if (bytes.length !== headerBytes + values * 4) {
    throw new Error(
      `${file} has ${bytes.length} bytes but its header describes ${headerBytes + values * 4}; ` +
        "the file is damaged: delete it to start the training afresh",
    );
  }

  // Copy out of the file buffer so that every array is aligned and independent.
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset + headerBytes, bytes.byteOffset + bytes.length));
  let offset = 0;
  const arrays = sizes.map((s) => {
    const a = floats.slice(offset, offset + s);
    offset += s;
    return a;
  });
  return {
    nextEpoch: header.nextEpoch,
    rngState: header.rngState,
    curve: header.curve,
    fingerprint: header.fingerprint,
    variables: arrays.slice(0, header.variableSizes.length),
    velocities: arrays.slice(header.variableSizes.length),
  };
}
