import { v7 as uuidv7 } from 'uuid';
import { addMonths } from '../../src/domain/subscription/period.ts';
import type { Database } from '../../src/kernel/db/database.ts';
import type { EventStore } from '../../src/kernel/store/event-store.ts';
import { subscriptionStream } from '../../src/services/streams.ts';

export const RENEWAL_START = '2030-01-01T00:00:00.000Z';
/** The moment every seeded subscription's first renewal is due (one month after the start). */
export const RENEWAL_DUE = addMonths(RENEWAL_START, 1);

/**
 * `count` monthly subscriptions started at RENEWAL_START, each with a card on file and its timer
 * due at RENEWAL_DUE: a month-end run. Written in batches straight into the store (the events the
 * subscription service would have appended), so ten thousand take seconds, not minutes.
 */
export async function seedDueRenewals(db: Database, store: EventStore, count: number, batch = 500): Promise<string[]> {
  const ids: string[] = [];
  const metadata = { correlationId: 'seed', causationId: null, actor: 'test:seed' };
  for (let offset = 0; offset < count; offset += batch) {
    const chunk = Array.from({ length: Math.min(batch, count - offset) }, () => ({
      subscriptionId: uuidv7(),
      customerId: uuidv7(),
    }));
    await db.transaction(async (tx) => {
      for (const { subscriptionId, customerId } of chunk) {
        const data = {
          subscriptionId,
          customerId,
          planId: 'pro-monthly',
          price: { amount: 2900, currency: 'EUR' },
          interval: 'month',
          currentPeriod: { start: RENEWAL_START, end: RENEWAL_DUE },
          createdAt: RENEWAL_START,
        };
        await store.append(subscriptionStream(subscriptionId), [{ type: 'SubscriptionCreated', data, metadata }], {
          tx,
          expectedVersion: 0,
        });
      }
      await tx.query(`insert into payment_methods (customer_id, token) select unnest($1::text[]), 'pm_card_visa'`, [
        chunk.map((c) => c.customerId),
      ]);
      await tx.query(`insert into subscription_timers (subscription_id, due_at) select unnest($1::text[]), $2`, [
        chunk.map((c) => c.subscriptionId),
        RENEWAL_DUE,
      ]);
    });
    ids.push(...chunk.map((c) => c.subscriptionId));
  }
  return ids;
}
