"""nibabel's side of `npm run bench:nifti`: load a case's images and segmentation.

Usage: load_nibabel.py serve FILE...    -> for each line read on stdin, one timed load of the
                                          FILEs, then one output line: the seconds it took
       load_nibabel.py memory FILE...   -> JSON {"baselineRssBytes", "peakRssBytes"}

A load is nib.load(f).get_fdata(dtype=np.float32) for every FILE, keeping the arrays as a
loader would. "serve" lets the caller interleave nibabel's runs with its own, so both see the
same machine load.
"""
import json
import resource
import sys
import time

import nibabel as nib
import numpy as np


def load(files):
    return [nib.load(f).get_fdata(dtype=np.float32) for f in files]


def current_rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def main():
    mode = sys.argv[1]
    if mode == "serve":
        files = sys.argv[2:]
        for _ in sys.stdin:
            start = time.perf_counter()
            arrays = load(files)
            seconds = time.perf_counter() - start
            del arrays
            print(seconds, flush=True)
    elif mode == "memory":
        files = sys.argv[2:]
        baseline = current_rss_bytes()
        arrays = load(files)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"baselineRssBytes": baseline, "peakRssBytes": peak, "arrays": len(arrays)}))
    else:
        raise SystemExit(f"invalid mode {mode}; use serve or memory")


if __name__ == "__main__":
    main()
