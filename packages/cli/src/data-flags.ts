import type { LoadOptions, Normalize } from '@effscale/core/data';
import { BACKEND_REQUESTS } from '@effscale/core/backend';
import { UsageError } from './errors.js';
import { parseInteger, parseNumber } from './numbers.js';

export const DATA_OPTIONS = {
  data: { type: 'string' },
  'data-dir': { type: 'string' },
  'train-limit': { type: 'string' },
  'val-limit': { type: 'string' },
  'val-fraction': { type: 'string' },
  augment: { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  normalize: { type: 'string' },
} as const;

type DataFlags = Partial<Record<'data' | 'data-dir' | 'train-limit' | 'val-limit' | 'val-fraction' | 'normalize', string>> & {
  augment?: boolean;
  'no-augment'?: boolean;
};

export async function dataFromFlags(v: DataFlags): Promise<LoadOptions & { augment?: boolean; normalize?: Normalize }> {
  if (v.augment && v['no-augment']) throw new UsageError('--augment and --no-augment contradict each other');
  const name = v.data ?? (v['data-dir'] !== undefined ? 'folder' : 'fashion-mnist');
  const out: LoadOptions & { augment?: boolean; normalize?: Normalize } = { name };
  if (v['data-dir'] !== undefined) out.dir = v['data-dir'];
  if (v['train-limit'] !== undefined) out.trainLimit = await parseInteger('train-limit', v['train-limit']);
  if (v['val-limit'] !== undefined) out.valLimit = await parseInteger('val-limit', v['val-limit']);
  if (v['val-fraction'] !== undefined) {
    const f = await parseNumber('val-fraction', v['val-fraction']);
    if (!(f > 0 && f < 1)) throw new UsageError(`--val-fraction ${f} must be in (0, 1)`);
    out.valFraction = f;
  }
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
