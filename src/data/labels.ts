/**
 * Label conventions of BraTS segmentations. From 2023 on: 0 background, 1 NETC (necrotic and
 * non-enhancing core), 2 SNFH (edema), 3 ET (enhancing tumour). BraTS 2018-2021 used 4 for ET
 * and no 3; such maps are converted to the 2023 labels.
 */
import type { LabelVolume } from "../nifti/types.js";
import { InvalidLabelError, MixedLabelConventionError } from "./errors.js";

/** Label used for enhancing tumour before BraTS 2023. */
export const legacyEnhancingLabel = 4;

/** Largest label of the 2023 convention. */
export const maxLabel = 3;

export interface NormalisedLabels {
  /** The map with labels in {0, 1, 2, 3}: the input itself when nothing changed. */
  readonly labels: LabelVolume;
  /** One line per conversion made, for the log and the dataset record. */
  readonly notices: readonly string[];
  /** True when legacy label 4 was mapped to 3. */
  readonly legacy: boolean;
}

/**
 * Brings a segmentation to the 2023 labels. A map with 4 and no 3 has 4 mapped to 3, with a
 * notice. A map with both is a MixedLabelConventionError. Any other label above 3 is an
 * InvalidLabelError naming the value and its voxel count. `caseId` is used in messages.
 */
export function normaliseLabels(volume: LabelVolume, caseId: string): NormalisedLabels {
  const counts = new Uint32Array(256);
  const data = volume.data;
  for (let i = 0; i < data.length; i++) counts[data[i]!]! += 1;

  const hasLegacy = counts[legacyEnhancingLabel]! > 0;
  if (hasLegacy && counts[maxLabel]! > 0) {
    throw new MixedLabelConventionError(caseId, volume.path);
  }
  for (let value = maxLabel + 1; value < 256; value++) {
    if (counts[value]! > 0 && value !== legacyEnhancingLabel) {
      throw new InvalidLabelError(caseId, volume.path, value, counts[value]!);
    }
  }
  if (!hasLegacy) {
    return { labels: volume, notices: [], legacy: false };
  }

  const mapped = data.slice();
  for (let i = 0; i < mapped.length; i++) {
    if (mapped[i] === legacyEnhancingLabel) mapped[i] = maxLabel;
  }
  const notice =
    `case ${caseId}: ${volume.path} uses the legacy label 4 for enhancing tumour ` +
    `(${counts[legacyEnhancingLabel]} voxels); mapped to 3`;
  return { labels: { ...volume, data: mapped }, notices: [notice], legacy: true };
}
