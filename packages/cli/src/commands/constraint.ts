import { parseArgs } from 'node:util';
import { approx, PAPER_COEFFICIENTS } from '@effscale/core';
import {
  checkConstraint, solveConstraint, solveForMacs, TargetOutOfReachError, type Coefficient, type MacsSolution, type ScalingDirection,
} from '@effscale/flops';
import { UsageError } from '../errors.js';
import { parseInteger, parseNumber } from '../numbers.js';
import { group, table } from '../format.js';

export const CONSTRAINT_HELP = `effscale constraint: check alpha * beta^2 * gamma^2 ~ target, and what rounding really costs

  effscale constraint --alpha 1.2 --beta 1.1 --gamma 1.15 [--phi 1] [--target 2]
  effscale constraint --solve gamma --alpha 1.2 --beta 1.1 [--target 2]     solve the constraint for one coefficient
  effscale constraint --target-macs 1.8e9 [--along depth|width|resolution|compound|all]
                                            the coefficient whose REALIZED MACs is closest to a target (Table 7),
                                            searched up to the size limits of 'effscale flops --help'
Options: --base-resolution 224, --classes 1000, --channels 3, --json`;

const DIRECTIONS = ['depth', 'width', 'resolution', 'compound'] as const;

export async function constraintCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' }, phi: { type: 'string' },
      target: { type: 'string' }, solve: { type: 'string' }, 'target-macs': { type: 'string' }, along: { type: 'string' },
      'base-resolution': { type: 'string' }, classes: { type: 'string' }, channels: { type: 'string' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    console.log(CONSTRAINT_HELP);
    return;
  }
  const num = async (k: 'alpha' | 'beta' | 'gamma' | 'phi' | 'target') => (v[k] === undefined ? undefined : parseNumber(k, v[k]!));
  const [alpha, beta, gamma, phi, target] = await Promise.all((['alpha', 'beta', 'gamma', 'phi', 'target'] as const).map(num));
  const net = {
    classes: v.classes !== undefined ? await parseInteger('classes', v.classes) : 1000,
    inputChannels: v.channels !== undefined ? await parseInteger('channels', v.channels) : 3,
    baseResolution: v['base-resolution'] !== undefined ? await parseInteger('base-resolution', v['base-resolution']) : undefined,
  };
  const print = (obj: unknown, text: string) => console.log(v.json ? JSON.stringify(obj, null, 2) : text);

  if (v['target-macs'] !== undefined) {
    const targetMacs = await parseNumber('target-macs', v['target-macs']);
    const along = v.along ?? 'all';
    if (along !== 'all' && !(DIRECTIONS as readonly string[]).includes(along)) {
      throw new UsageError(`--along '${along}' is not a direction (allowed: ${DIRECTIONS.join(', ')}, all)`);
    }
    const coefficients = { alpha: alpha ?? PAPER_COEFFICIENTS.alpha, beta: beta ?? PAPER_COEFFICIENTS.beta, gamma: gamma ?? PAPER_COEFFICIENTS.gamma };
    const solve = (d: ScalingDirection) =>
      solveForMacs(d, targetMacs, { coefficients, resolution: net.baseResolution ?? 224, classes: net.classes, inputChannels: net.inputChannels });
    const sols = along === 'all' ? solveAll(solve, targetMacs) : [solve(along as ScalingDirection)];
    print(sols, table(
      ['along', 'value', 'depth', 'width', 'res', 'MACs', 'vs target'],
      sols.map((s) => [s.along, s.along === 'compound' ? `phi ${group(s.value)}` : group(s.value), s.depth, s.width, s.resolution, s.macs,
        `${(s.relativeError * 100).toFixed(2)}%`]),
    ) + `\n(target ${group(targetMacs)} MACs; each row is the realized network closest to it after rounding)`);
    return;
  }

  if (v.solve !== undefined) {
    if (!['alpha', 'beta', 'gamma'].includes(v.solve)) {
      throw new UsageError(`--solve '${v.solve}' is not a coefficient (allowed: alpha, beta, gamma)`);
    }
    const missing = v.solve as Coefficient;
    if ({ alpha, beta, gamma }[missing] !== undefined) throw new UsageError(`--solve ${missing} conflicts with --${missing}: leave it out`);
    const solved = solveConstraint(missing, { alpha, beta, gamma }, target ?? 2);
    const check = checkConstraint(solved, { phi: phi ?? 1, target: target ?? 2, ...net });
    print({ solved: missing, ...check }, `${missing} = ${solved[missing].toPrecision(8)}\n` + describe(check));
    return;
  }

  if (alpha === undefined || beta === undefined || gamma === undefined) {
    throw new UsageError('give --alpha, --beta and --gamma (or --solve one of them, or --target-macs)');
  }
  const check = checkConstraint({ alpha, beta, gamma }, { phi: phi ?? 1, target: target ?? 2, ...net });
  print(check, describe(check));
}

/** Every direction, or one line naming each direction the target is out of reach along, with what it can reach. */
function solveAll(solve: (d: ScalingDirection) => MacsSolution, targetMacs: number): MacsSolution[] {
  const sols: MacsSolution[] = [];
  const out: TargetOutOfReachError[] = [];
  for (const d of DIRECTIONS) {
    try {
      sols.push(solve(d));
    } catch (e) {
      if (!(e instanceof TargetOutOfReachError)) throw e;
      out.push(e);
    }
  }
  if (out.length > 0) {
    const reachable = sols.map((s) => s.along);
    throw new UsageError(
      `target ${approx(targetMacs)} MACs is out of reach along ${out.map((e) => `${e.range.along} (${e.reach})`).join(' and ')}; ` +
        (reachable.length > 0 ? `give --along ${reachable.join(' or --along ')}, or a smaller target` : 'give a smaller target') + '.',
    );
  }
  return sols;
}

function describe(c: ReturnType<typeof checkConstraint>): string {
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
  return [
    `alpha * beta^2 * gamma^2 = ${c.alpha} * ${c.beta}^2 * ${c.gamma}^2 = ${c.product.toPrecision(6)}  (target ${c.target}, deviation ${c.deviation >= 0 ? '+' : ''}${c.deviation.toPrecision(4)}, ${pct(c.product / c.target - 1)})`,
    `phi ${c.phi}: depth ${c.depth.toPrecision(6)}, width ${c.width.toPrecision(6)}, resolution ${c.resolution} px`,
    `theoretical cost ratio product^phi = ${c.theoreticalRatio.toPrecision(6)}`,
    `realized MACs ratio (after rounding) = ${c.realizedMacsRatio.toPrecision(6)}  (${group(c.scaledMacs)} / ${group(c.baseMacs)} MACs)`,
    `realized params ratio = ${c.realizedParamsRatio.toPrecision(6)}`,
  ].join('\n');
}
