import type { PositionMark } from '../consumers/ordered-batch.ts';
import type { EventRow } from '../store/event-store.ts';

/** A message as it travels on a bus: Kafka's shape, used by the embedded bus too. */
export interface BusMessage {
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
  /** The body already parsed (the embedded bus hands over the stored JSON): read instead of parsing `value`. */
  body?: unknown;
  /** The stored row it was made from (the embedded bus): the event is read from it, with the same checks. */
  row?: EventRow;
  /** Where its bus keeps the groups' positions for it: a group whose position passed it has applied it (none: the inbox alone decides). */
  mark?: PositionMark;
  /** Where it came from, for dead letters and logs: partition/offset on Kafka, position embedded. */
  origin?: Record<string, string | number>;
}
