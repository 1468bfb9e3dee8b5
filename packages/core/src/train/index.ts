export { train, type TrainOptions, type TrainEvent, type TrainResult, type TrainStatus, type RunRecord, type SplitName } from './trainer.js';
export { DEFAULT_DIVERGENCE, checkDivergence, type DivergenceRule, type Divergence } from './divergence.js';
export { acquireRunLock, LOCK_FILE, RunLockedError, type LockOwner } from './run-lock.js';
export type { EvalRow } from './metrics.js';
export { RECIPES, RECIPE_NAMES, learningRateAt, type Recipe, type RecipeName, type OptimizerName, type ScheduleName } from './recipes.js';
export { evaluate, topK, type EvalResult } from './evaluate.js';
export { saveModel, loadModel, saveCheckpoint, loadCheckpoint, hasCheckpoint, type TrainState } from './checkpoint.js';
export { writeFileAtomic, ensureDir, storageError } from './fsx.js';
export { codeVersion, machine } from './provenance.js';
