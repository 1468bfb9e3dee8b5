/**
 * The file journal: a study directory's `journal.jsonl`, one checksummed record per line, the single source of truth.
 *
 * - Appends take `journal.lock` (pid, host, process start time), learn the real next seq from the file's end (cached:
 *   only bytes written since this instance last looked are read), repair a torn last line, write all lines with ONE
 *   write to an O_APPEND descriptor, fsync (and the directory when the file is new), and release.
 * - A torn last line (a crash mid-write: no newline, or a last line that does not parse) is skipped by reads and
 *   reported; the next append truncates it under the lock, so no record ever lands glued to torn bytes (Optuna #5138).
 * - Anything wrong before the last line (checksum, sequence gap, unparsable) is refused with the line number; a file
 *   whose first line is not a seq-0 study record in this format is refused as not a journal.
 * - The lock is created whole (written to a temporary, then hard-linked into place: link fails if it exists, like
 *   O_EXCL, and no one ever sees an empty lock). A lock whose owner process is gone on this host is taken over at once
 *   (under a second, short-lived lock, so two processes taking over cannot remove each other's fresh lock); a live
 *   one, or one held on another host, is waited for up to `lockTimeoutMs`, then refused with a message naming it.
 *
 * A crash can leave a prefix of a multi-record append (the lines before the tear): each record must make sense alone.
 */
import { randomBytes } from 'node:crypto';
import { constants as C } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, StorageError } from '@effscale/core';
import { storageError } from '@effscale/core/train';
import type { JournalBackend, JournalRecord, StoredRecord } from '../types.js';
import { checkFirstRecord, decodeLine, encodeLine, LINE_START, localProcessAlive, thisProcess } from './backend.js';

export const JOURNAL_FILE = 'journal.jsonl';
export const JOURNAL_LOCK = 'journal.lock';
const TAKEOVER = `${JOURNAL_LOCK}.takeover`;
/** A takeover lock is held for a few system calls; one older than this was left by a process that died holding it. */
const TAKEOVER_STALE_MS = 10_000;
const CHUNK = 1 << 20;

export interface FileJournalOptions {
  /** How long an append waits for a lock held by a live process (ms, default 30 s), then refuses. */
  lockTimeoutMs?: number;
  /** Called with each warning (also kept in `warnings`): a torn last record skipped or repaired. */
  onWarning?: (message: string) => void;
  /** Open for reading only: no writability check, `append` refuses. */
  readOnly?: boolean;
}

interface LockOwner {
  pid: number;
  host: string;
  started: string | null;
  since: string;
  nonce: string;
}

/**
 * Crash points for tests, as core's trainer has: EFFSCALE_FAILPOINT=<name>[@<nth hit>][:<signal>] kills this process
 * with the signal (default SIGKILL) at the nth time it passes the point. `journal-locked`: holding the lock, before
 * writing; `journal-mid-write`: after writing half of the lines' bytes.
 */
const hits = new Map<string, number>();
function parseFailpoint(): { point: string; count: number; signal: NodeJS.Signals } | null {
  const spec = process.env.EFFSCALE_FAILPOINT;
  if (spec === undefined) return null;
  const [where, signal = 'SIGKILL'] = spec.split(':');
  const [point, count = '1'] = where.split('@');
  return { point, count: Number(count), signal: signal as NodeJS.Signals };
}
/** Count a pass through `name`; true at the pass the failpoint names (the caller then crashes there). */
function hitFailpoint(name: string): boolean {
  const f = parseFailpoint();
  if (f === null || f.point !== name) return false;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  return n === f.count;
}
function failpoint(name: string): void {
  if (hitFailpoint(name)) process.kill(process.pid, parseFailpoint()!.signal);
}

const code = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o?.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
}

interface Torn {
  offset: number;
  bytes: number;
}

export class FileJournal implements JournalBackend {
  readonly path: string;
  readonly lockPath: string;
  /** Warnings so far (a torn last record skipped or repaired), for the CLI to print. */
  readonly warnings: string[] = [];
  /** For tests and measurements: bytes read from the journal, appends written, times an append waited for the lock. */
  readonly stats = { bytesRead: 0, appends: 0, lockWaits: 0, tornRepairs: 0, lockTakeovers: 0 };

