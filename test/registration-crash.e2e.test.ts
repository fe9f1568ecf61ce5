/**
 * Crash injection with real processes (issue 3, picture 2 of ARCHITECTURE.md): for each boundary
 * of the registration saga, the platform runs as a child process with SAGA_CRASH_AT=<boundary>
 * (CLOCK=test), SIGKILLs itself there in the middle of POST /register, and is started again on the
 * same data without it. The retried request (same Idempotency-Key) and GET /registrations/{id}
 * must then show the registration ended completed or compensated (recovery takes the saga over
 * once its lease, 5 s, has expired), and the database, read directly once the process has
 * stopped, must hold no orphan customer, never two charges, and no charge without a subscription
 * unless it was refunded.
 *
 * The failures after the charge (to reach `charge:compensate:*`) need no hook in the platform: a
 * trigger installed in the test's own database refuses every SubscriptionCreated (or
 * CustomerRegistered) append, so the activate step fails for real (its transaction rolls back,
 * the subscription with it), as it would if the database refused it.
 */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Sql } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { migrations } from '../src/platform.ts';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { adminQuery, freshDatabaseUrl, postgresAvailable, TEST_DATABASE_URL } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** Per boundary: two process starts (3-8 s each on an idle machine), the lease (5 s), the checks. */
const CASE_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 90_000;

type Outcome = 'completed' | 'compensated';

interface Scenario {
  /** `step:phase:point`, as SAGA_CRASH_AT takes it. */
  boundary: string;
  path: 'visa' | 'declined' | 'subscription fails' | 'registering fails';
  card: string;
  /** A step made to fail: a database trigger refuses its event. */
  refuse: 'SubscriptionCreated' | 'CustomerRegistered' | null;
  outcome: Outcome;
  /** The answer to the retried POST /register. */
  status: 201 | 402 | 503;
  /** The customer's events, in order, once the registration has ended. */
  events: string[];
}

const completedPath = (boundary: string): Scenario => ({
  boundary,
  path: 'visa',
  card: 'pm_card_visa',
  refuse: null,
  outcome: 'completed',
  status: 201,
  events: ['CustomerCreated', 'PaymentProcessed', 'SubscriptionCreated', 'CustomerRegistered'],
});

const declinedPath = (boundary: string): Scenario => ({
  boundary,
  path: 'declined',
  card: 'pm_card_chargeDeclined',
  refuse: null,
  outcome: 'compensated',
  status: 402,
  events: ['CustomerCreated', 'PaymentFailed', 'CustomerDeleted'],
});

const refundPath = (boundary: string): Scenario => ({
  boundary,
  path: 'subscription fails',
  card: 'pm_card_visa',
  refuse: 'SubscriptionCreated',
  outcome: 'compensated',
  status: 503,
  events: ['CustomerCreated', 'PaymentProcessed', 'PaymentRefunded', 'CustomerDeleted'],
});

/** The customer's registration is refused: the subscription made in the same step rolls back with it. */
const registeringFailsPath = (boundary: string): Scenario => ({
  ...refundPath(boundary),
  path: 'registering fails',
  refuse: 'CustomerRegistered',
});

const LAST_CHECKPOINT = 'activate:run:after-checkpoint';
/**
 * A crash here leaves no saga running: none stored yet, or the one stored completed (the charge's
 * checkpoint is written in activate's statement, so its boundary comes once the saga completed,
 * unless activate failed and it was written alone).
 */
const nothingToTakeOver = ({ boundary, outcome }: Scenario): boolean =>
  boundary === 'create-customer:run:before-effect' ||
  boundary === LAST_CHECKPOINT ||
  (boundary === 'charge:run:after-checkpoint' && outcome === 'completed');

/** Every boundary of the run phase: local steps have no after-effect (effect and checkpoint commit together). */
const RUN_BOUNDARIES = [
  'create-customer:run:before-effect',
  'create-customer:run:after-checkpoint',
  'charge:run:before-effect',
  'charge:run:after-effect',
  'charge:run:after-checkpoint',
  'activate:run:before-effect',
  LAST_CHECKPOINT,
].map(completedPath);

/** A declined card: the decline recorded but not checkpointed, and the customer's deletion. */
const DECLINE_BOUNDARIES = [
  'charge:run:after-effect',
  'create-customer:compensate:before-effect',
  'create-customer:compensate:after-checkpoint',
].map(declinedPath);

