export type AggregateName = 'customer' | 'payment' | 'subscription' | 'registration' | 'workflow';

/**
 * A command the domain refuses. `code` is stable and machine-readable (`customer_deleted`,
 * `renewal_after_cancellation`...); the subclass tells the edge which status to answer.
 */
export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly aggregate: AggregateName,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The command needs an aggregate that does not exist (HTTP 404). */
export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
}

/** The aggregate already exists with other data: the id was reused (HTTP 409). */
export class AlreadyExistsError extends DomainError {
  override readonly name = 'AlreadyExistsError';
}

/** The aggregate's state does not allow the command, e.g. registering a deleted customer (HTTP 409). */
export class InvalidTransitionError extends DomainError {
  override readonly name = 'InvalidTransitionError';
}

/** The command contradicts itself or the aggregate, e.g. a refund above the charge (HTTP 422). */
export class InvalidCommandError extends DomainError {
  override readonly name = 'InvalidCommandError';
}
