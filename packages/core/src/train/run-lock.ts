import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { processAlive, processStart } from '../util/process.js';
import { storageError } from './fsx.js';

/** Who holds a run directory. `started` (Linux: the process start time in clock ticks) tells a live owner from a reused pid. */
export interface LockOwner {
  pid: number;
  host: string;
  started: string | null;
  since: string;
}

export const LOCK_FILE = 'run.lock';

/** The run directory is held by another live process: a transient condition (wait or choose another place), not a bad setting. */
export class RunLockedError extends CheckpointError {
  override name = 'RunLockedError';
}

/** A lock counts as held when its owner runs on this host, or on another host (whose liveness cannot be checked here). */
function holds(owner: LockOwner | null): boolean {
  return owner !== null && (owner.host !== hostname() || processAlive(owner.pid, owner.started));
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null; // vanished, or torn by a writer that died mid-write: treat as free
  }
}

/**
 * Take the run directory for this process, or refuse with a message naming the owner. A lock whose owner is gone
 * (same host, process no longer running) is taken over, so a killed training never blocks its own resume; a lock
 * held on another host is only reported (its liveness cannot be checked from here).
 */
/** Whether a process holds the run directory now (a training in progress), by the rule acquireRunLock refuses with. */
export function runLockHeld(dir: string): boolean {
  return holds(readOwner(join(dir, LOCK_FILE)));
}

export function acquireRunLock(dir: string): { owner: LockOwner; tookOverFrom: LockOwner | null; release: () => void } {
  const file = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: processStart(process.pid), since: new Date().toISOString() };
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      const release = () => {
        const now = readOwner(file);
        if (now?.pid === me.pid && now.host === me.host) rmSync(file, { force: true });
      };
      return { owner: me, tookOverFrom, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(e, 'lock the run directory', dir);
    }
    const owner = readOwner(file);
    if (owner !== null && holds(owner)) {
      throw new RunLockedError(`the run directory '${dir}' is in use by process ${owner.pid} on ${owner.host} (since ${owner.since}); ` +
        `wait for it, or choose another out directory${owner.host !== me.host ? `; if that process is gone, delete ${file}` : ''}`,
        { setting: 'outDir' });
    }
    // Stale: move it aside (atomic; of several processes taking over at once, one moves this file) and try again.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch {
      continue; // another process moved it first
    }
    const moved = readOwner(aside);
    if (owner !== null && moved !== null && (moved.pid !== owner.pid || moved.host !== owner.host)) {
      renameSync(aside, file); // a live lock another process took in between: put it back
      continue;
    }
    rmSync(aside, { force: true });
    tookOverFrom = owner;
  }
  throw new CheckpointError(`could not lock the run directory '${dir}' (other processes keep taking it); choose another out directory`);
}
