import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  chainHash,
  ChainVerifier,
  GENESIS_HASH,
  type AuditEntry,
  type AuditRecord,
} from './audit-chain.ts';

const entry = (id: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  id,
  eventId: `0190c7a8-0000-7000-8000-${String(id).padStart(12, '0')}`,
  eventType: 'PaymentProcessed',
  subject: 'customer-1',
  streamId: 'payment-1',
  actor: 'customer:customer-1',
  correlationId: 'correlation-1',
  occurredAt: '2026-01-01T00:00:00.000Z',
  summary: `record ${id}`,
  ...overrides,
});

const chain = (length: number): AuditRecord[] => {
  const records: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let id = 1; id <= length; id++) {
    const e = entry(id);
    const hash = chainHash(prevHash, e);
    records.push({ ...e, prevHash, hash });
    prevHash = hash;
  }
  return records;
};

const verify = (
  records: AuditRecord[],
  head = { lastId: records.at(-1)?.id ?? 0, lastHash: records.at(-1)?.hash ?? GENESIS_HASH },
) => {
  const verifier = new ChainVerifier();
  return verifier.check(records) ?? verifier.finish(head);
};

describe('audit hash chain', () => {
  it('writes canonical JSON: keys sorted at every level, whatever their insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: 'x', c: [2, { f: null, e: true }] } })).toBe(
      '{"a":{"c":[2,{"e":true,"f":null}],"d":"x"},"b":1}',
    );
    expect(chainHash(GENESIS_HASH, entry(1))).toBe(chainHash(GENESIS_HASH, { ...entry(1), summary: 'record 1' }));
  });

  it('hashes sha256(prevHash + canonical JSON), covering every field and the previous hash', () => {
    const hash = chainHash(GENESIS_HASH, entry(1));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash('f'.repeat(64), entry(1))).not.toBe(hash);
    for (const field of [
      'eventId',
      'eventType',
      'subject',
      'streamId',
      'actor',
      'correlationId',
      'occurredAt',
      'summary',
    ] as const) {
      expect(chainHash(GENESIS_HASH, entry(1, { [field]: 'changed' })), field).not.toBe(hash);
    }
    expect(chainHash(GENESIS_HASH, entry(2))).not.toBe(chainHash(GENESIS_HASH, { ...entry(2), id: 3 }));
    // prevHash and hash are not part of the entry: a record hashes the same with or without them.
    expect(chainHash(GENESIS_HASH, { ...entry(1), prevHash: 'x', hash: 'y' } as AuditEntry)).toBe(hash);
  });

  it('verifies an intact chain, and an empty one', () => {
    expect(verify(chain(5))).toEqual({ ok: true, records: 5 });
    expect(verify([])).toEqual({ ok: true, records: 0 });
  });

  it('verifies page by page', () => {
    const records = chain(7);
    const verifier = new ChainVerifier();
    expect(verifier.check(records.slice(0, 3))).toBeNull();
    expect(verifier.check(records.slice(3))).toBeNull();
    expect(verifier.finish({ lastId: 7, lastHash: records[6]!.hash })).toEqual({ ok: true, records: 7 });
  });

  it('names an altered record', () => {
    const records = chain(5);
    records[2] = { ...records[2]!, summary: 'payment 0.01 EUR' };
    expect(verify(records)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/hash does not match/),
    });
  });

  it('names the record after one altered and re-hashed: its link no longer matches', () => {
    const records = chain(5);
    const forged = { ...records[1]!, summary: 'forged' };
    records[1] = { ...forged, hash: chainHash(forged.prevHash, forged) };
    expect(verify(records)).toMatchObject({ ok: false, brokenAt: 3, reason: expect.stringMatching(/previous-hash/) });
  });

  it('names a removed record, and records cut off the end', () => {
    const records = chain(5);
    expect(
      verify([...records.slice(0, 2), ...records.slice(3)], { lastId: 5, lastHash: records[4]!.hash }),
    ).toMatchObject({ ok: false, brokenAt: 3 });
    expect(verify(records.slice(0, 3), { lastId: 5, lastHash: records[4]!.hash })).toMatchObject({
      ok: false,
      brokenAt: 4,
    });
  });
});
