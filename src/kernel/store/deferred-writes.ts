import type { Sql } from '../db/database.ts';
import type { StreamAppend } from './event-store.ts';

/** A data-modifying statement (INSERT, UPDATE or DELETE, no WITH of its own) with `$n` parameters. */
export interface Write {
  text: string;
  params: unknown[];
}

/**
 * Writes a unit of work hands over instead of making them, so that whoever ends the unit (a
 * saga's checkpoint) makes them all in its own statement: appends whose results it does not
 * need, and statements whose rows it does not read. They commit together or not at all.
 */
export class DeferredWrites {
  readonly appends: StreamAppend[] = [];
  readonly writes: Write[] = [];

  append(append: StreamAppend): void {
    this.appends.push(append);
  }

  write(text: string, params: unknown[]): void {
    this.writes.push({ text, params });
  }

  /** The writes as CTEs `w0, w1…` with their parameters numbered from `$(offset + 1)`. */
  ctes(offset: number): { ctes: string[]; params: unknown[] } {
    const ctes: string[] = [];
    const params: unknown[] = [];
    for (const [index, write] of this.writes.entries()) {
      const base = offset + params.length;
      ctes.push(`w${index} as (${write.text.replace(/\$(\d+)/g, (_, n: string) => `$${base + Number(n)}`)})`);
      params.push(...write.params);
    }
    return { ctes, params };
  }
}

/** Makes `write` now through `sql`, or hands it to `deferred`. */
export async function writeTo(target: Sql | DeferredWrites, text: string, params: unknown[]): Promise<void> {
  if (target instanceof DeferredWrites) target.write(text, params);
  else await target.query(text, params);
}
