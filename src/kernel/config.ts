import { z } from 'zod';
import { ConfigError } from './config-error.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`,
  );

const brokers = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  )
  .refine(
    (list) => list.length > 0 && list.every((broker) => /^[\w.-]+:\d+$/.test(broker)),
    'must be host:port[,host:port...]',
  );

/** The parts of the platform a process runs (`--roles`, `TRIBUTARY_ROLES`). */
export const ROLES = ['api', 'relay', 'consumers', 'projections', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

const nameList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0, 'must name at least one');

/** Every environment variable the platform reads, with its default and meaning (`tributary --help`). */
export const configSchema = z.object({
  TRIBUTARY_ROLES: nameList
    .refine(
      (list) => list.every((role) => (ROLES as readonly string[]).includes(role)),
      `must be a list of ${ROLES.join(', ')}`,
    )
    .default([...ROLES])
    .describe(
      'roles this process runs (also --roles): api, relay, consumers, projections, scheduler; any number of processes of each',
    ),
  TRIBUTARY_CONSUMERS: nameList
    .optional()
    .describe('with the consumers role: only these consumers (also --consumers); unset = all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port'),
  HOST: z.string().min(1).default('127.0.0.1').describe('HTTP listen address'),
  DATA_DIR: z.string().min(1).default('./data').describe('embedded store (PGlite) and local mailbox folder'),
  DATABASE_URL: url(['postgres:', 'postgresql:'])
    .optional()
    .describe('PostgreSQL URL; unset = embedded PGlite in DATA_DIR'),
  DATABASE_POOL_SIZE: positiveInt(20).describe('PostgreSQL connections per process'),
  KAFKA_BROKERS: brokers.optional().describe('Kafka bootstrap brokers host:port,...; unset = embedded bus'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[\w.-]*$/)
    .default('')
    .describe('prefix of every topic and consumer group'),
  KAFKA_PARTITIONS: positiveInt(3).describe('partitions of each topic created at start'),
  KAFKA_REPLICATION_FACTOR: positiveInt(1).describe('replication factor of topics created at start'),
  CONSUMER_MAX_ATTEMPTS: positiveInt(5).describe('handler attempts before an event is dead-lettered'),
  CONSUMER_RETRY_BASE_MS: positiveInt(200).describe('first retry delay (doubles each time, with jitter)'),
  CONSUMER_RETRY_MAX_MS: positiveInt(30_000).describe('longest retry delay'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  CLOCK: z
    .enum(['system', 'test'])
    .optional()
    .describe('system = wall clock; test = advanceable (default: test when embedded, system otherwise)'),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('bearer token of the admin API'),
  TOKEN_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('key that signs customer tokens (default: kept in DATA_DIR when embedded, random per process otherwise)'),
  PLANS_FILE: z.string().min(1).optional().describe('JSON plan catalog (default: the shipped catalog)'),
  REGISTER_WAIT_MS: positiveInt(5_000).describe('how long POST /register waits for the saga before answering 202'),
  REGISTER_RATE_LIMIT: positiveInt(30).describe('POST /register requests per minute per client address'),
  DUNNING_DAYS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be days after the renewal date, e.g. 1,3,5')
    .default('1,3,5')
    .transform((value) => value.split(',').map(Number))
    .refine((days) => days.every((day, i) => i === 0 || day > days[i - 1]!), 'must be increasing')
    .describe('days after a declined renewal on which it is retried; then the subscription is cancelled'),
  PAYMENT_GATEWAY_URL: url(['http:', 'https:'])
    .optional()
    .describe('payment gateway service (tributary gateway); unset = the built-in simulator in this process'),
  PAYMENT_GATEWAY_API_KEY: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('bearer key between the platform and its gateway service'),
  PAYMENT_GATEWAY_TIMEOUT_MS: positiveInt(10_000).describe(
    'how long to wait for the gateway before a charge counts as ambiguous',
  ),
  PAYMENT_INTENT_WINDOW_MS: positiveInt(60_000).describe(
    "a payment intent without an outcome this long after the call is settled by the reconciler with the gateway's retrieve",
  ),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(4010).describe('port of `tributary gateway`'),
  WORKFLOW_PARKED_RETRY_MS: positiveInt(2_000).describe(
    'a workflow parked by a compensation that keeps failing is retried this long after, then twice as long each time (up to 6 h)',
  ),
  WORKFLOW_RETENTION_DAYS: positiveInt(30).describe(
    'a finished (completed or compensated) workflow is forgotten this many days after it ended, with the Idempotency-Key that started it; its events stay',
  ),
  SAGA_CRASH_AT: z
    .string()
    .regex(
      /^([\w-]+\/)?[\w-]+:(run|compensate):(before-effect|after-effect|after-checkpoint)$/,
      'must be [workflow/]step:run|compensate:before-effect|after-effect|after-checkpoint',
    )
    .optional()
    .describe(
      'tests only (with CLOCK=test): kill the process with SIGKILL at this workflow step boundary (of any workflow, or of the one named)',
    ),
  SMTP_URL: url(['smtp:', 'smtps:'])
    .optional()
    .describe('SMTP server for email, smtp[s]://[user:pass@]host:port; unset = .eml files in DATA_DIR/mailbox'),
  EMAIL_FROM: z.string().min(3).default('Tributary <no-reply@tributary.local>').describe('From address of every email'),
  SMTP_TIMEOUT_MS: positiveInt(10_000).describe(
    'how long to wait for the SMTP server to connect, greet and answer each command',
  ),
  TAX_RATE_BPS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(0)
    .describe(
      'tax rate of invoices in basis points (2000 = 20%), included in the plan price: tax = round(total * rate / (10000 + rate)), half up',
    ),
  REVENUE_RECOGNITION_INTERVAL_MS: positiveInt(60_000).describe(
    'how often revenue recognition posts the days earned by the clock (ledger queries catch up first too)',
  ),
  COMPLIANCE_GRACE_HOURS: positiveInt(24).describe(
    'hours after a cancellation takes effect before compliance checks that no charge followed and that it took effect',
  ),
  RETENTION_DAYS: positiveInt(30).describe(
    "days after a customer's last subscription ends before compliance erases its personal data (crypto-shredding)",
  ),
  COMPLIANCE_CHECK_INTERVAL_MS: positiveInt(60_000).describe(
    'how often compliance checks the obligations due by the clock (GET /compliance/findings catches up first too)',
  ),
  CUSTOMER_VIEW_DATABASE_URL: url(['postgres:', 'postgresql:'])
    .optional()
    .describe(
      'PostgreSQL URL of the customer view (read database of the Customer API); unset = schema customer_view in the platform database',
    ),
  SUBSCRIPTION_VIEW_DATABASE_URL: url(['postgres:', 'postgresql:'])
    .optional()
    .describe(
      'PostgreSQL URL of the subscription view (Subscription API); unset = schema subscription_view in the platform database',
    ),
  ANALYTICS_VIEW_DATABASE_URL: url(['postgres:', 'postgresql:'])
    .optional()
    .describe(
      'PostgreSQL URL of the analytics view (Analytics API and pipeline); unset = schema analytics_view in the platform database',
    ),
  PROJECTION_BATCH_SIZE: positiveInt(1_000).describe('events a projection applies per transaction'),
  READ_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5_000)
    .describe('how long a query with minPosition waits for its view to reach that position before answering 503'),
  CLOCK_ADVANCE_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(2_000)
    .describe('how long POST /admin/clock/advance waits for its jobs before answering 202 with a Location to follow'),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('bearer token that reads /metrics (the admin token does too); unset = admin token only'),
  TOKEN_REVOCATION_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(5_000)
    .describe(
      'how long a customer token stays accepted after its customer was erased or deleted by another process (this one revokes it at once)',
    ),
  CHURN_RETRAIN_EVERY: positiveInt(200).describe(
    'new labelled examples (renewals, cancellations) after which the churn model is retrained',
  ),
  CHURN_RETRAIN_INTERVAL_MS: positiveInt(3_600_000).describe(
    'how often the churn model is retrained when there are new examples, by the platform clock',
  ),
});

