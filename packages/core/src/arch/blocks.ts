import { SpecError } from '../errors.js';
/**
 * Block strings, as in the official EfficientNet code and timm:
 * `r2_k3_s22_e6_i16_o24_se0.25` = 2 repeats, kernel 3, stride 2x2, expand 6, 16 -> 24 filters, SE ratio 0.25.
 * `noskip` disables the identity skip.
 */
export interface BlockArgs {
  repeats: number;
  kernel: number;
  stride: number;
  expandRatio: number;
  inputFilters: number;
  outputFilters: number;
  seRatio: number;
  idSkip: boolean;
}

export const B0_BLOCK_STRINGS: readonly string[] = Object.freeze([
  'r1_k3_s11_e1_i32_o16_se0.25',
  'r2_k3_s22_e6_i16_o24_se0.25',
  'r2_k5_s22_e6_i24_o40_se0.25',
  'r3_k3_s22_e6_i40_o80_se0.25',
  'r3_k5_s11_e6_i80_o112_se0.25',
  'r4_k5_s22_e6_i112_o192_se0.25',
  'r1_k3_s11_e6_i192_o320_se0.25',
]);

/** A block string that does not decode; a kind of SpecError. */
export class BlockStringError extends SpecError {
  override name = 'BlockStringError';
}

const INT_KEYS: Record<string, keyof BlockArgs> = { r: 'repeats', k: 'kernel', e: 'expandRatio', i: 'inputFilters', o: 'outputFilters' };

function positiveInt(s: string, text: string, what: string): number {
  if (!/^\d+$/.test(s) || Number(s) < 1) {
    throw new BlockStringError(`block string '${text}': ${what} '${s}' is not a positive integer`);
  }
  return Number(s);
}

export function decodeBlockString(text: string): BlockArgs {
  const parts = text.trim().split('_').filter((p) => p.length > 0);
  const args: Partial<BlockArgs> = { seRatio: 0, idSkip: true };
  for (const part of parts) {
    if (part === 'noskip') {
      args.idSkip = false;
    } else if (part.startsWith('se')) {
      const v = Number(part.slice(2));
      if (part.length === 2 || !Number.isFinite(v) || v < 0 || v > 1) {
        throw new BlockStringError(`block string '${text}': SE ratio '${part.slice(2)}' must be a number in [0, 1]`);
      }
      args.seRatio = v;
    } else if (part[0] === 's') {
      const digits = part.slice(1);
      if (!/^\d+$/.test(digits) || (digits.length !== 1 && digits.length !== 2)) {
        throw new BlockStringError(`block string '${text}': stride '${digits}' must be one or two digits (s1, s22)`);
      }
      const [sh, sw] = digits.length === 1 ? [digits, digits] : [digits[0], digits[1]];
      if (sh !== sw || Number(sh) < 1) {
        throw new BlockStringError(`block string '${text}': stride '${digits}' must be square and >= 1 (s11, s22)`);
      }
      args.stride = Number(sh);
    } else if (INT_KEYS[part[0]] !== undefined) {
      (args as Record<string, number>)[INT_KEYS[part[0]]] = positiveInt(part.slice(1), text, INT_KEYS[part[0]]);
    } else {
      throw new BlockStringError(`block string '${text}': unknown field '${part}' (allowed: r k s e i o se noskip)`);
    }
  }
  for (const key of ['repeats', 'kernel', 'stride', 'expandRatio', 'inputFilters', 'outputFilters'] as const) {
    if (args[key] === undefined) throw new BlockStringError(`block string '${text}': missing ${key}`);
  }
  return args as BlockArgs;
}

export function encodeBlockString(b: BlockArgs): string {
  const parts = [`r${b.repeats}`, `k${b.kernel}`, `s${b.stride}${b.stride}`, `e${b.expandRatio}`, `i${b.inputFilters}`, `o${b.outputFilters}`];
  if (b.seRatio > 0) parts.push(`se${b.seRatio}`);
  if (!b.idSkip) parts.push('noskip');
  return parts.join('_');
}
