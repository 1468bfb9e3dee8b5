/**
 * Slurm for real: a single-node cluster from .ci/slurm (SLURM_CONF) runs deploy/slurm/effscale-workers.sbatch as a
 * job array against the test database (.ci/postgres), the study completes, and `scancel` of a running array task
 * (SIGTERM) gives its trial back: nothing lost, every trial recorded once. Skipped without SLURM_CONF and
 * EFFSCALE_TEST_PG; EFFSCALE_REQUIRE_SLURM=1 makes a missing cluster a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresJournal, replay } from '@effscale/search';
import { cli } from './run-cli.js';
import { tempDir } from '../../core/test/fixtures/data/helpers.js';
import { freshStudy, PG_URL } from '../../search/test/fixtures/pg-env.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));
const SBATCH = fileURLToPath(new URL('../../../deploy/slurm/effscale-workers.sbatch', import.meta.url));
const HOWTO = 'Slurm tests skipped: run them with: export "$(.ci/postgres | tail -1)" "$(.ci/slurm | tail -1)" && pnpm test';
const sleep = (ms: number) => new Promise<void>((d) => setTimeout(d, ms));
const slurmReady = (() => {
  if (!process.env.SLURM_CONF || !PG_URL) return false;
  try {
    return /idle|mix|alloc/.test(execFileSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();

if (!slurmReady) {
  if (process.env.EFFSCALE_REQUIRE_SLURM === '1') {
    it('Slurm is required here (EFFSCALE_REQUIRE_SLURM=1)', () => {
      throw new Error('EFFSCALE_REQUIRE_SLURM=1 but no Slurm cluster answers (SLURM_CONF from .ci/slurm, EFFSCALE_TEST_PG from .ci/postgres)');
    });
  } else {
    console.log(HOWTO);
    it.skip(HOWTO, () => undefined);
  }
} else {
  const url = PG_URL!;
  const work = tempDir('search-slurm');
  afterAll(() => work.cleanup());

  describe('search workers as a Slurm job array', () => {
    it('sbatch runs the study to the end; scancel of a running array task gives its trial back', async () => {
      const name = freshStudy('slurm');
      process.env.EFFSCALE_SLEEP_TRIALS = '1000';
      const created = await cli('search', 'run', name, '--storage', url, '--alpha', '1:2:0.1', '--beta', '1', '--gamma', '1', '--tolerance', '10',
        '--base-resolution', '16', '--seeds', '0,1,2,3', '--steps', '10', '--lease', '20', '--workers', '0').finally(() => delete process.env.EFFSCALE_SLEEP_TRIALS);
      expect(created.code, created.err).toBe(0);
      const out = (task: number) => join(work.dir, `${job}_${task}.out`);
      const read = (task: number) => (existsSync(out(task)) ? readFileSync(out(task), 'utf8') : '');
      // On this test node there are no GPUs: --gres=none replaces the template's gpu:1, and one CPU per task.
      const job = execFileSync('sbatch', ['--parsable', '--array=0-3', '--gres=none', '--cpus-per-task=1', '-o', join(work.dir, '%A_%a.out'), SBATCH], {
        encoding: 'utf8', cwd: work.dir,
        env: { ...process.env, EFFSCALE_STORAGE: url, EFFSCALE_STUDY: name, EFFSCALE_BIN: `${process.execPath} ${BIN}`, EFFSCALE_TRIALS_DIR: join(work.dir, 'trials'), EFFSCALE_IDLE_EXIT: '30' },
      }).trim().split(';')[0];
      // Cancel task 0 while it runs a trial.
      const t0 = Date.now();
      while (!/claimed/.test(read(0))) {
        expect(Date.now() - t0, `task 0 never claimed a trial:\n${read(0)}`).toBeLessThan(60_000);
        await sleep(100);
      }
      const cancelledAt = (Date.now() - t0) / 1000;
      execFileSync('scancel', [`${job}_0`]);
      // Wait for the whole array to leave the queue.
      for (;;) {
        await sleep(500);
        const q = execFileSync('squeue', ['-h', '-j', job, '-o', '%i %t'], { encoding: 'utf8' }).trim();
        if (q === '') break;
        expect(Date.now() - t0, `the array is still queued: ${q}`).toBeLessThan(100_000);
      }
      const task0 = read(0);
      expect(task0).toMatch(/SIGTERM: stopping the running trial/);
      expect(task0).toMatch(/gave back/);
      const journal = await openPostgresJournal(url, name, { readOnly: true });
      const records = (await journal.read(0)).map((r) => r.record);
      await journal.close();
      const state = replay(records.map((record, seq) => ({ seq, record })));
      const trials = [...state.trials.values()];
      expect(trials.filter((t) => t.state !== 'done').map((t) => `${t.spec.id} ${t.state}`)).toEqual([]);
      expect(records.filter((r) => r.kind === 'release').length).toBeGreaterThanOrEqual(1);
      const counted = records.filter((r) => r.kind === 'result').length - state.ignoredLog.filter((r) => r.kind === 'result').length;
      expect(counted).toBe(trials.length);
      // The given-back trial was run again by another task and recorded once.
      const released = records.find((r) => r.kind === 'release') as { trial: string };
      expect(state.trials.get(released.trial)!.state).toBe('done');
      for (const task of [1, 2, 3]) expect(read(task)).toMatch(/worker done/);
      console.log(`slurm test: job ${job}, ${trials.length} trials, task 0 cancelled ${cancelledAt.toFixed(1)} s after its first claim was awaited, array done after ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s; study finished, ${records.filter((r) => r.kind === 'release').length} claim(s) given back, none lost`);
    });
  });
}
