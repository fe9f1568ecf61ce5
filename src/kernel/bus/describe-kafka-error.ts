// Apart from kafka-bus.ts so that the relay can describe errors without loading the Kafka client.
/** One line about a client error: the library nests the real cause (ECONNREFUSED...) in `errors`/`cause`. */
export const describeKafkaError = (error: unknown): string => {
  const messages: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (!(value instanceof Error) || depth > 4) return;
    if (!messages.includes(value.message)) messages.push(value.message);
    for (const nested of (value as Partial<AggregateError>).errors ?? []) walk(nested, depth + 1);
    walk(value.cause, depth + 1);
  };
  walk(error, 0);
  return messages.length > 0 ? messages.join(' <- ') : String(error);
};
