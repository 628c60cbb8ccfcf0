/**
 * Stochastic gradient descent with (Nesterov) momentum and L2 weight decay, in PyTorch's form,
 * which nnU-Net uses:
 *
 *   g ← ∇L + wd·θ;   v ← μ·v + g;   θ ← θ − lr·(g + μ·v)  (Nesterov)  or  θ ← θ − lr·v.
 *
 * Written here rather than with tf.train.momentum so that the velocities are plain variables
 * in the same order as the network's, which a checkpoint stores and restores exactly, and the
 * learning rate is an argument of every step.
 */
import * as tf from "@tensorflow/tfjs";

export interface SgdSettings {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

export class SgdOptimizer {
  private readonly velocities: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly settings: SgdSettings,
  ) {
    this.velocities = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }

  /**
   * Applies one update with learning rate `lr`, where `gradients[i]` belongs to `variables[i]`.
   * A variable without a gradient (not reached by the loss, e.g. a deep-supervision head of
   * weight 0) is left alone, as PyTorch skips parameters whose gradient is None.
   */
  step(gradients: readonly (tf.Tensor | null | undefined)[], lr: number): void {
    const { momentum, nesterov, weightDecay } = this.settings;
    if (gradients.length !== this.variables.length) {
      throw new Error(`SgdOptimizer.step: ${gradients.length} gradients for ${this.variables.length} variables`);
    }

    tf.tidy(() => {
      for (let i = 0; i < this.variables.length; i++) {
        const gradient = gradients[i];
        if (gradient === null || gradient === undefined) continue;
        const theta = this.variables[i]!;
        const velocity = this.velocities[i]!;
        const g = weightDecay === 0 ? gradient : tf.add(gradient, tf.mul(theta, weightDecay));
        const v = tf.add(tf.mul(velocity, momentum), g);
        const direction = nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
        velocity.assign(v);
        theta.assign(tf.sub(theta, tf.mul(direction, lr)));
      }
    });
  }

  /** Copies the velocities, one flat array per variable, for a checkpoint. */
  async getState(): Promise<Float32Array[]> {
    return Promise.all(this.velocities.map(async (v) => ((await v.data()) as Float32Array).slice()));
  }

  /** Restores velocities saved by `getState`. */
  setState(state: readonly Float32Array[]): void {
    if (state.length !== this.velocities.length) {
      throw new Error(
        `optimizer state has ${state.length} velocities but the network has ${this.velocities.length} variables; ` +
          "the checkpoint belongs to a different network configuration",
      );
    }
    this.velocities.forEach((v, i) => {
      if (state[i]!.length !== v.size) {
        throw new Error(`optimizer state entry ${i} has ${state[i]!.length} values, the variable ${v.size}`);
      }
      const saved = tf.tensor(state[i]!, v.shape);
      v.assign(saved);
      saved.dispose();
    });
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}
