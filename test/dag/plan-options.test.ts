import { describe, expect, it } from "vitest";
import type { VerbSpec } from "../../dag/cli/options.js";
import { UsageError, parseCommandLine, runVerb, usageText } from "../../dag/cli/options.js";

const verb: VerbSpec = {
  name: "run",
  summary: "Run an experiment",
  arguments: "FILE",
  minPositionals: 1,
  maxPositionals: 1,
  options: { executor: { type: "string", value: "NAME", description: "local or slurm" } },
  globals: ["jobs", "dry-run", "force", "keep-going", "set", "gpus"],
};

/** A verb that only reads the store, like `fancl runs`: it honours no run option. */
const listing: VerbSpec = {
  name: "runs",
  summary: "List runs",
  arguments: "",
  maxPositionals: 0,
  options: { limit: { type: "string", value: "N", description: "show at most N runs" } },
};

/** Every global option a run honours and a listing verb must neither show nor accept. */
const runOnly = [
  ["--jobs", "4"],
  ["--dry-run"],
  ["--force", "train"],
  ["--keep-going"],
  ["--set", "a.b=1"],
  ["--gpus", "0"],
];

describe("parseCommandLine", () => {
  it("gives defaults when no option is given", () => {
    const parsed = parseCommandLine(verb, ["exp.yaml"]);
    expect(parsed.global).toEqual({ store: "runs", jobs: undefined, dryRun: false, force: [], keepGoing: false, set: [], gpus: undefined, help: false });
    expect(parsed.positionals).toEqual(["exp.yaml"]);
    expect(parsed.options).toEqual({ executor: undefined });
  });

  it("reads every global option, both spellings of values, and repeats in order", () => {
    const parsed = parseCommandLine(verb, [
      "--store=/tmp/s", "--jobs", "4", "--dry-run", "--force", "train", "--force=predict", "--keep-going",
      "--set", "a.b=1", "--set=c=x=y", "--gpus", "0,2", "exp.yaml", "--executor", "slurm",
    ]);
    expect(parsed.global).toEqual({
      store: "/tmp/s", jobs: 4, dryRun: true, force: ["train", "predict"], keepGoing: true,
      set: ["a.b=1", "c=x=y"], gpus: [0, 2], help: false,
    });
    expect(parsed.options).toEqual({ executor: "slurm" });
  });

  it("reads an empty --gpus as no GPUs", () => {
    expect(parseCommandLine(verb, ["--gpus=", "f"]).global.gpus).toEqual([]);
  });

  it("treats everything after -- as positional", () => {
    expect(parseCommandLine(verb, ["--", "--odd-name.yaml"]).positionals).toEqual(["--odd-name.yaml"]);
  });

  it("accepts -h and --help without the positional arguments", () => {
    expect(parseCommandLine(verb, ["-h"]).global.help).toBe(true);
    expect(parseCommandLine(verb, ["--help"]).global.help).toBe(true);
  });

  it("suggests the closest option for an unknown one", () => {
    expect(() => parseCommandLine(verb, ["f", "--keep-goign"])).toThrow('run: unknown option "--keep-goign" (did you mean "--keep-going"?)');
  });

  it("rejects a bad --jobs, --gpus and --set", () => {
    expect(() => parseCommandLine(verb, ["f", "--jobs", "0"])).toThrow('--jobs must be a positive whole number, found "0"');
    expect(() => parseCommandLine(verb, ["f", "--gpus", "0,a"])).toThrow('found "0,a"');
    expect(() => parseCommandLine(verb, ["f", "--set", "novalue"])).toThrow('--set needs KEY=VALUE with a dotted key (e.g. --set a.b=1), found "novalue"');
  });

  it("rejects an option without its value, and a value given to a flag", () => {
    expect(() => parseCommandLine(verb, ["f", "--store"])).toThrow("option --store needs a value: --store DIR");
    expect(() => parseCommandLine(verb, ["f", "--dry-run=yes"])).toThrow('option --dry-run takes no value, found "yes"');
  });

  it("checks the number of positional arguments", () => {
    expect(() => parseCommandLine(verb, ["a", "b"])).toThrow(UsageError);
    expect(() => parseCommandLine(verb, ["a", "b"])).toThrow('run: expected FILE, found "a" "b"');
  });
});

describe("usageText", () => {
  it("shows the usage line, the verb's options, then the global ones", () => {
    const text = usageText(verb);
    expect(text.split("\n")[0]).toBe("usage: fancl run [options] FILE");
    expect(text.indexOf("--executor NAME")).toBeGreaterThan(0);
    expect(text.indexOf("global options:")).toBeGreaterThan(text.indexOf("--executor NAME"));
    for (const option of ["--store DIR", "--jobs N", "--dry-run", "--force KIND", "--keep-going", "--set a.b=VALUE", "--gpus 0,1", "--help"]) {
      expect(text).toContain(option);
    }
  });
});

describe("global options a verb does not honour", () => {
  it("are left out of its help", () => {
    const text = usageText(listing);
    for (const [option] of runOnly) expect(text).not.toContain(option!);
    expect(text).toContain("--store DIR");
    expect(text).toContain("--limit N");
    expect(text).toContain("--help");
  });

  it("are rejected with a usage error naming the verb's options", () => {
    for (const argv of runOnly) {
      expect(() => parseCommandLine(listing, argv)).toThrow(UsageError);
      expect(() => parseCommandLine(listing, argv)).toThrow(`runs: option ${argv[0]} does not apply to fancl runs, which takes only --store, --help, --limit`);
    }
  });

  it("are still accepted by the verb that honours them", () => {
    for (const argv of runOnly) expect(() => parseCommandLine(verb, ["f", ...argv])).not.toThrow();
  });
});

describe("runVerb", () => {
  it("returns 2 on a usage error", async () => {
    let err = "";
    let called = false;
    const code = await runVerb(verb, ["--nope"], async () => ((called = true), 0), { out: () => {}, err: (t) => void (err += t) });
    expect(code).toBe(2);
    expect(called).toBe(false);
    expect(err).toContain('unknown option "--nope"');
  });
});
