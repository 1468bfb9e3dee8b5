export { BUDGETS, BUDGET_NAMES, type Budget, type BudgetName } from './budgets.js';
export { EXPERIMENTS, EXPERIMENT_NAMES, PAPER_MULTIPLIERS, WIDTH_BY_DR_BASELINES, DEFAULT_COEFFICIENTS, type Experiment, type ExperimentOptions, type ExperimentPlan, type Member } from './definitions.js';
