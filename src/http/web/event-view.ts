import { z } from 'zod';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';

/** An event's envelope as the console shows it. */
export const eventEnvelope = z.object({
  id: z.string(),
  type: z.string(),
  schemaVersion: z.int(),
  streamId: z.string(),
  version: z.int(),
  position: z.number(),
  occurredAt: z.string(),
  partitionKey: z.string().describe('the customer id'),
  data: z.unknown(),
  metadata: z.object({ correlationId: z.string(), causationId: z.string().nullable(), actor: z.string() }),
});

export type EventEnvelope = z.infer<typeof eventEnvelope>;

export const toEnvelope = (event: RecordedEvent): EventEnvelope => ({
  id: event.id,
  type: event.type,
  schemaVersion: event.schemaVersion,
  streamId: event.streamId,
  version: event.version,
  position: event.position,
  occurredAt: event.occurredAt.toISOString(),
  partitionKey: event.partitionKey,
  data: event.data,
  metadata: event.metadata,
});
