/**
 * A small seeded pseudo-random generator for the synthetic cases.
 *
 * Each stream is keyed by (seed, case index, stream name), so case i draws the same numbers
 * whether 1 or 1000 cases are generated. Separate streams also keep the anatomy of a case
 * unchanged when the lesion code draws one more number. The generator is counter based: the state advances by
 * the 32-bit golden-ratio increment and each output is the state passed through the
 * MurmurHash3 32-bit finaliser, which is enough for image synthesis (not for cryptography).
 */

export interface Random {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number;
  /** Log-uniform in [lo, hi): the logarithm is uniform, so small values are as common per decade as large ones. */
  logUniform(lo: number, hi: number): number;
  /** Standard normal (mean 0, sd 1), by the Box–Muller transform. */
  normal(): number;
}

const GOLDEN_GAMMA = 0x9e3779b9;

/** Mixes a 32-bit integer with the MurmurHash3 finaliser, a bijection with good avalanche. */
function finalise32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hashes a stream name to 32 bits (FNV-1a), so streams are named in code rather than numbered. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * Creates the generator for one named stream of one case.
 * `seed` must be an integer in [0, 2^32), and `caseIndex` a non-negative integer below 2^32.
 */
export function caseRandom(seed: number, caseIndex: number, stream: string): Random {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(`invalid seed ${seed}: expected an integer in [0, 4294967295], e.g. 42`);
  }
  if (!Number.isInteger(caseIndex) || caseIndex < 0 || caseIndex >= 2 ** 32) {
    throw new RangeError(`invalid case index ${caseIndex}: expected an integer in [0, 4294967295]`);
  }

  // Chain the three keys through the finaliser so that nearby seeds and indices give unrelated states.
  let state = finalise32(finalise32(finalise32(seed ^ GOLDEN_GAMMA) ^ caseIndex) ^ hashName(stream));
  let spareNormal: number | null = null;

  const next = (): number => {
    state = (state + GOLDEN_GAMMA) >>> 0;
    return finalise32(state) / 4294967296;
  };

  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * next()),
    normal: () => {
      if (spareNormal !== null) {
        const value = spareNormal;
        spareNormal = null;
        return value;
      }
      // 1 - next() lies in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spareNormal = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}
