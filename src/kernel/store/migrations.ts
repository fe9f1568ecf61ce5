import { requireGuardMigration } from '../db/guard.ts';
import type { Migration } from '../db/migrate.ts';

export const eventStoreMigrations: Migration[] = [
  {
    id: '0001_event_store',
    sql: /* sql */ `
      create table events (
        position bigint generated always as identity primary key,
        -- the writing transaction: the global log is read in (tx_id, position) order, and only
        -- below the oldest transaction still in flight, so a late commit is never skipped
        tx_id xid8 not null,
        event_id uuid not null,
        stream_id text not null,
        version integer not null,
        type text not null,
        schema_version integer not null,
        data jsonb not null,
        metadata jsonb not null,
        partition_key text not null,
        occurred_at timestamptz not null,
        constraint events_event_id_unique unique (event_id),
        constraint events_stream_version_unique unique (stream_id, version)
      );
      create index events_global_order on events (tx_id, position);

      -- One round trip per append: lock the stream, check the expected version, skip event ids
      -- already stored (a retried append is idempotent), insert the rest with the next versions.
      create function append_events(p_stream text, p_expected text, p_events jsonb)
      returns table (out_position bigint, out_version integer, out_event_id uuid, out_tx_id xid8)
      -- A generic plan saved while the table was tiny would scan it whole forever after: plan each call.
      language plpgsql set plan_cache_mode = force_custom_plan as $fn$
      declare
        current_version integer;
        fresh jsonb;
      begin
        perform pg_advisory_xact_lock(hashtext('tributary.stream:' || p_stream));
        select coalesce(max(e.version), 0) into current_version from events e where e.stream_id = p_stream;

        select coalesce(jsonb_agg(x.value order by x.ordinality), '[]'::jsonb) into fresh
        from jsonb_array_elements(p_events) with ordinality as x(value, ordinality)
        where not exists (select 1 from events e where e.event_id = (x.value->>'id')::uuid);

        if jsonb_array_length(fresh) = 0 then
          -- every event is already stored: report them as they are
          return query select e.position, e.version, e.event_id, e.tx_id from events e
            where e.event_id in (select (v->>'id')::uuid from jsonb_array_elements(p_events) v)
            order by e.position;
          return;
        end if;

        if (p_expected = 'no_stream' and current_version <> 0)
          or (p_expected = 'stream_exists' and current_version = 0)
          or (p_expected ~ '^[0-9]+$' and current_version <> p_expected::integer) then
          raise exception using
            errcode = 'TR409',
            message = format('stream %s: expected version %s, actual %s', p_stream, p_expected, current_version),
            detail = current_version::text;
        end if;

        return query
          insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
          select pg_current_xact_id(), (x.value->>'id')::uuid, p_stream, current_version + x.ordinality::integer,
                 x.value->>'type', (x.value->>'schemaVersion')::integer, x.value->'data', x.value->'metadata',
                 x.value->>'partitionKey', (x.value->>'occurredAt')::timestamptz
          from jsonb_array_elements(fresh) with ordinality as x(value, ordinality)
          order by x.ordinality
          returning position, version, event_id, tx_id;
      end
      $fn$;

      -- Durable positions in the global log: consumer groups, the outbox relay, projections.
      create table checkpoints (
        name text primary key,
        tx_id xid8 not null,
        position bigint not null,
        updated_at timestamptz not null
      );
    `,
  },
  {
    // Readers of the log in any process wake at the commit of an append (LISTEN tributary_events_<schema>;
    // a channel is an identifier: cut at 63 bytes, like the LISTEN's).
    id: '0002_event_store_append_notify',
    sql: `
      create or replace function notify_events_appended() returns trigger language plpgsql as $$
      begin
        perform pg_notify(left('tributary_events_' || tg_table_schema, 63), '');
        return null;
      end $$;
      create trigger events_appended after insert on events for each statement execute function notify_events_appended();
    `,
  },
  {
    // The store notifies after its commits instead (Database.notify): a trigger's notification
    // makes every appending commit wait for the one before it to flush its WAL.
    id: '0003_event_store_notify_after_commit',
    sql: `
      drop trigger if exists events_appended on events;
      drop function if exists notify_events_appended();
    `,
  },
  {
    // Appends to several streams in one statement (a saga step's appends and its history, with
    // its checkpoint): each as append_events, in order; the first refused one aborts them all.
    id: '0034_event_store_append_streams',
    sql: `
      create function append_streams(p_appends jsonb)
      returns table (out_stream text, out_position bigint, out_version integer, out_event_id uuid, out_tx_id xid8)
      language plpgsql as $fn$
      declare
        a jsonb;
      begin
        for a in select value from jsonb_array_elements(p_appends) loop
          return query select a->>'stream', r.out_position, r.out_version, r.out_event_id, r.out_tx_id
            from append_events(a->>'stream', a->>'expected', a->'events') r;
        end loop;
      end
      $fn$;

    `,
  },
  requireGuardMigration,
  {
    // The stored-id checks look the append's ids up in the event_id index. As `not exists` and
    // `in` over jsonb_array_elements (estimated at 100 rows) they were planned as a hash join over
    // a seq scan of all events while the table was under some 10,000 rows: each append read the
    // whole log of a young store (1,000 appends a second could not keep up).
    id: '0043_event_store_append_id_lookup',
    sql: /* sql */ `
      create or replace function append_events(p_stream text, p_expected text, p_events jsonb)
      returns table (out_position bigint, out_version integer, out_event_id uuid, out_tx_id xid8)
      language plpgsql set plan_cache_mode = force_custom_plan as $fn$
      declare
        current_version integer;
        ids uuid[];
        stored uuid[];
        fresh jsonb;
      begin
        perform pg_advisory_xact_lock(hashtext('tributary.stream:' || p_stream));
        select coalesce(max(e.version), 0) into current_version from events e where e.stream_id = p_stream;

        ids := array(select (v->>'id')::uuid from jsonb_array_elements(p_events) v);
        stored := array(select e.event_id from events e where e.event_id = any(ids));
        select coalesce(jsonb_agg(x.value order by x.ordinality), '[]'::jsonb) into fresh
        from jsonb_array_elements(p_events) with ordinality as x(value, ordinality)
        where not (x.value->>'id')::uuid = any(stored);

        if jsonb_array_length(fresh) = 0 then
          -- every event is already stored: report them as they are
          return query select e.position, e.version, e.event_id, e.tx_id from events e
            where e.event_id = any(stored)
            order by e.position;
          return;
        end if;

        if (p_expected = 'no_stream' and current_version <> 0)
          or (p_expected = 'stream_exists' and current_version = 0)
          or (p_expected ~ '^[0-9]+$' and current_version <> p_expected::integer) then
          raise exception using
            errcode = 'TR409',
            message = format('stream %s: expected version %s, actual %s', p_stream, p_expected, current_version),
            detail = current_version::text;
        end if;

        return query
          insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
          select pg_current_xact_id(), (x.value->>'id')::uuid, p_stream, current_version + x.ordinality::integer,
                 x.value->>'type', (x.value->>'schemaVersion')::integer, x.value->'data', x.value->'metadata',
                 x.value->>'partitionKey', (x.value->>'occurredAt')::timestamptz
          from jsonb_array_elements(fresh) with ordinality as x(value, ordinality)
          order by x.ordinality
          returning position, version, event_id, tx_id;
      end
      $fn$;
    `,
  },
  {
    // append_streams as a few statements whatever the number of streams, instead of a loop over
    // append_events, whose plan_cache_mode = force_custom_plan planned each of its statements
    // again at every call (0.25-0.45 ms of planning per call of two streams). Its plans are kept
    // between calls: every lookup of events goes through an index (enable_seqscan off, and ids
    // compared with = any(array), never joined), so a plan made while the table was empty stays
    // good as it grows, unanalyzed (PGlite never analyzes; autovacuum may be off). The streams
    // are locked in one order (their lock keys'), so two appends to the same streams never wait
    // on each other in a cycle.
    id: '0044_event_store_append_streams_set_based',
    sql: /* sql */ `
      create or replace function append_streams(p_appends jsonb)
      returns table (out_stream text, out_position bigint, out_version integer, out_event_id uuid, out_tx_id xid8)
      language plpgsql set enable_seqscan = off as $fn$
      declare
        streams text[];
        ids uuid[];
        currents integer[];
        stored uuid[];
        refused record;
        a record;
      begin
        select array_agg(x.value->>'stream' order by x.ordinality) into streams
        from jsonb_array_elements(p_appends) with ordinality as x(value, ordinality);
        if cardinality(streams) <> (select count(distinct s) from unnest(streams) s) then
          raise exception using errcode = '22023', message = 'append_streams: one append per stream';
        end if;

        perform pg_advisory_xact_lock(l.key)
        from (select distinct hashtext('tributary.stream:' || s) as key from unnest(streams) s order by key) l;

        currents := array(
          select coalesce((select max(e.version) from events e where e.stream_id = s.stream), 0)
          from unnest(streams) with ordinality as s(stream, ordinality) order by s.ordinality);
        ids := array(
          select (v->>'id')::uuid from jsonb_array_elements(p_appends) x, jsonb_array_elements(x->'events') v);
        stored := array(select e.event_id from events e where e.event_id = any(ids));

        select x.value->>'stream' as stream, x.value->>'expected' as expected, currents[x.ordinality] as actual into refused
        from jsonb_array_elements(p_appends) with ordinality as x(value, ordinality)
        where exists (select 1 from jsonb_array_elements(x.value->'events') v where (v->>'id')::uuid <> all(stored))
          and case x.value->>'expected'
                when 'any' then false
                when 'no_stream' then currents[x.ordinality] <> 0
                when 'stream_exists' then currents[x.ordinality] = 0
                else case when x.value->>'expected' ~ '^[0-9]+$'
                          then currents[x.ordinality] <> (x.value->>'expected')::integer else false end
              end
        order by x.ordinality limit 1;
        if found then
          raise exception using
            errcode = 'TR409',
            message = format('stream %s: expected version %s, actual %s', refused.stream, refused.expected, refused.actual),
            detail = refused.actual::text;
        end if;

        return query
          insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
          select pg_current_xact_id(), (v.value->>'id')::uuid, x.value->>'stream',
                 currents[x.ordinality] + (row_number() over (partition by x.ordinality order by v.ordinality))::integer,
                 v.value->>'type', (v.value->>'schemaVersion')::integer, v.value->'data', v.value->'metadata',
                 v.value->>'partitionKey', (v.value->>'occurredAt')::timestamptz
          from jsonb_array_elements(p_appends) with ordinality as x(value, ordinality),
               jsonb_array_elements(x.value->'events') with ordinality as v(value, ordinality)
          where (v.value->>'id')::uuid <> all(stored)
          order by x.ordinality, v.ordinality
          returning stream_id, position, version, event_id, tx_id;

        if cardinality(stored) > 0 then
          -- an append whose every event is already stored reports them as they are
          for a in
            select x.value->>'stream' as stream, array(select (v->>'id')::uuid from jsonb_array_elements(x.value->'events') v) as ids
            from jsonb_array_elements(p_appends) with ordinality as x(value, ordinality)
            where not exists (select 1 from jsonb_array_elements(x.value->'events') v where (v->>'id')::uuid <> all(stored))
            order by x.ordinality
          loop
            return query select a.stream, e.position, e.version, e.event_id, e.tx_id from events e
              where e.event_id = any(a.ids) order by e.position;
          end loop;
        end if;
      end
      $fn$;
    `,
  },
  {
    // A consumer group on the embedded bus moves its checkpoint in the transaction of a batch's
    // effects, without inbox rows; events it takes through the inbox instead lie up to here.
    id: '0045_checkpoint_inbox_range',
    sql: /* sql */ `
      alter table checkpoints add column inbox_until_tx xid8, add column inbox_until_position bigint;
    `,
  },
];
