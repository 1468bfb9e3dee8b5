import { FusedAdamOptimizer } from '@effscale/wasm-train';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/index.js';
import { makeOptimizer } from '../src/train/optimizer.js';
import { RECIPES } from '../src/train/recipes.js';

// The fused Adam itself is tested in packages/wasm-train/test/fused-adam.test.ts.

beforeAll(async () => {
  await initBackend('cpu');
});

describe('FusedAdamOptimizer', () => {
  it('is what makeOptimizer returns for the adam recipes', () => {
    const recipe = Object.values(RECIPES).find((r) => r.optimizer === 'adam')!;
    const opt = makeOptimizer(recipe, 1e-3);
    expect(opt).toBeInstanceOf(FusedAdamOptimizer);
    expect(opt.getClassName()).toBe('Adam');
    opt.dispose();
  });
});
