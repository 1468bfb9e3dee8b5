import { backend_util } from '@tensorflow/tfjs-core';
import type { PatchGeometry } from './simd.js';

export type Conv2DInfo = backend_util.Conv2DInfo;

export function requireChannelsLast(info: Conv2DInfo, kernel: string): void {
  if (info.dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm: dataFormat '${info.dataFormat}' is not supported (allowed: channelsLast / NHWC)`);
  }
}

export function requireNoDilation(info: Conv2DInfo, kernel: string): void {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(
      `${kernel} on wasm: dilations [${info.dilationHeight}, ${info.dilationWidth}] are not supported (allowed: [1, 1])`,
    );
  }
}

/** A 1x1 convolution with stride 1 and no padding is a matrix product over N*H*W rows. */
export function isPointwise(info: Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.inHeight === info.outHeight && info.inWidth === info.outWidth
  );
}

/**
 * Padding for the input gradient computed as a stride-1 'valid' correlation of the zero-inserted
 * output gradient with the spatially reversed filter: rows before/after the dilated gradient.
 */
export function inputGradPadding(info: Conv2DInfo): { top: number; left: number; height: number; width: number } {
  return {
    top: info.filterHeight - 1 - info.padInfo.top,
    left: info.filterWidth - 1 - info.padInfo.left,
    height: info.inHeight + info.filterHeight - 1,
    width: info.inWidth + info.filterWidth - 1,
  };
}

/**
 * Padding for the filter gradient computed as a correlation of the input with the output gradient
 * used as a filter dilated by the stride: [top, bottom, left, right], bottom/right clamped at 0
 * (the extra output rows that then appear are cropped by the caller).
 */
export function filterGradPadding(info: Conv2DInfo): { pad: [number, number, number, number]; outH: number; outW: number } {
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const spanH = (info.outHeight - 1) * info.strideHeight + 1;
  const spanW = (info.outWidth - 1) * info.strideWidth + 1;
  const bottom = Math.max(0, info.filterHeight - 1 + spanH - info.inHeight - top);
  const right = Math.max(0, info.filterWidth - 1 + spanW - info.inWidth - left);
  return {
    pad: [top, bottom, left, right],
    outH: info.inHeight + top + bottom - spanH + 1,
    outW: info.inWidth + left + right - spanW + 1,
  };
}

/** Convolutions whose patch (kh * kw * inChannels, e.g. a stem on 1- or 3-channel images) is this small use im2col. */
export const SMALL_PATCH = 32;

export function hasSmallPatch(info: Conv2DInfo): boolean {
  return info.filterHeight * info.filterWidth * info.inChannels <= SMALL_PATCH;
}

/** The geometry arguments of the im2col / col2im / depthwise SIMD kernels, in their order. */
export function patchGeometry(info: Conv2DInfo): PatchGeometry {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
}
