import { approx, MAX_BLOCKS, PAPER_COEFFICIENTS, SizeLimitError, SpecError, type NetworkOptions, type SizeLimit } from '@effscale/core';
import { count, countTotals } from './count.js';

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

type SolverBase = { depth?: number; width?: number; resolution?: number; coefficients?: Coefficients } & NetworkOptions;

interface Evaluation {
  value: number;
  macs: number;
  depth: number;
  width: number;
  resolution: number;
  name: string;
}

/** What scaling along one direction can reach: from the base network up to the largest network the size limits allow. */
export interface MacsRange {
  along: ScalingDirection;
  base: Evaluation;
  top: Evaluation;
  /** The size limit just beyond `top`; null when the direction does not grow the network any further. */
  limit: SizeLimit | null;
}

/** A target MACs outside what one direction can reach; `reach` says what it can, for messages that combine several. */
export class TargetOutOfReachError extends SpecError {
  override name = 'TargetOutOfReachError';
  constructor(
    readonly range: MacsRange,
    readonly reach: string,
    message: string,
  ) {
    super(message);
  }
}

const LIMIT_TEXT: Record<SizeLimit, string> = {
  blocks: `the ${MAX_BLOCKS.toLocaleString('en-US')}-block limit`,
  'activation memory': "the 1 TiB limit on one image's activations",
  'exact counts': 'where counts pass 2^53 - 1 and would no longer be exact',
};

function valueText(along: ScalingDirection, v: number): string {
  const short = Number(v.toPrecision(6));
  return along === 'resolution' ? `${v.toLocaleString('en-US')} px` : along === 'compound' ? `phi ${short}` : `${along} ${short}`;
}

interface Evaluator {
  start: number;
  at: (v: number) => Evaluation;
  /** at(v), or the SizeLimitError that refuses the network at v. */
  probe: (v: number) => Evaluation | SizeLimitError;
}

function evaluator(along: ScalingDirection, base: SolverBase): Evaluator {
  const { depth: d0 = 1, width: w0 = 1, resolution: r0 = 224, coefficients = PAPER_COEFFICIENTS, ...netOpts } = base;
  if (along === 'compound') {
    for (const k of ['alpha', 'beta', 'gamma'] as const) checkCoefficient(k, coefficients[k]);
    if (coefficients.alpha === 1 && coefficients.beta === 1 && coefficients.gamma === 1) {
      throw new SpecError('compound scaling with alpha, beta and gamma all 1 does not change the network; give at least one coefficient above 1');
    }
  }
  const { name: _n, ...opts } = netOpts;
  const at = (v: number): Evaluation => {
    const sel =
      along === 'depth' ? { depth: v, width: w0, resolution: r0 }
      : along === 'width' ? { depth: d0, width: v, resolution: r0 }
      : along === 'resolution' ? { depth: d0, width: w0, resolution: Math.round(v) }
      : {
          depth: d0 * coefficients.alpha ** v,
          width: w0 * coefficients.beta ** v,
          resolution: Math.round(r0 * coefficients.gamma ** v),
        };
    const c = countTotals({ ...opts, selector: { kind: 'multipliers', ...sel } });
    return { value: along === 'resolution' ? Math.round(v) : v, macs: c.macs, depth: sel.depth, width: sel.width, resolution: sel.resolution, name: c.name };
  };
  const probe = (v: number): Evaluation | SizeLimitError => {
    try {
      return at(v);
    } catch (e) {
      if (e instanceof SizeLimitError) return e;
      throw e;
    }
  };
  const start = along === 'resolution' ? r0 : along === 'compound' ? 0 : along === 'depth' ? d0 : w0;
  return { start, at, probe };
}

const closeEnough = (along: ScalingDirection, lo: number, hi: number): boolean =>
  along === 'resolution' ? hi - lo <= 1 : hi - lo <= 1e-9 * Math.max(1, hi);

