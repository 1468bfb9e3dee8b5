/**
 * The paper's scaling experiments as data: each is a fixed set of networks over a proxy base, every network named by
 * its multipliers and the series it belongs to. Running, storing and drawing them is the study machinery's and the
 * report's job; this module only says which networks answer which question.
 */
import { PAPER_COEFFICIENTS, type NetworkSpec } from '@effscale/core';
import { solveForMacs, countTotals } from '@effscale/flops';
import type { CostRow, Dimension } from '@effscale/report';
import { costRows } from '@effscale/report';

/** One network of an experiment: its multipliers over the proxy base and what it stands for in the report. */
export interface Member {
  id: string;
  series: string;
  dimension: Dimension;
  depthMult: number;
  widthMult: number;
  resolutionMult: number;
  /** Compound members (the family) keep their coefficients and phi for the tables. */
  compound?: { alpha: number; beta: number; gamma: number; phi: number };
}

export interface ExperimentOptions {
  /** The proxy base every member scales (multipliers selector: depth, width, resolution in px). */
  base: NetworkSpec & { selector: { kind: 'multipliers'; depth: number; width: number; resolution: number } };
  /** How many multipliers of each sweep to keep (null: all of the paper's). */
  sweepLength: number | null;
  coefficients: { alpha: number; beta: number; gamma: number };
  /** compound-vs-single: the compound point's phi; its realized MACs is the common target unless targetMacs is given. */
  phi: number;
  targetMacs?: number;
  /** family: the phi values trained (exact costs are drawn for phi 0..7 at B0 scale regardless). */
  familyPhis: number[];
}

export interface ExperimentPlan {
  members: Member[];
  /** Exact costs drawn next to the trained networks (family). */
  costs: CostRow[];
  /** What else defines the experiment (stored in the study's canonical description). */
  describe: Record<string, unknown>;
}

export interface Experiment {
  name: string;
  title: string;
  /** The paper's figure or table it reproduces. */
  paper: string;
  plan(o: ExperimentOptions): ExperimentPlan;
}

/** Figure 3's multipliers (and Figure 4's width values). */
export const PAPER_MULTIPLIERS = Object.freeze({
  width: [1.0, 1.4, 1.8, 2.6, 3.8, 5.0],
  depth: [1, 2, 3, 4, 6, 8],
  resolution: [1.0, 1.3, 1.5, 1.7, 1.9, 2.2, 2.5],
});

/** Figure 4's (depth, resolution) baselines. */
export const WIDTH_BY_DR_BASELINES: readonly (readonly [number, number])[] = [[1.0, 1.0], [1.0, 1.3], [2.0, 1.0], [2.0, 1.3]];

const keep = <T>(xs: readonly T[], n: number | null) => (n === null ? [...xs] : xs.slice(0, n));
const base = (): Member => ({ id: 'base', series: 'base', dimension: 'base', depthMult: 1, widthMult: 1, resolutionMult: 1 });

const singleDim: Experiment = {
  name: 'single-dim', title: 'Scaling one dimension at a time', paper: 'Figure 3',
  plan(o) {
    const members: Member[] = [base()];
    const mults = { width: (m: number) => ({ widthMult: m, depthMult: 1, resolutionMult: 1 }), depth: (m: number) => ({ depthMult: m, widthMult: 1, resolutionMult: 1 }), resolution: (m: number) => ({ resolutionMult: m, depthMult: 1, widthMult: 1 }) };
    for (const dim of ['width', 'depth', 'resolution'] as const) {
      for (const m of keep(PAPER_MULTIPLIERS[dim], o.sweepLength === null ? null : o.sweepLength).filter((x) => x !== 1)) {
        members.push({ id: `${dim}-${m}`, series: dim, dimension: dim, ...mults[dim](m) });
      }
    }
    return { members, costs: [], describe: { experiment: 'single-dim', multipliers: members.map((m) => m.id) } };
  },
};

