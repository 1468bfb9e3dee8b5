import * as tf from '@tensorflow/tfjs-core';
import { FusedAdamOptimizer } from '@effscale/wasm-train';
import type { Recipe } from './recipes.js';

export function makeOptimizer(r: Recipe, lr: number): tf.Optimizer {
  switch (r.optimizer) {
    case 'rmsprop':
      return tf.train.rmsprop(lr, r.rmspropDecay, r.momentum, r.rmspropEpsilon);
    case 'sgd':
      return r.momentum > 0 ? tf.train.momentum(lr, r.momentum) : tf.train.sgd(lr);
    case 'adam':
      return new FusedAdamOptimizer(lr);
  }
}

/** tfjs optimizers read their rate differently: SGD/momentum cache a scalar, the others read the field per step. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
