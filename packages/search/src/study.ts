/**
 * The rules of a study, once, above the storage interface: the state is a pure fold over the journal (`replay`, one
 * case per record kind), and every decision (what to claim, whether a record still counts) is a function of that
 * state and a `now` passed in. Backends store records; they know nothing of claims, leases, retries or rungs.
 *
 * Rules the fold enforces (a record that breaks one is ignored and counted in `state.ignored`):
 * - claim: only of a trial claimable at the claim's time `at`: pending at its rung, or running under a claim whose
 *   lease ended before `at` (`leaseUntil < at`), or whose owner the claimer saw dead on its host
 *   (`supersedes: 'owner-dead'`); its attempt is the previous claims at that rung + 1.
 * - heartbeat, result, release: only from the current claim (trial, rung, attempt, owner) of a running trial; a
 *   worker that lost its lease records nothing, so a point may run twice but is recorded once. A second result for a
 *   (trial, rung) that has one is ignored.
 * - outcomes: done at the last rung -> done; done earlier -> waiting (for the rung's halving decision, see
 *   halving.ts, derived here without a record); diverged -> diverged (never retried); failed and `invalid` (a user
 *   error) -> failed at once; failed otherwise -> pending again while the failures at that rung are at most
 *   `maxRetries`, else failed.
 * - release (the owner gives the claim back, e.g. on SIGTERM) -> pending; it does not count toward the retry limit.
 *   Nor does a claim taken over after its lease ran out or its owner died: that is the worker dying (kill -9, power
 *   loss), not the trial failing; a trial process that crashes is reported as a failed result by its live worker.
 *   Accounting: `attempts` counts every claim at the rung (the next claim's attempt number); `failures`,
 *   `released` and `lost` split the ended ones; only `failures` meets the retry limit.
 *
 * Times (`at`, `leaseUntil`: ms since the epoch) are the storage's clock where it has one: the PostgreSQL backend
 * stamps them with the server's `now()` on append (`stampsTime`), so leases compare one clock whatever the workers'
 * clocks say. Otherwise (file and memory journals) each claimer writes its own clock, and the machines of one study
 * need clocks that agree to well within a lease. Decisions use `storageNow(backend)`; a decision taken on a clock that
 * is off only makes a claim not count (replay checks it against the stored times), never breaks a live lease.
 */
import { CheckpointError, StorageError } from '@effscale/core';
import { decideRung, type RungDecision } from './halving.js';
import { localProcessAlive, thisProcess } from './journal/backend.js';
import type { HalvingPlan, JournalBackend, JournalRecord, StoredRecord, StudySettings, TrialOutcome, TrialState, TrialStatus } from './types.js';

export type StudyRecord = Extract<JournalRecord, { kind: 'study' }>;
export type ClaimRecord = Extract<JournalRecord, { kind: 'claim' }>;

/** A trial's replayed state: TrialStatus (types.ts) plus the counts behind the retry rule. */
export interface TrialRuntime extends TrialStatus {
  /** Failed results at the current rung: these meet `maxRetries`. */
  failures: number;
  /** Claims at the current rung given back by their owner (not failures). */
  released: number;
  /** Claims at the current rung taken over after their lease ran out or their owner died (not failures). */
  lost: number;
  /** Claims at all rungs. */
  totalAttempts: number;
  /** The error of the last failed attempt (also while it is retried). */
  lastError?: string;
}

export interface StudyState {
  /** The study record (seq 0): settings, points, trials. */
  study: StudyRecord;
  /** Trials in the study's order. */
  trials: Map<string, TrialRuntime>;
  /** The seq the next record gets. */
  nextSeq: number;
  /** Records the fold ignored (invalid at their place in the journal), and why. */
  ignored: number;
  ignoredLog: { seq: number; kind: string; reason: string }[];
  /** Halving decisions taken so far, by rung. */
  decisions: RungDecision[];
}

// ---- The fold ---------------------------------------------------------------------------------------------------

