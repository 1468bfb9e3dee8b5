/**
 * Exact arithmetic for the grid: rationals on BigInt (every decimal a user types is one, exactly), and a sandboxed
 * evaluator for mathjs expressions over them. mathjs only parses; the evaluator walks a whitelisted node tree itself,
 * so no expression can reach JavaScript. + - * / and integer powers stay exact; sqrt (of a non-square), log, exp and
 * non-integer powers go through mathjs' BigNumber at 64 significant digits and come back as exact decimals.
 */
import { ConfigError } from '@effscale/core';
import type { BigNumber, MathNode } from 'mathjs';

// ---- Rationals ----------------------------------------------------------------------------------------------------

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};
const bitLength = (x: bigint): number => (x < 0n ? -x : x).toString(2).length;

/** Decimal literal: 1, 1.10, .5, 2e-3 (no expressions). */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A rational number n/d in lowest terms, d > 0. */
export class Rat {
  readonly n: bigint;
  readonly d: bigint;
  private constructor(n: bigint, d: bigint) {
    this.n = n;
    this.d = d;
  }

  static of(n: bigint | number, d: bigint | number = 1n): Rat {
    let nn = BigInt(n);
    let dd = BigInt(d);
    if (dd === 0n) throw new ExprError('division by zero');
    if (dd < 0n) [nn, dd] = [-nn, -dd];
    const g = gcd(nn, dd);
    return g > 1n ? new Rat(nn / g, dd / g) : new Rat(nn, dd);
  }

  static readonly ZERO = Rat.of(0n);
  static readonly ONE = Rat.of(1n);

  /** A decimal literal exactly, or undefined when `text` is not one. */
  static parse(text: string): Rat | undefined {
    const t = text.trim();
    if (!DECIMAL.test(t)) return undefined;
    const [mant, expText] = t.toLowerCase().split('e');
    const exp = expText === undefined ? 0 : Number(expText);
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return undefined;
    const neg = mant.startsWith('-');
    const [ip, fp = ''] = mant.replace(/^[+-]/, '').split('.');
    let n = BigInt((ip || '0') + fp);
    if (neg) n = -n;
    const scale = fp.length - exp;
    return scale >= 0 ? Rat.of(n, 10n ** BigInt(scale)) : Rat.of(n * 10n ** BigInt(-scale));
  }

  /** The decimal a double prints as (its shortest round-trip spelling: 0.1 -> 1/10). */
  static fromNumber(x: number): Rat {
    if (!Number.isFinite(x)) throw new ExprError(`'${x}' is not a finite number`);
    return Rat.parse(String(x))!;
  }

