/** A request whose parameter is wrong in a way its schema cannot say (a header, a cursor): 400 problem+json. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';

  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}
