/**
 * The journal in memory: the same interface and compare-and-append semantics as the file journal, for tests and the
 * study's unit tests. Several `MemoryJournal`s over one `MemoryStore` behave like several processes on one study.
 * Records are copied through JSON on the way in and out, as a real backend serializes them, so a caller can never
 * change what is stored (and `undefined` fields vanish, as they do in a file).
 */
import type { JournalBackend, JournalRecord, StoredRecord } from '../types.js';
import { checkFirstRecord } from './backend.js';

export class MemoryStore {
  /** The stored lines, one JSON text per record, index = seq. */
  readonly lines: string[] = [];
}

const tick = () => new Promise<void>((done) => setImmediate(done));

export class MemoryJournal implements JournalBackend {
  private closed = false;
  constructor(readonly store: MemoryStore = new MemoryStore()) {}

  async read(from: number): Promise<StoredRecord[]> {
    this.check();
    await tick(); // every call yields, like real I/O, so interleavings in tests are real
    const out: StoredRecord[] = [];
    for (let seq = Math.max(0, from); seq < this.store.lines.length; seq++) {
      out.push({ seq, record: JSON.parse(this.store.lines[seq]) as JournalRecord });
    }
    return out;
  }

  async append(records: JournalRecord[], next: number): Promise<boolean> {
    this.check();
    await tick();
    // From here to the push nothing awaits: the compare and the append are one step.
    if (next !== this.store.lines.length) return false;
    checkFirstRecord(records, next);
    this.store.lines.push(...records.map((r) => JSON.stringify(r)));
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new Error('the memory journal is closed');
  }
}

/** A journal over `store` (a new, empty one when not given). */
export async function openMemoryJournal(store: MemoryStore = new MemoryStore()): Promise<MemoryJournal> {
  return new MemoryJournal(store);
}
