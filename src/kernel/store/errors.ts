import type { ExpectedVersion } from './envelope.ts';

/** The stream was not at the version the writer expected (HTTP 409). */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${expected}, actual ${actual}`);
  }
}

/** An append's guard (`appendStreams`' along) wrote nothing: nothing was appended. */
export class GuardError extends Error {
  override readonly name = 'GuardError';
  constructor() {
    super('the guard of the append wrote nothing: nothing was appended');
  }
}

/** An event's data does not match its declared schema, or its type is not declared (HTTP 422). */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    readonly eventType: string,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}
