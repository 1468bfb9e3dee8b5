import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { processStart } from '../src/journal/backend.js';
import { MemoryJournal, MemoryStore } from '../src/journal/memory.js';
import {
  advance, appendWithRetry, checkSettings, claimRecord, heartbeatRecord, holdsClaim, isFinished, isOwnerAliveLocal, loadState, nextClaim,
  ownerId, parseOwnerId, releaseRecord, replay, resultRecord, summarize, type StudyState,
} from '../src/study.js';
import type { JournalBackend, JournalRecord, StudySettings, TrialOutcome } from '../src/types.js';
import { as, done, diverged, failed, stored, studyRecord, trialSpecs } from './fixtures/study-records.js';

const alive = (_owner: string) => true;

async function newStudy(opts: Parameters<typeof studyRecord>[0]): Promise<{ store: MemoryStore; open: () => MemoryJournal }> {
  const store = new MemoryStore();
  const open = () => new MemoryJournal(store);
  expect(await open().append([studyRecord(opts)], 0)).toBe(true);
  return { store, open };
}

const trialState = (s: StudyState, id: string) => s.trials.get(id)!;

/** Claim the next trial for `owner` at time `now` through the journal; the claim, or null. */
async function claim(backend: JournalBackend, owner: string, now: number, ownerAlive = alive) {
  const { state, appended } = await appendWithRetry(backend, (st) => {
    const c = nextClaim(st, now, ownerAlive);
    return c ? [claimRecord(c, owner, now, st.study.settings.leaseMs)] : null;
  });
  if (!appended) return null;
  const c = appended[0] as Extract<JournalRecord, { kind: 'claim' }>;
  expect(holdsClaim(state, c)).toBe(true);
  return { trial: c.trial, rung: c.rung, attempt: c.attempt, owner };
}

type Ref = NonNullable<Awaited<ReturnType<typeof claim>>>;

/** Append `record` if `ref` still holds its claim; true when it was appended. */
async function report(backend: JournalBackend, ref: Ref, make: (ref: Ref) => JournalRecord): Promise<boolean> {
  const { appended } = await appendWithRetry(backend, (st) => (holdsClaim(st, ref) ? [make(ref)] : null));
  return appended !== null;
}

describe('claims', () => {
  it('two workers interleaving claims never claim the same (trial, rung), and every trial runs once', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], [0, 1]) });
    const claimed: string[][] = [[], []];
    await Promise.all([0, 1].map(async (w) => {
      const backend = open(); // its own "process"
      for (;;) {
        const c = await claim(backend, `h:${100 + w}:1:0`, 1000);
        if (!c) break;
        claimed[w].push(`${c.trial}@${c.rung}`);
        await new Promise((r) => setImmediate(r)); // let the other worker in between claim and result
        expect(await report(backend, c, (ref) => resultRecord(ref, 1001, done(0.5)))).toBe(true);
      }
    }));
    const both = [...claimed[0], ...claimed[1]];
    expect(new Set(both).size).toBe(both.length);
    expect(both.length).toBe(16);
    expect(claimed[0].length).toBeGreaterThan(0);
    expect(claimed[1].length).toBeGreaterThan(0);
    const state = await loadState(open());
    expect(isFinished(state)).toBe(true);
    expect(state.ignored).toBe(0);
    expect([...state.trials.values()].every((t) => t.state === 'done' && t.attempts === 1)).toBe(true);
  });

  it('two workers deciding from the same state: the compare-and-append lets one win, the other claims another trial', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a', 'b']) });
    const A = open(), B = open();
    const sa = replay(await A.read(0)), sb = replay(await B.read(0));
    const ca = nextClaim(sa, 10, alive)!, cb = nextClaim(sb, 10, alive)!;
    expect(ca).toEqual(cb); // same stale view, same choice
    expect(await A.append([claimRecord(ca, 'A', 10, 1000)], sa.nextSeq)).toBe(true);
    expect(await B.append([claimRecord(cb, 'B', 10, 1000)], sb.nextSeq)).toBe(false);
    const c = await claim(B, 'B', 10);
    expect(c?.trial).toBe('b-s0');
  });

  it('the fold ignores a second claim of a held trial even if it got into the journal', () => {
    const records = [studyRecord({ trials: trialSpecs(['a']) }), as('A', 'a-s0', 0, 1).claim(10), as('B', 'a-s0', 0, 1).claim(11), as('B', 'a-s0', 0, 2).claim(12)];
    const s = replay(stored(records));
    expect(trialState(s, 'a-s0').claim?.owner).toBe('A');
    expect(s.ignored).toBe(2);
    expect(s.ignoredLog.map((x) => x.reason)).toEqual(['claim attempt 1, the next is 2', 'the trial is held by A until 1010']);
  });

  it('a finished trial is never claimable again', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a']) });
    const j = open();
    const c = (await claim(j, 'A', 10))!;
    await report(j, c, (r) => resultRecord(r, 20, done(0.7)));
    expect(await claim(j, 'B', 10 ** 12)).toBeNull(); // far in the future: no lease matters any more
    // A claim written anyway does not count.
    const s = await loadState(j);
    expect(await j.append([as('B', 'a-s0', 0, 2).claim(30)], s.nextSeq)).toBe(true);
    const after = await loadState(j);
    expect(trialState(after, 'a-s0').state).toBe('done');
    expect(after.ignored).toBe(1);
  });

  it('lowest rung first, then trial order; deterministic', () => {
    const s = replay(stored([studyRecord({ trials: trialSpecs(['a', 'b', 'c']) })]));
    expect(nextClaim(s, 0, alive)).toEqual({ trial: 'a-s0', rung: 0, attempt: 1 });
    trialState(s, 'a-s0').rung = 1;
    expect(nextClaim(s, 0, alive)).toEqual({ trial: 'b-s0', rung: 0, attempt: 1 });
  });
});

