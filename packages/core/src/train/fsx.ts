import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StorageError } from '../errors.js';

/** Errors of the file system that a user causes and can fix, with what to do about each. */
const FIXABLE: Record<string, string> = {
  ENOSPC: 'the disk is full; free some space',
  EDQUOT: 'the disk quota is exhausted; free some space',
  EACCES: 'permission denied; choose a place you can write to',
  EPERM: 'operation not permitted; choose a place you can write to',
  EROFS: 'the file system is read-only; choose a writable place',
  ENOTDIR: 'a part of the path is a file, not a directory; choose another path',
  EEXIST: 'a file is in the way; choose another path',
  EISDIR: 'it is a directory; choose another path',
  EIO: 'an input/output error; check the disk',
};

/**
 * Turn a file-system error a user can fix into one StorageError line naming the path; other errors pass through.
 * `then`: what to do afterwards (e.g. "then resume the run").
 */
export function storageError(e: unknown, action: string, path: string, then = ''): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !(code in FIXABLE)) return e;
  return new StorageError(`cannot ${action} '${path}': ${FIXABLE[code]}${then ? `, ${then}` : ''} (${code})`, { cause: e });
}

/** mkdir -p that fails with one line when the place is a file, unwritable or full. */
export function ensureDir(dir: string, what: string): void {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new StorageError(`the ${what} '${dir}' is a file, not a directory; choose another ${what}`);
    }
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw storageError(e, `create the ${what}`, dir);
  }
}

/** Write a file so that readers see the old or the new contents, never a torn one; a failed write leaves no temporary. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw storageError(e, 'write', path, 'then run again (with --resume for a training)');
  }
}

/**
 * Replace directory `dir` with `staged` so that a crash at any point leaves one complete copy:
 * dir -> dir.old, staged -> dir, remove dir.old. `recoverDir` undoes a crash between the two renames.
 */
export function replaceDirAtomic(staged: string, dir: string): void {
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  failpoint('between-renames');
  renameSync(staged, dir);
  rmSync(old, { recursive: true, force: true });
}

export function recoverDir(dir: string): void {
  const old = `${dir}.old`;
  if (!existsSync(dir) && existsSync(old)) renameSync(old, dir);
}

/** Temporaries a writer in `dir` leaves when it dies mid-write: `*.<pid>.tmp` files and `*.tmp-<pid>` directories. */
const LEFTOVER = /\.\d+\.tmp$|\.tmp-\d+$/;

/** Remove what killed writers left in `dir` (call it only while holding the directory's lock). Returns the names removed. */
export function removeLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed = readdirSync(dir).filter((name) => LEFTOVER.test(name));
  for (const name of removed) rmSync(join(dir, name), { recursive: true, force: true });
  return removed;
}

/**
 * Deterministic crash points for the crash-safety tests: with EFFSCALE_FAILPOINT=<name>[@<count>][:<signal>], the
 * process sends itself <signal> (default SIGKILL) the <count>-th time (default 1st) it passes <name>. Unset, this
 * is one comparison.
 */
const hits = new Map<string, number>();
export function failpoint(name: string): void {
  const spec = process.env.EFFSCALE_FAILPOINT;
  if (spec === undefined) return;
  const [where, signal = 'SIGKILL'] = spec.split(':');
  const [point, count = '1'] = where.split('@');
  if (point !== name) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === Number(count)) process.kill(process.pid, signal as NodeJS.Signals);
}
