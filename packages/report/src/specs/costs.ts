/**
 * Exact costs, no training: what rounding does to the constraint's promise over phi, and the families (B0..B7, a
 * found-coefficient family) in params against MACs. Reads CostRow only.
 */
import type { Chart } from '../page.js';
import type { CostRow } from '../rows.js';
import { DIMENSION_COLOR, FAMILY_PALETTE, FONT_SIZE, HEIGHT, WIDTH, fmtMacs, logDomain, macsUnit, round, themed } from './theme.js';

/** Families in first-seen order; the presets (a name with 'preset') in the base colour, the others in the family palette. */
function familyScale(families: string[]): { domain: string[]; range: string[] } {
  let i = 0;
  return { domain: families, range: families.map((f) => (/preset/i.test(f) ? DIMENSION_COLOR.base : FAMILY_PALETTE[i++ % FAMILY_PALETTE.length])) };
}

const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

const THEORETICAL = 'theoretical (alpha*beta^2*gamma^2)^phi';
const REALIZED = 'realized (rounded network)';

/** Theoretical against realized cost ratio over phi (log y), per family. null without rows that have both phi and a theoretical ratio. */
export function roundingGapChart(costs: readonly CostRow[]): Chart | null {
  const mine = costs.filter((c) => c.phi !== null && c.theoreticalRatio !== null).sort((a, b) => a.phi! - b.phi!);
  if (mine.length === 0) return null;
  const families = [...new Set(mine.map((c) => c.family))];
  const several = families.length > 1;
  const data = mine.flatMap((c) => {
    const common = {
      family: c.family, name: c.name, phi: c.phi!, macs: c.macs, params: c.params, resolution: c.resolution,
      theoretical: round(c.theoreticalRatio!), realized: round(c.realizedRatio), gap: round((c.realizedRatio / c.theoreticalRatio! - 1) * 100, 4),
    };
    return [
      { ...common, kind: THEORETICAL, ratio: common.theoretical },
      { ...common, kind: REALIZED, ratio: common.realized },
    ];
  });
  const x = { field: 'phi', type: 'quantitative', title: 'compound coefficient phi', scale: { nice: false, padding: 12 } };
  const y = { field: 'ratio', type: 'quantitative', title: 'MACs over the phi = 0 network (log scale)', scale: { type: 'log', domain: logDomain(data.map((d) => d.ratio)), nice: false }, axis: { format: '~g' } };
  const kindScale = { domain: [THEORETICAL, REALIZED], range: [[6, 4], [1, 0]] };
  const color = several
    ? { field: 'family', type: 'nominal', title: 'family', scale: familyScale(families) }
    : { field: 'kind', type: 'nominal', title: families[0], scale: { domain: [THEORETICAL, REALIZED], range: ['#777777', DIMENSION_COLOR.compound] } };
  const plain = { field: color.field, type: 'nominal', scale: color.scale };
  const strokeDash = { field: 'kind', type: 'nominal', title: 'cost ratio', scale: kindScale, ...(several ? {} : { legend: null }) };
  const tooltip = [
    { field: 'family', type: 'nominal', title: 'family' },
    { field: 'name', type: 'nominal', title: 'network' },
    { field: 'phi', type: 'quantitative', title: 'phi' },
    { field: 'resolution', type: 'quantitative', title: 'resolution (px)' },
    { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
    { field: 'params', type: 'quantitative', title: 'params', format: ',' },
    { field: 'theoretical', type: 'quantitative', title: 'theoretical ratio', format: '.4f' },
    { field: 'realized', type: 'quantitative', title: 'realized ratio', format: '.4f' },
    { field: 'gap', type: 'quantitative', title: 'gap (%)', format: '+.2f' },
  ];
  const detail = { field: 'family', type: 'nominal' };
  const layer = [
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color, strokeDash, detail, order: { field: 'phi' } } },
    { mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { x, y, color: plain, tooltip } },
  ];
  const title = 'Rounding gap: the cost the constraint promises against the cost delivered';
  return {
    name: 'rounding-gap',
    title,
    caption: `MACs over the phi = 0 network against phi, as the constraint promises it ((alpha*beta^2*gamma^2)^phi, dashed) and as the rounded network delivers it (solid), log scale, for ${families.join(', ')}; the tooltip gives the gap in %. Networks without phi (presets) are left out.`,
    spec: themed({ title: { text: title, subtitle: 'dashed: theoretical, solid: realized (depth, width and resolution rounded)' }, width: WIDTH, height: HEIGHT, data: { values: data }, layer }),
  };
}

