/**
 * Studies in PostgreSQL through the CLI (a real server from .ci/postgres; skipped without EFFSCALE_TEST_PG): the same
 * study gives the same export on a directory and in the database, workers join by name, and every user error is one
 * line with exit 2 that never shows the password.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';
import { tempDir, writeIdxSet } from '../../core/test/fixtures/data/helpers.js';
import { freshStudy, PG_URL, pgAvailable } from '../../search/test/fixtures/pg-env.js';

const work = tempDir('search-storage');
const data = tempDir('search-storage-data');
writeIdxSet(data.dir, { train: 200, test: 32, size: 8, classes: 4 });
afterAll(() => data.cleanup());
afterAll(() => work.cleanup());

// Sleep trials (EFFSCALE_SLEEP_TRIALS): 11 alpha values x 2 beta x 2 seeds, deduplicated: storage, not training.
const grid = ['--alpha', '1:2:0.1', '--beta', '1,1.2', '--gamma', '1', '--tolerance', '10', '--base-resolution', '16', '--seeds', '0,1', '--steps', '10', '--lease', '10'];

async function withSleep<T>(fn: () => Promise<T>): Promise<T> {
  process.env.EFFSCALE_SLEEP_TRIALS = '5';
  try {
    return await fn();
  } finally {
    delete process.env.EFFSCALE_SLEEP_TRIALS;
  }
}

const untimed = (json: string) => (JSON.parse(json) as Record<string, unknown>[]).map(({ wallSeconds: _w, ...r }) => r);

if (pgAvailable()) {
  const url = PG_URL!;
  const secret = new URL(url).password;

  describe('search with --storage postgresql://', () => {
    it('the same fixed results give the same search export on the file journal and in PostgreSQL', async () => {
      const dir = join(work.dir, 'file-study');
      const name = freshStudy('same');
      const onFile = await withSleep(() => cli('search', 'run', dir, ...grid, '--workers', '2', '--no-report'));
      expect(onFile.code).toBe(0);
      const queued = await withSleep(() => cli('search', 'run', name, '--storage', url, ...grid, '--workers', '0'));
      expect(queued.code).toBe(0);
      expect(queued.err).toMatch(/no local workers \(--workers 0\)/);
      expect(queued.err).not.toContain(secret);
      // Queued, none run: every trial pending.
      const pending = await cli('search', 'status', name, '--storage', url);
      expect(pending.out).toMatch(/trials: \d+ pending/);
      const w = await cli('search', 'worker', '--storage', url, '--study', name, '--trials-dir', join(work.dir, 'trials'));
      expect(w.code).toBe(0);
      expect(w.err).toMatch(/\(finished\)/);
      const a = await cli('search', 'export', dir, '--json');
      const b = await cli('search', 'export', name, '--storage', url, '--json');
      expect(a.code).toBe(0);
      expect(b.code).toBe(0);
      expect(untimed(b.out)).toEqual(untimed(a.out));
      expect(JSON.parse(b.out).length).toBeGreaterThan(10);
      const best = await cli('search', 'best', name, '--storage', url);
      expect(best.out).toMatch(/winner/);
      // Rerunning the creation with the same grid checks it and queues nothing new; another grid is refused.
      expect((await withSleep(() => cli('search', 'run', name, '--storage', url, ...grid, '--workers', '0'))).code).toBe(0);
      const other = await withSleep(() => cli('search', 'run', name, '--storage', url, ...grid, '--seeds', '0', '--workers', '0'));
      expect(other.code).toBe(2);
      expect(other.err.trim()).toMatch(/^effscale: study '.*' in postgresql:\/\/effscale:\*\*\*@.* holds a study with other settings: seeds/);
    });

    it('a real training trial runs from a stored study: its process reads the study from the database, trains in --trials-dir', async () => {
      const name = freshStudy('train');
      const trials = join(work.dir, 'train-trials');
      const r = await cli('search', 'run', name, '--storage', url, '--alpha', '1', '--beta', '1', '--gamma', '1', '--tolerance', '10',
        '--base-depth', '0.5', '--base-width', '0.25', '--base-resolution', '16', '--data', 'mnist', '--data-dir', data.dir,
        '--train-limit', '128', '--val-count', '32', '--batch-size', '16', '--backend', 'wasm', '--steps', '4', '--seeds', '0',
        '--workers', '1', '--no-report', '--trials-dir', trials);
      expect(r.code, r.err).toBe(0);
      const s = await cli('search', 'export', name, '--storage', url, '--json');
      const rows = JSON.parse(s.out) as { state: string; valTop1: number | null }[];
      expect(rows.map((x) => x.state)).toEqual(['done']);
      expect(rows[0].valTop1).not.toBeNull();
      const dirs = readdirSync(join(trials, name, 'trials'));
      expect(dirs).toHaveLength(1);
      expect(existsSync(join(trials, name, 'trials', dirs[0], 'run.json'))).toBe(true);
      expect(readFileSync(join(trials, name, 'trials', dirs[0], 'run.json'), 'utf8')).not.toContain(secret);
    });

    it('report NAME --storage draws the study, and no password reaches the page', async () => {
      const name = freshStudy('report');
      await withSleep(() => cli('search', 'run', name, '--storage', url, ...grid, '--seeds', '0', '--workers', '1', '--no-report', '--trials-dir', join(work.dir, 'trials')));
      const out = join(work.dir, 'report-out');
      const r = await cli('report', name, '--storage', url, '--out', out, '--no-png');
      expect(r.code).toBe(0);
      const files = readdirSync(out);
      expect(files).toContain('index.html');
      for (const f of files.filter((f) => statSync(join(out, f)).isFile())) expect(readFileSync(join(out, f), 'utf8')).not.toContain(secret);
      expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('postgresql://effscale:***@');
    });

    it('user errors are one line, exit 2, and name what to do without the password', async () => {
      const wrong = new URL(url);
      wrong.password = 'Wr0ng-pa55';
      const cases: [string[], RegExp][] = [
        [['search', 'status', 'x', '--storage', wrong.toString()], /refused the password as user 'effscale'/],
        [['search', 'status', 'x', '--storage', url.replace(/:\d+\//, ':1/')], /cannot reach PostgreSQL at .* \(connection refused\); start the server/],
        [['search', 'status', 'no-such-study', '--storage', url], /no study 'no-such-study' in postgresql:\/\/effscale:\*\*\*@.*; create it with/],
        [['search', 'worker', '--storage', url, '--study', 'no-such-study'], /no study 'no-such-study'/],
        [['search', 'status', 'bad/name', '--storage', url], /study name 'bad\/name' is not valid/],
        [['search', 'status', 'x', '--storage', 'mysql://u:Wr0ng-pa55@h/db'], /must be a PostgreSQL URL/],
        [['search', 'worker', '--study', 'x'], /search worker needs --storage/],
        [['search', 'export', 'x', '--storage', `@${join(work.dir, 'missing-url-file')}`, '--json'], /cannot read the storage URL from/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(r.err).toMatch(message);
        expect(r.err + r.out).not.toContain('Wr0ng-pa55');
        expect(r.err + r.out).not.toContain(secret);
      }
    });

    it('launch prints the sbatch command and the Indexed Job with the password masked', async () => {
      const s = await cli('search', 'launch', 'slurm', '--storage', url, '--study', 'grid1', '--workers', '8');
      expect(s.code).toBe(0);
      expect(s.out).toMatch(/EFFSCALE_STORAGE='?postgresql:\/\/effscale:\*\*\*@.* EFFSCALE_STUDY=grid1 sbatch --parsable --array=0-7 .*deploy\/slurm\/effscale-workers\.sbatch/);
      expect(s.out).not.toContain(secret);
      const k = await cli('search', 'launch', 'k8s', '--study', 'Grid1', '--workers', '3', '--image', 'reg/effscale:1');
      expect(k.out).toMatch(/completions: 3/);
      expect(k.out).toMatch(/name: effscale-workers-grid1/);
      expect(k.out).toMatch(/--study, "Grid1"/);
      expect(k.out).toMatch(/image: reg\/effscale:1/);
    });
  });
}
