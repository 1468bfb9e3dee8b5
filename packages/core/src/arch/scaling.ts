/** Channel and repeat rounding exactly as the official code and Keras Applications. */
export function roundFilters(filters: number, widthCoefficient: number, divisor = 8): number {
  const x = filters * widthCoefficient;
  let n = Math.max(divisor, Math.floor(Math.floor(x + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * x) n += divisor;
  return n;
}

export function roundRepeats(repeats: number, depthCoefficient: number): number {
  return Math.ceil(depthCoefficient * repeats);
}
