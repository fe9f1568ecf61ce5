import type { FastifyInstance } from 'fastify';
import { seedEvents } from './domain/events/index.ts';
import { buildHttpApp } from './http/app.ts';
import type { Bus, Subscription } from './kernel/bus/bus.ts';
import { EmbeddedBus } from './kernel/bus/embedded-bus.ts';
import { KafkaBus } from './kernel/bus/kafka-bus.ts';
import { asyncApiDocument } from './kernel/catalog/asyncapi.ts';
import { EventCatalog } from './kernel/catalog/catalog.ts';
import { systemClock, TestClock, type Clock } from './kernel/clock.ts';
import type { Config } from './kernel/config.ts';
import type { ConsumerDefinition } from './kernel/consumers/consumer.ts';
import { ConsumerRunner } from './kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from './kernel/consumers/dead-letter-store.ts';
import { consumerMigrations } from './kernel/consumers/migrations.ts';
import type { Database } from './kernel/db/database.ts';
import { migrate } from './kernel/db/migrate.ts';
import { openDatabase } from './kernel/db/open-database.ts';
import { createLogger, type Logger } from './kernel/logger.ts';
import { OutboxRelay } from './kernel/outbox/outbox-relay.ts';
import { retryForever } from './kernel/retry-forever.ts';
import { EventStore } from './kernel/store/event-store.ts';
import { eventStoreMigrations } from './kernel/store/migrations.ts';
import { reactionConsumers, reactionMigrations, reactionModules } from './reactions/index.ts';
import type { ReactionDeps } from './reactions/reaction-module.ts';
import { hostname } from 'node:os';
import { CustomerTokens, registerAuth } from './http/auth.ts';
import { plansRoutes } from './http/routes/plans.ts';
import { registrationRoutes } from './http/routes/registrations.ts';
import { tokenSecret } from './http/token-secret.ts';
import { sagaMigrations } from './kernel/saga/migrations.ts';
import { SagaOrchestrator } from './kernel/saga/saga-orchestrator.ts';
import { gatewayMigrations, HttpGateway, SimulatedGateway, TEST_PAYMENT_METHODS, type PaymentGateway } from './services/payments/gateway/index.ts';
import { loadPlans, type PlanCatalog } from './services/plans/index.ts';
import { registrationSaga, type RegistrationFaults } from './services/registration/registration-saga.ts';
import { registrationMigrations } from './services/registration/migrations.ts';
import { RegistrationService } from './services/registration/registration-service.ts';
import { adminClockRoutes } from './http/routes/admin-clock.ts';
import { adminDlqRoutes } from './http/routes/admin-dlq.ts';
import { replayDeadLetters } from './kernel/consumers/replay-dead-letters.ts';
import { customerRoutes } from './http/routes/customers.ts';
import { subscriptionRoutes } from './http/routes/subscriptions.ts';
import { ClockService } from './services/subscriptions/clock-service.ts';
import { subscriptionMigrations } from './services/subscriptions/migrations.ts';
import { customerMigrations } from './services/customers/migrations.ts';
import { adminProjectionRoutes } from './http/routes/admin-projections.ts';
import { ProjectionRunner } from './kernel/projections/projection-runner.ts';
import { openViewDatabase, viewSchemaName } from './kernel/projections/view-database.ts';
import { viewModules } from './views/index.ts';
import type { ViewDeps } from './views/view-module.ts';
import type { ChurnScorer } from './domain/churn/churn-features.ts';
import { churnModelOf } from './reactions/ml/index.ts';
import { RenewalScheduler } from './services/subscriptions/renewal-scheduler.ts';
import { SubscriptionService } from './services/subscriptions/subscription-service.ts';
import { adminVerifyRoutes } from './http/routes/admin-verify.ts';
import { verifyMoney, type VerifyOptions } from './verify/verify.ts';
import type { VerifyReport } from './verify/violation.ts';

export const migrations = [...eventStoreMigrations, ...consumerMigrations, ...sagaMigrations, ...gatewayMigrations, ...registrationMigrations, ...subscriptionMigrations, ...customerMigrations, ...reactionMigrations(), ...viewModules.flatMap((module) => module.migrations ?? [])];

export interface Platform {
  config: Config;
  log: Logger;
  clock: Clock;
  catalog: EventCatalog;
  db: Database;
  store: EventStore;
  bus: Bus;
  relay: OutboxRelay | undefined;
  deadLetters: DeadLetterStore;
  subscriptions: Subscription[];
  plans: PlanCatalog;
  gateway: PaymentGateway;
  sagas: SagaOrchestrator;
  registrations: RegistrationService;
  subscriptionService: SubscriptionService;
  clockService: ClockService | undefined;
  /** The read side's projections, one per view. */
  projections: ProjectionRunner[];
  http: FastifyInstance;
  /** The money invariants, checked against the gateway's records and the store (`tributary verify`). */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /** Resolves when the store is migrated and every consumer is subscribed. */
  started: Promise<void>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  consumers?: ConsumerDefinition[];
  log?: Logger;
  /** Test hooks: injected failures of the registration saga. */
  faults?: RegistrationFaults;
}

