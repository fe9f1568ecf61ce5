/** A query asked for data at least as fresh as a store position its projection has not reached in time. */
export class ProjectionBehindError extends Error {
  override readonly name = 'ProjectionBehindError';

  constructor(
    readonly projection: string,
    readonly minPosition: number,
    /** The position of the last event the projection applied (0 before the first). */
    readonly currentPosition: number,
  ) {
    super(
      `the ${projection} view has not reached position ${minPosition} yet (it is at ${currentPosition}); retry shortly`,
    );
  }
}

/** No projection of that name. */
export class UnknownProjectionError extends Error {
  override readonly name = 'UnknownProjectionError';
}
