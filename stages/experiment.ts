/**
 * The schema of a FANCL experiment file: what a user writes in `experiments/*.yaml`.
 *
 * Every key has a default, so a file names only what it changes. `extends:`, `variants:` and
 * `matrix:` are handled by the engine before this schema decodes the merged document.
 * Lengths are in voxels unless a key is in mm, and shapes are [D, H, W].
 */
import * as Effect from "effect/Effect";
import * as Schema from "effect/Schema";

function withDefault<S extends Schema.Top>(schema: S, value: S["Encoded"]) {
  return schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)));
}

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));
const Triple = Schema.Tuple([PositiveInt, PositiveInt, PositiveInt]);
const Spacing = Schema.Tuple([
  Schema.Finite.check(Schema.isGreaterThan(0)),
  Schema.Finite.check(Schema.isGreaterThan(0)),
  Schema.Finite.check(Schema.isGreaterThan(0)),
]);

const Synthetic = Schema.Struct({
  cases: withDefault(PositiveInt, 12),
  seed: withDefault(Schema.Int, 0),
  shape: withDefault(Triple, [64, 96, 96]),
  spacing: withDefault(Schema.Finite.check(Schema.isGreaterThan(0)), 2),
});

const Dataset = Schema.Struct({
  /** Generate a synthetic dataset (the default); ignored when `root` is set. */
  synthetic: withDefault(Schema.NullOr(Synthetic), null),
  /** A folder of BraTS-format case folders; relative paths are taken from the working directory. */
  root: withDefault(Schema.NullOr(Schema.String), null),
});

const Preprocess = Schema.Struct({
  /** Resample to this spacing in mm [dx, dy, dz]; null keeps the native grid. */
  target_spacing: withDefault(Schema.NullOr(Spacing), null),
});

const CrossValidation = Schema.Struct({
  folds: withDefault(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)), 5),
  seed: withDefault(Schema.Int, 0),
});

const Compute = Schema.Struct({
  backend: withDefault(Schema.Literals(["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"]), "auto"),
  /**
   * CPU threads of one training on the wasm and cpu backends: each batch is split by sample
   * across them, and the training reserves as many CPU slots. Not in any key (the result is the
   * same up to float rounding). 1 suits studies that run several trainings at once.
   */
  training_threads: withDefault(PositiveInt, 1),
});

const Network = Schema.Struct({
  stages: withDefault(PositiveInt, 6),
  base_features: withDefault(PositiveInt, 32),
  max_features: withDefault(PositiveInt, 320),
  deep_supervision: withDefault(Schema.Boolean, true),
});

const Training = Schema.Struct({
  epochs: withDefault(PositiveInt, 500),
  iterations_per_epoch: withDefault(PositiveInt, 250),
  batch_size: withDefault(PositiveInt, 2),
  patch_size: withDefault(Triple, [128, 128, 128]),
  lr: withDefault(Schema.Finite.check(Schema.isGreaterThan(0)), 0.01),
  momentum: withDefault(NonNegative, 0.99),
  nesterov: withDefault(Schema.Boolean, true),
  weight_decay: withDefault(NonNegative, 3e-5),
  poly_exponent: withDefault(NonNegative, 0.9),
  oversample_foreground: withDefault(NonNegative, 0.33),
  seed: withDefault(Schema.Int, 0),
});

const Mining = Schema.Struct({
  /** Depths (resolution stages) of the mining nets, ascending. */
  depths: withDefault(Schema.Array(PositiveInt), [3, 4, 5]),
  epochs: withDefault(PositiveInt, 100),
});

const Curriculum = Schema.Struct({
  enabled: withDefault(Schema.Boolean, false),
  /** Epochs of curriculum stages 1 … S−1 (one per mining depth); the rest of training uses G alone. */
  stage_epochs: withDefault(Schema.Array(PositiveInt), [80, 80]),
  hard_voxels: withDefault(Schema.Literals(["background", "ignore"]), "background"),
});

const Fga = Schema.Struct({
  enabled: withDefault(Schema.Boolean, false),
  patch_size: withDefault(PositiveInt, 8),
  lambda: withDefault(NonNegative, 0.1),
  golden_gradient: withDefault(Schema.Boolean, false),
});

const Inference = Schema.Struct({
  mirror: withDefault(Schema.Boolean, false),
});

const Evaluation = Schema.Struct({
  hd95: withDefault(Schema.Literals(["medpy", "max-directed"]), "medpy"),
});

const Report = Schema.Struct({
  title: withDefault(Schema.String, "FANCL study"),
  /** The point the others are compared with; null picks the single point, or the one named "baseline". */
  baseline: withDefault(Schema.NullOr(Schema.String), null),
});

export const StudySchema = Schema.Struct({
  name: withDefault(Schema.String, "study"),
  dataset: withDefault(Dataset, {}),
  preprocess: withDefault(Preprocess, {}),
  cross_validation: withDefault(CrossValidation, {}),
  compute: withDefault(Compute, {}),
  network: withDefault(Network, {}),
  training: withDefault(Training, {}),
  mining: withDefault(Mining, {}),
  curriculum: withDefault(Curriculum, {}),
  fga: withDefault(Fga, {}),
  inference: withDefault(Inference, {}),
  evaluation: withDefault(Evaluation, {}),
  report: withDefault(Report, {}),
});

export type StudyConfig = typeof StudySchema.Type;