/** The state of a study from its records (seq 0, 1, ... in order). Pure. */
export function replay(records: StoredRecord[]): StudyState {
  const first = records[0];
  if (!first || first.seq !== 0 || first.record.kind !== 'study') {
    throw new CheckpointError('the study journal does not start with a study record; it is not a study');
  }
  const study = JSON.parse(JSON.stringify(first.record)) as StudyRecord;
  if (study.version !== 1) throw new CheckpointError(`the study was written by another version of effscale (journal version ${study.version}, this one reads 1); use that version`);
  const trials = new Map<string, TrialRuntime>();
  for (const spec of study.trials) {
    if (trials.has(spec.id)) throw new CheckpointError(`the study record lists trial '${spec.id}' twice; the study is damaged`);
    trials.set(spec.id, { spec, state: 'pending', rung: 0, attempts: 0, outcomes: [], failures: 0, released: 0, lost: 0, totalAttempts: 0 });
  }
  const state: StudyState = { study, trials, nextSeq: 1, ignored: 0, ignoredLog: [], decisions: [] };
  return advance(state, records.slice(1));
}

/** Fold `records` (which must continue at state.nextSeq) into `state`, in place; returns it. */
export function advance(state: StudyState, records: StoredRecord[]): StudyState {
  for (const { seq, record } of records) {
    if (seq !== state.nextSeq) throw new Error(`replay: record seq ${seq} where ${state.nextSeq} was expected`);
    const why = apply(state, record);
    if (why !== null) {
      state.ignored++;
      state.ignoredLog.push({ seq, kind: record.kind, reason: why });
    }
    state.nextSeq++;
  }
  return state;
}

const sameClaim = (t: TrialRuntime, r: { rung: number; attempt: number; owner: string }) =>
  t.state === 'running' && t.rung === r.rung && t.claim !== undefined && t.claim.attempt === r.attempt && t.claim.owner === r.owner;

/** One record; returns why it is ignored, or null when it counts. */
function apply(state: StudyState, r: JournalRecord): string | null {
  if (r.kind === 'study') return 'a second study record';
  const t = state.trials.get(r.trial);
  if (!t) return `no trial '${r.trial}' in the study`;
  switch (r.kind) {
    case 'claim': {
      if (r.rung !== t.rung) return `claim of rung ${r.rung}, the trial is at rung ${t.rung}`;
      if (r.attempt !== t.attempts + 1) return `claim attempt ${r.attempt}, the next is ${t.attempts + 1}`;
      if (t.state === 'running') {
        if (!(t.claim!.leaseUntil < r.at || r.supersedes === 'owner-dead')) return `the trial is held by ${t.claim!.owner} until ${t.claim!.leaseUntil}`;
        t.lost++;
      } else if (t.state !== 'pending') {
        return `the trial is ${t.state}`;
      }
      t.state = 'running';
      t.attempts = r.attempt;
      t.totalAttempts++;
      t.claim = { attempt: r.attempt, owner: r.owner, leaseUntil: r.leaseUntil };
      return null;
    }
    case 'heartbeat': {
      if (!sameClaim(t, r)) return 'not the current claim';
      t.claim!.leaseUntil = r.leaseUntil;
      return null;
    }
    case 'release': {
      if (!sameClaim(t, r)) return 'not the current claim';
      t.state = 'pending';
      t.claim = undefined;
      t.released++;
      return null;
    }
    case 'result': {
      if (!sameClaim(t, r)) return 'not the current claim';
      if (t.outcomes[r.rung] !== undefined) return 'the rung already has a result';
      const o = r.outcome;
      const last = r.rung === state.study.settings.halving.rungs.length - 1;
      if (o.status === 'done') {
        t.outcomes[r.rung] = o;
        t.state = last ? 'done' : 'waiting';
      } else if (o.status === 'diverged') {
        t.outcomes[r.rung] = o;
        t.state = 'diverged';
      } else if (o.status === 'failed') {
        t.lastError = o.error;
        t.failures++;
        if (o.invalid || t.failures >= state.study.settings.maxRetries + 1) {
          t.outcomes[r.rung] = o;
          t.state = 'failed';
        } else {
          t.state = 'pending';
        }
      } else {
        return `unknown outcome status '${(o as { status: unknown }).status}'`;
      }
      t.claim = undefined;
      if (!last && t.state !== 'pending') decideIfComplete(state, r.rung);
      return null;
    }
    default:
      return `unknown record kind '${(r as { kind: unknown }).kind}'`;
  }
}

