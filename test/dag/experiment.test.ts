import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Schema } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../dag/experiment/load.js";
import { ExperimentError } from "../../dag/experiment/yaml.js";

const Toy = Schema.Struct({
  name: Schema.String,
  data: Schema.Struct({
    root: Schema.String,
    folds: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(5))),
  }),
  shape: Schema.optionalKey(Schema.Tuple([Schema.Int, Schema.Int, Schema.Int])),
  train: Schema.Struct({
    lr: Schema.Number,
    epochs: Schema.Int,
    fga: Schema.Struct({ lambda: Schema.Number, patch: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(4))) }),
    depths: Schema.Array(Schema.Int).pipe(Schema.withDecodingDefaultKey(Effect.succeed([2, 3]))),
  }),
});

const dir = mkdtempSync(join(tmpdir(), "fancl-experiment-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Writes `lines` to a fresh file in the temp folder and returns its absolute path. */
function yamlFile(lines: string[], name = `exp${counter++}.yaml`): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function problemsOf(file: string, set: string[] = []): Promise<readonly string[]> {
  try {
    await loadExperiment(file, Toy, { set });
  } catch (error) {
    if (error instanceof ExperimentError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${file} to fail validation`);
}

const valid = ["name: toy", "data:", "  root: /data", "train:", "  lr: 0.01", "  epochs: 10", "  fga:", "    lambda: 1.0"];

describe("loadExperiment on a valid file", () => {
  it("decodes the body and fills defaults", async () => {
    const loaded = await loadExperiment(yamlFile(valid), Toy);
    expect(loaded.base).toEqual({
      name: "toy",
      data: { root: "/data", folds: 5 },
      train: { lr: 0.01, epochs: 10, fga: { lambda: 1, patch: 4 }, depths: [2, 3] },
    });
  });

  it("gives one point named default when there are no variants or matrix", async () => {
    const loaded = await loadExperiment(yamlFile(valid), Toy);
    expect(loaded.points.map((p) => p.name)).toEqual(["default"]);
    expect(loaded.points[0]!.overrides).toEqual({});
    expect(loaded.points[0]!.config).toEqual(loaded.base);
  });
});

describe("loadExperiment error positions", () => {
  it("names file, line and column of a value with the wrong type", async () => {
    // line 6 is "  epochs: ten"; the value starts in column 11.
    const file = yamlFile(["name: toy", "data:", "  root: /data", "train:", "  lr: 0.01", "  epochs: ten", "  fga:", "    lambda: 1.0"]);
    expect(await problemsOf(file)).toEqual([`${file}:6:11: train.epochs: expected number, got "ten"`]);
  });

  it("names the position of a failed check", async () => {
    const file = yamlFile(["name: toy", "data:", "  root: /data", "  folds: 2.5", "train:", "  lr: 0.01", "  epochs: 10", "  fga:", "    lambda: 1.0"]);
    expect(await problemsOf(file)).toEqual([`${file}:4:10: data.folds: expected an integer, got 2.5`]);
  });

  it("points an unknown key at the key itself and suggests the closest one", async () => {
    // line 5 is "  lrr: 0.01"; the key starts in column 3.
    const file = yamlFile(["name: toy", "data:", "  root: /data", "train:", "  lrr: 0.01", "  lr: 0.1", "  epochs: 10", "  fga:", "    lambda: 1.0"]);
    expect(await problemsOf(file)).toEqual([`${file}:5:3: train.lrr: unknown key "lrr" (did you mean "lr"?)`]);
  });

  it("suggests a reserved top-level key for a misspelt one", async () => {
    const file = yamlFile([...valid, "variant:", "  a: {}"]);
    expect(await problemsOf(file)).toEqual([`${file}:9:1: variant: unknown key "variant" (did you mean "variants"?)`]);
  });

  it("reports a missing key at the enclosing map's value", async () => {
    // train's value (its first key "lr") starts at line 5, column 3.
    const file = yamlFile(["name: toy", "data:", "  root: /data", "train:", "  lr: 0.01", "  fga:", "    lambda: 1.0"]);
    expect(await problemsOf(file)).toEqual([`${file}:5:3: train.epochs: missing required key`]);
  });

  it("reports a list that is too short or too long", async () => {
    const file = yamlFile([...valid, "shape: [1, 2]"]);
    expect(await problemsOf(file, [])).toEqual([`${file}:9:8: shape[2]: missing entry [2]: the list is too short`]);
    expect(await problemsOf(file, ["shape=[1, 2, 3, 4]"])).toEqual([`--set shape=[1, 2, 3, 4]: shape[3]: unexpected entry [3]: the list is too long`]);
  });

  it("reports every problem, not only the first", async () => {
    const file = yamlFile(["name: 3", "data:", "  root: /data", "train:", "  lr: fast", "  epochs: 10", "  fga:", "    lambda: 1.0"]);
    expect(await problemsOf(file)).toEqual([
      `${file}:1:7: name: expected string, got 3`,
      `${file}:5:7: train.lr: expected number, got "fast"`,
    ]);
  });

  it("reports a YAML syntax error with its position", async () => {
    // The parser notices the unclosed "[" of line 3 where line 4 starts.
    const file = yamlFile(["name: toy", "data:", "  root: [1, 2", "train: {}"]);
    expect(await problemsOf(file)).toEqual([`${file}:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  });

  it("reports a duplicate key at its second occurrence", async () => {
    const file = yamlFile(["name: toy", "name: other", ...valid.slice(1)]);
    expect(await problemsOf(file)).toEqual([`${file}:2:1: Map keys must be unique`]);
  });

  it("rejects a file that is not a map", async () => {
    const file = yamlFile(["- 1", "- 2"]);
    expect(await problemsOf(file)).toEqual([`${file}:1:1: an experiment file must be a map of keys to values, got [1,2]`]);
  });

  it("reports a missing file by name", async () => {
    const missing = join(dir, "does-not-exist.yaml");
    await expect(loadExperiment(missing, Toy)).rejects.toThrow(`cannot read ${missing}: no such file`);
  });

  it("says a folder is not an experiment file", async () => {
    await expect(loadExperiment(dir, Toy)).rejects.toThrow(`cannot read ${dir}: it is a folder; pass the experiment's YAML file`);
  });
});

describe("--set overrides", () => {
  it("overrides a nested key, the value read as YAML", async () => {
    const loaded = await loadExperiment(yamlFile(valid), Toy, { set: ["train.lr=1e-3", "train.depths=[4, 5]"] });
    expect(loaded.base.train.lr).toBe(0.001);
    expect(loaded.base.train.depths).toEqual([4, 5]);
  });

  it("applies repeated overrides of one key in order, the last winning", async () => {
    const loaded = await loadExperiment(yamlFile(valid), Toy, { set: ["train.epochs=3", "train.epochs=7"] });
    expect(loaded.base.train.epochs).toBe(7);
  });

  it("rejects a misspelt path, naming the --set argument and suggesting the key", async () => {
    expect(await problemsOf(yamlFile(valid), ["train.epoch=3"])).toEqual([
      `--set train.epoch=3: train.epoch: unknown key "epoch" (did you mean "epochs"?)`,
    ]);
  });

  it("rejects a value of the wrong type, naming the --set argument", async () => {
    expect(await problemsOf(yamlFile(valid), ["train.lr=fast"])).toEqual([`--set train.lr=fast: train.lr: expected number, got "fast"`]);
  });

  it("rejects a path through a scalar", async () => {
    const problems = await problemsOf(yamlFile(valid), ["name.first=x"]);
    expect(problems).toEqual([`--set name.first=x: name is "toy", not a map, so it has no key "first"`]);
  });

  it("rejects an argument without =", async () => {
    const problems = await problemsOf(yamlFile(valid), ["train.lr"]);
    expect(problems[0]).toContain("--set train.lr: expected KEY=VALUE");
  });
});

describe("extends", () => {
  it("deep-merges maps and replaces lists", async () => {
    yamlFile([...valid, "  depths: [1, 2, 3]"], "parent-a.yaml");
    const child = yamlFile(["extends: parent-a.yaml", "train:", "  lr: 0.5", "  depths: [9]"]);
    const loaded = await loadExperiment(child, Toy);
    expect(loaded.base.train).toEqual({ lr: 0.5, epochs: 10, fga: { lambda: 1, patch: 4 }, depths: [9] });
    expect(loaded.base.name).toBe("toy");
  });

  it("resolves the parent relative to the extending file, through two levels", async () => {
    const grand = yamlFile(valid, "grand-b.yaml");
    yamlFile(["extends: grand-b.yaml", "name: middle"], "middle-b.yaml");
    const child = yamlFile(["extends: middle-b.yaml", "train:", "  epochs: 2"]);
    const loaded = await loadExperiment(child, Toy);
    expect(grand.endsWith("grand-b.yaml")).toBe(true);
    expect(loaded.base.name).toBe("middle");
    expect(loaded.base.train.epochs).toBe(2);
    expect(loaded.base.train.lr).toBe(0.01);
  });

  it("locates a parent value in the parent", async () => {
    // line 5 of the parent is "  lr: slow"; the value starts in column 7.
    const parent = yamlFile(["name: toy", "data:", "  root: /data", "train:", "  lr: slow", "  epochs: 10", "  fga:", "    lambda: 1.0"], "parent-c.yaml");
    const child = yamlFile(["extends: parent-c.yaml", "name: child"]);
    expect(await problemsOf(child)).toEqual([`${parent}:5:7: train.lr: expected number, got "slow"`]);
  });

  it("locates a child override in the child", async () => {
    yamlFile(valid, "parent-d.yaml");
    const child = yamlFile(["extends: parent-d.yaml", "train:", "  epochs: many"]);
    expect(await problemsOf(child)).toEqual([`${child}:3:11: train.epochs: expected number, got "many"`]);
  });

  it("reports a cycle", async () => {
    yamlFile(["extends: cycle-f.yaml"], "cycle-e.yaml");
    yamlFile(["extends: cycle-e.yaml"], "cycle-f.yaml");
    const problems = await problemsOf(join(dir, "cycle-e.yaml"));
    expect(problems[0]).toContain("files extend each other in a cycle");
  });

  it("reports a missing parent at the extends line", async () => {
    const child = yamlFile(["extends: nowhere.yaml", "name: x"]);
    const problems = await problemsOf(child);
    expect(problems[0]!.startsWith(`${child}:1:10: extends: cannot read ${join(dir, "nowhere.yaml")}`)).toBe(true);
  });
});

describe("variants and matrix", () => {
  it("crosses every variant with every matrix combination, in file order", async () => {
    const file = yamlFile([
      ...valid,
      "variants:",
      "  baseline:",
      "    train.fga.lambda: 0",
      "  fancl:",
      "    train:",
      "      fga:",
      "        patch: 8",
      "matrix:",
      "  train.lr: [0.1, 0.01]",
      "  train.epochs: [1, 2]",
    ]);
    const loaded = await loadExperiment(file, Toy);
    expect(loaded.points.map((p) => p.name)).toEqual([
      "baseline,train.lr=0.1,train.epochs=1",
      "baseline,train.lr=0.1,train.epochs=2",
      "baseline,train.lr=0.01,train.epochs=1",
      "baseline,train.lr=0.01,train.epochs=2",
      "fancl,train.lr=0.1,train.epochs=1",
      "fancl,train.lr=0.1,train.epochs=2",
      "fancl,train.lr=0.01,train.epochs=1",
      "fancl,train.lr=0.01,train.epochs=2",
    ]);
    const last = loaded.points[7]!;
    expect(last.overrides).toEqual({ "train.fga.patch": 8, "train.lr": 0.01, "train.epochs": 2 });
    expect(last.config.train).toEqual({ lr: 0.01, epochs: 2, fga: { lambda: 1, patch: 8 }, depths: [2, 3] });
    expect(loaded.points[0]!.config.train.fga).toEqual({ lambda: 0, patch: 4 });
    expect(loaded.base.train.lr).toBe(0.01);
  });

  it("names variant-only points by the variant", async () => {
    const file = yamlFile([...valid, "variants:", "  a: { name: first }", "  b: {}"]);
    const loaded = await loadExperiment(file, Toy);
    expect(loaded.points.map((p) => [p.name, p.config.name])).toEqual([["a", "first"], ["b", "toy"]]);
  });

  it("names matrix-only points by key=value", async () => {
    const file = yamlFile([...valid, "matrix:", "  train:", "    fga.lambda: [0.1, 1.0]"]);
    const loaded = await loadExperiment(file, Toy);
    expect(loaded.points.map((p) => p.name)).toEqual(["train.fga.lambda=0.1", "train.fga.lambda=1"]);
  });

  it("validates each point and names the variant and position of a bad override", async () => {
    // line 12 is "    train.lr: high" (valid has 8 lines); the value starts in column 15.
    const file = yamlFile([...valid, "variants:", "  ok: {}", "  broken:", "    train.lr: high"]);
    expect(await problemsOf(file)).toEqual([`${file}:12:15: variant broken: train.lr: expected number, got "high"`]);
  });

  it("suggests a key for a misspelt variant override, pointing at the key", async () => {
    const file = yamlFile([...valid, "variants:", "  fancl:", "    train.fga.lamda: 2"]);
    expect(await problemsOf(file)).toEqual([`${file}:11:5: variant fancl: train.fga.lamda: unknown key "lamda" (did you mean "lambda"?)`]);
  });

  it("names the matrix value that fails validation", async () => {
    // line 10 is "  train.epochs: [1, two]": "[" is column 17, "two" starts in column 21.
    const file = yamlFile([...valid, "matrix:", "  train.epochs: [1, two]"]);
    expect(await problemsOf(file)).toEqual([`${file}:10:21: point train.epochs=two: train.epochs: expected number, got "two"`]);
  });

  it("rejects a matrix entry that is not a non-empty list", async () => {
    const file = yamlFile([...valid, "matrix:", "  train.lr: 0.1"]);
    expect(await problemsOf(file)).toEqual([`${file}:10:13: matrix.train.lr: expected a non-empty list of values to sweep, got 0.1`]);
  });

  it("lets --set change a variant's override", async () => {
    const file = yamlFile([...valid, "variants:", "  fancl:", "    train.lr: 0.2"]);
    const loaded = await loadExperiment(file, Toy, { set: ["variants.fancl.train.lr=0.3"] });
    expect(loaded.points[0]!.config.train.lr).toBe(0.3);
  });
});
