/**
 * The input of the report renderers: per variant, per fold, the per-case scores, the lesions
 * found by detection and the training curve. Built by the report stage from evaluate outputs.
 */
import type { Hd95Definition } from "../metrics/hd95.js";
import type { SizeClass } from "../metrics/detection.js";
import type { Region } from "../metrics/regions.js";

export type { Hd95Definition, Region, SizeClass };

/** One value per region (Dice unitless, HD95 in mm). */
export type PerRegion = Readonly<Record<Region, number>>;

export interface CaseScores {
  readonly caseId: string;
  readonly dice: PerRegion;
  /** mm. */
  readonly hd95: PerRegion;
}

export interface LesionDetection {
  readonly caseId: string;
  /** mm³. */
  readonly volumeMm3: number;
  readonly sizeClass: SizeClass;
  readonly detected: boolean;
}

export interface CurvePoint {
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  /** Mean validation Dice, when measured at this epoch. */
  readonly valDice?: number;
}

export interface FoldResult {
  readonly fold: number;
  readonly cases: readonly CaseScores[];
  readonly lesions: readonly LesionDetection[];
  readonly curve: readonly CurvePoint[];
}

export interface VariantResult {
  /** e.g. baseline, cl-only, fga-only, fancl. */
  readonly name: string;
  readonly folds: readonly FoldResult[];
}

export interface ReportInput {
  readonly title: string;
  /** Name of the variant the others are compared with. */
  readonly baseline: string;
  readonly hd95Definition: Hd95Definition;
  readonly variants: readonly VariantResult[];
}
