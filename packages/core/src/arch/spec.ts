import { SpecError } from '../errors.js';
import { B0_BLOCK_STRINGS } from './blocks.js';
import { isPresetName, PRESET_NAMES, PRESETS } from './presets.js';

/** The paper's grid-search result. */
export const PAPER_COEFFICIENTS = Object.freeze({ alpha: 1.2, beta: 1.1, gamma: 1.15 });
export const DEFAULT_BASE_RESOLUTION = 224;
export const DEFAULT_DROPOUT = 0.2;
export const DEFAULT_DROP_CONNECT_RATE = 0.2;
/**
 * Keras BatchNormalization defaults, which EfficientNet keeps. Defined here only: BN settings are architecture data,
 * carried by every batch_norm layer of the resolved architecture, so counts, checkpoints and the model builder
 * (model/ops.ts imports these for hand-written layer lists) cannot disagree.
 */
export const DEFAULT_BN_MOMENTUM = 0.99;
export const BN_EPSILON = 1e-3;

/** The three ways to name a network. */
export type NetworkSelector =
  | { kind: 'preset'; preset: string }
  | { kind: 'compound'; phi: number; alpha?: number; beta?: number; gamma?: number; baseResolution?: number }
  | { kind: 'multipliers'; depth: number; width: number; resolution?: number; resolutionMultiplier?: number; baseResolution?: number };

export interface NetworkOptions {
  classes?: number;
  inputChannels?: number;
  /** Input side in pixels; overrides whatever the selector implies. */
  resolution?: number;
  dropout?: number;
  dropConnectRate?: number;
  /** BatchNormalization moving-average momentum (Keras semantics); 0.99 unless given. */
  bnMomentum?: number;
  /** Baseline block strings; B0 unless given. */
  blocks?: readonly string[];
  stemFilters?: number;
  headFilters?: number;
  /** Label used in outputs; derived from the selector unless given. */
  name?: string;
}

export interface NetworkSpec extends NetworkOptions {
  selector: NetworkSelector;
}

/** A spec with every default filled in and every value validated. */
export interface ScaledSpec {
  name: string;
  depth: number;
  width: number;
  resolution: number;
  classes: number;
  inputChannels: number;
  dropout: number;
  dropConnectRate: number;
  bnMomentum: number;
  blocks: readonly string[];
  stemFilters: number;
  headFilters: number;
  /** Compound selectors keep their coefficients for reporting. */
  compound?: { phi: number; alpha: number; beta: number; gamma: number; baseResolution: number };
  preset?: string;
}


function finite(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpecError(`${what} '${v}' is not a finite number`);
  return v;
}
function positive(v: number, what: string): number {
  finite(v, what);
  if (v <= 0) throw new SpecError(`${what} ${v} must be > 0`);
  return v;
}
function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new SpecError(`${what} '${v}' must be a positive integer`);
  return v;
}
function rate(v: number, what: string): number {
  finite(v, what);
  if (v < 0 || v >= 1) throw new SpecError(`${what} ${v} must be in [0, 1)`);
  return v;
}

/** Short, stable number formatting for names: 1.2 -> "1.2", 1.1^2 -> "1.21". */
export function fmt(x: number, digits = 4): string {
  return String(Number(x.toFixed(digits)));
}

export function scaleSpec(spec: NetworkSpec): ScaledSpec {
  const sel = spec.selector;
  let depth: number;
  let width: number;
  let resolution: number;
  let dropout = DEFAULT_DROPOUT;
  let name: string;
  let compound: ScaledSpec['compound'];
  let preset: string | undefined;

  if (sel.kind === 'preset') {
    const key = sel.preset.toLowerCase();
    if (!isPresetName(key)) {
      throw new SpecError(`unknown model '${sel.preset}' (allowed: ${PRESET_NAMES.join(', ')}, all)`);
    }
    const p = PRESETS[key];
    ({ depth, width, resolution, dropout } = p);
    name = key;
    preset = key;
  } else if (sel.kind === 'compound') {
    const phi = finite(sel.phi, 'phi');
    const alpha = positive(sel.alpha ?? PAPER_COEFFICIENTS.alpha, 'alpha');
    const beta = positive(sel.beta ?? PAPER_COEFFICIENTS.beta, 'beta');
    const gamma = positive(sel.gamma ?? PAPER_COEFFICIENTS.gamma, 'gamma');
    const base = positiveInt(sel.baseResolution ?? DEFAULT_BASE_RESOLUTION, 'base resolution');
    depth = alpha ** phi;
    width = beta ** phi;
    resolution = Math.round(base * gamma ** phi);
    if (resolution < 1) throw new SpecError(`phi ${phi} gives a resolution of ${resolution} px; it must be >= 1`);
    compound = { phi, alpha, beta, gamma, baseResolution: base };
    const coeffs =
      alpha === PAPER_COEFFICIENTS.alpha && beta === PAPER_COEFFICIENTS.beta && gamma === PAPER_COEFFICIENTS.gamma
        ? ''
        : `@a${fmt(alpha)}b${fmt(beta)}g${fmt(gamma)}`;
    name = `phi${fmt(phi)}${coeffs}`;
  } else if (sel.kind === 'multipliers') {
    depth = positive(sel.depth, 'depth');
    width = positive(sel.width, 'width');
    const base = positiveInt(sel.baseResolution ?? DEFAULT_BASE_RESOLUTION, 'base resolution');
    if (sel.resolution !== undefined && sel.resolutionMultiplier !== undefined) {
      throw new SpecError('give either a resolution in pixels or a resolution multiplier, not both');
    }
    if (sel.resolution !== undefined) {
      resolution = positiveInt(sel.resolution, 'resolution');
    } else {
      const r = positive(sel.resolutionMultiplier ?? 1, 'resolution multiplier');
      resolution = Math.round(base * r);
      if (resolution < 1) throw new SpecError(`resolution multiplier ${r} gives ${resolution} px; it must be >= 1`);
    }
    name = `d${fmt(depth)}-w${fmt(width)}-r${resolution}`;
  } else {
    throw new SpecError(`unknown selector kind '${(sel as { kind: string }).kind}'`);
  }

  if (spec.resolution !== undefined) resolution = positiveInt(spec.resolution, 'resolution');
  if (spec.dropout !== undefined) dropout = rate(spec.dropout, 'dropout');
  const classes = positiveInt(spec.classes ?? 1000, 'classes');
  const inputChannels = positiveInt(spec.inputChannels ?? 3, 'input channels');
  const dropConnectRate = rate(spec.dropConnectRate ?? DEFAULT_DROP_CONNECT_RATE, 'drop-connect rate');
  const bnMomentum = rate(spec.bnMomentum ?? DEFAULT_BN_MOMENTUM, 'BN momentum');
  const stemFilters = positiveInt(spec.stemFilters ?? 32, 'stem filters');
  const headFilters = positiveInt(spec.headFilters ?? 1280, 'head filters');
  const blocks = spec.blocks ?? B0_BLOCK_STRINGS;
  if (blocks.length === 0) throw new SpecError('a network needs at least one block string');

  if (spec.name !== undefined) name = spec.name;
  else if (spec.resolution !== undefined && sel.kind !== 'multipliers') name = `${name}@${resolution}px`;

  return {
    name,
    depth,
    width,
    resolution,
    classes,
    inputChannels,
    dropout,
    dropConnectRate,
    bnMomentum,
    blocks,
    stemFilters,
    headFilters,
    ...(compound ? { compound } : {}),
    ...(preset ? { preset } : {}),
  };
}
