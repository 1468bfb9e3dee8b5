import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIVERGENCE, RECIPES } from '@effscale/core/train';
import { DEFAULT_PROXY, EXIT_DIVERGED, TRAIN_HELP } from '../src/commands/train.js';

/** The README is the front door: the defaults it documents must be the code's. */
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

function grab(pattern: RegExp): string[] {
  const m = pattern.exec(README);
  expect(m, `README should match ${pattern}`).not.toBeNull();
  return m!.slice(1);
}

describe('README defaults match the code', () => {
  it('the default proxy network', () => {
    const [d, w, px] = grab(/the default proxy: B0 at depth ([\d.]+), width ([\d.]+), (\d+) px/).map(Number);
    expect({ depth: d, width: w, resolution: px }).toEqual(DEFAULT_PROXY);
    const [d2, w2, px2] = grab(/`pnpm effscale train --epochs 1` \(B0 at depth ([\d.]+), width ([\d.]+), (\d+) px/).map(Number);
    expect({ depth: d2, width: w2, resolution: px2 }).toEqual(DEFAULT_PROXY);
    expect(TRAIN_HELP).toContain(`default --depth ${DEFAULT_PROXY.depth} --width ${DEFAULT_PROXY.width} --resolution ${DEFAULT_PROXY.resolution}`);
  });

  it('the proxy recipe', () => {
    const p = RECIPES.proxy;
    const [lr, batch, warmup, warmupMax, lrf] = grab(
      /`proxy` \(default: Adam ([\d.e-]+) per (\d+) images, warmup for ([\d.]+) epochs \(at most (\d+)% of the budget\), then cosine to ([\d.]+) of the peak/,
    );
    expect([p.optimizer, p.schedule]).toEqual(['adam', 'cosine']);
    expect([Number(lr), Number(batch), Number(warmup), Number(warmupMax) / 100, Number(lrf)]).toEqual([p.lr, p.lrBatch, p.warmupEpochs, p.warmupMaxFraction, p.lrf]);
    expect(README).toContain('zero-initialised classifier, no dropout, no stochastic depth, no augmentation');
    expect([p.zeroInitHead, p.dropout, p.dropConnectRate, p.augment]).toEqual([true, 0, 0, false]);
  });

  it('the paper and seed recipes', () => {
    const [decay, rho, lr, batch, rate, every, wd, ls, sd] = grab(
      /`paper` \(RMSProp ([\d.]+)\/([\d.]+), ([\d.]+) per (\d+) images, warmup then ([\d.]+) every ([\d.]+) epochs, weight decay ([\d.e-]+), label smoothing ([\d.]+), stochastic depth ([\d.]+)/,
    ).map(Number);
    const p = RECIPES.paper;
    expect([rho, decay, lr, batch, rate, every, wd, ls, sd]).toEqual([p.rmspropDecay, p.momentum, p.lr, p.lrBatch, p.decayRate, p.decayEpochs, p.weightDecay, p.labelSmoothing, p.dropConnectRate]);
    const [m, swd, slrf] = grab(/`seed` \(SGD momentum ([\d.]+), weight decay ([\d.e-]+), cosine to lrf ([\d.]+)/).map(Number);
    expect([m, swd, slrf]).toEqual([RECIPES.seed.momentum, RECIPES.seed.weightDecay, RECIPES.seed.lrf]);
  });

  it('the divergence rule and the exit codes', () => {
    const [window, multiple] = grab(/mean training loss over the last (\d+) steps exceeds (\d+) x ln\(classes\)/).map(Number);
    expect({ window, chanceMultiple: multiple }).toEqual({ ...DEFAULT_DIVERGENCE });
    const [code] = grab(/(\d+) the training diverged/).map(Number);
    expect(code).toBe(EXIT_DIVERGED);
    expect(README).toContain('exits with code 3');
  });
});