export type EnvConfig = z.infer<typeof configSchema>;

export interface Config {
  roles: ReadonlySet<Role>;
  /** Names of the consumers this process runs (the consumers role); undefined = all. */
  consumerNames: readonly string[] | undefined;
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  kafka: { brokers: string[]; topicPrefix: string; partitions: number; replicationFactor: number } | undefined;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  logLevel: string;
  clock: 'system' | 'test';
  adminToken: string | undefined;
  tokenSecret: string | undefined;
  plansFile: string | undefined;
  registerWaitMs: number;
  registerRateLimit: number;
  sagaCrashAt: string | undefined;
  parkedRetryMs: number;
  workflowRetentionDays: number;
  dunningDays: number[];
  gateway: {
    url: string | undefined;
    apiKey: string | undefined;
    timeoutMs: number;
    port: number;
    intentWindowMs: number;
  };
  email: { smtpUrl: string | undefined; from: string; smtpTimeoutMs: number };
  billing: { taxRateBps: number; recognitionIntervalMs: number };
  compliance: { graceHours: number; retentionDays: number; checkIntervalMs: number };
  views: {
    customers: string | undefined;
    subscriptions: string | undefined;
    analytics: string | undefined;
    batchSize: number;
    readWaitMs: number;
  };
  churn: { retrainEvery: number; retrainIntervalMs: number };
  clockAdvanceWaitMs: number;
  metricsToken: string | undefined;
  tokenRevocationCacheMs: number;
}

