import { describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';

const PAPER = ['--alpha', '1.2', '--beta', '1.1', '--gamma', '1.15'];

describe('effscale scale', () => {
  it("the paper's coefficients at phi 1: the README's phi1 numbers, next to the preset b1", async () => {
    const { code, out } = await cli('scale', ...PAPER, '--phi', '1', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ alpha: 1.2, beta: 1.1, gamma: 1.15, paper: { alpha: 1.2, beta: 1.1, gamma: 1.15 } });
    expect(r.family).toEqual([{
      phi: 1, depth: 1.2, width: 1.1, resolution: 258, params: 9_109_994, macs: 992_629_472,
      paper: { depth: 1.2, width: 1.1, resolution: 258, params: 9_109_994, macs: 992_629_472 },
      preset: { name: 'b1', depth: 1.1, width: 1, resolution: 240, params: 7_794_184, macs: 686_802_832 },
    }]);
  });

  it('phi 0:7 by default, as a table: found family, paper family, presets b0..b7', async () => {
    const { code, out } = await cli('scale', '--alpha', '1.3', '--beta', '1.1', '--gamma', 'sqrt(2/(1.3*1.1^2))');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^alpha 1\.3, beta 1\.1, gamma 1\.12759: alpha \* beta\^2 \* gamma\^2 = 2; paper 1\.2, 1\.1, 1\.15: 1\.92027$/);
    expect(lines[2].split(/\s{2,}/)).toEqual(['phi', 'depth', 'width', 'res', 'params', 'MACs', 'paper params', 'paper MACs', 'preset', 'preset params', 'preset MACs']);
    const rows = lines.slice(4, 12).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(rows.map((r) => r[8])).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']);
    expect(rows[0].slice(4)).toEqual(['5,288,548', '385,814,752', '5,288,548', '385,814,752', 'b0', '5,288,548', '385,814,752']);
    expect(rows[1].slice(6, 8)).toEqual(['9,109,994', '992,629,472']); // the paper's phi 1
    expect(rows[7].slice(9)).toEqual(['66,347,960', '37,745,884,192']); // b7
  });

  it('any phi list or range as flops accepts; presets only at integer phi 0..7; CSV', async () => {
    const r = JSON.parse((await cli('scale', ...PAPER, '--phi', '0:8:0.5', '--json')).out);
    expect(r.family.map((x: { phi: number }) => x.phi)).toHaveLength(17);
    expect(r.family.map((x: { preset: { name: string } | null }) => x.preset?.name ?? null)).toEqual(
      ['b0', null, 'b1', null, 'b2', null, 'b3', null, 'b4', null, 'b5', null, 'b6', null, 'b7', null, null],
    );
    const csv = (await cli('scale', ...PAPER, '--phi', '0,1', '--csv')).out.trim().split('\n');
    expect(csv[0]).toBe('phi,depth,width,resolution,params,macs,paper_depth,paper_width,paper_resolution,paper_params,paper_macs,preset,preset_depth,preset_width,preset_resolution,preset_params,preset_macs');
    expect(csv[2]).toBe('1,1.2,1.1,258,9109994,992629472,1.2,1.1,258,9109994,992629472,b1,1.1,1,240,7794184,686802832');
    const small = JSON.parse((await cli('scale', ...PAPER, '--phi', '1', '--classes', '10', '--channels', '1', '--base-resolution', '32', '--json')).out);
    expect(small.family[0]).toMatchObject({ resolution: 37, paper: { resolution: 37 }, preset: { resolution: 240 } });
  });

  it('bad input: one line, exit 2', async () => {
    const bad: [string[], RegExp][] = [
      [['--alpha', '1.2', '--beta', '1.1'], /give --alpha, --beta and --gamma \(missing --gamma\), or --from STUDY_DIR/],
      [[...PAPER.slice(0, 4), '--gamma', '0.9'], /--gamma 0\.9 must be >= 1/],
      [[...PAPER, '--phi', 'x'], /--phi 'x' is neither a number nor an expression/],
      [[...PAPER, '--phi', '2:1'], /stop 1 is below start 2/],
      [[...PAPER, '--json', '--csv'], /choose one output format/],
      [[...PAPER, '--model', 'b0'], /Unknown option '--model'/],
      [['--from', 'study'], /--from 'study' is not a study \(no journal\.jsonl there\)/],
      [['--from', 'study', '--alpha', '1.2'], /--from takes the coefficients from the study: leave out --alpha/],
    ];
    for (const [args, why] of bad) {
      const { code, out, err } = await cli('scale', ...args);
      expect(code, args.join(' ')).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(why);
      expect(err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('is listed in the help', async () => {
    expect((await cli('--help')).out).toMatch(/^ {2}scale {8}step 2: the family B0'\.\.B7' of found coefficients/m);
    expect((await cli('scale', '--help')).out).toContain('effscale scale --alpha A --beta B --gamma G [--phi 0:7] [--json | --csv]');
  });
});
