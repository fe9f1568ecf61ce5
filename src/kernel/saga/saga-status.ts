import type { Sql } from '../db/database.ts';
import type { SagaStatus } from './saga.ts';

/**
 * A saga's status, its row locked for the rest of `tx`: whoever records a charge's outcome
 * outside the saga (a late attempt, the reconciler) decides on a status that cannot change
 * under it. Undefined when there is no such saga.
 */
export async function lockSagaStatus(tx: Sql, id: string): Promise<SagaStatus | undefined> {
  const { rows } = await tx.query<{ status: SagaStatus }>('select status from sagas where id = $1 for update', [id]);
  return rows[0]?.status;
}

/** Still going (running or compensating): it records what its steps did itself. */
export const isInFlight = (status: SagaStatus | undefined): boolean =>
  status === 'running' || status === 'compensating';
