import type { Architecture } from '../arch/architecture.js';
import type { NetworkSpec } from '../arch/spec.js';
import type { BackendInfo } from '../backend/index.js';
import type { LoadOptions } from '../data/load.js';
import type { Normalize } from '../data/normalize.js';
import type { ChannelStats } from '../data/types.js';
import type { TrainState } from './checkpoint.js';
import type { Divergence, DivergenceRule } from './divergence.js';
import type { EvalResult } from './evaluate.js';
import type { EvalRow } from './metrics.js';
import type { codeVersion, machine } from './provenance.js';
import type { Recipe, RecipeName } from './recipes.js';

export interface TrainOptions {
  /** The network: classes and input channels are filled from the dataset unless given. */
  network: NetworkSpec;
  /** The data, including an optional validation split carved from the training images (valFraction / valCount). */
  data: LoadOptions;
  recipe?: RecipeName;
  overrides?: Partial<Omit<Recipe, 'name'>>;
  /** Where to stop this time: whole epochs, or optimizer steps (one of them). */
  epochs?: number;
  steps?: number;
  /**
   * The planned length of the whole run in steps, over which the schedule (warmup, cosine, decay) is computed;
   * default: the steps of this budget. A run stopped early under a horizon and resumed to a later stop point
   * (successive halving) ends exactly where one uninterrupted run to that point ends.
   */
  horizon?: number;
  batchSize: number;
  evalBatchSize?: number;
  /** With a validation split: also evaluate the test split once, at the end (reported separately, never for choosing). */
  evalTest?: boolean;
  seed?: number;
  outDir: string;
  resume?: boolean;
  backend?: string;
  augment?: boolean;
  normalize?: Normalize;
  /** When a run counts as diverged (see divergence.ts); false: only non-finite losses and weights. */
  divergence?: DivergenceRule | false;
  /** Called with the resolved architecture before anything is built; throws to refuse (e.g. the memory guard). */
  preflight?: (arch: Architecture, batchSize: number, backend: BackendInfo) => void;
  onEvent?: (e: TrainEvent) => void;
  /** Aborting checkpoints at the next step boundary and returns; resuming continues from there. */
  signal?: AbortSignal;
  /** Also checkpoint every N steps within an epoch, so a crash (not just Ctrl-C) loses at most N steps. */
  checkpointEvery?: number;
}

export type TrainEvent =
  | { type: 'start'; run: RunRecord; resumedFrom: TrainState | null; totalSteps: number; stepsPerEpoch: number }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; imagesPerSec: number }
  | { type: 'eval-start'; epoch: number; split: SplitName }
  | { type: 'epoch'; metrics: EvalRow }
  | { type: 'checkpoint'; dir: string; step: number }
  | { type: 'interrupted'; step: number }
  | { type: 'diverged'; step: number; divergence: Divergence }
  | { type: 'done'; result: TrainResult };

export type SplitName = 'train' | 'val' | 'test';

export interface RunRecord {
  kind: 'effscale-train';
  createdAt: string;
  code: ReturnType<typeof codeVersion>;
  machine: ReturnType<typeof machine>;
  backend: BackendInfo;
  seed: number;
  network: { spec: NetworkSpec; name: string; depth: number; width: number; resolution: number; inputChannels: number; classes: number };
  data: {
    name: string; dir?: string; source: string; classes: string[]; trainCount: number; valCount: number; testCount: number;
    limits: Pick<LoadOptions, 'trainLimit' | 'testLimit' | 'testFraction' | 'valFraction' | 'valCount'>;
    /** The split evaluated during training (val when there is one, else test). */
    evalSplit: 'val' | 'test';
    augment: boolean; normalize: ChannelStats;
  };
  recipe: Recipe;
  budget: { epochs?: number; steps?: number; totalSteps: number; horizon: number; stepsPerEpoch: number; batchSize: number };
  divergence: DivergenceRule | false;
}

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

export interface TrainResult {
  outDir: string;
  status: TrainStatus;
  completed: boolean;
  step: number;
  epochs: EvalRow[];
  /** The last evaluation of each held-out split (val: during training when there is a val split; test: when evaluated). */
  val: EvalResult | null;
  test: EvalResult | null;
  /** Diverged runs: why, and the loss that showed it. */
  divergence?: Divergence;
  trainSeconds: number;
  imagesPerSec: number;
}

/** Everything fixed before the first step: validated settings, data, network, budget and the run record. */
