import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, describe, expect, it, vi } from "vitest";

import { synthCommand } from "../../src/cli/synth.js";
import { readVolume } from "../../src/nifti/read.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("synthCommand", () => {
  it("writes the requested cases with the given shape and spacing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fancl-synth-cli-"));
    dirs.push(dir);
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const code = await synthCommand.run(["--out", dir, "--cases", "2", "--seed", "5", "--shape", "16,20,24", "--spacing", "2.5"]);
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect((await readdir(dir)).sort()).toEqual(["SYN-00000-000", "SYN-00001-000"]);
    const t2f = await readVolume(path.join(dir, "SYN-00001-000", "SYN-00001-000-t2f.nii.gz"));
    expect(t2f.geometry.dims).toEqual([24, 20, 16]);
    expect(t2f.geometry.spacing).toEqual([2.5, 2.5, 2.5]);
  });

  it.each([
    [["--cases", "2", "--seed", "1"], /--out DIR is required/],
    [["--out", "x", "--seed", "1"], /--cases is required/],
    [["--out", "x", "--cases", "two", "--seed", "1"], /--cases two is not a whole number/],
    [["--out", "x", "--cases", "2", "--seed=-3"], /--seed -3 is not a whole number in \[0, 4294967295\]/],
    [["--out", "x", "--cases", "2", "--seed", "4294967296"], /--seed 4294967296 is not a whole number/],
    [["--out", "x", "--cases", "2", "--seed", "1", "--shape", "64,96"], /--shape 64,96 is not three whole numbers D,H,W/],
    [["--out", "x", "--cases", "2", "--seed", "1", "--spacing", "0"], /--spacing 0 is not a positive size in mm/],
    [["--out", "x", "--cases", "2", "--seed", "1", "--colour", "red"], /Unknown option '--colour'/],
  ])("rejects %j with a usage error", async (argv, message) => {
    const run = synthCommand.run(argv);
    await expect(run).rejects.toThrow(message);
    await expect(run).rejects.toHaveProperty("name", "UsageError");
  });
});
