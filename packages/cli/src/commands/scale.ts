import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { PAPER_COEFFICIENTS, PRESET_NAMES, type NetworkSpec } from '@effscale/core';
import { countTotals, UNITS, type CostTotals } from '@effscale/flops';
import { UsageError } from '../errors.js';
import { group, table } from '../format.js';
import { networksFromFlags } from '../networks.js';
import { parseInteger, parseNumber } from '../numbers.js';

export const SCALE_HELP = `effscale scale: step 2, the family B0'..B7' of found coefficients, next to the paper's and the official presets

  effscale scale --alpha A --beta B --gamma G [--phi 0:7] [--json | --csv]
  effscale scale --from STUDY_DIR [--phi 0:7]        the best coefficients of a search study

For each phi (default 0:7; any list or range as for 'effscale flops --phi': 0:7:0.5, 0,0.5,2.5): depth alpha^phi,
width beta^phi, resolution base x gamma^phi, with exact params and MACs; then the paper's coefficients (1.2, 1.1, 1.15)
at the same phi, and the official preset bN where phi is an integer 0..7 (the presets keep their own resolutions).
Options: --base-resolution 224, --classes 1000, --channels 3 (for every column); numbers may be expressions (mathjs).`;

type Coefficients = { alpha: number; beta: number; gamma: number };

/** The coefficients a study found: its winner by validation accuracy (scale --from, experiment --from). */
export async function coefficientsFrom(dir: string): Promise<Coefficients> {
  const { JOURNAL_FILE, openFileJournal, replay, winningCoefficients } = await import('@effscale/search');
  if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`--from '${dir}' is not a study (no ${JOURNAL_FILE} there)`);
  const backend = await openFileJournal(dir, { readOnly: true });
  try {
    const { alpha, beta, gamma } = winningCoefficients(replay(await backend.read(0)));
    return { alpha, beta, gamma };
  } finally {
    await backend.close();
  }
}

interface Row {
  phi: number;
  depth: number;
  width: number;
  resolution: number;
  params: number;
  macs: number;
  paper: { depth: number; width: number; resolution: number; params: number; macs: number };
  preset: { name: string; depth: number; width: number; resolution: number; params: number; macs: number } | null;
}

const pick = (t: CostTotals) => ({ depth: t.depth, width: t.width, resolution: t.resolution, params: t.params, macs: t.macs });
const product = (c: Coefficients) => c.alpha * c.beta ** 2 * c.gamma ** 2;

export async function scaleCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' }, phi: { type: 'string' }, from: { type: 'string' },
      'base-resolution': { type: 'string' }, classes: { type: 'string' }, channels: { type: 'string' },
      json: { type: 'boolean' }, csv: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    console.log(SCALE_HELP);
    return;
  }
  if (v.json && v.csv) throw new UsageError('choose one output format: --json or --csv, not both');
  const given = (['alpha', 'beta', 'gamma'] as const).filter((k) => v[k] !== undefined);
  let coefficients: Coefficients;
  if (v.from !== undefined) {
    if (given.length > 0) throw new UsageError(`--from takes the coefficients from the study: leave out ${given.map((k) => `--${k}`).join(', ')}`);
    coefficients = await coefficientsFrom(v.from);
  } else {
    if (given.length < 3) {
      const missing = (['alpha', 'beta', 'gamma'] as const).filter((k) => v[k] === undefined);
      throw new UsageError(`give --alpha, --beta and --gamma (missing ${missing.map((k) => `--${k}`).join(', ')}), or --from STUDY_DIR`);
    }
    const [alpha, beta, gamma] = await Promise.all((['alpha', 'beta', 'gamma'] as const).map((k) => parseNumber(k, v[k]!)));
    coefficients = { alpha, beta, gamma };
  }
  for (const k of ['alpha', 'beta', 'gamma'] as const) {
    if (!(coefficients[k] >= 1)) throw new UsageError(`--${k} ${coefficients[k]} must be >= 1 (compound scaling grows the network)`);
  }
  const classes = v.classes !== undefined ? await parseInteger('classes', v.classes) : 1000;
  const channels = v.channels !== undefined ? await parseInteger('channels', v.channels) : 3;
  const common = { phi: v.phi ?? '0:7', classes: String(classes), channels: String(channels), 'base-resolution': v['base-resolution'] };
  const found = await networksFromFlags({ ...common, alpha: String(coefficients.alpha), beta: String(coefficients.beta), gamma: String(coefficients.gamma) });
  const paper = await networksFromFlags(common);
  const presetSpec = (phi: number): NetworkSpec | undefined =>
    Number.isInteger(phi) && phi >= 0 && phi < PRESET_NAMES.length
      ? { selector: { kind: 'preset', preset: PRESET_NAMES[phi] }, classes, inputChannels: channels }
      : undefined;

  const rows: Row[] = found.map((spec, i) => {
    const phi = (spec.selector as { phi: number }).phi;
    const preset = presetSpec(phi);
    return {
      phi,
      ...pick(countTotals(spec)),
      paper: pick(countTotals(paper[i])),
      preset: preset ? { name: PRESET_NAMES[phi], ...pick(countTotals(preset)) } : null,
    };
  });

  if (v.json) {
    const c = { ...coefficients, product: product(coefficients) };
    process.stdout.write(JSON.stringify({ ...c, paper: { ...PAPER_COEFFICIENTS, product: product(PAPER_COEFFICIENTS) }, family: rows }, null, 2) + '\n');
    return;
  }
  if (v.csv) {
    process.stdout.write(stringify(rows.map((r) => ({
      phi: r.phi, depth: r.depth, width: r.width, resolution: r.resolution, params: r.params, macs: r.macs,
      paper_depth: r.paper.depth, paper_width: r.paper.width, paper_resolution: r.paper.resolution, paper_params: r.paper.params, paper_macs: r.paper.macs,
      preset: r.preset?.name ?? '', preset_depth: r.preset?.depth ?? '', preset_width: r.preset?.width ?? '', preset_resolution: r.preset?.resolution ?? '',
      preset_params: r.preset?.params ?? '', preset_macs: r.preset?.macs ?? '',
    })), { header: true }));
    return;
  }
  const c = coefficients;
  console.log(
    `alpha ${group(c.alpha)}, beta ${group(c.beta)}, gamma ${group(c.gamma)}: alpha * beta^2 * gamma^2 = ${group(product(c))}; ` +
      `paper ${PAPER_COEFFICIENTS.alpha}, ${PAPER_COEFFICIENTS.beta}, ${PAPER_COEFFICIENTS.gamma}: ${group(product(PAPER_COEFFICIENTS))}\n`,
  );
  console.log(table(
    ['phi', 'depth', 'width', 'res', 'params', 'MACs', 'paper params', 'paper MACs', 'preset', 'preset params', 'preset MACs'],
    rows.map((r) => [
      r.phi, r.depth, r.width, r.resolution, r.params, r.macs, r.paper.params, r.paper.macs,
      r.preset?.name ?? '-', r.preset?.params ?? '-', r.preset?.macs ?? '-',
    ]),
  ));
  console.log(`\nparams: ${UNITS.params}; MACs: ${UNITS.macs}`);
  console.log('paper: the paper\'s coefficients at the same phi; preset: the official bN (its own depth, width and resolution)');
}
