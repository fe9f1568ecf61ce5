import { addMonths } from '../domain/subscription/period.ts';
import {
  defaultBehaviour,
  riskyPlanOf,
  scriptCustomer,
  type BehaviourModel,
  type CustomerScript,
  type SimulatedPlan,
} from './customer-behaviour.ts';
import type { PlatformClient } from './platform-client.ts';
import type { Random } from './random.ts';
import { runConcurrently } from './run-concurrently.ts';

const DAY_MS = 86_400_000;

export interface SimulationOptions {
  customers: number;
  months: number;
  concurrency: number;
  /** Makes emails and Idempotency-Keys unique to this run, so a repeated seed is not a replay of the last run. */
  runId: string;
  behaviour?: BehaviourModel;
}

/** What the simulator itself did and saw (the platform's own figures are read at the end). */
export interface Observed {
  registrations: number;
  declines: number;
  /** Registrations that failed for another reason. */
  failedRegistrations: number;
  /** The first of those reasons (status and detail of the answer). */
  firstRegistrationFailure: string | null;
  cancelRequests: { now: number; atPeriodEnd: number };
  /** Cancellations asked for a subscription that had already been cancelled (by dunning) or ended. */
  cancelsTooLate: number;
  cardsFailing: number;
  cardsFixed: number;
  /** Actions skipped because the platform no longer knew the customer (erased after its subscription ended). */
  customersGone: number;
}

export interface SimulatedSubscription {
  customerId: string;
  subscriptionId: string;
  plan: SimulatedPlan;
}

export interface SimulationResult {
  startedAt: string;
  endedAt: string;
  days: number;
  plans: SimulatedPlan[];
  riskyPlan: SimulatedPlan;
  observed: Observed;
  subscriptions: SimulatedSubscription[];
  /** The highest store position a write answered with (read-your-writes on the read side). */
  lastPosition: number | null;
}

/** Told as the days go by; the CLI draws a progress bar, a test stays quiet. */
export interface ProgressListener {
  started?(days: number, startedAt: string): void;
  day?(day: number, now: string, observed: Observed): void;
  month?(month: number, months: number, now: string, observed: Observed): void;
}

/**
 * Drives a running platform through its public API: customers sign up over the months, the test
 * clock moves a day at a time (renewals and dunning run on the way), some customers cancel, now
 * or at the period end, and some cards stop working at renewal time.
 */
export class Simulation {
  private readonly observed: Observed = {
    registrations: 0,
    declines: 0,
    failedRegistrations: 0,
    firstRegistrationFailure: null,
    cancelRequests: { now: 0, atPeriodEnd: 0 },
    cancelsTooLate: 0,
    cardsFailing: 0,
    cardsFixed: 0,
    customersGone: 0,
  };
  private readonly registered = new Map<number, SimulatedSubscription>();
  /** Customers the platform no longer knows, and those who have cancelled (their cards no longer matter). */
  private readonly done = new Set<number>();
  private lastPosition: number | null = null;

  constructor(
    private readonly client: PlatformClient,
    private readonly random: Random,
    private readonly options: SimulationOptions,
    private readonly progress: ProgressListener = {},
  ) {}

  async run(): Promise<SimulationResult> {
    const startedAt = await this.client.now();
    const plans = await this.client.plans();
    const endsAt = addMonths(startedAt, this.options.months);
    const days = Math.round((Date.parse(endsAt) - Date.parse(startedAt)) / DAY_MS);
    const behaviour = this.options.behaviour ?? defaultBehaviour;
    const scripts = Array.from({ length: this.options.customers }, (_, index) =>
      scriptCustomer(this.random.fork(index), index, plans, days, behaviour),
    );
    const schedule = dailySchedule(scripts, days);

    this.progress.started?.(days, startedAt);
    let month = 1;
    for (let day = 0; day < days; day++) {
      const today = schedule[day]!;
      await runConcurrently(today.signups, this.options.concurrency, (script) => this.signUp(script));
      await runConcurrently(today.actions, this.options.concurrency, async (actions) => {
        for (const action of actions) await this.act(action);
      });
      const now = new Date(Date.parse(startedAt) + (day + 1) * DAY_MS).toISOString();
      await this.client.advanceTo(now);
      this.progress.day?.(day + 1, now, this.observed);
      if (day + 1 === days || now >= addMonths(startedAt, month)) {
        this.progress.month?.(month, this.options.months, now, this.observed);
        month++;
      }
    }
    return {
      startedAt,
      endedAt: await this.client.now(),
      days,
      plans,
      riskyPlan: riskyPlanOf(plans),
      observed: this.observed,
      subscriptions: [...this.registered.entries()].sort(([a], [b]) => a - b).map(([, subscription]) => subscription),
      lastPosition: this.lastPosition,
    };
  }