/** Params against MACs, log-log, one line per family in order of phi (then name). null without cost rows. */
export function familyChart(costs: readonly CostRow[]): Chart | null {
  if (costs.length === 0) return null;
  const families = [...new Set(costs.map((c) => c.family))];
  const unit = macsUnit(costs.map((c) => c.macs));
  const data = families.flatMap((family) =>
    costs
      .filter((c) => c.family === family)
      .sort((a, b) => (a.phi ?? 0) - (b.phi ?? 0) || natural(a.name, b.name))
      .map((c, order) => ({
        family, name: c.name, phi: c.phi, order, macs: c.macs, x: round(c.macs / unit.div, 8), params: c.params, mparams: round(c.params / 1e6, 8),
        resolution: c.resolution, depth: round(c.depth), width: round(c.width), realized: round(c.realizedRatio), macsText: fmtMacs(c.macs, unit),
      })),
  );
  const x = { field: 'x', type: 'quantitative', title: unit.title, scale: { type: 'log', domain: logDomain(data.map((d) => d.x)), nice: false }, axis: { format: '~g' } };
  const y = { field: 'mparams', type: 'quantitative', title: 'parameters (millions, log scale)', scale: { type: 'log', domain: logDomain(data.map((d) => d.mparams)), nice: false }, axis: { format: '~g' } };
  const color = { field: 'family', type: 'nominal', title: 'family', scale: familyScale(families), legend: { orient: 'bottom-right', fillColor: 'white', padding: 6, symbolType: 'circle', symbolOpacity: 1 } };
  const plain = { field: 'family', type: 'nominal', scale: color.scale };
  const tooltip = [
    { field: 'family', type: 'nominal', title: 'family' },
    { field: 'name', type: 'nominal', title: 'network' },
    { field: 'phi', type: 'quantitative', title: 'phi' },
    { field: 'depth', type: 'quantitative', title: 'depth coefficient' },
    { field: 'width', type: 'quantitative', title: 'width coefficient' },
    { field: 'resolution', type: 'quantitative', title: 'resolution (px)' },
    { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
    { field: 'params', type: 'quantitative', title: 'params', format: ',' },
    { field: 'realized', type: 'quantitative', title: 'MACs over the family base', format: '.4f' },
  ];
  const layer = [
    { mark: { type: 'line', strokeWidth: 1.5, strokeOpacity: 0.8 }, encoding: { x, y, color, order: { field: 'order' } } },
    { mark: { type: 'point', filled: true, size: 45, opacity: 1 }, encoding: { x, y, color: plain, tooltip } },
    // Families alternate the side of their labels: B<i> and a compound family's phi = i sit close together.
    ...families.map((family, i) => ({
      transform: [{ filter: { field: 'family', equal: family } }],
      mark: { type: 'text', fontSize: FONT_SIZE.label, ...(i % 2 === 0 ? { align: 'right', baseline: 'bottom', dx: -5, dy: -3 } : { align: 'left', baseline: 'top', dx: 5, dy: 3 }) },
      encoding: { x, y, text: { field: 'name' }, color: plain },
    })),
  ];
  const title = 'Network families: parameters against MACs';
  return {
    name: 'family',
    title,
    caption: `Exact parameters against MACs (both log scale) of every network of ${families.join(' and ')}, each family joined in order of phi (or name), points labelled with the network's name.`,
    spec: themed({ title: { text: title, subtitle: 'counted exactly, no training' }, width: WIDTH, height: HEIGHT, data: { values: data }, layer }),
  };
}
