/**
 * The grid of step 1 (pure, no training): ranges of alpha, beta, gamma in exact decimal arithmetic, a constraint
 * (a sandboxed mathjs expression, also over the realized costs of the scaled proxy from flops), extra conditions,
 * named points, a solved coefficient; each point's scaled network, exact costs and architecture signature.
 */
import { createHash } from 'node:crypto';
import { ConfigError, outlineArchitecture, scaleSpec, type NetworkSpec } from '@effscale/core';
import { countTotals } from '@effscale/flops';
import { compileExpression, ExprError, power, Rat, sqrt, type Compiled, type Scope } from './decimal.js';
import type { GridPoint, PointCosts } from './types.js';

export type Coefficient = 'alpha' | 'beta' | 'gamma';
export const COEFFICIENTS: readonly Coefficient[] = Object.freeze(['alpha', 'beta', 'gamma'] as const);
export const DEFAULT_CONSTRAINT = 'alpha * beta^2 * gamma^2';
export const DEFAULT_TARGET = 2;
export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_PHI = 1;
/** NNI's public EfficientNet example grid (alpha 1.0..2.0, beta and gamma 1.0..1.5, step 0.1): the CLI's default. */
export const DEFAULT_RANGES = Object.freeze({ alpha: '1:2:0.1', beta: '1:1.5:0.1', gamma: '1:1.5:0.1' });
/** Realized costs of the scaled proxy (flops): absolute, and as ratios over the unscaled base. */
export const COST_VARIABLES = Object.freeze(['macsRatio', 'paramsRatio', 'activationsRatio', 'macs', 'params', 'activations'] as const);
/** Every name a constraint or condition may use. */
export const GRID_VARIABLES: readonly string[] = Object.freeze([...COEFFICIENTS, 'phi', ...COST_VARIABLES]);
export const MAX_RANGE_VALUES = 10_000;
export const MAX_GRID_CANDIDATES = 100_000;
/** Decimals of a solved coefficient in its point id. */
const SOLVED_ID_PLACES = 6;

export interface GridOptions {
  /** '1:2:0.1' (start:stop:step, inclusive), '1.1,1.2' (list) or '1.2'; plain decimals >= 1. Leave out the solved one. */
  alpha?: string;
  beta?: string;
  gamma?: string;
  /** A mathjs expression over GRID_VARIABLES; default 'alpha * beta^2 * gamma^2'. */
  constraint?: string;
  /** Default 2. */
  target?: number;
  /** Keep |value - target| < tolerance, strictly; default 0.1. */
  tolerance?: number;
  /** The coefficient that makes the constraint exactly the target (its range must be absent). */
  solve?: Coefficient;
  /** 'A,B,G' points added as they are (not checked against the tolerance, but against `where`). */
  include?: string[];
  /** Extra conditions that every point must meet, e.g. 'activationsRatio <= 2.2'. */
  where?: string[];
  /** Default 1. */
  phi?: number;
  /** The proxy base the points scale (any network the trainer accepts). */
  base: NetworkSpec;
}

export interface Grid {
  /** In grid order: ascending alpha, then beta, then gamma (whatever the order of flags or list values). */
  points: GridPoint[];
  /** Points of the ranges that failed the tolerance, a condition, or the solve (included points are never counted). */
  rejected: number;
  /** The range point whose constraint value is closest to the target (the first such in grid order). */
  closest?: { point: { alpha: number; beta: number; gamma: number }; value: number };
  /** The canonical grid description: the same grid gives a deep-equal object, in any flag order or spelling. */
  canonical: Record<string, unknown>;
  /** sha256 (hex) of the canonical description's JSON. */
  fingerprint: string;
}

type Coeffs = Record<Coefficient, Rat>;

const cfg = (msg: string, setting?: string): ConfigError => new ConfigError(msg, setting !== undefined ? { setting } : {});
const pointText = (c: Partial<Coeffs>): string =>
  COEFFICIENTS.filter((k) => c[k] !== undefined).map((k) => `${k} ${c[k]!.toDecimal(SOLVED_ID_PLACES + 2)}`).join(', ');

// ---- Values -------------------------------------------------------------------------------------------------------

function decimal(flag: string, whole: string, text: string): Rat {
  const r = Rat.parse(text);
  if (r === undefined) {
    throw cfg(`${flag} '${whole}': '${text}' is not a plain decimal number (grid values are decimals such as 1.15, so the grid is exact; no expressions)`);
  }
  return r;
}

