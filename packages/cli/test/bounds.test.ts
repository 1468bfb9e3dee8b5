import { describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';

/** Run the CLI in-process; a refusal is one line on stderr, exit code 2, nothing on stdout. */
async function refused(...argv: string[]): Promise<{ message: string }> {
  const r = await cli(...argv);
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^effscale: [^\n]+\n$/);
  expect(r.err).not.toMatch(/Infinity|NaN/);
  return { message: r.err.slice('effscale: '.length, -1) };
}

// A hang guard, not a speed measurement: before the limits these commands ran for a minute, then ran out of heap; the
// refusal itself takes milliseconds (one network well under 5 ms, a solver's search of a direction 5-30 ms).
const HANG_GUARD_MS = 20_000;

describe('networks too large to represent or count exactly are refused at once', () => {
  it('warms up the command modules', async () => {
    expect((await cli('flops', '--model', 'b0', '--json')).code).toBe(0);
    expect((await cli('constraint', '--target-macs', '1e9', '--along', 'width', '--json')).code).toBe(0);
  });

  const cases: [string, string[], RegExp][] = [
    ['--phi 100 (1.3 billion blocks)', ['flops', '--phi', '100'], /^phi100: depth \S+ makes 1,325,087,597 blocks .*over the limit of 10,000 .*use a depth of at most 625 \(phi at most 35\.3098 with alpha 1\.2\)\.$/],
    ['--depth 1e5', ['flops', '--depth', '1e5'], /^d100000-w1-r224: depth 100000 makes 1,600,000 blocks .*use a depth of at most 625\.$/],
    ['a phi sweep that ends too large', ['flops', '--phi', '0:40:10', '--json'], /^phi20: one image's layer outputs at 3,666 px take [\d.]+ TiB .*largest resolution that fits is 1,664 px\.$/],
    ['--resolution 1e6', ['flops', '--resolution', '1e6'], /^b0@1000000px: one image's layer outputs at 1,000,000 px take 1,630 TiB as float32, over the 1 TiB .*largest resolution that fits is 24,750 px\.$/],
    ['--resolution 1e200', ['flops', '--depth', '1', '--resolution', '1e200'], /one image's layer outputs at 1\.00e\+200 px take .* TiB/],
    ['--width 6000 (MACs beyond 2^53)', ['flops', '--width', '6000'], /^d1-w6000-r224 has about 1\.22e\+16 MACs, beyond 2\^53 - 1 \(9,007,199,254,740,991\), the largest count a JavaScript number holds exactly; use a smaller width, depth or resolution\.$/],
    ['--width 1e6', ['flops', '--width', '1e6'], /over the 1 TiB .*largest resolution that fits is 16 px\.$/],
    ['--classes 1e15', ['flops', '--classes', '1e15'], /no resolution fits: use a smaller width, fewer input channels or fewer classes\.$/],
    ['--phi 1e999', ['flops', '--phi', '1e999'], /^--phi '1e999' is beyond the largest number a double holds \(1\.8e308\)$/],
    ['constraint --phi 100', ['constraint', '--alpha', '1.2', '--beta', '1.1', '--gamma', '1.15', '--phi', '100'], /over the limit of 10,000/],
    ['--target-macs 1e15 along all', ['constraint', '--target-macs', '1e15'],
      /^target 1,000,000,000,000,000 MACs is out of reach along depth \(at most 247,763,935,456 MACs: depth 625, the 10,000-block limit\) and resolution \(at most 4,689,517,747,408 MACs: 24,750 px, the 1 TiB limit on one image's activations\) and compound \(at most [\d,]+ MACs: phi [\d.]+, the 1 TiB limit on one image's activations\); give --along width, or a smaller target\.$/],
    ['--target-macs 1e15 --along depth', ['constraint', '--target-macs', '1e15', '--along', 'depth'],
      /^target 1,000,000,000,000,000 MACs is out of reach along depth: from the base network's 385,814,752 MACs it reaches at most 247,763,935,456 MACs: depth 625, the 10,000-block limit; choose a smaller target or another direction\.$/],
    ['--target-macs 1e17 --along width', ['constraint', '--target-macs', '1e17', '--along', 'width'], /reaches at most 9,00\d,[\d,]+ MACs: width [\d.]+, where counts pass 2\^53 - 1 and would no longer be exact/],
    ['--target-macs with alpha = beta = gamma = 1', ['constraint', '--target-macs', '1e12', '--along', 'compound', '--alpha', '1', '--beta', '1', '--gamma', '1'],
      /alpha, beta and gamma all 1 does not change the network/],
    ['block strings whose channels do not chain', ['flops', '--blocks', 'r1_k3_s11_e1_i32_o16_se0.25,r2_k3_s22_e6_i40_o24_se0.25'],
      /^block string 2 'r2_k3_s22_e6_i40_o24_se0\.25' takes 40 input filters, but it follows block string 1's 16 output filters; set its i to 16 so the channels chain \(or change the previous block's o\)\.$/],
  ];
  for (const [what, argv, message] of cases) {
    it(what, async () => {
      const r = await refused(...argv);
      expect(r.message).toMatch(message);
    }, HANG_GUARD_MS);
  }

  it('reachable targets still solve, with the search capped at the size limits', async () => {
    const r = await cli('constraint', '--target-macs', '1e15', '--along', 'width', '--json');
    expect(r.code).toBe(0);
    const [s] = JSON.parse(r.out);
    expect(Math.abs(s.relativeError)).toBeLessThan(1e-4);
    expect(s.macs).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });

  it('the largest allowed networks are still counted (10,000 blocks; 24,750 px)', async () => {
    const [deep] = JSON.parse((await cli('flops', '--depth', '625', '--width', '0.25', '--resolution', '32', '--json')).out);
    expect(deep.blocks).toBe(10_000);
    const [wide] = JSON.parse((await cli('flops', '--resolution', '24750', '--json')).out);
    expect(Number.isSafeInteger(wide.macs)).toBe(true);
  });
});

describe('the limits are documented where they are enforced', () => {
  it('flops --help states the same limits the core enforces', async () => {
    const { MAX_BLOCKS, MAX_IMAGE_ACTIVATION_BYTES } = await import('@effscale/core');
    const help = (await cli('flops', '--help')).out.replace(/\s+/g, ' ');
    expect(help).toContain(`at most ${MAX_BLOCKS.toLocaleString('en-US')} blocks`);
    expect(MAX_IMAGE_ACTIVATION_BYTES).toBe(2 ** 40);
    expect(help).toContain('1 TiB of activations for one image');
    expect(help).toContain('below 2^53');
  });
});
