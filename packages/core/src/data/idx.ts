import { DataError } from './errors.js';
import { readMaybeGzip } from './files.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parse an IDX file (the MNIST family format): bytes 0-1 zero, byte 2 the element type, byte 3 the number of
 * dimensions, then one big-endian uint32 per dimension, then the data. Only unsigned bytes (0x08) occur in the
 * image/label files this project reads.
 */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  if (buf.length < 4) throw new DataError(`${file}: not an IDX file (only ${buf.length} bytes)`);
  const magicHex = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08 || buf[3] < 1 || buf[3] > 4) {
    throw new DataError(`${file}: bad IDX magic 0x${magicHex}: expected 0x000008NN (unsigned bytes, NN = 01..04 dimensions)`);
  }
  const ndim = buf[3];
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) throw new DataError(`${file}: truncated IDX header (${buf.length} bytes, need ${headerLen})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = buf.length - headerLen;
  if (actual !== expected) {
    throw new DataError(
      `${file}: header says ${dims.join('x')} = ${expected} bytes of data but the file has ${actual}` +
        ` (${actual < expected ? 'truncated' : 'trailing garbage'}; re-download it)`,
    );
  }
  // Copy into a plain Uint8Array so that the (possibly much larger) source buffer can be freed.
  return { dims, data: new Uint8Array(buf.subarray(headerLen)) };
}

export async function readIdx(path: string): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(path), path);
}

/** Inverse of parseIdx, for tests and tools that write small IDX files. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