function atLeastOne(flag: string, whole: string, v: Rat): Rat {
  if (v.lt(Rat.ONE)) throw cfg(`${flag} '${whole}': ${v.toDecimal()} is below 1 (every coefficient must be >= 1: compound scaling grows the network)`);
  return v;
}

/** '1:2:0.1', '1.1,1.2' or '1.2' as exact values, sorted and distinct. */
export function parseRange(flag: string, text: string): Rat[] {
  const t = text.trim();
  const allowed = "give start:stop:step such as 1:2:0.1, a list such as 1.1,1.2, or one value";
  if (t === '') throw cfg(`${flag} is empty (${allowed})`);
  let values: Rat[];
  if (t.includes(':')) {
    const parts = t.split(':').map((p) => p.trim());
    if (parts.length > 3) throw cfg(`${flag} '${text}' has ${parts.length} parts (${allowed})`);
    const [start, stop, step = Rat.ONE] = parts.map((p) => decimal(flag, text, p));
    if (step.sign() <= 0) throw cfg(`${flag} '${text}': the step ${step.toDecimal()} must be > 0`);
    if (stop.lt(start)) throw cfg(`${flag} '${text}' is empty: the stop ${stop.toDecimal()} is below the start ${start.toDecimal()}`);
    const q = stop.sub(start).div(step);
    if (!q.isInteger()) {
      const k = q.floor();
      const below = start.add(step.mul(k));
      const above = below.add(step);
      throw cfg(
        `${flag} '${text}': the step ${step.toDecimal()} does not divide the range ${start.toDecimal()}..${stop.toDecimal()} ` +
          `(${start.toDecimal()} + ${k.toDecimal()} x ${step.toDecimal()} = ${below.toDecimal()}, the next is ${above.toDecimal()}): ` +
          `give a stop of ${below.toDecimal()} or ${above.toDecimal()}, or a step that divides ${stop.sub(start).toDecimal()}`,
      );
    }
    if (q.n + 1n > BigInt(MAX_RANGE_VALUES)) throw cfg(`${flag} '${text}' has ${(q.n + 1n).toString()} values; at most ${MAX_RANGE_VALUES} are allowed`);
    values = Array.from({ length: Number(q.n) + 1 }, (_, i) => start.add(step.mul(Rat.of(i))));
  } else {
    const items = t.split(',').map((p) => p.trim());
    if (items.some((p) => p === '')) throw cfg(`${flag} '${text}' has an empty item (${allowed})`);
    if (items.length > MAX_RANGE_VALUES) throw cfg(`${flag} '${text}' has ${items.length} values; at most ${MAX_RANGE_VALUES} are allowed`);
    values = items.map((p) => decimal(flag, text, p));
  }
  for (const v of values) atLeastOne(flag, text, v);
  return distinctSorted(values);
}

function distinctSorted(values: Rat[]): Rat[] {
  const sorted = [...values].sort((a, b) => a.cmp(b));
  return sorted.filter((v, i) => i === 0 || !v.eq(sorted[i - 1]));
}

function parseInclude(text: string): Coeffs {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw cfg(`--include '${text}' must be three values alpha,beta,gamma (e.g. the paper's 1.2,1.1,1.15)`);
  }
  const [alpha, beta, gamma] = parts.map((p) => atLeastOne('--include', text, decimal('--include', text, p)));
  return { alpha, beta, gamma };
}

function finiteOption(name: string, v: number | undefined, fallback: number, ok: (x: number) => boolean, rule: string): Rat {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw cfg(`--${name} '${x}' must be ${rule}`, name);
  return Rat.fromNumber(x);
}

/** Canonical decimal of a coefficient in ids and descriptions (a solved value: rounded to SOLVED_ID_PLACES). */
const idValue = (v: Rat, solved: boolean): string => (solved ? v.toDecimal(SOLVED_ID_PLACES) : v.toDecimal());

export function pointId(c: Coeffs, solved?: Coefficient): string {
  return `a${idValue(c.alpha, solved === 'alpha')}-b${idValue(c.beta, solved === 'beta')}-g${idValue(c.gamma, solved === 'gamma')}`;
}

// ---- Networks -----------------------------------------------------------------------------------------------------

interface Scaler {
  network(c: Coeffs): NetworkSpec;
  costs(network: NetworkSpec): { params: Rat; macs: Rat; activations: Rat };
  base: { params: Rat; macs: Rat; activations: Rat };
}

