/**
 * The suite every journal backend passes (memory and file now; PostgreSQL later): the storage half of the study's
 * guarantees. `fresh()` runs before each test and makes `open()` open a new, empty study's journal; every call to
 * `open()` then returns another instance on that same journal (as another process would open it).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../src/journal/memory.js';
import { exportRows } from '../src/results.js';
import { appendWithRetry, claimRecord, holdsClaim, nextClaim, releaseRecord, replay, resultRecord, storageNow, type ClaimRef } from '../src/study.js';
import type { JournalBackend, JournalRecord, StoredRecord, TrialOutcome } from '../src/types.js';
import { appendRetrying, studyRecordFixture, tagged } from './fixtures/journal-records.js';
import { diverged, done, failed, studyRecord, trialSpecs } from './fixtures/study-records.js';

export { appendRetrying, studyRecordFixture, tagged };

const sleep = (ms: number) => new Promise<void>((d) => setTimeout(d, ms));

/** A tagged record's number (its trial is `writer/i`): what the order checks use, since a backend may restamp `at`. */
const tagOf = (r: JournalRecord) => Number((r as { trial: string }).trial.split('/').pop());

/** A record without the times a stamping backend sets from its own clock. */
function untimed(r: JournalRecord, j: JournalBackend): JournalRecord {
  if (!j.stampsTime || r.kind === 'study') return r;
  const { at: _a, leaseUntil: _l, ...rest } = r as JournalRecord & { leaseUntil?: number };
  return rest as JournalRecord;
}

/** Run `script` of (owner, step) on a study through the study rules over `j`; returns the final export. */
async function scripted(j: JournalBackend): Promise<ReturnType<typeof exportRows>> {
  const trials = trialSpecs(['a', 'b', 'c', 'd'], [0, 1]);
  const study = studyRecord({ trials, seeds: [0, 1], maxRetries: 1, leaseMs: 60_000 });
  study.points = ['a', 'b', 'c', 'd'].map((sig, i) => ({
    id: `p-${sig}`, alpha: 1 + i / 10, beta: 1.1, gamma: 1.15, constraintValue: 1.9 + i / 100, network: trials[0].network, signature: sig,
    costs: { params: 1000 + i, macs: 2000 + i, activations: 3000, paramsRatio: 1, macsRatio: 1 + i / 10, activationsRatio: 1 }, included: false,
  }));
  expect(await j.append([study], 0)).toBe(true);
  const claim = async (owner: string): Promise<ClaimRef> => {
    const { appended } = await appendWithRetry(j, (st) => {
      const now = storageNow(j);
      const c = nextClaim(st, now, () => true);
      return c ? [claimRecord(c, owner, now, 60_000)] : null;
    });
    const c = appended![0] as Extract<JournalRecord, { kind: 'claim' }>;
    return { trial: c.trial, rung: c.rung, attempt: c.attempt, owner };
  };
  const finish = async (ref: ClaimRef, o: TrialOutcome) => {
    const { appended } = await appendWithRetry(j, (st) => (holdsClaim(st, ref) ? [resultRecord(ref, storageNow(j), o)] : null));
    expect(appended).not.toBeNull();
  };
  const outcomes: TrialOutcome[] = [done(0.61), failed('flaky'), done(0.7), diverged(3), done(0.55), failed('bad', true), done(0.8), done(0.42)];
  let k = 0;
  for (let i = 0; i < 6; i++) {
    const ref = await claim(`w${i % 3}`);
    if (i === 2) {
      await appendWithRetry(j, (st) => (holdsClaim(st, ref) ? [releaseRecord(ref, storageNow(j))] : null)); // a SIGTERM
      continue;
    }
    await finish(ref, outcomes[k++]);
  }
  for (;;) {
    const { appended } = await appendWithRetry(j, (st) => {
      const now = storageNow(j);
      const c = nextClaim(st, now, () => true);
      return c ? [claimRecord(c, 'w9', now, 60_000)] : null;
    });
    if (!appended) break;
    const c = appended[0] as Extract<JournalRecord, { kind: 'claim' }>;
    await finish({ trial: c.trial, rung: c.rung, attempt: c.attempt, owner: 'w9' }, outcomes[k++ % outcomes.length]);
  }
  return exportRows(replay(await j.read(0)));
}

function expectContiguous(records: StoredRecord[]): void {
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
}

