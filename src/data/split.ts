/**
 * Deterministic k-fold cross-validation split by case id.
 */
import { createHash } from "node:crypto";

import { SplitError } from "./errors.js";

/**
 * Splits `caseIds` into `k` folds and returns, for fold f, its held-out ids (sorted). Cases are
 * ordered by SHA-256 of `${seed}:${id}` and dealt round-robin. The result therefore depends only
 * on the set of ids, `k` and `seed`, not on the input order. Fold sizes differ by at most one
 * and every id is held out exactly once. Needs unique ids and 2 ≤ k ≤ number of ids.
 */
export function kFoldSplit(caseIds: readonly string[], k: number, seed: number): string[][] {
  if (!Number.isInteger(k) || k < 2) {
    throw new SplitError(`k-fold split: folds must be an integer of at least 2, got ${k}`);
  }
  if (!Number.isFinite(seed)) {
    throw new SplitError(`k-fold split: seed must be a finite number, got ${seed}`);
  }
  const unique = new Set(caseIds);
  if (unique.size !== caseIds.length) {
    const duplicate = caseIds.find((id, i) => caseIds.indexOf(id) !== i);
    throw new SplitError(`k-fold split: case id ${duplicate} appears twice; case ids must be unique`);
  }
  if (k > caseIds.length) {
    throw new SplitError(
      `k-fold split: ${k} folds need at least ${k} cases but there are ${caseIds.length}; lower the number of folds or add cases`,
    );
  }

  // A keyed hash gives every id a place that depends on the seed and on nothing else.
  const ranked = [...unique]
    .map((id) => ({ id, rank: createHash("sha256").update(`${seed}:${id}`).digest("hex") }))
    .sort((a, b) => {
      if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
      return a.id < b.id ? -1 : 1;
    });

  const folds: string[][] = Array.from({ length: k }, () => []);
  ranked.forEach(({ id }, i) => folds[i % k]!.push(id));
  return folds.map((fold) => fold.sort());
}