/**
 * Parses the environment once, at start. Nothing else reads `process.env`. `overrides` (command
 * line options such as `--roles`) win over the environment.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): Config {
  env = { ...env, ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) };
  const known = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = configSchema.safeParse(known);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`invalid configuration: ${name}=${JSON.stringify(env[name])}: ${issue.message}`);
  }
  const value = result.data;
  return {
    roles: new Set(value.TRIBUTARY_ROLES as Role[]),
    consumerNames: value.TRIBUTARY_CONSUMERS,
    port: value.PORT,
    host: value.HOST,
    dataDir: value.DATA_DIR,
    databaseUrl: value.DATABASE_URL,
    databasePoolSize: value.DATABASE_POOL_SIZE,
    kafka: value.KAFKA_BROKERS
      ? {
          brokers: value.KAFKA_BROKERS,
          topicPrefix: value.KAFKA_TOPIC_PREFIX,
          partitions: value.KAFKA_PARTITIONS,
          replicationFactor: value.KAFKA_REPLICATION_FACTOR,
        }
      : undefined,
    retry: {
      maxAttempts: value.CONSUMER_MAX_ATTEMPTS,
      baseDelayMs: value.CONSUMER_RETRY_BASE_MS,
      maxDelayMs: value.CONSUMER_RETRY_MAX_MS,
    },
    logLevel: value.LOG_LEVEL,
    clock: value.CLOCK ?? (value.DATABASE_URL || value.KAFKA_BROKERS ? 'system' : 'test'),
    adminToken: value.ADMIN_TOKEN,
    tokenSecret: value.TOKEN_SECRET,
    plansFile: value.PLANS_FILE,
    registerWaitMs: value.REGISTER_WAIT_MS,
    registerRateLimit: value.REGISTER_RATE_LIMIT,
    sagaCrashAt: value.SAGA_CRASH_AT,
    parkedRetryMs: value.WORKFLOW_PARKED_RETRY_MS,
    workflowRetentionDays: value.WORKFLOW_RETENTION_DAYS,
    dunningDays: value.DUNNING_DAYS,
    gateway: {
      url: value.PAYMENT_GATEWAY_URL,
      apiKey: value.PAYMENT_GATEWAY_API_KEY,
      timeoutMs: value.PAYMENT_GATEWAY_TIMEOUT_MS,
      port: value.GATEWAY_PORT,
      intentWindowMs: value.PAYMENT_INTENT_WINDOW_MS,
    },
    email: { smtpUrl: value.SMTP_URL, from: value.EMAIL_FROM, smtpTimeoutMs: value.SMTP_TIMEOUT_MS },
    billing: { taxRateBps: value.TAX_RATE_BPS, recognitionIntervalMs: value.REVENUE_RECOGNITION_INTERVAL_MS },
    compliance: {
      graceHours: value.COMPLIANCE_GRACE_HOURS,
      retentionDays: value.RETENTION_DAYS,
      checkIntervalMs: value.COMPLIANCE_CHECK_INTERVAL_MS,
    },
    views: {
      customers: value.CUSTOMER_VIEW_DATABASE_URL,
      subscriptions: value.SUBSCRIPTION_VIEW_DATABASE_URL,
      analytics: value.ANALYTICS_VIEW_DATABASE_URL,
      batchSize: value.PROJECTION_BATCH_SIZE,
      readWaitMs: value.READ_WAIT_MS,
    },
    churn: { retrainEvery: value.CHURN_RETRAIN_EVERY, retrainIntervalMs: value.CHURN_RETRAIN_INTERVAL_MS },
    clockAdvanceWaitMs: value.CLOCK_ADVANCE_WAIT_MS,
    metricsToken: value.METRICS_TOKEN,
    tokenRevocationCacheMs: value.TOKEN_REVOCATION_CACHE_MS,
  };
}

/** The variables, their defaults and meanings, for `--help` and the README. */
export function describeConfig(): { name: string; default: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    return {
      name,
      default: parsed.success && parsed.data !== undefined ? String(parsed.data) : '',
      description: (schema as z.ZodType).description ?? '',
    };
  });
}
