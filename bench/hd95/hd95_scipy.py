"""Peer of bench/hd95/run.ts: HD95 (medpy definition) with scipy on the full volume.

Usage: hd95_scipy.py RUNS GT PRED
Prints JSON {"versions": {...}, "regions": {ET|TC|WT: {"seconds": [...], "cpu_seconds": [...],
"hd95": value}}}, with wall-clock and process CPU time of each run.
Surfaces are mask minus its binary_erosion with the 6-connected element; distances come from
distance_transform_edt over the whole 240x240x155 volume with sampling = the ground-truth
spacing, as REFERENCE.md describes. Only the HD95 computation is timed, not file loading.
"""
import json
import sys
import time

import nibabel as nib
import numpy as np
import scipy
from scipy import ndimage

REGIONS = {"ET": (3,), "TC": (1, 3), "WT": (1, 2, 3)}


def hd95(gt, pred, spacing):
    element = ndimage.generate_binary_structure(3, 1)
    gt_surface = gt ^ ndimage.binary_erosion(gt, structure=element, iterations=1)
    pred_surface = pred ^ ndimage.binary_erosion(pred, structure=element, iterations=1)
    to_gt = ndimage.distance_transform_edt(~gt_surface, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~pred_surface, sampling=spacing)
    pooled = np.hstack((to_gt[pred_surface], to_pred[gt_surface]))
    return float(np.percentile(pooled, 95))


def labels(path):
    data = np.asarray(nib.load(path).dataobj).astype(np.int16)
    data[data == 4] = 3
    return data


def main():
    runs, gt_path, pred_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    gt_labels, pred_labels = labels(gt_path), labels(pred_path)
    spacing = tuple(float(s) for s in nib.load(gt_path).header.get_zooms()[:3])
    out = {"versions": {"scipy": scipy.__version__, "numpy": np.__version__}, "regions": {}}
    for name, values in REGIONS.items():
        gt, pred = np.isin(gt_labels, values), np.isin(pred_labels, values)
        seconds, cpu_seconds, value = [], [], None
        for _ in range(runs):
            start, cpu_start = time.perf_counter(), time.process_time()
            value = hd95(gt, pred, spacing)
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
        out["regions"][name] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "hd95": value}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
