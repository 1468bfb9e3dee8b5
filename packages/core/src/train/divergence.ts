/**
 * When a training has blown up. A proxy that diverges (too high a learning rate for a wide network) is a normal
 * outcome of a search, so it is a result, detected as soon as it is certain:
 *
 *  - non-finite: the training loss (which carries a NaN from any output probability, see trainer.ts) or a weight
 *    (checked before every checkpoint and at the end) is NaN or infinite; or
 *  - far above chance: over the last `window` steps the mean training loss exceeds `chanceMultiple` x ln(classes),
 *    the loss of predicting every class equally. A network that has blown up to huge finite weights predicts one
 *    class with certainty; with losses clipped at -ln(1e-7) = 16.1 its mean loss sits near 16 x (1 - 1/classes),
 *    ~6x chance for 10 classes, while a network that learns, however slowly, stays near or below chance.
 *    The window must fill first, which gives a fresh network `window` steps to get under way.
 */
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
  const threshold = rule.chanceMultiple * Math.log(classes);
  return mean > threshold ? { reason: 'loss far above chance', loss: mean, threshold } : null;
}

/** The loss window after a step. */
export function pushLoss(rule: DivergenceRule | false, recent: readonly number[], loss: number): number[] {
  const keep = rule === false ? 0 : rule.window;
  return keep === 0 ? [] : [...recent, loss].slice(-keep);
}
