/**
 * The PostgreSQL journal: the same compare-and-append log as the file journal, one table keyed (study, seq), so many
 * machines share one study. Every rule of a study stays in study.ts; this file only stores records.
 *
 * - Compare-and-append: one transaction reads the study's next seq and inserts the records at next, next+1, ...; a
 *   writer that raced another one hits the primary key (unique violation) or sees another next, rolls back and gets
 *   false. A transaction is all or nothing, so a losing writer never leaves half an append.
 * - Times come from the server: on append, `at` of every claim/heartbeat/result/release record is set to the server's
 *   `now()` (in ms) and `leaseUntil` moved with it (the lease length the worker asked for is kept), so leases compare
 *   the database's clock only, whatever the workers' clocks say. `now()` estimates the server clock for decisions
 *   (what looks claimable); replay checks every takeover against the stamped times, so a wrong estimate can only make
 *   a claim not count, never break a live lease.
 * - The schema (tables `effscale_schema` and `effscale_journal`) is created and migrated by effscale itself under an
 *   advisory lock; a database whose schema is newer than this effscale knows is refused.
 * - SQL is parameterized throughout; study names are validated; the password never appears in a message (`target`
 *   is the URL with the password masked).
 * - A connection lost after the journal was opened (a server restart, a network blip) is retried for `retryMs`; an
 *   append whose COMMIT may or may not have landed is settled by reading back what is stored at its seqs.
 */
import pg from 'pg';
import { CheckpointError, ConfigError, StorageError } from '@effscale/core';
import type { JournalBackend, JournalRecord, StoredRecord } from '../types.js';
import { checkFirstRecord } from './backend.js';

/** The schema version this effscale writes; older databases are migrated, newer ones refused. */
export const PG_SCHEMA_VERSION = 1;

/** Migrations: index i brings a database from version i to i + 1. */
const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS effscale_journal (
       study text NOT NULL,
       seq bigint NOT NULL CHECK (seq >= 0),
       record json NOT NULL,
       written_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (study, seq))`,
  ],
];

const STUDY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Throws a ConfigError unless `name` is a valid study name (letters, digits, `_ . -`, up to 100, not starting with a sign). */
export function checkStudyName(name: string): string {
  if (!STUDY_NAME.test(name)) {
    throw new ConfigError(`study name '${name.length > 60 ? name.slice(0, 57) + '...' : name}' is not valid: use 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:/i.test(s);
}

/** The URL with its password (and any password= parameter) replaced by ***: safe to print and to store. */
export function maskStorageUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, '***');
    return u.toString().replace('%2A%2A%2A', '***');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(pass\w*=)[^&\s]*/gi, '$1***');
  }
}

export interface PostgresJournalOptions {
  /** How long an operation keeps retrying a lost connection before it gives up (ms, default 120 s). */
  retryMs?: number;
  /** How long opening waits for a connection (ms, default 10 s). */
  connectTimeoutMs?: number;
  /** Open for reading only: `append` refuses. The schema is still checked (and created only when missing). */
  readOnly?: boolean;
  /**
   * Opening waits this long for a server that refuses connections or is starting (a worker started before its
   * database); unset: a restarting server is waited for 15 s, a refusing one refused at once.
   */
  waitForServerMs?: number;
}

const code = (e: unknown) => (e as { code?: string } | undefined)?.code;

/** A lost connection or a server that is going away or starting: worth retrying once the journal is open. */
function transient(e: unknown): boolean {
  const c = code(e);
  if (c && /^(08|57P0[123])/.test(c)) return true;
  if (c && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(c)) return true;
  const m = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|Client was closed/i.test(m);
}

