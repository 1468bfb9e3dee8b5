/**
 * When a training has blown up. A proxy that diverges (too high a learning rate for a wide network) is a normal
 * outcome of a search, so it is a result, detected as soon as it is certain:
 *
 *  - non-finite: the training loss (which carries a NaN from any output probability, see trainer.ts) or a weight
 *    (checked before every checkpoint) is NaN or infinite; or
 *  - far above chance: over the last `window` steps the mean training loss exceeds
 *    min(chanceMultiple x ln(classes), (ln(classes) + CEILING) / 2). ln(classes) is the loss of predicting every class
 *    equally; CEILING = -ln(1e-7) = 16.1 is the most one image can cost, since probabilities are clipped at 1e-7. A
 *    network blown up to huge finite weights predicts one class with certainty, so its mean loss sits near
 *    CEILING x (1 - 1/classes): ~14.5 for 10 classes, against a threshold of 6.9. The second term keeps the threshold
 *    below that ceiling for many classes (3 ln 1000 = 20.7 could never be reached). A learning network, however
 *    slowly, stays near chance or below: Keras' head init starts 10-class Fashion-MNIST proxies at a window mean of
 *    4.5-5.0 (paper and seed recipes, measured); the proxy recipe's zero-initialised head starts at exactly ln(classes).
 *    The window must fill first, which gives a fresh network `window` steps to get under way.
 */
export const LOSS_CEILING = -Math.log(1e-7);

export interface DivergenceRule {
  window: number;
  chanceMultiple: number;
}

export const DEFAULT_DIVERGENCE: DivergenceRule = Object.freeze({ window: 20, chanceMultiple: 3 });

export type Divergence = { reason: 'non-finite loss' | 'non-finite weights' | 'loss far above chance'; loss: number; threshold?: number };

/** The verdict after one more step; `recent` holds the last losses (at most `window`, oldest first) and is not changed. */
export function checkDivergence(rule: DivergenceRule | false, recent: readonly number[], loss: number, classes: number): Divergence | null {
  if (!Number.isFinite(loss)) return { reason: 'non-finite loss', loss };
  if (rule === false || recent.length < rule.window) return null;
  const mean = recent.slice(-rule.window).reduce((a, b) => a + b, 0) / rule.window;
  const threshold = Math.min(rule.chanceMultiple * Math.log(classes), (Math.log(classes) + LOSS_CEILING) / 2);
  return mean > threshold ? { reason: 'loss far above chance', loss: mean, threshold } : null;
}

/** The loss window after a step. */
export function pushLoss(rule: DivergenceRule | false, recent: readonly number[], loss: number): number[] {
  const keep = rule === false ? 0 : rule.window;
  return keep === 0 ? [] : [...recent, loss].slice(-keep);
}
