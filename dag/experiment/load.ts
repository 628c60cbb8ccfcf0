/**
 * Loads an experiment file: follows `extends`, applies `--set` overrides, validates the body
 * with the application's schema and expands `variants` × `matrix` into validated points.
 */
import { dirname, resolve } from "node:path";
import { parse as parseYamlValue } from "yaml";
import type { ExperimentPoint, LoadedExperiment } from "../app.js";
import type { AnyDecoder } from "./issues.js";
import { decodeAll, formatPath } from "./issues.js";
import { expandPoints } from "./points.js";
import type { Sourced } from "./sourced.js";
import { isPlainMap, locate, overlay, setPath, subtree, withoutKeys } from "./sourced.js";
import { ExperimentError, displayPath, readYamlFile } from "./yaml.js";

/** Top-level keys the loader handles itself; the rest of the file is the experiment body. */
export const reservedKeys = ["extends", "variants", "matrix"] as const;

export interface LoadOptions {
  /** `a.b.c=value` overrides in command-line order; each value is read as YAML. */
  readonly set?: readonly string[];
}

/**
 * Loads `file` and validates it against `schema`. Throws an `ExperimentError` with one line per
 * problem, naming `file:line:col` (or the `--set` argument), the key, what was expected and what
 * was found, and a did-you-mean suggestion for an unknown key. The base config is validated
 * first. Only when it is valid are the points validated, so a base problem is reported once.
 */
export async function loadExperiment<C>(file: string, schema: AnyDecoder<C>, options: LoadOptions = {}): Promise<LoadedExperiment<C>> {
  const path = resolve(file);
  let tree = await readWithExtends(path, []);
  tree = applySets(tree, options.set ?? []);

  const body = withoutKeys(tree, reservedKeys);
  const base = validate(body, schema, undefined);
  if (!base.ok) throw new ExperimentError(base.problems);

  const expanded = expandPoints(subtree(tree, ["variants"]), subtree(tree, ["matrix"]));
  if (expanded.problems.length > 0) throw new ExperimentError(expanded.problems);

  const points: ExperimentPoint<C>[] = [];
  const problems: string[] = [];
  for (const spec of expanded.points) {
    let context: string | undefined;
    if (spec.assignments.length > 0) context = spec.name === spec.variant ? `variant ${spec.name}` : `point ${spec.name}`;
    let pointTree = body;
    const overrides: Record<string, unknown> = {};
    try {
      for (const assignment of spec.assignments) {
        pointTree = setPath(pointTree, assignment.path, assignment.value, assignment.origin);
        overrides[assignment.path.join(".")] = assignment.value;
      }
    } catch (error) {
      problems.push(`${context}: ${(error as Error).message}`);
      continue;
    }
    const checked = validate(pointTree, schema, context);
    if (checked.ok) points.push({ name: spec.name, overrides, config: checked.value });
    else problems.push(...checked.problems);
  }
  if (problems.length > 0) throw new ExperimentError(problems);

  return { file: path, base: base.value, points };
}

function validate<C>(tree: Sourced, schema: AnyDecoder<C>, context: string | undefined): { ok: true; value: C } | { ok: false; problems: string[] } {
  const decoded = decodeAll(schema, tree.value, { rootKeys: reservedKeys });
  if (decoded.ok) return decoded;
  return {
    ok: false,
    problems: decoded.problems.map((problem) => {
      const where = locate(tree, problem.path, problem.kind === "unknownKey" ? "key" : "value");
      return `${where}: ${context === undefined ? "" : `${context}: `}${formatPath(problem.path)}: ${problem.message}`;
    }),
  };
}

/**
 * Reads `file` and, when it has `extends: other.yaml` (relative to `file`), lays it over the
 * file it extends, recursively. `chain` lists the files already on the way, to report cycles.
 */
async function readWithExtends(file: string, chain: readonly string[]): Promise<Sourced> {
  const tree = await readYamlFile(file, chain.length === 0 ? undefined : `extended by ${displayPath(chain[chain.length - 1]!)}`);
  if (!isPlainMap(tree.value)) {
    throw new ExperimentError([`${locate(tree, [], "value")}: an experiment file must be a map of keys to values, got ${JSON.stringify(tree.value)}`]);
  }

  const parent = tree.value["extends"];
  if (parent === undefined) return tree;
  if (typeof parent !== "string" || parent === "") {
    throw new ExperimentError([`${locate(tree, ["extends"], "value")}: extends: expected the path of another experiment file, got ${JSON.stringify(parent)}`]);
  }
  const parentPath = resolve(dirname(file), parent);
  if (parentPath === file || chain.includes(parentPath)) {
    const cycle = [...chain, file, parentPath].map(displayPath).join(" -> ");
    throw new ExperimentError([`${locate(tree, ["extends"], "value")}: extends: files extend each other in a cycle: ${cycle}`]);
  }
  let base: Sourced;
  try {
    base = await readWithExtends(parentPath, [...chain, file]);
  } catch (error) {
    if (error instanceof ExperimentError && error.problems.length === 1 && error.problems[0]!.includes("cannot read")) {
      throw new ExperimentError([`${locate(tree, ["extends"], "value")}: extends: cannot read ${displayPath(parentPath)}: check the path (it is relative to ${displayPath(file)})`]);
    }
    throw error;
  }
  return overlay(base, withoutKeys(tree, ["extends"]));
}

/** Applies `--set a.b=value` overrides in order; a value is parsed as YAML (`1e-3`, `true`, `[1, 2]`). */
function applySets(tree: Sourced, sets: readonly string[]): Sourced {
  let current = tree;
  for (const set of sets) {
    const where = `--set ${set}`;
    const eq = set.indexOf("=");
    const key = eq < 0 ? "" : set.slice(0, eq).trim();
    const path = key.split(".");
    if (eq <= 0 || path.some((part) => part === "")) {
      throw new ExperimentError([`${where}: expected KEY=VALUE with a dotted key such as a.b=1`]);
    }
    let value: unknown;
    try {
      value = parseYamlValue(set.slice(eq + 1));
    } catch (error) {
      throw new ExperimentError([`${where}: the value is not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
    }
    try {
      current = setPath(current, path, value, { key: where, value: where });
    } catch (error) {
      throw new ExperimentError([`${where}: ${(error as Error).message}`]);
    }
  }
  return current;
}
