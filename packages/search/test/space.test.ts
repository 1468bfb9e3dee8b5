import { describe, expect, it } from 'vitest';
import { ConfigError, type NetworkSpec } from '@effscale/core';
import { countTotals, solveConstraint } from '@effscale/flops';
import { buildGrid, formatGrid, type GridOptions } from '../src/index.js';

/** The documented default proxy: B0 at depth 0.5, width 0.5, 32 px, 1 channel, 10 classes. */
const BASE: NetworkSpec = { selector: { kind: 'multipliers', depth: 0.5, width: 0.5, resolution: 32 }, inputChannels: 1, classes: 10 };
const NNI: GridOptions = { alpha: '1:2:0.1', beta: '1:1.5:0.1', gamma: '1:1.5:0.1', base: BASE };

/** NNI's example grid by hand: alpha 1.0..2.0, beta and gamma 1.0..1.5, step 0.1, |alpha * beta^2 * gamma^2 - 2| < 0.1. */
const NNI_POINTS = [
  'a1-b1-g1.4', 'a1-b1.1-g1.3', 'a1-b1.2-g1.2', 'a1-b1.3-g1.1', 'a1-b1.4-g1',
  'a1.1-b1.1-g1.2', 'a1.1-b1.2-g1.1',
  'a1.2-b1-g1.3', 'a1.2-b1.1-g1.2', 'a1.2-b1.2-g1.1', 'a1.2-b1.3-g1',
  'a1.3-b1.1-g1.1',
  'a1.4-b1-g1.2', 'a1.4-b1.1-g1.1', 'a1.4-b1.2-g1',
  'a1.6-b1-g1.1', 'a1.6-b1.1-g1',
  'a1.7-b1-g1.1', 'a1.7-b1.1-g1',
  'a2-b1-g1',
];

/** The same grid by an independent exact method: integers x10, so the product is x10^5 and the tolerance 10^4. */
function nniByIntegers(): string[] {
  const s = (x: number) => String(x / 10);
  const out: string[] = [];
  for (let a = 10; a <= 20; a++) for (let b = 10; b <= 15; b++) for (let g = 10; g <= 15; g++) {
    if (Math.abs(a * b * b * g * g - 200_000) < 10_000) out.push(`a${s(a)}-b${s(b)}-g${s(g)}`);
  }
  return out;
}

