import { readFileSync } from 'node:fs';

/** Linux: the start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat); null elsewhere. */
export function processStart(pid: number): string | null {
  try {
    // Counted after the parenthesised command name, which may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether process `pid` (started at `started`, when known) still runs on this host: what lets a lock or a claim whose
 * owner was killed be taken over at once. A pid that exists with another start time was reused after the owner died.
 * When it cannot tell, it says alive.
 */
export function processAlive(pid: number, started: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = processStart(pid);
  return started === null || now === null || now === started;
}
