/** kFoldSplit: partition, balance, determinism, order independence and bad arguments. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";

import { SplitError } from "../../src/data/errors.js";
import { kFoldSplit } from "../../src/data/split.js";

const ids = Array.from({ length: 23 }, (_, i) => `BraTS-MET-${String(i).padStart(5, "0")}-000`);

describe("kFoldSplit", () => {
  it("holds every case out exactly once", () => {
    const folds = kFoldSplit(ids, 5, 42);
    expect(folds.flat().sort()).toEqual([...ids].sort());
  });

  it("gives fold sizes that differ by at most one (23 cases in 5 folds: 5,5,5,4,4)", () => {
    const sizes = kFoldSplit(ids, 5, 42).map((f) => f.length).sort().reverse();
    expect(sizes).toEqual([5, 5, 5, 4, 4]);
  });

  it("is the same for the same seed and for any input order", () => {
    const shuffled = [...ids].reverse();
    expect(kFoldSplit(shuffled, 5, 7)).toEqual(kFoldSplit(ids, 5, 7));
  });

  it("changes with the seed", () => {
    expect(kFoldSplit(ids, 5, 1)).not.toEqual(kFoldSplit(ids, 5, 2));
  });

  it("orders cases by SHA-256 of seed:id and deals them round-robin", () => {
    // Three ids, k = 2: rank them by the hash computed here with node:crypto directly.
    const three = ["a", "b", "c"];
    const ranked = [...three].sort((x, y) => {
      const hx = createHash("sha256").update(`9:${x}`).digest("hex");
      const hy = createHash("sha256").update(`9:${y}`).digest("hex");
      return hx < hy ? -1 : 1;
    });
    expect(kFoldSplit(three, 2, 9)).toEqual([[ranked[0]!, ranked[2]!].sort(), [ranked[1]!]]);
  });

  it("rejects k below 2, more folds than cases, and duplicate ids", () => {
    expect(() => kFoldSplit(ids, 1, 0)).toThrow(SplitError);
    expect(() => kFoldSplit(["a", "b"], 3, 0)).toThrow(/3 folds need at least 3 cases but there are 2/);
    expect(() => kFoldSplit(["a", "b", "a"], 2, 0)).toThrow(/case id a appears twice/);
  });
});
