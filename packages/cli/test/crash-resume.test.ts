import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@effscale/core/backend';
import { loadModel } from '@effscale/core/train';
import { cli } from './run-cli.js';
import { tempDir, writeIdxSet } from '../../core/test/fixtures/data/helpers.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));
const data = tempDir('crash-data');
writeIdxSet(data.dir, { train: 96, test: 32, size: 8, classes: 4 });
const runs = tempDir('crash-runs');
afterAll(() => {
  data.cleanup();
  runs.cleanup();
});

// 6 steps an epoch, 4 epochs; the proxy recipe (fused Adam), the one every search trial uses.
const flags = ['--depth', '1', '--width', '0.25', '--resolution', '16', '--data', 'mnist', '--data-dir', data.dir, '--batch-size', '16',
  '--steps', '24', '--backend', 'wasm', '--seed', '5'];

function stepOnDisk(out: string): number {
  return JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).step;
}

/** Run `effscale train` as its own process; EFFSCALE_FAILPOINT makes it signal itself at a chosen point (see fsx.ts). */
function trainProcess(out: string, failpoint: string, extra: string[] = []): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', ...flags, ...extra, '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EFFSCALE_FAILPOINT: failpoint },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function weights(out: string): Promise<Float32Array[]> {
  const m = await loadModel(join(out, 'checkpoint'));
  const w = m.getWeights().map((t) => t.dataSync() as Float32Array);
  m.dispose();
  return w;
}

let clean: { out: string; json: { test: { top1: number } } };
beforeAll(async () => {
  const out = join(runs.dir, 'clean');
  const r = await cli('train', ...flags, '--out', out, '--json');
  expect(r.code, r.err).toBe(0);
  clean = { out, json: JSON.parse(r.out) };
  await initBackend('wasm');
});

async function expectCleanWeights(out: string): Promise<void> {
  const [a, b] = [await weights(out), await weights(clean.out)];
  let differing = 0;
  a.forEach((x, i) => x.forEach((v, j) => void (Object.is(v, b[i][j]) || differing++)));
  expect(differing).toBe(0);
}

describe('crash safety', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} checkpoints the step it lands in, exits ${code}, says how to resume, and resumes to the uninterrupted weights`, async () => {
      const out = join(runs.dir, signal);
      // The signal arrives right after the second checkpoint (step 6, the end of epoch 1; the first is step 4).
      const run = await trainProcess(out, `after-checkpoint@2:${signal}`, ['--checkpoint-every', '4']);
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toMatch(/finishing this step and checkpointing/);
      const said = new RegExp(`interrupted at step (\\d+); continue with the same command plus --resume --out ${out.replace(/[/\\]/g, '.')}`).exec(run.stderr);
      expect(said).not.toBeNull();
      const step = Number(said![1]);
      expect(step).toBeGreaterThan(6); // past the checkpoint it was sent after...
      expect(step).toBeLessThan(12); // ...and not at the next periodic one
      expect(stepOnDisk(out)).toBe(step);
      expect(readdirSync(runs.dir).filter((f) => f.startsWith(signal))).toEqual([signal]);
      const resumed = await cli('train', ...flags, '--checkpoint-every', '4', '--out', out, '--resume', '--json');
      expect(resumed.code, resumed.err).toBe(0);
      expect(resumed.err).toMatch(new RegExp(`resuming at step ${step} of 24`));
      await expectCleanWeights(out);
    });
  }

  it('a run killed with SIGKILL after a checkpoint resumes from it and ends with the uninterrupted weights', async () => {
    const crashed = join(runs.dir, 'crashed');
    const run = await trainProcess(crashed, 'after-checkpoint@3', ['--checkpoint-every', '2']);
    expect(run.signal).toBe('SIGKILL');
    expect(stepOnDisk(crashed)).toBe(6); // checkpoints at steps 2, 4 and 6 (the end of epoch 1)
    expect(existsSync(join(crashed, 'final.json'))).toBe(false);

    const resumed = await cli('train', ...flags, '--checkpoint-every', '2', '--out', crashed, '--resume', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming at step 6/);
    await expectCleanWeights(crashed);
    expect(JSON.parse(resumed.out).test.top1).toBe(clean.json.test.top1);
  });

  it('a kill between the two renames of a checkpoint swap loses nothing: resume finds the previous checkpoint', async () => {
    const crashed = join(runs.dir, 'mid-swap');
    // The 1st checkpoint has no previous one to move aside; the 2nd swap is killed with step 2 in checkpoint.old
    // and step 4 staged.
    const run = await trainProcess(crashed, 'between-renames@2', ['--checkpoint-every', '2']);
    expect(run.signal).toBe('SIGKILL');
    expect(existsSync(join(crashed, 'checkpoint'))).toBe(false);
    expect(existsSync(join(crashed, 'checkpoint.old'))).toBe(true);
    expect(readdirSync(crashed).some((f) => /^checkpoint\.tmp-\d+$/.test(f))).toBe(true);

    const resumed = await cli('train', ...flags, '--checkpoint-every', '2', '--out', crashed, '--resume', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming at step 2/);
    expect(readdirSync(crashed).filter((f) => /tmp|\.old$/.test(f))).toEqual([]); // the dead writer's leftovers are gone
    await expectCleanWeights(crashed);
  });
});