/**
 * The base resolved to multipliers (a preset or compound base too), scaled by alpha^phi, beta^phi, gamma^phi: depth and
 * width are the nearest doubles of the exact products, the resolution the exact product rounded half up to pixels
 * (as compound scaling rounds it). Costs are memoized per network.
 */
function scaler(base: NetworkSpec, phi: Rat): Scaler {
  const resolved = scaleSpec(base);
  const d0 = Rat.fromNumber(resolved.depth);
  const w0 = Rat.fromNumber(resolved.width);
  const r0 = Rat.of(resolved.resolution);
  const { selector: _s, resolution: _r, name: _n, ...rest } = base;
  // A preset carries its own dropout; the multipliers selector would fall back to the default.
  const keep = base.selector.kind === 'preset' && base.dropout === undefined ? { dropout: resolved.dropout } : {};
  const network = (c: Coeffs): NetworkSpec => ({
    ...rest,
    ...keep,
    selector: {
      kind: 'multipliers',
      depth: d0.mul(power(c.alpha, phi)).toNumber(),
      width: w0.mul(power(c.beta, phi)).toNumber(),
      resolution: Number(r0.mul(power(c.gamma, phi)).round().n),
    },
  });
  const memo = new Map<string, { params: Rat; macs: Rat; activations: Rat }>();
  const costs = (n: NetworkSpec) => {
    const sel = n.selector as { depth: number; width: number; resolution: number };
    const key = `${sel.depth}|${sel.width}|${sel.resolution}`;
    let c = memo.get(key);
    if (!c) {
      const t = countTotals(n);
      c = { params: Rat.of(t.params), macs: Rat.of(t.macs), activations: Rat.of(t.activationElements) };
      memo.set(key, c);
    }
    return c;
  };
  const one = { alpha: Rat.ONE, beta: Rat.ONE, gamma: Rat.ONE };
  return { network, costs, base: costs(network(one)) };
}

/**
 * What makes two networks the same training: the resolved architecture's resolution, input channels, classes, stem
 * and head channels, each stage's repeats, kernel, stride, expansion, channels, SE ratio and skip, and the regularizers
 * carried by the spec. Equal signatures build identical models.
 */
export function architectureSignature(network: NetworkSpec): string {
  const o = outlineArchitecture(network);
  const stages = o.blockArgs.map(
    (b) => `${b.repeats}x k${b.kernel} s${b.stride} e${b.expandRatio} ${b.inputFilters}>${b.outputFilters} se${b.seRatio}${b.idSkip ? '' : ' noskip'}`,
  );
  return `res ${o.resolution}, in ${o.inputChannels}, classes ${o.classes}, stem ${o.stemChannels}, head ${o.headChannels}, ` +
    `dropout ${o.dropout}, drop-connect ${o.dropConnectRate}, bn ${o.bnMomentum} | ${stages.join(', ')}`;
}

// ---- The grid -----------------------------------------------------------------------------------------------------

