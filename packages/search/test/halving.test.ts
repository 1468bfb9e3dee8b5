import { describe, expect, it } from 'vitest';
import { ConfigError } from '@effscale/core';
import { decideRung, halvingPlan, type RungMember } from '../src/halving.js';
import { replay } from '../src/study.js';
import type { JournalRecord } from '../src/types.js';
import { as, done, diverged, failed, stored, studyRecord, trialSpecs } from './fixtures/study-records.js';

describe('halvingPlan', () => {
  it('rungs minBudget * eta^k below the horizon, then the horizon', () => {
    expect(halvingPlan(312, { eta: 3, minBudget: 12 })).toEqual({ rungs: [12, 36, 108, 312], eta: 3 });
    expect(halvingPlan(810, { eta: 3, minBudget: 10 })).toEqual({ rungs: [10, 30, 90, 270, 810], eta: 3 });
    expect(halvingPlan(1000, { eta: 2, minBudget: 300 })).toEqual({ rungs: [300, 600, 1000], eta: 2 });
    expect(halvingPlan(10, { eta: 1.5, minBudget: 1 }).rungs).toEqual([1, 2, 3, 5, 8, 10]); // rounded, no repeats
    expect(halvingPlan(312, { eta: 3, minBudget: 34 }).rungs).toEqual([34, 102, 312]); // not 306: within sqrt(eta) of the horizon
  });

  it('without halving: one rung, the horizon', () => {
    expect(halvingPlan(312, null)).toEqual({ rungs: [312], eta: 1 });
  });

  it('refuses eta <= 1, a min budget not below the horizon, non-integer budgets', () => {
    expect(() => halvingPlan(312, { eta: 1, minBudget: 12 })).toThrow(ConfigError);
    expect(() => halvingPlan(312, { eta: 3, minBudget: 312 })).toThrow(/--min-budget 312 is not below the budget of 312 steps/);
    expect(() => halvingPlan(312, { eta: 3, minBudget: 0.5 })).toThrow(/--min-budget must be a whole number/);
    expect(() => halvingPlan(0, null)).toThrow(/at least 1/);
  });
});

const member = (signature: string, seed: number, state: RungMember['state'], valTop1?: number): RungMember =>
  ({ id: `${signature}-s${seed}`, signature, state, ...(valTop1 !== undefined ? { outcome: done(valTop1) } : {}) });

describe('decideRung', () => {
  it('9 architectures, eta 3: the top 3 continue, the other 6 stop', () => {
    const vals = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4];
    const members = vals.map((v, i) => member(`n${i}`, 0, 'waiting', v));
    const d = decideRung(members, 0, 3)!;
    expect(d.promoted).toEqual(['n1', 'n5', 'n3']);
    expect(d.continuing).toEqual(['n1-s0', 'n3-s0', 'n5-s0']); // in trial order
    expect(d.stopped.length).toBe(6);
    expect(d.ranking.map((g) => g.signature)).toEqual(['n1', 'n5', 'n3', 'n7', 'n0', 'n8', 'n4', 'n6', 'n2']);
    // and then 3 -> 1
    const next = decideRung(['n1', 'n5', 'n3'].map((s, i) => member(s, 0, 'waiting', [0.91, 0.95, 0.5][i])), 1, 3)!;
    expect(next.promoted).toEqual(['n5']);
  });

  it('ranks by the mean over seeds, and moves all seeds of a signature together', () => {
    // a: one great seed, one bad (mean 0.5); b: steady 0.6
    const members = [member('a', 0, 'waiting', 0.9), member('a', 1, 'waiting', 0.1), member('b', 0, 'waiting', 0.6), member('b', 1, 'waiting', 0.6)];
    const d = decideRung(members, 0, 2)!;
    expect(d.ranking.map((g) => [g.signature, g.score])).toEqual([['b', 0.6], ['a', 0.5]]);
    expect(d.continuing).toEqual(['b-s0', 'b-s1']);
    expect(d.stopped).toEqual(['a-s0', 'a-s1']);
  });

  it('breaks ties by signature, deterministically, whatever the order of the members', () => {
    const members = ['z', 'm', 'a', 'q'].map((s) => member(s, 0, 'waiting', 0.5));
    expect(decideRung(members, 0, 2)!.promoted).toEqual(['a', 'm']);
    expect(decideRung([...members].reverse(), 0, 2)!.promoted).toEqual(['a', 'm']);
  });

  it('never promotes a diverged or failed trial, nor a signature with one diverged seed', () => {
    const members = [
      member('good', 0, 'waiting', 0.3), member('good', 1, 'waiting', 0.3),
      member('half', 0, 'waiting', 0.99), member('half', 1, 'diverged'),
      member('dead', 0, 'diverged'), member('dead', 1, 'failed'),
    ];
    const d = decideRung(members, 0, 1.2)!; // ceil(3 / 1.2) = 3 places, but only one signature has a score
    expect(d.promoted).toEqual(['good']);
    expect(d.continuing).toEqual(['good-s0', 'good-s1']);
    expect(d.stopped).toEqual(['half-s0']); // the diverged / failed stay what they are
    expect(d.ranking.find((g) => g.signature === 'half')!.score).toBe(-Infinity);
  });

  it('waits while any member has no outcome', () => {
    expect(decideRung([member('a', 0, 'waiting', 0.5), member('b', 0, 'running')], 0, 3)).toBeNull();
    expect(decideRung([member('a', 0, 'waiting', 0.5), member('b', 0, 'pending')], 0, 3)).toBeNull();
  });
});

