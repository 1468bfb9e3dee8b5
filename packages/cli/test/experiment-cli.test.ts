import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR } from '@effscale/core/data';
import { cli } from './run-cli.js';
import { tempDir } from '../../core/test/fixtures/data/helpers.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));
const runs = tempDir('experiments');
afterAll(() => runs.cleanup());

// The smoke budgets train on real Fashion-MNIST: skipped without it, except in CI (EFFSCALE_REQUIRE_DATA), where they must run.
const haveFashion = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
if (!haveFashion && process.env.EFFSCALE_REQUIRE_DATA) throw new Error(`EFFSCALE_REQUIRE_DATA is set but ${FASHION_MNIST_DIR} is missing: install dataset-fashion-mnist`);

type Rec = { record: { kind: string; trial?: string; outcome?: { status: string } } };
/** The journal's records; a last line being written while the test polls is left for the next read. */
const journal = (dir: string): Rec[] => readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').flatMap((l) => {
  try {
    return l.trim() ? [JSON.parse(l) as Rec] : [];
  } catch {
    return [];
  }
});
const perTrial = (dir: string, kind: string) => {
  const m = new Map<string, number>();
  for (const { record: r } of journal(dir)) if (r.kind === kind) m.set(r.trial!, (m.get(r.trial!) ?? 0) + 1);
  return m;
};
const rows = (dir: string) => readFileSync(join(dir, 'rows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const chart = (dir: string, name: string) => ['vl.json', 'svg', 'png'].every((ext) => existsSync(join(dir, 'report', 'charts', `${name}.${ext}`)));

function experimentProcess(args: string[], onSpawn?: (pid: number) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'experiment', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    onSpawn?.(child.pid!);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe.skipIf(!haveFashion)('effscale experiment, smoke budgets on Fashion-MNIST', () => {
  it('single-dim killed with SIGKILL mid-run, then run again, completes with no network trained twice', async () => {
    const dir = join(runs.dir, 'single-dim');
    const args = ['single-dim', dir, '--budget', 'smoke', '--workers', '2'];
    let pid = 0;
    const first = experimentProcess(args, (p) => (pid = p));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(join(dir, 'journal.jsonl')) && journal(dir).filter((r) => r.record.kind === 'result').length >= 3 && existsSync(join(dir, 'report', 'index.html'))) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    // While it runs, the report reloads itself and says so.
    expect(readFileSync(join(dir, 'report', 'index.html'), 'utf8')).toMatch(/http-equiv="refresh"[\s\S]*This report is live/);
    process.kill(pid, 'SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const doneBefore = new Set(journal(dir).filter((r) => r.record.kind === 'result').map((r) => r.record.trial));
    const claimsBefore = perTrial(dir, 'claim');

    const second = await experimentProcess(args);
    expect(second.code, second.stderr).toBe(0);
    const results = perTrial(dir, 'result');
    expect(results.size).toBe(7 * 2); // the smoke set's 7 networks x 2 seeds
    expect([...results.values()].every((n) => n === 1)).toBe(true);
    // A trial that had finished before the kill was never claimed again.
    for (const t of doneBefore) expect(perTrial(dir, 'claim').get(t!)).toBe(claimsBefore.get(t!));
    const out = rows(dir);
    expect(out).toHaveLength(14);
    expect(new Set(out.map((r: { series: string }) => r.series))).toEqual(new Set(['base', 'width', 'depth', 'resolution']));
    expect(out.every((r: { status: string; testTop1: number | null }) => r.status === 'done' && r.testTop1 !== null)).toBe(true);
    expect(readFileSync(join(dir, 'rows.csv'), 'utf8').split('\n')[0]).toContain('widthMult');
    const manifest = JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'effscale-experiment', name: 'single-dim', budget: 'smoke' });
    expect(JSON.parse(readFileSync(join(dir, 'provenance.json'), 'utf8'))).toMatchObject({ kind: 'experiment single-dim', seeds: [0, 1] });
    expect(chart(dir, 'saturation')).toBe(true);
    const page = readFileSync(join(dir, 'report', 'index.html'), 'utf8');
    expect(page).not.toContain('http-equiv="refresh"');
    expect(second.stderr).toMatch(/width saturates|width: /);
  });

  it('a changed definition is refused in the same run directory', async () => {
    const r = await cli('experiment', 'single-dim', join(runs.dir, 'single-dim'), '--budget', 'smoke', '--seeds', '0');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/holds a study with other settings/);
  });

  it.each([
    ['width-by-dr', 4 * 2, 'width-sweeps'],
    ['compound-vs-single', 4, 'compound-vs-single'],
    ['family', 2, 'family'],
  ])('%s: the smoke budget trains every network on both seeds and draws its chart', async (name, networks, chartName) => {
    const dir = join(runs.dir, name);
    const r = await cli('experiment', name, dir, '--budget', 'smoke', '--workers', '2');
    expect(r.code, r.err).toBe(0);
    expect(rows(dir)).toHaveLength(networks * 2);
    expect(chart(dir, chartName)).toBe(true);
  }, 300_000);
});

describe('effscale experiment: refusals', () => {
  it('an unknown experiment or budget is one line, exit 2', async () => {
    for (const args of [['nope'], ['single-dim', join(runs.dir, 'x'), '--budget', 'huge'], ['single-dim', join(runs.dir, 'x'), '--phi', '2']]) {
      const r = await cli('experiment', ...args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