export async function buildGrid(opts: GridOptions): Promise<Grid> {
  const solve = opts.solve;
  if (solve !== undefined && !COEFFICIENTS.includes(solve)) {
    throw cfg(`--solve '${String(solve)}' is not a coefficient (allowed: ${COEFFICIENTS.join(', ')})`, 'solve');
  }
  if (opts.base === undefined || opts.base === null || typeof opts.base !== 'object') throw cfg('the grid needs a base network to scale', 'base');
  const phi = finiteOption('phi', opts.phi, DEFAULT_PHI, (x) => x > 0, 'a number > 0');
  const target = finiteOption('target', opts.target, DEFAULT_TARGET, () => true, 'a finite number');
  const tolerance = finiteOption('tolerance', opts.tolerance, DEFAULT_TOLERANCE, (x) => x > 0, 'a number > 0');

  const ranges: Partial<Record<Coefficient, Rat[]>> = {};
  for (const c of COEFFICIENTS) {
    const text = opts[c];
    if (c === solve) {
      if (text !== undefined && text.trim() !== '') throw cfg(`--solve ${c} conflicts with --${c} '${text}': leave --${c} out, the solve sets it`, c);
      continue;
    }
    if (text === undefined) throw cfg(`--${c} is needed: a range 1:2:0.1, a list 1.1,1.2 or one value${solve ? '' : ` (or --solve ${c})`}`, c);
    ranges[c] = parseRange(`--${c}`, text);
  }
  const free = COEFFICIENTS.filter((c) => c !== solve);
  const candidates = free.reduce((n, c) => n * ranges[c]!.length, 1);
  if (candidates > MAX_GRID_CANDIDATES) {
    throw cfg(`the ranges make ${candidates.toLocaleString('en-US')} points (${free.map((c) => `${ranges[c]!.length} ${c}`).join(' x ')}); at most ${MAX_GRID_CANDIDATES.toLocaleString('en-US')} are allowed: use coarser steps`);
  }

  const constraint = await compileExpression('--constraint', opts.constraint ?? DEFAULT_CONSTRAINT, GRID_VARIABLES, 'number');
  const where = await Promise.all((opts.where ?? []).map((w) => compileExpression('--where', w, GRID_VARIABLES, 'boolean')));
  const usesCosts = (e: Compiled) => COST_VARIABLES.some((v) => e.names.has(v));
  if (solve !== undefined) {
    if (usesCosts(constraint)) {
      throw cfg(`--solve ${solve} needs a constraint over alpha, beta, gamma and phi only; '${constraint.source}' uses realized costs, which step with rounding (use a tolerance instead)`, 'solve');
    }
    if (!constraint.names.has(solve)) throw cfg(`--solve ${solve}: the constraint '${constraint.source}' does not use ${solve}`, 'solve');
  }
  const includes = (opts.include ?? []).map(parseInclude);

  const scale = scaler(opts.base, phi);
  const scopeOf = (c: Coeffs, withCosts: boolean): Scope => {
    const s: Record<string, Rat> = { ...c, phi };
    if (withCosts) {
      const k = scale.costs(scale.network(c));
      Object.assign(s, {
        macs: k.macs, params: k.params, activations: k.activations,
        macsRatio: k.macs.div(scale.base.macs), paramsRatio: k.params.div(scale.base.params), activationsRatio: k.activations.div(scale.base.activations),
      });
    }
    return s;
  };
  const evalAt = (e: Compiled, c: Coeffs, what = e.type === 'number' ? '--constraint' : '--where') => {
    try {
      return e.evaluate(scopeOf(c, usesCosts(e)));
    } catch (err) {
      if (err instanceof ExprError) throw cfg(`${what} '${e.source}' at ${pointText(c)}: ${err.message}`);
      throw err;
    }
  };
  const valueAt = (c: Coeffs) => evalAt(constraint, c) as Rat;
  const failedWhere = (c: Coeffs) => where.find((w) => evalAt(w, c) !== true);

  // Candidates in grid order.
  interface Kept { c: Coeffs; value: Rat; included: boolean }
  const kept: Kept[] = [];
  let rejected = 0;
  let withinTolerance = 0;
  let closest: { c: Coeffs; value: Rat; dist: Rat } | undefined;
  let bestUnsolved: { c: Partial<Coeffs>; value?: Rat } | undefined;
  const [A, B, C] = free.map((c) => ranges[c]!);
  const visit = (partial: Partial<Coeffs>) => {
    let c: Coeffs;
    if (solve !== undefined) {
      const r = solveFor(solve, partial, valueAt, target);
      if (!('value' in r)) {
        rejected++;
        if (!bestUnsolved || (r.below !== undefined && (bestUnsolved.value === undefined || bestUnsolved.value.lt(r.below)))) {
          bestUnsolved = { c: partial, value: r.below };
        }
        return;
      }
      c = { ...partial, [solve]: r.value } as Coeffs;
    } else {
      c = partial as Coeffs;
    }
    const value = valueAt(c);
    const dist = value.sub(target).abs();
    if (!closest || dist.lt(closest.dist)) closest = { c, value, dist };
    if (solve === undefined && !dist.lt(tolerance)) {
      rejected++;
      return;
    }
    withinTolerance++;
    if (failedWhere(c)) {
      rejected++;
      return;
    }
    kept.push({ c, value, included: false });
  };
  for (const a of A) for (const b of B) for (const g of C ?? [undefined]) {
    const p: Partial<Coeffs> = {};
    [p[free[0]], p[free[1]]] = [a, b];
    if (free[2] !== undefined) p[free[2]] = g;
    visit(p);
  }

  if (kept.length === 0) {
    const expr = `'${constraint.source}'`;
    if (solve !== undefined && withinTolerance === 0) {
      const at = bestUnsolved ? pointText(bestUnsolved.c) : '';
      throw cfg(
        `--solve ${solve}: no ${solve} >= 1 makes ${expr} equal ${target.toDecimal()} at any point of the grid` +
          (bestUnsolved?.value !== undefined ? ` (the largest solution is ${solve} ${bestUnsolved.value.toDecimal(6)}, at ${at})` : ` (none at all, e.g. at ${at})`),
        'solve',
      );
    }
    if (withinTolerance === 0) {
      const cl = closest!;
      throw cfg(
        `no point of the grid has |${constraint.source} - ${target.toDecimal()}| < ${tolerance.toDecimal()}: the closest value is ` +
          `${cl.value.toDecimal(8)} at ${pointText(cl.c)} (${cl.dist.toDecimal(8)} from the target); widen --tolerance or the ranges`,
      );
    }
    throw cfg(`--where ${where.map((w) => `'${w.source}'`).join(' and ')} rejects all ${withinTolerance} point(s) that meet the constraint`);
  }

  // Included points: as given, checked against the conditions only.
  for (const [i, c] of includes.entries()) {
    const failed = failedWhere(c);
    if (failed) throw cfg(`--include '${(opts.include ?? [])[i]}' fails --where '${failed.source}'`);
    const id = pointId(c);
    const same = kept.find((k) => pointId(k.c, solve) === id);
    if (same) same.included = true;
    else kept.push({ c, value: valueAt(c), included: true });
  }
  kept.sort((x, y) => x.c.alpha.cmp(y.c.alpha) || x.c.beta.cmp(y.c.beta) || x.c.gamma.cmp(y.c.gamma));

  const points = kept.map(({ c, value, included }): GridPoint => {
    const network = scale.network(c);
    const k = scale.costs(network);
    const costs: PointCosts = {
      params: k.params.toNumber(), macs: k.macs.toNumber(), activations: k.activations.toNumber(),
      paramsRatio: k.params.div(scale.base.params).toNumber(),
      macsRatio: k.macs.div(scale.base.macs).toNumber(),
      activationsRatio: k.activations.div(scale.base.activations).toNumber(),
    };
    return {
      id: pointId(c, included ? undefined : solve),
      alpha: c.alpha.toNumber(), beta: c.beta.toNumber(), gamma: c.gamma.toNumber(),
      constraintValue: value.toNumber(),
      network, signature: architectureSignature(network), costs, included,
    };
  });

  const canonical: Record<string, unknown> = {
    version: 1,
    ...Object.fromEntries(COEFFICIENTS.map((c) => [c, c === solve ? 'solved' : ranges[c]!.map((v) => v.toDecimal())])),
    constraint: constraint.canonical,
    target: target.toDecimal(),
    tolerance: solve === undefined ? tolerance.toDecimal() : null,
    solve: solve ?? null,
    include: includes
      .sort((x, y) => x.alpha.cmp(y.alpha) || x.beta.cmp(y.beta) || x.gamma.cmp(y.gamma))
      .map((c) => COEFFICIENTS.map((k) => c[k].toDecimal()).join(','))
      .filter((s, i, all) => all.indexOf(s) === i),
    where: [...new Set(where.map((w) => w.canonical))].sort(),
    phi: phi.toDecimal(),
    base: sortKeys(opts.base),
  };
  const cl = closest!;
  return {
    points,
    rejected,
    closest: { point: { alpha: cl.c.alpha.toNumber(), beta: cl.c.beta.toNumber(), gamma: cl.c.gamma.toNumber() }, value: cl.value.toNumber() },
    canonical,
    fingerprint: createHash('sha256').update(JSON.stringify(canonical)).digest('hex'),
  };
}

