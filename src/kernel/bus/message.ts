/** A message as it travels on a bus: Kafka's shape, used by the embedded bus too. */
export interface BusMessage {
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
  /** The body already parsed (the embedded bus hands over the stored JSON): read instead of parsing `value`. */
  body?: unknown;
  /** Where it came from, for dead letters and logs: partition/offset on Kafka, position embedded. */
  origin?: Record<string, string | number>;
}