/** Bisect between a network within the size limits (lo) and a value past them (hi) for the last one within. */
function lastWithinLimits(along: ScalingDirection, probe: Evaluator['probe'], lo: Evaluation, hi: number): Evaluation {
  let best = lo;
  let b = hi;
  while (!closeEnough(along, best.value, b)) {
    const mid = along === 'resolution' ? Math.floor((best.value + b) / 2) : (best.value + b) / 2;
    const m = probe(mid);
    if (m instanceof SizeLimitError) b = mid;
    else best = m;
  }
  return best;
}

/**
 * The range of MACs scaling along one direction reaches: doubling the coefficient (phi for compound) until the network
 * passes a size limit (MAX_BLOCKS, one image's activations, exact counts), then bisecting for the last network
 * within them. Analytic counts only: a few milliseconds.
 */
export function reachableMacs(along: ScalingDirection, base: SolverBase = {}): MacsRange {
  const { start, at, probe } = evaluator(along, base);
  const baseEval = at(start);
  let lo = baseEval;
  let hi = along === 'compound' ? 1 : start * 2;
  let hiEval = probe(hi);
  while (!(hiEval instanceof SizeLimitError)) {
    lo = hiEval;
    if (!Number.isFinite(hi * 2)) return { along, base: baseEval, top: lo, limit: null };
    hi *= 2;
    hiEval = probe(hi);
  }
  return { along, base: baseEval, top: lastWithinLimits(along, probe, lo, hi), limit: hiEval.limit };
}

function outOfReach(range: MacsRange, targetMacs: number): TargetOutOfReachError {
  const reach = `at most ${approx(range.top.macs)} MACs: ${valueText(range.along, range.top.value)}, ` +
    (range.limit ? LIMIT_TEXT[range.limit] : 'as far as it grows');
  return new TargetOutOfReachError(
    range,
    reach,
    `target ${approx(targetMacs)} MACs is out of reach along ${range.along}: from the base network's ${approx(range.base.macs)} MACs ` +
      `it reaches ${reach}; choose a smaller target or another direction.`,
  );
}

/**
 * Find the coefficient along one direction whose REALIZED MACs (after rounding) is closest to a target, starting
 * from a base network. MACs are step functions of each coefficient, so we bisect for the first step at or above the
 * target and compare it with the step just below. A target beyond what the size limits let the direction reach is
 * refused with a TargetOutOfReachError naming the reachable range.
 */
export function solveForMacs(along: ScalingDirection, targetMacs: number, base: SolverBase = {}): MacsSolution {
  if (!Number.isFinite(targetMacs) || targetMacs <= 0) throw new SpecError(`target MACs '${targetMacs}' must be a number > 0`);
  const { start, at, probe } = evaluator(along, base);
  const baseEval = at(start);
  if (baseEval.macs >= targetMacs) {
    throw new SpecError(`target ${targetMacs} MACs is not above the base network's ${baseEval.macs} MACs; nothing to scale`);
  }
  // Bracket the target: phi steps of 1 for compound (then doubling), doubling otherwise, up to the size limits.
  const step = (v: number) => (along === 'compound' && v < 64 ? v + 1 : v * 2);
  let loEval = baseEval;
  let hi = along === 'compound' ? 1 : step(start);
  let probed = probe(hi);
  while (!(probed instanceof SizeLimitError) && probed.macs < targetMacs) {
    loEval = probed;
    if (!Number.isFinite(step(hi))) throw outOfReach({ along, base: baseEval, top: probed, limit: null }, targetMacs);
    hi = step(hi);
    probed = probe(hi);
  }
  let hiEval: Evaluation;
  if (probed instanceof SizeLimitError) {
    const top = lastWithinLimits(along, probe, loEval, hi);
    if (top.macs < targetMacs) throw outOfReach({ along, base: baseEval, top, limit: probed.limit }, targetMacs);
    hiEval = top;
  } else {
    hiEval = probed;
  }
  hi = hiEval.value;
  let lo = loEval.value;
  while (!closeEnough(along, lo, hi)) {
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
