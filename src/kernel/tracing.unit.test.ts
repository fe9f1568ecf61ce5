import { describe, expect, it } from 'vitest';
import { seedEvents } from '../domain/events/index.ts';
import { fromCloudEvent, toCloudEvent } from './bus/cloudevent.ts';
import { EventCatalog } from './catalog/catalog.ts';
import { scrubAddresses } from './crypto/scrub.ts';
import { urlForLog } from './logger.ts';
import { continueTrace, currentTraceparent, parseTraceparent, traceIdOf, withTrace } from './tracing.ts';

const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context', () => {
  it('continues a valid traceparent with a new span and starts a trace for a missing or invalid one', () => {
    const span = continueTrace(incoming);
    expect(span).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(span).not.toBe(incoming);
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ]) {
      const fresh = continueTrace(bad);
      expect(parseTraceparent(fresh)).not.toBeNull();
      expect(traceIdOf(fresh)).not.toBe('0af7651916cd43dd8448eb211c80319c');
    }
    expect(continueTrace(undefined)).not.toBe(continueTrace(undefined));
  });

  it('keeps the current span across awaits, and none outside', async () => {
    expect(currentTraceparent()).toBeUndefined();
    await withTrace(incoming, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(currentTraceparent()).toBe(incoming);
    });
    expect(currentTraceparent()).toBeUndefined();
  });

  it('travels as the CloudEvents traceparent extension and back', () => {
    const catalog = new EventCatalog(seedEvents);
    const data = {
      customerId: '01a23ae4-ba81-7625-a592-99d057b0bc85',
      reason: 'erasure',
      deletedAt: '2026-01-01T00:00:00.000Z',
    };
    const row = {
      position: 7,
      tx_id: '9',
      event_id: '01a23ae4-ba81-7625-a592-99d057b0bc86',
      stream_id: `customer-${data.customerId}`,
      version: 3,
      type: 'CustomerDeleted',
      schema_version: 1,
      data,
      partition_key: data.customerId,
      occurred_at: new Date('2026-01-01T00:00:00Z'),
      metadata: { correlationId: 'c', causationId: null, actor: 'admin', traceparent: incoming },
    };
    const message = toCloudEvent(row, 'customer.deleted');
    expect(message.headers.ce_traceparent).toBe(incoming);
    expect(fromCloudEvent(catalog, message).metadata.traceparent).toBe(incoming);
    const untraced = toCloudEvent(
      { ...row, metadata: { correlationId: 'c', causationId: null, actor: 'admin' } },
      'customer.deleted',
    );
    expect(untraced.headers).not.toHaveProperty('ce_traceparent');
  });
});

describe('what logs and error texts keep', () => {
  it('leaves query values out of a logged URL and addresses out of error texts', () => {
    expect(urlForLog('/emails?to=ann%40example.com&limit=5')).toBe('/emails?to=[redacted]&limit=[redacted]');
    expect(urlForLog('/customers/1')).toBe('/customers/1');
    expect(scrubAddresses('550 5.1.1 <Ann.Lee+x@mail.example.com>: Recipient address rejected')).toBe(
      '550 5.1.1 <[address]>: Recipient address rejected',
    );
    expect(scrubAddresses('Message-ID <01a23ae4@tributary>')).toBe('Message-ID <01a23ae4@tributary>');
  });
});