/**
 * A failure after the charge: the charge's checkpoint, written alone once activate fails, and the
 * refund (create-customer's compensation is the declined path's).
 */
const REFUND_BOUNDARIES = [
  'charge:run:after-checkpoint',
  'charge:compensate:before-effect',
  'charge:compensate:after-effect',
  'charge:compensate:after-checkpoint',
].map(refundPath);

/** Activate fails after its subscription was written: nothing of it stays, the charge is refunded. */
const ATOMIC_BOUNDARIES = ['charge:compensate:after-effect'].map(registeringFailsPath);

const EMBEDDED_SCENARIOS = [...RUN_BOUNDARIES, ...DECLINE_BOUNDARIES, ...REFUND_BOUNDARIES, ...ATOMIC_BOUNDARIES];
const POSTGRES_SCENARIOS = [
  ...RUN_BOUNDARIES.filter((scenario) => scenario.boundary.startsWith('charge:')),
  ...REFUND_BOUNDARIES,
];

const following = (scenarios: Scenario[], scenario: Scenario): Scenario | undefined =>
  scenarios[scenarios.indexOf(scenario) + 1];

/** `it.each` rows: the test's name, then the scenario. */
const cases = (scenarios: Scenario[]) =>
  scenarios.map((scenario) => [`${scenario.boundary} (${scenario.path}) → ${scenario.outcome}`, scenario] as const);

/** Installed in the test's database only: every append of an event of type `refused` fails. */
const refuseSql = (refused: string) => /* sql */ `
  create function crash_test_refuse() returns trigger language plpgsql as $fn$
  begin
    if new.type = '${refused}' then
      raise exception 'the store refuses % (injected by the crash test)', new.type;
    end if;
    return new;
  end
  $fn$;
  create trigger crash_test_refuse before insert on events for each row execute function crash_test_refuse();
`;
const REFUSED = ['SubscriptionCreated', 'CustomerRegistered'] as const;

/** Where one boundary's platform keeps its data, and how the test reads it afterwards. */
interface Backend {
  name: string;
  prepare(scenario: Scenario): Promise<{
    env: Record<string, string>;
    /** Runs once the first process has migrated the store, before the request. */
    beforeRequest(): Promise<void>;
    /** The store, opened by the test (the platform has stopped). */
    open(): Promise<Database>;
    cleanup(): Promise<void>;
  }>;
}

/**
 * PGlite in a DATA_DIR of the boundary's own, copied from a template migrated once (a fresh PGlite
 * folder costs an initdb, several seconds); the templates of the failing paths have the trigger.
 */
