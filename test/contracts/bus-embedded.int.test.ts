import { v7 as uuidv7 } from 'uuid';
import { EmbeddedBus } from '../../src/kernel/bus/embedded-bus.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { openStore, type Backend } from '../support/open-store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { testCatalog } from '../support/test-catalog.ts';
import { busContract } from './bus.contract.ts';

const openEmbedded = (backend: Backend) => async () => {
  if (backend === 'PostgreSQL' && !(await postgresAvailable())) return null;
  const { db, store, clock, close } = await openStore(backend);
  const bus = new EmbeddedBus({ store, catalog: testCatalog, clock, log: silentLogger, pollIntervalMs: 50 });
  await bus.start();
  return {
    db,
    store,
    clock,
    bus,
    // On the embedded bus a poison message is a stored event whose data no longer passes its schema.
    async injectPoison(_topic: string, key: string) {
      await db.query(
        `insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
         values (pg_current_xact_id(), $1, $2, 1, 'ThingHappened', 2, '{"n":"not a number"}', '{"correlationId":"x","causationId":null,"actor":"test"}', $3, now())`,
        [uuidv7(), `poison-${uuidv7()}`, key],
      );
    },
    async close() {
      await bus.close();
      await close();
    },
  };
};

busContract('the embedded log (PGlite)', openEmbedded('PGlite'));
busContract('the embedded log (PostgreSQL)', openEmbedded('PostgreSQL'));
