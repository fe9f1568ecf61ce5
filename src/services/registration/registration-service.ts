import { uuidv7 } from '../../kernel/ids.ts';
import type { Database } from '../../kernel/db/database.ts';
import { isFinished, type SagaRecord } from '../../kernel/saga/saga.ts';
import type { SagaOrchestrator } from '../../kernel/saga/saga-orchestrator.ts';
import type { PlanCatalog } from '../plans/index.ts';
import { REGISTRATION_SAGA, type RegistrationState } from './registration-saga.ts';
import { emailDigest, keyedHash } from '../../kernel/crypto/keyed-hash.ts';
import { encrypt, encryptNew, type Sealed } from '../../kernel/crypto/personal-data.ts';
import {
  CLAIM_TAKEN_CONSTRAINT,
  claimNewResource,
  claimResource,
  isKeyOfResource,
  type KeyClaim,
} from '../../kernel/idempotency.ts';
import { DeferredWrites } from '../../kernel/store/deferred-writes.ts';
import { isUniqueViolation } from '../../kernel/db/unique-violation.ts';

/** Registration keys are one scope, whoever sends them (anonymous or admin). */
const REGISTRATION_SCOPE = 'registration';

export interface RegistrationRequest {
  email: string;
  name: string;
  planId: string;
  paymentMethod: string;
}

/** The email belongs to an active customer (409). */
export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';
}

/** The payment token is not one the gateway knows (422, nothing written). */
export class UnknownPaymentMethodTokenError extends Error {
  override readonly name = 'UnknownPaymentMethodTokenError';
}

export type Registration = SagaRecord<RegistrationState>;

/** The statement that would have created the registration found its Idempotency-Key claimed before. */
const claimTaken = (error: unknown) => isUniqueViolation(error, CLAIM_TAKEN_CONSTRAINT);
/** Its email's digest held by another customer. */
const emailClaimed = (error: unknown) => isUniqueViolation(error, 'customer_emails_pkey');

const normalize = (request: RegistrationRequest): RegistrationRequest => ({
  ...request,
  email: request.email.trim().toLowerCase(),
  name: request.name.trim(),
});

/** Runs registrations as sagas; a retried request with the same key joins the first one. */
export class RegistrationService {
  constructor(
    private readonly deps: {
      db: Database;
      sagas: SagaOrchestrator;
      plans: PlanCatalog;
      isKnownPaymentMethod: (token: string) => boolean;
    },
  ) {}

  /**
   * Starts (or joins) the registration and waits up to `waitMs` for it to finish. Checks that
   * need nothing written (plan, token) are done first, and an email in use fails the statement
   * that would store the registration: bad input writes nothing.
   */
  async register(
    input: RegistrationRequest,
    options: { idempotencyKey?: string; waitMs: number; correlationId: string },
  ): Promise<Registration> {
    const request = normalize(input);
    this.deps.plans.require(request.planId);
    if (!this.deps.isKnownPaymentMethod(request.paymentMethod))
      throw new UnknownPaymentMethodTokenError(`unknown payment method token: ${request.paymentMethod}`);

    const digest = await emailDigest(this.deps.db, request.email);
    // Keyed: the request holds the email and name, which an unkeyed digest would let anyone confirm.
    const claim = options.idempotencyKey
      ? {
          scope: REGISTRATION_SCOPE,
          key: options.idempotencyKey,
          requestHash: await keyedHash(this.deps.db, 'idempotency-hmac', JSON.stringify(request)),
        }
      : undefined;

    const registration = await this.startNew(request, digest, claim, options);
    if (registration) return registration;

    let registrationId = uuidv7();
    let joined = false;
    if (claim) {
      const claimed = await claimResource(this.deps.db, claim, registrationId);
      // A key claimed before: its registration may be running or finished (joined); a new claim has none yet.
      if (claimed !== registrationId) {
        registrationId = claimed;
        joined = true;
        const existing = await this.deps.sagas.get<RegistrationState>(registrationId);
        if (existing) return this.finish(existing, options.waitMs);
      }
    }

    // A joined key whose first request has not started its saga yet: that request's own claim of
    // the email must not turn this one into a 409 (the saga's first step checks the email anyway).
    if (!joined && (await this.emailTaken(digest)))
      throw new EmailTakenError('this email already belongs to a customer');

    // The saga's state holds the email and name only sealed with the new customer's key.
    const state = await this.stateOf(request, registrationId, digest, options.correlationId, (customerId, data) =>
      encrypt(customerId, data, this.deps.db),
    );
    const run = this.deps.sagas.start(REGISTRATION_SAGA, registrationId, state);
    return this.race(run, registrationId, options.waitMs);
  }