  /** Byte offset of each verified line (index = seq); `end`: the offset after the last one. */
  private offsets: number[] = [];
  private end = 0;
  private ino: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private reported = new Set<string>();
  private readonly lockTimeoutMs: number;

  constructor(readonly dir: string, private readonly opts: FileJournalOptions = {}) {
    this.path = join(dir, JOURNAL_FILE);
    this.lockPath = join(dir, JOURNAL_LOCK);
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
  }

  /** The next seq as this instance last saw it (no I/O). */
  get knownNext(): number {
    return this.offsets.length;
  }

  read(from: number): Promise<StoredRecord[]> {
    return this.serial(async () => {
      let fd: FileHandle;
      try {
        fd = await open(this.path, 'r');
      } catch (e) {
        if (code(e) === 'ENOENT') {
          this.reset();
          return [];
        }
        throw storageError(e, 'read the study journal', this.path);
      }
      try {
        const { records, torn } = await this.scan(fd, Math.max(0, from));
        if (torn && !(await this.lockHeldByLiveProcess())) {
          this.warn(`${this.path}: skipped a torn last record (${torn.bytes} bytes) left by a crash; the next append repairs it`, `skip:${torn.offset}:${torn.bytes}`);
        }
        return records;
      } finally {
        await fd.close();
      }
    });
  }

