import { readFileSync } from "node:fs";

/** Rows of a simple comma-separated file with a header line (no quoting). */
export function readCsv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, "utf8").trim().split(/\r?\n/);
  const columns = header!.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(columns.map((c, k) => [c, cells[k]!]));
  });
}

/** |actual − expected| ≤ 1e-4·|expected|, with an absolute floor for expected 0. */
export function closeRelative(actual: number, expected: number, relative = 1e-4): boolean {
  return Math.abs(actual - expected) <= relative * Math.max(Math.abs(expected), 1e-6);
}