async function refusal(opts: Partial<GridOptions>): Promise<string> {
  try {
    await buildGrid({ ...NNI, ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(opts)}`);
}

describe('the grid: NNI example', () => {
  it('gives exactly its 20 points, in grid order, with exact constraint values', async () => {
    const g = await buildGrid(NNI);
    expect(nniByIntegers()).toEqual(NNI_POINTS);
    expect(g.points.map((p) => p.id)).toEqual(NNI_POINTS);
    expect(g.rejected).toBe(11 * 6 * 6 - 20);
    const p = g.points.find((q) => q.id === 'a1.1-b1.1-g1.2')!;
    expect([p.alpha, p.beta, p.gamma, p.constraintValue, p.included]).toEqual([1.1, 1.1, 1.2, 1.91664, false]);
    expect(g.closest).toEqual({ point: { alpha: 2, beta: 1, gamma: 1 }, value: 2 });
    for (const q of g.points) expect(Math.abs(q.constraintValue - 2)).toBeLessThan(0.1);
  });

  it('(1.9, 1.0, 1.0) at exactly 0.1 from the target is out; so is 1.1 against 1.2, which float arithmetic would keep', async () => {
    const g = await buildGrid(NNI);
    expect(g.points.map((p) => p.id)).not.toContain('a1.9-b1-g1');
    expect(Math.abs(1.2 - 1.1) < 0.1).toBe(true); // what a float comparison would decide
    expect(await refusal({ alpha: '1.1', beta: '1', gamma: '1', target: 1.2 })).toMatch(
      /no point of the grid has \|alpha \* beta\^2 \* gamma\^2 - 1\.2\| < 0\.1: the closest value is 1\.1 at alpha 1\.1, beta 1, gamma 1 \(0\.1 from the target\)/,
    );
    const edge = await buildGrid({ ...NNI, alpha: '1.9,1.91', beta: '1', gamma: '1' });
    expect(edge.points.map((p) => p.id)).toEqual(['a1.91-b1-g1']);
  });

  it('scales the base by alpha, beta, gamma: the network each point trains, with exact costs over the base', async () => {
    const g = await buildGrid({ ...NNI, include: ['1.2,1.1,1.15'] });
    const paper = g.points.find((p) => p.id === 'a1.2-b1.1-g1.15')!;
    expect(paper.network).toEqual({ inputChannels: 1, classes: 10, selector: { kind: 'multipliers', depth: 0.6, width: 0.55, resolution: 37 } });
    const base = countTotals(BASE);
    const t = countTotals(paper.network);
    expect(paper.costs).toEqual({
      params: t.params, macs: t.macs, activations: t.activationElements,
      paramsRatio: t.params / base.params, macsRatio: t.macs / base.macs, activationsRatio: t.activationElements / base.activationElements,
    });
    // Resolution: 32 x 1.15 = 36.8 -> 37; 32 x 1.4 = 44.8 -> 45; a preset base resolves to its multipliers first.
    const b0 = await buildGrid({ alpha: '1.2', beta: '1.1', gamma: '1.15', tolerance: 1, base: { selector: { kind: 'preset', preset: 'b2' } } });
    expect(b0.points[0].network).toEqual({ dropout: 0.3, selector: { kind: 'multipliers', depth: 1.44, width: 1.21, resolution: 299 } });
  });
});

describe('the grid: ids and fingerprint', () => {
  it('the same grid in any order or spelling: the same ids, canonical description and fingerprint', async () => {
    const a = await buildGrid({ ...NNI, include: ['1.2,1.1,1.15', '1.3,1.2,1.1'], where: ['activationsRatio <= 3', 'params < 2e6'] });
    const b = await buildGrid({
      base: { classes: 10, inputChannels: 1, selector: { resolution: 32, width: 0.5, depth: 0.5, kind: 'multipliers' } },
      gamma: '1.0:1.50:0.10',
      beta: '1.5,1.4,1.3,1.2,1.10,1.0,1.1',
      alpha: '2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.10, 1',
      where: ['params<2000000', '(activationsRatio) <= 3.0'],
      include: ['1.30,1.2,1.100', '1.2,1.10,1.15'],
      constraint: 'alpha*beta^2*gamma^2',
      target: 2.0, tolerance: 0.1, phi: 1,
    });
    expect(b.points.map((p) => p.id)).toEqual(a.points.map((p) => p.id));
    expect(b.canonical).toEqual(a.canonical);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a.canonical).toMatchObject({ beta: ['1', '1.1', '1.2', '1.3', '1.4', '1.5'], include: ['1.2,1.1,1.15', '1.3,1.2,1.1'], where: ['activationsRatio <= 3', 'params < 2e+6'] });
  });

  it('a different grid, a different fingerprint', async () => {
    const a = await buildGrid(NNI);
    for (const change of [{ tolerance: 0.2 }, { phi: 2 }, { target: 2.1 }, { gamma: '1:1.4:0.1' }, { where: ['macsRatio < 4'] }, { include: ['1.2,1.1,1.15'] },
      { base: { ...BASE, classes: 100 } }]) {
      expect((await buildGrid({ ...NNI, ...change })).fingerprint, JSON.stringify(change)).not.toBe(a.fingerprint);
    }
  });
});

describe('the grid: include, solve, costs, where', () => {
  it('--include adds named points as they are, marked, checked against where only', async () => {
    const g = await buildGrid({ ...NNI, include: ['1.2,1.1,1.15', '1.5,1.5,1.5', '2,1,1'] });
    const byId = new Map(g.points.map((p) => [p.id, p]));
    expect(g.points).toHaveLength(22);
    expect(byId.get('a1.2-b1.1-g1.15')).toMatchObject({ included: true, constraintValue: 1.92027 });
    expect(byId.get('a1.5-b1.5-g1.5')).toMatchObject({ included: true, constraintValue: 7.59375 }); // far outside the tolerance
    expect(byId.get('a2-b1-g1')!.included).toBe(true); // on the grid too: one point
    expect(g.points.map((p) => p.id).indexOf('a1.2-b1.1-g1.15')).toBe(8); // in grid order
    expect(await refusal({ include: ['1.2,1.1'] })).toMatch(/--include '1\.2,1\.1' must be three values alpha,beta,gamma/);
    expect(await refusal({ include: ['1.2,0.9,1.15'] })).toMatch(/--include '1\.2,0\.9,1\.15': 0\.9 is below 1/);
    expect(await refusal({ include: ['1.5,1.5,1.5'], where: ['macsRatio < 5'] })).toMatch(/--include '1\.5,1\.5,1\.5' fails --where 'macsRatio < 5'/);
  });

  it('--solve gamma makes the constraint exactly the target', async () => {
    const g = await buildGrid({ alpha: '1.2,2', beta: '1,1.1', solve: 'gamma', base: BASE });
    expect(g.points.map((p) => p.id)).toEqual(['a1.2-b1-g1.290994', 'a1.2-b1.1-g1.173631', 'a2-b1-g1']);
    for (const p of g.points) {
      expect(p.constraintValue).toBe(2);
      expect(p.gamma).toBeCloseTo(solveConstraint('gamma', { alpha: p.alpha, beta: p.beta }).gamma, 14);
    }
    expect(g.points[2].gamma).toBe(1); // 2 x 1 x gamma^2 = 2: exactly 1
    expect(g.rejected).toBe(1); // alpha 2, beta 1.1 would need gamma < 1
    expect(g.canonical).toMatchObject({ gamma: 'solved', solve: 'gamma', tolerance: null });
    // alpha = 2 / (beta^2 gamma^2), exact: 2 / 1.25^2 = 1.28
    const a = await buildGrid({ beta: '1', gamma: '1,1.25', solve: 'alpha', base: BASE });
    expect(a.points.map((p) => [p.id, p.alpha, p.constraintValue])).toEqual([['a1.28-b1-g1.25', 1.28, 2], ['a2-b1-g1', 2, 2]]);
    // Any constraint over the coefficients: bisection, snapped to the exact decimal root.
    const s = await buildGrid({ alpha: '1.25', beta: '1', constraint: 'alpha + gamma + beta / 2', target: 3, solve: 'gamma', base: BASE });
    expect(s.points.map((p) => [p.id, p.gamma, p.constraintValue])).toEqual([['a1.25-b1-g1.25', 1.25, 3]]);
    const t = await buildGrid({ alpha: '1.2', beta: '1.1', constraint: 'alpha * beta^2 * gamma^2 + log(gamma)', solve: 'gamma', base: BASE });
    expect(t.points[0].constraintValue).toBe(2);
    const gamma = t.points[0].gamma;
    expect(1.2 * 1.21 * gamma ** 2 + Math.log(gamma)).toBeCloseTo(2, 14);
  });

  it('--solve refusals', async () => {
    expect(await refusal({ solve: 'gamma' })).toMatch(/--solve gamma conflicts with --gamma '1:1\.5:0\.1': leave --gamma out/);
    expect(await refusal({ gamma: undefined, alpha: '1.5', beta: '1.3', solve: 'gamma' })).toMatch(
      /--solve gamma: no gamma >= 1 makes 'alpha \* beta\^2 \* gamma\^2' equal 2 at any point of the grid \(the largest solution is gamma 0\.888231, at alpha 1\.5, beta 1\.3\)/,
    );
    expect(await refusal({ gamma: undefined, solve: 'gamma', constraint: 'macsRatio' })).toMatch(/--solve gamma needs a constraint over alpha, beta, gamma and phi only/);
    expect(await refusal({ gamma: undefined, solve: 'gamma', constraint: 'alpha * beta' })).toMatch(/does not use gamma/);
    expect(await refusal({ solve: 'delta' as 'gamma' })).toMatch(/--solve 'delta' is not a coefficient \(allowed: alpha, beta, gamma\)/);
  });

  it('cost constraints (--constraint macsRatio --target 2) and --where conditions, exact on flops counts', async () => {
    const base = countTotals(BASE);
    const g = await buildGrid({ ...NNI, constraint: 'macsRatio', target: 2, tolerance: 0.2 });
    expect(g.points.length).toBeGreaterThan(5);
    for (const p of g.points) {
      const t = countTotals(p.network);
      expect(Math.abs(t.macs - 2 * base.macs)).toBeLessThan(0.2 * base.macs); // integers: exact
      expect(p.constraintValue).toBe(t.macs / base.macs);
    }
    const w = await buildGrid({ ...NNI, where: ['activationsRatio <= 2.2'] });
    const all = await buildGrid(NNI);
    expect(w.points.map((p) => p.id)).toEqual(all.points.filter((p) => p.costs.activationsRatio <= 2.2).map((p) => p.id));
    expect(w.points.length).toBeLessThan(all.points.length);
    expect(w.rejected).toBe(all.rejected + all.points.length - w.points.length);
    const both = await buildGrid({ ...NNI, where: ['params < 1.1e6 and macs >= 3e6', '1 < gamma <= 1.2'] });
    for (const p of both.points) expect(p.costs.params < 1.1e6 && p.costs.macs >= 3e6 && p.gamma > 1 && p.gamma <= 1.2).toBe(true);
    expect(await refusal({ where: ['activationsRatio < 1'] })).toMatch(/--where 'activationsRatio < 1' rejects all 20 point\(s\) that meet the constraint/);
  });
});

describe('the grid: bad input is one line naming the value', () => {
  it('ranges', async () => {
    expect(await refusal({ alpha: '' })).toMatch(/--alpha is empty/);
    expect(await refusal({ alpha: '2:1:0.1' })).toMatch(/--alpha '2:1:0\.1' is empty: the stop 1 is below the start 2/);
    expect(await refusal({ beta: '0.9:1.5:0.1' })).toMatch(/--beta '0\.9:1\.5:0\.1': 0\.9 is below 1/);
    expect(await refusal({ gamma: '1,0.5' })).toMatch(/--gamma '1,0\.5': 0\.5 is below 1/);
    expect(await refusal({ alpha: '1:2:0' })).toMatch(/--alpha '1:2:0': the step 0 must be > 0/);
    expect(await refusal({ alpha: '1:2:-0.1' })).toMatch(/the step -0\.1 must be > 0/);
    expect(await refusal({ alpha: '1:2:0.3' })).toMatch(
      /--alpha '1:2:0\.3': the step 0\.3 does not divide the range 1\.\.2 \(1 \+ 3 x 0\.3 = 1\.9, the next is 2\.2\): give a stop of 1\.9 or 2\.2/,
    );
    expect(await refusal({ alpha: 'sqrt(2)' })).toMatch(/'sqrt\(2\)' is not a plain decimal number/);
    expect(await refusal({ alpha: '1,,2' })).toMatch(/has an empty item/);
    expect(await refusal({ alpha: '1:2:0.1:3' })).toMatch(/has 4 parts/);
    expect(await refusal({ alpha: '1:1000:0.0001' })).toMatch(/has 9990001 values; at most 10000/);
    expect(await refusal({ alpha: '1:100:0.01' })).toMatch(/the ranges make 356,436 points \(9901 alpha x 6 beta x 6 gamma\); at most 100,000/);
    expect(await refusal({ alpha: undefined })).toMatch(/--alpha is needed/);
  });

  it('numbers and expressions', async () => {
    expect(await refusal({ tolerance: 0 })).toMatch(/--tolerance '0' must be a number > 0/);
    expect(await refusal({ phi: -1 })).toMatch(/--phi '-1' must be a number > 0/);
    expect(await refusal({ target: NaN })).toMatch(/--target 'NaN' must be a finite number/);
    expect(await refusal({ constraint: 'alpha *' })).toMatch(/--constraint 'alpha \*': does not parse: .*\(allowed: numbers, the names alpha, beta, gamma, phi, macsRatio/);
    expect(await refusal({ constraint: 'alpha * beta^2 * delta^2' })).toMatch(/--constraint 'alpha \* beta\^2 \* delta\^2': unknown name 'delta'/);
    expect(await refusal({ constraint: 'alpha < 2' })).toMatch(/is a condition; a number is needed here/);
    expect(await refusal({ where: ['macsRatio'] })).toMatch(/--where 'macsRatio': is a number; a condition is needed here/);
    expect(await refusal({ where: ['alpha and beta > 1'] })).toMatch(/'alpha' is a number where a condition is needed/);
    expect(await refusal({ constraint: '' })).toMatch(/--constraint '': is empty/);
    expect(await refusal({ constraint: 'alpha / (beta - 1)' })).toMatch(/--constraint 'alpha \/ \(beta - 1\)' at alpha 1, beta 1, gamma 1: division by zero/);
    expect(await refusal({ constraint: 'log(beta - 1)' })).toMatch(/at alpha 1, beta 1, gamma 1: log of 0/);
    expect(await refusal({ constraint: 'max()' })).toMatch(/max takes at least 1 argument\(s\), not 0/);
    expect(await refusal({ alpha: '1.9', beta: '1', gamma: '1' })).toMatch(
      /no point of the grid has \|alpha \* beta\^2 \* gamma\^2 - 2\| < 0\.1: the closest value is 1\.9 at alpha 1\.9, beta 1, gamma 1 \(0\.1 from the target\); widen --tolerance or the ranges/,
    );
  });

  it('mathjs cannot reach JavaScript: only numbers, the variables, arithmetic, comparisons and a few functions', async () => {
    const cases: [string, RegExp][] = [
      ['import({}, {})', /the function 'import' is not allowed/],
      ['f(x) = x', /function definitions are not allowed/],
      ['alpha.constructor', /property and index access are not allowed/],
      ['alpha["constructor"]', /property and index access are not allowed/],
      ['evaluate("1")', /the function 'evaluate' is not allowed/],
      ['parse("1")', /the function 'parse' is not allowed/],
      ['alpha = 3', /assignments are not allowed/],
      ['{a: 1}', /objects are not allowed/],
      ['[alpha, beta]', /matrices are not allowed/],
      ['alpha; beta', /several statements are not allowed/],
      ['alpha > 1 ? 2 : 3', /the \?: conditional are not allowed/],
      ['"2"', /strings are not allowed/],
      ['true', /booleans are not allowed/],
      ['1:3', /ranges are not allowed/],
      ['alpha % 2', /the operator '%' is not allowed/],
      ['alpha!', /the operator '!' is not allowed/],
      ['cos(alpha)', /the function 'cos' is not allowed/],
      ['pi * alpha', /unknown name 'pi'/],
      ['toString(alpha)', /the function 'toString' is not allowed/],
      ['alpha.constructor("return process")', /only named functions can be called/],
      ['(alpha.constructor)("return process")()', /does not parse/],
    ];
    for (const [expr, why] of cases) {
      const message = await refusal({ constraint: expr });
      expect(message, expr).toMatch(why);
      expect(message).toContain(`--constraint '${expr}'`);
      expect(message).toContain('allowed: numbers, the names alpha, beta, gamma, phi, macsRatio, paramsRatio, activationsRatio, macs, params, activations');
    }
  });

  it('allowed functions evaluate exactly where they can', async () => {
    // sqrt of a square, abs, min/max, round/floor/ceil stay exact: the point is exactly on the boundary and so is out.
    expect(await refusal({ alpha: '1.9', beta: '1', gamma: '1', constraint: 'sqrt(alpha^2) + abs(-1) - min(1, beta) + round(0.4) + floor(beta, 1) - ceil(0.2)' }))
      .toMatch(/the closest value is 1\.9 at/);
    const g = await buildGrid({ ...NNI, constraint: 'pow(alpha, 1) * exp(2 * log(beta * gamma))', tolerance: 0.1 });
    expect(g.points.map((p) => p.id)).toEqual(NNI_POINTS);
  });
});

describe('formatGrid', () => {
  it('a table with the costs and the points that share a network; JSON is the points array', async () => {
    const g = await buildGrid({ ...NNI, include: ['1.2,1.1,1.15'] });
    const text = formatGrid(g);
    const [header, , ...rest] = text.split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['id', 'alpha', 'beta', 'gamma', 'constraint', 'params', 'MACs', 'macsRatio', 'activationsRatio', 'shared with']);
    expect(rest.find((l) => l.startsWith('a1.1-b1.2-g1.1 '))).toMatch(/1\.91664 .* a1\.2-b1\.2-g1\.1$/);
    expect(rest.find((l) => l.startsWith('a1.2-b1.1-g1.15 *'))).toBeDefined();
    expect(text).toContain('21 points, 17 distinct networks (4 point(s) train a network another point already trains); 376 rejected; * = added by --include');
    expect(JSON.parse(formatGrid(g, 'json'))).toEqual(g.points);
  });
});
