import { describe, expect, it } from 'vitest';
import { testCatalog } from '../../../test/support/test-catalog.ts';
import type { EventRow } from '../store/event-store.ts';
import { fromCloudEvent, PoisonMessageError, toCloudEvent, toLocalCloudEvent } from './cloudevent.ts';

const row = (changes: Partial<EventRow> = {}): EventRow => ({
  position: 42,
  tx_id: '981',
  event_id: '01a23ae4-ba81-7625-a592-99d057b0bc86',
  stream_id: 'thing-1',
  version: 3,
  type: 'ThingHappened',
  schema_version: 2,
  data: { customerId: 'c1', n: 7, note: 'x' },
  partition_key: 'c1',
  occurred_at: new Date('2026-01-01T10:11:12.345Z'),
  metadata: { correlationId: 'corr', causationId: 'cause', actor: 'test' },
  ...changes,
});

describe('a local message (the embedded bus)', () => {
  it('gives the event its CloudEvents headers would give, without writing them', () => {
    const cases = [
      row(),
      row({ schema_version: 1, data: { customerId: 'c1', n: 7 } }), // upcast
      row({
        metadata: {
          correlationId: 'corr',
          causationId: null,
          actor: 'test',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
      }),
    ];
    for (const stored of cases) {
      const local = toLocalCloudEvent(stored, 'test.things');
      const travelled = toCloudEvent(stored, 'test.things');
      expect(fromCloudEvent(testCatalog, local)).toEqual(fromCloudEvent(testCatalog, travelled));
      // Made when asked for (a dead letter records them).
      expect(local.headers).toEqual(travelled.headers);
    }
  });

  it('is poison when its stored data no longer passes the schema, or its type is unknown', () => {
    const invalid = toLocalCloudEvent(row({ data: { customerId: 'c1', n: 'seven', note: 'x' } }), 'test.things');
    expect(() => fromCloudEvent(testCatalog, invalid)).toThrow(PoisonMessageError);
    const unknown = toLocalCloudEvent(row({ type: 'NothingHappened' }), 'test.things');
    expect(() => fromCloudEvent(testCatalog, unknown)).toThrow(/unknown event type NothingHappened/);
  });
});