export function journalConformance(name: string, open: () => Promise<JournalBackend>, fresh: () => Promise<void> | void): void {
  describe(`journal backend conformance: ${name}`, () => {
    beforeEach(async () => {
      await fresh();
    });

    it('starts empty and round-trips records in order, seqs from 0', async () => {
      const j = await open();
      expect(await j.read(0)).toEqual([]);
      const study = studyRecordFixture();
      expect(await j.append([study], 0)).toBe(true);
      const batch = [tagged('a', 1), tagged('a', 2), tagged('a', 3)];
      expect(await j.append(batch, 1)).toBe(true);
      const all = await j.read(0);
      expectContiguous(all);
      expect(all.map((r) => untimed(r.record, j))).toEqual([study, ...batch].map((r) => untimed(r, j)));
      expect((await j.read(2)).map((r) => r.seq)).toEqual([2, 3]);
      expect(await j.read(4)).toEqual([]);
      expect(await j.read(99)).toEqual([]);
      await j.close();
    });

    it('keeps values exactly: unicode, nested objects, float and large numbers, nulls; drops undefined fields', async () => {
      const j = await open();
      await j.append([studyRecordFixture()], 0);
      const outcome = {
        status: 'failed' as const, step: 7, error: 'Größe ✓ "quoted" \\ back\nslash \u2028 line sep', valTop1: 0.1 + 0.2, valLoss: 1e-300,
        curve: [{ step: 1, valTop1: 0.5, valLoss: 2.302585092994046, trainLoss: 123456789.123 }], backend: undefined,
      };
      const r: JournalRecord = { kind: 'result', trial: 't', rung: 0, attempt: 1, owner: 'h:1:2:0', at: Number.MAX_SAFE_INTEGER, outcome };
      expect(await j.append([r], 1)).toBe(true);
      const reader = await open();
      const [back] = await reader.read(1);
      expect(untimed(back.record, reader)).toEqual(untimed(JSON.parse(JSON.stringify(r)) as JournalRecord, reader));
      expect('backend' in (back.record as { outcome: object }).outcome).toBe(false);
    });

    it('compare-and-append loses cleanly with a stale next: nothing is written, the winner is intact', async () => {
      const a = await open();
      const b = await open();
      expect(await a.append([studyRecordFixture()], 0)).toBe(true);
      expect(await b.append([studyRecordFixture('other')], 0)).toBe(false); // b's view of next (0) is stale
      expect(await a.append([tagged('a', 1)], 1)).toBe(true);
      expect(await b.append([tagged('b', 1), tagged('b', 2)], 1)).toBe(false);
      expect(await b.append([tagged('b', 1)], 5)).toBe(false); // ahead of the end: also refused
      const all = await b.read(0);
      expectContiguous(all);
      expect(all.map((r) => untimed(r.record, b))).toEqual([studyRecordFixture(), tagged('a', 1)].map((r) => untimed(r, b)));
      expect(await b.append([tagged('b', 1)], 2)).toBe(true);
      expect((await a.read(0)).map((r) => untimed(r.record, a))).toEqual([studyRecordFixture(), tagged('a', 1), tagged('b', 1)].map((r) => untimed(r, a)));
    });

    it('an empty append succeeds only at the right next and writes nothing', async () => {
      const j = await open();
      await j.append([studyRecordFixture()], 0);
      expect(await j.append([], 1)).toBe(true);
      expect(await j.append([], 0)).toBe(false);
      expect((await j.read(0)).length).toBe(1);
    });

    it('another instance sees what one wrote, and reads from any seq', async () => {
      const a = await open();
      await a.append([studyRecordFixture()], 0);
      for (let i = 1; i <= 20; i++) expect(await a.append([tagged('a', i)], i)).toBe(true);
      const b = await open();
      expect((await b.read(15)).map((r) => r.seq)).toEqual([15, 16, 17, 18, 19, 20]);
      expect((await b.read(0)).length).toBe(21);
      expect(await a.append([tagged('a', 21)], 21)).toBe(true);
      expect((await b.read(21)).map((r) => untimed(r.record, b))).toEqual([untimed(tagged('a', 21), b)]);
      expect((await b.read(3)).map((r) => r.seq)[0]).toBe(3);
    });

    it('concurrent appenders (8 instances, interleaved) never lose or duplicate a record, and seqs have no gaps', async () => {
      const first = await open();
      await first.append([studyRecordFixture()], 0);
      const writers = 8, each = 15;
      const instances = await Promise.all(Array.from({ length: writers }, () => open()));
      await Promise.all(instances.map(async (j, w) => {
        for (let i = 0; i < each; i++) await appendRetrying(j, tagged(`w${w}`, i));
      }));
      const all = await (await open()).read(0);
      expectContiguous(all);
      expect(all.length).toBe(1 + writers * each);
      const seen = new Map<string, number>();
      for (const { record } of all.slice(1)) {
        const key = (record as { trial: string }).trial;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      expect(seen.size).toBe(writers * each);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // Each writer's records appear in the order it wrote them.
      for (let w = 0; w < writers; w++) {
        const mine = all.filter((r) => (r.record as { owner?: string }).owner === `w${w}`).map((r) => tagOf(r.record));
        expect(mine).toEqual(Array.from({ length: each }, (_, i) => i));
      }
    });

    it('concurrent multi-record batches land whole and contiguous', async () => {
      const first = await open();
      await first.append([studyRecordFixture()], 0);
      const instances = await Promise.all(Array.from({ length: 4 }, () => open()));
      await Promise.all(instances.map(async (j, w) => {
        for (let i = 0; i < 5; i++) {
          const batch = [tagged(`b${w}`, 3 * i), tagged(`b${w}`, 3 * i + 1), tagged(`b${w}`, 3 * i + 2)];
          let next = (await j.read(0)).length;
          while (!(await j.append(batch, next))) next += (await j.read(next)).length;
        }
      }));
      const all = await (await open()).read(0);
      expectContiguous(all);
      expect(all.length).toBe(1 + 4 * 5 * 3);
      for (let s = 1; s < all.length; s += 3) {
        const owners = all.slice(s, s + 3).map((r) => (r.record as { owner: string }).owner);
        expect(new Set(owners).size).toBe(1);
        const ats = all.slice(s, s + 3).map((r) => tagOf(r.record));
        expect(ats[1] - ats[0]).toBe(1);
        expect(ats[2] - ats[1]).toBe(1);
      }
    });

    it('a worker that lost its lease records nothing: the takeover counts, its late result does not', async () => {
      const a = await open();
      const b = await open();
      const leaseMs = 300;
      await a.append([studyRecord({ trials: trialSpecs(['x']), leaseMs })], 0);
      const take = (j: JournalBackend, owner: string) => appendWithRetry(j, (st) => {
        const now = storageNow(j);
        const c = nextClaim(st, now, () => true); // owners count as alive: only the lease can end a claim here
        return c ? [claimRecord(c, owner, now, leaseMs)] : null;
      });
      const first = await take(a, 'A');
      const refA: ClaimRef = { trial: 'x-s0', rung: 0, attempt: 1, owner: 'A' };
      expect(holdsClaim(first.state, refA)).toBe(true);
      expect((await take(b, 'B')).appended).toBeNull(); // held: nothing to claim while the lease runs
      await sleep(leaseMs + 200);
      const second = await take(b, 'B');
      const refB: ClaimRef = { trial: 'x-s0', rung: 0, attempt: 2, owner: 'B' };
      expect(second.appended?.[0]).toMatchObject({ kind: 'claim', attempt: 2, owner: 'B', supersedes: 'expired' });
      expect(holdsClaim(second.state, refB)).toBe(true);
      // A's guarded result (what every worker writes) appends nothing once A sees the takeover.
      expect((await appendWithRetry(a, (st) => (holdsClaim(st, refA) ? [resultRecord(refA, storageNow(a), done(0.99))] : null))).appended).toBeNull();
      // Forced past the check: at a stale next the compare-and-append loses; at the right one replay ignores it.
      expect(await a.append([resultRecord(refA, storageNow(a), done(0.99))], 2)).toBe(false);
      const n = (await a.read(0)).length;
      expect(await a.append([resultRecord(refA, storageNow(a), done(0.99))], n)).toBe(true);
      expect((await appendWithRetry(b, (st) => (holdsClaim(st, refB) ? [resultRecord(refB, storageNow(b), done(0.5))] : null))).appended).not.toBeNull();
      const state = replay(await (await open()).read(0));
      const t = state.trials.get('x-s0')!;
      expect(t.state).toBe('done');
      expect(t.outcomes[0]?.valTop1).toBe(0.5); // recorded once, by the owner of the live claim
      expect(t.lost).toBe(1);
      expect(state.ignoredLog.map((r) => r.reason)).toEqual(['not the current claim']);
    });

    it('the same fixed results give the same export as on the memory journal', async () => {
      const reference = await scripted(new MemoryJournal());
      const here = await scripted(await open());
      expect(here).toEqual(reference);
      expect(here.map((r) => r.state)).toContain('done');
    });

    it('refuses a first record that is not the study record', async () => {
      const j = await open();
      await expect(j.append([tagged('x', 1)], 0)).rejects.toThrow(/study record/);
      expect(await j.read(0)).toEqual([]);
    });
  });
}
