/** The payment simulator's test cards (tokens, never card numbers), as a customer would choose one. */
export const TEST_CARDS = [
  { token: 'pm_card_visa', label: 'Visa •••• 4242', effect: 'Succeeds' },
  { token: 'pm_card_mastercard', label: 'Mastercard •••• 4444', effect: 'Succeeds' },
  { token: 'pm_card_chargeDeclined', label: 'Visa •••• 0002', effect: 'Declined (generic decline)' },
  {
    token: 'pm_card_chargeDeclinedInsufficientFunds',
    label: 'Visa •••• 9995',
    effect: 'Declined (insufficient funds)',
  },
  { token: 'pm_card_chargeDeclinedExpiredCard', label: 'Visa •••• 0069', effect: 'Declined (expired card)' },
] as const;

/** Decline codes in plain words. */
export const DECLINE_REASONS: Record<string, string> = {
  generic_decline: 'Your bank declined the payment without giving a reason. Try another card or contact your bank.',
  insufficient_funds: 'The card does not have enough funds for this payment. Try another card.',
  expired_card: 'The card has expired. Use a card that is still valid.',
};
