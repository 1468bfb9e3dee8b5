import { DataError } from './errors.js';
export interface AugmentOptions {
  /** Random-crop padding in source pixels (zero fill); 0 disables the crop. Default: 1/8 of the smaller side. */
  pad?: number;
  /** Random horizontal flip (p = 0.5). Default true. */
  flip?: boolean;
}

export interface ResolvedAugment {
  pad: number;
  flip: boolean;
}

export function resolveAugment(augment: boolean | AugmentOptions, height: number, width: number): ResolvedAugment | null {
  if (augment === false) return null;
  const opts = augment === true ? {} : augment;
  if (typeof opts !== 'object' || opts === null) {
    throw new DataError(`Invalid augment ${JSON.stringify(augment)}: expected true, false or {pad, flip}`);
  }
  const pad = opts.pad ?? Math.max(1, Math.round(Math.min(height, width) / 8));
  if (!Number.isInteger(pad) || pad < 0 || pad >= Math.min(height, width)) {
    throw new DataError(`augment.pad must be an integer in 0..${Math.min(height, width) - 1}, got ${pad}`);
  }
  const flip = opts.flip ?? true;
  if (pad === 0 && !flip) return null;
  return { pad, flip };
}

/**
 * Whether proxy training augments a dataset by default.
 * - mnist / emnist: no. Mirrored digits and letters are different (or no) symbols, and the canonical
 *   28x28 centred digits gain little from shifts in short runs.
 * - fashion-mnist, cifar10/100, image folders: yes (pad-and-crop + horizontal flip). Mirroring preserves the
 *   class of garments, objects and flowers, and these sets overfit quickly without it.
 */
export function defaultAugment(datasetName: string): boolean {
  const n = datasetName.toLowerCase();
  return !(n === 'mnist' || n === 'emnist' || n.startsWith('emnist-'));
}
