import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));

describe('effscale flops', () => {
  it('--model all --json: one object per preset with the documented fields', async () => {
    const { code, out } = await cli('flops', '--model', 'all', '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(out);
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']);
    for (const key of ['name', 'depth', 'width', 'resolution', 'params', 'bnMovingStats', 'macs', 'macsBreakdown', 'elementwiseOps',
      'activationElements', 'blocks', 'stageRepeats', 'stageChannels', 'stemChannels', 'headChannels']) {
      expect(rows[0]).toHaveProperty(key);
    }
    expect(rows[0]).not.toHaveProperty('layers');
    expect(rows[0].params).toBe(5_288_548);
    expect(rows[7].macs).toBe(37_745_884_192);
  });

  it('phi sweeps: 0:7, 0:7:0.5 and lists', async () => {
    const names = async (...a: string[]) => JSON.parse((await cli('flops', ...a, '--json')).out).map((r: { name: string }) => r.name);
    expect(await names('--phi', '0:7')).toEqual(['phi0', 'phi1', 'phi2', 'phi3', 'phi4', 'phi5', 'phi6', 'phi7']);
    expect(await names('--phi', '0:7:0.5')).toHaveLength(15);
    expect(await names('--phi', '0,0.5,2.5', '--alpha', '1.3', '--beta', '1.1', '--gamma', '1.1')).toEqual([
      'phi0@a1.3b1.1g1.1', 'phi0.5@a1.3b1.1g1.1', 'phi2.5@a1.3b1.1g1.1',
    ]);
  });

  it('explicit multipliers, options, per-layer JSON and CSV', async () => {
    const [r] = JSON.parse((await cli('flops', '--depth', '2', '--width', '0.5', '--resolution', '32', '--classes', '10', '--channels', '1',
      '--per-layer', '--json')).out);
    expect([r.depth, r.width, r.resolution]).toEqual([2, 0.5, 32]);
    expect(r.layers[0]).toMatchObject({ name: 'stem_conv', outputShape: [16, 16, 16] });
    expect(r.layers.at(-1)).toMatchObject({ name: 'predictions', params: 640 * 10 + 10 });
    const csv = (await cli('flops', '--model', 'b0,b1', '--csv')).out.trim().split('\n');
    expect(csv[0].split(',').slice(0, 5)).toEqual(['name', 'depth', 'width', 'resolution', 'params']);
    expect(csv[1].startsWith('b0,1,1,224,5288548,42016,385814752,')).toBe(true);
    expect(csv).toHaveLength(3);
  });

  it('other baselines as block strings, and resolution multipliers', async () => {
    const blocks = 'r1_k3_s11_e1_i32_o16_se0.25,r2_k3_s22_e6_i16_o24_noskip';
    const [r] = JSON.parse((await cli('flops', '--depth', '1', '--width', '1', '--resolution-multiplier', '0.5', '--blocks', blocks,
      '--per-layer', '--json')).out);
    expect(r.resolution).toBe(112);
    expect(r.stageRepeats).toEqual([1, 2]);
    expect(r.layers.map((l: { name: string }) => l.name)).not.toContain('block2b_add'); // noskip
    expect(r.layers.find((l: { name: string }) => l.name === 'top_conv').outputShape).toEqual([28, 28, 1280]);
    const bad = await cli('flops', '--blocks', 'r1_k3_s11_e1_i32');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/block string 'r1_k3_s11_e1_i32': missing outputFilters/);
  });

  it('evaluates expressions with mathjs', async () => {
    const [r] = JSON.parse((await cli('flops', '--phi', '1', '--gamma', 'sqrt(2/(1.2*1.1^2))', '--json')).out);
    expect(r.resolution).toBe(Math.round(224 * Math.sqrt(2 / (1.2 * 1.21))));
  });

  const bad: [string[], RegExp][] = [
    [['flops', '--model', 'b9'], /unknown model 'b9'/],
    [['flops', '--phi', 'abc'], /--phi 'abc'/],
    [['flops', '--phi', 'Infinity'], /--phi 'Infinity' does not evaluate to a finite number/],
    [['flops', '--depth', '0'], /depth 0 must be > 0/],
    [['flops', '--width=-1'], /width -1 must be > 0/],
    [['flops', '--resolution', '31.5'], /--resolution '31.5' must be a positive integer/],
    [['flops', '--model', 'b0', '--phi', '1'], /conflicting selectors --model and --phi/],
    [['flops', '--classes', '0'], /--classes '0' must be an integer >= 1/],
    [['flops', '--alpha', '1.3'], /--alpha only applies with --phi/],
    [['flops', '--json', '--csv'], /--json or --csv/],
    [['flops', '--bogus'], /bogus/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['constraint', '--alpha', '1.2'], /give --alpha, --beta and --gamma/],
    [['constraint', '--solve', 'delta', '--alpha', '1.2', '--beta', '1.1'], /--solve 'delta'/],
  ];
  for (const [argv, message] of bad) {
    it(`exit 2 with one line: ${argv.join(' ')}`, async () => {
      const { code, err } = await cli(...argv);
      expect(code).toBe(2);
      expect(err).toMatch(message);
      expect(err.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('effscale constraint', () => {
  it('prints product, deviation, product^phi and the realized MACs ratio', async () => {
    const j = JSON.parse((await cli('constraint', '--alpha', '1.2', '--beta', '1.1', '--gamma', '1.15', '--phi', '2', '--json')).out);
    expect(j.product).toBeCloseTo(1.92027, 10);
    expect(j.theoreticalRatio).toBeCloseTo(1.92027 ** 2, 10);
    expect(j.realizedMacsRatio).toBeGreaterThan(j.theoreticalRatio);
    const text = (await cli('constraint', '--alpha', '1.2', '--beta', '1.1', '--gamma', '1.15')).out;
    expect(text).toMatch(/= 1\.92027/);
    expect(text).toMatch(/realized MACs ratio \(after rounding\) = 2\.572/);
  });

  it('--solve gamma and --target-macs', async () => {
    const j = JSON.parse((await cli('constraint', '--solve', 'gamma', '--alpha', '1.2', '--beta', '1.1', '--json')).out);
    expect(j.product).toBeCloseTo(2, 12);
    const sols = JSON.parse((await cli('constraint', '--target-macs', '1.8e9', '--json')).out);
    expect(sols.map((s: { along: string }) => s.along)).toEqual(['depth', 'width', 'resolution', 'compound']);
  });
});

describe('the installed command', () => {
  it('runs from the bin with no build step and exits 2 on bad input', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'flops', '--model', 'b0', '--json']);
    expect(JSON.parse(stdout)[0].macs).toBe(385_814_752);
    const failed = await run(process.execPath, [BIN, 'flops', '--model', 'b9']).catch((e) => e);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe("effscale: unknown model 'b9' (allowed: b0, b1, b2, b3, b4, b5, b6, b7, all, or a comma list)\n");
  });
});