  append(records: JournalRecord[], next: number): Promise<boolean> {
    return this.serial(async () => {
      checkFirstRecord(records, next);
      if (this.opts.readOnly) throw new Error(`the journal '${this.path}' was opened read-only`);
      const release = await this.lock();
      try {
        let created = false;
        let fd: FileHandle;
        try {
          try {
            fd = await open(this.path, C.O_RDWR | C.O_APPEND);
          } catch (e) {
            if (code(e) !== 'ENOENT') throw e;
            fd = await open(this.path, C.O_RDWR | C.O_APPEND | C.O_CREAT | C.O_EXCL, 0o644);
            created = true;
          }
        } catch (e) {
          throw storageError(e, 'open the study journal', this.path);
        }
        try {
          const { torn } = await this.scan(fd, Number.MAX_SAFE_INTEGER);
          if (this.offsets.length !== next) return false;
          if (torn) {
            await fd.truncate(this.end);
            this.stats.tornRepairs++;
            this.warn(`${this.path}: repaired a torn last record (${torn.bytes} bytes) left by a crash`, `repair:${torn.offset}:${torn.bytes}`);
          }
          if (records.length === 0) {
            if (torn) await fd.sync();
            return true;
          }
          const lines = records.map((r, i) => encodeLine(next + i, r));
          const buf = Buffer.from(lines.join(''), 'utf8');
          try {
            let written = 0;
            failpoint('journal-locked');
            if (hitFailpoint('journal-mid-write')) {
              await fd.write(buf, 0, Math.max(1, buf.length >> 1), null); // a torn write, as a crash leaves it
              process.kill(process.pid, parseFailpoint()!.signal);
            }
            while (written < buf.length) {
              // One write: on a local disk it lands whole at the end; the loop only continues a short write.
              const { bytesWritten } = await fd.write(buf, written, buf.length - written, null);
              written += bytesWritten;
            }
            await fd.sync();
          } catch (e) {
            await fd.truncate(this.end).catch(() => undefined); // no half-written records left behind
            throw storageError(e, 'append to the study journal', this.path);
          }
          if (created) await this.syncDir();
          let at = this.end;
          for (const line of lines) {
            this.offsets.push(at);
            at += Buffer.byteLength(line, 'utf8');
          }
          this.end = at;
          this.stats.appends++;
          return true;
        } finally {
          await fd.close();
        }
      } finally {
        await release();
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.closed = true;
  }

  // ---- Reading ----------------------------------------------------------------------------------------------------

  private reset(): void {
    this.offsets = [];
    this.end = 0;
    this.ino = null;
  }

  /**
   * Read lines from the best known place to the end of the file, verifying each, extending the offset cache, and
   * collecting records with seq >= `from`. Throws for damage before the last line; returns a torn tail.
   */
  private async scan(fd: FileHandle, from: number): Promise<{ records: StoredRecord[]; torn: Torn | null }> {
    const st = await fd.stat();
    if (this.ino !== st.ino || st.size < this.end) this.reset(); // a different file, or one cut short under us
    this.ino = st.ino;
    const size = st.size;
    let seq = Math.min(from, this.offsets.length);
    let pos = seq < this.offsets.length ? this.offsets[seq] : this.end;
    const records: StoredRecord[] = [];
    let carry = Buffer.alloc(0);
    let carryStart = pos;
    while (pos < size) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fd.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      this.stats.bytesRead += bytesRead;
      pos += bytesRead;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const bufStart = carryStart;
      let i = 0;
      for (let nl = buf.indexOf(10, i); nl !== -1; nl = buf.indexOf(10, i)) {
        const start = bufStart + i;
        const line = buf.subarray(i, nl);
        i = nl + 1;
        const last = bufStart + i >= size;
        const d = decodeLine(line);
        if (!d.ok || d.seq !== seq) {
          if (seq === 0 && !line.subarray(0, LINE_START.length).equals(Buffer.from(LINE_START))) throw this.notAJournal();
          if (!d.ok && d.problem === 'unparsable' && last) return { records, torn: { offset: start, bytes: size - start } };
          const what = !d.ok ? (d.problem === 'unparsable' ? 'not a journal record' : 'checksum mismatch')
            : `sequence number ${d.seq} where ${seq} was expected`;
          throw new CheckpointError(`${this.path} line ${seq + 1}: ${what}; the study is damaged: restore it from a copy`);
        }
        if (seq === 0 && d.record.kind !== 'study') throw this.notAJournal();
        if (seq === this.offsets.length) {
          this.offsets.push(start);
          this.end = bufStart + i;
        }
        if (seq >= from) records.push({ seq, record: d.record });
        seq++;
      }
      carry = buf.subarray(i);
      carryStart = bufStart + i;
    }
    if (carry.length === 0) return { records, torn: null };
    if (seq === 0 && !this.looksLikeTornFirstLine(carry)) throw this.notAJournal();
    return { records, torn: { offset: carryStart, bytes: carry.length } };
  }

  /** A first line cut short by a crash starts like a journal line (or is the zeros a power loss can leave). */
  private looksLikeTornFirstLine(bytes: Buffer): boolean {
    if (bytes.every((b) => b === 0)) return true;
    const n = Math.min(bytes.length, LINE_START.length);
    return bytes.subarray(0, n).equals(Buffer.from(LINE_START).subarray(0, n));
  }

  private notAJournal(): CheckpointError {
    return new CheckpointError(`'${this.path}' is not an effscale study journal (its first line is not a study record); choose another study directory`);
  }

  private warn(message: string, key: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.warnings.push(message);
    this.opts.onWarning?.(message);
  }

  private async syncDir(): Promise<void> {
    try {
      const d = await open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // some file systems cannot fsync a directory; the file itself is synced
    }
  }

  // ---- Locking ----------------------------------------------------------------------------------------------------

  /** A torn tail seen while a live writer holds the lock may be its write in progress: not reported then. */
  private async lockHeldByLiveProcess(): Promise<boolean> {
    const text = await readText(this.lockPath).catch(() => null);
    if (text === null) return false;
    const owner = parseOwner(text);
    return owner !== null && this.ownerAlive(owner);
  }

  private ownerAlive(owner: LockOwner): boolean {
    return owner.host !== thisProcess().host || localProcessAlive(owner.pid, owner.started);
  }

  private async lock(): Promise<() => Promise<void>> {
    const me = thisProcess();
    const nonce = randomBytes(8).toString('hex');
    const owner: LockOwner = { pid: me.pid, host: me.host, started: me.started, since: new Date().toISOString(), nonce };
    const text = JSON.stringify(owner) + '\n';
    const tmp = join(this.dir, `${JOURNAL_LOCK}.${me.host.replace(/[^A-Za-z0-9_.-]/g, '_')}.${me.pid}.${nonce}.tmp`);
    try {
      await writeFile(tmp, text, { flag: 'wx' });
    } catch (e) {
      throw storageError(e, 'lock the study journal', this.lockPath);
    }
    const deadline = Date.now() + this.lockTimeoutMs;
    let pause = 1;
    try {
      for (;;) {
        try {
          await link(tmp, this.lockPath);
          return async () => {
            if ((await readText(this.lockPath).catch(() => null)) === text) await unlink(this.lockPath).catch(() => undefined);
          };
        } catch (e) {
          if (code(e) !== 'EEXIST') throw storageError(e, 'lock the study journal', this.lockPath);
        }
        const held = await readText(this.lockPath);
        if (held === null) continue; // released in between
        const holder = parseOwner(held);
        if (holder === null || !this.ownerAlive(holder)) {
          await this.takeOver(tmp, held);
          continue;
        }
        if (Date.now() > deadline) {
          const since = holder.since ? ` (since ${holder.since})` : '';
          throw new CheckpointError(holder.host === me.host
            ? `the study journal '${this.path}' stayed locked by process ${holder.pid} on this host${since} for more than ${this.lockTimeoutMs / 1000} s; wait for it or stop that process`
            : `the study journal '${this.path}' stayed locked by process ${holder.pid} on ${holder.host}${since} for more than ${this.lockTimeoutMs / 1000} s; if that process is gone, delete '${this.lockPath}'`);
        }
        this.stats.lockWaits++;
        await sleep(pause + Math.random() * pause);
        pause = Math.min(pause * 2, 20);
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * Remove the lock whose exact text is `stale` (its owner is gone). Only the holder of the takeover lock removes
   * another process's lock, and only after reading it unchanged, so a lock just taken by a live process is never
   * removed by a second process that also saw the dead one.
   */
  private async takeOver(tmp: string, stale: string): Promise<void> {
    const takeover = join(this.dir, TAKEOVER);
    try {
      await link(tmp, takeover);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw storageError(e, 'lock the study journal', takeover);
      const held = await readText(takeover);
      const holder = held === null ? null : parseOwner(held);
      const age = await stat(takeover).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (held !== null && (holder === null || !this.ownerAlive(holder) || age > TAKEOVER_STALE_MS)) await unlink(takeover).catch(() => undefined);
      else await sleep(1);
      return;
    }
    try {
      if ((await readText(this.lockPath)) === stale) {
        await unlink(this.lockPath);
        this.stats.lockTakeovers++;
      }
    } finally {
      await unlink(takeover).catch(() => undefined);
    }
  }

  /** Lock temporaries left by processes of this host that died between writing and linking them. */
  async removeLeftovers(): Promise<void> {
    const me = thisProcess();
    const host = me.host.replace(/[^A-Za-z0-9_.-]/g, '_');
    const prefix = `${JOURNAL_LOCK}.${host}.`;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
      const pid = Number(name.slice(prefix.length).split('.')[0]);
      if (pid !== me.pid && !localProcessAlive(pid, null)) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the journal '${this.path}' is closed`));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Open (creating the directory if needed) the journal of study directory `dir`. Refuses, with one line naming the
 * path, a directory that is a file or cannot be written, a journal that is not effscale's, or one damaged before its
 * last line; reads it once, so such a refusal comes here.
 */
export async function openFileJournal(dir: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
  try {
    const st = await stat(dir).catch((e) => (code(e) === 'ENOENT' ? null : Promise.reject(e)));
    if (st && !st.isDirectory()) throw new StorageError(`the study directory '${dir}' is a file, not a directory; choose another study directory`);
    if (!st) {
      if (opts.readOnly) throw new CheckpointError(`no study at '${dir}' (the directory does not exist)`);
      await mkdir(dir, { recursive: true });
    }
    if (!opts.readOnly) await access(dir, C.W_OK);
  } catch (e) {
    throw storageError(e, 'use the study directory', dir);
  }
  const path = join(dir, JOURNAL_FILE);
  const jst = await stat(path).catch(() => null);
  if (jst && !jst.isFile()) throw new StorageError(`cannot use the study journal '${path}': it is not a regular file; remove it or choose another study directory`);
  const journal = new FileJournal(dir, opts);
  if (!opts.readOnly) await journal.removeLeftovers();
  await journal.read(Number.MAX_SAFE_INTEGER); // verify the whole file once and fill the offset cache
  return journal;
}
