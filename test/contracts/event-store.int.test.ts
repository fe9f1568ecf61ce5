import { postgresAvailable } from '../support/postgres.ts';
import { eventStoreContract } from './event-store.contract.ts';

eventStoreContract('PGlite');
eventStoreContract('PostgreSQL', postgresAvailable); // required in CI (REQUIRE_POSTGRES=1): never silently skipped
