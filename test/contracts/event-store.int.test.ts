import { describe, expect, it } from 'vitest';
import { LOG_START } from '../../src/kernel/store/envelope.ts';
import { openStore } from '../support/open-store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { thing } from '../support/test-catalog.ts';
import { eventStoreContract } from './event-store.contract.ts';

eventStoreContract('PGlite');
eventStoreContract('PostgreSQL', postgresAvailable); // required in CI (REQUIRE_POSTGRES=1): never silently skipped

// A fresh PGlite starts below transaction id 1,000: the only place a test can cross a power of ten.
describe('event store on a fresh PGlite', () => {
  it('the readable head is the last event when transaction ids cross a power of ten', async () => {
    const fixture = await openStore('PGlite');
    try {
      for (let n = 0; n < 300; n++) await fixture.store.append('thing-head', [thing('c1', n)]);
      const log = await fixture.store.readAllRaw(LOG_START, { limit: 1_000 });
      const [first, last] = [log[0]!, log[log.length - 1]!];
      expect(last.tx_id.length).toBeGreaterThan(first.tx_id.length); // crossed 999 → 1000
      expect(await fixture.store.readableHead()).toEqual({ txId: last.tx_id, position: last.position });
    } finally {
      await fixture.close();
    }
  });
});
