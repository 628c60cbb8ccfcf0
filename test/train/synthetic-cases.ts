/**
 * Training cases for the trainer's tests, made in memory from the synthetic generator and the
 * real preprocessing (crop to non-zero, z-score per modality).
 */
import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import type { Volume } from "../../src/nifti/types.js";
import { preprocessCase } from "../../src/preprocess/pipeline.js";
import { generateCase } from "../../src/synth/generate.js";
import type { TrainingCase } from "../../src/train/types.js";

export function syntheticTrainingCase(
  index: number,
  shape: readonly [number, number, number],
  spacingMm: number,
  seed = 2024,
): TrainingCase {
  const synthetic = generateCase(index, { seed, shape, spacing: spacingMm });
  const geometry = axisAlignedGeometry(synthetic.dims, synthetic.spacing);
  const images: Volume[] = synthetic.images.map((data, i) => ({
    path: `${synthetic.id}-${synthetic.modalities[i]}`,
    geometry,
    data,
    datatype: "float32",
  }));
  const preprocessed = preprocessCase({
    id: synthetic.id,
    modalities: synthetic.modalities,
    images,
    seg: { path: `${synthetic.id}-seg`, geometry, data: synthetic.seg },
  });
  return { id: preprocessed.id, image: preprocessed.image, label: preprocessed.label!, shape: preprocessed.shape };
}
