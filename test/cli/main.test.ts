/**
 * The `fancl` launcher and verb dispatch, through the built CLI (`npm run build` first): a reader
 * that closes the pipe early (of a quick verb and of a run), `--version`, suggestions for a
 * mistyped verb, and `synth`'s range.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = process.cwd();
const cli = path.join(repo, "bin", "fancl.js");
const quickstart = path.join(repo, "experiments", "quickstart.yaml");

function fancl(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs the CLI with its stdout pipe closed by the reader before the CLI writes (what `| head -1`
 * does once it has its line) and returns the exit code and stderr.
 */
function withClosedStdout(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("a closed stdout", () => {
  let store: string;
  beforeAll(() => {
    store = mkdtempSync(path.join(os.tmpdir(), "cli-fix-pipe-"));
  });
  afterAll(() => rmSync(store, { recursive: true, force: true }));

  const verbs: Record<string, () => string[]> = {
    "plan --json": () => ["plan", quickstart, "--json", "--store", store],
    "--help": () => ["--help"],
    "show --help": () => ["show", "--help"],
    "info --help": () => ["info", "--help"],
    "--version": () => ["--version"],
  };
  for (const [name, args] of Object.entries(verbs)) {
    it(`ends ${name} quietly with exit 0`, async () => {
      const { code, stderr } = await withClosedStdout(args());
      expect(stderr).not.toContain("EPIPE");
      expect(stderr).not.toContain("Unhandled");
      expect(code).toBe(0);
    });
  }
});

describe("a run whose output pipe closes", () => {
  it("stops like Ctrl-C, exits 130 and leaves no lock", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cli-run-pipe-"));
    const file = path.join(dir, "small.yaml");
    writeFileSync(
      file,
      `extends: ${JSON.stringify(quickstart)}\ndataset:\n  synthetic:\n    cases: 4\ncross_validation:\n  folds: 2\n` +
        "training:\n  epochs: 2\n  iterations_per_epoch: 2\nmining:\n  depths: [2]\n  epochs: 1\ncurriculum:\n  stage_epochs: [1]\n",
    );
    const store = path.join(dir, "runs");
    // What `fancl run FILE 2>&1 | head -1` does: the reader goes after the first line.
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, "run", file, "--store", store], { stdio: ["ignore", "pipe", "pipe"] });
      child.stderr.once("data", () => {
        child.stderr.destroy();
        child.stdout.destroy();
      });
      child.on("error", reject);
      child.on("close", (exitCode) => resolve(exitCode));
    });
    expect(code).toBe(130);
    expect(readdirSync(path.join(store, "locks"))).toEqual([]);
    expect(readdirSync(path.join(store, "tmp"))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("fancl --version and -v", () => {
  for (const flag of ["--version", "-v"]) {
    it(`${flag} prints the package.json version`, () => {
      const manifest = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { version: string };
      const result = fancl([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`fancl ${manifest.version}\n`);
    });
  }
});

describe("an unknown verb", () => {
  it("suggests the verb one letter away", () => {
    const result = fancl(["pln"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown verb "pln"; did you mean "plan"?');
  });

  it("suggests the verb whose letters are swapped", () => {
    expect(fancl(["lpan"]).stderr).toContain('did you mean "plan"?');
  });

  it("suggests the one verb it starts", () => {
    expect(fancl(["predi"]).stderr).toContain('did you mean "predict"?');
  });

  it("suggests nothing for a word close to no verb", () => {
    const result = fancl(["xyzzy"]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain("did you mean");
  });
});

describe("fancl synth --cases", () => {
  it("states the range it accepts, which starts at 1", () => {
    const result = fancl(["synth", "--out", path.join(os.tmpdir(), "cli-fix-never-written"), "--cases", "two", "--seed", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[1, 99999]");
  });
});

describe("usage errors of report and predict", () => {
  let empty: string;
  beforeAll(() => {
    empty = mkdtempSync(path.join(os.tmpdir(), "cli-fix-2-empty-case-"));
  });
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  // The other verbs (evaluate, synth, info, runs, show) exit with 2 for a bad command line.
  for (const args of [["report", "--jobs", "2"], ["report", "abc"], ["predict", "--jobs", "2"]]) {
    it(`exit with 2 for ${args.join(" ")}`, () => {
      expect(fancl(args).code).toBe(2);
    });
  }

  it("exit with 2 for a case folder without images", () => {
    const result = fancl(["predict", "--case", empty, "--model", "unused", "--out", path.join(empty, "out.nii.gz")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no case images found");
  });

  it("say that run ids start at 1", () => {
    const result = fancl(["report", "--run", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("whole numbers from 1");
  });
});
