import { hostname } from 'node:os';
import { seedEvents } from '../domain/events/index.ts';
import { CustomerTokens } from '../http/auth.ts';
import { tokenSecret } from '../http/token-secret.ts';
import type { Bus } from '../kernel/bus/bus.ts';
import { EventCatalog } from '../kernel/catalog/catalog.ts';
import { systemClock, TestClock, type Clock } from '../kernel/clock.ts';
import type { Config } from '../kernel/config.ts';
import { DeadLetterStore } from '../kernel/consumers/dead-letter-store.ts';
import { consumerMigrations } from '../kernel/consumers/migrations.ts';
import type { Database } from '../kernel/db/database.ts';
import type { Logger } from '../kernel/logger.ts';
import { sagaMigrations } from '../kernel/saga/migrations.ts';
import { SagaOrchestrator } from '../kernel/saga/saga-orchestrator.ts';
import { EventStore } from '../kernel/store/event-store.ts';
import { eventStoreMigrations } from '../kernel/store/migrations.ts';
import { reactionMigrations } from '../reactions/index.ts';
import type { ReactionDeps } from '../reactions/reaction-module.ts';
import { cryptoMigrations } from '../kernel/crypto/migrations.ts';
import { ErasureService } from '../services/customers/erasure.ts';
import { erasureSaga } from '../services/customers/erasure-saga.ts';
import { refundWorkflow } from '../services/payments/refund-workflow.ts';
import { idempotencyMigrations } from '../kernel/idempotency.ts';
import {
  gatewayMigrations,
  HttpGateway,
  SimulatedGateway,
  TEST_PAYMENT_METHODS,
  type PaymentGateway,
} from '../services/payments/gateway/index.ts';
import { loadPlans, type PlanCatalog } from '../services/plans/index.ts';
import { registrationMigrations } from '../services/registration/migrations.ts';
import { registrationSaga, type RegistrationFaults } from '../services/registration/registration-saga.ts';
import { RegistrationService } from '../services/registration/registration-service.ts';
import { ClockService } from '../services/subscriptions/clock-service.ts';
import { subscriptionMigrations } from '../services/subscriptions/migrations.ts';
import { RenewalScheduler } from '../services/subscriptions/renewal-scheduler.ts';
import { SubscriptionService } from '../services/subscriptions/subscription-service.ts';
import { paymentIntentMigrations, paymentReconciler } from '../services/payments/intents/index.ts';
import { viewModules } from '../views/index.ts';
import { verifyMoney, type VerifyOptions } from '../verify/verify.ts';
import type { VerifyReport } from '../verify/violation.ts';
import { openBus } from './open-bus.ts';

export const migrations = [
  ...eventStoreMigrations,
  ...consumerMigrations,
  ...sagaMigrations,
  ...gatewayMigrations,
  ...registrationMigrations,
  ...paymentIntentMigrations,
  ...subscriptionMigrations,
  ...cryptoMigrations,
  ...idempotencyMigrations,
  ...reactionMigrations(),
  ...viewModules.flatMap((module) => module.migrations ?? []),
];

/** What every role of a process shares: the database, the store, the bus and the services. */
export interface PlatformCore {
  config: Config;
  log: Logger;
  clock: Clock;
  catalog: EventCatalog;
  db: Database;
  store: EventStore;
  bus: Bus;
  deadLetters: DeadLetterStore;
  plans: PlanCatalog;
  gateway: PaymentGateway;
  sagas: SagaOrchestrator;
  registrations: RegistrationService;
  subscriptionService: SubscriptionService;
  renewals: RenewalScheduler;
  erasure: ErasureService;
  /** The money invariants, checked against the gateway's records and the store (`tributary verify`). */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /** Settles payment intents left without an outcome (a process died, a timeout, an abandoned attempt). */
  payments: ReturnType<typeof paymentReconciler>;
  clockService: ClockService | undefined;
  tokens: CustomerTokens;
  /** Signs customer tokens and keys the idempotency request hashes. */
  tokenSecret: Buffer;
  reactionDeps: ReactionDeps;
  isKnownPaymentMethod(token: string): boolean;
}

/** Builds the services on the database; nothing runs yet. */
export async function openCore(
  config: Config,
  log: Logger,
  db: Database,
  faults?: RegistrationFaults,
): Promise<PlatformCore> {
  const clock = config.clock === 'test' ? new TestClock() : systemClock;
  const catalog = new EventCatalog(seedEvents);
  const store = new EventStore(db, catalog, clock);
  const bus = await openBus(config, { store, catalog, clock, log });
  const plans = await loadPlans(config.plansFile);
  // The simulator keeps its charges in the platform's database, so a restarted process still knows them.
  const gateway: HttpGateway | SimulatedGateway = config.gateway.url
    ? new HttpGateway({
        baseUrl: config.gateway.url,
        apiKey: config.gateway.apiKey,
        timeoutMs: config.gateway.timeoutMs,
      })
    : new SimulatedGateway({ clock, store: db });
  const crashAt = config.clock === 'test' ? config.sagaCrashAt : undefined;
  const sagas = new SagaOrchestrator({
    db,
    store,
    clock,
    log,
    owner: `${hostname()}:${process.pid}`,
    parkedRetryMs: config.parkedRetryMs,
    onBoundary: crashAt
      ? (boundary, type) => [boundary, `${type}/${boundary}`].includes(crashAt) && process.kill(process.pid, 'SIGKILL')
      : undefined,
  });
  sagas.register(registrationSaga({ db, store, gateway, clock, taxRateBps: config.billing.taxRateBps, faults }));
  sagas.register(erasureSaga({ store, clock }));
  sagas.register(refundWorkflow({ db, store, gateway, clock }));
  const erasure = new ErasureService({ store, sagas });
  const isKnownPaymentMethod = (token: string) => TEST_PAYMENT_METHODS.has(token);
  const registrations = new RegistrationService({ db, sagas, plans, isKnownPaymentMethod });
  const { dunningDays } = config;
  const payments = paymentReconciler({
    db,
    store,
    gateway,
    clock,
    log,
    windowMs: config.gateway.intentWindowMs,
    dunningDays,
    sagas,
  });
  const renewals = new RenewalScheduler({
    sagas,
    db,
    store,
    clock,
    gateway,
    log,
    dunningDays,
    payments,
    taxRateBps: config.billing.taxRateBps,
  });
  const secret = await tokenSecret(config);
  return {
    config,
    log,
    clock,
    catalog,
    db,
    store,
    bus,
    deadLetters: new DeadLetterStore(db, clock),
    plans,
    gateway,
    sagas,
    registrations,
    subscriptionService: new SubscriptionService({ db, store, clock }),
    renewals,
    erasure,
    verify: (options?: VerifyOptions) =>
      verifyMoney(
        { db, clock, listCharges: () => gateway.listCharges(), intentWindowMs: config.gateway.intentWindowMs },
        options,
      ),
    payments,
    clockService: clock instanceof TestClock ? new ClockService({ db, clock, scheduler: renewals }) : undefined,
    // A session lasts 30 days of real time, whatever a test clock does (advancing months must not sign everyone out).
    tokens: new CustomerTokens(secret, systemClock),
    tokenSecret: secret,
    reactionDeps: {
      config,
      plans,
      db,
      store,
      catalog,
      clock,
      log,
      erase: (id, metadata) => erasure.erase(id, metadata),
    },
    isKnownPaymentMethod,
  };
}
