/** Deterministic pseudo-random numbers in [0, 1) for tests (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds a random blob mask: the voxels within a random radius of a few random centres. */
export function randomBlobs(next: () => number, dims: [number, number, number], blobs: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const mask = new Uint8Array(nx * ny * nz);
  for (let b = 0; b < blobs; b++) {
    const cx = next() * nx, cy = next() * ny, cz = next() * nz, r = 1 + next() * 3;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r * r) mask[(z * ny + y) * nx + x] = 1;
    }
  }
  return mask;
}
