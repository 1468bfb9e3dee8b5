/**
 * Load and faults on a study in PostgreSQL (a real server from .ci/postgres; skipped without EFFSCALE_TEST_PG): 16
 * `effscale search worker` processes on one study of several hundred sleep trials (storage, not training), workers
 * killed with -9 at random moments and restarted, the server restarted once mid-run. Every trial must be recorded
 * exactly once, none lost, every worker must exit by itself. Prints claims per second and the time from a kill -9 to
 * the takeover of the dead worker's trial (no timed assertions: the machine may be loaded).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openPostgresJournal, parseOwnerId, replay } from '@effscale/search';
import { cli } from './run-cli.js';
import { freshStudy, PG_URL, pgAvailable } from '../../search/test/fixtures/pg-env.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));
const PG_SCRIPT = fileURLToPath(new URL('../../../.ci/postgres', import.meta.url));
const WORKERS = 16;
const SLEEP_MS = 100;
// 11 alpha x 6 beta at base width 0.5, 16 px: 24 distinct networks; x 16 seeds = 384 trials.
const grid = ['--alpha', '1:2:0.1', '--beta', '1:1.5:0.1', '--gamma', '1', '--tolerance', '10', '--base-resolution', '16',
  '--seeds', Array.from({ length: 16 }, (_, i) => i).join(','), '--steps', '10', '--lease', '3'];
const sleep = (ms: number) => new Promise<void>((d) => setTimeout(d, ms));

if (pgAvailable()) {
  const url = PG_URL!;
  describe('search workers on PostgreSQL under load and faults', () => {
    it('16 workers, kill -9 and restarts, a server restart: every trial recorded exactly once, no worker stuck', async () => {
      const name = freshStudy('load');
      process.env.EFFSCALE_SLEEP_TRIALS = String(SLEEP_MS);
      const created = await cli('search', 'run', name, '--storage', url, ...grid, '--workers', '0').finally(() => delete process.env.EFFSCALE_SLEEP_TRIALS);
      expect(created.code, created.err).toBe(0);

      const live = new Map<number, ChildProcess>();
      const exits: { pid: number; code: number | null; signal: string | null }[] = [];
      const kills: { pid: number; at: number }[] = [];
      let stopping = false;
      const start = () => {
        // The URL goes in the environment: never on a command line.
        const child = spawn(process.execPath, [BIN, 'search', 'worker', '--study', name, '--idle-exit', '20'], {
          env: { ...process.env, EFFSCALE_STORAGE: url }, stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-2000)));
        live.set(child.pid!, child);
        child.on('exit', (code, signal) => {
          live.delete(child.pid!);
          exits.push({ pid: child.pid!, code, signal });
          if (code !== 0 && signal !== 'SIGKILL') console.log(`worker ${child.pid} exited ${code}: ${err.split('\n').slice(-3).join(' | ')}`);
        });
      };
      const t0 = Date.now();
      for (let i = 0; i < WORKERS; i++) start();

      const journal = await openPostgresJournal(url, name, { readOnly: true });
      const progress = async () => {
        const state = replay(await journal.read(0));
        const ended = [...state.trials.values()].filter((t) => t.state === 'done').length;
        return { state, ended, total: state.trials.size };
      };
      // Faults: a kill -9 of a random worker holding a claim every ~0.3-0.8 s (up to 8, each restarted 0.2 s later), the server once.
      let restartedServer = false;
      const faults = (async () => {
        while (!stopping) {
          await sleep(300 + Math.random() * 500);
          if (stopping) break;
          const { state, ended, total } = await progress();
          if (ended === total) break;
          const holders = new Set([...state.trials.values()].filter((t) => t.state === 'running').map((t) => parseOwnerId(t.claim!.owner)?.pid));
          const victims = [...live.keys()].filter((pid) => holders.has(pid));
          if (victims.length && kills.length < 8) {
            const pid = victims[Math.floor(Math.random() * victims.length)];
            kills.push({ pid, at: Date.now() });
            process.kill(pid, 'SIGKILL');
            setTimeout(() => !stopping && start(), 200);
          }
          if (!restartedServer && ended > total / 3) {
            restartedServer = true;
            const r = spawnSync(PG_SCRIPT, ['restart'], { encoding: 'utf8' });
            expect(r.status, r.stderr).toBe(0);
          }
        }
      })();

      // Wait for the study to finish and every worker to leave by itself (finished: no idle wait).
      for (;;) {
        await sleep(500);
        const { ended, total } = await progress().catch(() => ({ ended: -1, total: 0 }));
        if (ended === total && live.size === 0) break;
        if (Date.now() - t0 > 100_000) {
          const { state } = await progress();
          console.log(`load test: gave up; live workers ${live.size}; states ${JSON.stringify([...state.trials.values()].reduce((m, t) => ({ ...m, [t.state]: (m[t.state] ?? 0) + 1 }), {} as Record<string, number>))}`);
          break;
        }
      }
      stopping = true;
      await faults;
      const wall = (Date.now() - t0) / 1000;
      for (const c of live.values()) c.kill('SIGKILL');
      const { state } = await progress();
      const records = (await journal.read(0)).map((r) => r.record);
      await journal.close();

      // Every trial done, by exactly one counted result; no worker stuck.
      const trials = [...state.trials.values()];
      expect(trials.length).toBeGreaterThanOrEqual(300);
      expect(trials.filter((t) => t.state !== 'done').map((t) => `${t.spec.id}: ${t.state}`)).toEqual([]);
      const results = records.filter((r) => r.kind === 'result');
      const ignoredResults = state.ignoredLog.filter((r) => r.kind === 'result').length;
      expect(results.length - ignoredResults).toBe(trials.length);
      expect(live.size).toBe(0);
      expect(exits.filter((e) => e.signal !== 'SIGKILL' && e.code !== 0)).toEqual([]);
      expect(restartedServer).toBe(true);
      expect(kills.length).toBeGreaterThan(0);

      // Numbers: claims per second over the run; kill -9 -> the next claim of a trial the dead worker held.
      const claims = records.filter((r): r is Extract<typeof r, { kind: 'claim' }> => r.kind === 'claim');
      const first = claims[0].at, last = Math.max(...records.filter((r) => r.kind === 'result').map((r) => (r as { at: number }).at));
      const notice: number[] = [];
      for (const k of kills) {
        const held = claims.filter((c) => parseOwnerId(c.owner)?.pid === k.pid && c.at <= k.at).map((c) => `${c.trial}@${c.rung}`);
        const taken = claims.filter((c) => c.at > k.at && c.supersedes && held.includes(`${c.trial}@${c.rung}`)).map((c) => c.at - k.at);
        if (taken.length) notice.push(Math.min(...taken));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const takeovers = claims.filter((c) => c.supersedes).length;
      console.log(`load test: ${trials.length} trials, ${WORKERS} workers, ${kills.length} kill -9, 1 server restart: ${claims.length} claims (${takeovers} takeovers) ` +
        `in ${((last - first) / 1000).toFixed(1)} s (first claim ${((first - t0) / 1000).toFixed(1)} s after the workers started) = ${(claims.length / ((last - first) / 1000)).toFixed(0)} claims/s (trials sleep ${SLEEP_MS} ms; ` +
        `at most ${(WORKERS * 1000 / SLEEP_MS).toFixed(0)}/s); ${records.length} records; dead worker noticed after ` +
        `median ${notice.length ? median(notice) : NaN} ms, max ${notice.length ? Math.max(...notice) : NaN} ms (${notice.length} kills measured); wall ${wall.toFixed(1)} s`);
      expect(notice.length).toBeGreaterThan(0);
    });
  });
}
