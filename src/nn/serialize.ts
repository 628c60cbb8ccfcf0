/**
 * Saving and loading a segmentation network in TensorFlow.js's weights format, with plain `fs`
 * (no tfjs-node): `model.json` contains the format tag, the NetworkConfig and the weightsManifest
 * that `tf.io.encodeWeights` describes, and `weights.bin` contains the float32 weights, concatenated in
 * the manifest's order.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

import type { WeightSource } from "./layers.js";
import { buildNetwork, validateNetworkConfig, type NetworkConfig, type SegmentationNetwork } from "./network.js";

/** The `format` field of a fancl model.json. */
export const MODEL_FORMAT = "fancl-segmentation-network";
export const MODEL_FORMAT_VERSION = 1;

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

interface ModelJson {
  readonly format: string;
  readonly formatVersion: number;
  readonly config: NetworkConfig;
  readonly weightsManifest: tf.io.WeightsManifestConfig;
}

/** Writes `dir/model.json` and `dir/weights.bin`, creating `dir` if needed. */
export async function saveNetwork(net: SegmentationNetwork, dir: string): Promise<void> {
  const named: tf.NamedTensorMap = Object.fromEntries(net.namedVariables.map(([name, variable]) => [name, variable]));
  const { data, specs } = await tf.io.encodeWeights(named);
  const model: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config: net.config,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };

  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, WEIGHTS_FILE), new Uint8Array(data as ArrayBuffer));
  await writeFile(path.join(dir, MODEL_FILE), JSON.stringify(model, null, 2) + "\n");
}

/** Reads a network that `saveNetwork` wrote into `dir`. */
export async function loadNetwork(dir: string): Promise<SegmentationNetwork> {
  const modelPath = path.join(dir, MODEL_FILE);
  const model = parseModelJson(await readFile(modelPath, "utf8"), modelPath);

  // The manifest may list several files; they are one byte stream in order, as TF.js reads them.
  const parts: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of model.weightsManifest) {
    for (const file of group.paths) parts.push(await readFile(path.join(dir, file)));
    specs.push(...group.weights);
  }
  const bytes = concatBytes(parts);
  const decoded = tf.io.decodeWeights(bytes.buffer as ArrayBuffer, specs);

  const used = new Set<string>();
  const source: WeightSource = (name, shape) => {
    const tensor = decoded[name];
    if (tensor === undefined) {
      throw new Error(`${modelPath} has no weight ${name}; it was written for a different network topology`);
    }
    if (tensor.shape.join("x") !== shape.join("x")) {
      throw new Error(`${modelPath}: weight ${name} is ${tensor.shape.join("x")} but its config needs ${shape.join("x")}`);
    }
    used.add(name);
    return tf.clone(tensor);
  };

  try {
    const net = buildNetwork(model.config, source);
    const unused = Object.keys(decoded).filter((name) => !used.has(name));
    if (unused.length > 0) {
      net.dispose();
      throw new Error(`${modelPath} has weights its config does not use: ${unused.join(", ")}; the file is inconsistent`);
    }
    return net;
  } finally {
    tf.dispose(decoded);
  }
}

function parseModelJson(text: string, file: string): ModelJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const model = parsed as Partial<ModelJson>;
  if (model.format !== MODEL_FORMAT) {
    throw new Error(`${file} has format ${JSON.stringify(model.format)}, expected "${MODEL_FORMAT}"; it is not a fancl network`);
  }
  if (model.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new Error(
      `${file} has formatVersion ${JSON.stringify(model.formatVersion)}; this fancl reads version ${MODEL_FORMAT_VERSION}`,
    );
  }
  if (model.config === undefined || !Array.isArray(model.weightsManifest)) {
    throw new Error(`${file} lacks "config" or "weightsManifest"; save the network again with saveNetwork`);
  }
  validateNetworkConfig(model.config);
  return model as ModelJson;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
