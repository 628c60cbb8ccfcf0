/**
 * The FANCL study as a DAG: turns each resolved experiment point (a variant or sweep point) into
 * nodes. Nodes that come out equal across points (preprocessing, mining nets, curricula) get one
 * key and are computed once; that sharing is what makes ablations cheap.
 *
 *   synth | dataset files ─► preprocess(case) ─► train[mining d, fold f] ─► predict ─┐
 *                                   │                                                ▼
 *                                   │                                  curriculum(case) C1 ⊆ … ⊆ G
 *                                   ├─► train[variant v, fold f] ◄────────────────────┘
 *                                   │        └─► predict[v, f] ─► evaluate[v, f] ─► report
 */
import path from "node:path";

import type { ExperimentPoint, LoadedExperiment } from "../dag/app.js";
import { ExperimentError, displayPath } from "../dag/experiment/yaml.js";
import type { GraphBuilder, InputRef, NodeRef } from "../dag/graph.js";
import type { CaseFiles } from "../src/data/dataset.js";
import { kFoldSplit } from "../src/data/split.js";
import { syntheticCaseId } from "../src/synth/generate.js";
import { backendEnvironmentVariable } from "./backend.js";
import { listDatasetRoot } from "./dataset-inputs.js";
import type { StudyConfig } from "./experiment.js";
import { checkStudy, reportBaseline } from "./study-checks.js";
import type { TrainParams } from "./train.js";

/** The case source of one point: synthetic cases from a node, or files discovered under a root. */
interface CaseSource {
  readonly ids: readonly string[];
  /** Inputs of the preprocess node of a case. */
  caseInputs(id: string): Record<string, InputRef | readonly InputRef[]>;
  /** Inputs of the ingest node, which validates the whole dataset. */
  readonly datasetInputs: Record<string, InputRef | readonly InputRef[]>;
}

export async function buildStudy(
  experiment: LoadedExperiment<StudyConfig>,
  graph: GraphBuilder,
): Promise<void> {
  checkStudy(experiment, process.env[backendEnvironmentVariable] ?? experiment.base.compute.backend);
  const file = displayPath(experiment.file);
  const discovered = new Map<string, readonly CaseFiles[]>();
  const evaluations: NodeRef[] = [];
  const trainings: NodeRef[] = [];
  const entries: { variant: string; fold: number }[] = [];

  for (const point of experiment.points) {
    const source = await caseSource(point.config, graph, discovered, file);
    const folds = point.config.cross_validation.folds;
    if (folds > source.ids.length) {
      throw new ExperimentError([
        `${file}: cross_validation.folds: ${folds} folds need at least ${folds} cases but the dataset has ` +
          `${source.ids.length}; lower cross_validation.folds or add cases`,
      ]);
    }
    const perFold = buildPoint(point, source, graph);
    perFold.forEach(({ evaluation, training }, fold) => {
      evaluations.push(evaluation);
      trainings.push(training);
      entries.push({ variant: point.name, fold });
    });
  }

  const base = experiment.base;
  graph.node(
    "report",
    {
      title: base.report.title,
      baseline: reportBaseline(experiment).name,
      hd95: base.evaluation.hd95,
      entries,
    },
    { evaluations, trainings },
    { label: "report" },
  );
}

async function caseSource(
  config: StudyConfig,
  graph: GraphBuilder,
  discovered: Map<string, readonly CaseFiles[]>,
  experimentFile: string,
): Promise<CaseSource> {
  const root = config.dataset.root;
  if (root !== null) {
    const absolute = path.resolve(root);
    let cases = discovered.get(absolute);
    if (cases === undefined) {
      try {
        cases = await listDatasetRoot(absolute);
      } catch (error) {
        throw new ExperimentError([`${experimentFile}: dataset.root: ${(error as Error).message}`]);
      }
      discovered.set(absolute, cases);
    }
    const byId = new Map(cases.map((c) => [c.id, c]));
    const caseFileRefs = (c: CaseFiles) =>
      [...c.images, ...(c.seg === undefined ? [] : [c.seg])].map((file) => graph.file(file));
    return {
      ids: cases.map((c) => c.id),
      caseInputs: (id) => ({ dataset: [], files: caseFileRefs(byId.get(id)!) }),
      datasetInputs: { dataset: [], files: cases.flatMap(caseFileRefs) },
    };
  }

  const synthetic = config.dataset.synthetic;
  if (synthetic === null) {
    throw new ExperimentError([
      `${experimentFile}: dataset.root is not set and dataset.synthetic is null, so the experiment has no cases; ` +
        "pass --set dataset.root=PATH (a folder of BraTS case folders) or give dataset.synthetic",
    ]);
  }
  const synth = graph.node(
    "synth",
    {
      cases: synthetic.cases,
      seed: synthetic.seed,
      shape: synthetic.shape,
      spacing: synthetic.spacing,
    },
    {},
    { label: "synth" },
  );
  return {
    ids: Array.from({ length: synthetic.cases }, (_, i) => syntheticCaseId(i)),
    caseInputs: () => ({ dataset: synth, files: [] }),
    datasetInputs: { dataset: synth, files: [] },
  };
}

interface FoldNodes {
  readonly evaluation: NodeRef;
  readonly training: NodeRef;
}

