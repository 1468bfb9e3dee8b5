/**
 * What every journal backend shares: the interface (from types.ts), the line format of the file journal, and how a
 * process on this host is told apart from a dead one (for lock files and claim owners).
 *
 * A stored line is `{"seq":N,"crc":"<8 hex>","record":<record JSON>}\n`: the crc is CRC-32 of the record's JSON bytes
 * exactly as they stand in the line, so it is checked without re-serializing anything.
 */
import { hostname } from 'node:os';
import * as zlib from 'node:zlib';
import { processAlive, processStart } from '@effscale/core';
import type { JournalBackend, JournalRecord, StoredRecord } from '../types.js';

export type { JournalBackend, JournalRecord, StoredRecord };

// ---- Checksums --------------------------------------------------------------------------------------------------

let table: Uint32Array | undefined;
function crc32Table(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 (IEEE, as zlib and `crc32` compute it) of the bytes; node's native one where it exists (node >= 20.15). */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  return native ? native(data) >>> 0 : crc32Table(data);
}

export const crcHex = (data: Uint8Array): string => crc32(data).toString(16).padStart(8, '0');

// ---- Line format ------------------------------------------------------------------------------------------------

/** The line of record `seq`, newline included. */
export function encodeLine(seq: number, record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `{"seq":${seq},"crc":"${crcHex(Buffer.from(json, 'utf8'))}","record":${json}}\n`;
}

const PREFIX = /^\{"seq":(0|[1-9]\d{0,15}),"crc":"([0-9a-f]{8})","record":/;
/** How every journal line starts (used to tell a torn first line from a file that is not a journal). */
export const LINE_START = '{"seq":';

export type DecodedLine =
  | { ok: true; seq: number; record: JournalRecord }
  | { ok: false; problem: 'unparsable' | 'checksum mismatch'; seq?: number };

/** Decode one line (without its newline). Never throws. */
export function decodeLine(line: Buffer): DecodedLine {
  // The prefix is ASCII, so decoding a short head is enough to match it.
  const head = line.subarray(0, 64).toString('latin1');
  const m = PREFIX.exec(head);
  if (!m || line.length < m[0].length + 2 || line[line.length - 1] !== 0x7d /* } */) return { ok: false, problem: 'unparsable' };
  const seq = Number(m[1]);
  const body = line.subarray(m[0].length, line.length - 1);
  if (crcHex(body) !== m[2]) return { ok: false, problem: 'checksum mismatch', seq };
  let record: unknown;
  try {
    record = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problem: 'unparsable', seq };
  }
  if (record === null || typeof record !== 'object' || typeof (record as { kind?: unknown }).kind !== 'string') {
    return { ok: false, problem: 'unparsable', seq };
  }
  return { ok: true, seq, record: record as JournalRecord };
}

/** A backend is storage only; this one rule it does check: the first record of a journal is the study. */
export function checkFirstRecord(records: JournalRecord[], next: number): void {
  if (next === 0 && records.length > 0 && records[0].kind !== 'study') {
    throw new Error(`the first record of a journal must be the study record, not a '${records[0].kind}' record`);
  }
}

// ---- Processes on this host -------------------------------------------------------------------------------------

export { processStart };
/** Whether a process on this host still runs (core's rule, shared with the trainer's run-directory lock). */
export const localProcessAlive = processAlive;

let me: { host: string; pid: number; started: string | null } | undefined;
/** This process: host name, pid and start time (cached). */
export function thisProcess(): { host: string; pid: number; started: string | null } {
  if (!me || me.pid !== process.pid) me = { host: hostname(), pid: process.pid, started: processStart(process.pid) };
  return me;
}