function embeddedBackend(root: () => string): Backend {
  return {
    name: 'embedded',
    async prepare(scenario) {
      const dataDir = await mkdtemp(join(tmpdir(), 'tributary-crash-'));
      await cp(join(root(), scenario.refuse ?? 'plain'), join(dataDir, 'store'), { recursive: true });
      return {
        env: { DATA_DIR: dataDir, DATABASE_URL: '', KAFKA_BROKERS: '' },
        beforeRequest: async () => {},
        open: () => openPglite(join(dataDir, 'store')),
        cleanup: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  };
}

async function createEmbeddedTemplates(root: string): Promise<void> {
  const plain = await openPglite(join(root, 'plain'));
  try {
    await migrate(plain, migrations);
  } finally {
    await plain.close();
  }
  for (const refused of REFUSED) {
    await cp(join(root, 'plain'), join(root, refused), { recursive: true });
    const faulty = await openPglite(join(root, refused));
    try {
      await faulty.exec(refuseSql(refused));
    } finally {
      await faulty.close();
    }
  }
}

/** PostgreSQL, a schema of the boundary's own (search_path in DATABASE_URL), the embedded bus on it. */
const postgresBackend: Backend = {
  name: 'postgres',
  async prepare(scenario) {
    const { schema, url, drop } = await freshDatabaseUrl('crash');
    const dataDir = await mkdtemp(join(tmpdir(), 'tributary-crash-pg-'));
    return {
      env: { DATABASE_URL: url, KAFKA_BROKERS: '', DATA_DIR: dataDir },
      beforeRequest: async () => {
        if (scenario.refuse) await adminQuery(`set search_path = ${schema}; ${refuseSql(scenario.refuse)}`);
      },
      open: () => openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 1 }),
      async cleanup() {
        await drop().catch(() => {});
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const register = (platform: PlatformProcess, payload: object, key: string) =>
  fetch(`${platform.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(payload),
  });

const waitReady = (platform: PlatformProcess) =>
  waitFor(`${platform.url}/ready`, async () => (await fetch(`${platform.url}/ready`)).ok, START_TIMEOUT_MS);

interface RegistrationView {
  registrationId: string;
  status: string;
  customerId: string;
  steps: { step: string; phase: string; status: string }[];
}

type Setup = Awaited<ReturnType<Backend['prepare']>>;

const platformEnv = (setup: Setup) => ({
  CLOCK: 'test',
  ADMIN_TOKEN,
  LOG_LEVEL: 'warn',
  REGISTER_RATE_LIMIT: '1000',
  ...setup.env,
});

/** A boundary's store and its first process (SAGA_CRASH_AT set), ready for the request. */
interface Armed {
  setup: Setup;
  crashing: PlatformProcess;
}

async function arm(backend: Backend, scenario: Scenario): Promise<Armed> {
  const setup = await backend.prepare(scenario);
  let crashing: PlatformProcess | undefined;
  try {
    crashing = await startPlatformProcess({ ...platformEnv(setup), SAGA_CRASH_AT: scenario.boundary });
    await waitReady(crashing);
    await setup.beforeRequest();
    return { setup, crashing };
  } catch (error) {
    await crashing?.stop('SIGKILL');
    await setup.cleanup();
    throw error;
  }
}

/**
 * The boundaries run one after the other, but the next one's first process starts while this one
 * waits for the dead process's lease to expire (idle time): a start costs seconds.
 */
class Pipeline {
  private readonly armed = new Map<Scenario, Promise<Armed>>();

  constructor(private readonly backend: Backend) {}

  take(scenario: Scenario): Promise<Armed> {
    const armed = this.armed.get(scenario) ?? arm(this.backend, scenario);
    this.armed.delete(scenario);
    return armed;
  }

  prefetch(scenario: Scenario | undefined): void {
    if (!scenario || this.armed.has(scenario)) return;
    const armed = arm(this.backend, scenario);
    armed.catch(() => {}); // reported by the boundary's own test, which awaits it
    this.armed.set(scenario, armed);
  }

  /** Stops what was armed for boundaries that did not run (a filtered or failed run). */
  async close(): Promise<void> {
    for (const armed of this.armed.values()) {
      const ready = await armed.catch(() => null);
      await ready?.crashing.stop('SIGKILL');
      await ready?.setup.cleanup();
    }
    this.armed.clear();
  }
}

async function crashAndRecover(pipeline: Pipeline, scenario: Scenario, next: Scenario | undefined): Promise<void> {
  const key = `crash-${randomUUID()}`;
  const payload = {
    email: `crash-${randomUUID()}@example.com`,
    name: 'Crash Test',
    planId: 'pro-monthly',
    paymentMethod: scenario.card,
  };
  const { setup, crashing } = await pipeline.take(scenario);
  const env = platformEnv(setup);
  let restarted: PlatformProcess | undefined;
  try {
    // 1. The request dies with the process, at the boundary.
    const first = await register(crashing, payload, key).then(
      async (response) =>
        new Error(
          `the process did not crash at ${scenario.boundary}: it answered ${response.status} ${await response.text()}`,
        ),
      () => null, // the connection dropped: expected
    );
    if (first) throw first;
    await crashing.stop();
    expect(crashing.child.signalCode, 'the process killed itself at the boundary').toBe('SIGKILL');
    pipeline.prefetch(next);

    // 2. Restart on the same data, without the crash; the retried request joins the saga, which
    // recovery takes over once the dead process's lease has expired.
    restarted = await startPlatformProcess({ ...env, SAGA_CRASH_AT: '', REGISTER_WAIT_MS: '60000' });
    await waitReady(restarted);
    const retried = await register(restarted, payload, key);
    const answer = (await retried.json()) as { registrationId: string; declineCode?: string; status: unknown };
    expect(retried.status, JSON.stringify(answer)).toBe(scenario.status);
    if (scenario.status === 402) expect(answer.declineCode).toBe('generic_decline');
    const { registrationId } = answer;
    expect(registrationId).toEqual(expect.any(String));

    const view = await waitFor(
      'the registration to end',
      async () => {
        const response = await fetch(`${restarted!.url}/registrations/${registrationId}`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const body = (await response.json()) as RegistrationView;
        return ['completed', 'compensated', 'compensation_failed'].includes(body.status) ? body : null;
      },
      30_000,
    );
    expect(view.status).toBe(scenario.outcome);
    expect(
      view.steps.filter((step) => step.status === 'started'),
      'a step left started',
    ).toEqual([]);
    // The last step's checkpoint completes the saga: after it there is nothing to take over. Before
    // the first step's checkpoint nothing was stored (that checkpoint stores the saga): the retry starts it.
    if (nothingToTakeOver(scenario))
      expect(restarted.output()).not.toContain('saga: taking over from a process that stopped');
    else expect(restarted.output()).toContain('saga: taking over from a process that stopped');
    // A second retry gets the same answer again.
    const again = await register(restarted, payload, key);
    expect(again.status).toBe(scenario.status);
    expect(await restarted.stop('SIGTERM')).toBe(0);

    // 3. The invariants, read from the store itself.
    const db = await setup.open();
    try {
      await checkInvariants(db, scenario, registrationId);
    } finally {
      await db.close();
    }
  } catch (error) {
    const tail = (platform: PlatformProcess | undefined) =>
      platform?.output().split('\n').slice(-30).join('\n') ?? '(not started)';
    if (error instanceof Error)
      error.message += `\n--- crashing process:\n${tail(crashing)}\n--- restarted process:\n${tail(restarted)}`;
    throw error;
  } finally {
    await crashing.stop('SIGKILL');
    await restarted?.stop('SIGKILL');
    await setup.cleanup();
  }
}

interface ChargeRow {
  idempotency_key: string;
  charge_id: string;
  status: string;
  customer_id: string;
  amount: number | string;
  amount_refunded: number | string;
}

async function checkInvariants(db: Sql, scenario: Scenario, registrationId: string): Promise<void> {
  // One saga, ended as expected, every step's outcome recorded.
  const sagas = (
    await db.query<{
      id: string;
      status: string;
      state: { customerId: string; subscriptionId: string; paymentId: string; email: string };
    }>('select id, status, state from sagas')
  ).rows;
  expect(sagas.map((saga) => [saga.id, saga.status])).toEqual([[registrationId, scenario.outcome]]);
  const { customerId, subscriptionId, paymentId, email } = sagas[0]!.state;
  const steps = (
    await db.query<{ step: string; phase: string; status: string }>(
      `select step, phase, status from saga_steps where saga_id = $1`,
      [registrationId],
    )
  ).rows;
  expect(steps.filter((step) => step.status === 'started')).toEqual([]);

  const events = (
    await db.query<{ stream_id: string; type: string; partition_key: string }>(
      'select stream_id, type, partition_key from events order by position',
    )
  ).rows;
  const typesOf = (streamId: string) =>
    events.filter((event) => event.stream_id === streamId).map((event) => event.type);

  // The customer's history, exactly: nothing twice, nothing missing.
  const registrationStream = `registration-${registrationId}`;
  expect(
    events
      .filter((event) => event.partition_key === customerId && event.stream_id !== registrationStream)
      .map((event) => event.type),
  ).toEqual(scenario.events);

  // The saga's own history says how it ended, once.
  const history = typesOf(registrationStream);
  expect(history[0]).toBe('RegistrationStarted');
  expect(history.at(-1)).toBe(scenario.outcome === 'completed' ? 'RegistrationCompleted' : 'RegistrationCompensated');
  expect(new Set(history).size, history.join(', ')).toBe(history.length);

  // Never a second customer, never an orphan: a created customer is registered or deleted.
  const customerStreams = [
    ...new Set(events.filter((event) => event.type === 'CustomerCreated').map((event) => event.stream_id)),
  ];
  expect(customerStreams).toEqual([`customer-${customerId}`]);
  for (const stream of customerStreams) {
    const types = typesOf(stream);
    expect(types.filter((type) => type === 'CustomerCreated')).toHaveLength(1);
    expect(
      types.includes('CustomerRegistered') !== types.includes('CustomerDeleted'),
      `${stream}: ${types.join(', ')}`,
    ).toBe(true);
  }
  const emails = (
    await db.query<{ email: string; customer_id: string }>('select email, customer_id from customer_emails')
  ).rows;
  // customer_emails keeps a keyed hash of the address, never the address.
  expect(emails.map((row) => row.customer_id)).toEqual(scenario.outcome === 'completed' ? [customerId] : []);
  expect(emails.every((row) => /^[0-9a-f]{64}$/.test(row.email) && row.email !== email)).toBe(true);

  // Never two charges: one gateway record per key, at most one successful charge per registration.
  const charges = (
    await db.query<ChargeRow>(
      'select idempotency_key, charge_id, status, customer_id, amount, amount_refunded from gateway_charges',
    )
  ).rows;
  const perKey = new Map<string, number>();
  for (const charge of charges) perKey.set(charge.idempotency_key, (perKey.get(charge.idempotency_key) ?? 0) + 1);
  expect([...perKey.values()].every((count) => count === 1)).toBe(true);
  expect(charges.map((charge) => [charge.idempotency_key, charge.customer_id])).toEqual([
    [`${registrationId}:charge`, customerId],
  ]);
  const succeeded = charges.filter((charge) => charge.status === 'succeeded');
  expect(succeeded.length).toBeLessThanOrEqual(1);
  expect(succeeded).toHaveLength(scenario.path === 'declined' ? 0 : 1);
  expect(typesOf(`payment-${paymentId}`).filter((type) => type === 'PaymentProcessed')).toHaveLength(succeeded.length);

  // Never a charge without a subscription unless refunded (once, in full, at the gateway and in the log).
  const refunds = (
    await db.query<{ charge_id: string; amount: number | string }>('select charge_id, amount from gateway_refunds')
  ).rows;
  const subscription = typesOf(`subscription-${subscriptionId}`);
  const hasSubscription =
    subscription.includes('SubscriptionCreated') && !subscription.includes('SubscriptionCancelled');
  for (const charge of succeeded) {
    const refunded = Number(charge.amount_refunded) === Number(charge.amount);
    expect(hasSubscription || refunded, `charge ${charge.charge_id}: no subscription and not refunded`).toBe(true);
    expect(
      hasSubscription && refunded,
      `charge ${charge.charge_id}: refunded although the subscription is active`,
    ).toBe(false);
    expect(
      refunds.filter((refund) => refund.charge_id === charge.charge_id).map((refund) => Number(refund.amount)),
    ).toEqual(refunded ? [Number(charge.amount)] : []);
    expect(typesOf(`payment-${paymentId}`).filter((type) => type === 'PaymentRefunded')).toHaveLength(refunded ? 1 : 0);
  }
  expect(refunds.length).toBeLessThanOrEqual(succeeded.length);
  // An active subscription, and renewals to come, only for a completed registration.
  expect(hasSubscription).toBe(scenario.outcome === 'completed');
  const timers = await db
    .query<{ subscription_id: string }>(`select subscription_id from subscription_timers`)
    .catch(() => null); // (absent before the renewals migration)
  if (timers)
    expect(timers.rows.map((timer) => timer.subscription_id)).toEqual(hasSubscription ? [subscriptionId] : []);
}

describe('registration saga crash injection: embedded (PGlite)', () => {
  let root: string;
  const backend = embeddedBackend(() => root);
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-crash-templates-'));
    await createEmbeddedTemplates(root);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const pipeline = new Pipeline(backend);
  afterAll(() => pipeline.close());

  it.each(cases(EMBEDDED_SCENARIOS))(
    '%s',
    (_name, scenario) => crashAndRecover(pipeline, scenario, following(EMBEDDED_SCENARIOS, scenario)),
    CASE_TIMEOUT_MS,
  );
});

describe('registration saga crash injection: PostgreSQL (embedded bus)', async () => {
  const skip = !(await postgresAvailable());
  const pipeline = new Pipeline(postgresBackend);
  afterAll(() => pipeline.close());

  it.skipIf(skip).each(cases(POSTGRES_SCENARIOS))(
    '%s',
    (_name, scenario) => crashAndRecover(pipeline, scenario, following(POSTGRES_SCENARIOS, scenario)),
    CASE_TIMEOUT_MS,
  );
});
