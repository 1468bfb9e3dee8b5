export { train, type TrainOptions, type TrainEvent, type TrainResult, type RunRecord } from './trainer.js';
export { RECIPES, RECIPE_NAMES, learningRateAt, type Recipe, type RecipeName, type OptimizerName, type ScheduleName } from './recipes.js';
export { evaluate, topK, type EvalResult } from './evaluate.js';
export { saveModel, loadModel, saveCheckpoint, loadCheckpoint, hasCheckpoint, type TrainState } from './checkpoint.js';
export { writeFileAtomic } from './fsx.js';
export { codeVersion, machine } from './provenance.js';