describe('halving in the replayed study (derived, no record of its own)', () => {
  const sigs = Array.from({ length: 9 }, (_, i) => `n${i}`);
  const trials = trialSpecs(sigs, [0, 1]);
  const study = studyRecord({ trials, rungs: [10, 30, 90], eta: 3, seeds: [0, 1] });
  // Architecture n_i scores 0.1 * i (seed 1 a little lower), at every rung: so n8, n7, n6 continue, then n8.
  const score = (sig: string, seed: number, rung: number) => 0.1 * Number(sig.slice(1)) - 0.01 * seed + 0.001 * rung;

  function runRung(records: JournalRecord[], rung: number, which: string[], t0: number): void {
    let at = t0;
    for (const sig of which) {
      for (const seed of [0, 1]) {
        const id = `${sig}-s${seed}`;
        const w = as('h:1:1:0', id, rung, 1);
        records.push(w.claim(at++), w.result(at++, sig === 'n0' && rung === 0 ? diverged() : done(score(sig, seed, rung), [10, 30, 90][rung])));
      }
    }
  }

  it('9 architectures x 2 seeds, eta 3: 3 architectures continue to rung 1, then 1 to the last rung', () => {
    const records: JournalRecord[] = [study];
    runRung(records, 0, sigs, 1);
    let state = replay(stored(records));
    const at = (rung: number, st: string) => [...state.trials.values()].filter((t) => t.rung === rung && t.state === st).map((t) => t.spec.id);
    expect(at(1, 'pending')).toEqual(['n6-s0', 'n6-s1', 'n7-s0', 'n7-s1', 'n8-s0', 'n8-s1']);
    expect(at(0, 'stopped').length).toBe(10);
    expect(at(0, 'diverged')).toEqual(['n0-s0', 'n0-s1']);
    expect(state.decisions.map((d) => d.promoted)).toEqual([['n8', 'n7', 'n6']]);

    runRung(records, 1, ['n6', 'n7', 'n8'], 1000);
    state = replay(stored(records));
    expect(at(2, 'pending')).toEqual(['n8-s0', 'n8-s1']);
    expect(at(1, 'stopped')).toEqual(['n6-s0', 'n6-s1', 'n7-s0', 'n7-s1']);

    runRung(records, 2, ['n8'], 2000);
    state = replay(stored(records));
    expect(at(2, 'done')).toEqual(['n8-s0', 'n8-s1']);
    expect(state.trials.get('n8-s0')!.outcomes.map((o) => o?.step)).toEqual([10, 30, 90]);
    expect(state.ignored).toBe(0);
  });

  it('the decision waits for the last trial of the rung, including a retried failure', () => {
    const records: JournalRecord[] = [studyRecord({ trials: trialSpecs(['a', 'b', 'c']), rungs: [10, 30], eta: 3, maxRetries: 1 })];
    records.push(as('w', 'a-s0', 0, 1).claim(1), as('w', 'a-s0', 0, 1).result(2, done(0.5, 10)));
    records.push(as('w', 'b-s0', 0, 1).claim(3), as('w', 'b-s0', 0, 1).result(4, done(0.4, 10)));
    records.push(as('w', 'c-s0', 0, 1).claim(5), as('w', 'c-s0', 0, 1).result(6, failed()));
    let state = replay(stored(records));
    expect(state.trials.get('c-s0')!.state).toBe('pending'); // retried: no decision yet
    expect(state.decisions).toEqual([]);
    records.push(as('w', 'c-s0', 0, 2).claim(7), as('w', 'c-s0', 0, 2).result(8, done(0.9, 10)));
    state = replay(stored(records));
    expect(state.decisions[0].promoted).toEqual(['c']);
    expect(state.trials.get('c-s0')).toMatchObject({ state: 'pending', rung: 1, attempts: 0, failures: 0 });
    expect(state.trials.get('a-s0')!.state).toBe('stopped');
  });

  it('is the same on every replay and when folded record by record', async () => {
    const records: JournalRecord[] = [study];
    runRung(records, 0, sigs, 1);
    const a = replay(stored(records));
    const { advance } = await import('../src/study.js');
    const b = replay(stored(records.slice(0, 1)));
    for (const [i, r] of records.slice(1).entries()) advance(b, [{ seq: i + 1, record: r }]);
    expect(b).toEqual(a);
  });
});
