/** Helpers shared by the benchmarks: medians, the machine's description and docs/benchmarks.md sections. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "2 cores (nproc), AMD EPYC …, Node v20…" for the benchmark's record. */
export function machineLine(): string {
  const model = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${os.availableParallelism()} cores (nproc), ${model}, Node ${process.version}`;
}

/**
 * Replaces the section of `file` that starts with the first line of `section` (a `## name`
 * heading) and runs to the next `## ` heading. A missing section is appended, and other sections
 * stay as they are.
 */
export function writeSection(file: string, section: string): void {
  const heading = section.split("\n", 1)[0]!.trim();
  if (!heading.startsWith("## ")) throw new Error(`a benchmark section must start with a "## " heading, found "${heading}"`);
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === heading);
  const body = `${section.trimEnd()}\n`;
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${body}`);
    return;
  }
  const next = lines.findIndex((line, i) => i > start && line.startsWith("## "));
  const rest = next < 0 ? "" : `\n${lines.slice(next).join("\n")}`;
  writeFileSync(file, `${[...lines.slice(0, start)].join("\n")}${start > 0 ? "\n" : ""}${body}${rest}`.replace(/\n*$/, "\n"));
}
