import type { LoadOptions, Normalize } from '@effscale/core/data';
import { BACKEND_REQUESTS } from '@effscale/core/backend';
import { UsageError } from './errors.js';
import { parseInteger, parseNumber } from './numbers.js';

export const DATA_OPTIONS = {
  data: { type: 'string' },
  'data-dir': { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  'test-fraction': { type: 'string' },
  'val-fraction': { type: 'string' },
  'val-count': { type: 'string' },
  augment: { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  normalize: { type: 'string' },
} as const;

type DataFlags = Partial<Record<'data' | 'data-dir' | 'train-limit' | 'test-limit' | 'test-fraction' | 'val-fraction' | 'val-count' | 'normalize', string>> & {
  augment?: boolean;
  'no-augment'?: boolean;
};

export async function dataFromFlags(v: DataFlags): Promise<LoadOptions & { augment?: boolean; normalize?: Normalize }> {
  if (v.augment && v['no-augment']) throw new UsageError('--augment and --no-augment contradict each other');
  // A directory alone: its format is detected (image folder or CIFAR; IDX files need --data to name their classes).
  const name = v.data ?? (v['data-dir'] !== undefined ? 'auto' : 'fashion-mnist');
  const out: LoadOptions & { augment?: boolean; normalize?: Normalize } = { name };
  if (v['data-dir'] !== undefined) out.dir = v['data-dir'];
  if (v['train-limit'] !== undefined) out.trainLimit = await parseInteger('train-limit', v['train-limit']);
  if (v['test-limit'] !== undefined) out.testLimit = await parseInteger('test-limit', v['test-limit']);
  const fraction = async (flag: 'test-fraction' | 'val-fraction') => {
    const f = await parseNumber(flag, v[flag]!);
    if (!(f > 0 && f < 1)) throw new UsageError(`--${flag} ${f} must be in (0, 1)`);
    return f;
  };
  if (v['test-fraction'] !== undefined) out.testFraction = await fraction('test-fraction');
  if (v['val-fraction'] !== undefined) out.valFraction = await fraction('val-fraction');
  if (v['val-count'] !== undefined) out.valCount = await parseInteger('val-count', v['val-count']);
  if (out.valFraction !== undefined && out.valCount !== undefined) throw new UsageError('give --val-fraction or --val-count, not both');
  if (v.augment) out.augment = true;
  if (v['no-augment']) out.augment = false;
  if (v.normalize !== undefined) {
    if (v.normalize !== 'standardize' && v.normalize !== 'zero-one') {
      throw new UsageError(`--normalize '${v.normalize}' (allowed: standardize, zero-one)`);
    }
    out.normalize = v.normalize;
  }
  return out;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30 };

/** `4GiB`, `512MiB`, `1.5g`, `1073741824`. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2].toLowerCase() ?? '';
  if (!m || UNITS[unit] === undefined || Number(m[1]) <= 0) {
    throw new UsageError(`--max-memory '${text}' is not a size (examples: 4GiB, 512MiB, 1073741824)`);
  }
  return Math.floor(Number(m[1]) * UNITS[unit]);
}

/** Validate --backend (or EFFSCALE_BACKEND) before any data is loaded or model built. */
export function checkBackendFlag(flag: string | undefined): void {
  const value = flag ?? process.env.EFFSCALE_BACKEND;
  if (value !== undefined && !(BACKEND_REQUESTS as readonly string[]).includes(value)) {
    throw new UsageError(`${flag !== undefined ? '--backend' : 'EFFSCALE_BACKEND'} '${value}' is not a backend (allowed: ${BACKEND_REQUESTS.join(', ')})`);
  }
}
