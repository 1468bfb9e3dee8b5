/**
 * How much each experiment trains. smoke: seconds per network, for CI and the demo (the numbers mean little);
 * quick: single-dim in under an hour on a 2-core CPU with 2 workers (measured in the README); full: the research
 * setting (most of Fashion-MNIST, several epochs, three seeds).
 */
export type BudgetName = 'smoke' | 'quick' | 'full';
export const BUDGET_NAMES: readonly BudgetName[] = ['smoke', 'quick', 'full'];

export interface Budget {
  /** Images trained on per epoch (stratified subset), validation images carved from the training set, test images. */
  trainLimit: number;
  valCount: number;
  testLimit: number;
  epochs: number;
  seeds: number[];
  /** The paper's multipliers are used whole from quick up; smoke keeps the first few of each sweep. */
  sweepLength: number | null;
}

export const BUDGETS: Readonly<Record<BudgetName, Budget>> = Object.freeze({
  // Two seeds even in smoke: with one, no finding can be judged against the seed spread.
  smoke: { trainLimit: 320, valCount: 200, testLimit: 200, epochs: 1, seeds: [0, 1], sweepLength: 3 },
  quick: { trainLimit: 4000, valCount: 1000, testLimit: 2000, epochs: 1, seeds: [0, 1], sweepLength: null },
  full: { trainLimit: 50000, valCount: 5000, testLimit: 10000, epochs: 3, seeds: [0, 1, 2], sweepLength: null },
});