describe('leases', () => {
  it('a claim whose lease ran out is re-claimable; the old owner\'s late heartbeat and result are ignored', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a']), leaseMs: 1000 });
    const A = open(), B = open();
    const a = (await claim(A, 'A', 0))!;
    expect(await report(A, a, (r) => heartbeatRecord(r, 500, 1000))).toBe(true); // lease now until 1500
    expect(await claim(B, 'B', 1400)).toBeNull(); // still held
    const b = (await claim(B, 'B', 1600))!;
    expect(b).toEqual({ trial: 'a-s0', rung: 0, attempt: 2, owner: 'B' });
    // A wakes up late: nothing it writes counts.
    expect(await report(A, a, (r) => heartbeatRecord(r, 1700, 1000))).toBe(false);
    const s0 = await loadState(A);
    await A.append([resultRecord(a, 1800, done(0.1)), heartbeatRecord(a, 1800, 1000)], s0.nextSeq); // written regardless of the rule
    let s = await loadState(A);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'running', attempts: 2, lost: 1, failures: 0 });
    expect(s.ignored).toBe(2);
    expect(await report(B, b, (r) => resultRecord(r, 1900, done(0.8)))).toBe(true);
    s = await loadState(B);
    expect(trialState(s, 'a-s0').state).toBe('done');
    expect(trialState(s, 'a-s0').outcomes[0]?.valTop1).toBe(0.8); // recorded once, by the live owner
  });

  it('a result from the current owner after its lease ran out (nobody took it) still counts', () => {
    const s = replay(stored([studyRecord({ trials: trialSpecs(['a']) }), as('A', 'a-s0', 0, 1).claim(0, 100), as('A', 'a-s0', 0, 1).result(5000, done(0.5))]));
    expect(trialState(s, 'a-s0').state).toBe('done');
  });

  it('a claim whose owner process is dead on this host is taken over at once, before its lease ends', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadOwner = `${hostname()}:${dead.stdout}:-:0`;
    expect(isOwnerAliveLocal(deadOwner)).toBe(false);
    expect(isOwnerAliveLocal(ownerId(3))).toBe(true);
    expect(isOwnerAliveLocal(`${hostname()}:${process.pid}:${processStart(process.pid)}:7`)).toBe(true);
    expect(isOwnerAliveLocal(`${hostname()}:${process.pid}:1:7`)).toBe(false); // pid reused by a process started later
    expect(isOwnerAliveLocal('another-host:1:1:0')).toBe(true); // cannot tell: only its lease ends it
    expect(isOwnerAliveLocal('not an owner')).toBe(true);

    const { open } = await newStudy({ trials: trialSpecs(['a']), leaseMs: 60_000 });
    const j = open();
    const s = await loadState(j);
    await j.append([as(deadOwner, 'a-s0', 0, 1).claim(1000, 61_000)], s.nextSeq);
    expect(await claim(j, ownerId(0), 2000)).toBeNull(); // with liveness not checked: still held
    const c = await claim(j, ownerId(0), 2000, isOwnerAliveLocal);
    expect(c).toMatchObject({ trial: 'a-s0', attempt: 2 });
    const state = await loadState(j);
    expect(trialState(state, 'a-s0')).toMatchObject({ state: 'running', lost: 1, claim: { owner: ownerId(0) } });
    expect(state.ignored).toBe(0);
  });

  it('ownerId is host:pid:startTime:worker and parses back', () => {
    const id = ownerId(2);
    expect(id).toBe(`${hostname()}:${process.pid}:${processStart(process.pid) ?? '-'}:2`);
    expect(parseOwnerId(id)).toEqual({ host: hostname(), pid: process.pid, started: processStart(process.pid), worker: 2 });
    expect(parseOwnerId('a:b:c')).toBeNull();
    expect(parseOwnerId('fe80::1:42:-:0')).toEqual({ host: 'fe80::1', pid: 42, started: null, worker: 0 });
  });
});

