import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';
import { tempDir } from '../../core/test/fixtures/data/helpers.js';

const work = tempDir('demo');
afterAll(() => work.cleanup());

describe('effscale demo', () => {
  it('without Fashion-MNIST says in one line how to install it and still draws the cost part of the report', async () => {
    const out = join(work.dir, 'demo');
    const r = await cli('demo', '--data-dir', join(work.dir, 'no-data'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('\n').filter((l) => l.includes('apt-get install -y dataset-fashion-mnist'))).toHaveLength(1);
    expect(r.out).toContain('b7'); // the B0..B7 table
    expect(r.out.trim().split('\n').at(-1)).toBe(resolve(out, 'index.html'));
    expect(readdirSync(join(out, 'charts')).filter((f) => f.endsWith('.png')).sort()).toEqual(['family.png', 'rounding-gap.png']);
    expect(existsSync(join(out, 'single-dim'))).toBe(false);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('rounding gap');
  });
});
