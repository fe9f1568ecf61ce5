import type { Sql } from '../../kernel/db/database.ts';

/** Rows deleted per statement: short locks, whatever the backlog. */
const BATCH = 500;

/**
 * Forgets the workflows that finished (completed or compensated) before `before`: their rows,
 * their steps, and the Idempotency-Keys that started them (a retry with such a key would join a
 * workflow that is no longer there: it starts afresh). Their history stays in the event store.
 * Running and parked workflows are kept, however old. Returns how many were forgotten.
 */
export async function pruneFinishedWorkflows(sql: Sql, before: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await sql.query<{ n: number }>(
      `with pruned as (
         delete from sagas where id in (
           select id from sagas where status in ('completed', 'compensated') and updated_at < $1 limit ${BATCH})
         returning id
       ), steps as (
         delete from saga_steps where saga_id in (select id from pruned)
       ), keys as (
         delete from http_idempotency where resource in (select id from pruned)
       )
       select count(*)::int as n from pruned`,
      [before],
    );
    total += rows[0]!.n;
    if (rows[0]!.n < BATCH) return total;
  }
}
