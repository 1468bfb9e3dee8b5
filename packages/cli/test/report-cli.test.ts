import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';
import { tempDir, writeIdxSet } from '../../core/test/fixtures/data/helpers.js';

const data = tempDir('report-data');
writeIdxSet(data.dir, { train: 400, test: 64, size: 8, classes: 10 });
const work = tempDir('report-out');
afterAll(() => {
  data.cleanup();
  work.cleanup();
});
const small = ['--data', 'mnist', '--data-dir', data.dir, '--depth', '0.5', '--width', '0.25', '--resolution', '16', '--channels', '1', '--classes', '10',
  '--train-limit', '256', '--val-count', '64', '--batch-size', '16', '--backend', 'wasm'];
const files = (dir: string) => readdirSync(join(dir, 'charts')).sort();
const oneLine = (r: { code: number; err: string }) => {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
};

describe('effscale report', () => {
  it('--costs draws the rounding gap and the families with no training, and states the gap', async () => {
    const out = join(work.dir, 'costs');
    const r = await cli('report', '--costs', '--phi', '0:4', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(files(out)).toEqual(['family.png', 'family.svg', 'family.vl.json', 'rounding-gap.png', 'rounding-gap.svg', 'rounding-gap.vl.json']);
    expect(r.out).toMatch(/at phi 1 the realized MACs are 2\.573x the base against the constraint's 1\.920x/);
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toContain('B0..B7 (paper presets)');
    expect(page).not.toContain('http-equiv="refresh"');
    const spec = JSON.parse(readFileSync(join(out, 'charts', 'rounding-gap.vl.json'), 'utf8'));
    expect(JSON.stringify(spec)).toContain('2.5728');
  });

  it('a training run: its learning curves and where it ended', async () => {
    const run = join(work.dir, 'run');
    const t = await cli('train', ...small, '--epochs', '2', '--out', run, '--seed', '3');
    expect(t.code, t.err).toBe(0);
    const r = await cli('report', run);
    expect(r.code, r.err).toBe(0);
    expect(files(join(run, 'report'))).toContain('training-curve.png');
    expect(r.out).toMatch(/done after 24 steps, val top-1/);
    expect(r.out).toMatch(/\(seed 3\)/);
    const page = readFileSync(join(run, 'report', 'index.html'), 'utf8');
    expect(page).toContain('training run');
  });

  it('refuses, in one line with exit 2, a path that holds no result, an empty study and an unwritable --out; nothing is half-written', async () => {
    oneLine(await cli('report', join(work.dir, 'missing')));
    const empty = join(work.dir, 'nothing');
    mkdirSync(empty);
    const r = await cli('report', empty);
    oneLine(r);
    expect(r.err).toMatch(/holds no effscale result/);
    const study = join(work.dir, 'empty-study');
    mkdirSync(study);
    writeFileSync(join(study, 'journal.jsonl'), '');
    const e = await cli('report', study);
    oneLine(e);
    expect(e.err).toMatch(/empty/);
    const file = join(work.dir, 'a-file');
    writeFileSync(file, 'x');
    const w = await cli('report', '--costs', '--out', join(file, 'report'));
    oneLine(w);
    expect(w.err).toMatch(/cannot write the report/);
    expect(existsSync(join(file, 'report'))).toBe(false);
    oneLine(await cli('report', '--costs', '--phi', '-1:2'));
    oneLine(await cli('report', join(work.dir, 'run'), '--phi', '1'));
  });
});
