import type { z } from 'zod';

/**
 * One event type, declared once: its schema (the current version), the topic it is published
 * to, the key that keeps one customer's events in order, and upcasters from older versions.
 */
export interface EventDefinition<Schema extends z.ZodType = z.ZodType> {
  type: string;
  version: number;
  topic: string;
  description: string;
  schema: Schema;
  /** The Kafka message key: the customer id, so a customer's events stay on one partition. */
  partitionKey: (data: z.infer<Schema>) => string;
  /**
   * A stricter schema for new events, when upcast old data may hold what new data must not
   * (e.g. personal data in clear): checked at append only.
   */
  appendSchema?: z.ZodType;
  /** `upcasters[n]` turns data of version n into version n + 1. */
  upcasters?: Record<number, (data: Record<string, unknown>) => Record<string, unknown>>;
}

export const defineEvent = <Schema extends z.ZodType>(definition: EventDefinition<Schema>): EventDefinition<Schema> =>
  definition;

export type EventData<Definition> = Definition extends EventDefinition<infer Schema> ? z.infer<Schema> : never;
