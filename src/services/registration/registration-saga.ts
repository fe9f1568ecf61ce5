import { customerDecider } from '../../domain/customer/decider.ts';
import { subscriptionDecider } from '../../domain/subscription/decider.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { SagaDefinition, StepResult } from '../../kernel/saga/saga.ts';
import { handleCommand } from '../command-handler.ts';
import { customerStream, subscriptionStream } from '../streams.ts';
import type { Sealed } from '../../kernel/crypto/personal-data.ts';
import { shred } from '../../kernel/crypto/personal-data.ts';
import { scheduleNew } from '../subscriptions/renewal-scheduler.ts';
import { chargeOnce } from '../payments/charge-once.ts';
import type { Database, Sql } from '../../kernel/db/database.ts';
import { recordChargeOutcome } from '../payments/intents/charge-records.ts';
import { findIntent, openIntent, settleIntent, type PaymentIntent } from '../payments/intents/payment-intent.ts';
import type { DeferredWrites } from '../../kernel/store/deferred-writes.ts';
import { refundIntent } from '../payments/intents/refund-intent.ts';
import type { PaymentGateway } from '../payments/gateway/index.ts';
import { registrationHistory } from './registration-history.ts';

/** Everything the saga needs to resume after a crash: its input and each step's output. */
export interface RegistrationState {
  registrationId: string;
  customerId: string;
  subscriptionId: string;
  paymentId: string;
  /** The email and name, sealed with the customer's key when the saga starts: shredding it leaves nothing readable. */
  pii: Sealed;
  /** The keyed hash of the email (the one-address-one-customer claim). */
  emailDigest: string;
  planId: string;
  paymentMethod: string;
  amount: number;
  currency: string;
  interval: 'month' | 'year';
  correlationId: string;
  chargeId?: string;
  /** The read-your-writes position, as sagas kept it before `SagaRecord.position` (newer ones keep it there). */
  position?: number;
  /** When create-customer made the customer (its stream then holds CustomerCreated alone). */
  customerCreatedAt?: string;
}

export const REGISTRATION_SAGA = 'registration';

/**
 * The customer's stream as create-customer left it, so that activate need not read it; a change
 * made since (an erasure, say) fails the append, and the retry reads the stream.
 */
const createdCustomer = (state: RegistrationState) => {
  if (!state.customerCreatedAt) return undefined;
  const { customerId, pii, planId, customerCreatedAt: createdAt } = state;
  const created = { type: 'CustomerCreated' as const, data: { customerId, pii, planId, createdAt } };
  return { state: customerDecider.evolve(customerDecider.initialState, created), version: 1 };
};

/** Claims the email's digest for the customer: false when another customer holds it. */
async function claimEmail(tx: Sql, state: RegistrationState): Promise<boolean> {
  const { rows } = await tx.query<{ customer_id: string }>(
    `insert into customer_emails (email, customer_id) values ($1, $2)
     on conflict (email) do update set email = excluded.email returning customer_id`,
    [state.emailDigest, state.customerId],
  );
  return rows[0]?.customer_id === state.customerId;
}

/** Test hook: makes the step after the charge fail, to exercise the refund path. */
export interface RegistrationFaults {
  failSubscriptionStep?: boolean;
  /** A shorter step timeout of the charge, to exercise attempts that outlive it. */
  chargeTimeoutMs?: number;
}

/** The registration's first charge, as a durable intent (its key is `registrationId:charge`). */
export const registrationIntent = (
  state: RegistrationState,
  idempotencyKey: string,
  taxRateBps: number,
): PaymentIntent => ({
  idempotencyKey,
  flowType: 'registration',
  flowId: state.registrationId,
  paymentId: state.paymentId,
  customerId: state.customerId,
  subscriptionId: null,
  amount: state.amount,
  currency: state.currency,
  purpose: 'registration',
  periodIndex: 0,
  attempt: 1,
  taxRateBps,
  paymentMethod: state.paymentMethod,
  description: `Registration ${state.registrationId} (${state.planId})`,
});

/**
 * create customer (pending) → charge → activate (create the subscription and register the
 * customer, in one transaction). A decline deletes the customer; a failure after the charge
 * refunds it too.
 */
