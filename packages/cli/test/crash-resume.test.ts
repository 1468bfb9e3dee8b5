import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
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

const flags = ['--depth', '1', '--width', '0.25', '--resolution', '16', '--data', 'mnist', '--data-dir', data.dir, '--batch-size', '16',
  '--steps', '12', '--checkpoint-every', '2', '--backend', 'wasm', '--seed', '5', '--recipe', 'seed'];

function stepOnDisk(out: string): number {
  const f = join(out, 'checkpoint', 'state.json');
  try {
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')).step : -1;
  } catch {
    return -1; // never torn (written by rename), but the directory may be mid-swap
  }
}

/** Start a training process and SIGKILL it once a mid-run checkpoint is on disk: a crash, not a clean interrupt. */
function trainUntilKilled(out: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'train', ...flags, '--out', out], { stdio: 'ignore' });
    const poll = setInterval(() => {
      const step = stepOnDisk(out);
      if (step >= 6 && step < 12) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve(stepOnDisk(out));
      else reject(new Error(`training ended before it could be killed (code ${code})`));
    });
  });
}

/** Start a training process and send it SIGINT (Ctrl-C) once it has made progress. */
const longer = flags.map((f, i) => (flags[i - 1] === '--steps' ? '36' : f)); // long enough that the signal lands mid-run

function trainUntilInterrupted(out: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', ...longer, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const poll = setInterval(() => {
      if (stepOnDisk(out) >= 2) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', () => clearInterval(poll));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('crash safety', () => {
  it('Ctrl-C checkpoints at the next step, exits 130 and says how to resume', async () => {
    const out = join(runs.dir, 'interrupted');
    const { code, stderr } = await trainUntilInterrupted(out);
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupt: finishing this step and checkpointing/);
    expect(stderr).toMatch(new RegExp(`interrupted at step (\\d+); continue with the same command plus --resume --out ${out.replace(/[/\\]/g, '.')}`));
    const step = stepOnDisk(out);
    expect(step).toBeGreaterThanOrEqual(2);
    expect(step).toBeLessThan(36);
    const resumed = await cli('train', ...longer, '--out', out, '--resume', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ completed: true, step: 36 });
  });

  it('a run killed with SIGKILL resumes from its last checkpoint and ends with the uninterrupted weights', async () => {
    const crashed = join(runs.dir, 'crashed');
    const killedAt = await trainUntilKilled(crashed);
    expect(killedAt).toBeGreaterThanOrEqual(6);
    expect(existsSync(join(crashed, 'final.json'))).toBe(false);

    const resumed = await cli('train', ...flags, '--out', crashed, '--resume', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(new RegExp(`resuming at step ${killedAt}`));
    const clean = await cli('train', ...flags, '--out', join(runs.dir, 'clean'), '--json');
    expect(clean.code, clean.err).toBe(0);

    await initBackend('wasm');
    const a = (await loadModel(join(crashed, 'checkpoint'))).getWeights().map((t) => t.dataSync());
    const b = (await loadModel(join(runs.dir, 'clean', 'checkpoint'))).getWeights().map((t) => t.dataSync());
    let worst = 0;
    a.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j]) / (Math.abs(v) + 1e-3)))));
    expect(worst).toBeLessThan(1e-4);
    expect(JSON.parse(resumed.out).final.top1).toBeCloseTo(JSON.parse(clean.out).final.top1, 6);
  });
});