/** Halving: once every trial at `rung` has its outcome, promote the best signatures' trials and stop the rest. */
function decideIfComplete(state: StudyState, rung: number): void {
  if (state.decisions.some((d) => d.rung === rung)) return;
  const members = [...state.trials.values()].filter((t) => t.rung === rung);
  const d = decideRung(members.map((t) => ({ id: t.spec.id, signature: t.spec.signature, state: t.state, outcome: t.outcomes[rung] })), rung, state.study.settings.halving.eta);
  if (!d) return;
  state.decisions.push(d);
  for (const id of d.continuing) {
    const t = state.trials.get(id)!;
    Object.assign(t, { state: 'pending', rung: rung + 1, attempts: 0, failures: 0, released: 0, lost: 0, claim: undefined } satisfies Partial<TrialRuntime>);
  }
  for (const id of d.stopped) state.trials.get(id)!.state = 'stopped';
}

// ---- Decisions --------------------------------------------------------------------------------------------------

export interface ClaimChoice {
  trial: string;
  rung: number;
  attempt: number;
  /** Set when the claim takes over a running trial (its lease ran out, or its owner is dead). */
  supersedes?: 'expired' | 'owner-dead';
}

/**
 * The claim to make now, or null when nothing is claimable: the first claimable trial in trial order, lowest rung
 * first. A running trial is claimable when its lease ended before `now`, or when `ownerAlive` says its owner is gone.
 */
export function nextClaim(state: StudyState, now: number, ownerAlive: (owner: string) => boolean): ClaimChoice | null {
  let best: ClaimChoice | null = null;
  for (const t of state.trials.values()) {
    if (best !== null && t.rung >= best.rung) continue;
    let supersedes: ClaimChoice['supersedes'];
    if (t.state === 'running') {
      if (t.claim!.leaseUntil < now) supersedes = 'expired';
      else if (!ownerAlive(t.claim!.owner)) supersedes = 'owner-dead';
      else continue;
    } else if (t.state !== 'pending') {
      continue;
    }
    best = { trial: t.spec.id, rung: t.rung, attempt: t.attempts + 1, ...(supersedes ? { supersedes } : {}) };
  }
  return best;
}

/** True when no trial can be claimed ever again: every one is done, diverged, failed or stopped. */
export function isFinished(state: StudyState): boolean {
  for (const t of state.trials.values()) if (t.state !== 'done' && t.state !== 'diverged' && t.state !== 'failed' && t.state !== 'stopped') return false;
  return true;
}

/** Whether `ref` is the live claim of its trial in `state` (what a worker checks before acting on it). */
export function holdsClaim(state: StudyState, ref: ClaimRef): boolean {
  const t = state.trials.get(ref.trial);
  return t !== undefined && sameClaim(t, ref);
}

// ---- Records ----------------------------------------------------------------------------------------------------

/** A claim as its owner refers to it in later records. */
export interface ClaimRef {
  trial: string;
  rung: number;
  attempt: number;
  owner: string;
}

export function claimRecord(c: ClaimChoice, owner: string, now: number, leaseMs: number): ClaimRecord {
  return { kind: 'claim', trial: c.trial, rung: c.rung, attempt: c.attempt, owner, at: now, leaseUntil: now + leaseMs, ...(c.supersedes ? { supersedes: c.supersedes } : {}) };
}

