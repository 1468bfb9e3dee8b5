import { DataError } from './errors.js';
import { decodeImage } from './decode.js';
import { affineFor, resolveNormalization, type Normalize } from './normalize.js';
import { resizeBilinear } from './resize.js';
import { LUMA } from './stats.js';
import type { Split } from './types.js';

/**
 * Load one JPEG/PNG for prediction as a resolution x resolution x channels Float32Array (HWC), normalized like
 * batches(). Images larger than the resolution are downscaled by sharp (antialiased, as folder loading does);
 * smaller ones are upscaled with the same bilinear resize batches() uses, so MNIST-sized inputs match training.
 */
export async function loadImageFile(
  path: string,
  resolution: number,
  channels: 1 | 3,
  normalize: Normalize,
  stats?: Split['stats'],
): Promise<Float32Array> {
  if (!Number.isInteger(resolution) || resolution < 1) throw new DataError(`resolution must be a positive integer, got ${resolution}`);
  if (channels !== 1 && channels !== 3) throw new DataError(`channels must be 1 or 3, got ${String(channels)}`);
  const { scale, bias } = affineFor(resolveNormalization(normalize, channels, stats));
  const probe = await decodeImage(path);
  const img =
    probe.width > resolution || probe.height > resolution
      ? await decodeImage(path, { width: resolution, height: resolution })
      : probe;
  let src: Float32Array | Uint8Array = img.data;
  if (channels === 1) {
    const gray = new Float32Array(img.width * img.height);
    for (let p = 0; p < gray.length; p++) {
      gray[p] = LUMA[0] * img.data[3 * p] + LUMA[1] * img.data[3 * p + 1] + LUMA[2] * img.data[3 * p + 2];
    }
    src = gray;
  }
  const resized = resizeBilinear(src, img.height, img.width, channels, resolution, resolution);
  for (let i = 0; i < resized.length; i++) {
    const k = i % channels;
    resized[i] = resized[i] * scale[k] + bias[k];
  }
  return resized;
}
