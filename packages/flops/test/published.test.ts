import { describe, expect, it } from 'vitest';
import { count } from '../src/index.js';

// The published numbers of REFERENCE-COUNTS.md section 3, as their sources print them.
const KERAS_APPLICATIONS_PARAMETERS = [5_330_571, 7_856_239, 9_177_569, 12_320_535, 19_466_823, 30_562_527, 43_265_143, 66_658_687];
const TORCHVISION_OPS = [0.386, 0.687, 1.088, 1.827, 4.394, 10.266, 19.068, 37.746];
/** torchvision evaluates each model at its weights' crop: the paper resolutions, except B2 at 288 px. */
const TORCHVISION_CROP = [224, 240, 288, 300, 380, 456, 528, 600];

describe('the published counts, as printed by their sources', () => {
  it('Keras Applications: every weight plus the 7 values of the input Normalization layer', () => {
    KERAS_APPLICATIONS_PARAMETERS.forEach((n, i) => expect(count({ selector: { kind: 'preset', preset: `b${i}` } }).totalParams + 7).toBe(n));
  });

  it("torchvision _ops: GMACs at the weights' evaluation crop, to its 3 decimals", () => {
    TORCHVISION_OPS.forEach((gmacs, i) => {
      const c = count({ selector: { kind: 'preset', preset: `b${i}` }, resolution: TORCHVISION_CROP[i] });
      expect(Number((c.macs / 1e9).toFixed(3)), `b${i}`).toBe(gmacs);
    });
  });
});
