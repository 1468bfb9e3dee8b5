import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { resolveArchitecture } from '@effscale/core';
import { countArchitecture, countTotals, NOT_COUNTED, UNITS, type CostReport } from '@effscale/flops';
import { NETWORK_OPTIONS, networksFromFlags } from '../networks.js';
import { millions, table } from '../format.js';
import { UsageError } from '../errors.js';

export const FLOPS_HELP = `effscale flops: exact params, MACs, elementwise ops and activation memory, from the architecture alone

Name networks by ONE of:
  --model b0 | b0,b3 | all                 official presets (default: b0)
  --phi 1 | 0:7 | 0:7:0.5 | 0,0.5,2.5      compound scaling, with --alpha 1.2 --beta 1.1 --gamma 1.15 --base-resolution 224
  --depth D --width W [--resolution PX | --resolution-multiplier R]
Options: --resolution PX (override), --classes 1000, --channels 3, --blocks "r1_k3_s11_e1_i32_o16_se0.25,...",
         --per-layer, --json | --csv
Numbers may be expressions (evaluated with mathjs): --gamma "sqrt(2/(1.2*1.1^2))".
Limits (refused at once, naming what fits): at most 10,000 blocks, 1 TiB of activations for one image, and
params and MACs below 2^53 so that every count is exact.`;

function summary(c: CostReport, perLayer: boolean) {
  const { layers, byOperator, byModule, units: _u, notCounted: _n, ...rest } = c;
  return perLayer ? { ...rest, byOperator, byModule, layers } : { ...rest, byOperator, byModule };
}

export async function flopsCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...NETWORK_OPTIONS, 'per-layer': { type: 'boolean' }, json: { type: 'boolean' }, csv: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(FLOPS_HELP);
    return;
  }
  if (values.json && values.csv) throw new UsageError('choose one output format: --json or --csv, not both');
  const specs = await networksFromFlags(values);
  // Refuse any network past the size limits (from the spec alone, milliseconds) before building any layer list.
  for (const s of specs) countTotals(s);
  const reports = specs.map((s) => countArchitecture(resolveArchitecture(s)));
  const perLayer = values['per-layer'] === true;

  if (values.json) {
    process.stdout.write(JSON.stringify(reports.map((r) => summary(r, perLayer)), null, 2) + '\n');
    return;
  }
  if (values.csv) {
    if (perLayer) {
      const rows = reports.flatMap((r) =>
        r.layers.map((l) => ({ network: r.name, layer: l.name, op: l.op, block: l.block, output_shape: l.outputShape.join('x'),
          params: l.params, bn_moving_stats: l.bnMovingStats, macs: l.macs, elementwise_ops: l.elementwiseOps, activation_elements: l.activationElements })),
      );
      process.stdout.write(stringify(rows, { header: true }));
    } else {
      const rows = reports.map((r) => ({
        name: r.name, depth: r.depth, width: r.width, resolution: r.resolution, params: r.params, bn_moving_stats: r.bnMovingStats,
        macs: r.macs, macs_conv: r.macsBreakdown.conv, macs_depthwise: r.macsBreakdown.depthwise, macs_se: r.macsBreakdown.se,
        macs_fc: r.macsBreakdown.fc, elementwise_ops: r.elementwiseOps, activation_elements: r.activationElements, blocks: r.blocks,
        stage_repeats: r.stageRepeats.join(' '), stage_channels: r.stageChannels.join(' '), stem_channels: r.stemChannels, head_channels: r.headChannels,
      }));
      process.stdout.write(stringify(rows, { header: true }));
    }
    return;
  }

  for (const r of perLayer ? reports : []) {
    console.log(`\n${r.name}: ${r.layers.length} layers`);
    console.log(table(
      ['layer', 'op', 'output', 'params', 'MACs', 'elementwise ops', 'activations'],
      r.layers.map((l) => [l.name, l.op, l.outputShape.join('x'), l.params, l.macs, l.elementwiseOps, l.activationElements]),
    ));
  }
  if (perLayer) console.log('');
  console.log(table(
    ['model', 'depth', 'width', 'res', 'params', '+BN stats', 'MACs (M)', 'conv', 'dw', 'SE', 'FC', 'elementwise (M)', 'activations (M/img)', 'blocks'],
    reports.map((r) => [
      r.name, r.depth, r.width, r.resolution, r.params, r.totalParams, millions(r.macs), millions(r.macsBreakdown.conv),
      millions(r.macsBreakdown.depthwise), millions(r.macsBreakdown.se), millions(r.macsBreakdown.fc), millions(r.elementwiseOps),
      millions(r.activationElements), r.blocks,
    ]),
  ));
  console.log(`\nparams: ${UNITS.params}; +BN stats: adds ${UNITS.bnMovingStats} (= tfjs countParams)`);
  console.log(`MACs: ${UNITS.macs}`);
  console.log(`elementwise: ${UNITS.elementwiseOps}`);
  console.log(`activations: ${UNITS.activationElements}`);
  console.log(`not counted:\n${NOT_COUNTED.map((n) => `  - ${n}`).join('\n')}`);
}
