import { describe, expect, it } from 'vitest';
import { count } from '../src/index.js';

// REFERENCE-COUNTS.md (this folder) section 3: trainable params (torchvision num_params), + BN moving statistics
// (the Keras Applications table less its 7 Normalization values), MACs (torchvision _ops); 3 channels, 1000 classes.
const TABLE = {
  b0: [5_288_548, 5_330_564, 385_814_752],
  b1: [7_794_184, 7_856_232, 686_802_832],
  b2: [9_109_994, 9_177_562, 993_561_872],
  b3: [12_233_232, 12_320_528, 1_827_141_392],
  b4: [19_341_616, 19_466_816, 4_393_771_024],
  b5: [30_389_784, 30_562_520, 10_266_384_752],
  b6: [43_040_704, 43_265_136, 19_067_593_536],
  b7: [66_347_960, 66_658_680, 37_745_884_192],
} as const;

describe('presets match the reference counts to the unit', () => {
  for (const [model, [params, withStats, macs]] of Object.entries(TABLE)) {
    it(model, () => {
      const c = count({ selector: { kind: 'preset', preset: model } });
      expect(c.params).toBe(params);
      expect(c.params + c.bnMovingStats).toBe(withStats);
      expect(c.totalParams).toBe(withStats);
      expect(c.macs).toBe(macs);
    });
  }

  it('B0 MACs split: regular convs, depthwise, SE, FC and the head conv', () => {
    const c = count({ selector: { kind: 'preset', preset: 'b0' } });
    expect(c.macsBreakdown).toEqual({ conv: 349_375_488, depthwise: 34_532_064, se: 627_200, fc: 1_280_000 });
    expect(c.layers.find((l) => l.name === 'top_conv')!.macs).toBe(320 * 1280 * 7 * 7);
    expect(c.blocks).toBe(16);
    expect(c.stageRepeats).toEqual([1, 2, 2, 3, 3, 4, 1]);
    expect(c.stageChannels).toEqual([16, 24, 40, 80, 112, 192, 320]);
    expect([c.stemChannels, c.headChannels]).toEqual([32, 1280]);
  });

  it('per-layer, per-operator and per-module totals all add up to the network totals', () => {
    const c = count({ selector: { kind: 'preset', preset: 'b3' } });
    for (const key of ['params', 'bnMovingStats', 'macs', 'elementwiseOps'] as const) {
      const byLayer = c.layers.reduce((s, l) => s + l[key], 0);
      const byOp = Object.values(c.byOperator).reduce((s, t) => s + t[key], 0);
      const byModule = Object.values(c.byModule).reduce((s, t) => s + t[key], 0);
      expect(byLayer).toBe(c[key]);
      expect(byOp).toBe(c[key]);
      expect(byModule).toBe(c[key]);
    }
    expect(Object.values(c.elementwiseBreakdown).reduce((a, b) => a + b, 0)).toBe(c.elementwiseOps);
    expect(c.notCounted.length).toBeGreaterThan(3);
  });

  it('elementwise ops and activation elements are counted, not silently zero', () => {
    const c = count({ selector: { kind: 'preset', preset: 'b0' } });
    const e = c.elementwiseBreakdown;
    expect(e.swish).toBeGreaterThan(0);
    expect(e.sigmoid).toBeGreaterThan(0);
    expect(e.multiply).toBeGreaterThan(0);
    expect(e.add).toBeGreaterThan(0);
    // stem: BN + swish over 112x112x32, and the conv output itself.
    expect(c.layers.find((l) => l.name === 'stem_bn')!.elementwiseOps).toBe(112 * 112 * 32);
    expect(c.layers.find((l) => l.name === 'stem_conv')!.activationElements).toBe(112 * 112 * 32);
    expect(c.activationElements).toBe(224 * 224 * 3 + c.layers.reduce((s, l) => s + l.activationElements, 0));
  });
});
