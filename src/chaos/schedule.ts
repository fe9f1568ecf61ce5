import { Random } from '../simulator/random.ts';

/** What the faulty gateway does to the next call(s); `slow` stays until the next fault step. */
export type FaultKind =
  'decline' | 'error' | 'slow' | 'timeout-after-charge' | 'timeout-before-charge' | 'refund-refused';
export const FAULT_KINDS: readonly FaultKind[] = [
  'decline',
  'error',
  'slow',
  'timeout-after-charge',
  'timeout-before-charge',
  'refund-refused',
];

export type Step =
  | { op: 'register'; card: string }
  /** A registration whose subscription step fails after the charge: it must refund (a refusal parks it). */
  | { op: 'register-then-fail'; card: string }
  | { op: 'cancel'; atPeriodEnd: boolean; pick: number }
  | { op: 'change-card'; card: string; pick: number }
  | { op: 'advance'; days: number }
  | { op: 'fault'; kind: Exclude<FaultKind, 'decline'>; count: number; latencyMs: number };

const GOOD_CARDS = ['pm_card_visa', 'pm_card_mastercard'];
const DECLINING_CARDS = [
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedExpiredCard',
];

/**
 * A seeded random schedule: registrations (some declined, some failing after the charge),
 * cancellations now and at period end, card changes, clock advances through renewals and dunning,
 * and gateway faults in between. The same seed gives the same schedule.
 */
export function scheduleOf(seed: number, length = 12): Step[] {
  const random = new Random(seed);
  const steps: Step[] = [{ op: 'register', card: random.pick(GOOD_CARDS) }];
  while (steps.length < length) {
    const dice = random.next();
    const card = random.chance(0.2) ? random.pick(DECLINING_CARDS) : random.pick(GOOD_CARDS);
    if (dice < 0.3) steps.push({ op: 'register', card });
    else if (dice < 0.38) steps.push({ op: 'register-then-fail', card: random.pick(GOOD_CARDS) });
    else if (dice < 0.48) steps.push({ op: 'cancel', atPeriodEnd: random.chance(0.5), pick: random.int(0, 1_000) });
    else if (dice < 0.58) steps.push({ op: 'change-card', card, pick: random.int(0, 1_000) });
    else if (dice < 0.75) steps.push({ op: 'advance', days: random.pick([1, 2, 5, 15, 31, 33]) });
    else {
      const kind = random.pick(FAULT_KINDS.filter((k): k is Exclude<FaultKind, 'decline'> => k !== 'decline'));
      steps.push({
        op: 'fault',
        kind,
        count: random.int(1, kind === 'refund-refused' ? 7 : 3),
        latencyMs: random.int(50, 600),
      });
    }
  }
  steps.push({ op: 'advance', days: 40 }); // through the renewals and dunning the schedule left pending
  return steps;
}

export const isDeclining = (card: string): boolean => DECLINING_CARDS.includes(card);
