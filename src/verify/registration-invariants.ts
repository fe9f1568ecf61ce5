import type { Sql } from '../kernel/db/database.ts';
import { tableExists } from './money-facts.ts';
import type { Violation } from './violation.ts';

const ENDED = new Set(['completed', 'compensated']);
const ENDING_EVENTS = new Set(['RegistrationCompleted', 'RegistrationCompensated']);

/**
 * Every registration ended `completed` or `compensated`, wherever its state lives: the saga table
 * (today) or a Registration stream in the event store (the workflow engine); both are read when present.
 */
export async function registrationViolations(sql: Sql): Promise<Violation[]> {
  const violations: Violation[] = [];
  if (await tableExists(sql, 'sagas')) {
    const { rows } = await sql.query<{ id: string; status: string }>(
      `select id, status from sagas where type = 'registration' order by created_at`,
    );
    for (const row of rows.filter((saga) => !ENDED.has(saga.status))) {
      violations.push({
        kind: 'registration_unfinished',
        message: `registration ${row.id} is ${row.status}, not completed or compensated`,
        registrationId: row.id,
      });
    }
  }
  const { rows: streams } = await sql.query<{ stream_id: string; type: string }>(
    `select distinct on (stream_id) stream_id, type from events where type like 'Registration%' order by stream_id, version desc`,
  );
  for (const stream of streams.filter((row) => !ENDING_EVENTS.has(row.type))) {
    violations.push({
      kind: 'registration_unfinished',
      message: `registration stream ${stream.stream_id} stopped at ${stream.type}`,
      registrationId: stream.stream_id,
    });
  }
  return violations;
}

/** Every customer without a completed registration (CustomerRegistered) was deleted. */
export async function customerViolations(sql: Sql): Promise<Violation[]> {
  const { rows } = await sql.query<{ customer_id: string }>(
    `select c.data->>'customerId' as customer_id from events c
     where c.type = 'CustomerCreated'
       and not exists (select 1 from events e where e.stream_id = c.stream_id and e.type in ('CustomerRegistered', 'CustomerDeleted'))
     order by c.position`,
  );
  return rows.map((row) => ({
    kind: 'customer_not_deleted' as const,
    message: `customer ${row.customer_id} never completed its registration and was not deleted`,
    customerId: row.customer_id,
  }));
}
