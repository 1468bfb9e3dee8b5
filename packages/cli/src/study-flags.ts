/** The flags every study shares (search run, experiment): the proxy base, the training of each trial, the workers. */
import { readFileSync } from 'node:fs';
import { ConfigError, type NetworkSpec } from '@effscale/core';
import { RECIPE_NAMES, type RecipeName } from '@effscale/core/train';
import type { TrialTraining } from '@effscale/search';
import { UsageError } from './errors.js';
import { parseInteger, parseNumber } from './numbers.js';
import { DATA_OPTIONS, checkBackendFlag, dataFromFlags } from './data-flags.js';
import { DEFAULT_PROXY, RECIPE_FLAGS, recipeOverrides } from './commands/train.js';

export const BASE_FLAGS = {
  'base-depth': { type: 'string' }, 'base-width': { type: 'string' }, 'base-resolution': { type: 'string' },
  channels: { type: 'string' }, classes: { type: 'string' },
} as const;

export const TRAINING_FLAGS = {
  ...DATA_OPTIONS, ...RECIPE_FLAGS,
  recipe: { type: 'string' }, 'bn-momentum': { type: 'string' }, dropout: { type: 'string' },
  epochs: { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' }, seeds: { type: 'string' },
  backend: { type: 'string' }, 'checkpoint-every': { type: 'string' },
} as const;

export const WORKER_FLAGS = {
  workers: { type: 'string' }, 'max-retries': { type: 'string' }, lease: { type: 'string' }, gpus: { type: 'string' },
} as const;

/** Where a study lives when it is not a directory: a PostgreSQL URL, and where its trials' run directories go. */
export const STORAGE_FLAGS = { storage: { type: 'string' }, 'trials-dir': { type: 'string' } } as const;

/**
 * The study storage from --storage, else EFFSCALE_STORAGE; null: the study is a directory (the default). `@FILE`
 * reads the URL from the file's first line (so the password stays out of the command line); parts the URL leaves
 * out come from PGHOST, PGPORT, PGUSER, PGDATABASE, and the password from PGPASSWORD or ~/.pgpass.
 */
export function storageFromFlags(v: Flags): string | null {
  const given = (str(v, 'storage') ?? process.env.EFFSCALE_STORAGE)?.trim();
  if (given === undefined || given === '') return null;
  let url = given;
  if (given.startsWith('@')) {
    try {
      url = readFileSync(given.slice(1), 'utf8').split('\n')[0].trim();
    } catch (e) {
      throw new ConfigError(`cannot read the storage URL from '${given.slice(1)}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give --storage postgresql://... or @FILE of a file holding one`);
    }
  }
  if (/^postgres(ql)?:$/i.test(url)) url = 'postgresql://'; // everything from the PG* environment variables
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new ConfigError(`--storage / EFFSCALE_STORAGE must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) or @FILE; without it a study is a directory`);
  }
  return url;
}