/** How long a payment intent may stay without an outcome before verify reports it (the reconciler's window). */
const VERIFY_INTENT_WINDOW_MS = 60_000;

/**
 * Wires the platform from its configuration. The HTTP server answers at once (`/ready` says 503
 * until the store and the bus are up); the rest starts in the background, retrying with backoff.
 */
export async function startPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = config.clock === 'test' ? new TestClock() : systemClock;
  const catalog = new EventCatalog(seedEvents);
  const db = await openDatabase(config);
  const store = new EventStore(db, catalog, clock);
  const deadLetters = new DeadLetterStore(db, clock);
  const shutdown = new AbortController();
  let migrated = false;

  const bus: Bus = config.kafka
    ? new KafkaBus({ ...config.kafka, clientId: 'tributary', catalog, log })
    : new EmbeddedBus({ store, catalog, clock, log });
  const plans = await loadPlans(config.plansFile);
  // The simulator keeps its charges in the platform's database, so a restarted process still knows them.
  const gateway: PaymentGateway = config.gateway.url
    ? new HttpGateway({ baseUrl: config.gateway.url, apiKey: config.gateway.apiKey, timeoutMs: config.gateway.timeoutMs })
    : new SimulatedGateway({ clock, store: db });
  const verify = (verifyOptions?: VerifyOptions) =>
    verifyMoney({ db, clock, listCharges: () => (gateway as SimulatedGateway | HttpGateway).listCharges(), intentWindowMs: VERIFY_INTENT_WINDOW_MS }, verifyOptions);
  const crashAt = config.clock === 'test' ? config.sagaCrashAt : undefined;
  const sagas = new SagaOrchestrator({
    db,
    clock,
    log,
    owner: `${hostname()}:${process.pid}`,
    onBoundary: crashAt ? (boundary) => boundary === crashAt && process.kill(process.pid, 'SIGKILL') : undefined,
  });
  sagas.register(registrationSaga({ store, gateway, clock, taxRateBps: config.billing.taxRateBps, faults: options.faults }));
  const registrations = new RegistrationService({ db, clock, sagas, plans, isKnownPaymentMethod: (token) => TEST_PAYMENT_METHODS.has(token) });
  const isKnownPaymentMethod = (token: string) => TEST_PAYMENT_METHODS.has(token);
  const subscriptionService = new SubscriptionService({ db, store, clock });
  const scheduler = new RenewalScheduler({ db, store, clock, gateway, log, dunningDays: config.dunningDays, taxRateBps: config.billing.taxRateBps });
  const clockService = clock instanceof TestClock ? new ClockService({ db, clock, scheduler }) : undefined;
  const tokens = new CustomerTokens(await tokenSecret(config), clock);
  if (!config.adminToken) log.warn('ADMIN_TOKEN is not set: the admin API answers 401 to everyone');

  const relay = bus instanceof KafkaBus ? new OutboxRelay({ store, catalog, publisher: bus, clock, log }) : undefined;

  const reactionDeps: ReactionDeps = { config, plans, db, store, catalog, clock, log };
  const stoppers: (() => Promise<void>)[] = [];

  // The read side: each view in its own schema, of the platform's database or of its own.
  const churn: ChurnScorer = churnModelOf(reactionDeps).scorer;
  const views = await Promise.all(
    viewModules.map(async (module) => {
      const url = config.views[module.name as 'customers' | 'subscriptions' | 'analytics'];
      const { db: viewDb, own } = await openViewDatabase(url, db, config.databasePoolSize);
      const deps: ViewDeps = {
        config,
        clock,
        log,
        catalog,
        plans,
        churn,
        db: viewDb,
        platformDb: db,
        schema: '',
        waitForPosition: (position) => runner.waitForPosition(position, config.views.readWaitMs),
      };
      const definition = module.projection(deps);
      deps.schema = viewSchemaName(url ?? config.databaseUrl, definition.schema);
      const runner = new ProjectionRunner(definition, { store, db: viewDb, schema: deps.schema, clock, log, batchSize: config.views.batchSize });
      return { module, deps, own, runner };
    }),
  );
  const projections = views.map((view) => view.runner);
  const viewDbOf = new Map<string, Database>();
  const consumers = options.consumers ?? [
    ...reactionConsumers(reactionDeps),
    ...views.flatMap(({ module, deps }) =>
      (module.consumers?.(deps) ?? []).map((consumer) => (viewDbOf.set(consumer.name, deps.db), consumer)),
    ),
  ];

  // A view's consumers keep their inbox in the view database, beside their effect (exactly-once).
  const runnerFor = (consumer: ConsumerDefinition) =>
    new ConsumerRunner(consumer, {
      db: viewDbOf.get(consumer.name) ?? db,
      catalog,
      clock,
      log,
      deadLetters,
      retry: config.retry,
      publishDeadLetter: (name, message, error) => bus.publishDeadLetter(name, message, error),
    });
  const replay = (name: string) => replayDeadLetters(runnerFor(consumers.find((consumer) => consumer.name === name)!), deadLetters);

  const http = await buildHttpApp({
    log,
    checks: [
      { name: 'store', check: async () => migrated && (await db.query('select 1'), true) },
      { name: 'bus', check: () => bus.healthy() },
      { name: 'views', check: async () => viewsReady },
    ],
    asyncApi: () => asyncApiDocument(catalog, { title: 'Tributary events', version: '1.0.0', kafkaBrokers: config.kafka?.brokers.join(',') }),
    configure: (app) => registerAuth(app, { adminToken: config.adminToken, tokens }),
    routes: [
      plansRoutes(plans),
      registrationRoutes({ registrations, tokens, waitMs: config.registerWaitMs, rateLimit: { max: config.registerRateLimit, timeWindow: 60_000 } }),
      subscriptionRoutes(subscriptionService),
      customerRoutes({ db, store, clock, subscriptions: subscriptionService, isKnownPaymentMethod }),
      ...(clockService ? [adminClockRoutes({ clock, clockService })] : []),
      adminProjectionRoutes(projections),
      ...views.map(({ module, deps }) => module.routes(deps)),
      adminVerifyRoutes({ verify }),
      adminDlqRoutes({ deadLetters, consumers: consumers.map((consumer) => consumer.name), replay }),
      ...reactionModules.flatMap((module) => (module.routes ? [module.routes(reactionDeps)] : [])),
    ],
  });

  const subscriptions: Subscription[] = [];
  let schedulerTimer: NodeJS.Timeout | undefined;
  let viewsReady = false;
  const started = (async () => {
    await retryForever('database migration', () => migrate(db, migrations), log, shutdown.signal);
    await clockService?.restore();
    migrated = true;
    for (const view of views) {
      if (view.own) await retryForever(`${view.module.name} view migration`, () => migrate(view.deps.db, [...consumerMigrations, ...(view.module.migrations ?? [])]), log, shutdown.signal);
      await retryForever(`${view.module.name} view setup`, () => view.runner.setup(), log, shutdown.signal);
      if (shutdown.signal.aborted) return;
      view.runner.start();
    }
    viewsReady = true;
    await bus.start();
    if (shutdown.signal.aborted) return;
    await relay?.start();
    sagas.startRecovery();
    // Renewals fall due by the platform clock; with the test clock, POST /admin/clock/advance runs them.
    let scheduling: Promise<unknown> | undefined;
    schedulerTimer = setInterval(() => {
      if (clockService || scheduling) return;
      scheduling = scheduler
        .runDue(clock.now())
        .catch((error: unknown) => log.error({ err: error }, 'renewal scheduler failed'))
        .finally(() => (scheduling = undefined));
    }, 1_000);
    for (const module of reactionModules) if (module.start) stoppers.push(module.start(reactionDeps));
    for (const consumer of consumers) {
      if (shutdown.signal.aborted) return;
      subscriptions.push(await bus.subscribe(runnerFor(consumer)));
    }
    log.info({ bus: bus.kind, store: db.kind, consumers: subscriptions.length }, 'platform started');
  })();
  // Consumer lag is sampled in the background so `/metrics` never waits on Kafka or a count.
  const lagSampler = setInterval(() => {
    for (const subscription of subscriptions) subscription.lag().catch(() => {});
    if (viewsReady) for (const projection of projections) projection.lag().catch(() => {});
  }, 5_000).unref();
  started.catch((error: unknown) => {
    if (!shutdown.signal.aborted) log.error({ err: error }, 'platform failed to start');
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    log,
    clock,
    catalog,
    db,
    store,
    bus,
    relay,
    deadLetters,
    subscriptions,
    plans,
    gateway,
    sagas,
    registrations,
    subscriptionService,
    clockService,
    projections,
    http,
    verify,
    started,
    stop() {
      stopping ??= (async () => {
        shutdown.abort();
        clearInterval(lagSampler);
        clearInterval(schedulerTimer);
        await http.close();
        await sagas.stop();
        // Closing the bus also ends its connection retries, so a start still waiting for Kafka returns.
        await bus.close();
        await started.catch(() => {});
        await Promise.all(subscriptions.map((subscription) => subscription.stop()));
        await relay?.stop();
        await Promise.all(stoppers.map((stop) => stop()));
        await Promise.all(projections.map((projection) => projection.stop()));
        await Promise.all(views.map((view) => view.deps.db.close()));
        await db.close();
      })();
      return stopping;
    },
  };
}
