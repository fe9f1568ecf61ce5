import { roundHalfUp } from '../tax.ts';

/**
 * Revenue recognition, pure: a charge's net amount is earned in a straight line over the days of
 * its service period. Day d (1..days) ends at `start + d days` (the last at the period's end);
 * what is recognised by the end of day d is
 *
 *   anchorRecognised + floor(anchorDeferred * (d - anchorDay) / (days - anchorDay))
 *
 * so every day's amount is an integer, the rounding never accumulates, and the last day takes
 * what is left. Without refunds the anchor is the start (day 0, nothing recognised, the whole net
 * amount deferred); a refund re-anchors the line at the day it is posted on, with what is still
 * deferred after it.
 */
export const DAY_MS = 86_400_000;

export interface StraightLine {
  days: number;
  anchorDay: number;
  anchorRecognised: number;
  anchorDeferred: number;
}

export interface Span {
  start: Date;
  end: Date;
}

/** The days of a service period; one that does not last a whole number of days counts its part day as one. */
export const daysOf = (period: Span): number =>
  Math.max(1, Math.ceil((period.end.getTime() - period.start.getTime()) / DAY_MS));

/** How many days of the period have ended at `at` (0 before the first ends; all of them from the period's end). */
export function daysEnded(period: Span, at: Date): number {
  const days = daysOf(period);
  if (at.getTime() >= period.end.getTime()) return days;
  return Math.min(days, Math.max(0, Math.floor((at.getTime() - period.start.getTime()) / DAY_MS)));
}

/** When day `day` of the period ends (its revenue is earned then). */
export const dayEnd = (period: Span, day: number): Date =>
  day >= daysOf(period) ? period.end : new Date(period.start.getTime() + day * DAY_MS);

/** Recognised in total by the end of day `day`. */
export function recognisedBy(line: StraightLine, day: number): number {
  if (day <= line.anchorDay) return line.anchorRecognised;
  if (day >= line.days) return line.anchorRecognised + line.anchorDeferred;
  const earned = (BigInt(line.anchorDeferred) * BigInt(day - line.anchorDay)) / BigInt(line.days - line.anchorDay);
  return line.anchorRecognised + Number(earned);
}

/** The amounts of days `afterDay + 1 .. throughDay`, leaving out days that earn nothing (tiny amounts over long periods). */
export function dailyAmounts(
  line: StraightLine,
  afterDay: number,
  throughDay: number,
): { day: number; amount: number }[] {
  const amounts: { day: number; amount: number }[] = [];
  let before = recognisedBy(line, afterDay);
  for (let day = afterDay + 1; day <= Math.min(throughDay, line.days); day++) {
    const by = recognisedBy(line, day);
    if (by !== before) amounts.push({ day, amount: by - before });
    before = by;
  }
  return amounts;
}

/** Where a charge stands when a refund comes (all minor units of the charge's currency). */
export interface RefundBasis {
  /** The charge, tax included. */
  gross: number;
  tax: number;
  /** The net amount deferred at the charge (gross - tax). */
  amount: number;
  recognised: number;
  /** Deferred revenue already taken out by earlier refunds. */
  released: number;
  /** Earlier refunds, tax included, and their tax. */
  refunded: number;
  refundedTax: number;
}

export interface RefundSplit {
  /** Out of Tax Payable. */
  tax: number;
  /** Out of Deferred Revenue: the refunded service not yet earned. */
  deferred: number;
  /** To Refunds: revenue already recognised that is given back. */
  refunds: number;
}

/** A refund larger than what is left of its charge. */
export class RefundExceedsChargeError extends Error {
  override readonly name = 'RefundExceedsChargeError';
}

/**
 * What a refund reverses. Its tax share is the charge's tax in proportion (cumulative, so a full
 * refund returns all the tax); its net share comes out of Deferred Revenue and Refunds in the
 * proportion of the net not yet refunded that is still unearned: a full refund takes everything
 * still deferred, and books what was already recognised to Refunds.
 */
export function splitRefund(basis: RefundBasis, refund: number): RefundSplit {
  if (!Number.isSafeInteger(refund) || refund <= 0)
    throw new RefundExceedsChargeError(`refund ${refund}: a positive integer of minor units`);
  const left = basis.gross - basis.refunded;
  if (refund > left)
    throw new RefundExceedsChargeError(`refund of ${refund} exceeds the ${left} left of a charge of ${basis.gross}`);
  const taxByNow = Number(roundHalfUp(BigInt(basis.tax) * BigInt(basis.refunded + refund), BigInt(basis.gross)));
  const tax = taxByNow - basis.refundedTax;
  const net = refund - tax;
  const unrecognised = basis.amount - basis.recognised - basis.released;
  const netLeft = left - (basis.tax - basis.refundedTax);
  const share = netLeft === 0 ? 0 : Number(roundHalfUp(BigInt(net) * BigInt(unrecognised), BigInt(netLeft)));
  const deferred = Math.max(0, Math.min(unrecognised, share, net));
  return { tax, deferred, refunds: net - deferred };
}