const widthByDr: Experiment = {
  name: 'width-by-dr', title: 'Width sweeps from deeper and higher-resolution baselines', paper: 'Figure 4',
  plan(o) {
    const members: Member[] = [];
    // Four sweeps: a short budget keeps one width fewer per sweep than single-dim does (at least two, to draw a line).
    const widths = keep(PAPER_MULTIPLIERS.width, o.sweepLength === null ? null : Math.max(2, o.sweepLength - 1));
    for (const [d, r] of WIDTH_BY_DR_BASELINES) {
      for (const w of widths) {
        members.push({ id: `d${d}-r${r}-w${w}`, series: `d=${d.toFixed(1)}, r=${r.toFixed(1)}`, dimension: 'width', depthMult: d, widthMult: w, resolutionMult: r });
      }
    }
    return { members, costs: [], describe: { experiment: 'width-by-dr', baselines: WIDTH_BY_DR_BASELINES, widths } };
  },
};

const compoundVsSingle: Experiment = {
  name: 'compound-vs-single', title: 'Compound scaling against one dimension at the same MACs', paper: 'Table 7 / Figure 8',
  plan(o) {
    const { depth: d0, width: w0, resolution: r0 } = o.base.selector;
    const { selector: _s, ...net } = o.base;
    const c = o.coefficients;
    // The compound point first: its realized MACs is the target the single dimensions are solved to.
    const compound = { depthMult: c.alpha ** o.phi, widthMult: c.beta ** o.phi, resolutionMult: Math.round(r0 * c.gamma ** o.phi) / r0 };
    const target = o.targetMacs ?? countTotals({ ...net, selector: { kind: 'multipliers', depth: d0 * compound.depthMult, width: w0 * compound.widthMult, resolution: r0 * compound.resolutionMult } }).macs;
    const solverBase = { ...net, depth: d0, width: w0, resolution: r0 };
    const solved = (along: 'depth' | 'width' | 'resolution') => solveForMacs(along, target, solverBase);
    const d = solved('depth'), w = solved('width'), r = solved('resolution');
    const members: Member[] = [
      { id: 'equal-cost:compound', series: 'equal-cost:compound', dimension: 'compound', ...compound, compound: { ...c, phi: o.phi } },
      { id: 'equal-cost:depth', series: 'equal-cost:depth', dimension: 'depth', depthMult: d.depth / d0, widthMult: 1, resolutionMult: 1 },
      { id: 'equal-cost:width', series: 'equal-cost:width', dimension: 'width', depthMult: 1, widthMult: w.width / w0, resolutionMult: 1 },
      { id: 'equal-cost:resolution', series: 'equal-cost:resolution', dimension: 'resolution', depthMult: 1, widthMult: 1, resolutionMult: r.resolution / r0 },
    ];
    return { members, costs: [], describe: { experiment: 'compound-vs-single', coefficients: c, phi: o.phi, targetMacs: target } };
  },
};

const family: Experiment = {
  name: 'family', title: 'The scaled family: exact costs of B0..B7 and of the coefficients, proxy accuracy of the first members', paper: 'Table 2',
  plan(o) {
    const c = o.coefficients;
    const members: Member[] = o.familyPhis.map((phi) => ({
      id: `phi-${phi}`, series: 'family', dimension: phi === 0 ? 'base' : 'compound',
      depthMult: c.alpha ** phi, widthMult: c.beta ** phi, resolutionMult: Math.round(o.base.selector.resolution * c.gamma ** phi) / o.base.selector.resolution,
      compound: { ...c, phi },
    }));
    return { members, costs: costRows({ phi: [0, 1, 2, 3, 4, 5, 6, 7], ...c }), describe: { experiment: 'family', coefficients: c, phis: o.familyPhis } };
  },
};

export const EXPERIMENTS: Readonly<Record<string, Experiment>> = Object.freeze({
  'single-dim': singleDim, 'width-by-dr': widthByDr, 'compound-vs-single': compoundVsSingle, family,
});
export const EXPERIMENT_NAMES = Object.keys(EXPERIMENTS);

export const DEFAULT_COEFFICIENTS = { ...PAPER_COEFFICIENTS };
