import { describe, expect, it } from 'vitest';
import {
  B0_BLOCK_STRINGS, decodeBlockString, encodeBlockString, resolveArchitecture, roundFilters, roundRepeats, scaleSpec,
} from '../src/index.js';

describe('block strings', () => {
  it('decode the official B0 strings and encode them back unchanged', () => {
    for (const s of B0_BLOCK_STRINGS) expect(encodeBlockString(decodeBlockString(s))).toBe(s);
    expect(decodeBlockString('r2_k3_s22_e6_i16_o24_se0.25')).toEqual({
      repeats: 2, kernel: 3, stride: 2, expandRatio: 6, inputFilters: 16, outputFilters: 24, seRatio: 0.25, idSkip: true,
    });
    expect(decodeBlockString('r1_k3_s11_e1_i32_o16_noskip').idSkip).toBe(false);
    expect(decodeBlockString('r1_k3_s11_e1_i32_o16').seRatio).toBe(0);
  });

  it('reject malformed strings naming the bad field', () => {
    expect(() => decodeBlockString('r2_k3_s22_e6_i16')).toThrow(/missing outputFilters/);
    expect(() => decodeBlockString('r2_k3_s21_e6_i16_o24')).toThrow(/stride '21' must be square/);
    expect(() => decodeBlockString('r2_k3_s22_e6_i16_o24_x5')).toThrow(/unknown field 'x5'/);
    expect(() => decodeBlockString('r0_k3_s22_e6_i16_o24')).toThrow(/repeats '0' is not a positive integer/);
    expect(() => decodeBlockString('r1_k3_s22_e6_i16_o24_se1.5')).toThrow(/SE ratio '1.5'/);
  });
});

describe('rounding rules', () => {
  it('round_filters follows the official code (multiple of 8, never below 90%)', () => {
    expect(roundFilters(32, 1)).toBe(32);
    expect(roundFilters(32, 1.1)).toBe(32); // 35.2 -> 32 (>= 0.9 * 35.2)
    expect(roundFilters(1280, 1.1)).toBe(1408);
    expect(roundFilters(16, 0.25)).toBe(8); // never below the divisor
    expect(roundFilters(40, 1.4)).toBe(56);
    expect(roundFilters(24, 1.8)).toBe(40); // 43.2 -> 40
    expect(roundFilters(112, 1.2)).toBe(136); // 134.4 -> 136
  });
  it('round_repeats is ceil', () => {
    expect(roundRepeats(1, 1.1)).toBe(2);
    expect(roundRepeats(4, 3.1)).toBe(13);
    expect(roundRepeats(3, 1)).toBe(3);
  });
});

describe('three ways to name a network resolve to one architecture', () => {
  it('phi 0 compound, b0 preset and unit multipliers are the same network', () => {
    const layers = (a: ReturnType<typeof resolveArchitecture>) => a.layers.map((l) => [l.name, l.outputShape.join('x')]);
    const preset = resolveArchitecture({ selector: { kind: 'preset', preset: 'b0' } });
    const phi0 = resolveArchitecture({ selector: { kind: 'compound', phi: 0 } });
    const mult = resolveArchitecture({ selector: { kind: 'multipliers', depth: 1, width: 1 } });
    expect(layers(phi0)).toEqual(layers(preset));
    expect(layers(mult)).toEqual(layers(preset));
  });

  it('uses Keras layer names and shapes, SE width from the block input filters', () => {
    const a = resolveArchitecture({ selector: { kind: 'preset', preset: 'b0' } });
    const names = a.layers.map((l) => l.name);
    expect(names.slice(0, 3)).toEqual(['stem_conv', 'stem_bn', 'stem_activation']);
    expect(names).toContain('block1a_dwconv');
    expect(names).not.toContain('block1a_expand_conv');
    expect(names).toContain('block2a_expand_conv');
    expect(names).toContain('block2b_add');
    expect(names).not.toContain('block2a_add'); // stride 2: no skip
    expect(names.slice(-6)).toEqual(['top_conv', 'top_bn', 'top_activation', 'avg_pool', 'top_dropout', 'predictions']);
    const se = a.layers.find((l) => l.name === 'block2a_se_reduce')!;
    expect(se.outputShape).toEqual([1, 1, 4]); // 16 * 0.25, not 96 * 0.25
    expect(a.layers.find((l) => l.name === 'block7a_project_conv')!.outputShape).toEqual([7, 7, 320]);
  });

  it('stochastic depth rate grows linearly over all blocks', () => {
    const a = resolveArchitecture({ selector: { kind: 'preset', preset: 'b0' } });
    expect(a.blockList.map((b) => b.dropRate)).toEqual(a.blockList.map((_, i) => (0.2 * i) / 16));
    expect(a.layers.find((l) => l.name === 'block2b_drop')!.rate).toBeCloseTo((0.2 * 2) / 16, 12);
  });

  it('BN layers carry Keras momentum 0.99 and epsilon 1e-3 unless told otherwise', () => {
    const bn = (m?: number) => resolveArchitecture({ selector: { kind: 'preset', preset: 'b0' }, bnMomentum: m }).layers.filter((l) => l.op === 'batch_norm');
    expect(new Set(bn().map((l) => `${l.momentum}/${l.epsilon}`))).toEqual(new Set(['0.99/0.001']));
    expect(new Set(bn(0.9).map((l) => l.momentum))).toEqual(new Set([0.9]));
  });

  it('options: classes, channels, resolution override and dropout', () => {
    const a = resolveArchitecture({ selector: { kind: 'preset', preset: 'b3' }, classes: 10, inputChannels: 1, resolution: 64, dropout: 0 });
    expect(a.inputShape).toEqual([64, 64, 1]);
    expect(a.layers.at(-1)!.outputShape).toEqual([10]);
    expect(a.layers.map((l) => l.name)).not.toContain('top_dropout');
    expect(a.name).toBe('b3@64px');
  });
});

describe('bad input is named', () => {
  const bad: [Parameters<typeof scaleSpec>[0], RegExp][] = [
    [{ selector: { kind: 'preset', preset: 'b9' } }, /unknown model 'b9'/],
    [{ selector: { kind: 'compound', phi: Number.NaN } }, /phi 'NaN' is not a finite number/],
    [{ selector: { kind: 'multipliers', depth: 0, width: 1 } }, /depth 0 must be > 0/],
    [{ selector: { kind: 'multipliers', depth: 1, width: -2 } }, /width -2 must be > 0/],
    [{ selector: { kind: 'multipliers', depth: 1, width: 1, resolution: 22.5 } }, /resolution '22.5' must be a positive integer/],
    [{ selector: { kind: 'preset', preset: 'b0' }, classes: 0 }, /classes '0' must be a positive integer/],
    [{ selector: { kind: 'preset', preset: 'b0' }, dropout: 1 }, /dropout 1 must be in \[0, 1\)/],
    [{ selector: { kind: 'preset', preset: 'b0' }, bnMomentum: 1.5 }, /BN momentum 1.5 must be in \[0, 1\)/],
  ];
  for (const [spec, message] of bad) it(String(message), () => expect(() => scaleSpec(spec)).toThrow(message));
});
