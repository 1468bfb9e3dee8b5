import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';
import { tempDir, writeIdxSet } from '../../core/test/fixtures/data/helpers.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));
const data = tempDir('search-data');
writeIdxSet(data.dir, { train: 400, test: 64, size: 8, classes: 4 });
const studies = tempDir('search-studies');
afterAll(() => {
  data.cleanup();
  studies.cleanup();
});

// At base depth 0.5, alpha 1.1 and 1.2 give the same repeats (ceil rounding): 4 points, 2 distinct networks.
const grid = ['--alpha', '1.1,1.2', '--beta', '1', '--gamma', '1,1.2', '--tolerance', '10'];
const small = ['--base-depth', '0.5', '--base-width', '0.25', '--base-resolution', '16', '--data', 'mnist', '--data-dir', data.dir,
  '--train-limit', '256', '--val-count', '64', '--batch-size', '16', '--backend', 'wasm', '--checkpoint-every', '4'];

type Rec = { seq: number; record: { kind: string; trial?: string; rung?: number; attempt?: number; outcome?: { status: string } } };
const journal = (dir: string): Rec[] => readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const count = (dir: string, kind: string, status?: string) => {
  const per = new Map<string, number>();
  for (const { record: r } of journal(dir)) {
    if (r.kind === kind && (status === undefined || r.outcome?.status === status)) per.set(`${r.trial}@${r.rung}`, (per.get(`${r.trial}@${r.rung}`) ?? 0) + 1);
  }
  return per;
};

/** `search run` as its own process (so it can be killed), resolving with its exit. */
function searchProcess(args: string[], onSpawn?: (pid: number) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'search', 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    onSpawn?.(child.pid!);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Resolve with the pid in the first trial's run.lock (the trial process, while it trains). */
function waitForTrialLock(study: string): Promise<{ trial: string; pid: number }> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const dir = join(study, 'trials');
      for (const t of existsSync(dir) ? readdirSync(dir) : []) {
        try {
          const lock = JSON.parse(readFileSync(join(dir, t, 'run.lock'), 'utf8'));
          clearInterval(poll);
          resolve({ trial: t, pid: lock.pid });
          return;
        } catch {
          // not training yet
        }
      }
    }, 10);
  });
}

