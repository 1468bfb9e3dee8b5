import { UsageError } from './errors.js';

const PLAIN = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number from the command line. Plain numbers parse directly; anything else (`2/1.1^2`, `sqrt(2)`) is evaluated
 * with mathjs, which is loaded only then because importing it costs ~2 s.
 */
export async function parseNumber(flag: string, text: string): Promise<number> {
  const t = text.trim();
  if (PLAIN.test(t)) {
    const v = Number(t);
    if (!Number.isFinite(v)) throw new UsageError(`--${flag} '${text}' is beyond the largest number a double holds (1.8e308)`);
    return v;
  }
  let value: unknown;
  try {
    const { evaluate } = await import('mathjs');
    value = evaluate(t);
  } catch (e) {
    throw new UsageError(`--${flag} '${text}' is neither a number nor an expression mathjs can evaluate (${(e as Error).message})`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UsageError(`--${flag} '${text}' does not evaluate to a finite number`);
  }
  return value;
}

export async function parseInteger(flag: string, text: string, min = 1): Promise<number> {
  const v = await parseNumber(flag, text);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${flag} '${text}' must be an integer >= ${min}`);
  return v;
}

/** `0:7` (step 1), `0:7:0.5`, `0,0.5,2.5`, or a single value. */
export async function parseSweep(flag: string, text: string): Promise<number[]> {
  if (text.includes(':')) {
    const parts = text.split(':');
    if (parts.length < 2 || parts.length > 3) throw new UsageError(`--${flag} '${text}' must be start:stop or start:stop:step`);
    const [start, stop, step = 1] = await Promise.all(parts.map((p) => parseNumber(flag, p)));
    if (!(step > 0)) throw new UsageError(`--${flag} '${text}': step ${step} must be > 0`);
    if (stop < start) throw new UsageError(`--${flag} '${text}': stop ${stop} is below start ${start}`);
    const n = Math.floor((stop - start) / step + 1e-9) + 1;
    if (n > 10_000) throw new UsageError(`--${flag} '${text}' has ${n} points; at most 10000 are allowed`);
    return Array.from({ length: n }, (_, i) => Number((start + i * step).toPrecision(12)));
  }
  const values = await Promise.all(text.split(',').filter((s) => s.trim() !== '').map((p) => parseNumber(flag, p)));
  if (values.length === 0) throw new UsageError(`--${flag} needs at least one value`);
  return values;
}
