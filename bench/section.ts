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

/** Replaces the `## name` section of `file` (up to the next `## `), or appends it. */
export function writeSection(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const heading = `## ${name}\n`;
  const section = `${heading}\n${body.trim()}\n\n`;
  const start = text.indexOf(heading);
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf("\n## ", start + heading.length);
  writeFileSync(file, text.slice(0, start) + section + (next < 0 ? "" : text.slice(next + 1)));
}