/** JSON-ready copy with object keys sorted (arrays keep their order; undefined dropped). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

// ---- Solving for one coefficient ------------------------------------------------------------------------------------

const TWO = Rat.of(2n);
const BRACKET_DOUBLINGS = 40;
/** Bisection stops when the bracket is narrower than 2^-BISECT_BITS (about 66 significant digits). */
const BISECT_BITS = 220;

/**
 * The value >= 1 of `solve` that makes the constraint equal the target. When the constraint is K * x^k in the solved
 * coefficient x (an integer k; checked exactly at x = 1, 2, 3), x = (target / K)^(1/k), exact where that is rational
 * (k = 1, or a square for k = 2), else at 64 digits, then verified. Otherwise bracketing and bisection on exact
 * rationals, snapped to the shortest decimal within 20 places that is exactly a root. `below`: the root is below 1.
 */
function solveFor(solve: Coefficient, partial: Partial<Coeffs>, valueAt: (c: Coeffs) => Rat, target: Rat): { value: Rat } | { below?: Rat } {
  const at = (x: Rat) => valueAt({ ...partial, [solve]: x } as Coeffs);
  const done = (x: Rat) => (x.lt(Rat.ONE) ? { below: x } : { value: x });
  const closed = monomialRoot(at, target);
  if (closed !== undefined) return closed === null ? {} : done(closed);

  const f = (x: Rat) => at(x).sub(target).sign();
  const f1 = f(Rat.ONE);
  if (f1 === 0) return { value: Rat.ONE };
  const bracket = (from: Rat, factor: Rat): [Rat, Rat] | undefined => {
    let lo = from;
    for (let i = 0; i < BRACKET_DOUBLINGS; i++) {
      const hi = lo.mul(factor);
      const s = f(hi);
      if (s === 0) return [hi, hi];
      if (s !== f1) return [lo, hi];
      lo = hi;
    }
    return undefined;
  };
  const up = bracket(Rat.ONE, TWO);
  const br = up ?? bracket(Rat.ONE, Rat.of(1n, 2n));
  if (!br) return {};
  let [lo, hi] = up ? br : [br[1], br[0]];
  if (lo.eq(hi)) return done(lo);
  const sLo = f(lo);
  const eps = Rat.of(1n, 1n << BigInt(BISECT_BITS));
  while (eps.lt(hi.sub(lo))) {
    const mid = lo.add(hi).div(TWO);
    const s = f(mid);
    if (s === 0) return done(mid);
    if (s === sLo) lo = mid;
    else hi = mid;
  }
  for (let places = 1; places <= 20; places++) {
    const r = lo.roundTo(places);
    if (f(r) === 0) return done(r);
  }
  return done(lo);
}