describe('effscale search', () => {
  const study = join(studies.dir, 'smoke');

  it('runs a study with two workers: every trial once, identical networks trained once for all their points', async () => {
    const r = await cli('search', 'run', study, ...grid, ...small, '--steps', '6', '--seeds', '0,1', '--workers', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/4 points, 4 trials/);
    expect(r.err).toMatch(/winner \(by validation top-1, mean of 2 seeds\)/);
    const claims = count(study, 'claim');
    expect([...claims.values()]).toEqual([1, 1, 1, 1]);
    expect([...count(study, 'result', 'done').values()]).toEqual([1, 1, 1, 1]);

    const rows = JSON.parse((await cli('search', 'export', study, '--json')).out);
    expect(rows).toHaveLength(8); // 4 points x 2 seeds
    for (const key of ['id', 'trial', 'alpha', 'beta', 'gamma', 'seed', 'state', 'attempts', 'valTop1', 'testTop1', 'params', 'macs', 'costRatio', 'wallSeconds', 'rung']) {
      expect(rows[0]).toHaveProperty(key);
    }
    const byId = (id: string, seed: number) => rows.find((x: { id: string; seed: number }) => x.id === id && x.seed === seed);
    expect(byId('a1.1-b1-g1', 0).trial).toBe(byId('a1.2-b1-g1', 0).trial);
    expect(byId('a1.1-b1-g1', 0).valTop1).toBe(byId('a1.2-b1-g1', 0).valTop1);
    expect(byId('a1.1-b1-g1', 0).trial).not.toBe(byId('a1.1-b1-g1.2', 0).trial);
    expect(rows.every((x: { state: string; testTop1: number | null }) => x.state === 'done' && x.testTop1 !== null)).toBe(true);
    expect((await cli('search', 'export', study, '--csv')).out.split('\n')[0]).toContain('valTop1');
    expect((await cli('search', 'status', study)).out).toMatch(/4 done/);
    const best = JSON.parse((await cli('search', 'best', study, '--json')).out);
    expect(best.ranking).toHaveLength(4);
    expect(best.winner.seeds).toBe(2);
    // The study's report, redrawn after every trial and finally once more: finished, so no longer reloading.
    const page = readFileSync(join(study, 'report', 'index.html'), 'utf8');
    expect(page).not.toContain('http-equiv="refresh"');
    for (const ext of ['vl.json', 'svg', 'png']) expect(existsSync(join(study, 'report', 'charts', `search-heatmap.${ext}`))).toBe(true);
    expect(page).toContain('winner on validation');
  });

  it('scale --from takes the winner of a study and prints its family', async () => {
    const best = JSON.parse((await cli('search', 'best', study, '--json')).out);
    const r = await cli('scale', '--from', study, '--phi', '0:2', '--json');
    expect(r.code, r.err).toBe(0);
    const family = JSON.parse(r.out);
    expect([family.alpha, family.beta, family.gamma]).toEqual([best.winner.point.alpha, best.winner.point.beta, best.winner.point.gamma]);
    expect(family.family).toHaveLength(3);
  });

  it('running a finished study again trains nothing; another grid or budget is refused naming the setting', async () => {
    const before = journal(study).length;
    const again = await cli('search', 'run', study, ...grid, ...small, '--steps', '6', '--seeds', '0,1', '--workers', '2');
    expect(again.code, again.err).toBe(0);
    expect(journal(study).length).toBe(before);
    const other = await cli('search', 'run', study, ...grid, ...small, '--steps', '8', '--seeds', '0,1');
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/holds a study with other settings: .*halving|steps|rungs/);
    expect(other.err.trim().split('\n')).toHaveLength(1);
    const grid2 = await cli('search', 'run', study, '--alpha', '1.1', '--beta', '1', '--gamma', '1', '--tolerance', '10', ...small, '--steps', '6', '--seeds', '0,1');
    expect(grid2.code).toBe(2);
    expect(grid2.err).toMatch(/grid/);
  });

  it('a trial process killed with SIGKILL is retried from its checkpoint and recorded once', async () => {
    const dir = join(studies.dir, 'kill-trial');
    const args = [dir, '--alpha', '1', '--beta', '1', '--gamma', '1', '--tolerance', '10', ...small, '--steps', '80', '--seeds', '0', '--workers', '1'];
    const run = searchProcess(args);
    const { pid } = await waitForTrialLock(dir);
    process.kill(pid, 'SIGKILL');
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const results = journal(dir).filter((x) => x.record.kind === 'result').map((x) => x.record.outcome!.status);
    expect(results).toEqual(['failed', 'done']);
    const [row] = JSON.parse((await cli('search', 'export', dir, '--json')).out);
    expect(row).toMatchObject({ state: 'done', attempts: 2, step: 80 });
  });

  it('a search run killed with SIGKILL mid-trial, then run again, ends with every trial done exactly once', async () => {
    const dir = join(studies.dir, 'kill-run');
    const args = [dir, ...grid, ...small, '--steps', '40', '--seeds', '0', '--workers', '2'];
    let runPid = 0;
    const first = searchProcess(args, (p) => (runPid = p));
    await waitForTrialLock(dir);
    process.kill(runPid, 'SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const second = await searchProcess(args);
    expect(second.code, second.stderr).toBe(0);
    const done = count(dir, 'result', 'done');
    expect(done.size).toBe(2);
    expect([...done.values()]).toEqual([1, 1]);
    const rows = JSON.parse((await cli('search', 'export', dir, '--json')).out);
    expect(rows.every((x: { state: string }) => x.state === 'done')).toBe(true);
  });

  it('Ctrl-C (or SIGTERM) stops the trials at a checkpoint, gives their claims back, and the next run resumes them', async () => {
    const dir = join(studies.dir, 'interrupt');
    const args = [dir, '--alpha', '1', '--beta', '1', '--gamma', '1', '--tolerance', '10', ...small, '--steps', '80', '--seeds', '0', '--workers', '1'];
    let runPid = 0;
    const first = searchProcess(args, (p) => (runPid = p));
    await waitForTrialLock(dir);
    process.kill(runPid, 'SIGTERM');
    const stopped = await first;
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toMatch(/stopping the running trials at their next step/);
    expect(journal(dir).map((x) => x.record.kind)).toEqual(['study', 'claim', 'release']);
    const second = await searchProcess(args);
    expect(second.code, second.stderr).toBe(0);
    const [row] = JSON.parse((await cli('search', 'export', dir, '--json')).out);
    expect(row).toMatchObject({ state: 'done', step: 80 });
    expect([...count(dir, 'result').values()]).toEqual([1]);
  });

  it('a journal whose last record was torn by a crash is reported, and the study still reads', async () => {
    const dir = join(studies.dir, 'torn');
    (await import('node:fs')).cpSync(study, dir, { recursive: true });
    (await import('node:fs')).appendFileSync(join(dir, 'journal.jsonl'), '{"seq":99,"crc":"0000');
    const r = await cli('search', 'status', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/torn/);
    expect(r.out).toMatch(/4 done/);
  });

  it('successive halving trains every network to the first rung and continues the best 1/eta to the horizon', async () => {
    const dir = join(studies.dir, 'halving');
    const r = await cli('search', 'run', dir, '--alpha', '1', '--beta', '1,1.2', '--gamma', '1,1.1', '--tolerance', '10', ...small, '--steps', '8',
      '--halving', '--eta', '2', '--min-budget', '4', '--seeds', '0', '--workers', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 rung\(s\)/);
    const rows = JSON.parse((await cli('search', 'export', dir, '--json')).out);
    const states = rows.map((x: { state: string }) => x.state).sort();
    expect(states).toEqual(['done', 'done', 'stopped', 'stopped']);
    expect(rows.filter((x: { state: string; step: number }) => x.state === 'done').every((x: { step: number }) => x.step === 8)).toBe(true);
    expect(rows.filter((x: { state: string; step: number }) => x.state === 'stopped').every((x: { step: number }) => x.step === 4)).toBe(true);
    // The promoted ones had the best validation accuracy at the first rung.
    const stoppedBest = Math.max(...rows.filter((x: { state: string }) => x.state === 'stopped').map((x: { curve: { valTop1: number }[] }) => x.curve[0].valTop1));
    const promotedAtRung0 = rows.filter((x: { state: string }) => x.state === 'done').map((x: { curve: { step: number; valTop1: number }[] }) => x.curve.find((c) => c.step === 4)!.valTop1);
    expect(Math.min(...promotedAtRung0)).toBeGreaterThanOrEqual(stoppedBest);
  });

  const bad: [string[], RegExp][] = [
    [['search', 'run', join(studies.dir, 'b1'), '--alpha', '0.5:1:0.1', ...small], /alpha/],
    [['search', 'run', join(studies.dir, 'b2'), '--constraint', 'alpha.constructor', ...small], /constraint/],
    [['search', 'run', join(studies.dir, 'b3'), '--seeds', '0,0', ...small], /--seeds '0,0' repeats a seed/],
    [['search', 'status', join(studies.dir, 'nope')], /is not a study \(no journal\.jsonl there\)/],
    [['search', 'export', join(studies.dir, 'smoke')], /--json or --csv/],
    [['search', 'frobnicate'], /unknown search command 'frobnicate'/],
  ];
  for (const [argv, message] of bad) {
    it(`exit 2 with one line: ${argv.slice(0, 4).join(' ')}`, async () => {
      const { code, err } = await cli(...argv);
      expect(err).toMatch(message);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(code).toBe(2);
    });
  }

  it('a study directory that is a file, or a journal that is not effscale\'s, is refused', async () => {
    const file = join(studies.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await cli('search', 'run', file, ...grid, ...small, '--steps', '4');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is a file, not a directory/);
    const foreign = join(studies.dir, 'foreign');
    (await import('node:fs')).mkdirSync(foreign);
    writeFileSync(join(foreign, 'journal.jsonl'), '{"hello": "world"}\n');
    const f = await cli('search', 'status', foreign);
    expect(f.code).toBe(2);
    expect(f.err.trim().split('\n')).toHaveLength(1);
  });
});
