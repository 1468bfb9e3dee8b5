import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Write a file so that readers see the old or the new contents, never a torn one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Replace directory `dir` with `staged` so that a crash at any point leaves one complete copy:
 * dir -> dir.old, staged -> dir, remove dir.old. `recoverDir` undoes a crash between the two renames.
 */
export function replaceDirAtomic(staged: string, dir: string): void {
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staged, dir);
  rmSync(old, { recursive: true, force: true });
}

export function recoverDir(dir: string): void {
  const old = `${dir}.old`;
  if (!existsSync(dir) && existsSync(old)) renameSync(old, dir);
}
