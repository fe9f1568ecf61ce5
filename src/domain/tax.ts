/**
 * Prices are tax-inclusive: the customer is charged the plan price, and the invoice shows the tax
 * inside it (like Stripe's inclusive tax rates), so the invoice total always equals the charge.
 *
 *   tax = round(total * rate / (10000 + rate)),  rate in basis points, rounded half up
 *   subtotal = total - tax
 *
 * Computed on integers (BigInt), never floats: 2900 at 2000 bps (20%) is 483 tax + 2417 net.
 */
export function inclusiveTax(total: number, rateBps: number): { subtotal: number; tax: number } {
  if (!Number.isSafeInteger(total) || total < 0)
    throw new RangeError(`total: a non-negative integer of minor units, got ${total}`);
  if (!Number.isInteger(rateBps) || rateBps < 0 || rateBps > 10_000)
    throw new RangeError(`tax rate: 0..10000 basis points, got ${rateBps}`);
  const tax = Number(roundHalfUp(BigInt(total) * BigInt(rateBps), BigInt(10_000 + rateBps)));
  return { subtotal: total - tax, tax };
}

/** numerator / denominator rounded half up, for non-negative integers. */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n)
    throw new RangeError('roundHalfUp: a non-negative numerator over a positive denominator');
  return (2n * numerator + denominator) / (2n * denominator);
}
