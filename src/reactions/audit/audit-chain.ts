import { createHash } from 'node:crypto';

/** The hash before the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an audit record says; its hash covers every field, its id (place in the chain) included. */
export interface AuditEntry {
  id: number;
  eventId: string;
  eventType: string;
  /** The customer the event is about. */
  subject: string;
  streamId: string;
  actor: string;
  correlationId: string;
  /** The event's time, ISO 8601 UTC. */
  occurredAt: string;
  summary: string;
}

export interface AuditRecord extends AuditEntry {
  prevHash: string;
  hash: string;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** JSON with object keys sorted at every level, so the same record always hashes the same. */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Exactly the entry's fields, whatever else the object carries (prevHash, hash). */
const entryOf = (record: AuditEntry): { [key: string]: Json } => ({
  id: record.id,
  eventId: record.eventId,
  eventType: record.eventType,
  subject: record.subject,
  streamId: record.streamId,
  actor: record.actor,
  correlationId: record.correlationId,
  occurredAt: record.occurredAt,
  summary: record.summary,
});

/** sha256(prevHash + canonical JSON of the entry), hex. */
export const chainHash = (prevHash: string, entry: AuditEntry): string =>
  createHash('sha256')
    .update(prevHash + canonicalJson(entryOf(entry)))
    .digest('hex');

export type ChainVerdict = { ok: true; records: number } | { ok: false; brokenAt: number; reason: string };

/**
 * Walks records in id order from the head's point of view: each must follow the one before
 * (id + 1, prev_hash = its hash) and hash to what it stores. Stateful so a long chain can be
 * checked page by page.
 */
export class ChainVerifier {
  private lastId = 0;
  private lastHash = GENESIS_HASH;
  private count = 0;

  /** The first break in this page, or null when it continues the chain. */
  check(records: readonly AuditRecord[]): Extract<ChainVerdict, { ok: false }> | null {
    for (const record of records) {
      if (record.id !== this.lastId + 1) {
        return {
          ok: false,
          brokenAt: this.lastId + 1,
          reason: `record ${this.lastId + 1} is missing (the next stored record is ${record.id})`,
        };
      }
      if (record.prevHash !== this.lastHash) {
        return {
          ok: false,
          brokenAt: record.id,
          reason: `previous-hash link does not match record ${this.lastId}'s hash`,
        };
      }
      if (chainHash(record.prevHash, record) !== record.hash) {
        return { ok: false, brokenAt: record.id, reason: 'stored hash does not match the record content' };
      }
      this.lastId = record.id;
      this.lastHash = record.hash;
      this.count++;
    }
    return null;
  }

  /** After the last page: the chain must end where the head says it ends (no records cut off the end). */
  finish(head: { lastId: number; lastHash: string }): ChainVerdict {
    if (this.lastId !== head.lastId) {
      return {
        ok: false,
        brokenAt: this.lastId + 1,
        reason: `the chain ends at record ${this.lastId} but its head is record ${head.lastId}`,
      };
    }
    if (this.lastHash !== head.lastHash) {
      return { ok: false, brokenAt: head.lastId, reason: `record ${head.lastId}'s hash does not match the chain head` };
    }
    return { ok: true, records: this.count };
  }
}