/** A connection problem as one line naming the server (never the password) and what to do. */
export function describeConnectionError(e: unknown, target: string, user: string | undefined, database: string | undefined): StorageError {
  const c = code(e);
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  const who = user ? ` as user '${user}'` : '';
  if (c === '28P01') return new StorageError(`PostgreSQL at ${target} refused the password${who}; check the password (PGPASSWORD, ~/.pgpass, or the storage URL)`);
  if (c === '28000') return new StorageError(`PostgreSQL at ${target} refused the connection${who} (${msg}); check the user name and the server's pg_hba.conf`);
  if (c === '3D000') return new StorageError(`PostgreSQL at ${target}: the database '${database ?? '?'}' does not exist; create it (createdb ${database ?? 'NAME'}) or fix --storage`);
  if (c === '42501') return new StorageError(`PostgreSQL at ${target}: user${who} may not create effscale's tables (${msg}); grant CREATE on the schema or run once as its owner`);
  if (c === 'ECONNREFUSED') return new StorageError(`cannot reach PostgreSQL at ${target} (connection refused); start the server or fix --storage / EFFSCALE_STORAGE`);
  if (c === 'ENOTFOUND' || c === 'EAI_AGAIN') return new StorageError(`cannot reach PostgreSQL at ${target} (unknown host); fix the host in --storage / EFFSCALE_STORAGE`);
  if (transient(e)) return new StorageError(`cannot reach PostgreSQL at ${target} (${msg}); check that the server runs and is reachable`);
  if (/password must be a string|SASL/i.test(msg)) return new StorageError(`PostgreSQL at ${target} asks for a password${who} and none was given; set PGPASSWORD, ~/.pgpass, or put it in the storage URL`);
  return new StorageError(`PostgreSQL at ${target}: ${msg}`);
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** at / leaseUntil of a non-study record set to the server time `ms`, keeping the lease length; keys keep their order. */
function stamp(r: JournalRecord, ms: number): JournalRecord {
  if (r.kind === 'study') return r;
  const out = { ...r, at: ms } as JournalRecord & { leaseUntil?: number };
  if ('leaseUntil' in r) out.leaseUntil = ms + (r.leaseUntil - r.at);
  return out;
}

type Client = pg.PoolClient;

/**
 * A record's JSON split around its time values, so the server writes them: stored = a || T1 || b || T2 || c, where T1
 * is `at` (the server's now() in ms) and T2 `leaseUntil` (now() + lease), or the other way round when leaseUntil comes
 * first; no b without a leaseUntil; a study record (stamp false) is stored as a, unchanged.
 */
interface Split { stamp: boolean; atFirst: boolean; a: string; b: string | null; c: string; lease: number | null }

function split(r: JournalRecord): Split {
  if (r.kind === 'study') return { stamp: false, atFirst: true, a: JSON.stringify(r), b: null, c: '', lease: null };
  // Placeholder values no record holds (random 15-digit integers), replaced by cutting the text around them.
  const mark = () => 1e14 + Math.floor(Math.random() * 8e14);
  const atMark = mark(), luMark = mark();
  const hasLease = 'leaseUntil' in r;
  const text = JSON.stringify({ ...r, at: atMark, ...(hasLease ? { leaseUntil: luMark } : {}) });
  const atKey = `"at":${atMark}`, luKey = `"leaseUntil":${luMark}`;
  const i = text.indexOf(atKey);
  if (!hasLease) return { stamp: true, atFirst: true, a: text.slice(0, i + 5), b: null, c: text.slice(i + atKey.length), lease: null };
  const j = text.indexOf(luKey);
  const lease = (r as { leaseUntil: number }).leaseUntil - r.at;
  if (i < j) return { stamp: true, atFirst: true, a: text.slice(0, i + 5), b: text.slice(i + atKey.length, j + 13), c: text.slice(j + luKey.length), lease };
  return { stamp: true, atFirst: false, a: text.slice(0, j + 13), b: text.slice(j + luKey.length, i + 5), c: text.slice(i + atKey.length), lease };
}

const APPEND_SQL = `
  WITH t AS (SELECT floor(extract(epoch FROM now()) * 1000)::bigint AS ms,
                    (SELECT coalesce(max(seq) + 1, 0) FROM effscale_journal WHERE study = $1) AS next)
  INSERT INTO effscale_journal (study, seq, record)
  SELECT $1, $2::bigint + r.o - 1,
         (CASE WHEN NOT r.s THEN r.a
               ELSE r.a || (CASE WHEN r.f THEN t.ms ELSE t.ms + r.l END)::text
                        || coalesce(r.b || (CASE WHEN r.f THEN t.ms + r.l ELSE t.ms END)::text, '') || r.c END)::json
  FROM t, unnest($3::boolean[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::bigint[]) WITH ORDINALITY AS r(s, f, a, b, c, l, o)
  WHERE t.next = $2::bigint
  RETURNING (SELECT ms FROM t) AS ms`;

const guarded = new WeakSet<Client>();
/**
 * A connection that dies between two queries (a server restart) emits 'error' on its client, which would crash the
 * process unheard; the next query on it fails instead, and that failure is retried on a fresh connection.
 */
function guard(c: Client): void {
  if (guarded.has(c)) return;
  guarded.add(c);
  c.on('error', () => undefined);
}

export class PostgresJournal implements JournalBackend {
  /** Appends stamp at / leaseUntil with the server clock: what is stored differs from what was given. */
  readonly stampsTime = true;
  /** For measurements: appends written, appends lost to another writer, connection retries. */
  readonly stats = { appends: 0, lost: 0, retries: 0, ambiguousCommits: 0 };
  /** Server clock minus this machine's (ms), from the last round trip that read it. */
  private offset = 0;
  private closed = false;

  constructor(private readonly pool: pg.Pool, readonly study: string, readonly target: string, private readonly opts: PostgresJournalOptions = {}) {}

  /** The server's clock as best known here (ms since the epoch): what leases are measured by. */
  now(): number {
    return Date.now() + this.offset;
  }

  /** Where the study lives, safe to print: the masked URL and the study name. */
  get source(): string {
    return `${this.target} (study ${this.study})`;
  }

  read(from: number): Promise<StoredRecord[]> {
    return this.withClient('read the study journal', async (c) => {
      const start = Math.max(0, from);
      const r = await c.query<{ seq: string; record: JournalRecord }>('SELECT seq, record FROM effscale_journal WHERE study = $1 AND seq >= $2 ORDER BY seq', [this.study, start]);
      const out: StoredRecord[] = r.rows.map((row) => ({ seq: Number(row.seq), record: row.record }));
      for (let i = 0; i < out.length; i++) {
        if (out[i].seq !== start + i) throw new CheckpointError(`${this.source}: record ${start + i} is missing from the journal table; the study is damaged: restore the database from a backup`);
      }
      if (start === 0 && out.length > 0 && out[0].record.kind !== 'study') throw new CheckpointError(`${this.source}: the journal does not start with a study record; the study is damaged`);
      return out;
    });
  }

  async append(records: JournalRecord[], next: number): Promise<boolean> {
    checkFirstRecord(records, next);
    if (this.opts.readOnly) throw new Error(`the journal of ${this.source} was opened read-only`);
    if (records.length === 0) {
      const r = await this.withClient('read the study journal', (c) => c.query<{ next: string }>('SELECT coalesce(max(seq) + 1, 0) AS next FROM effscale_journal WHERE study = $1', [this.study]));
      return Number(r.rows[0].next) === next;
    }
    const parts = records.map(split);
    let sent = false; // once the INSERT may have reached the server, a lost connection leaves its outcome unknown
    return this.withClient('append to the study journal', async (c) => {
      if (sent) {
        const settled = await this.settle(c, records, next);
        if (settled !== null) return settled;
      }
      const t0 = Date.now();
      sent = true;
      try {
        // One statement, so one transaction: the compare (next is still the next seq), the server's time, the insert.
        const r = await c.query<{ ms: string }>(APPEND_SQL, [this.study, next, parts.map((p) => p.stamp), parts.map((p) => p.atFirst), parts.map((p) => p.a),
          parts.map((p) => p.b), parts.map((p) => p.c), parts.map((p) => p.lease)]);
        sent = false;
        if (r.rows.length === 0) {
          this.stats.lost++;
          return false;
        }
        this.offset = Number(r.rows[0].ms) - Math.round((t0 + Date.now()) / 2);
        this.stats.appends++;
        return true;
      } catch (e) {
        if (code(e) === '23505') {
          // Another writer took one of these seqs at the same moment.
          sent = false;
          this.stats.lost++;
          return false;
        }
        if (!transient(e)) sent = false;
        throw e;
      }
    });
  }

  /** True when the records at next.. are ours (our statement committed), false when others are there, null when none. */
  private async settle(c: Client, records: JournalRecord[], next: number): Promise<boolean | null> {
    this.stats.ambiguousCommits++;
    const r = await c.query<{ record: string }>('SELECT record::text AS record FROM effscale_journal WHERE study = $1 AND seq >= $2 AND seq < $3 ORDER BY seq', [this.study, next, next + records.length]);
    if (r.rows.length === 0) return null;
    return r.rows.length === records.length && r.rows.every((row, i) => {
      const stored = JSON.parse(row.record) as JournalRecord;
      return row.record === JSON.stringify(stored.kind === 'study' ? records[i] : stamp(records[i], (stored as { at: number }).at));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }

  /** Run `fn` on a pooled connection; a lost connection is retried (a fresh one) until `retryMs` has passed. */
  private async withClient<T>(what: string, fn: (c: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`the journal of ${this.source} is closed`);
    const deadline = Date.now() + (this.opts.retryMs ?? 120_000);
    let pause = 50;
    for (;;) {
      let client: Client | undefined;
      try {
        client = await this.pool.connect();
        guard(client);
        const out = await fn(client);
        client.release();
        return out;
      } catch (e) {
        client?.release(transient(e) ? (e as Error) : undefined);
        if (!transient(e) || this.closed) {
          if (e instanceof CheckpointError || e instanceof StorageError || !code(e)) throw e;
          throw new StorageError(`cannot ${what} in ${this.source}: ${(e as Error).message.split('\n')[0]}`);
        }
        if (Date.now() > deadline) throw new StorageError(`lost the connection to PostgreSQL at ${this.target} and could not get it back in ${Math.round((this.opts.retryMs ?? 120_000) / 1000)} s (${(e as Error).message.split('\n')[0]}); check the server, then run again`);
        this.stats.retries++;
        await sleep(pause + Math.random() * pause);
        pause = Math.min(pause * 2, 1000);
      }
    }
  }
}

/** Create or migrate effscale's tables (under an advisory lock, so many workers starting at once migrate once). */
async function ensureSchema(c: Client, target: string): Promise<void> {
  const version = async (): Promise<number | null> => {
    const exists = await c.query<{ t: string | null }>(`SELECT to_regclass('effscale_schema')::text AS t`);
    if (!exists.rows[0].t) return null;
    const r = await c.query<{ version: number }>('SELECT version FROM effscale_schema WHERE id = 1');
    return r.rows[0]?.version ?? null;
  };
  const refuseNewer = (v: number | null) => {
    if (v !== null && v > PG_SCHEMA_VERSION) {
      throw new StorageError(`PostgreSQL at ${target} holds effscale tables of schema version ${v}, newer than this effscale's ${PG_SCHEMA_VERSION}; use a newer effscale (or another database)`);
    }
  };
  let v = await version();
  refuseNewer(v);
  if (v === PG_SCHEMA_VERSION) return;
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['effscale schema']);
    await c.query(`CREATE TABLE IF NOT EXISTS effscale_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL, written_by text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
    v = await version();
    refuseNewer(v);
    for (let from = v ?? 0; from < PG_SCHEMA_VERSION; from++) for (const sql of MIGRATIONS[from]) await c.query(sql);
    await c.query(`INSERT INTO effscale_schema (id, version, written_by) VALUES (1, $1, $2)
                   ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, written_by = EXCLUDED.written_by, updated_at = now()`, [PG_SCHEMA_VERSION, 'effscale']);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * Open study `study` in the PostgreSQL database at `url` (missing parts from the PG* environment variables; a missing
 * password from PGPASSWORD or ~/.pgpass). Connects once, so a bad URL, an unreachable server, a wrong password, a
 * missing database or a newer schema is refused here, as one line.
 */
export async function openPostgresJournal(url: string, study: string, opts: PostgresJournalOptions = {}): Promise<PostgresJournal> {
  checkStudyName(study);
  const target = maskStorageUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`storage '${target}' is not a PostgreSQL URL; expected postgresql://USER@HOST:PORT/DATABASE`);
  }
  if (!/^postgres(ql)?:$/i.test(parsed.protocol)) throw new ConfigError(`storage '${target}' is not a PostgreSQL URL (it must start with postgresql://); expected postgresql://USER@HOST:PORT/DATABASE`);
  if (parsed.port && !/^\d+$/.test(parsed.port)) throw new ConfigError(`storage '${target}': the port '${parsed.port}' is not a number`);
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || undefined;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || user;
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, keepAlive: true, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
  // An idle connection that dies (a server restart) is dropped from the pool; the next operation reconnects.
  pool.on('error', () => undefined);
  // A server that is restarting is waited for (a few seconds, or waitForServerMs); one that refuses or is not there
  // is refused at once unless the caller (a worker) asked to wait for it.
  const deadline = Date.now() + (opts.waitForServerMs ?? 15_000);
  for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
    let c: Client | undefined;
    try {
      c = await pool.connect();
      guard(c);
      await ensureSchema(c, target);
      c.release();
      return new PostgresJournal(pool, study, target, opts);
    } catch (e) {
      c?.release(e as Error);
      const refused = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code(e) ?? '');
      if (!(e instanceof StorageError) && transient(e) && (!refused || opts.waitForServerMs !== undefined) && Date.now() + pause < deadline) {
        await sleep(pause);
        continue;
      }
      await pool.end().catch(() => undefined);
      if (e instanceof StorageError) throw e;
      throw describeConnectionError(e, target, user, database);
    }
  }
}