export function heartbeatRecord(c: ClaimRef, now: number, leaseMs: number): JournalRecord {
  return { kind: 'heartbeat', trial: c.trial, rung: c.rung, attempt: c.attempt, owner: c.owner, at: now, leaseUntil: now + leaseMs };
}

export function resultRecord(c: ClaimRef, now: number, outcome: TrialOutcome): JournalRecord {
  return { kind: 'result', trial: c.trial, rung: c.rung, attempt: c.attempt, owner: c.owner, at: now, outcome };
}

export function releaseRecord(c: ClaimRef, now: number): JournalRecord {
  return { kind: 'release', trial: c.trial, rung: c.rung, attempt: c.attempt, owner: c.owner, at: now };
}

// ---- Owners -----------------------------------------------------------------------------------------------------

/** The owner string of worker `workerIndex` of this process: `host:pid:startTime:worker`. */
export function ownerId(workerIndex: number): string {
  const me = thisProcess();
  return `${me.host}:${me.pid}:${me.started ?? '-'}:${workerIndex}`;
}

/** An owner string's parts, or null when it is not one ownerId wrote (the host may itself contain ':'). */
export function parseOwnerId(owner: string): { host: string; pid: number; started: string | null; worker: number } | null {
  const parts = owner.split(':');
  if (parts.length < 4) return null;
  const worker = Number(parts.pop());
  const started = parts.pop()!;
  const pid = Number(parts.pop());
  if (!Number.isInteger(worker) || !Number.isInteger(pid) || pid <= 0) return null;
  return { host: parts.join(':'), pid, started: started === '-' ? null : started, worker };
}

/**
 * False only when the owner's process is known to be gone: same host, and its pid no longer runs or now belongs to
 * a process started at another time. An owner on another host, or one it cannot parse, counts as alive (only its
 * lease can end it).
 */
export function isOwnerAliveLocal(owner: string): boolean {
  const o = parseOwnerId(owner);
  if (!o || o.host !== thisProcess().host) return true;
  return localProcessAlive(o.pid, o.started);
}

/** The clock of `backend`'s leases: its own where it has one (the database server's), else this machine's. */
export function storageNow(backend: JournalBackend): number {
  return backend.now ? backend.now() : Date.now();
}

// ---- Appending --------------------------------------------------------------------------------------------------

interface Cursor {
  state: StudyState | null;
  busy: Promise<unknown>;
}
const cursors = new WeakMap<JournalBackend, Cursor>();

function cursorOf(backend: JournalBackend): Cursor {
  let c = cursors.get(backend);
  if (!c) cursors.set(backend, (c = { state: null, busy: Promise.resolve() }));
  return c;
}

/** One operation at a time per backend object, so its kept state is never folded twice. */
function exclusive<T>(backend: JournalBackend, fn: (c: Cursor) => Promise<T>): Promise<T> {
  const c = cursorOf(backend);
  const run = c.busy.then(() => fn(c));
  c.busy = run.catch(() => undefined);
  return run;
}

async function refresh(backend: JournalBackend, c: Cursor): Promise<StudyState> {
  if (c.state === null) {
    c.state = replay(await backend.read(0));
  } else {
    advance(c.state, await backend.read(c.state.nextSeq));
  }
  return c.state;
}

/**
 * The study's current state over `backend`: kept per backend object and advanced by the records appended since the
 * last call (only those are read). The returned object is live: later calls on the same backend advance it.
 */
export function loadState(backend: JournalBackend): Promise<StudyState> {
  return exclusive(backend, (c) => refresh(backend, c));
}

export interface AppendResult {
  /** The state after the append (or after the last read, when `decide` had nothing to append). Live, as loadState's. */
  state: StudyState;
  /** The records appended, or null when decide returned null or nothing. */
  appended: JournalRecord[] | null;
}

