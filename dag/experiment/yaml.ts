/**
 * Reads a YAML file into a plain value with the file:line:column of every key and value.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import type { Origin, Sourced } from "./sourced.js";
import { pathId } from "./sourced.js";

/** An experiment file that cannot be read or parsed, or fails validation; one line per problem. */
export class ExperimentError extends Error {
  override readonly name = "ExperimentError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/** Formats a path for messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/**
 * Parses YAML `text` from `file` (used only in messages). Throws an `ExperimentError` listing
 * every syntax error as `file:line:col: message`. An empty document reads as an empty map.
 */
export function parseYaml(text: string, file: string): Sourced {
  const shown = displayPath(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ExperimentError(doc.errors.map((error) => {
      const where = lines.linePos(error.pos[0]);
      return `${shown}:${where.line}:${where.col}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`;
    }));
  }

  const at = (offset: number): string => {
    const where = lines.linePos(offset);
    return `${shown}:${where.line}:${where.col}`;
  };
  const origins = new Map<string, Origin>();
  origins.set("", { key: at(0), value: at(doc.contents?.range?.[0] ?? 0) });
  const value = doc.contents === null ? {} : toValue(doc, doc.contents as YamlNode, [], origins, at, shown);
  return { value: value === null ? {} : value, origins };
}

/** Reads and parses a YAML file; a missing or unreadable file is an `ExperimentError`. */
export async function readYamlFile(file: string, from?: string): Promise<Sourced> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a folder; pass the experiment's YAML file, e.g. experiments/quickstart.yaml"
          : (error as Error).message;
    throw new ExperimentError([`${from === undefined ? "" : `${from}: `}cannot read ${displayPath(file)}: ${reason}`]);
  }
  return parseYaml(text, file);
}

function toValue(
  doc: Document,
  node: YamlNode | null,
  path: (string | number)[],
  origins: Map<string, Origin>,
  at: (offset: number) => string,
  shown: string,
): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toValue(doc, node.resolve(doc) as YamlNode | undefined ?? null, path, origins, at, shown);
  if (isScalar(node)) return node.toJS(doc);
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const keyStart = keyNode?.range?.[0] ?? node.range?.[0] ?? 0;
      if (!isScalar(keyNode) || (typeof keyNode.value !== "string" && typeof keyNode.value !== "number" && typeof keyNode.value !== "boolean")) {
        throw new ExperimentError([`${at(keyStart)}: a map key must be a plain string, not a ${keyNode === null ? "missing key" : "map or list"}`]);
      }
      const key = String(keyNode.value);
      const valueNode = pair.value as YamlNode | null;
      const childPath = [...path, key];
      origins.set(pathId(childPath), { key: at(keyStart), value: at(valueNode?.range?.[0] ?? keyStart) });
      out[key] = toValue(doc, valueNode, childPath, origins, at, shown);
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => {
      const itemNode = item as YamlNode | null;
      const start = at(itemNode?.range?.[0] ?? node.range?.[0] ?? 0);
      origins.set(pathId([...path, i]), { key: start, value: start });
      return toValue(doc, itemNode, [...path, i], origins, at, shown);
    });
  }
  throw new ExperimentError([`${at((node as YamlNode).range?.[0] ?? 0)}: unsupported YAML node in ${shown}`]);
}
