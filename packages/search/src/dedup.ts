/**
 * Grid points -> trials. Points whose scaled networks resolve to the same architecture (equal signatures) are one
 * training per seed: trained once, reported for every point it stands for.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '@effscale/core';
import type { GridPoint, TrialSpec } from './types.js';

/** Short, stable hash of an architecture signature (the trial id's first part). */
export function signatureHash(signature: string): string {
  return createHash('sha256').update(signature).digest('hex').slice(0, 12);
}

export function trialId(signature: string, seed: number): string {
  return `t${signatureHash(signature)}-s${seed}`;
}

/**
 * One trial per (distinct signature, seed). A trial's `points` lists every point it stands for in the order given
 * (grid order), the first being the representative whose network is trained. Trials come in the order of their
 * representatives, each with its seeds ascending: the same points and seeds always give the same trials.
 */
export function trialsFor(points: readonly GridPoint[], seeds: readonly number[]): TrialSpec[] {
  if (seeds.length === 0) throw new ConfigError('--seeds needs at least one seed (e.g. 0,1: one seed cannot rank a grid)', { setting: 'seeds' });
  for (const s of seeds) {
    if (!Number.isSafeInteger(s) || s < 0) throw new ConfigError(`--seeds: seed '${s}' must be an integer >= 0`, { setting: 'seeds' });
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new ConfigError(`--seeds: seed ${dup} is given twice`, { setting: 'seeds' });
  const ids = new Set<string>();
  const groups = new Map<string, GridPoint[]>();
  for (const p of points) {
    if (ids.has(p.id)) throw new ConfigError(`grid point '${p.id}' is listed twice`);
    ids.add(p.id);
    const g = groups.get(p.signature);
    if (g) g.push(p);
    else groups.set(p.signature, [p]);
  }
  const ordered = [...seeds].sort((a, b) => a - b);
  return [...groups.entries()].flatMap(([signature, group]) =>
    ordered.map((seed) => ({
      id: trialId(signature, seed),
      signature,
      seed,
      points: group.map((p) => p.id),
      network: group[0].network,
    })),
  );
}
