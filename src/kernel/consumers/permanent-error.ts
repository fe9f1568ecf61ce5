/**
 * A handler failure that no retry can fix (e.g. an SMTP 5xx reply): the consumer runner
 * dead-letters the event at once instead of retrying it.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}
