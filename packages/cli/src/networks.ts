import { PRESET_NAMES, type NetworkSelector, type NetworkSpec } from '@effscale/core';
import { UsageError } from './errors.js';
import { parseInteger, parseNumber, parseSweep } from './numbers.js';

/** Flags shared by every command that names networks. */
export const NETWORK_OPTIONS = {
  model: { type: 'string' },
  phi: { type: 'string' },
  alpha: { type: 'string' },
  beta: { type: 'string' },
  gamma: { type: 'string' },
  depth: { type: 'string' },
  width: { type: 'string' },
  resolution: { type: 'string' },
  'resolution-multiplier': { type: 'string' },
  'base-resolution': { type: 'string' },
  classes: { type: 'string' },
  channels: { type: 'string' },
  dropout: { type: 'string' },
  'drop-connect': { type: 'string' },
  blocks: { type: 'string' },
} as const;

export type NetworkFlags = Partial<Record<keyof typeof NETWORK_OPTIONS, string>>;

export interface NetworkDefaults {
  classes?: number;
  channels?: number;
}

/** Turn the flags into network specs: presets, a phi sweep, or explicit multipliers. Exactly one selector family. */
export async function networksFromFlags(f: NetworkFlags, defaults: NetworkDefaults = {}): Promise<NetworkSpec[]> {
  const families = [
    f.model !== undefined && '--model',
    f.phi !== undefined && '--phi',
    (f.depth !== undefined || f.width !== undefined || f['resolution-multiplier'] !== undefined) && '--depth/--width',
  ].filter(Boolean);
  if (families.length > 1) {
    throw new UsageError(`conflicting selectors ${families.join(' and ')}: name a network by one of --model, --phi, or --depth/--width/--resolution`);
  }
  for (const c of ['alpha', 'beta', 'gamma', 'base-resolution'] as const) {
    if (f[c] !== undefined && f.phi === undefined && !(c === 'base-resolution' && families[0] === '--depth/--width')) {
      throw new UsageError(`--${c} only applies with --phi (compound scaling)`);
    }
  }

  const options: Omit<NetworkSpec, 'selector'> = {
    classes: f.classes !== undefined ? await parseInteger('classes', f.classes) : (defaults.classes ?? 1000),
    inputChannels: f.channels !== undefined ? await parseInteger('channels', f.channels) : (defaults.channels ?? 3),
  };
  if (f.dropout !== undefined) options.dropout = await parseNumber('dropout', f.dropout);
  if (f['drop-connect'] !== undefined) options.dropConnectRate = await parseNumber('drop-connect', f['drop-connect']);
  if (f.blocks !== undefined) options.blocks = f.blocks.split(/[\s,;]+/).filter((s) => s.length > 0);
  const baseResolution = f['base-resolution'] !== undefined ? await parseInteger('base-resolution', f['base-resolution']) : undefined;

  let selectors: NetworkSelector[];
  if (f.phi !== undefined) {
    const [alpha, beta, gamma] = await Promise.all(
      (['alpha', 'beta', 'gamma'] as const).map((c) => (f[c] === undefined ? undefined : parseNumber(c, f[c]!))),
    );
    selectors = (await parseSweep('phi', f.phi)).map((phi) => ({ kind: 'compound', phi, alpha, beta, gamma, baseResolution }));
  } else if (families[0] === '--depth/--width') {
    const depth = f.depth !== undefined ? await parseNumber('depth', f.depth) : 1;
    const width = f.width !== undefined ? await parseNumber('width', f.width) : 1;
    const sel: NetworkSelector = { kind: 'multipliers', depth, width, baseResolution };
    if (f.resolution !== undefined) sel.resolution = await parseResolution(f.resolution);
    if (f['resolution-multiplier'] !== undefined) {
      sel.resolutionMultiplier = await parseNumber('resolution-multiplier', f['resolution-multiplier']);
    }
    return [{ ...options, selector: sel }];
  } else {
    const model = (f.model ?? 'b0').toLowerCase();
    const names = model === 'all' ? PRESET_NAMES : model.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    for (const n of names) {
      if (!(PRESET_NAMES as string[]).includes(n)) {
        throw new UsageError(`unknown model '${n}' (allowed: ${PRESET_NAMES.join(', ')}, all, or a comma list)`);
      }
    }
    selectors = names.map((preset) => ({ kind: 'preset', preset }));
  }
  const resolution = f.resolution !== undefined ? await parseResolution(f.resolution) : undefined;
  return selectors.map((selector) => ({ ...options, selector, ...(resolution !== undefined ? { resolution } : {}) }));
}

async function parseResolution(text: string): Promise<number> {
  const v = await parseNumber('resolution', text);
  if (!Number.isInteger(v) || v < 1) {
    throw new UsageError(`--resolution '${text}' must be a positive integer number of pixels (use --resolution-multiplier for r)`);
  }
  return v;
}
