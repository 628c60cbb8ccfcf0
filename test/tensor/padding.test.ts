import { describe, expect, it } from "vitest";
import { samePadding } from "../../src/tensor/padding.js";

// Hand computations of out = ceil(size / stride), total = (out - 1) * stride + kernel - size,
// before = floor(total / 2), after = total - before.
describe("samePadding", () => {
  it("kernel 3 stride 1 pads one each side", () => {
    // out 5, total 4 * 1 + 3 - 5 = 2
    expect(samePadding(5, 3, 1)).toEqual({ out: 5, before: 1, after: 1 });
  });

  it("kernel 3 stride 2 even size pads at the end", () => {
    // out 4, total 3 * 2 + 3 - 8 = 1
    expect(samePadding(8, 3, 2)).toEqual({ out: 4, before: 0, after: 1 });
  });

  it("kernel 3 stride 2 odd size pads both sides", () => {
    // out 4, total 3 * 2 + 3 - 7 = 2
    expect(samePadding(7, 3, 2)).toEqual({ out: 4, before: 1, after: 1 });
  });

  it("kernel 1 stride 2 even size skips one voxel", () => {
    // out 3, total 2 * 2 + 1 - 6 = -1, floor(-1 / 2) = -1
    expect(samePadding(6, 1, 2)).toEqual({ out: 3, before: -1, after: 0 });
  });
});