/** Where a stored study's trial run directories go: --trials-dir, EFFSCALE_TRIALS_DIR, or ./effscale-trials; one folder per study. */
export function trialsDirFromFlags(v: Flags, study: string): string {
  return `${(str(v, 'trials-dir') ?? process.env.EFFSCALE_TRIALS_DIR ?? 'effscale-trials').replace(/\/+$/, '')}/${study}`;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

/** What a command's budget defaults to when its flags are not given. */
export interface TrainingDefaults {
  trainLimit: number;
  valCount: number;
  testLimit: number;
  epochs: number;
  seeds: number[];
}

/**
 * Test images each trial evaluates at its end. The full Fashion-MNIST test set costs ~8.6 s per trial (more than the
 * start-up, data and validation together); 2,000 stratified images cost ~1.7 s with a standard error near 0.9 points.
 * Test accuracy is reported, never used to choose; give --test-limit 10000 for the whole set.
 */
export const SEARCH_DEFAULTS: TrainingDefaults = { trainLimit: 10_000, valCount: 2000, testLimit: 2000, epochs: 1, seeds: [0, 1] };

const str = (v: Flags, k: string) => v[k] as string | undefined;
const num = async (v: Flags, flag: string, fallback: number) => (str(v, flag) !== undefined ? parseNumber(flag, str(v, flag)!) : fallback);
const int = async (v: Flags, flag: string, fallback: number, min = 1) => (str(v, flag) !== undefined ? parseInteger(flag, str(v, flag)!, min) : fallback);

/** The documented proxy base (B0 at depth 0.5, width 0.5, 32 px, 1 channel, 10 classes) unless flags say otherwise. */
export async function baseFromFlags(v: Flags): Promise<NetworkSpec & { selector: { kind: 'multipliers'; depth: number; width: number; resolution: number } }> {
  return {
    selector: { kind: 'multipliers', depth: await num(v, 'base-depth', DEFAULT_PROXY.depth), width: await num(v, 'base-width', DEFAULT_PROXY.width),
      resolution: await int(v, 'base-resolution', DEFAULT_PROXY.resolution) },
    inputChannels: await int(v, 'channels', 1),
    classes: await int(v, 'classes', 10),
  };
}

export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seeds '${text}': each seed must be a non-negative integer (e.g. 0,1,2)`);
    return n;
  });
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds '${text}' repeats a seed`);
  return seeds;
}

/** Every trial's training: recipe and overrides, data and splits, budget in steps, backend; and the seeds. */
export async function trainingFromFlags(v: Flags, d: TrainingDefaults): Promise<{ training: TrialTraining; seeds: number[]; steps: number }> {
  const recipe = (str(v, 'recipe') ?? 'proxy') as RecipeName;
  if (!RECIPE_NAMES.includes(recipe)) throw new UsageError(`--recipe '${str(v, 'recipe')}' is not a recipe (allowed: ${RECIPE_NAMES.join(', ')})`);
  const data = await dataFromFlags({ ...v, data: str(v, 'data') ?? 'fashion-mnist' } as Parameters<typeof dataFromFlags>[0]);
  const valCount = data.valCount ?? (data.valFraction === undefined ? d.valCount : undefined);
  const trainImages = await int(v, 'train-limit', d.trainLimit);
  checkBackendFlag(str(v, 'backend'));
  const batchSize = await int(v, 'batch-size', 32);
  if (str(v, 'epochs') !== undefined && str(v, 'steps') !== undefined) throw new UsageError('give a budget in --epochs or --steps, not both');
  // --train-limit counts the images trained on; the val split is carved from the training set, so load both.
  const steps = str(v, 'steps') !== undefined ? await int(v, 'steps', 1) : Math.max(1, Math.floor(trainImages / batchSize)) * (await int(v, 'epochs', d.epochs));
  const dropout = str(v, 'dropout');
  const training: TrialTraining = {
    recipe,
    overrides: { ...(await recipeOverrides(v as Parameters<typeof recipeOverrides>[0])), ...(dropout !== undefined ? { dropout: await parseNumber('dropout', dropout) } : {}) },
    data: { name: data.name, ...(data.dir !== undefined ? { dir: data.dir } : {}), trainLimit: trainImages + (valCount ?? 0),
      ...(valCount !== undefined ? { valCount } : { valFraction: data.valFraction }),
      testLimit: data.testLimit ?? d.testLimit, seed: 0 },
    batchSize,
    backend: str(v, 'backend') ?? 'wasm',
    checkpointEvery: await int(v, 'checkpoint-every', 50),
    bnMomentum: await num(v, 'bn-momentum', 0.9),
  };
  return { training, seeds: str(v, 'seeds') !== undefined ? parseSeeds(str(v, 'seeds')!) : [...d.seeds], steps };
}

export async function runFromFlags(v: Flags): Promise<{ workers: number; gpus: string[]; maxRetries: number; leaseMs: number }> {
  return {
    workers: await int(v, 'workers', 2, 0),
    gpus: str(v, 'gpus') !== undefined ? str(v, 'gpus')!.split(',').map((g) => g.trim()) : [],
    maxRetries: await int(v, 'max-retries', 2, 0),
    leaseMs: (await num(v, 'lease', 60)) * 1000,
  };
}
