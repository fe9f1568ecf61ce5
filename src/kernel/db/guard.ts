import type { Migration } from './migrate.ts';

/**
 * `require_guard(n)`: aborts the statement it is called in (error TR412) when `n` is 0, the rows
 * its guard CTE returned. A statement that writes only while a condition holds (a saga's lease)
 * then writes nothing, even committed by itself. The store's and the sagas' migrations both
 * list it: it runs once.
 */
export const requireGuardMigration: Migration = {
  id: '0035_require_guard',
  sql: `
    create or replace function require_guard(n bigint) returns bigint language plpgsql as $fn$
    begin
      if n = 0 then
        raise exception using errcode = 'TR412', message = 'the guard of the statement wrote nothing';
      end if;
      return n;
    end
    $fn$;
  `,
};

/** The error `require_guard` raises. */
export const GUARD_FAILED = 'TR412';
