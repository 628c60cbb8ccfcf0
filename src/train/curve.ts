/**
 * The training curve: one entry per epoch, saved beside the model as `curve.json`.
 */

export interface CurveEntry {
  /** 0-based epoch. */
  readonly epoch: number;
  /** Mean total loss over the epoch's iterations (segmentation + curriculum + λ·L_FGA). */
  readonly loss: number;
  /** Learning rate used during the epoch. */
  readonly lr: number;
  /** Mean whole-tumour Dice over the validation patches; null without validation cases. */
  readonly valDice: number | null;
  /** 1-based curriculum stage j of the epoch, or null when it trained on G alone. */
  readonly curriculumStage: number | null;
}
