import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, StorageError } from '@effscale/core';
import { decodeLine, encodeLine, processStart } from '../src/journal/backend.js';
import { JOURNAL_FILE, JOURNAL_LOCK, openFileJournal } from '../src/journal/file.js';
import { MemoryStore, openMemoryJournal } from '../src/journal/memory.js';
import type { JournalRecord } from '../src/types.js';
import { journalConformance } from './journal-conformance.js';
import { appendRetrying, studyRecordFixture, tagged } from './fixtures/journal-records.js';

const root = mkdtempSync(join(tmpdir(), 'effscale-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(root, `s${n++}`);

// ---- The shared suite, on both backends -------------------------------------------------------------------------

let store = new MemoryStore();
journalConformance('memory', () => openMemoryJournal(store), () => {
  store = new MemoryStore();
});

let dir = newDir();
journalConformance('file', () => openFileJournal(dir), () => {
  dir = newDir();
});

// ---- The file journal only --------------------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));
const APPENDER = join(here, 'fixtures', 'journal-appender.ts');

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('exit', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

async function journalWith(count: number): Promise<string> {
  const d = newDir();
  const j = await openFileJournal(d);
  await j.append([studyRecordFixture()], 0);
  for (let i = 1; i < count; i++) expect(await j.append([tagged('t', i)], i)).toBe(true);
  await j.close();
  return d;
}

const lines = (d: string) => readFileSync(join(d, JOURNAL_FILE), 'utf8').split('\n');

/** The pid of a process that has just exited (so it is certainly not running). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('file journal: format', () => {
  it('writes one checksummed line per record, in the documented format', async () => {
    const d = await journalWith(3);
    const [first, second, third, end] = lines(d);
    expect(end).toBe('');
    expect(first).toMatch(/^\{"seq":0,"crc":"[0-9a-f]{8}","record":\{"kind":"study",/);
    expect(second).toBe(encodeLine(1, tagged('t', 1)).trimEnd());
    expect(decodeLine(Buffer.from(third))).toEqual({ ok: true, seq: 2, record: tagged('t', 2) });
    // The crc is CRC-32 of the record's JSON bytes as they stand in the line.
    const json = JSON.stringify(tagged('t', 1));
    expect(second).toContain(`"crc":"${(await import('node:zlib')).crc32(Buffer.from(json)).toString(16).padStart(8, '0')}"`);
  });

  it('appends read only the bytes written since the last look (O(new records), not O(file))', async () => {
    const d = await journalWith(300);
    const j = await openFileJournal(d);
    const size = statSync(join(d, JOURNAL_FILE)).size;
    expect(j.stats.bytesRead).toBe(size); // opening verifies the file once
    const before = j.stats.bytesRead;
    for (let i = 300; i < 310; i++) expect(await j.append([tagged('t', i)], i)).toBe(true);
    expect(j.stats.bytesRead - before).toBe(0); // nobody else wrote: nothing to read
    // Another writer's records are read once, and only they.
    const other = await openFileJournal(d);
    await other.append([tagged('o', 1), tagged('o', 2)], 310);
    const grown = statSync(join(d, JOURNAL_FILE)).size;
    expect((await j.read(310)).length).toBe(2);
    expect(j.stats.bytesRead - before).toBe(Buffer.byteLength(encodeLine(310, tagged('o', 1)) + encodeLine(311, tagged('o', 2))));
    expect(grown - size).toBeGreaterThan(j.stats.bytesRead - before);
  });
});

describe('file journal: crashes and damage', () => {
  it('a torn last line (no newline) is skipped and reported on read, and repaired under the lock before the next append', async () => {
    const d = await journalWith(3);
    const torn = encodeLine(3, tagged('t', 3)).slice(0, 25);
    appendFileSync(join(d, JOURNAL_FILE), torn);
    const warnings: string[] = [];
    const j = await openFileJournal(d, { onWarning: (w) => warnings.push(w) });
    expect((await j.read(0)).length).toBe(3);
    expect(warnings).toEqual([`${join(d, JOURNAL_FILE)}: skipped a torn last record (25 bytes) left by a crash; the next append repairs it`]);
    expect(await j.append([tagged('t', 3)], 3)).toBe(true);
    expect(j.warnings.at(-1)).toBe(`${join(d, JOURNAL_FILE)}: repaired a torn last record (25 bytes) left by a crash`);
    expect(warnings.length).toBe(2);
    // The new record starts its own line: nothing glued to the torn bytes.
    expect(lines(d).slice(0, 4).map((l) => decodeLine(Buffer.from(l)).ok)).toEqual([true, true, true, true]);
    const again = await openFileJournal(d);
    expect((await again.read(0)).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(again.warnings).toEqual([]);
  });

  it('an unparsable last line (with its newline) is also a torn tail; a torn first line too', async () => {
    const d = await journalWith(2);
    appendFileSync(join(d, JOURNAL_FILE), '\0\0\0\0\0\0\n');
    const j = await openFileJournal(d);
    expect((await j.read(0)).length).toBe(2);
    expect(await j.append([tagged('t', 2)], 2)).toBe(true);
    expect(j.warnings.at(-1)).toMatch(/repaired a torn last record \(7 bytes\)/);
    expect((await (await openFileJournal(d)).read(0)).length).toBe(3);

    const e = newDir();
    mkdirSync(e);
    writeFileSync(join(e, JOURNAL_FILE), encodeLine(0, studyRecordFixture()).slice(0, 40));
    const k = await openFileJournal(e);
    expect(await k.read(0)).toEqual([]);
    expect(await k.append([studyRecordFixture()], 0)).toBe(true);
    expect((await (await openFileJournal(e)).read(0)).length).toBe(1);
  });

  it('a real crash mid-write (SIGKILL after half the bytes) leaves a torn tail that the next writer repairs', async () => {
    const d = await journalWith(5);
    const r = await runNode([APPENDER, d, 'k', '3'], { EFFSCALE_FAILPOINT: 'journal-mid-write@2' });
    expect(r.signal).toBe('SIGKILL');
    const raw = readFileSync(join(d, JOURNAL_FILE), 'utf8');
    expect(raw.endsWith('\n')).toBe(false); // torn
    // The killed process left its lock behind; the next writer takes it over at once and repairs the tail.
    expect(existsSync(join(d, JOURNAL_LOCK))).toBe(true);
    const j = await openFileJournal(d, { lockTimeoutMs: 2000 });
    const t0 = Date.now();
    expect(await j.append([tagged('after', 0)], 6)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(j.warnings.some((w) => /repaired a torn last record/.test(w))).toBe(true);
    const all = await (await openFileJournal(d)).read(0);
    expect(all.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(all[5].record).toEqual(tagged('k', 0));
    expect(all[6].record).toEqual(tagged('after', 0));
    expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a bad checksum in the middle is refused with the file and the line number, on open, read and append', async () => {
    const d = await journalWith(6);
    const text = lines(d);
    text[3] = text[3].replace('"owner":"t"', '"owner":"T"'); // one byte changed, line 4 (seq 3)
    writeFileSync(join(d, JOURNAL_FILE), text.join('\n'));
    const msg = `${join(d, JOURNAL_FILE)} line 4: checksum mismatch; the study is damaged: restore it from a copy`;
    await expect(openFileJournal(d)).rejects.toThrow(msg);
    await expect(openFileJournal(d)).rejects.toBeInstanceOf(CheckpointError);
    // An instance that had read the good file notices too, when it reads the damaged part again.
    writeFileSync(join(d, JOURNAL_FILE), text.slice(0, 3).join('\n') + '\n');
    const j = await openFileJournal(d);
    writeFileSync(join(d, JOURNAL_FILE), text.join('\n'));
    await expect(j.read(0)).rejects.toThrow(msg);
    await expect(j.append([tagged('x', 1)], 6)).rejects.toThrow(msg);
  });

  it('a bad checksum on the complete last line is damage too, not a tear', async () => {
    const d = await journalWith(3);
    const text = lines(d);
    text[2] = text[2].replace('"owner":"t"', '"owner":"T"');
    writeFileSync(join(d, JOURNAL_FILE), text.join('\n'));
    await expect(openFileJournal(d)).rejects.toThrow(/line 3: checksum mismatch/);
  });

  it('a sequence gap or an unparsable line in the middle is refused by line', async () => {
    const d = await journalWith(5);
    const text = lines(d);
    writeFileSync(join(d, JOURNAL_FILE), [...text.slice(0, 2), ...text.slice(3)].join('\n'));
    await expect(openFileJournal(d)).rejects.toThrow(`${join(d, JOURNAL_FILE)} line 3: sequence number 3 where 2 was expected; the study is damaged: restore it from a copy`);
    writeFileSync(join(d, JOURNAL_FILE), [...text.slice(0, 2), '{"seq":2,"crc":"00000000","rec', ...text.slice(3)].join('\n'));
    await expect(openFileJournal(d)).rejects.toThrow(/line 3: not a journal record; the study is damaged/);
  });

  it('a file that is not an effscale journal is refused by name', async () => {
    for (const content of ['hello world\n', '{"a":1}\n{"b":2}\n', 'no newline at all', encodeLine(0, tagged('x', 1))]) {
      const d = newDir();
      mkdirSync(d);
      writeFileSync(join(d, JOURNAL_FILE), content);
      const err = await openFileJournal(d).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as Error).message).toBe(`'${join(d, JOURNAL_FILE)}' is not an effscale study journal (its first line is not a study record); choose another study directory`);
      expect(readFileSync(join(d, JOURNAL_FILE), 'utf8')).toBe(content); // left as it was
    }
  });

  it('a study directory that is a file, or a journal that is a directory, is one StorageError line', async () => {
    const f = join(root, 'a-file');
    writeFileSync(f, 'x');
    await expect(openFileJournal(f)).rejects.toThrow(new StorageError(`the study directory '${f}' is a file, not a directory; choose another study directory`));
    const d = newDir();
    mkdirSync(join(d, JOURNAL_FILE), { recursive: true });
    await expect(openFileJournal(d)).rejects.toBeInstanceOf(StorageError);
    const under = join(f, 'study');
    await expect(openFileJournal(under)).rejects.toBeInstanceOf(StorageError);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable study directory is one StorageError line', async () => {
    const d = newDir();
    mkdirSync(d, { mode: 0o555 });
    await expect(openFileJournal(d)).rejects.toThrow(/cannot use the study directory .*permission denied/);
  });
});

describe('file journal: the lock', () => {
  const lockOf = (pid: number, host = hostname(), started: string | null = null) =>
    JSON.stringify({ pid, host, started, since: '2026-12-01T00:00:00.000Z', nonce: 'x' }) + '\n';

  it('a lock left by a dead process (kill -9 while holding it) does not block the next writer', async () => {
    const d = await journalWith(2);
    writeFileSync(join(d, JOURNAL_LOCK), lockOf(deadPid()));
    const j = await openFileJournal(d, { lockTimeoutMs: 2000 });
    const t0 = Date.now();
    expect(await j.append([tagged('t', 2)], 2)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(j.stats.lockTakeovers).toBe(1);
    expect(existsSync(join(d, JOURNAL_LOCK))).toBe(false);
  });

  it('a lock whose pid was reused by another process (start time differs) is taken over', async () => {
    const d = await journalWith(1);
    writeFileSync(join(d, JOURNAL_LOCK), lockOf(process.pid, hostname(), '1')); // this pid, but "started" at tick 1
    expect(processStart(process.pid)).not.toBe('1');
    const j = await openFileJournal(d, { lockTimeoutMs: 2000 });
    expect(await j.append([tagged('t', 1)], 1)).toBe(true);
  });

  it('a real kill -9 while holding the lock: the next writer takes over at once', async () => {
    const d = await journalWith(2);
    const r = await runNode([APPENDER, d, 'k', '3'], { EFFSCALE_FAILPOINT: 'journal-locked@2' });
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(join(d, JOURNAL_LOCK))).toBe(true);
    const j = await openFileJournal(d, { lockTimeoutMs: 2000 });
    expect(await j.append([tagged('after', 0)], 3)).toBe(true);
    expect((await j.read(0)).map((x) => x.record)).toEqual([studyRecordFixture(), tagged('t', 1), tagged('k', 0), tagged('after', 0)]);
  });

  it('a lock held by a live process is waited for, and taken when it is released', async () => {
    const d = await journalWith(1);
    writeFileSync(join(d, JOURNAL_LOCK), lockOf(process.pid, hostname(), processStart(process.pid)));
    const j = await openFileJournal(d, { lockTimeoutMs: 5000 });
    setTimeout(() => rmSync(join(d, JOURNAL_LOCK)), 300);
    const t0 = Date.now();
    expect(await j.append([tagged('t', 1)], 1)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(j.stats.lockWaits).toBeGreaterThan(0);
  });

  it('a lock held on another host is waited for up to the timeout, then refused naming it', async () => {
    const d = await journalWith(1);
    writeFileSync(join(d, JOURNAL_LOCK), lockOf(12345, 'elsewhere'));
    const j = await openFileJournal(d, { lockTimeoutMs: 300 });
    const err = await j.append([tagged('t', 1)], 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe(`the study journal '${join(d, JOURNAL_FILE)}' stayed locked by process 12345 on elsewhere (since 2026-12-01T00:00:00.000Z) for more than 0.3 s; if that process is gone, delete '${join(d, JOURNAL_LOCK)}'`);
    expect(lines(d).length).toBe(2); // nothing written
  });

  it('a torn tail is not reported while a live writer holds the lock (it may be that write in progress)', async () => {
    const d = await journalWith(2);
    appendFileSync(join(d, JOURNAL_FILE), '{"seq":2,"crc":"');
    writeFileSync(join(d, JOURNAL_LOCK), lockOf(process.pid, hostname(), processStart(process.pid)));
    const j = await openFileJournal(d);
    expect((await j.read(0)).length).toBe(2);
    expect(j.warnings).toEqual([]);
    rmSync(join(d, JOURNAL_LOCK));
    await j.read(0);
    expect(j.warnings.length).toBe(1);
  });

  it('4 processes appending 50 records each with compare-and-append: 200 records, seqs 0..200, each once', async () => {
    const d = newDir();
    const j = await openFileJournal(d);
    await j.append([studyRecordFixture()], 0);
    const results = await Promise.all([0, 1, 2, 3].map((p) => runNode([APPENDER, d, `p${p}`, '50'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const stats = results.map((r) => JSON.parse(r.stdout) as { appends: number; lockWaits: number });
    expect(stats.map((s) => s.appends)).toEqual([50, 50, 50, 50]);
    const all = await (await openFileJournal(d)).read(0);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i));
    const keys = all.slice(1).map((r) => (r.record as { trial: string }).trial);
    expect(new Set(keys).size).toBe(200);
    for (let p = 0; p < 4; p++) {
      const mine = all.filter((r) => (r.record as { owner?: string }).owner === `p${p}`).map((r) => (r.record as { at: number }).at);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    expect(readdirSync(d).sort()).toEqual([JOURNAL_FILE]); // no lock or temporary left behind
  });
});

describe('memory journal', () => {
  it('stores copies: changing a record after appending or reading changes nothing stored', async () => {
    const j = await openMemoryJournal();
    const study = studyRecordFixture() as Extract<JournalRecord, { kind: 'study' }>;
    await j.append([study], 0);
    study.fingerprint = 'changed';
    const [back] = await j.read(0);
    (back.record as typeof study).createdAt = 'changed';
    expect((await j.read(0))[0].record).toEqual(studyRecordFixture());
    await appendRetrying(j, tagged('a', 1));
    expect((await j.read(0)).length).toBe(2);
  });
});
