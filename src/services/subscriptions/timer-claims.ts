import type { Migration } from '../../kernel/db/migrate.ts';
import type { Sql } from '../../kernel/db/database.ts';

/**
 * Several scheduler processes share the due timers: each claims a batch with `FOR UPDATE SKIP
 * LOCKED` and marks it with a lease, so the others skip those rows while it charges them (outside
 * any transaction: a gateway call is no place to hold a lock). A claim of a process that died
 * lapses with its lease, and the timer is picked up again; the idempotency key of each charge
 * keeps a retried renewal from charging twice.
 */
export const timerClaimMigrations: Migration[] = [
  {
    id: '0040_subscription_timer_claims',
    sql: /* sql */ `
      alter table subscription_timers add column claimed_by text;
      alter table subscription_timers add column claimed_until timestamptz;
    `,
  },
];

export interface ClaimedTimer {
  subscriptionId: string;
  dueAt: Date;
}

/** Claims up to `limit` timers due at `at` that no live claim holds, earliest first. */
export async function claimDueTimers(
  sql: Sql,
  options: { at: Date; now: Date; owner: string; leaseMs: number; limit: number },
): Promise<ClaimedTimer[]> {
  const { rows } = await sql.query<{ subscription_id: string; due_at: Date }>(
    `with due as (
       select subscription_id from subscription_timers
       where due_at <= $1 and (claimed_until is null or claimed_until < $2)
       order by due_at, subscription_id
       limit $3
       for update skip locked
     )
     update subscription_timers t set claimed_by = $4, claimed_until = $5
     from due where t.subscription_id = due.subscription_id
     returning t.subscription_id, t.due_at`,
    [options.at, options.now, options.limit, options.owner, new Date(options.now.getTime() + options.leaseMs)],
  );
  return rows
    .map((row) => ({ subscriptionId: row.subscription_id, dueAt: row.due_at }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.subscriptionId.localeCompare(b.subscriptionId));
}

/** Gives a timer back (whatever its job made of its due time). */
export async function releaseTimer(sql: Sql, subscriptionId: string, owner: string): Promise<void> {
  await sql.query(
    'update subscription_timers set claimed_by = null, claimed_until = null where subscription_id = $1 and claimed_by = $2',
    [subscriptionId, owner],
  );
}

/** A job that failed, or left its timer where it was: looked at again at `dueAt` rather than in a loop. */
export async function postponeTimer(sql: Sql, subscriptionId: string, dueAt: Date): Promise<void> {
  await sql.query('update subscription_timers set due_at = $2 where subscription_id = $1', [subscriptionId, dueAt]);
}

/** Milliseconds from `now` until the next timer falls due (0 while a claimed one is due; null: no timer). */
export async function msUntilNextTimer(sql: Sql, now: Date): Promise<number | null> {
  const { rows } = await sql.query<{ next: Date | null }>('select min(due_at) as next from subscription_timers');
  const next = rows[0]?.next;
  return next ? Math.max(0, new Date(next).getTime() - now.getTime()) : null;
}
