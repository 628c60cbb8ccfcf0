"""Python twin of bench/preprocess/run.ts: the same preprocessing steps with numpy and PyTorch.

Usage: python3 preprocess_torch.py RUNS TARGET_MM CASE_FOLDER
Prints JSON {"seconds": {step: [per-run seconds]}, "versions": ...}. PyTorch runs on one thread,
like Node. Crop and z-score use numpy, with scipy's binary_fill_holes on the
cropped non-zero mask as fancl does; resampling uses torch.nn.functional.interpolate with
trilinear (align_corners=False) for images and nearest-exact for labels, the grid convention
fancl uses.
"""
import json
import os
import sys
import time

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

torch.set_num_threads(1)

runs, target_mm, folder = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
case_id = os.path.basename(folder.rstrip("/"))
modalities = ["t1n", "t1c", "t2w", "t2f"]
# nibabel arrays are [x, y, z]; transpose to [z, y, x] so both sides work on the same layout.
images = [np.asarray(nib.load(f"{folder}/{case_id}-{m}.nii.gz").dataobj, dtype=np.float32).T.copy() for m in modalities]
seg = np.asarray(nib.load(f"{folder}/{case_id}-seg.nii.gz").dataobj).astype(np.uint8).T.copy()
spacing = 1.0


def crop_and_zscore():
    nonzero = np.zeros(images[0].shape, dtype=bool)
    for image in images:
        nonzero |= image != 0
    coords = np.nonzero(nonzero)
    box = tuple(slice(int(c.min()), int(c.max()) + 1) for c in coords)
    mask = ndimage.binary_fill_holes(nonzero[box])
    out = []
    for image in images:
        cropped = image[box].astype(np.float32)
        values = cropped[mask].astype(np.float64)
        mean, sd = values.mean(), values.std()
        normalised = ((cropped - mean) / max(sd, 1e-8)).astype(np.float32)
        normalised[~mask] = 0
        out.append(normalised)
    return box, out, seg[box]


def stack_channels_last(volumes):
    return np.ascontiguousarray(np.stack(volumes, axis=-1))


def resample(volumes, label, shape):
    tensor = torch.from_numpy(np.stack(volumes))[None]
    images_out = F.interpolate(tensor, size=shape, mode="trilinear", align_corners=False)[0]
    labels_out = F.interpolate(torch.from_numpy(label.astype(np.float32))[None, None], size=shape, mode="nearest-exact")
    return images_out.numpy(), labels_out[0, 0].numpy().astype(np.uint8)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def resample_full_grid(shape):
    tensor = torch.from_numpy(np.stack(images))[None]
    return np.ascontiguousarray(np.moveaxis(F.interpolate(tensor, size=shape, mode="trilinear", align_corners=False)[0].numpy(), 0, -1))


seconds = {"crop+zscore": [], "crop+zscore+resample": [], "restore": [], "resample full grid": []}
full_shape = tuple(max(1, round(n * spacing / target_mm)) for n in images[0].shape)
for run in range(runs + 1):
    def plain():
        box, normalised, label = crop_and_zscore()
        return box, stack_channels_last(normalised), label

    t_plain, (box, _, label) = timed(plain)
    cropped_shape = label.shape
    shape = tuple(max(1, round(n * spacing / target_mm)) for n in cropped_shape)

    def full():
        b, v, l = crop_and_zscore()
        images_out, labels_out = resample(v, l, shape)
        return b, np.ascontiguousarray(np.moveaxis(images_out, 0, -1)), labels_out

    t_full, (_, _, small_labels) = timed(full)

    def restore():
        back = F.interpolate(torch.from_numpy(small_labels.astype(np.float32))[None, None], size=cropped_shape, mode="nearest-exact")
        out = np.zeros(seg.shape, dtype=np.uint8)
        out[box] = back[0, 0].numpy().astype(np.uint8)
        return out

    t_restore, _ = timed(restore)
    t_grid, _ = timed(lambda: resample_full_grid(full_shape))
    if run > 0:  # the first run is a warm-up
        seconds["crop+zscore"].append(t_plain)
        seconds["crop+zscore+resample"].append(t_full)
        seconds["restore"].append(t_restore)
        seconds["resample full grid"].append(t_grid)

print(json.dumps({
    "seconds": seconds,
    "shape": list(images[0].shape),
    "resampledShape": list(shape),
    "fullGridShape": list(full_shape),
    "versions": {"torch": torch.__version__, "numpy": np.__version__, "scipy": __import__("scipy").__version__},
}))
