import { SpecError } from '../errors.js';

/**
 * Size limits of a network, checked from the spec before any layer list is built (outlineArchitecture), so that an
 * absurd scaling (--phi 100, --depth 1e5, --resolution 1e9) is refused in milliseconds instead of running out of
 * heap after a minute.
 *
 * MAX_BLOCKS: 10,000 MBConv blocks is 625x B0's 16 and 180x B7's 55 (the paper's deepest sweep, d = 8, has 128).
 * Each block is 10-17 layers, every one held in the layer list and built as a tfjs layer: at the limit some 150,000
 * layers, whose layer list alone takes ~0.5 s to resolve and count, and far more to build as a model. Keras' block
 * names (block{stage}{letter}) also stay unique and printable only below ~55,000 repeats per stage.
 *
 * MAX_IMAGE_ACTIVATION_BYTES: one image's layer outputs (what a training step keeps for the backward pass), float32,
 * must fit in 1 TiB: more than any backend here can hold (the wasm heap is 4 GiB; the largest accelerators hold
 * under 0.2 TiB, the machines these run on a few hundred GiB). A network over it cannot run even at batch 1.
 *
 * Counts beyond Number.MAX_SAFE_INTEGER (2^53 - 1) would not be exact; @effscale/flops refuses those.
 */
export const MAX_BLOCKS = 10_000;
export const MAX_IMAGE_ACTIVATION_BYTES = 2 ** 40;

/** Why a network is refused as too large; `limit` names which bound, for solvers that search up to it. */
export type SizeLimit = 'blocks' | 'activation memory' | 'exact counts';

export class SizeLimitError extends SpecError {
  override name = 'SizeLimitError';
  constructor(
    readonly limit: SizeLimit,
    message: string,
  ) {
    super(message);
  }
}

/** A count for a message: grouped digits while exact, 3 significant digits beyond, never 'Infinity'. */
export function approx(n: number): string {
  if (!Number.isFinite(n)) return 'more than 1.8e308';
  if (n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toPrecision(3);
}

export function bytesText(b: number): string {
  if (!Number.isFinite(b)) return 'more than 1.8e308 bytes';
  if (b >= 2 ** 40) return `${approx(Number((b / 2 ** 40).toPrecision(3)))} TiB`;
  return `${(b / 2 ** 30).toFixed(2)} GiB`;
}
