import { PAPER_COEFFICIENTS, SpecError, type NetworkOptions } from '@effscale/core';
import { count } from './count.js';

export type Coefficient = 'alpha' | 'beta' | 'gamma';
export interface Coefficients {
  alpha: number;
  beta: number;
  gamma: number;
}

export interface ConstraintCheck extends Coefficients {
  phi: number;
  target: number;
  /** alpha * beta^2 * gamma^2 */
  product: number;
  deviation: number;
  /** product^phi: the cost ratio the constraint promises. */
  theoreticalRatio: number;
  /** MACs of the compound-scaled net over the base net (phi 0): what rounding actually delivers. */
  realizedMacsRatio: number;
  realizedParamsRatio: number;
  baseMacs: number;
  scaledMacs: number;
  scaledName: string;
  depth: number;
  width: number;
  resolution: number;
}

function checkCoefficient(name: string, v: number): number {
  if (!Number.isFinite(v)) throw new SpecError(`${name} '${v}' is not a finite number`);
  if (v < 1) throw new SpecError(`${name} ${v} must be >= 1 (compound scaling only grows the network)`);
  return v;
}

export function constraintProduct(c: Coefficients): number {
  return c.alpha * c.beta ** 2 * c.gamma ** 2;
}

export function checkConstraint(
  c: Coefficients,
  opts: { phi?: number; target?: number; baseResolution?: number } & NetworkOptions = {},
): ConstraintCheck {
  const alpha = checkCoefficient('alpha', c.alpha);
  const beta = checkCoefficient('beta', c.beta);
  const gamma = checkCoefficient('gamma', c.gamma);
  const phi = opts.phi ?? 1;
  if (!Number.isFinite(phi)) throw new SpecError(`phi '${phi}' is not a finite number`);
  const target = opts.target ?? 2;
  if (!Number.isFinite(target) || target <= 0) throw new SpecError(`target '${target}' must be a number > 0`);
  const { phi: _p, target: _t, baseResolution, ...netOpts } = opts;
  const selector = { kind: 'compound' as const, alpha, beta, gamma, baseResolution };
  const base = count({ ...netOpts, selector: { ...selector, phi: 0 } });
  const scaled = count({ ...netOpts, selector: { ...selector, phi } });
  const product = constraintProduct({ alpha, beta, gamma });
  return {
    alpha, beta, gamma, phi, target, product,
    deviation: product - target,
    theoreticalRatio: product ** phi,
    realizedMacsRatio: scaled.macs / base.macs,
    realizedParamsRatio: scaled.params / base.params,
    baseMacs: base.macs,
    scaledMacs: scaled.macs,
    scaledName: scaled.name,
    depth: scaled.depth,
    width: scaled.width,
    resolution: scaled.resolution,
  };
}

/** The coefficient that makes alpha * beta^2 * gamma^2 equal the target exactly, given the other two. */
export function solveConstraint(missing: Coefficient, known: Partial<Coefficients>, target = 2): Coefficients {
  const others = (['alpha', 'beta', 'gamma'] as const).filter((k) => k !== missing);
  for (const k of others) {
    if (known[k] === undefined) throw new SpecError(`solving for ${missing} needs --${k}`);
    checkCoefficient(k, known[k]);
  }
  if (!Number.isFinite(target) || target <= 0) throw new SpecError(`target '${target}' must be a number > 0`);
  const { alpha = 1, beta = 1, gamma = 1 } = known;
  const solved =
    missing === 'alpha' ? target / (beta ** 2 * gamma ** 2)
    : missing === 'beta' ? Math.sqrt(target / (alpha * gamma ** 2))
    : Math.sqrt(target / (alpha * beta ** 2));
  if (solved < 1) {
    throw new SpecError(
      `no ${missing} >= 1 satisfies the target ${target} with ${others.map((k) => `${k} ${known[k]}`).join(', ')} (it would be ${solved.toFixed(4)})`,
    );
  }
  return { alpha, beta, gamma, [missing]: solved } as Coefficients;
}

export type ScalingDirection = 'depth' | 'width' | 'resolution' | 'compound';

export interface MacsSolution {
  along: ScalingDirection;
  targetMacs: number;
  /** The multiplier (or phi for compound, pixels for resolution) whose realized MACs is closest to the target. */
  value: number;
  depth: number;
  width: number;
  resolution: number;
  macs: number;
  relativeError: number;
  name: string;
}

/**
 * Find the coefficient along one direction whose REALIZED MACs (after rounding) is closest to a target, starting
 * from a base network. MACs are step functions of each coefficient, so we bisect for the first step at or above the
 * target and compare it with the step just below.
 */
export function solveForMacs(
  along: ScalingDirection,
  targetMacs: number,
  base: { depth?: number; width?: number; resolution?: number; coefficients?: Coefficients } & NetworkOptions = {},
): MacsSolution {
  if (!Number.isFinite(targetMacs) || targetMacs <= 0) throw new SpecError(`target MACs '${targetMacs}' must be a number > 0`);
  const { depth: d0 = 1, width: w0 = 1, resolution: r0 = 224, coefficients = PAPER_COEFFICIENTS, ...netOpts } = base;
  const at = (v: number) => {
    const sel =
      along === 'depth' ? { depth: v, width: w0, resolution: r0 }
      : along === 'width' ? { depth: d0, width: v, resolution: r0 }
      : along === 'resolution' ? { depth: d0, width: w0, resolution: Math.round(v) }
      : {
          depth: d0 * coefficients.alpha ** v,
          width: w0 * coefficients.beta ** v,
          resolution: Math.round(r0 * coefficients.gamma ** v),
        };
    const { name: _n, ...opts } = netOpts;
    const c = count({ ...opts, selector: { kind: 'multipliers', ...sel } });
    return { value: along === 'resolution' ? Math.round(v) : v, macs: c.macs, depth: sel.depth, width: sel.width, resolution: sel.resolution, name: c.name };
  };
  let lo = along === 'resolution' ? r0 : along === 'compound' ? 0 : along === 'depth' ? d0 : w0;
  let loEval = at(lo);
  if (loEval.macs >= targetMacs) {
    throw new SpecError(`target ${targetMacs} MACs is not above the base network's ${loEval.macs} MACs; nothing to scale`);
  }
  let hi = along === 'compound' ? 1 : lo * 2;
  let hiEval = at(hi);
  for (let i = 0; hiEval.macs < targetMacs; i++) {
    if (i > 40) throw new SpecError(`target ${targetMacs} MACs is out of reach along ${along}`);
    lo = hi;
    loEval = hiEval;
    hi = along === 'compound' ? hi + 1 : hi * 2;
    hiEval = at(hi);
  }
  const done = () => (along === 'resolution' ? hi - lo <= 1 : hi - lo <= 1e-9 * Math.max(1, hi));
  while (!done()) {
    const mid = along === 'resolution' ? Math.floor((lo + hi) / 2) : (lo + hi) / 2;
    const m = at(mid);
    if (m.macs >= targetMacs) {
      hi = mid;
      hiEval = m;
    } else {
      lo = mid;
      loEval = m;
    }
  }
  const best = Math.abs(hiEval.macs - targetMacs) <= Math.abs(loEval.macs - targetMacs) ? hiEval : loEval;
  return { along, targetMacs, ...best, relativeError: best.macs / targetMacs - 1 };
}
