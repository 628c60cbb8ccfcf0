/**
 * Surface elements ("surfels") on the grid of voxel corners, as the BraTS 2023 lesion-wise
 * HD95 uses them. A corner is a surface element when its 2×2×2 neighbourhood of voxels is
 * neither all inside nor all outside the mask. Its area comes from the iso-surface of that
 * neighbourhood, scaled by the spacing.
 *
 * Neighbourhood code: the voxel at offset (a, b, c) ∈ {0, 1}³ from the corner's lower voxel
 * (a along x, b along y, c along z) sets bit 7 − (4a + 2b + c), so (0, 0, 0) is 128 and
 * (1, 1, 1) is 1.
 *
 * Area of a code: the iso-surface at level 1/2 of the eight corner values is cut into polygons
 * whose vertices are the midpoints of the cube edges that join an inside and an outside corner.
 * On a face with two diagonal inside corners the polygons cut off the corners of the minority
 * class of the cube (inside when at most four corners are inside), so a code and its
 * complement get the same surface. Each polygon is split, without new vertices, into the
 * triangles of largest total area at 1 mm. A triangle's area vector has its x, y and z components
 * scaled by dy·dz, dx·dz and dx·dy, and the element's area is the sum of their lengths.
 *
 * The official code reads the triangles from a fixed marching-cubes table instead. This rule is
 * a reconstruction: planar cases (a corner, an edge, a face) agree by construction, and with it
 * every legacy and lesion-wise HD95 of the BraTS 2018 reference cases matches the official
 * values; equality on all 256 codes, and under anisotropic spacing, is not proven.
 */

type Vec = [number, number, number];

/** Cube edges (12) as pairs of corner indices, with corner index 4a + 2b + c. */
const EDGES: readonly (readonly [number, number])[] = (() => {
  const edges: [number, number][] = [];
  for (let p = 0; p < 8; p++) for (const bit of [4, 2, 1]) if ((p & bit) === 0) edges.push([p, p | bit]);
  return edges;
})();

/** Cube faces (6) as corner indices in cyclic order. */
const FACES: readonly (readonly number[])[] = (() => {
  const faces: number[][] = [];
  for (const [bit, u, v] of [[4, 2, 1], [2, 4, 1], [1, 4, 2]] as const) {
    for (const side of [0, bit]) faces.push([side, side | u, side | u | v, side | v]);
  }
  return faces;
})();

function cornerPosition(p: number): Vec {
  return [(p >> 2) & 1, (p >> 1) & 1, p & 1];
}

function edgeIndex(p: number, q: number): number {
  return EDGES.findIndex(([a, b]) => (a === p && b === q) || (a === q && b === p));
}

/** Inside flags of the 8 corners (index 4a + 2b + c) for a neighbourhood code. */
function insideCorners(code: number): boolean[] {
  return Array.from({ length: 8 }, (_, p) => ((code >> (7 - p)) & 1) === 1);
}

/** Iso-surface polygons of a code, each as the cycle of its crossing-edge indices. */
function polygons(code: number): number[][] {
  const inside = insideCorners(code);
  const insideCount = inside.filter(Boolean).length;
  const separated = insideCount <= 4;

  // Segments on each face, joining two crossing-edge midpoints.
  const links = new Map<number, number[]>();
  const link = (e: number, f: number) => {
    links.set(e, [...(links.get(e) ?? []), f]);
    links.set(f, [...(links.get(f) ?? []), e]);
  };
  for (const face of FACES) {
    const crossing: number[] = [];
    for (let k = 0; k < 4; k++) {
      const p = face[k]!, q = face[(k + 1) % 4]!;
      if (inside[p] !== inside[q]) crossing.push(edgeIndex(p, q));
    }
    if (crossing.length === 2) link(crossing[0]!, crossing[1]!);
    if (crossing.length === 4) {
      // Two diagonal corners of the minority class: cut each off on its own.
      for (let k = 0; k < 4; k++) {
        const p = face[k]!;
        if (inside[p] !== separated) continue;
        link(edgeIndex(face[(k + 3) % 4]!, p), edgeIndex(p, face[(k + 1) % 4]!));
      }
    }
  }

  // Every crossing edge has two links; walk the cycles.
  const seen = new Set<number>();
  const cycles: number[][] = [];
  for (const start of [...links.keys()].sort((a, b) => a - b)) {
    if (seen.has(start)) continue;
    const cycle = [start];
    seen.add(start);
    let previous = -1;
    let current = start;
    for (;;) {
      const next = links.get(current)!.find((e) => e !== previous)!;
      if (next === start) break;
      cycle.push(next);
      seen.add(next);
      previous = current;
      current = next;
    }
    cycles.push(cycle);
  }
  return cycles;
}

/** Enumerates every triangulation of the polygon with vertices `indices` in cyclic order. */
function triangulations(indices: number[]): number[][][] {
  if (indices.length < 3) return [[]];
  if (indices.length === 3) return [[[indices[0]!, indices[1]!, indices[2]!]]];
  const out: number[][][] = [];
  const first = indices[0]!, last = indices[indices.length - 1]!;
  for (let k = 1; k < indices.length - 1; k++) {
    for (const left of triangulations(indices.slice(0, k + 1))) {
      for (const right of triangulations(indices.slice(k))) out.push([...left, [first, indices[k]!, last], ...right]);
    }
  }
  return out;
}

function cross(a: Vec, b: Vec, c: Vec): Vec {
  const u = sub(b, a), v = sub(c, a);
  return [(u[1] * v[2] - u[2] * v[1]) / 2, (u[2] * v[0] - u[0] * v[2]) / 2, (u[0] * v[1] - u[1] * v[0]) / 2];
}

/**
 * Area vectors (unit cube) of the triangles of a code's surface: each polygon split, without
 * new vertices, into the triangles of largest total area (first found among equals).
 */
function triangleNormals(code: number): Vec[] {
  const normals: Vec[] = [];
  for (const cycle of polygons(code)) {
    const points = cycle.map((e) => {
      const [p, q] = EDGES[e]!;
      const a = cornerPosition(p), b = cornerPosition(q);
      return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2] as Vec;
    });
    let best: Vec[] = [];
    let bestArea = -Infinity;
    for (const triangles of triangulations(points.map((_, k) => k))) {
      const candidate = triangles.map(([a, b, c]) => cross(points[a!]!, points[b!]!, points[c!]!));
      const area = candidate.reduce((sum, n) => sum + Math.hypot(...n), 0);
      if (area > bestArea + 1e-12) {
        best = candidate;
        bestArea = area;
      }
    }
    normals.push(...best);
  }
  return normals;
}

function sub(a: Vec, b: Vec): Vec {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

const NORMALS: readonly Vec[][] = Array.from({ length: 256 }, (_, code) => triangleNormals(code));

/** Area in mm² of the surface element of each of the 256 codes, for spacing [dx, dy, dz] mm. */
export function surfelAreaTable(spacing: readonly [number, number, number]): Float64Array {
  const [dx, dy, dz] = spacing;
  const table = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    let area = 0;
    for (const n of NORMALS[code]!) area += Math.hypot(n[0] * dy * dz, n[1] * dx * dz, n[2] * dx * dy);
    table[code] = area;
  }
  return table;
}