  /**
   * The common case, a new request for a free email: its key's claim, the customer's key, the
   * email's claim and the saga are stored in one statement. A key claimed before or an email
   * another customer holds fails it whole, nothing written: undefined (joined, or 409, after).
   */
  private async startNew(
    request: RegistrationRequest,
    digest: string,
    claim: KeyClaim | undefined,
    options: { waitMs: number; correlationId: string },
  ): Promise<Registration | undefined> {
    const registrationId = uuidv7();
    const writes = new DeferredWrites();
    if (claim) claimNewResource(writes, claim, registrationId);
    const state = await this.stateOf(request, registrationId, digest, options.correlationId, (customerId, data) =>
      Promise.resolve(encryptNew(customerId, data, writes)),
    );
    // Stored by create-customer's checkpoint, with the claims and the key: one statement and one commit.
    const run = this.deps.sagas.start(REGISTRATION_SAGA, registrationId, state, { writes, storedByFirstStep: true });
    return this.race(run, registrationId, options.waitMs).catch((error: unknown) => {
      if (claimTaken(error) || emailClaimed(error)) return undefined;
      throw error;
    });
  }

  private async emailTaken(digest: string): Promise<boolean> {
    const { rows } = await this.deps.db.query('select 1 from customer_emails where email = $1', [digest], {
      prepared: true,
    });
    return rows.length > 0;
  }

  /** A new registration's state, its personal data sealed by `seal` under the new customer's key. */
  private async stateOf(
    request: RegistrationRequest,
    registrationId: string,
    emailDigest: string,
    correlationId: string,
    seal: (customerId: string, data: { email: string; name: string }) => Promise<Sealed>,
  ): Promise<RegistrationState> {
    const plan = this.deps.plans.require(request.planId);
    const customerId = uuidv7();
    const { email, name, planId, paymentMethod } = request;
    return {
      registrationId,
      customerId,
      subscriptionId: uuidv7(),
      paymentId: uuidv7(),
      pii: await seal(customerId, { email, name }),
      emailDigest,
      planId,
      paymentMethod,
      amount: plan.amount,
      currency: plan.currency,
      interval: plan.interval,
      correlationId,
    };
  }

  /** Whether `key` is the Idempotency-Key that started registration `id` (its holder may follow it). */
  isKeyOf(key: string, id: string): Promise<boolean> {
    return isKeyOfResource(this.deps.db, REGISTRATION_SCOPE, key, id);
  }

  get(id: string): Promise<Registration | null> {
    return this.deps.sagas.get<RegistrationState>(id);
  }

  private async finish(record: Registration, waitMs: number): Promise<Registration> {
    if (isFinished(record.status)) return record;
    return (await this.deps.sagas.waitFor<RegistrationState>(record.id, waitMs)) ?? record;
  }

  /** The finished saga, or its state so far once `waitMs` has passed (it goes on in the background). */
  private async race(run: Promise<Registration>, id: string, waitMs: number): Promise<Registration> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    run.catch(() => {}); // the orchestrator logs; a later GET shows the outcome
    try {
      // A saga its first checkpoint has not stored yet is not in the store: its run answers.
      return (await Promise.race([run, timeout])) ?? (await this.get(id)) ?? (await run);
    } finally {
      clearTimeout(timer);
    }
  }
}