function buildPoint(
  point: ExperimentPoint<StudyConfig>,
  source: CaseSource,
  graph: GraphBuilder,
): FoldNodes[] {
  const config = point.config;
  graph.node("ingest", {}, source.datasetInputs, { label: "ingest" });

  const preprocessed = new Map<string, NodeRef>();
  for (const id of source.ids) {
    preprocessed.set(
      id,
      graph.node(
        "preprocess",
        { caseId: id, targetSpacing: config.preprocess.target_spacing },
        source.caseInputs(id),
        { label: `preprocess[${id}]` },
      ),
    );
  }
  const cases = (ids: readonly string[]) => ids.map((id) => preprocessed.get(id)!);

  const folds = kFoldSplit(source.ids, config.cross_validation.folds, config.cross_validation.seed);
  graph.node(
    "split",
    { caseIds: source.ids, folds: config.cross_validation.folds, seed: config.cross_validation.seed },
    {},
    { label: "split" },
  );
  const trainingIds = (fold: number) => folds.filter((_, f) => f !== fold).flat();

  const curricula = config.curriculum.enabled
    ? buildCurricula(config, source.ids, folds, cases, trainingIds, graph)
    : undefined;

  return folds.map((heldOut, fold) => {
    const trainIds = trainingIds(fold);
    const training = graph.node(
      "train",
      trainParams(config, {
        depth: config.network.stages,
        epochs: config.training.epochs,
        fga: config.fga.enabled,
        curriculum: config.curriculum.enabled,
        trainCases: trainIds,
        validationCases: heldOut,
      }),
      {
        cases: cases(trainIds),
        validation: cases(heldOut),
        curricula: curricula === undefined ? [] : trainIds.map((id) => curricula.get(id)!),
      },
      { label: `train[${point.name} fold=${fold}]`, tags: { variant: point.name, fold: String(fold) } },
    );
    const prediction = graph.node(
      "predict",
      { caseIds: heldOut, patchSize: config.training.patch_size, mirror: config.inference.mirror },
      { model: training, cases: cases(heldOut) },
      { label: `predict[${point.name} fold=${fold}]` },
    );
    const evaluation = graph.node(
      "evaluate",
      { caseIds: heldOut, hd95: config.evaluation.hd95 },
      { predictions: prediction, cases: cases(heldOut) },
      { label: `evaluate[${point.name} fold=${fold}]`, tags: { variant: point.name, fold: String(fold) } },
    );
    return { evaluation, training };
  });
}

/** Mining nets at every depth and fold, their out-of-fold predictions, and a curriculum per case. */
function buildCurricula(
  config: StudyConfig,
  ids: readonly string[],
  folds: readonly (readonly string[])[],
  cases: (ids: readonly string[]) => NodeRef[],
  trainingIds: (fold: number) => string[],
  graph: GraphBuilder,
): Map<string, NodeRef> {
  // Stage j trains on C_j = E_{d1} ∪ … ∪ E_{dj}; the stage after the last one uses G alone.
  // checkStudy has made sure there is a depth for every stage.
  const depths = [...config.mining.depths].sort((a, b) => a - b);

  // outOfFold[d][f]: predictions of the depth-d mining net on the cases held out of fold f.
  const outOfFold = depths.map((depth) =>
    folds.map((heldOut, fold) => {
      const miningNet = graph.node(
        "train",
        trainParams(config, {
          depth,
          epochs: config.mining.epochs,
          fga: false,
          curriculum: false,
          trainCases: trainingIds(fold),
          validationCases: heldOut,
        }),
        { cases: cases(trainingIds(fold)), validation: cases(heldOut), curricula: [] },
        { label: `train[mining depth=${depth} fold=${fold}]` },
      );
      return graph.node(
        "predict",
        { caseIds: heldOut, patchSize: config.training.patch_size, mirror: config.inference.mirror },
        { model: miningNet, cases: cases(heldOut) },
        { label: `predict[mining depth=${depth} fold=${fold}]` },
      );
    }),
  );

  const foldOf = new Map<string, number>();
  folds.forEach((heldOut, fold) => heldOut.forEach((id) => foldOf.set(id, fold)));
  const curricula = new Map<string, NodeRef>();
  for (const id of ids) {
    const fold = foldOf.get(id)!;
    curricula.set(
      id,
      graph.node(
        "curriculum",
        { caseId: id, depths },
        { case: cases([id])[0]!, predictions: outOfFold.map((byFold) => byFold[fold]!) },
        { label: `curriculum[${id}]` },
      ),
    );
  }
  return curricula;
}

interface TrainChoice {
  readonly depth: number;
  readonly epochs: number;
  readonly fga: boolean;
  readonly curriculum: boolean;
  readonly trainCases: readonly string[];
  readonly validationCases: readonly string[];
}

/**
 * Params of one training. Settings of a part that is off are written in one canonical form, so
 * that a baseline's key does not depend on, say, the FGA weight it never uses.
 */
function trainParams(config: StudyConfig, choice: TrainChoice): TrainParams {
  const t = config.training;
  return {
    network: {
      inChannels: 4,
      numClasses: 4,
      stages: choice.depth,
      baseFeatures: config.network.base_features,
      maxFeatures: config.network.max_features,
      deepSupervision: config.network.deep_supervision,
      fga: choice.fga
        ? {
            enabled: true,
            patchSize: config.fga.patch_size,
            lambda: config.fga.lambda,
            goldenGradient: config.fga.golden_gradient,
          }
        : { enabled: false, patchSize: 0, lambda: 0, goldenGradient: false },
    },
    schedule: {
      epochs: choice.epochs,
      iterationsPerEpoch: t.iterations_per_epoch,
      batchSize: t.batch_size,
      patchSize: t.patch_size,
      lr: t.lr,
      momentum: t.momentum,
      nesterov: t.nesterov,
      weightDecay: t.weight_decay,
      polyExponent: t.poly_exponent,
      oversampleForeground: t.oversample_foreground,
      curriculumEpochs: choice.curriculum ? config.curriculum.stage_epochs : [],
      hardVoxels: choice.curriculum ? config.curriculum.hard_voxels : "background",
    },
    seed: t.seed,
    trainCases: choice.trainCases,
    validationCases: choice.validationCases,
  };
}
