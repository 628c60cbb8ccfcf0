/**
 * A small seeded pseudo-random generator whose whole state is one 32-bit integer, so a
 * checkpoint can store it and a resumed training draws the same numbers as an uninterrupted
 * one. The generator is mulberry32; normal deviates come from the Box–Muller transform and
 * use no cached second value, so the state stays a single number.
 */

export class Random {
  private state: number;

  /** `seed` is any finite number; it is reduced to an unsigned 32-bit integer. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new Error(`Random: seed ${seed} is not a finite number; pass an integer seed`);
    }
    this.state = seed >>> 0;
  }

  /** Returns the state to store in a checkpoint. `Random.fromState` continues the same sequence. */
  getState(): number {
    return this.state;
  }

  static fromState(state: number): Random {
    return new Random(state);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n); n must be a positive integer. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`Random.int: n = ${n}; it must be a positive integer`);
    }
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Draws a standard normal deviate (mean 0, sd 1). */
  normal(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
