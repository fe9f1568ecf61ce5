import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../http/app.ts';
import { registerAuth } from '../http/auth.ts';
import { registerIdempotency } from '../http/idempotency.ts';
import { TokenRevocation } from '../http/token-revocation.ts';
import { loadCustomer } from '../services/subscriptions/subscription-streams.ts';
import { adminClockRoutes } from '../http/routes/admin-clock.ts';
import { adminDlqRoutes } from '../http/routes/admin-dlq.ts';
import { adminProjectionRoutes } from '../http/routes/admin-projections.ts';
import { adminVerifyRoutes } from '../http/routes/admin-verify.ts';
import { adminWorkflowRoutes } from '../http/routes/admin-workflows.ts';
import { WorkflowService } from '../services/workflows/workflow-service.ts';
import { customerRoutes } from '../http/routes/customers.ts';
import { plansRoutes } from '../http/routes/plans.ts';
import { registrationRoutes } from '../http/routes/registrations.ts';
import type { ReadinessCheck } from '../http/routes/operations.ts';
import { subscriptionRoutes } from '../http/routes/subscriptions.ts';
import { AdminSessions, webRoutes } from '../http/web/index.ts';
import type { Subscription } from '../kernel/bus/bus.ts';
import { systemClock } from '../kernel/clock.ts';
import { asyncApiDocument } from '../kernel/catalog/asyncapi.ts';
import type { DeadLetter } from '../kernel/consumers/dead-letter-store.ts';
import { replayDeadLetter, replayDeadLetters } from '../kernel/consumers/replay-dead-letters.ts';
import { safetyPollMs } from '../kernel/due-loop.ts';
import { pruneAnswers } from '../kernel/idempotency.ts';
import { pruneFinishedWorkflows } from '../services/workflows/workflow-retention.ts';
import { reactionModules } from '../reactions/index.ts';
import { consumerRunner, type ConsumerEntry } from './consumers-role.ts';
import type { PlatformCore } from './core.ts';
import type { RunningRole } from './role.ts';
import type { View } from './views.ts';

/**
 * The HTTP server of a process: the public and admin API with the api role; `/health`, `/ready`,
 * `/metrics` and the documents in every process (probes and scraping reach every role).
 */
export async function buildHttp(
  core: PlatformCore,
  views: readonly View[],
  consumers: readonly ConsumerEntry[],
  subscriptions: readonly Subscription[],
  checks: ReadinessCheck[],
  /** The store is migrated: until then the routes that need it answer 503. */
  started: () => boolean,
): Promise<FastifyInstance> {
  const {
    config,
    log,
    catalog,
    db,
    store,
    clock,
    clockService,
    registrations,
    subscriptionService,
    tokens,
    reactionDeps,
  } = core;
  if (!config.adminToken && config.roles.has('api'))
    log.warn('ADMIN_TOKEN is not set: the admin API answers 401 to everyone');
  const runnerOf = (name: string) =>
    consumerRunner(
      core,
      consumers.find((entry) => entry.consumer.name === name)!,
    );
  const replay = (name: string) => replayDeadLetters(runnerOf(name), core.deadLetters);
  const replayOne = (name: string, letter: DeadLetter) => replayDeadLetter(runnerOf(name), core.deadLetters, letter);
  // Sessions expire by the wall clock: advancing the test clock must not sign the operator out.
  const sessions = new AdminSessions(config.adminToken, systemClock);
  const wiring = consumers.map((entry) => entry.consumer);
  const revocation = new TokenRevocation(async (customerId) => {
    const customer = await loadCustomer(store, customerId);
    return customer.status !== 'none' && customer.status !== 'deleted';
  }, config.tokenRevocationCacheMs);
  return buildHttpApp({
    log,
    started,
    metricsToken: config.metricsToken,
    checks,
    asyncApi: () =>
      asyncApiDocument(catalog, {
        title: 'Tributary events',
        version: '1.0.0',
        kafkaBrokers: config.kafka?.brokers.join(','),
      }),
    configure: (app) => {
      registerAuth(app, { adminToken: config.adminToken, tokens, revocation, sessions });
      registerIdempotency(app, { db, secret: core.tokenSecret });
    },
    routes: config.roles.has('api')
      ? [
          plansRoutes(core.plans),
          registrationRoutes({
            registrations,
            tokens,
            waitMs: config.registerWaitMs,
            rateLimit: { max: config.registerRateLimit, timeWindow: 60_000 },
          }),
          subscriptionRoutes(subscriptionService),
          customerRoutes({
            ...{ store, erasure: core.erasure, subscriptions: subscriptionService, revocation },
            isKnownPaymentMethod: core.isKnownPaymentMethod,
          }),
          ...(clockService ? [adminClockRoutes({ clockService, waitMs: config.clockAdvanceWaitMs })] : []),
          adminProjectionRoutes(views.map((view) => view.runner)),
          ...views.map(({ module, deps }) => module.routes(deps)),
          adminVerifyRoutes({ verify: core.verify }),
          adminWorkflowRoutes(new WorkflowService({ sagas: core.sagas, store, clock })),
          adminDlqRoutes({
            deadLetters: core.deadLetters,
            consumers: consumers.map((entry) => entry.consumer.name),
            replay,
            replayOne,
          }),
          ...reactionModules.flatMap((module) => (module.routes ? [module.routes(reactionDeps)] : [])),
          ...webRoutes({ db, store, clock, catalog, consumers: wiring, subscriptions, sessions }),
        ]
      : [],
  });
}

/**
 * The api role's background work: taking over the sagas of a process that died (POST /register
 * starts them), settling payment intents left without an outcome, and, hourly, forgetting the
 * idempotent answers older than a day and the workflows finished before their retention. The
 * first two sleep until their next lease or intent falls due or an append wakes them; the
 * recovery's safety poll is 5 s on PostgreSQL (other processes' sagas) and 5 minutes embedded
 * (the only other process is this one's predecessor), so an idle platform sleeps.
 */
export function startApi(core: PlatformCore): RunningRole {
  core.sagas.startRecovery(core.store.appended, core.db.kind === 'pglite' ? safetyPollMs(core.db) : 5_000);
  core.payments.start(core.store.appended);
  const pruner = setInterval(() => void prune(core), 3_600_000);
  pruner.unref();
  return {
    role: 'api',
    async stop() {
      clearInterval(pruner);
      await core.sagas.stop();
      await core.payments.stop();
    },
  };
}

/** Forgets what is past keeping: idempotent answers after a day, finished workflows after their retention. */
async function prune(core: PlatformCore): Promise<void> {
  const finishedBefore = new Date(core.clock.now().getTime() - core.config.workflowRetentionDays * 86_400_000);
  await pruneAnswers(core.db).catch((error: unknown) => core.log.error({ err: error }, 'idempotency: pruning failed'));
  await pruneFinishedWorkflows(core.db, finishedBefore).then(
    (count) => count > 0 && core.log.info({ count, finishedBefore }, 'workflows: finished ones forgotten'),
    (error: unknown) => core.log.error({ err: error }, 'workflows: pruning failed'),
  );
}
