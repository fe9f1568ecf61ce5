import { InvalidCommandError, type AggregateName } from './errors.ts';

/** Money is integer minor units of an ISO 4217 currency: a float or a lowercase code is a bug upstream. */
export const assertMoney = (aggregate: AggregateName, amount: number, currency: string): void => {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new InvalidCommandError(
      aggregate,
      'invalid_amount',
      `amount: a positive integer of minor units, got ${amount}`,
    );
  }
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new InvalidCommandError(
      aggregate,
      'invalid_currency',
      `currency: an ISO 4217 code, got ${JSON.stringify(currency)}`,
    );
  }
};
