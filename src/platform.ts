import type { FastifyInstance } from 'fastify';
import type { Bus, Subscription } from './kernel/bus/bus.ts';
import type { EventCatalog } from './kernel/catalog/catalog.ts';
import type { Clock } from './kernel/clock.ts';
import type { Config } from './kernel/config.ts';
import type { ConsumerDefinition } from './kernel/consumers/consumer.ts';
import type { DeadLetterStore } from './kernel/consumers/dead-letter-store.ts';
import type { Database, OpeningDatabase } from './kernel/db/database.ts';
import { startDatabase } from './kernel/db/open-database.ts';
import { migrate } from './kernel/db/migrate.ts';
import { createLogger, type Logger } from './kernel/logger.ts';
import type { OutboxRelay } from './kernel/outbox/outbox-relay.ts';
import type { ProjectionRunner } from './kernel/projections/projection-runner.ts';
import { retryForever } from './kernel/retry-forever.ts';
import type { SagaOrchestrator } from './kernel/saga/saga-orchestrator.ts';
import type { EventStore } from './kernel/store/event-store.ts';
import { buildHttp, startApi } from './platform/api-role.ts';
import { selectConsumers, startConsumers } from './platform/consumers-role.ts';
import { migrations, openCore, type PlatformCore } from './platform/core.ts';
import { loopDelay } from './kernel/metrics.ts';
import { sampleLag } from './platform/lag-sampler.ts';
import { startProjections } from './platform/projections-role.ts';
import { startRelay } from './platform/relay-role.ts';
import type { RunningRole } from './platform/role.ts';
import { startScheduler } from './platform/scheduler-role.ts';
import { openViews, setUpViews, viewConsumers } from './platform/views.ts';
import { reactionConsumers } from './reactions/index.ts';
import type { PaymentGateway } from './services/payments/gateway/index.ts';
import type { PlanCatalog } from './services/plans/index.ts';
import type { RegistrationFaults } from './services/registration/registration-saga.ts';
import type { RegistrationService } from './services/registration/registration-service.ts';
import type { ClockService } from './services/subscriptions/clock-service.ts';
import type { SubscriptionService } from './services/subscriptions/subscription-service.ts';

export { migrations };

export interface Platform {
  config: Config;
  log: Logger;
  clock: Clock;
  catalog: EventCatalog;
  db: Database;
  store: EventStore;
  bus: Bus;
  /** The outbox relay, once the relay role has started on Kafka. */
  readonly relay: OutboxRelay | undefined;
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
  verify: PlatformCore['verify'];
  /** Resolves when the store is migrated and every role of this process has started. */
  started: Promise<void>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** The consumers to run instead of the reactions' and the views' (tests: `[]`). */
  consumers?: ConsumerDefinition[];
  log?: Logger;
  /** Test hooks: injected failures of the registration saga. */
  faults?: RegistrationFaults;
  /** The store, already being opened (`tributary start` opens it while the platform's modules load). */
  store?: Promise<OpeningDatabase>;
}

/**
 * The platform as the roles this process runs (`config.roles`): the HTTP server answers at once
 * (`/ready` says 503 until the store, the views and the bus are up), the roles start in the
 * background, retrying with backoff, and stop in the reverse order.
 */
export async function startPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const log = options.log ?? createLogger(config.logLevel);
  // The services are built and the HTTP server answers while PGlite starts in its thread.
  const store = await (options.store ?? startDatabase(config));
  const core = await openCore(config, log, store.db, options.faults);
  const views = await openViews(core);
  const allConsumers = options.consumers?.map((consumer) => ({ consumer, db: core.db })) ?? [
    ...reactionConsumers(core.reactionDeps).map((consumer) => ({ consumer, db: core.db })),
    ...viewConsumers(views),
  ];
  const consumers = selectConsumers(allConsumers, config.consumerNames);
  const ready = { store: false, views: false };
  const subscriptions: Subscription[] = [];
  const http = await buildHttp(
    core,
    views,
    allConsumers,
    subscriptions,
    [
      { name: 'store', check: async () => ready.store && (await core.db.query('select 1'), true) },
      { name: 'bus', check: () => core.bus.healthy() },
      { name: 'views', check: async () => ready.views },
    ],
    () => ready.store,
  );

  const shutdown = new AbortController();
  const running: RunningRole[] = [];
  let relay: OutboxRelay | undefined;
  const started = (async () => {
    await store.opened; // a store that cannot open fails the start (PostgreSQL's connections are retried below)
    await retryForever('database migration', () => migrate(core.db, migrations), log, shutdown.signal);
    await core.clockService?.restore();
    ready.store = true;
    await setUpViews(views, core, shutdown.signal);
    ready.views = true;
    await core.bus.start();
    const roles = config.roles;
    if (shutdown.signal.aborted) return;
    if (roles.has('projections')) running.push(startProjections(views));
    if (roles.has('relay')) running.push(await startRelay(core).then((role) => ((relay = role.relay), role)));
    if (roles.has('api')) running.push(startApi(core));
    if (roles.has('scheduler')) running.push(startScheduler(core));
    if (roles.has('consumers')) running.push(await startConsumers(core, consumers, subscriptions, shutdown.signal));
    log.info(
      { roles: [...roles], bus: core.bus.kind, store: core.db.kind, consumers: subscriptions.length },
      'platform started',
    );
  })();
  started.catch((error: unknown) => {
    if (!shutdown.signal.aborted) log.error({ err: error }, 'platform failed to start');
  });
  const stopFollowing = core.store.followCommits(); // readers of the log sleep until a commit
  loopDelay.wake(); // the start is work, and so is each append (a commit notification)
  const stopWaking = core.store.appended.on(loopDelay.wake);
  const stopSampling = sampleLag(subscriptions, views, () => ready.views, core.store.appended);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      shutdown.abort();
      stopSampling();
      stopWaking();
      await http.close();
      await core.bus.close(); // also ends a start still waiting for Kafka
      await started.catch(() => {});
      for (const role of running.reverse()) await role.stop();
      await stopFollowing();
      await Promise.all(views.map((view) => view.deps.db.close()));
      await core.db.close();
    })());
  const projections = views.map((view) => view.runner);
  return {
    ...{ config, log, clock: core.clock, catalog: core.catalog, db: core.db, store: core.store, bus: core.bus },
    ...{ deadLetters: core.deadLetters, plans: core.plans, gateway: core.gateway, sagas: core.sagas },
    ...{
      registrations: core.registrations,
      subscriptionService: core.subscriptionService,
      clockService: core.clockService,
    },
    ...{ subscriptions, projections, http, started, stop, verify: core.verify },
    get relay() {
      return relay;
    },
  };
}