/** The root of K * x^k = target when f has that form (undefined: it does not; null: no real root). */
function monomialRoot(at: (x: Rat) => Rat, target: Rat): Rat | null | undefined {
  const v1 = at(Rat.ONE);
  const v2 = at(TWO);
  if (v1.sign() === 0 || v2.sign() === 0) return undefined;
  const ratio = v2.div(v1);
  const log2 = (x: bigint) => (x > 0n && (x & (x - 1n)) === 0n ? x.toString(2).length - 1 : undefined);
  const e = ratio.d === 1n ? log2(ratio.n) : ratio.n === 1n ? log2(ratio.d) : undefined;
  if (e === undefined || e === 0 || e > 64) return undefined;
  const k = ratio.d === 1n ? e : -e;
  if (!at(Rat.of(3n)).eq(v1.mul(Rat.of(3n).powInt(BigInt(k))))) return undefined;
  const q = target.div(v1);
  if (q.sign() <= 0 && k % 2 === 0) return null;
  if (q.sign() <= 0) return undefined; // odd powers of negative roots: leave it to the bisection
  const x = k === 1 ? q : k === -1 ? Rat.ONE.div(q) : k === 2 ? sqrt(q) : k === -2 ? sqrt(Rat.ONE.div(q)) : power(q, Rat.of(1n, BigInt(k)));
  // Verify (the form was checked at three points only).
  const err = at(x).sub(target).abs();
  return err.lt(target.abs().mul(Rat.of(1n, 10n ** 50n))) || err.sign() === 0 ? x : undefined;
}

// ---- Text ---------------------------------------------------------------------------------------------------------

const short = (x: number): string => String(Number(x.toPrecision(7)));
const grouped = (x: number): string => x.toLocaleString('en-US');

