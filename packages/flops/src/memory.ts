import { MemoryGuardError, type Architecture } from '@effscale/core';
import { countArchitecture, countTotals, type Totals } from './count.js';

export { MemoryGuardError };

export interface StepMemory {
  bytes: number;
  /** Activations and their gradients, per image (float32). */
  perImageBytes: number;
  /** Weights, gradients and two optimizer slots (float32), independent of the batch. */
  fixedBytes: number;
}

/**
 * Bytes one training step holds: the activations kept for the backward pass and their gradients at peak (2x),
 * plus weights, gradients and two optimizer slots per parameter (BN statistics included). An estimate from the
 * analytic counts: framework workspace and fragmentation are not in it.
 */
export function trainingStepMemory(arch: Architecture, batchSize: number): StepMemory {
  return stepMemory(countArchitecture(arch), batchSize);
}

function stepMemory(c: Pick<Totals, 'params' | 'bnMovingStats' | 'activationElements'>, batchSize: number): StepMemory {
  const perImageBytes = c.activationElements * 4 * 2;
  const fixedBytes = (c.params * 4 + c.bnMovingStats) * 4;
  return { bytes: perImageBytes * batchSize + fixedBytes, perImageBytes, fixedBytes };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Refuse a configuration whose step would not fit in `limitBytes`, suggesting one that does. */
export function checkTrainingMemory(arch: Architecture, batchSize: number, limitBytes: number, limitNote = ''): StepMemory {
  const m = trainingStepMemory(arch, batchSize);
  if (m.bytes <= limitBytes) return m;
  const maxBatch = Math.floor((limitBytes - m.fixedBytes) / m.perImageBytes);
  let res = arch.resolution;
  const at = (r: number) => stepMemory(countTotals({ ...arch, resolution: r }), batchSize).bytes;
  while (res > 8 && at(res) > limitBytes) res = Math.max(8, Math.floor(res * 0.9));
  const fits = [maxBatch >= 1 ? `--batch-size ${maxBatch} at ${arch.resolution} px` : null, at(res) <= limitBytes ? `--resolution ${res} at batch ${batchSize}` : null]
    .filter(Boolean)
    .join(', or ');
  throw new MemoryGuardError(
    `a training step of ${arch.name} at batch ${batchSize} and ${arch.resolution} px needs about ${gib(m.bytes)}, over the ` +
      `${gib(limitBytes)} limit${limitNote}; ${fits ? `what fits: ${fits}` : 'nothing smaller fits either'} (or raise --max-memory)`,
  );
}