  add(o: Rat): Rat { return Rat.of(this.n * o.d + o.n * this.d, this.d * o.d); }
  sub(o: Rat): Rat { return Rat.of(this.n * o.d - o.n * this.d, this.d * o.d); }
  mul(o: Rat): Rat { return Rat.of(this.n * o.n, this.d * o.d); }
  div(o: Rat): Rat {
    if (o.n === 0n) throw new ExprError('division by zero');
    return Rat.of(this.n * o.d, this.d * o.n);
  }
  neg(): Rat { return new Rat(-this.n, this.d); }
  abs(): Rat { return this.n < 0n ? this.neg() : this; }
  cmp(o: Rat): number {
    const l = this.n * o.d;
    const r = o.n * this.d;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  eq(o: Rat): boolean { return this.n === o.n && this.d === o.d; }
  lt(o: Rat): boolean { return this.cmp(o) < 0; }
  sign(): number { return this.n < 0n ? -1 : this.n > 0n ? 1 : 0; }
  isInteger(): boolean { return this.d === 1n; }
  bits(): number { return Math.max(bitLength(this.n), bitLength(this.d)); }

  /** this^k for an integer k (exact). */
  powInt(k: bigint): Rat {
    if (k === 0n) return Rat.ONE;
    if (k < 0n) {
      if (this.n === 0n) throw new ExprError('0 to a negative power');
      return Rat.of(this.d ** -k, this.n ** -k);
    }
    return Rat.of(this.n ** k, this.d ** k);
  }

  floor(): Rat {
    const q = this.n / this.d; // truncates toward zero
    return Rat.of(this.n < 0n && q * this.d !== this.n ? q - 1n : q);
  }
  ceil(): Rat { return this.neg().floor().neg(); }
  /** Half away from zero (Math.round for positive values, mathjs round). */
  round(): Rat {
    const a = this.abs().add(Rat.of(1n, 2n)).floor();
    return this.n < 0n ? a.neg() : a;
  }
  /** Rounded to `places` decimals (half away from zero). */
  roundTo(places: number, mode: 'round' | 'floor' | 'ceil' = 'round'): Rat {
    const s = Rat.of(10n ** BigInt(places));
    return this.mul(s)[mode]().div(s);
  }

  /** Decimal places of the exact decimal expansion, or undefined when it does not terminate. */
  decimals(): number | undefined {
    let d = this.d;
    let twos = 0;
    let fives = 0;
    while (d % 2n === 0n) { d /= 2n; twos++; }
    while (d % 5n === 0n) { d /= 5n; fives++; }
    return d === 1n ? Math.max(twos, fives) : undefined;
  }

  /** Canonical decimal spelling: exact when it terminates within `maxPlaces` (no trailing zeros), else rounded there. */
  toDecimal(maxPlaces = 64): string {
    const places = Math.min(this.decimals() ?? maxPlaces, maxPlaces);
    const r = this.roundTo(places);
    const neg = r.n < 0n;
    const digits = (((neg ? -r.n : r.n) * 10n ** BigInt(places)) / r.d).toString().padStart(places + 1, '0');
    const ip = digits.slice(0, digits.length - places);
    const fp = digits.slice(digits.length - places).replace(/0+$/, '');
    return `${neg ? '-' : ''}${ip}${fp ? `.${fp}` : ''}`;
  }
  toString(): string { return this.toDecimal(12); }

  /** The nearest double (correctly rounded while numerator and denominator are below 2^53). */
  toNumber(): number {
    const lim = 2n ** 53n;
    if ((this.n < 0n ? -this.n : this.n) < lim && this.d < lim) return Number(this.n) / Number(this.d);
    return Number(this.toDecimal(40));
  }
}

/** A failure while evaluating an expression at one point (division by zero, log of a negative number). */
export class ExprError extends Error {
  override name = 'ExprError';
}

// ---- mathjs, loaded lazily ----------------------------------------------------------------------------------------

interface MathEnv {
  parse: (text: string) => MathNode;
  big: (text: string) => BigNumber;
}

let env: Promise<MathEnv> | undefined;
let ready: MathEnv | undefined;

/** mathjs with BigNumber constants at 64 digits; imported on first use (it takes ~1-2 s). */
export function loadMath(): Promise<MathEnv> {
  env ??= import('mathjs').then(({ create, all }) => {
    const math = create(all, { number: 'BigNumber', precision: 64 });
    ready = { parse: (t: string) => math.parse(t), big: (t: string) => math.bignumber(t) as BigNumber };
    return ready;
  });
  return env;
}

function math(): MathEnv {
  if (!ready) throw new Error('mathjs is not loaded yet: await loadMath() first');
  return ready;
}

/** Results beyond this size are refused (they would only come from a mistake, and cost memory as exact values). */
const MAX_BITS = 4096;

const toBig = (r: Rat): BigNumber => math().big(r.n.toString()).div(math().big(r.d.toString()));

/** A BigNumber result back as an exact decimal; non-real or huge results are an error at this point. */
function fromBig(b: BigNumber): Rat {
  const { big } = math();
  if (!b.isFinite()) throw new ExprError('the result is not a finite real number');
  if (!b.isZero() && (b.abs().gt(big('1e300')) || b.abs().lt(big('1e-300')))) throw new ExprError(`${b.toString()} is beyond 1e300 in magnitude`);
  return checked(Rat.parse(b.toFixed())!);
}

function checked(r: Rat): Rat {
  if (r.bits() > MAX_BITS) throw new ExprError(`an intermediate value needs more than ${MAX_BITS} bits`);
  return r;
}

/** sqrt(x) for x >= 0: exact when x is the square of a rational, else at 64 significant digits. Needs loadMath() first. */
export function sqrt(x: Rat): Rat {
  if (x.sign() < 0) throw new ExprError(`sqrt of the negative number ${x.toDecimal()}`);
  const rn = isqrt(x.n);
  const rd = isqrt(x.d);
  return rn * rn === x.n && rd * rd === x.d ? Rat.of(rn, rd) : fromBig(toBig(x).sqrt());
}

/** x^y: exact for integer y (within MAX_BITS), else at 64 significant digits. Needs loadMath() first. */
export function power(x: Rat, y: Rat): Rat {
  if (y.isInteger() && x.bits() * Number(y.n < 0n ? -y.n : y.n) <= MAX_BITS) return x.powInt(y.n);
  if (x.sign() < 0 && !y.isInteger()) throw new ExprError(`${x.toDecimal()} to the non-integer power ${y.toDecimal()}`);
  if (x.sign() === 0) {
    if (y.sign() < 0) throw new ExprError('0 to a negative power');
    return y.sign() === 0 ? Rat.ONE : Rat.ZERO;
  }
  return fromBig(toBig(x).pow(toBig(y)));
}

// ---- Sandboxed expressions ----------------------------------------------------------------------------------------

export type Value = Rat | boolean;
export type Scope = Readonly<Record<string, Rat>>;

export interface Compiled {
  /** As given. */
  source: string;
  /** Normalized spelling (mathjs' printer: spacing, explicit *, needed parentheses only): the same expression, the same text. */
  canonical: string;
  /** The variable names it uses. */
  names: ReadonlySet<string>;
  type: 'number' | 'boolean';
  evaluate(scope: Scope): Value;
}

export const FUNCTIONS: Readonly<Record<string, readonly [min: number, max: number]>> = Object.freeze({
  sqrt: [1, 1], abs: [1, 1], log: [1, 2], exp: [1, 1], min: [1, Infinity], max: [1, Infinity], pow: [2, 2],
  round: [1, 2], floor: [1, 2], ceil: [1, 2],
});
const ARITHMETIC = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus']);
const COMPARISONS = new Set(['smaller', 'smallerEq', 'larger', 'largerEq', 'equal', 'unequal']);
const LOGIC = new Set(['and', 'or', 'not']);

const REFUSED: Record<string, string> = {
  AssignmentNode: 'assignments',
  FunctionAssignmentNode: 'function definitions',
  AccessorNode: 'property and index access',
  IndexNode: 'property and index access',
  ObjectNode: 'objects',
  ArrayNode: 'matrices',
  BlockNode: 'several statements',
  ConditionalNode: 'the ?: conditional',
  RangeNode: 'ranges',
};

const MAX_EXPRESSION_LENGTH = 1000;

type Fn = (scope: Scope) => Value;
interface Typed { type: 'number' | 'boolean'; fn: Fn }

/**
 * Parse `source` with mathjs and compile it over the whitelist: numbers, the `names` given, + - * / ^, comparisons
 * (chains too), and / or / not, parentheses and FUNCTIONS. Anything else is refused with one line naming `what`
 * (e.g. "--constraint") and what is allowed. `want` is the type the expression must have.
 */
export async function compileExpression(what: string, source: string, names: readonly string[], want: 'number' | 'boolean'): Promise<Compiled> {
  const { parse } = await loadMath();
  const allowed =
    `allowed: numbers, the names ${names.join(', ')}; + - * / ^, comparisons, and/or/not, parentheses; ` +
    `the functions ${Object.keys(FUNCTIONS).join(', ')}`;
  const refuse = (why: string): never => {
    throw new ConfigError(`${what} '${source}': ${why} (${allowed})`);
  };
  if (source.trim() === '') refuse('is empty');
  if (source.length > MAX_EXPRESSION_LENGTH) refuse(`is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let root: MathNode;
  try {
    root = parse(source);
  } catch (e) {
    return refuse(`does not parse: ${(e as Error).message}`);
  }
  const used = new Set<string>();
  const known = new Set(names);

  const numberOf = (node: MathNode): Fn => {
    const t = walk(node);
    if (t.type !== 'number') refuse(`'${node.toString()}' is a condition where a number is needed`);
    return t.fn;
  };
  const boolOf = (node: MathNode): Fn => {
    const t = walk(node);
    if (t.type !== 'boolean') refuse(`'${node.toString()}' is a number where a condition is needed`);
    return t.fn;
  };
  const num = (fn: Fn) => (s: Scope) => fn(s) as Rat;

  function walk(node: MathNode): Typed {
    const n = node as MathNode & Record<string, unknown>;
    switch (node.type) {
      case 'ConstantNode': {
        const v = n.value as unknown;
        if (typeof v !== 'object' || v === null || typeof (v as BigNumber).toFixed !== 'function') {
          return refuse(`${typeof v === 'string' ? 'strings' : typeof v === 'boolean' ? 'booleans' : `the constant '${String(v)}'`} are not allowed`);
        }
        let r: Rat;
        try {
          r = fromBig(v as BigNumber);
        } catch (e) {
          return refuse(`the number '${String(v)}': ${(e as Error).message}`);
        }
        return { type: 'number', fn: () => r };
      }
      case 'SymbolNode': {
        const name = n.name as string;
        if (!known.has(name)) return refuse(`unknown name '${name}'`);
        used.add(name);
        return { type: 'number', fn: (s) => s[name] };
      }
      case 'ParenthesisNode':
        return walk(n.content as MathNode);
      case 'OperatorNode': {
        const fnName = n.fn as string;
        const args = n.args as MathNode[];
        if (ARITHMETIC.has(fnName)) {
          const fs = args.map((a) => num(numberOf(a)));
          return { type: 'number', fn: arithmetic(fnName, fs) };
        }
        if (COMPARISONS.has(fnName)) {
          const [a, b] = args.map((x) => num(numberOf(x)));
          return { type: 'boolean', fn: (s) => compare(fnName, a(s), b(s)) };
        }
        if (LOGIC.has(fnName)) {
          const fs = args.map(boolOf);
          if (fnName === 'not') return { type: 'boolean', fn: (s) => !fs[0](s) };
          if (fnName === 'and') return { type: 'boolean', fn: (s) => (fs[0](s) as boolean) && (fs[1](s) as boolean) };
          return { type: 'boolean', fn: (s) => (fs[0](s) as boolean) || (fs[1](s) as boolean) };
        }
        return refuse(`the operator '${n.op as string}' is not allowed`);
      }
      case 'RelationalNode': {
        const conds = n.conditionals as string[];
        const fs = (n.params as MathNode[]).map((p) => num(numberOf(p)));
        return {
          type: 'boolean',
          fn: (s) => {
            const v = fs.map((f) => f(s));
            return conds.every((c, i) => compare(c, v[i], v[i + 1]));
          },
        };
      }
      case 'FunctionNode': {
        const f = n.fn as MathNode & { name?: string };
        if (f.type !== 'SymbolNode' || typeof f.name !== 'string') return refuse('only named functions can be called');
        const arity = Object.hasOwn(FUNCTIONS, f.name) ? FUNCTIONS[f.name] : undefined;
        if (arity === undefined) return refuse(`the function '${f.name}' is not allowed`);
        const args = n.args as MathNode[];
        if (args.length < arity[0] || args.length > arity[1]) {
          return refuse(`${f.name} takes ${arity[0] === arity[1] ? arity[0] : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} or ${arity[1]}`} argument(s), not ${args.length}`);
        }
        return { type: 'number', fn: call(f.name, args.map((a) => num(numberOf(a)))) };
      }
      default:
        return refuse(`${REFUSED[node.type] ?? `'${node.type}'`} are not allowed`);
    }
  }

  function arithmetic(fnName: string, fs: ((s: Scope) => Rat)[]): Fn {
    const [a, b] = fs;
    switch (fnName) {
      case 'add': return (s) => checked(a(s).add(b(s)));
      case 'subtract': return (s) => checked(a(s).sub(b(s)));
      case 'multiply': return (s) => checked(a(s).mul(b(s)));
      case 'divide': return (s) => checked(a(s).div(b(s)));
      case 'pow': return (s) => power(a(s), b(s));
      case 'unaryMinus': return (s) => a(s).neg();
      default: return (s) => a(s); // unaryPlus
    }
  }

  function call(name: string, fs: ((s: Scope) => Rat)[]): Fn {
    const [a, b] = fs;
    const places = (s: Scope): number => {
      if (!b) return 0;
      const p = b(s);
      if (!p.isInteger() || p.sign() < 0 || p.n > 64n) throw new ExprError(`${name}: decimal places ${p.toDecimal()} must be an integer 0..64`);
      return Number(p.n);
    };
    switch (name) {
      case 'sqrt':
        return (s) => sqrt(a(s));
      case 'abs': return (s) => a(s).abs();
      case 'exp': return (s) => fromBig(toBig(a(s)).exp());
      case 'log':
        return (s) => {
          const x = a(s);
          if (x.sign() <= 0) throw new ExprError(`log of ${x.toDecimal()} (it needs a number > 0)`);
          if (x.eq(Rat.ONE)) return Rat.ZERO;
          const lx = toBig(x).ln();
          if (!b) return fromBig(lx);
          const base = b(s);
          if (base.sign() <= 0 || base.eq(Rat.ONE)) throw new ExprError(`log base ${base.toDecimal()} (it needs a number > 0 other than 1)`);
          return fromBig(lx.div(toBig(base).ln()));
        };
      case 'min': return (s) => fs.map((f) => f(s)).reduce((m, x) => (x.lt(m) ? x : m));
      case 'max': return (s) => fs.map((f) => f(s)).reduce((m, x) => (m.lt(x) ? x : m));
      case 'pow': return (s) => power(a(s), b(s));
      default: {
        const mode = name as 'round' | 'floor' | 'ceil';
        return (s) => a(s).roundTo(places(s), mode);
      }
    }
  }

  const t = walk(root);
  if (t.type !== want) {
    refuse(want === 'number' ? 'is a condition; a number is needed here' : "is a number; a condition is needed here (a comparison such as 'activationsRatio <= 2.2')");
  }
  return {
    source,
    canonical: root.toString({ parenthesis: 'auto', implicit: 'show' }),
    names: used,
    type: t.type,
    evaluate: t.fn,
  };
}

function compare(op: string, a: Rat, b: Rat): boolean {
  const c = a.cmp(b);
  switch (op) {
    case 'smaller': return c < 0;
    case 'smallerEq': return c <= 0;
    case 'larger': return c > 0;
    case 'largerEq': return c >= 0;
    case 'equal': return c === 0;
    default: return c !== 0; // unequal
  }
}

/** floor(sqrt(x)) for x >= 0 (Newton's method on BigInt). */
function isqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(bitLength(x) / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}
