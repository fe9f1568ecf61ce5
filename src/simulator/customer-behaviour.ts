import type { Random } from './random.ts';

export interface SimulatedPlan {
  id: string;
  amount: number;
  currency: string;
  interval: 'month' | 'year';
}

/** Stripe's test payment methods (src/services/payments/gateway/simulated-gateway.ts). */
export const GOOD_CARDS = ['pm_card_visa', 'pm_card_mastercard'] as const;
export const DECLINING_CARDS = [
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedExpiredCard',
] as const;
/** What a card that stops working at renewal time looks like. */
const FAILING_RENEWAL_CARDS = ['pm_card_chargeDeclinedInsufficientFunds', 'pm_card_chargeDeclinedExpiredCard'] as const;

const CANCEL_REASONS = [
  'too expensive',
  'missing a feature I need',
  'switching to a competitor',
  'no longer needed',
  'too hard to use',
];

/**
 * The rates the simulated customers follow. One plan (the `riskyPlan`) churns `riskyPlanFactor`
 * times as often as the others: the planted signal the churn model is expected to find.
 */
export interface BehaviourModel {
  /** Share of sign-ups whose card is declined. */
  declineRate: number;
  /** Chance a monthly customer decides to leave in a given month. */
  monthlyChurn: number;
  /** The same for a customer on a yearly plan (they have paid ahead: lower). */
  yearlyPlanMonthlyChurn: number;
  riskyPlanFactor: number;
  /** Of the leavers, how many cancel at once rather than at the end of the paid period. */
  cancelNowShare: number;
  /** Of the leavers, how many say why. */
  reasonShare: number;
  /** Chance a customer's card stops working in a given month. */
  cardFailurePerMonth: number;
  /** Of those, how many put a working card back (maybe in time for dunning, maybe not). */
  cardFixShare: number;
  /** Sign-up weight of monthly and yearly plans. */
  planWeight: { month: number; year: number };
}

export const defaultBehaviour: BehaviourModel = {
  declineRate: 0.08,
  monthlyChurn: 0.05,
  yearlyPlanMonthlyChurn: 0.015,
  riskyPlanFactor: 3,
  cancelNowShare: 0.35,
  reasonShare: 0.6,
  cardFailurePerMonth: 0.03,
  cardFixShare: 0.5,
  planWeight: { month: 3, year: 1 },
};

/** The cheapest monthly plan (the one the price-sensitive customers churn from), else the cheapest. */
export function riskyPlanOf(plans: readonly SimulatedPlan[]): SimulatedPlan {
  const byPrice = [...plans].sort((a, b) => a.amount - b.amount || a.id.localeCompare(b.id));
  const plan = byPrice.find((p) => p.interval === 'month') ?? byPrice[0];
  if (!plan) throw new RangeError('the platform has no plans');
  return plan;
}

/** What one customer will do, day numbers counted from the start of the simulation. */
export interface CustomerScript {
  index: number;
  signupDay: number;
  plan: SimulatedPlan;
  card: string;
  declines: boolean;
  cancel: { day: number; atPeriodEnd: boolean; reason: string | undefined } | null;
  cardFailure: { day: number; card: string; fixedOnDay: number | null; fixCard: string } | null;
}

const DAYS_PER_MONTH = 30;
const perDay = (perMonth: number) => 1 - Math.pow(1 - Math.min(perMonth, 0.99), 1 / DAYS_PER_MONTH);
const within = (day: number, totalDays: number) => (day < totalDays ? day : null);

/** Draws a customer's whole life in the simulation from its own random stream. */
export function scriptCustomer(
  random: Random,
  index: number,
  plans: readonly SimulatedPlan[],
  totalDays: number,
  model: BehaviourModel = defaultBehaviour,
): CustomerScript {
  const risky = riskyPlanOf(plans);
  const signupDay = random.int(0, totalDays);
  const plan = random.weighted(plans.map((p) => [p, model.planWeight[p.interval]] as const));
  const declines = random.chance(model.declineRate);
  const card = declines ? random.pick(DECLINING_CARDS) : random.pick(GOOD_CARDS);

  const churn =
    (plan.interval === 'year' ? model.yearlyPlanMonthlyChurn : model.monthlyChurn) *
    (plan.id === risky.id ? model.riskyPlanFactor : 1);
  const cancelDay = within(signupDay + random.daysUntil(perDay(churn)), totalDays);
  const atPeriodEnd = !random.chance(model.cancelNowShare);
  const reason = random.chance(model.reasonShare) ? random.pick(CANCEL_REASONS) : undefined;

  const failureDay = within(signupDay + random.daysUntil(perDay(model.cardFailurePerMonth)), totalDays);
  const failingCard = random.pick(FAILING_RENEWAL_CARDS);
  const fixes = random.chance(model.cardFixShare);
  const fixDelay = random.int(1, 21);
  const fixCard = random.pick(GOOD_CARDS);

  return {
    index,
    signupDay,
    plan,
    card,
    declines,
    cancel: declines || cancelDay === null ? null : { day: cancelDay, atPeriodEnd, reason },
    cardFailure:
      declines || failureDay === null
        ? null
        : {
            day: failureDay,
            card: failingCard,
            fixedOnDay: fixes ? within(failureDay + fixDelay, totalDays) : null,
            fixCard,
          },
  };
}
