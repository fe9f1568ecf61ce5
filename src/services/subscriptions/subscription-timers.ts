import type { DeferredWrites } from '../../kernel/store/deferred-writes.ts';
import type { Subscription } from '../../domain/subscription/decider.ts';
import { nextRenewalDue } from '../../domain/subscription/schedule.ts';
import type { Sql } from '../../kernel/db/database.ts';

/** The next time the scheduler must look at this subscription (a renewal, a dunning retry or its end), or null. */
export function nextTimer(state: Subscription): string | null {
  if (state.status === 'none' || state.status === 'cancelled' || state.status === 'ended') return null;
  const times = [nextRenewalDue(state)?.dueAt, state.cancelAt].filter((time): time is string => Boolean(time));
  return times.length ? times.sort()[0]! : null;
}

export async function reschedule(sql: Sql, subscriptionId: string, state: Subscription): Promise<void> {
  const due = nextTimer(state);
  if (due) {
    await sql.query(
      `insert into subscription_timers (subscription_id, due_at) values ($1, $2)
       on conflict (subscription_id) do update set due_at = excluded.due_at`,
      [subscriptionId, due],
    );
  } else {
    await sql.query('delete from subscription_timers where subscription_id = $1', [subscriptionId]);
  }
}

/**
 * A new subscription's first timer and the card its renewals charge (kept once per customer),
 * written with the registration's checkpoint: what a registration leaves for the scheduler.
 */
export function scheduleNew(writes: DeferredWrites, state: Subscription, paymentMethod: string): void {
  const due = nextTimer(state);
  if (state.status === 'none' || !due) throw new Error('a new subscription has a first renewal to schedule');
  writes.write(
    `insert into payment_methods (customer_id, token) values ($1, $2) on conflict (customer_id) do nothing`,
    [state.customerId, paymentMethod],
  );
  writes.write(
    `insert into subscription_timers (subscription_id, due_at) values ($1, $2)
     on conflict (subscription_id) do update set due_at = excluded.due_at`,
    [state.subscriptionId, due],
  );
}
