import { settleRegistrationCharge } from '../../registration/registration-charge.ts';
import { settleRenewalCharge } from '../../subscriptions/renewal-charge.ts';
import { PaymentReconciler, type PaymentReconcilerDeps } from './payment-reconciler.ts';

export { paymentIntentMigrations } from './migrations.ts';
export { PaymentReconciler } from './payment-reconciler.ts';

/** The reconciler with the settler of every flow that charges: renewals and registrations. */
export function paymentReconciler(
  deps: Omit<PaymentReconcilerDeps, 'settlers'> & { dunningDays: number[] },
): PaymentReconciler {
  return new PaymentReconciler({
    ...deps,
    settlers: {
      renewal: (intent, result) => settleRenewalCharge(deps, intent, result),
      registration: (intent, result) => settleRegistrationCharge(deps, intent, result),
    },
  });
}
