/**
 * A realistic subscription log for the projection benchmark, written straight into `events`
 * (set-based INSERTs of a few thousand rows, one transaction each, in log order) instead of going
 * through the platform's API: a million events in seconds rather than hours.
 *
 * The log is what the write side appends (see src/services/registration and
 * src/services/subscriptions): registrations (CustomerCreated, PaymentProcessed, SubscriptionCreated,
 * CustomerRegistered; declined: CustomerCreated, PaymentFailed, CustomerDeleted), monthly and
 * yearly renewals (PaymentProcessed + SubscriptionRenewed: most of the volume), dunning
 * (PaymentFailed + SubscriptionPastDue, then a cancellation for non-payment), cancellations now
 * or at period end (then SubscriptionEnded) and a few erasures. Events pass the catalog's append
 * validation (all of the first 20,000, then one in 25: the same code makes them all); personal
 * data is sealed as src/kernel/crypto/personal-data.ts seals it, with one key per customer in
 * `customer_keys` (none for compensated or erased customers).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { Period, Pii } from '../src/domain/events/common.ts';
import { periodAt } from '../src/domain/subscription/period.ts';
import type { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import type { Database } from '../src/kernel/db/database.ts';
import type { Plan } from '../src/services/plans/index.ts';

export interface LogSpec {
  /** Events to write (the log stops at this count). */
  events: number;
  /** The history ends now and starts this many months earlier. */
  months: number;
  plans: readonly Plan[];
  catalog: EventCatalog;
  /** Dunning retries, in days after the renewal date (the platform's DUNNING_DAYS). */
  dunningDays: readonly number[];
  seed?: number;
}

export interface GeneratedLog {
  events: number;
  byType: Map<string, number>;
  customers: number;
  registered: number;
  /** Ids for the query benchmark: customers with a key (readable), and subscriptions, of every status. */
  sample: { customers: string[]; subscriptions: string[]; emails: string[] };
  firstAt: string;
  lastAt: string;
}

/** Plans by popularity (the rest of the catalog gets what is left, evenly). */
const PLAN_WEIGHTS: Record<string, number> = {
  'starter-monthly': 0.4,
  'pro-monthly': 0.3,
  'pro-monthly-usd': 0.15,
  'starter-yearly': 0.08,
  'pro-yearly': 0.07,
};
const DECLINED_AT_REGISTRATION = 0.06;
/** Chance a subscription is cancelled during a monthly period (yearly: over its year). */
const MONTHLY_CHURN = 0.035;
const YEARLY_CHURN = 0.25;
const CANCEL_AT_PERIOD_END = 0.65;
/** Of the immediate cancellations, the customers who also ask to be forgotten. */
const ERASURE = 0.05;
const RENEWAL_DECLINED = 0.05;
const RETRY_DECLINED = 0.5;
const DECLINE_CODES = ['card_declined', 'insufficient_funds', 'expired_card'] as const;
const CANCEL_REASONS = ['customer_request', 'too_expensive', 'switched_provider', 'not_using_it'] as const;
const BRANDS = ['visa', 'mastercard', 'amex'] as const;
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];
const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Hamilton',
  'Ritchie',
];
const DAY_MS = 24 * 3600 * 1000;
const INSERT_BATCH = 5_000;
const SAMPLE = 5_000;
/** Stands for sealed data in the dry run, which writes nothing. */
const DRY_PII: Pii = { alg: 'A256GCM', iv: 'AA', ciphertext: 'AA', tag: 'AA' };

/** A small seeded PRNG (mulberry32): the same flags give the same log. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A UUID v7 for time `msecs` from the seeded generator: the `uuid` package draws each one from the
 * system's random source, which took most of the generation time.
 */
