/**
 * The suite every journal backend passes (memory and file now; PostgreSQL later): the storage half of the study's
 * guarantees. `fresh()` runs before each test and makes `open()` open a new, empty study's journal; every call to
 * `open()` then returns another instance on that same journal (as another process would open it).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { JournalBackend, JournalRecord, StoredRecord } from '../src/types.js';
import { appendRetrying, studyRecordFixture, tagged } from './fixtures/journal-records.js';

export { appendRetrying, studyRecordFixture, tagged };

function expectContiguous(records: StoredRecord[]): void {
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
}

export function journalConformance(name: string, open: () => Promise<JournalBackend>, fresh: () => Promise<void> | void): void {
  describe(`journal backend conformance: ${name}`, () => {
    beforeEach(async () => {
      await fresh();
    });

    it('starts empty and round-trips records in order, seqs from 0', async () => {
      const j = await open();
      expect(await j.read(0)).toEqual([]);
      const study = studyRecordFixture();
      expect(await j.append([study], 0)).toBe(true);
      const batch = [tagged('a', 1), tagged('a', 2), tagged('a', 3)];
      expect(await j.append(batch, 1)).toBe(true);
      const all = await j.read(0);
      expectContiguous(all);
      expect(all.map((r) => r.record)).toEqual([study, ...batch]);
      expect((await j.read(2)).map((r) => r.seq)).toEqual([2, 3]);
      expect(await j.read(4)).toEqual([]);
      expect(await j.read(99)).toEqual([]);
      await j.close();
    });

    it('keeps values exactly: unicode, nested objects, float and large numbers, nulls; drops undefined fields', async () => {
      const j = await open();
      await j.append([studyRecordFixture()], 0);
      const outcome = {
        status: 'failed' as const, step: 7, error: 'Größe ✓ "quoted" \\ back\nslash \u2028 line sep', valTop1: 0.1 + 0.2, valLoss: 1e-300,
        curve: [{ step: 1, valTop1: 0.5, valLoss: 2.302585092994046, trainLoss: 123456789.123 }], backend: undefined,
      };
      const r: JournalRecord = { kind: 'result', trial: 't', rung: 0, attempt: 1, owner: 'h:1:2:0', at: Number.MAX_SAFE_INTEGER, outcome };
      expect(await j.append([r], 1)).toBe(true);
      const [back] = await (await open()).read(1);
      expect(back.record).toEqual(JSON.parse(JSON.stringify(r)));
      expect('backend' in (back.record as { outcome: object }).outcome).toBe(false);
    });

    it('compare-and-append loses cleanly with a stale next: nothing is written, the winner is intact', async () => {
      const a = await open();
      const b = await open();
      expect(await a.append([studyRecordFixture()], 0)).toBe(true);
      expect(await b.append([studyRecordFixture('other')], 0)).toBe(false); // b's view of next (0) is stale
      expect(await a.append([tagged('a', 1)], 1)).toBe(true);
      expect(await b.append([tagged('b', 1), tagged('b', 2)], 1)).toBe(false);
      expect(await b.append([tagged('b', 1)], 5)).toBe(false); // ahead of the end: also refused
      const all = await b.read(0);
      expectContiguous(all);
      expect(all.map((r) => r.record)).toEqual([studyRecordFixture(), tagged('a', 1)]);
      expect(await b.append([tagged('b', 1)], 2)).toBe(true);
      expect((await a.read(0)).map((r) => r.record)).toEqual([studyRecordFixture(), tagged('a', 1), tagged('b', 1)]);
    });

    it('an empty append succeeds only at the right next and writes nothing', async () => {
      const j = await open();
      await j.append([studyRecordFixture()], 0);
      expect(await j.append([], 1)).toBe(true);
      expect(await j.append([], 0)).toBe(false);
      expect((await j.read(0)).length).toBe(1);
    });

    it('another instance sees what one wrote, and reads from any seq', async () => {
      const a = await open();
      await a.append([studyRecordFixture()], 0);
      for (let i = 1; i <= 20; i++) expect(await a.append([tagged('a', i)], i)).toBe(true);
      const b = await open();
      expect((await b.read(15)).map((r) => r.seq)).toEqual([15, 16, 17, 18, 19, 20]);
      expect((await b.read(0)).length).toBe(21);
      expect(await a.append([tagged('a', 21)], 21)).toBe(true);
      expect((await b.read(21)).map((r) => r.record)).toEqual([tagged('a', 21)]);
      expect((await b.read(3)).map((r) => r.seq)[0]).toBe(3);
    });

    it('concurrent appenders (8 instances, interleaved) never lose or duplicate a record, and seqs have no gaps', async () => {
      const first = await open();
      await first.append([studyRecordFixture()], 0);
      const writers = 8, each = 15;
      const instances = await Promise.all(Array.from({ length: writers }, () => open()));
      await Promise.all(instances.map(async (j, w) => {
        for (let i = 0; i < each; i++) await appendRetrying(j, tagged(`w${w}`, i));
      }));
      const all = await (await open()).read(0);
      expectContiguous(all);
      expect(all.length).toBe(1 + writers * each);
      const seen = new Map<string, number>();
      for (const { record } of all.slice(1)) {
        const key = (record as { trial: string }).trial;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      expect(seen.size).toBe(writers * each);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // Each writer's records appear in the order it wrote them.
      for (let w = 0; w < writers; w++) {
        const mine = all.filter((r) => (r.record as { owner?: string }).owner === `w${w}`).map((r) => (r.record as { at: number }).at);
        expect(mine).toEqual(Array.from({ length: each }, (_, i) => i));
      }
    });

    it('concurrent multi-record batches land whole and contiguous', async () => {
      const first = await open();
      await first.append([studyRecordFixture()], 0);
      const instances = await Promise.all(Array.from({ length: 4 }, () => open()));
      await Promise.all(instances.map(async (j, w) => {
        for (let i = 0; i < 5; i++) {
          const batch = [tagged(`b${w}`, 3 * i), tagged(`b${w}`, 3 * i + 1), tagged(`b${w}`, 3 * i + 2)];
          let next = (await j.read(0)).length;
          while (!(await j.append(batch, next))) next += (await j.read(next)).length;
        }
      }));
      const all = await (await open()).read(0);
      expectContiguous(all);
      expect(all.length).toBe(1 + 4 * 5 * 3);
      for (let s = 1; s < all.length; s += 3) {
        const owners = all.slice(s, s + 3).map((r) => (r.record as { owner: string }).owner);
        expect(new Set(owners).size).toBe(1);
        const ats = all.slice(s, s + 3).map((r) => (r.record as { at: number }).at);
        expect(ats[1] - ats[0]).toBe(1);
        expect(ats[2] - ats[1]).toBe(1);
      }
    });

    it('refuses a first record that is not the study record', async () => {
      const j = await open();
      await expect(j.append([tagged('x', 1)], 0)).rejects.toThrow(/study record/);
      expect(await j.read(0)).toEqual([]);
    });
  });
}