  private key(what: string, index: number): string {
    return `sim-${this.options.runId}-${what}-${index}`;
  }

  private async signUp(script: CustomerScript): Promise<void> {
    const outcome = await this.client.register(
      {
        email: `sim-${this.options.runId}-${script.index}@example.com`,
        name: `Simulated Customer ${script.index}`,
        planId: script.plan.id,
        paymentMethod: script.card,
      },
      this.key('register', script.index),
    );
    if (outcome.kind === 'completed') {
      this.observed.registrations++;
      this.registered.set(script.index, {
        customerId: outcome.customerId,
        subscriptionId: outcome.subscriptionId,
        plan: script.plan,
      });
      this.seen(outcome.position);
    } else if (outcome.kind === 'declined') this.observed.declines++;
    else {
      this.observed.failedRegistrations++;
      this.observed.firstRegistrationFailure ??= `${outcome.status}: ${outcome.detail}`;
    }
  }

  private async act(action: Action): Promise<void> {
    const { script } = action;
    const subscription = this.registered.get(script.index);
    if (!subscription || this.done.has(script.index)) return; // its registration failed, or it is over
    switch (action.kind) {
      case 'card-fails':
        if (await this.client.setPaymentMethod(subscription.customerId, script.cardFailure!.card))
          this.observed.cardsFailing++;
        else this.gone(script.index);
        return;
      case 'card-fixed':
        if (await this.client.setPaymentMethod(subscription.customerId, script.cardFailure!.fixCard))
          this.observed.cardsFixed++;
        else this.gone(script.index);
        return;
      case 'cancel': {
        const { atPeriodEnd, reason } = script.cancel!;
        const after = await this.client.cancel(
          subscription.subscriptionId,
          { atPeriodEnd, ...(reason ? { reason } : {}) },
          this.key('cancel', script.index),
        );
        if (!after) return this.gone(script.index);
        this.done.add(script.index);
        const ours =
          after.cancellation !== null &&
          after.cancellation.reason !== 'payment_failed' &&
          after.cancellation.atPeriodEnd === atPeriodEnd;
        if (!ours) this.observed.cancelsTooLate++;
        else if (atPeriodEnd) this.observed.cancelRequests.atPeriodEnd++;
        else this.observed.cancelRequests.now++;
        this.seen(after.position ?? null);
        return;
      }
    }
  }

  private gone(index: number): void {
    this.done.add(index);
    this.observed.customersGone++;
  }

  private seen(position: number | null): void {
    if (position !== null && (this.lastPosition === null || position > this.lastPosition)) this.lastPosition = position;
  }
}

type Action = { kind: 'card-fails' | 'card-fixed' | 'cancel'; script: CustomerScript };

/** Each day's sign-ups, and each customer's other actions of the day (run one after the other, customers side by side). */
function dailySchedule(
  scripts: readonly CustomerScript[],
  days: number,
): { signups: CustomerScript[]; actions: Action[][] }[] {
  const byDay = Array.from({ length: days }, () => ({
    signups: [] as CustomerScript[],
    actions: new Map<number, Action[]>(),
  }));
  const add = (day: number, action: Action) => {
    const actions = byDay[day]!.actions;
    actions.set(action.script.index, [...(actions.get(action.script.index) ?? []), action]);
  };
  for (const script of scripts) {
    byDay[script.signupDay]!.signups.push(script);
    if (script.cardFailure) {
      add(script.cardFailure.day, { kind: 'card-fails', script });
      if (script.cardFailure.fixedOnDay !== null) add(script.cardFailure.fixedOnDay, { kind: 'card-fixed', script });
    }
    if (script.cancel) add(script.cancel.day, { kind: 'cancel', script });
  }
  return byDay.map(({ signups, actions }) => ({ signups, actions: [...actions.values()] }));
}