describe('outcomes and retries', () => {
  /** Claim, then end with `outcome`, n times in a row on trial a-s0; returns the final state. */
  async function attempts(outcomes: (TrialOutcome | 'release')[], maxRetries: number): Promise<StudyState> {
    const { open } = await newStudy({ trials: trialSpecs(['a']), maxRetries });
    const j = open();
    let now = 0;
    for (const o of outcomes) {
      const c = await claim(j, 'W', (now += 10));
      expect(c, `claim before ${JSON.stringify(o)}`).not.toBeNull();
      await report(j, c!, (r) => (o === 'release' ? releaseRecord(r, now + 1) : resultRecord(r, now + 1, o)));
    }
    return loadState(j);
  }

  it('a failed trial is retried up to maxRetries times, then failed', async () => {
    let s = await attempts([failed('e1'), failed('e2')], 2);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'pending', attempts: 2, failures: 2, lastError: 'e2' });
    s = await attempts([failed('e1'), failed('e2'), failed('e3')], 2);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'failed', attempts: 3, failures: 3, lastError: 'e3' });
    expect(trialState(s, 'a-s0').outcomes[0]?.error).toBe('e3');
    expect(nextClaim(s, 10 ** 12, alive)).toBeNull();
    s = await attempts([failed('e1'), done(0.6)], 1);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'done', attempts: 2, failures: 1 });
    s = await attempts([failed()], 0);
    expect(trialState(s, 'a-s0').state).toBe('failed');
  });

  it('a diverged trial is recorded, not retried', async () => {
    const s = await attempts([diverged(7)], 5);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'diverged', attempts: 1 });
    expect(trialState(s, 'a-s0').outcomes[0]?.step).toBe(7);
    expect(nextClaim(s, 10 ** 12, alive)).toBeNull();
  });

  it('an invalid (user-error) failure is failed at once, not retried', async () => {
    const s = await attempts([failed('batch size too large for the memory', true)], 5);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'failed', attempts: 1, failures: 1 });
    expect(nextClaim(s, 10 ** 12, alive)).toBeNull();
  });

  it('a release returns the trial to pending without using up a retry', async () => {
    let s = await attempts(['release', 'release', 'release', failed('e'), 'release', done(0.9)], 1);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'done', attempts: 6, released: 4, failures: 1 });
    s = await attempts(['release', 'release', failed('e')], 0); // with no retries at all, releases still cost nothing
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'failed', attempts: 3, released: 2, failures: 1 });
    s = await attempts(['release'], 0);
    expect(trialState(s, 'a-s0')).toMatchObject({ state: 'pending', attempts: 1, released: 1, failures: 0 });
    expect(trialState(s, 'a-s0').claim).toBeUndefined();
  });

  it('a second result for the same (trial, rung) is ignored', () => {
    const w = as('A', 'a-s0', 0, 1);
    const s = replay(stored([studyRecord({ trials: trialSpecs(['a']) }), w.claim(0), w.result(10, done(0.7)), w.result(11, done(0.1)), w.release(12)]));
    expect(trialState(s, 'a-s0').outcomes[0]?.valTop1).toBe(0.7);
    expect(s.ignored).toBe(2);
  });

  it('records about unknown trials, wrong rungs or a second study record are ignored, and counted', () => {
    const recs = [
      studyRecord({ trials: trialSpecs(['a']) }), as('A', 'zz', 0, 1).claim(0), as('A', 'a-s0', 1, 1).claim(0),
      studyRecord({ trials: [] }), as('A', 'a-s0', 0, 1).heartbeat(0),
    ];
    const s = replay(stored(recs));
    expect(s.ignored).toBe(4);
    expect(s.ignoredLog.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(trialState(s, 'a-s0').state).toBe('pending');
  });

  it('replay refuses a journal that does not start with a study record', () => {
    expect(() => replay([])).toThrow(/does not start with a study record/);
    expect(() => replay(stored([as('A', 'a', 0, 1).claim(0)]))).toThrow(/does not start with a study record/);
  });
});