function uuidv7Of(rand: () => number): (msecs: number) => string {
  const hex = (value: number, digits: number) => Math.floor(value).toString(16).padStart(digits, '0');
  return (msecs) => {
    const time = hex(msecs, 12);
    return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(rand() * 0x1000, 3)}-${hex(0x8000 + rand() * 0x4000, 4)}-${hex(rand() * 0x1000000, 6)}${hex(rand() * 0x1000000, 6)}`;
  };
}

let pool = Buffer.alloc(0);
/** Random bytes from a pool refilled 64 KiB at a time (one system call per thousand customers, not two per customer). */
function entropy(size: number): Buffer {
  if (pool.length < size) pool = randomBytes(65_536);
  const bytes = Buffer.from(pool.subarray(0, size));
  pool = pool.subarray(size);
  return bytes;
}

/** Seals personal data exactly as `encrypt` in src/kernel/crypto/personal-data.ts does (AES-256-GCM, customer id as AAD). */
function seal(customerId: string, key: Buffer, email: string, name: string): Pii {
  const iv = entropy(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(customerId));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify({ email, name }), 'utf8'), cipher.final()]);
  return {
    alg: 'A256GCM',
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

interface Subscription {
  id: string;
  customerId: string;
  plan: Plan;
  anchor: string;
  periodIndex: number;
  /** The period `periodIndex` (computed once: calendar arithmetic is not free a million times). */
  period: Period;
  version: number;
  correlationId: string;
  brand: string;
  last4: string;
  token: string;
}

type Action =
  | { kind: 'signup' }
  | { kind: 'renew'; sub: Subscription; attempt: number }
  | { kind: 'cancel'; sub: Subscription; atPeriodEnd: boolean }
  | { kind: 'end'; sub: Subscription; reason: string };

/** A binary min-heap of actions by time: the log comes out in time order. */
class Agenda {
  private readonly heap: { at: number; action: Action }[] = [];

  push(at: number, action: Action): void {
    const heap = this.heap;
    heap.push({ at, action });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  pop(): { at: number; action: Action } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left;
        if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top;
  }
}

/** The columns of one `events` row, as the store encodes an event. */
interface Row {
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: { correlationId: string; causationId: null; actor: string };
  partition_key: string;
  occurred_at: string;
}

/** A batch travels as one JSON document (one parse in the server, no array literals to escape). */
const INSERT_EVENTS = /* sql */ `
  insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
  select pg_current_xact_id(), e.event_id, e.stream_id, e.version, e.type, e.schema_version, e.data, e.metadata, e.partition_key, e.occurred_at
  from rows from (jsonb_to_recordset($1::jsonb) as (event_id uuid, stream_id text, version int4, type text, schema_version int4, data jsonb, metadata jsonb, partition_key text, occurred_at timestamptz))
       with ordinality as e(event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at, n)
  order by e.n`;

/** Events validated against the catalog: all of the first ones (every shape the generator makes), then a sample. */
const VALIDATE_ALL = 20_000;
const VALIDATE_ONE_IN = 25;

/**
 * Writes the log into `db`'s `events` (migrated, empty) and the customers' keys into
 * `customer_keys`. A dry run on a tenth of the volume first sets the signup rate that makes the
 * history about `events` long; the log stops once it holds `events` (the last action's events complete it).
 */
export async function generateLog(db: Database, spec: LogSpec): Promise<GeneratedLog> {
  const end = Date.now();
  const start = end - spec.months * 30.44 * DAY_MS;
  // A first guess (~32 events a signup over two years), corrected by the dry run (events grow with signups).
  const guessGapMs = (end - start) / (spec.events / (4 + 1.3 * spec.months));
  const scale = spec.events >= 100_000 ? 10 : 1;
  const dry = await simulate(undefined, spec, { start, end, meanGapMs: guessGapMs * scale, limit: Infinity });
  const meanGapMs = (guessGapMs * scale * dry.events) / spec.events / 1.08;
  return simulate(db, spec, { start, end, meanGapMs, limit: spec.events });
}

async function simulate(
  db: Database | undefined,
  spec: LogSpec,
  run: { start: number; end: number; meanGapMs: number; limit: number },
): Promise<GeneratedLog> {
  const { start, end, meanGapMs } = run;
  const rand = random(spec.seed ?? 20261125);
  const v7 = uuidv7Of(rand);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const plans = spec.plans;
  const rest =
    (1 - plans.reduce((sum, plan) => sum + (PLAN_WEIGHTS[plan.id] ?? 0), 0)) /
    Math.max(1, plans.filter((plan) => !(plan.id in PLAN_WEIGHTS)).length);
  const weights = plans.map((plan) => Math.max(0, PLAN_WEIGHTS[plan.id] ?? rest));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const pickPlan = (): Plan => {
    let left = rand() * totalWeight;
    for (const [i, plan] of plans.entries()) if ((left -= weights[i]!) < 0) return plan;
    return plans[plans.length - 1]!;
  };
  // Signups grow linearly over the history, from half to one and a half times the mean rate.
  const nextSignupGap = (at: number) => (-Math.log(1 - rand()) * meanGapMs) / (0.5 + (at - start) / (end - start));

  const result: GeneratedLog = {
    events: 0,
    byType: new Map(),
    customers: 0,
    registered: 0,
    sample: { customers: [], subscriptions: [], emails: [] },
    firstAt: '',
    lastAt: '',
  };
  const keys = new Map<string, Buffer>();
  let batch: Row[] = [];
  let writing: Promise<unknown> = Promise.resolve();

  const flush = async () => {
    const rows = batch;
    batch = [];
    await writing;
    if (!db) return; // one statement at a time: the log's order is the order of the transactions
    if (rows.length === 0) return;
    writing = db.query(INSERT_EVENTS, [JSON.stringify(rows)]);
  };

  const emit = (
    at: number,
    streamId: string,
    version: number,
    type: string,
    data: Record<string, unknown>,
    metadata: { correlationId: string; actor: string },
  ) => {
    result.events++;
    if (!db) return;
    const valid =
      result.events <= VALIDATE_ALL || result.events % VALIDATE_ONE_IN === 0
        ? spec.catalog.validateForAppend(type, data)
        : data;
    const occurredAt = new Date(at).toISOString();
    batch.push({
      event_id: v7(at),
      stream_id: streamId,
      version,
      type,
      schema_version: spec.catalog.get(type).version,
      data: valid,
      metadata: { correlationId: metadata.correlationId, causationId: null, actor: metadata.actor },
      partition_key: spec.catalog.partitionKey(type, valid),
      occurred_at: occurredAt,
    });
    result.byType.set(type, (result.byType.get(type) ?? 0) + 1);
    result.firstAt ||= occurredAt;
    result.lastAt = occurredAt;
  };

  const agenda = new Agenda();
  const iso = (at: number) => new Date(at).toISOString();
  const renewalMetadata = (sub: Subscription) => ({ correlationId: sub.id, actor: 'scheduler:renewals' });

  /** The subscription's current period has started: it is cancelled during it, or renewed at its end. */
  const startPeriod = (sub: Subscription, now: number) => {
    const period = sub.period;
    // A renewal retried by dunning starts late: the cancellation cannot come before it.
    const from = Math.max(now, Date.parse(period.start));
    const to = Date.parse(period.end);
    const churn = sub.plan.interval === 'year' ? YEARLY_CHURN : MONTHLY_CHURN;
    if (rand() < churn)
      agenda.push(from + rand() * (to - from), { kind: 'cancel', sub, atPeriodEnd: rand() < CANCEL_AT_PERIOD_END });
    else agenda.push(to, { kind: 'renew', sub, attempt: 1 });
  };

  const signup = (at: number) => {
    const customerId = v7(at);
    const registrationId = v7(at);
    const paymentId = v7(at);
    const plan = pickPlan();
    const n = result.customers++;
    const name = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
    const email = `${name.replace(' ', '.').toLowerCase()}.${n}@example.com`;
    const key = entropy(32);
    const pii = db ? seal(customerId, key, email, name) : DRY_PII;
    const metadata = { correlationId: registrationId, actor: `registration:${registrationId}` };
    const customerStream = `customer-${customerId}`;
    emit(at, customerStream, 1, 'CustomerCreated', { customerId, pii, planId: plan.id, createdAt: iso(at) }, metadata);
    const charge = { paymentId, customerId, amount: plan.amount, currency: plan.currency, purpose: 'registration' };
    if (rand() < DECLINED_AT_REGISTRATION) {
      // The saga compensates: the customer is deleted and its key shredded.
      emit(
        at + 150,
        `payment-${paymentId}`,
        1,
        'PaymentFailed',
        {
          ...charge,
          subscriptionId: null,
          declineCode: pick(DECLINE_CODES),
          message: 'Your card was declined.',
          attempt: 1,
          failedAt: iso(at + 150),
        },
        metadata,
      );
      emit(
        at + 200,
        customerStream,
        2,
        'CustomerDeleted',
        { customerId, reason: 'compensation', deletedAt: iso(at + 200) },
        metadata,
      );
      return;
    }
    keys.set(customerId, key);
    result.registered++;
    const sub: Subscription = {
      id: v7(at),
      customerId,
      plan,
      anchor: iso(at + 200),
      periodIndex: 0,
      period: periodAt(iso(at + 200), plan.interval, 0),
      version: 1,
      correlationId: registrationId,
      brand: pick(BRANDS),
      last4: String(1000 + Math.floor(rand() * 9000)),
      token: 'pm_card_visa',
    };
    emit(
      at + 150,
      `payment-${paymentId}`,
      1,
      'PaymentProcessed',
      {
        ...charge,
        subscriptionId: null,
        periodIndex: 0,
        paymentMethod: { brand: sub.brand, last4: sub.last4, tokenId: sub.token },
        gatewayReference: `ch_${paymentId}`,
        processedAt: iso(at + 150),
        taxRateBps: 0,
        taxAmount: 0,
      },
      metadata,
    );
    emit(
      at + 200,
      `subscription-${sub.id}`,
      1,
      'SubscriptionCreated',
      {
        subscriptionId: sub.id,
        customerId,
        planId: plan.id,
        price: { amount: plan.amount, currency: plan.currency },
        interval: plan.interval,
        currentPeriod: sub.period,
        createdAt: sub.anchor,
      },
      metadata,
    );
    emit(
      at + 250,
      customerStream,
      2,
      'CustomerRegistered',
      { customerId, pii, planId: plan.id, registeredAt: iso(at + 250) },
      metadata,
    );
    // A uniform sample of the registered customers (reservoir): old and new, cancelled and active.
    const slot =
      result.sample.customers.length < SAMPLE ? result.sample.customers.length : Math.floor(rand() * result.registered);
    if (slot < SAMPLE) {
      result.sample.customers[slot] = customerId;
      result.sample.subscriptions[slot] = sub.id;
      result.sample.emails[slot] = email;
    }
    startPeriod(sub, at);
  };

  const renew = (at: number, sub: Subscription, attempt: number) => {
    const periodIndex = sub.periodIndex + 1;
    const paymentId = v7(at);
    const charge = {
      paymentId,
      customerId: sub.customerId,
      subscriptionId: sub.id,
      amount: sub.plan.amount,
      currency: sub.plan.currency,
      purpose: 'renewal',
    };
    const metadata = renewalMetadata(sub);
    if (rand() < (attempt === 1 ? RENEWAL_DECLINED : RETRY_DECLINED)) {
      const declineCode = pick(DECLINE_CODES);
      const retryDay = spec.dunningDays[attempt - 1];
      const periodEnd = Date.parse(sub.period.end);
      const nextRetryAt = retryDay === undefined ? null : iso(periodEnd + retryDay * DAY_MS);
      emit(
        at,
        `payment-${paymentId}`,
        1,
        'PaymentFailed',
        { ...charge, declineCode, message: 'Your card was declined.', attempt, failedAt: iso(at) },
        metadata,
      );
      emit(
        at,
        `subscription-${sub.id}`,
        ++sub.version,
        'SubscriptionPastDue',
        {
          subscriptionId: sub.id,
          customerId: sub.customerId,
          periodIndex,
          paymentId,
          attempt,
          declineCode,
          failedAt: iso(at),
          nextRetryAt,
        },
        metadata,
      );
      if (nextRetryAt) agenda.push(Date.parse(nextRetryAt), { kind: 'renew', sub, attempt: attempt + 1 });
      else
        emit(
          at,
          `subscription-${sub.id}`,
          ++sub.version,
          'SubscriptionCancelled',
          {
            subscriptionId: sub.id,
            customerId: sub.customerId,
            reason: 'payment_failed',
            atPeriodEnd: false,
            requestedAt: iso(at),
            effectiveAt: iso(at),
          },
          metadata,
        );
      return;
    }
    emit(
      at,
      `payment-${paymentId}`,
      1,
      'PaymentProcessed',
      {
        ...charge,
        periodIndex,
        paymentMethod: { brand: sub.brand, last4: sub.last4, tokenId: sub.token },
        gatewayReference: `ch_${paymentId}`,
        processedAt: iso(at),
        taxRateBps: 0,
        taxAmount: 0,
      },
      metadata,
    );
    sub.periodIndex = periodIndex;
    sub.period = periodAt(sub.anchor, sub.plan.interval, periodIndex);
    emit(
      at,
      `subscription-${sub.id}`,
      ++sub.version,
      'SubscriptionRenewed',
      {
        subscriptionId: sub.id,
        customerId: sub.customerId,
        planId: sub.plan.id,
        periodIndex,
        period: sub.period,
        paymentId,
        amount: sub.plan.amount,
        currency: sub.plan.currency,
        renewedAt: iso(at),
      },
      metadata,
    );
    startPeriod(sub, at);
  };

  const cancel = (at: number, sub: Subscription, atPeriodEnd: boolean) => {
    const metadata = { correlationId: v7(at), actor: `customer:${sub.customerId}` };
    const reason = pick(CANCEL_REASONS);
    const stream = `subscription-${sub.id}`;
    if (atPeriodEnd) {
      const effectiveAt = sub.period.end;
      emit(
        at,
        stream,
        ++sub.version,
        'SubscriptionCancelled',
        {
          subscriptionId: sub.id,
          customerId: sub.customerId,
          reason,
          atPeriodEnd: true,
          requestedAt: iso(at),
          effectiveAt,
        },
        metadata,
      );
      agenda.push(Date.parse(effectiveAt), { kind: 'end', sub, reason });
      return;
    }
    if (rand() < ERASURE) {
      // Erasure: the key is shredded, CustomerDeleted appended, then the subscription cancelled now.
      keys.delete(sub.customerId);
      emit(
        at,
        `customer-${sub.customerId}`,
        3,
        'CustomerDeleted',
        { customerId: sub.customerId, reason: 'erasure', deletedAt: iso(at) },
        metadata,
      );
      emit(
        at,
        stream,
        ++sub.version,
        'SubscriptionCancelled',
        {
          subscriptionId: sub.id,
          customerId: sub.customerId,
          reason: 'customer_erased',
          atPeriodEnd: false,
          requestedAt: iso(at),
          effectiveAt: iso(at),
        },
        metadata,
      );
      return;
    }
    emit(
      at,
      stream,
      ++sub.version,
      'SubscriptionCancelled',
      {
        subscriptionId: sub.id,
        customerId: sub.customerId,
        reason,
        atPeriodEnd: false,
        requestedAt: iso(at),
        effectiveAt: iso(at),
      },
      metadata,
    );
  };

  agenda.push(start, { kind: 'signup' });
  for (let next = agenda.pop(); next && next.at <= end && result.events < run.limit; next = agenda.pop()) {
    const { at, action } = next;
    switch (action.kind) {
      case 'signup':
        signup(at);
        agenda.push(at + nextSignupGap(at), { kind: 'signup' });
        break;
      case 'renew':
        renew(at, action.sub, action.attempt);
        break;
      case 'cancel':
        cancel(at, action.sub, action.atPeriodEnd);
        break;
      case 'end':
        emit(
          at,
          `subscription-${action.sub.id}`,
          ++action.sub.version,
          'SubscriptionEnded',
          { subscriptionId: action.sub.id, customerId: action.sub.customerId, reason: action.reason, endedAt: iso(at) },
          renewalMetadata(action.sub),
        );
        break;
    }
    if (batch.length >= INSERT_BATCH) await flush();
  }
  await flush();
  await writing;

  const customers = db ? [...keys] : [];
  for (let i = 0; i < customers.length; i += INSERT_BATCH) {
    const slice = customers.slice(i, i + INSERT_BATCH);
    await db!.query(
      'insert into customer_keys (customer_id, key, created_at) select * from unnest($1::text[], $2::bytea[], $3::timestamptz[])',
      [slice.map(([id]) => id), slice.map(([, key]) => key), slice.map(() => new Date(end))],
    );
  }
  // Erased customers leave the sample: their records show no personal data.
  const readable = result.sample.customers
    .map((id, i) => ({ id, sub: result.sample.subscriptions[i]!, email: result.sample.emails[i]! }))
    .filter(({ id }) => keys.has(id));
  result.sample = {
    customers: readable.map((r) => r.id),
    subscriptions: result.sample.subscriptions,
    emails: readable.map((r) => r.email),
  };
  return result;
}