export function registrationSaga(deps: {
  db: Database;
  store: EventStore;
  gateway: PaymentGateway;
  clock: Clock;
  /** The tax rate the charge records (TAX_RATE_BPS). */
  taxRateBps: number;
  faults?: RegistrationFaults;
}): SagaDefinition<RegistrationState> {
  const { db, store, gateway, clock, taxRateBps } = deps;
  const now = () => clock.now().toISOString();
  const metadata = (state: RegistrationState) => ({
    correlationId: state.correlationId,
    causationId: null,
    actor: `registration:${state.registrationId}`,
  });

  return {
    type: REGISTRATION_SAGA,
    record: registrationHistory({ store, clock }),
    steps: [
      {
        name: 'create-customer',
        local: true,
        async run({ state, attempt, writes }, tx): Promise<StepResult<RegistrationState>> {
          // customer_emails keeps a keyed hash of the address, never the address itself. The first
          // attempt claims it with its checkpoint (one taken fails the statement whole: a saga this
          // checkpoint was to store is not stored, and the service answers 409; a stored one
          // retries), a retry claims it first and says when it is taken.
          if (attempt === 1)
            writes.write('insert into customer_emails (email, customer_id) values ($1, $2)', [
              state.emailDigest,
              state.customerId,
            ]);
          else if (!(await claimEmail(tx!, state))) {
            // Nothing of this attempt stays readable: its key goes, and with it the sealed state.
            await shred(state.customerId, tx!);
            return { fail: { code: 'email_taken', message: 'this email already belongs to a customer' } };
          }
          // The events carry the email and name sealed with the customer's own key (crypto-shredding).
          const data = { customerId: state.customerId, pii: state.pii, planId: state.planId, createdAt: now() };
          await handleCommand(
            store,
            customerDecider,
            customerStream(state.customerId),
            { type: 'CreateCustomer', data },
            { metadata: metadata(state), newStream: true, defer: writes },
          );
          return { ok: { customerCreatedAt: data.createdAt } };
        },
        async compensate({ state }, tx) {
          await handleCommand(
            store,
            customerDecider,
            customerStream(state.customerId),
            {
              type: 'DeleteCustomer',
              data: { customerId: state.customerId, reason: 'compensation', deletedAt: now() },
            },
            { tx, metadata: metadata(state) },
          );
          await tx!.query('delete from customer_emails where email = $1 and customer_id = $2', [
            state.emailDigest,
            state.customerId,
          ]);
          // A compensated customer's personal data is shredded too.
          await shred(state.customerId, tx!);
        },
      },
      {
        name: 'charge',
        local: false,
        timeoutMs: deps.faults?.chargeTimeoutMs ?? 15_000,
        // Durable before the call: a charge whose answer is lost (a crash, an abandoned attempt) is found by the reconciler.
        intent({ state, idempotencyKey }, writes) {
          void openIntent(writes, registrationIntent(state, idempotencyKey, taxRateBps)); // deferred: nothing to wait for
        },
        async run({ state, idempotencyKey, attempt }): Promise<StepResult<RegistrationState>> {
          const intent = registrationIntent(state, idempotencyKey, taxRateBps);
          const result = await chargeOnce(gateway, {
            idempotencyKey,
            amount: state.amount,
            currency: state.currency,
            paymentMethod: state.paymentMethod,
            customerId: state.customerId,
            description: `Registration ${state.registrationId} (${state.planId})`,
          });
          // Recorded with the step's checkpoint; by an attempt that outlived the step's timeout, when
          // it lands: refunded if the registration has stopped meanwhile (it compensated). A first
          // attempt does not read the payment stream: while the registration runs, only its own
          // attempts record the charge (the later ones read it first).
          const outcome = async (tx: Sql, goesOn: boolean, writes?: DeferredWrites) => {
            const first = goesOn && attempt === 1;
            await recordChargeOutcome(store, tx, intent, result, now(), metadata(state), first, writes);
            const status = result.status === 'declined' ? 'declined' : goesOn ? 'succeeded' : 'refund_due';
            await settleIntent(writes ?? tx, idempotencyKey, {
              status,
              chargeId: result.chargeId,
              refundReason: 'registration_failed',
            });
          };
          if (result.status === 'declined')
            return {
              fail: { code: 'payment_declined', message: result.message, details: { declineCode: result.declineCode } },
              outcome,
            };
          return { ok: { chargeId: result.chargeId }, outcome };
        },
        async compensate({ state, idempotencyKey }) {
          // Refund only what the gateway shows as charged (a timed-out charge may or may not have been);
          // a charge not there yet stays a pending intent, which the reconciler settles after its window.
          const intent = (await findIntent(db, idempotencyKey)) ?? {
            ...registrationIntent(state, idempotencyKey, taxRateBps),
            status: 'pending' as const,
            chargeId: null,
            refundReason: null,
            attempts: 0,
            lastError: null,
            createdAt: clock.now(),
          };
          await refundIntent({ db, store, gateway, clock }, { ...intent, refundReason: 'registration_failed' });
        },
      },
      {
        // After the charge, one local step finishes the registration: it commits whole or not at
        // all, so a failure here has nothing of its own to undo (the charge is refunded).
        name: 'activate',
        local: true,
        retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
        async run({ state, attempt, writes }, tx): Promise<StepResult<RegistrationState>> {
          if (deps.faults?.failSubscriptionStep) throw new Error('subscription service unavailable (injected fault)');
          // The first attempt reads nothing: its appends and writes go with its checkpoint, one statement.
          const { state: subscription } = await handleCommand(
            store,
            subscriptionDecider,
            subscriptionStream(state.subscriptionId),
            {
              type: 'CreateSubscription',
              data: {
                subscriptionId: state.subscriptionId,
                customerId: state.customerId,
                planId: state.planId,
                price: { amount: state.amount, currency: state.currency },
                interval: state.interval,
                start: now(),
              },
            },
            // A retry reads it: a saga started before activate was one step may have made it.
            { tx, metadata: metadata(state), newStream: attempt === 1, defer: writes },
          );
          // Renewals charge the same card, and the scheduler looks at the subscription when its period ends.
          scheduleNew(writes, subscription, state.paymentMethod);
          // CustomerRegistered: the welcome email goes out.
          await handleCommand(
            store,
            customerDecider,
            customerStream(state.customerId),
            { type: 'RegisterCustomer', data: { customerId: state.customerId, registeredAt: now() } },
            {
              tx,
              metadata: metadata(state),
              loaded: attempt === 1 ? createdCustomer(state) : undefined,
              defer: writes,
            },
          );
          return { ok: {} };
        },
      },
    ],
  };
}