/**
 * Read what is new, fold it, ask `decide` what to append, and append it at state.nextSeq; when another writer got
 * there first, read again and decide again (up to `tries` times). `decide` must be a function of the state (it is
 * called once per try). After it returns, the appended records are in the state: check `holdsClaim` to see whether a
 * claim took effect (it always does when decide used nextClaim on the state it was given).
 */
export function appendWithRetry(backend: JournalBackend, decide: (state: StudyState) => JournalRecord[] | null, opts: { tries?: number } = {}): Promise<AppendResult> {
  const tries = opts.tries ?? 100;
  return exclusive(backend, async (c) => {
    for (let i = 0; i < tries; i++) {
      const state = await refresh(backend, c);
      const records = decide(state);
      if (!records || records.length === 0) return { state, appended: null };
      if (await backend.append(records, state.nextSeq)) {
        const at = state.nextSeq;
        if (backend.stampsTime) {
          // The backend rewrote the times: fold what it stored (and anything appended since), as every reader will.
          const back = await backend.read(at);
          advance(state, back);
          return { state, appended: back.slice(0, records.length).map((r) => r.record) };
        }
        // Folded as stored: a copy through JSON, as every other reader will see them.
        const stored = (JSON.parse(JSON.stringify(records)) as JournalRecord[]).map((record, k) => ({ seq: at + k, record }));
        advance(state, stored);
        return { state, appended: records };
      }
    }
    throw new StorageError(`could not append to the study journal in ${tries} tries (other writers kept getting there first); run again`);
  });
}

// ---- Settings ---------------------------------------------------------------------------------------------------

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

function show(x: unknown): string {
  if (x === undefined) return 'nothing (not set)';
  const s = JSON.stringify(x);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length === b.length) {
      for (let i = 0; i < a.length; i++) {
        const d = firstDifference(a[i], b[i], `${path}[${i}]`);
        if (d) return d;
      }
      return null;
    }
    // Arrays of plain values read best whole; a different length of objects names the length.
    if (a.every((x) => !isObject(x) && !Array.isArray(x)) && b.every((x) => !isObject(x) && !Array.isArray(x))) {
      return `${path}: the study uses ${show(a)}, this run ${show(b)}`;
    }
    return `${path}: the study has ${a.length} entries, this run ${b.length}`;
  }
  if (a === b) return null;
  return `${path}: the study uses ${show(a)}, this run ${show(b)}`;
}

/**
 * Null when `given` describes the same study as `study` (compared as stored: through JSON), else a message naming
 * the first differing setting, e.g. "training.recipe.lr: the study uses 0.002, this run 0.001".
 */
export function checkSettings(study: StudySettings, given: StudySettings): string | null {
  const norm = (x: StudySettings) => JSON.parse(JSON.stringify(x)) as unknown;
  return firstDifference(norm(study), norm(given), '');
}

// ---- Summaries --------------------------------------------------------------------------------------------------

const STATES: TrialState[] = ['pending', 'running', 'waiting', 'done', 'diverged', 'failed', 'stopped'];
const zero = () => Object.fromEntries(STATES.map((s) => [s, 0])) as Record<TrialState, number>;

export interface StudySummary {
  total: number;
  byState: Record<TrialState, number>;
  /** Per rung: its steps and the trials at it (running, pending, or ended there) by state. */
  rungs: { rung: number; steps: number; byState: Record<TrialState, number> }[];
  finished: boolean;
  /** Running trials whose lease has ended at `now` (their worker is probably gone). */
  expired: number;
}

export function summarize(state: StudyState, now = Date.now()): StudySummary {
  const plan: HalvingPlan = state.study.settings.halving;
  const byState = zero();
  const rungs = plan.rungs.map((steps, rung) => ({ rung, steps, byState: zero() }));
  let expired = 0;
  for (const t of state.trials.values()) {
    byState[t.state]++;
    rungs[t.rung].byState[t.state]++;
    if (t.state === 'running' && t.claim!.leaseUntil < now) expired++;
  }
  return { total: state.trials.size, byState, rungs, finished: isFinished(state), expired };
}
