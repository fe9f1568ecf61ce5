import type { EventCatalog } from '../../src/kernel/catalog/catalog.ts';
import { TestClock } from '../../src/kernel/clock.ts';
import type { Database } from '../../src/kernel/db/database.ts';
import { migrate } from '../../src/kernel/db/migrate.ts';
import { openPglite } from '../../src/kernel/db/pglite.ts';
import { consumerMigrations } from '../../src/kernel/consumers/migrations.ts';
import { EventStore } from '../../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../../src/kernel/store/migrations.ts';
import { openTestPostgres } from './postgres.ts';
import { testCatalog } from './test-catalog.ts';

export interface StoreFixture {
  db: Database;
  store: EventStore;
  clock: TestClock;
  close(): Promise<void>;
}

export type Backend = 'PGlite' | 'PostgreSQL';

/** A migrated, empty store on the given backend. */
export async function openStore(backend: Backend, catalog: EventCatalog = testCatalog): Promise<StoreFixture> {
  const db = backend === 'PGlite' ? await openPglite() : await openTestPostgres();
  await migrate(db, [...eventStoreMigrations, ...consumerMigrations]);
  const clock = new TestClock(new Date('2026-01-01T00:00:00Z'), { frozen: true });
  return { db, store: new EventStore(db, catalog, clock), clock, close: () => db.close() };
}
