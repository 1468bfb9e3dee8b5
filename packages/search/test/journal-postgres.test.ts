/**
 * The PostgreSQL journal against a real server (.ci/postgres): the shared conformance suite, server-clock stamps, the
 * schema and its version check, and each user error as one line with the password masked.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { ConfigError, StorageError } from '@effscale/core';
import { checkStudyName, maskStorageUrl, openPostgresJournal, PG_SCHEMA_VERSION, type PostgresJournal } from '../src/journal/postgres.js';
import { claimRecord, nextClaim, storageNow } from '../src/study.js';
import { journalConformance } from './journal-conformance.js';
import { studyRecordFixture, tagged } from './fixtures/journal-records.js';
import { freshStudy, PG_URL, pgAvailable } from './fixtures/pg-env.js';
import { studyRecord, trialSpecs } from './fixtures/study-records.js';

const withPassword = (url: string, password: string) => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

if (pgAvailable()) {
  const url = PG_URL!;
  const opened: PostgresJournal[] = [];
  let study = freshStudy('conf');
  journalConformance('postgresql', async () => {
    const j = await openPostgresJournal(url, study);
    opened.push(j);
    return j;
  }, async () => {
    while (opened.length) await opened.pop()!.close();
    study = freshStudy('conf');
  });

  describe('postgresql journal', () => {
    it('stamps at / leaseUntil with the server clock, keeping the lease length, whatever the worker clock says', async () => {
      const j = await openPostgresJournal(url, freshStudy());
      await j.append([studyRecord({ trials: trialSpecs(['x']), leaseMs: 5000 })], 0);
      const before = storageNow(j);
      const state = { ...(await import('../src/study.js')).replay(await j.read(0)) };
      const c = nextClaim(state, before, () => true)!;
      // A worker whose clock is a day behind writes at = now - 1 day: the stored claim has the server's time.
      const skewed = claimRecord(c, 'h:1:-:0', before - 86_400_000, 5000);
      expect(await j.append([skewed], 1)).toBe(true);
      const after = storageNow(j);
      const [back] = await j.read(1);
      const r = back.record as { at: number; leaseUntil: number };
      expect(r.at).toBeGreaterThanOrEqual(before - 1000);
      expect(r.at).toBeLessThanOrEqual(after + 1000);
      expect(r.leaseUntil - r.at).toBe(5000);
      await j.close();
    });

    it('creates its schema once, at the version it knows, and refuses a newer one in one line', async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        expect((await admin.query('SELECT version FROM effscale_schema')).rows[0].version).toBe(PG_SCHEMA_VERSION);
        const schema = `newer_${process.pid}`;
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.query(`CREATE SCHEMA ${schema}`);
        const inSchema = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        (await openPostgresJournal(inSchema, 'x')).close();
        await admin.query(`UPDATE ${schema}.effscale_schema SET version = 99`);
        const e = await openPostgresJournal(inSchema, 'x').catch((x: unknown) => x);
        expect(e).toBeInstanceOf(StorageError);
        expect((e as Error).message).toMatch(/schema version 99, newer than this effscale's 1; use a newer effscale/);
        expect((e as Error).message).not.toContain('\n');
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    });

    it('user errors are one line, name the server and never show the password', async () => {
      const secret = 'S3cret-pw';
      const wrong = withPassword(url, secret);
      const e1 = await openPostgresJournal(wrong, 'x').catch((x: unknown) => x as Error);
      expect(e1).toBeInstanceOf(StorageError);
      expect(e1.message).toMatch(/refused the password as user 'effscale'; check the password/);
      expect(e1.message).not.toContain(secret);
      expect(e1.message).toContain(':***@');

      const closed = new URL(wrong);
      closed.port = '1';
      const e2 = await openPostgresJournal(closed.toString(), 'x').catch((x: unknown) => x as Error);
      expect(e2).toBeInstanceOf(StorageError);
      expect(e2.message).toMatch(/cannot reach PostgreSQL at postgresql:\/\/effscale:\*\*\*@127\.0\.0\.1:1\/effscale \(connection refused\); start the server/);
      expect(e2.message).not.toContain(secret);

      const nodb = new URL(url);
      nodb.pathname = '/no_such_db';
      const e3 = await openPostgresJournal(nodb.toString(), 'x').catch((x: unknown) => x as Error);
      expect(e3.message).toMatch(/the database 'no_such_db' does not exist; create it/);

      await expect(openPostgresJournal('postgresql://u:pw@host:notaport/db', 'x')).rejects.toThrow(ConfigError);
      await expect(openPostgresJournal('mysql://u:pw@host/db', 'x')).rejects.toThrow(/not a PostgreSQL URL/);
      await expect(openPostgresJournal(url, "x'; DROP TABLE effscale_journal; --")).rejects.toThrow(/study name .* is not valid/);
      for (const e of [e1, e2, e3]) expect(e.message).not.toContain('\n');
    });

    it('masks passwords in URLs and validates study names', () => {
      expect(maskStorageUrl('postgresql://me:p%40ss@db.example:5432/eff')).toBe('postgresql://me:***@db.example:5432/eff');
      expect(maskStorageUrl('postgresql://db/eff?password=abc&sslmode=require')).toBe('postgresql://db/eff?password=***&sslmode=require');
      expect(maskStorageUrl('postgresql://me@db/eff')).toBe('postgresql://me@db/eff');
      expect(checkStudyName('grid-2026.v1_a')).toBe('grid-2026.v1_a');
      for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(101), "a'b"]) expect(() => checkStudyName(bad)).toThrow(ConfigError);
    });

    it('studies are apart: one name never sees another one\'s records', async () => {
      const a = await openPostgresJournal(url, freshStudy('a'));
      const b = await openPostgresJournal(url, freshStudy('b'));
      expect(await a.append([studyRecordFixture('a')], 0)).toBe(true);
      expect(await b.read(0)).toEqual([]);
      expect(await b.append([studyRecordFixture('b')], 0)).toBe(true);
      expect(await a.append([tagged('a', 1)], 1)).toBe(true);
      expect((await b.read(0)).length).toBe(1);
      await a.close();
      await b.close();
    });
  });
}
