/**
 * Training recipes. `paper`: the EfficientNet paper / official TPU code. `seed`: the widely used PyTorch
 * classification seed scripts (train.py: SGD, cosine to lrf). Every field can be overridden.
 */
export type OptimizerName = 'rmsprop' | 'sgd' | 'adam';
export type ScheduleName = 'exponential' | 'cosine' | 'constant';

export interface Recipe {
  name: string;
  optimizer: OptimizerName;
  /** Peak learning rate for a batch of `lrBatch` images; scaled linearly with the real batch size. */
  lr: number;
  lrBatch: number;
  momentum: number;
  /** RMSProp decay (rho). */
  rmspropDecay: number;
  rmspropEpsilon: number;
  /** L2 weight decay on conv and dense kernels (not BN, not biases), added to the gradients. */
  weightDecay: number;
  schedule: ScheduleName;
  /** Linear warmup, in epochs; capped at `warmupMaxFraction` of the budget so short proxies still reach peak lr. */
  warmupEpochs: number;
  warmupMaxFraction: number;
  /** exponential: multiply by decayRate every decayEpochs. */
  decayRate: number;
  decayEpochs: number;
  /** cosine: final lr as a fraction of the peak. */
  lrf: number;
  labelSmoothing: number;
  /** null: the preset's dropout (or 0.2). */
  dropout: number | null;
  dropConnectRate: number;
  /**
   * Start the classifier at zero (all classes equally likely) instead of Keras' VarianceScaling(1/3, fan_out): with
   * few classes Keras' init gives logits of std ~3-5 and a first epoch spent undoing them.
   */
  zeroInitHead: boolean;
  /** Data augmentation; null: the dataset's default (off for digits, on otherwise). */
  augment: boolean | null;
}

export const RECIPES: Readonly<Record<'paper' | 'seed' | 'proxy', Recipe>> = Object.freeze({
  paper: {
    name: 'paper',
    optimizer: 'rmsprop',
    lr: 0.016, // 0.256 per 4096 images in the official code
    lrBatch: 256,
    momentum: 0.9,
    rmspropDecay: 0.9,
    rmspropEpsilon: 1e-3,
    weightDecay: 1e-5,
    schedule: 'exponential',
    warmupEpochs: 5,
    warmupMaxFraction: 0.1,
    decayRate: 0.97,
    decayEpochs: 2.4,
    lrf: 0,
    labelSmoothing: 0.1,
    dropout: null,
    dropConnectRate: 0.2,
    zeroInitHead: false,
    augment: null,
  },
  seed: {
    name: 'seed',
    optimizer: 'sgd',
    lr: 0.01,
    lrBatch: 16,
    momentum: 0.9,
    rmspropDecay: 0.9,
    rmspropEpsilon: 1e-3,
    weightDecay: 1e-4,
    schedule: 'cosine',
    warmupEpochs: 0,
    warmupMaxFraction: 0,
    decayRate: 1,
    decayEpochs: 1,
    lrf: 0.01,
    labelSmoothing: 0,
    dropout: null,
    dropConnectRate: 0.2,
    zeroInitHead: false,
    augment: null,
  },
  /**
   * Short proxy trainings (about one epoch). From scratch, EfficientNet learns slowly in its first epoch: Keras'
   * head init starts 10-class logits large, SGD at the seed's rate barely moves, regularization only slows it.
   * Measured on Fashion-MNIST (README): Adam at 2e-3 per 32 images, zero-initialized head, no dropout.
   */
  proxy: {
    name: 'proxy',
    optimizer: 'adam',
    lr: 0.002,
    lrBatch: 32,
    momentum: 0,
    rmspropDecay: 0.9,
    rmspropEpsilon: 1e-3,
    weightDecay: 0,
    schedule: 'cosine',
    warmupEpochs: 0.05,
    warmupMaxFraction: 0.05,
    decayRate: 1,
    decayEpochs: 1,
    lrf: 0.05,
    labelSmoothing: 0,
    dropout: 0,
    dropConnectRate: 0,
    zeroInitHead: true,
    augment: false,
  },
});

export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

/** Learning rate at a (0-based) global step: warmup, then the schedule. Pure, so resume reproduces it exactly. */
export function learningRateAt(r: Recipe, step: number, stepsPerEpoch: number, totalSteps: number, batchSize: number): number {
  const peak = (r.lr * batchSize) / r.lrBatch;
  const warmupSteps = Math.min(Math.round(r.warmupEpochs * stepsPerEpoch), Math.floor(r.warmupMaxFraction * totalSteps));
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const epoch = step / stepsPerEpoch;
  switch (r.schedule) {
    case 'constant':
      return peak;
    case 'exponential':
      return peak * r.decayRate ** Math.floor(epoch / r.decayEpochs);
    case 'cosine': {
      const t = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
      return peak * (((1 + Math.cos(Math.PI * t)) / 2) * (1 - r.lrf) + r.lrf);
    }
  }
}
