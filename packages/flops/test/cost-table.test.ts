import { describe, expect, it } from 'vitest';
import { outlineArchitecture, resolveArchitecture, type Architecture, type NetworkSpec } from '@effscale/core';
import { count, countArchitecture, countTotals } from '../src/index.js';

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const TOTAL_KEYS = ['name', 'depth', 'width', 'resolution', 'params', 'bnMovingStats', 'macs', 'elementwiseOps', 'activationElements',
  'totalParams', 'macsBreakdown', 'elementwiseBreakdown', 'blocks', 'stageRepeats', 'stageChannels', 'stemChannels', 'headChannels'] as const;
const pick = (r: Record<string, unknown>) => Object.fromEntries(TOTAL_KEYS.map((k) => [k, r[k]]));

describe('cost rules: one table over every layer op, one traversal', () => {
  it('the folded outline (each stage counted from two blocks) gives exactly the full traversal totals', () => {
    const rand = lcg(11);
    const blocks = ['r1_k3_s11_e1_i32_o16_se0.25', 'r3_k5_s22_e4_i16_o24_noskip', 'r2_k3_s11_e6_i24_o24', 'r4_k3_s22_e6_i24_o40_se0.5'];
    for (let t = 0; t < 30; t++) {
      const spec: NetworkSpec = {
        selector: { kind: 'multipliers', depth: 0.2 + rand() * 6, width: 0.1 + rand() * 3, resolution: 1 + Math.floor(rand() * 400) },
        inputChannels: 1 + Math.floor(rand() * 4),
        classes: 1 + Math.floor(rand() * 2000),
        dropout: t % 3 === 0 ? 0 : 0.3,
        dropConnectRate: t % 4 === 0 ? 0 : 0.2,
        ...(t % 2 === 0 ? { blocks } : {}),
      };
      expect(pick(countTotals(spec) as never), JSON.stringify(spec.selector)).toEqual(pick(count(spec) as never));
    }
    for (const preset of ['b0', 'b3', 'b7']) {
      const spec: NetworkSpec = { selector: { kind: 'preset', preset } };
      expect(pick(countTotals(spec) as never)).toEqual(pick(count(spec) as never));
    }
  });

  it('every op of the architecture has a rule; totals by operator and module add up', () => {
    const c = count({ selector: { kind: 'preset', preset: 'b0' } });
    expect(Object.keys(c.byOperator).sort()).toEqual(
      ['add', 'batch_norm', 'conv2d', 'dense', 'depthwise_conv2d', 'dropout', 'global_avg_pool', 'multiply', 'reshape', 'stochastic_depth', 'swish'],
    );
    expect(c.byOperator.reshape.activationElements).toBe(0);
    expect(c.byOperator.dropout.macs + c.byOperator.stochastic_depth.elementwiseOps).toBe(0);
    expect(Object.values(c.byOperator).reduce((s, t) => s + t.activationElements, 224 * 224 * 3)).toBe(c.activationElements);
  });

  it('writes into none of its arguments (deeply frozen specs and architectures count the same)', () => {
    const spec = { selector: { kind: 'compound', phi: 1.5 }, classes: 10 } as const satisfies NetworkSpec;
    const arch: Architecture = resolveArchitecture(spec);
    const expected = JSON.stringify(countArchitecture(resolveArchitecture(spec)));
    expect(JSON.stringify(countArchitecture(deepFreeze(arch)))).toBe(expected);
    expect(JSON.stringify(count(deepFreeze({ ...spec, selector: { ...spec.selector } })))).toBe(expected);
    expect(() => countTotals(deepFreeze(outlineArchitecture(spec)))).not.toThrow();
  });
});
