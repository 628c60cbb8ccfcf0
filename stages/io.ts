/** Small file helpers shared by stage adapters. */
import { promises as fs } from "node:fs";
import path from "node:path";

/** Returns a stage input as a list of paths: a single path becomes one item, an absent input none. */
export function asList(input: string | readonly string[] | undefined): readonly string[] {
  if (input === undefined) return [];
  return typeof input === "string" ? [input] : input;
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(value, null, 2) + "\n");
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, "utf8")) as T;
}
