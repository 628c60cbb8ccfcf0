/**
 * The numbers every report format shows, computed once from a `ReportInput`.
 */
import { SIZE_CLASSES, type SizeClass } from "../metrics/detection.js";
import { mean, sampleSd } from "./stats.js";
import type { CaseScores, ReportInput, VariantResult } from "./types.js";
import { wilcoxonSignedRank, type WilcoxonResult } from "./wilcoxon.js";

/** ET, TC, WT and their mean. */
export type SummaryRegion = "ET" | "TC" | "WT" | "mean";
export const SUMMARY_REGIONS: readonly SummaryRegion[] = ["ET", "TC", "WT", "mean"];

export type Metric = "dice" | "hd95";
export const METRICS: readonly Metric[] = ["dice", "hd95"];

/** Mean ± sample sd over folds of the fold values (each fold value = mean over its cases). */
export interface FoldSpread {
  readonly foldValues: readonly number[];
  readonly mean: number;
  /** NaN with fewer than two folds. */
  readonly sd: number;
  /** Number of folds with at least one case. */
  readonly n: number;
}

/** Paired per-case difference (variant − baseline) and its test. */
export interface PairedDifference {
  readonly meanDifference: number;
  readonly test: WilcoxonResult;
  /** Cases scored in both variants. */
  readonly cases: number;
}

export interface DetectionCount {
  readonly detected: number;
  readonly total: number;
}

export interface VariantSummary {
  readonly name: string;
  readonly spread: Readonly<Record<Metric, Readonly<Record<SummaryRegion, FoldSpread>>>>;
  /** Undefined for the baseline itself. */
  readonly paired?: Readonly<Record<Metric, Readonly<Record<SummaryRegion, PairedDifference>>>>;
  readonly detection: Readonly<Record<SizeClass, DetectionCount>>;
}

export interface ReportSummary {
  readonly input: ReportInput;
  readonly variants: readonly VariantSummary[];
}

/** Returns one case's value for a metric and summary region (mean = mean of ET, TC, WT). */
export function caseValue(scores: CaseScores, metric: Metric, region: SummaryRegion): number {
  const values = scores[metric];
  return region === "mean" ? (values.ET + values.TC + values.WT) / 3 : values[region];
}

/** Throws when the baseline is not among the variants or a variant name repeats. */
export function summarise(input: ReportInput): ReportSummary {
  const names = input.variants.map((v) => v.name);
  const baseline = input.variants.find((v) => v.name === input.baseline);
  if (baseline === undefined) {
    throw new Error(`report "${input.title}": baseline ${input.baseline} is not one of the variants ${names.join(", ")}; set baseline to one of them`);
  }
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new Error(`report "${input.title}": variant ${repeated} appears twice; give each variant one entry`);

  return {
    input,
    variants: input.variants.map((variant) => ({
      name: variant.name,
      spread: perMetric((metric, region) => foldSpread(variant, metric, region)),
      paired: variant === baseline ? undefined : perMetric((metric, region) => paired(baseline, variant, metric, region)),
      detection: detection(variant),
    })),
  };
}

function perMetric<T>(make: (metric: Metric, region: SummaryRegion) => T): Record<Metric, Record<SummaryRegion, T>> {
  const out = {} as Record<Metric, Record<SummaryRegion, T>>;
  for (const metric of METRICS) {
    out[metric] = {} as Record<SummaryRegion, T>;
    for (const region of SUMMARY_REGIONS) out[metric][region] = make(metric, region);
  }
  return out;
}

function foldSpread(variant: VariantResult, metric: Metric, region: SummaryRegion): FoldSpread {
  const foldValues = variant.folds
    .filter((fold) => fold.cases.length > 0)
    .map((fold) => mean(fold.cases.map((c) => caseValue(c, metric, region))));
  return { foldValues, mean: mean(foldValues), sd: sampleSd(foldValues), n: foldValues.length };
}

function paired(baseline: VariantResult, variant: VariantResult, metric: Metric, region: SummaryRegion): PairedDifference {
  const reference = new Map<string, CaseScores>();
  for (const fold of baseline.folds) for (const c of fold.cases) reference.set(c.caseId, c);
  const differences: number[] = [];
  for (const fold of variant.folds) {
    for (const c of fold.cases) {
      const base = reference.get(c.caseId);
      if (base !== undefined) differences.push(caseValue(c, metric, region) - caseValue(base, metric, region));
    }
  }
  return { meanDifference: mean(differences), test: wilcoxonSignedRank(differences), cases: differences.length };
}

function detection(variant: VariantResult): Record<SizeClass, DetectionCount> {
  const out = {} as Record<SizeClass, DetectionCount>;
  for (const sizeClass of SIZE_CLASSES) {
    const lesions = variant.folds.flatMap((f) => f.lesions).filter((l) => l.sizeClass === sizeClass);
    out[sizeClass] = { detected: lesions.filter((l) => l.detected).length, total: lesions.length };
  }
  return out;
}

/** A table laid out as in the FANCL paper: its caption and the variants it shows, in order. */
export interface TableLayout {
  readonly caption: string;
  readonly variants: readonly VariantSummary[];
}

/**
 * Chooses the tables, baseline first in each. With a variant named fancl (any case) they are
 * Table 1 (baseline vs fancl) and, when there are more variants, Table 3 (every variant, the
 * ablations). Without one there is a single table of every variant.
 */
export function tableLayouts(summary: ReportSummary): TableLayout[] {
  const baselineName = summary.input.baseline;
  const ordered = [
    ...summary.variants.filter((v) => v.name === baselineName),
    ...summary.variants.filter((v) => v.name !== baselineName),
  ];
  const fancl = ordered.find((v) => v.name.toLowerCase() === "fancl" && v.name !== baselineName);
  if (fancl === undefined) return [{ caption: "Results", variants: ordered }];
  const table1 = { caption: `Table 1: ${baselineName} vs ${fancl.name}`, variants: [ordered[0]!, fancl] };
  if (ordered.length <= 2) return [table1];
  return [table1, { caption: "Table 3: ablations", variants: ordered }];
}