describe('appendWithRetry', () => {
  it('reads only new records each time (the state is kept per backend and advanced)', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a', 'b', 'c']) });
    const inner = open();
    const reads: number[] = [];
    const counted: JournalBackend = { read: (from) => (reads.push(from), inner.read(from)), append: (r, n) => inner.append(r, n), close: () => inner.close() };
    await claim(counted, 'A', 0);
    await claim(counted, 'A', 0);
    const other = open();
    const s = await loadState(other);
    await other.append([as('B', 'c-s0', 0, 1).claim(0)], s.nextSeq); // someone else
    expect(await claim(counted, 'A', 0)).toBeNull(); // all three held now
    expect(reads).toEqual([0, 2, 3]); // the third read brings B's claim and nothing else
  });

  it('gives up with one line after too many lost races', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a']) });
    const inner = open();
    const losing: JournalBackend = { read: (f) => inner.read(f), append: async () => false, close: async () => undefined };
    await expect(appendWithRetry(losing, () => [heartbeatRecord({ trial: 'a-s0', rung: 0, attempt: 1, owner: 'x' }, 0, 1)], { tries: 3 }))
      .rejects.toThrow('could not append to the study journal in 3 tries (other writers kept getting there first); run again');
  });

  it('folds its own append as stored (a JSON copy): changing the records afterwards changes nothing', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a']) });
    const j = open();
    const c = (await claim(j, 'A', 0))!;
    const outcome = done(0.5);
    const { state } = await appendWithRetry(j, () => [resultRecord(c, 1, outcome)]);
    outcome.valTop1 = 0.99;
    expect(trialState(state, 'a-s0').outcomes[0]?.valTop1).toBe(0.5);
    expect(replay(await open().read(0))).toEqual(state);
  });

  it('incremental state equals a full replay', async () => {
    const { open } = await newStudy({ trials: trialSpecs(['a', 'b'], [0, 1]), maxRetries: 1 });
    const j = open();
    for (let i = 0; i < 6; i++) {
      const c = await claim(j, `W${i % 2}`, i * 10);
      if (!c) break;
      await report(j, c, (r) => resultRecord(r, i * 10 + 1, i === 1 ? failed() : done(0.1 * i)));
    }
    const live = await loadState(j);
    const fresh = replay(await open().read(0));
    expect(live).toEqual(fresh);
    const step = replay((await open().read(0)).slice(0, 1));
    for (const r of (await open().read(1))) advance(step, [r]);
    expect(step).toEqual(fresh);
  });
});

describe('checkSettings', () => {
  const base = (): StudySettings => studyRecord({ trials: [] }).settings;

  it('null when the same, also through JSON (undefined fields, key order)', () => {
    const b = base();
    const reordered = { leaseMs: b.leaseMs, maxRetries: b.maxRetries, halving: b.halving, seeds: b.seeds, training: { steps: 100, recipe: { lr: 0.002, name: 'proxy' }, extra: undefined }, grid: b.grid };
    expect(checkSettings(b, reordered as StudySettings)).toBeNull();
  });

  it('names the first differing setting by its path, with both values', () => {
    const b = base();
    expect(checkSettings(b, { ...b, training: { ...b.training, recipe: { name: 'proxy', lr: 0.001 } } })).toBe('training.recipe.lr: the study uses 0.002, this run 0.001');
    expect(checkSettings(b, { ...b, seeds: [0, 1] })).toBe('seeds: the study uses [0], this run [0,1]');
    expect(checkSettings(b, { ...b, grid: { alpha: '1:2:0.1', include: ['1.2,1.1,1.15'] } })).toBe('grid.include: the study uses nothing (not set), this run ["1.2,1.1,1.15"]');
    expect(checkSettings(b, { ...b, halving: { rungs: [10, 100], eta: 3 } })).toBe('halving.rungs: the study uses [100], this run [10,100]');
    expect(checkSettings(b, { ...b, training: { ...b.training, steps: '100' } })).toBe('training.steps: the study uses 100, this run "100"');
  });
});

describe('summarize', () => {
  it('counts per state and per rung', () => {
    const recs: JournalRecord[] = [studyRecord({ trials: trialSpecs(['a', 'b', 'c', 'd']), rungs: [10, 30], eta: 2 })];
    const at = [0.4, 0.3, 0.2];
    ['a', 'b', 'c'].forEach((sig, i) => recs.push(as('W', `${sig}-s0`, 0, 1).claim(i), as('W', `${sig}-s0`, 0, 1).result(i, done(at[i], 10))));
    recs.push(as('W', 'd-s0', 0, 1).claim(5, 100));
    const s = replay(stored(recs));
    const sum = summarize(s, 50);
    expect(sum.total).toBe(4);
    expect(sum.byState).toMatchObject({ waiting: 3, running: 1, pending: 0 });
    expect(sum.rungs.map((r) => r.steps)).toEqual([10, 30]);
    expect(sum.expired).toBe(0);
    expect(summarize(s, 101).expired).toBe(1);
    expect(sum.finished).toBe(false);
  });
});