/** Plain-text table: numbers right-aligned, text left-aligned, a rule under the header. */
function textTable(headers: string[], rows: string[][], numeric: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `--dry-run`: the points as a table (`json`: the points array) with the networks they share. */
export function formatGrid(grid: Grid, format: 'table' | 'json' = 'table'): string {
  if (format === 'json') return JSON.stringify(grid.points, null, 2);
  const bySignature = new Map<string, string[]>();
  for (const p of grid.points) bySignature.set(p.signature, [...(bySignature.get(p.signature) ?? []), p.id]);
  const rows = grid.points.map((p) => [
    p.id + (p.included ? ' *' : ''), short(p.alpha), short(p.beta), short(p.gamma), short(p.constraintValue),
    grouped(p.costs.params), grouped(p.costs.macs), p.costs.macsRatio.toFixed(4), p.costs.activationsRatio.toFixed(4),
    bySignature.get(p.signature)!.filter((id) => id !== p.id).join(' '),
  ]);
  const c = grid.canonical;
  const shared = grid.points.length - bySignature.size;
  return [
    textTable(
      ['id', 'alpha', 'beta', 'gamma', 'constraint', 'params', 'MACs', 'macsRatio', 'activationsRatio', 'shared with'],
      rows, [false, true, true, true, true, true, true, true, true, false],
    ),
    '',
    `${grid.points.length} points, ${bySignature.size} distinct networks` +
      (shared > 0 ? ` (${shared} point(s) train a network another point already trains)` : '') +
      `; ${grid.rejected} rejected` + (grid.points.some((p) => p.included) ? '; * = added by --include' : ''),
    `constraint ${String(c.constraint)}` +
      (c.solve !== null ? ` = ${String(c.target)} (${String(c.solve)} solved)` : `, |value - ${String(c.target)}| < ${String(c.tolerance)}`) +
      ((c.where as string[]).length > 0 ? `; where ${(c.where as string[]).join(' and ')}` : '') + `; phi ${String(c.phi)}`,
    `ratios are over the unscaled base; fingerprint ${grid.fingerprint.slice(0, 16)}`,
  ].join('\n');
}

// ---- A fixed set of networks --------------------------------------------------------------------------------------

export interface PointSetMember {
  /** Stable, readable id (`width-1.4`, `equal-cost:depth`): the point's id in the study. */
  id: string;
  /** Multipliers over the base: depth and width coefficients, resolution as a factor of the base's side. */
  depth: number;
  width: number;
  resolution: number;
}

/**
 * An experiment's networks as study points: each member's multipliers are its alpha, beta, gamma at phi 1, scaled
 * from the base as a grid point is (same rounding, same costs, same signatures), so a fixed set of networks runs
 * through the same journal, trials and workers as a search. `describe`: what else defines the set (stored in the
 * canonical description, so a changed definition is refused like a changed grid).
 */
export function buildPointSet(opts: { members: PointSetMember[]; base: NetworkSpec; describe?: Record<string, unknown> }): Grid {
  if (opts.members.length === 0) throw cfg('the set has no networks');
  const ids = new Set<string>();
  const scale = scaler(opts.base, Rat.ONE);
  const points = opts.members.map((m): GridPoint => {
    if (ids.has(m.id)) throw cfg(`network '${m.id}' is named twice`);
    ids.add(m.id);
    for (const k of ['depth', 'width', 'resolution'] as const) {
      if (!Number.isFinite(m[k]) || m[k] < 1) throw cfg(`network '${m.id}': ${k} multiplier ${m[k]} must be a number >= 1 (the base is 1)`);
    }
    const c: Coeffs = { alpha: Rat.fromNumber(m.depth), beta: Rat.fromNumber(m.width), gamma: Rat.fromNumber(m.resolution) };
    const network = scale.network(c);
    const k = scale.costs(network);
    return {
      id: m.id, alpha: m.depth, beta: m.width, gamma: m.resolution,
      constraintValue: c.alpha.mul(c.beta).mul(c.beta).mul(c.gamma).mul(c.gamma).toNumber(),
      network, signature: architectureSignature(network),
      costs: {
        params: k.params.toNumber(), macs: k.macs.toNumber(), activations: k.activations.toNumber(),
        paramsRatio: k.params.div(scale.base.params).toNumber(), macsRatio: k.macs.div(scale.base.macs).toNumber(),
        activationsRatio: k.activations.div(scale.base.activations).toNumber(),
      },
      included: true,
    };
  });
  const canonical: Record<string, unknown> = {
    version: 1, kind: 'point-set',
    members: opts.members.map((m) => ({ id: m.id, depth: m.depth, width: m.width, resolution: m.resolution })),
    ...(opts.describe ? { describe: sortKeys(opts.describe) } : {}),
    phi: '1',
    base: sortKeys(opts.base),
  };
  return { points, rejected: 0, canonical, fingerprint: createHash('sha256').update(JSON.stringify(canonical)).digest('hex') };
}
