/** Every stage kind of the FANCL study. Worker processes import this module by path. */
import type { StageKind } from "../dag/stage.js";
import { curriculumStage } from "./curriculum.js";
import { evaluateStage } from "./evaluate.js";
import { ingestStage } from "./ingest.js";
import { predictStage } from "./predict.js";
import { preprocessStage } from "./preprocess.js";
import { reportStage } from "./report.js";
import { splitStage } from "./split.js";
import { synthStage } from "./synth.js";
import { trainStage } from "./train.js";

export const stages: readonly StageKind[] = [
  synthStage,
  ingestStage,
  preprocessStage,
  splitStage,
  trainStage,
  predictStage,
  curriculumStage,
  evaluateStage,
  reportStage,
];
