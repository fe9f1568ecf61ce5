/** A one-line message for the operator, then exit code 2. */
export class UsageError extends Error {}
