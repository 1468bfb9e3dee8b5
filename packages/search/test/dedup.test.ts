import { describe, expect, it } from 'vitest';
import { ConfigError, resolveArchitecture, type NetworkSpec } from '@effscale/core';
import { architectureSignature, buildGrid, trialsFor, type GridOptions } from '../src/index.js';

const BASE: NetworkSpec = { selector: { kind: 'multipliers', depth: 0.5, width: 0.5, resolution: 32 }, inputChannels: 1, classes: 10 };
/** NNI's example grid plus the paper's point: the 21 points of issue 9. */
const GRID: GridOptions = { alpha: '1:2:0.1', beta: '1:1.5:0.1', gamma: '1:1.5:0.1', include: ['1.2,1.1,1.15'], base: BASE };

/** The pairs issue 9 says share a network at the default proxy (depth 0.5 x 1.1 and x 1.2 give the same repeats). */
const SHARED = [
  ['a1.1-b1.2-g1.1', 'a1.2-b1.2-g1.1'],
  ['a1.1-b1.1-g1.2', 'a1.2-b1.1-g1.2'],
  ['a1.6-b1-g1.1', 'a1.7-b1-g1.1'],
  ['a1.6-b1.1-g1', 'a1.7-b1.1-g1'],
];

/** Everything that is built and trained: each layer's name, op, shapes, kernel, stride, groups, rates. */
const layersOf = (n: NetworkSpec) => JSON.stringify(resolveArchitecture(n).layers);

describe('trialsFor: one trial per distinct network and seed', () => {
  it('at the default proxy exactly the 4 pairs of the issue share a network, and their layers are identical', async () => {
    const g = await buildGrid(GRID);
    expect(g.points).toHaveLength(21);
    const trials = trialsFor(g.points, [0, 1]);
    expect(trials).toHaveLength(17 * 2);
    const shared = trials.filter((t) => t.seed === 0 && t.points.length > 1).map((t) => t.points);
    expect(shared.sort()).toEqual([...SHARED].sort());
    const byId = new Map(g.points.map((p) => [p.id, p]));
    for (const [a, b] of SHARED) {
      expect(byId.get(a)!.signature).toBe(byId.get(b)!.signature);
      expect(layersOf(byId.get(a)!.network)).toBe(layersOf(byId.get(b)!.network));
      expect(byId.get(a)!.costs).toEqual(byId.get(b)!.costs);
    }
    // Different signatures are different layer lists.
    const distinct = new Map<string, string>();
    for (const p of g.points) distinct.set(p.signature, layersOf(p.network));
    expect(new Set(distinct.values()).size).toBe(17);
  });

  it('the representative is the first point in grid order; trials in representative order, seeds ascending; ids stable', async () => {
    const g = await buildGrid(GRID);
    const trials = trialsFor(g.points, [1, 0]);
    const order = g.points.map((p) => p.id);
    const reps = trials.filter((t) => t.seed === 0).map((t) => t.points[0]);
    expect(reps).toEqual([...reps].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    for (const t of trials) {
      const pts = t.points.map((id) => order.indexOf(id));
      expect(pts).toEqual([...pts].sort((a, b) => a - b));
      expect(t.network).toEqual(g.points[pts[0]].network);
      expect(t.signature).toBe(g.points[pts[0]].signature);
      expect(t.id).toMatch(new RegExp(`^t[0-9a-f]{12}-s${t.seed}$`));
    }
    expect(trials.slice(0, 2).map((t) => t.seed)).toEqual([0, 1]);
    expect(new Set(trials.map((t) => t.id)).size).toBe(trials.length);
    // The same grid given another way: the same trials.
    const again = await buildGrid({ ...GRID, alpha: '2,1.9,1.8,1.7,1.6,1.5,1.4,1.3,1.2,1.10,1.0', include: ['1.20,1.1,1.15'] });
    expect(trialsFor(again.points, [0, 1])).toEqual(trialsFor(g.points, [1, 0]));
  });

  it('the signature names what makes a network: repeats, channels, resolution, stem, head, stage settings', () => {
    const s = architectureSignature(BASE);
    expect(s).toBe(
      'res 32, in 1, classes 10, stem 16, head 640, dropout 0.2, drop-connect 0.2, bn 0.99 | ' +
        '1x k3 s1 e1 16>8 se0.25, 1x k3 s2 e6 8>16 se0.25, 1x k5 s2 e6 16>24 se0.25, 2x k3 s2 e6 24>40 se0.25, ' +
        '2x k5 s1 e6 40>56 se0.25, 2x k5 s2 e6 56>96 se0.25, 1x k3 s1 e6 96>160 se0.25',
    );
    const at = (depth: number) => architectureSignature({ ...BASE, selector: { kind: 'multipliers', depth, width: 0.5, resolution: 32 } });
    expect(at(0.55)).toBe(at(0.6)); // ceil(0.55 x r) = ceil(0.6 x r) for B0's repeats 1, 2, 2, 3, 3, 4, 1
    expect(at(0.55)).not.toBe(s);
    expect(architectureSignature({ ...BASE, classes: 100 })).not.toBe(s);
    expect(architectureSignature({ ...BASE, resolution: 33 })).not.toBe(s);
  });

  it('bad seeds are ConfigErrors', async () => {
    const g = await buildGrid({ ...GRID, include: [] });
    expect(() => trialsFor(g.points, [])).toThrow(ConfigError);
    expect(() => trialsFor(g.points, [0, 0])).toThrow(/seed 0 is given twice/);
    expect(() => trialsFor(g.points, [-1])).toThrow(/seed '-1' must be an integer >= 0/);
    expect(() => trialsFor(g.points, [0.5])).toThrow(/seed '0.5' must be an integer >= 0/);
    expect(() => trialsFor([g.points[0], g.points[0]], [0])).toThrow(/listed twice/);
  });
});
