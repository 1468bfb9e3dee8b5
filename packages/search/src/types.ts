/**
 * The shared vocabulary of the search: grid points, trials, journal records, the storage interface. Data flows one
 * way: space (grid points) -> dedup (trials) -> journal (records) -> study (replayed state) -> worker / CLI.
 */
import type { NetworkSpec } from '@effscale/core';

// ---- The grid ---------------------------------------------------------------------------------------------------

/** Realized cost of a scaled proxy from flops, absolute and as a ratio over the unscaled base. */
export interface PointCosts {
  params: number;
  macs: number;
  activations: number;
  paramsRatio: number;
  macsRatio: number;
  activationsRatio: number;
}

export interface GridPoint {
  /** Stable id from the point's values after rounding to the grid's precision (same grid, same ids, any flag order). */
  id: string;
  alpha: number;
  beta: number;
  gamma: number;
  /** The constraint expression's value at this point (e.g. alpha * beta^2 * gamma^2). */
  constraintValue: number;
  /** The network this point trains: the base scaled by alpha^phi, beta^phi, gamma^phi. */
  network: NetworkSpec;
  /** Resolved-architecture signature (repeats per stage, channels, resolution): equal signatures train the same net. */
  signature: string;
  costs: PointCosts;
  /** Added by --include, not from the ranges. */
  included: boolean;
}

// ---- Trials -----------------------------------------------------------------------------------------------------

/** One training: a distinct architecture and a seed. Points with the same signature share it. */
export interface TrialSpec {
  /** Stable id from (signature, seed). */
  id: string;
  signature: string;
  seed: number;
  /** Grid point ids this trial stands for (the first is the representative whose network is trained). */
  points: string[];
  network: NetworkSpec;
}

// ---- Successive halving -----------------------------------------------------------------------------------------

/** Rungs in optimizer steps, ascending; the last is the full budget (the horizon). Without halving: one rung. */
export interface HalvingPlan {
  rungs: number[];
  eta: number;
}

// ---- Journal records --------------------------------------------------------------------------------------------

/** The outcome of one attempt at one rung, as the trial process reported it. */
export interface TrialOutcome {
  status: 'done' | 'diverged' | 'failed';
  /** failed: the error message (first line); `invalid`: a user error (a configuration that can never work, not retried). */
  error?: string;
  invalid?: boolean;
  step: number;
  valTop1?: number;
  valTop5?: number;
  valLoss?: number;
  testTop1?: number;
  testTop5?: number;
  testLoss?: number;
  /** val top-1 at every evaluation so far: the learning curve. */
  curve?: { step: number; valTop1: number; valLoss: number; trainLoss: number }[];
  imagesPerSec?: number;
  trainSeconds?: number;
  /** The training call from start to end (data load, build, steps, evaluations). */
  wallSeconds?: number;
  /** The trial process from spawn to exit, as its worker measured it: wallSeconds plus start-up (node, backend). */
  processSeconds?: number;
  backend?: string;
}

/** Everything that defines a study; stored in its first record and compared on every later run. */
export interface StudySettings {
  /** Canonical description of the grid (ranges, constraint, target, tolerance, solve, include, where, phi, base). */
  grid: Record<string, unknown>;
  /** The trainer settings every trial shares (recipe and overrides, data and splits, budget, batch size, backend). */
  training: Record<string, unknown>;
  seeds: number[];
  halving: HalvingPlan;
  maxRetries: number;
  /** Lease length in ms: a claim not renewed by a heartbeat within it is treated as dead. */
  leaseMs: number;
}

export type JournalRecord =
  | { kind: 'study'; version: 1; createdAt: string; settings: StudySettings; fingerprint: string; points: GridPoint[]; trials: TrialSpec[]; code: Record<string, unknown> }
  /**
   * A worker takes (trial, rung); attempt counts every claim of that trial at that rung. `supersedes`: the trial was
   * running under another claim that this one replaces, because its lease ran out ('expired', checked by replay against
   * `at`) or because the claimer saw its owner's process is gone on this host ('owner-dead', trusted as recorded).
   */
  | { kind: 'claim'; trial: string; rung: number; attempt: number; owner: string; at: number; leaseUntil: number; supersedes?: 'expired' | 'owner-dead' }
  | { kind: 'heartbeat'; trial: string; rung: number; attempt: number; owner: string; at: number; leaseUntil: number }
  /** The attempt ended (only accepted from the current owner of the current attempt). */
  | { kind: 'result'; trial: string; rung: number; attempt: number; owner: string; at: number; outcome: TrialOutcome }
  /** The owner gives the claim back without an outcome (SIGTERM): not counted as a failure. */
  | { kind: 'release'; trial: string; rung: number; attempt: number; owner: string; at: number };

/** A record as stored: a sequence number (0-based, no gaps) and a checksum of the record's JSON. */
export interface StoredRecord {
  seq: number;
  record: JournalRecord;
}

// ---- Storage ----------------------------------------------------------------------------------------------------

/**
 * The one storage interface. Every rule of a study (claims, leases, retries, rungs) lives above it, in study.ts,
 * so each backend is only this.
 */
export interface JournalBackend {
  /** Records with seq >= from, in order. */
  read(from: number): Promise<StoredRecord[]>;
  /** Durably append `records` as seq next, next+1, ... iff `next` is still the next seq; false: another writer won. */
  append(records: JournalRecord[], next: number): Promise<boolean>;
  close(): Promise<void>;
  /**
   * The clock leases are measured by (ms since the epoch), for a backend with its own (PostgreSQL: the server's
   * `now()`); absent: this machine's `Date.now()`.
   */
  now?(): number;
  /**
   * True when `append` sets `at` (and moves `leaseUntil` with it) of the records to the backend's clock: what is stored
   * then differs from what was given, so the appender folds the records as read back.
   */
  readonly stampsTime?: boolean;
}

// ---- Replayed state ---------------------------------------------------------------------------------------------

export type TrialState = 'pending' | 'running' | 'done' | 'diverged' | 'failed' | 'stopped' | 'waiting';

export interface TrialStatus {
  spec: TrialSpec;
  state: TrialState;
  /** The rung it is at (running / pending) or ended at. */
  rung: number;
  /** Attempts at the current rung. */
  attempts: number;
  /** The live claim, if running. */
  claim?: { attempt: number; owner: string; leaseUntil: number };
  /** Outcome of each finished rung (index = rung). */
  outcomes: (TrialOutcome | undefined)[];
}
