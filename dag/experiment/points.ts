/**
 * Expands `variants:` and `matrix:` into experiment points: every variant crossed with every
 * combination of matrix values.
 */
import type { Origin, Sourced } from "./sourced.js";
import { isPlainMap, locate, pathId } from "./sourced.js";

/** One key a point sets on top of the base config. */
export interface Assignment {
  /** Config path, dotted keys already split: `train.fga.lambda` is `["train", "fga", "lambda"]`. */
  readonly path: readonly string[];
  readonly value: unknown;
  /** The location of the variant entry or matrix value that made this assignment. */
  readonly origin: Origin;
}

export interface PointSpec {
  /** `default`, `fancl`, `train.fga.lambda=0.1` or `fancl,train.fga.lambda=0.1`. */
  readonly name: string;
  /** The variant this point belongs to, when the file has variants. */
  readonly variant: string | undefined;
  /** Variant assignments first, then one per matrix key, in file order. */
  readonly assignments: readonly Assignment[];
}

/**
 * Expands an experiment into its points. `variants` is the subtree under `variants:`, a map from
 * variant name to a map of dotted or nested keys. `matrix` is the subtree under `matrix:`, a map
 * from dotted key to a non-empty list of values. Either may be absent (value undefined), and with
 * neither there is one point, `default`. Malformed sections give `location: message` problems.
 */
export function expandPoints(variants: Sourced, matrix: Sourced): { points: PointSpec[]; problems: string[] } {
  const problems: string[] = [];

  const variantList: { name: string | undefined; assignments: Assignment[] }[] = [];
  if (variants.value === undefined || (isPlainMap(variants.value) && Object.keys(variants.value).length === 0)) {
    variantList.push({ name: undefined, assignments: [] });
  } else if (!isPlainMap(variants.value)) {
    problems.push(`${locate(variants, [], "value")}: variants: expected a map from variant name to overrides, got ${JSON.stringify(variants.value)}`);
  } else {
    for (const [name, body] of Object.entries(variants.value)) {
      if (body !== null && !isPlainMap(body)) {
        problems.push(`${locate(variants, [name], "value")}: variants.${name}: expected a map of config keys to values, got ${JSON.stringify(body)}`);
        continue;
      }
      const assignments: Assignment[] = [];
      if (body !== null) collect(variants, [name], [], assignments);
      variantList.push({ name, assignments });
    }
  }

  const axes: { key: string; values: { value: unknown; origin: Origin }[] }[] = [];
  if (matrix.value !== undefined && matrix.value !== null) {
    if (!isPlainMap(matrix.value)) {
      problems.push(`${locate(matrix, [], "value")}: matrix: expected a map from config key to a list of values, got ${JSON.stringify(matrix.value)}`);
    } else {
      const leaves: Assignment[] = [];
      collect(matrix, [], [], leaves);
      for (const leaf of leaves) {
        const key = leaf.path.join(".");
        if (!Array.isArray(leaf.value) || leaf.value.length === 0) {
          problems.push(`${leaf.origin.value}: matrix.${key}: expected a non-empty list of values to sweep, got ${JSON.stringify(leaf.value)}`);
          continue;
        }
        const listPath = matrixSourcePath(matrix, leaf.path);
        axes.push({
          key,
          values: leaf.value.map((value, i) => {
            const at = locate(matrix, [...listPath, i], "value");
            return { value, origin: { key: leaf.origin.key, value: at } };
          }),
        });
      }
    }
  }
  if (problems.length > 0) return { points: [], problems };

  const points: PointSpec[] = [];
  for (const variant of variantList) {
    for (const combination of cartesian(axes.map((axis) => axis.values))) {
      const parts = variant.name === undefined ? [] : [variant.name];
      const assignments = [...variant.assignments];
      combination.forEach((choice, i) => {
        const axis = axes[i]!;
        parts.push(`${axis.key}=${formatValue(choice.value)}`);
        assignments.push({ path: axis.key.split("."), value: choice.value, origin: choice.origin });
      });
      points.push({ name: parts.length === 0 ? "default" : parts.join(","), variant: variant.name, assignments });
    }
  }

  const seen = new Map<string, number>();
  for (const point of points) seen.set(point.name, (seen.get(point.name) ?? 0) + 1);
  for (const [name, count] of seen) {
    if (count > 1) problems.push(`${locate(matrix, [], "value")}: point "${name}" appears ${count} times: remove repeated values from the matrix`);
  }
  return { points, problems };
}

/** Formats a matrix value for a point name: strings bare, everything else as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Walks a map of dotted or nested keys below `at` in `tree`, turning every non-map value (or empty
 * map) into an assignment of its full dotted path.
 */
function collect(tree: Sourced, at: readonly (string | number)[], prefix: readonly string[], out: Assignment[]): void {
  let node: unknown = tree.value;
  for (const part of at) node = (node as Record<string, unknown>)[String(part)];
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const path = [...prefix, ...key.split(".")];
    if (isPlainMap(value) && Object.keys(value).length > 0) {
      collect(tree, [...at, key], path, out);
      continue;
    }
    const origin = tree.origins.get(pathId([...at, key])) ?? { key: locate(tree, [...at, key], "key"), value: locate(tree, [...at, key], "value") };
    out.push({ path, value, origin });
  }
}

/** Finds the path inside the `matrix` tree where the list for a dotted config path was written. */
function matrixSourcePath(matrix: Sourced, configPath: readonly string[]): string[] {
  // A matrix key may be written dotted ("a.b": [...]) or nested (a: { b: [...] }); find which.
  const found: string[] = [];
  let node: unknown = matrix.value;
  let rest = [...configPath];
  while (rest.length > 0 && isPlainMap(node)) {
    let matched = false;
    for (let take = rest.length; take >= 1; take--) {
      const key = rest.slice(0, take).join(".");
      if (key in node) {
        found.push(key);
        node = node[key];
        rest = rest.slice(take);
        matched = true;
        break;
      }
    }
    if (!matched) break;
  }
  return found;
}

function cartesian<T>(lists: readonly (readonly T[])[]): T[][] {
  let result: T[][] = [[]];
  for (const list of lists) result = result.flatMap((prefix) => list.map((item) => [...prefix, item]));
  return result;
}
