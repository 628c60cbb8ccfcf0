/**
 * `fancl predict`: segments one case folder with a trained model, given as a train node's key (or
 * a prefix of it) in the store, or as a model folder.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

import { UsageError, type Command } from "../../src/cli/command.js";

const usage = `Usage: fancl predict --model KEY|DIR --case DIR --out FILE.nii.gz [--store DIR] [--mirror]

Segments the case folder DIR (BraTS-METS 2023 or legacy BraTS layout; no segmentation needed)
with a trained model and writes a label map (0 background, 1 NETC, 2 SNFH, 3 ET) on the case's
own grid, with its geometry.

  --model KEY|DIR   a train node's key or key prefix (see \`fancl plan\`), or a model folder
  --case DIR        the case folder holding the four modalities
  --out FILE        the output .nii.gz
  --store DIR       the store holding the model (default runs/)
  --mirror          average the prediction over mirrored inputs (slower, smoother)
  --backend NAME    auto, tensorflow-gpu, tensorflow, wasm or cpu (default auto)
`;

/**
 * A model folder, or a train node's key or key prefix resolved as `fancl show` resolves it; a
 * folder of that name wins over a key.
 */
async function resolveModelDir(model: string, storeRoot: string): Promise<string> {
  if (existsSync(path.join(model, "model.json"))) return path.resolve(model);
  if (existsSync(path.join(model, "model", "model.json"))) return path.resolve(model, "model");
  if (!/^[0-9a-fA-F]{1,64}$/.test(model)) {
    throw new UsageError(
      `--model ${model} is neither a model folder (with model.json) nor a node key; give a train node's key from \`fancl plan\``,
    );
  }
  const { Store } = await import("../../dag/store/store.js");
  const store = await Store.openExisting(storeRoot);
  try {
    const key = await store.resolveKeyPrefix(model).catch((error: Error) => {
      const folder = existsSync(model) ? `the folder ${model} has no model.json, and ` : "";
      throw new UsageError(`--model ${model}: ${folder}${error.message}; list the train nodes' keys with \`fancl plan FILE\``);
    });
    const manifest = await store.manifest(key);
    if (manifest?.kind !== "train") {
      throw new UsageError(
        `--model ${model}: node ${key.slice(0, 12)} is of kind ${manifest?.kind ?? "unknown"}, not train; ` +
          "give the key of a train node from `fancl plan FILE`",
      );
    }
    return path.join(store.nodeDir(key), "model");
  } finally {
    await store.close();
  }
}

/**
 * Checks that the case folder exists and contains the four modality files, before the model and the
 * tensor backend are loaded.
 */
async function checkCaseDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    throw new UsageError(`--case ${dir}: folder not found; give the folder that contains the case's four modality files`);
  }
  if (!info.isDirectory()) {
    throw new UsageError(`--case ${dir} is a file, not a folder; give the folder that contains the case's four modality files`);
  }

  const { caseFiles } = await import("../../src/data/dataset.js");
  const files = await caseFiles(dir).catch((error: unknown) => {
    throw new UsageError(`--case ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (files === undefined) {
    throw new UsageError(
      `--case ${dir}: no case images found; give a folder with BraTS 2023 -t1n/-t1c/-t2w/-t2f or ` +
        "BraTS 2018 _t1/_t1ce/_t2/_flair .nii.gz files",
    );
  }
}

export const predictCommand: Command = {
  name: "predict",
  summary: "segment one case folder with a trained model",
  usage,
  run: async (argv) => {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: "string" },
        case: { type: "string" },
        out: { type: "string" },
        store: { type: "string", default: "runs" },
        mirror: { type: "boolean", default: false },
        backend: { type: "string", default: "auto" },
      },
      strict: true,
    });
    if (values.model === undefined || values.case === undefined || values.out === undefined) {
      throw new UsageError(`--model, --case and --out are required\n\n${usage}`);
    }
    if (!values.out.endsWith(".nii.gz")) {
      throw new UsageError(`--out ${values.out} must end in .nii.gz`);
    }
    await checkCaseDir(values.case);
    const modelDir = await resolveModelDir(values.model, values.store);

    const { initBackend } = await import("../../src/tensor/backend.js");
    // The backends skipped on the way (native packages not installed) are not worth a line each.
    await initBackend(values.backend as Parameters<typeof initBackend>[0], (line) => {
      if (!line.includes("not available")) process.stderr.write(line + "\n");
    });
    const { segmentCase } = await import("../../src/infer/segment-case.js");
    const { drawProgress } = await import("./progress.js");
    const progress = drawProgress(`predict ${path.basename(values.case)}`);
    await segmentCase(modelDir, values.case, values.out, { mirror: values.mirror, onProgress: progress.update });
    progress.done();
    process.stdout.write(`${values.out}\n`);
    return 0;
  },
};
