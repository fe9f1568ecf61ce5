import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulatedPlan } from './customer-behaviour.ts';

/** The platform could not be used as the simulator needs it (unreachable, no test clock, token refused, an unexpected answer). */
export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

export type RegistrationOutcome =
  | { kind: 'completed'; customerId: string; subscriptionId: string; position: number | null }
  | { kind: 'declined'; declineCode: string | null }
  | { kind: 'failed'; status: number; detail: string };

export interface RegisterInput {
  email: string;
  name: string;
  planId: string;
  paymentMethod: string;
}

export interface ClientOptions {
  /** Told each time the registration rate limit makes the client wait. */
  onRateLimited?: (seconds: number) => void;
}

const NETWORK_ATTEMPTS = 4;
const REGISTRATION_POLL_MS = 100;
const REGISTRATION_WAIT_MS = 60_000;
const ADVANCE_POLL_MS = 250;
/**
 * How often a request is repeated while the platform answers 503 (starting, its store unreachable:
 * nothing was done), each after its Retry-After (1 s, at most 5): about a minute.
 */
const UNAVAILABLE_ATTEMPTS = 60;
const MAX_RETRY_AFTER_S = 5;

const problemDetail = (body: unknown) => {
  const problem = body as { title?: string; detail?: string } | null;
  return problem?.detail ?? problem?.title ?? JSON.stringify(body);
};

/**
 * The platform's public HTTP API as the simulator uses it, with the admin token. Every write the
 * API takes an Idempotency-Key for carries one, and a retry (network error, 429) reuses it.
 */
export class PlatformClient {
  /** While the registration rate limit is exhausted, no registration is sent before this time. */
  private registerBlockedUntil = 0;

  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
    private readonly options: ClientOptions = {},
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const url = new URL(path, this.baseUrl);
    let unavailable = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.adminToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status === 503 && ++unavailable < UNAVAILABLE_ATTEMPTS) {
          await sleep(Math.min(retryAfterSeconds(response.headers), MAX_RETRY_AFTER_S) * 1000);
          attempt = 0; // an answer: the network attempts start again
          continue;
        }
        return { status: response.status, headers: response.headers, body: text ? parseJson(text) : null };
      } catch (error) {
        // Safe to repeat: reads, absolute clock moves and PUTs are idempotent, other writes carry their key.
        if (attempt >= NETWORK_ATTEMPTS) {
          const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
          throw new SimulatorError(`cannot reach the platform at ${this.baseUrl} (${cause})`);
        }
        await sleep(200 * attempt);
      }
    }
  }

  private async expect(
    status: number,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<unknown> {
    const answer = await this.request(method, path, body, headers);
    if (answer.status !== status)
      throw new SimulatorError(`${method} ${path} answered ${answer.status}: ${problemDetail(answer.body)}`);
    return answer.body;
  }

  /** The test clock's time; a platform on the wall clock cannot be simulated. */
  async now(): Promise<string> {
    const answer = await this.request('GET', '/admin/clock');
    if (answer.status === 404)
      throw new SimulatorError(`the platform at ${this.baseUrl} has no test clock (start it with CLOCK=test)`);
    if (answer.status === 401)
      throw new SimulatorError(
        `the platform at ${this.baseUrl} refused the admin token (--admin-token or ADMIN_TOKEN)`,
      );
    if (answer.status !== 200)
      throw new SimulatorError(`GET /admin/clock answered ${answer.status}: ${problemDetail(answer.body)}`);
    return (answer.body as { now: string }).now;
  }

  /** Moves the test clock to `to` (absolute, so a retry cannot move it twice); renewals and dunning due on the way run first. */
  async advanceTo(to: string): Promise<void> {
    const answer = await this.request('POST', '/admin/clock/advance', { to });
    if (answer.status === 200) return;
    if (answer.status !== 202)
      throw new SimulatorError(`POST /admin/clock/advance answered ${answer.status}: ${problemDetail(answer.body)}`);
    // A long advance runs on: follow it until it is over.
    const location = answer.headers.get('location') ?? '';
    for (;;) {
      await sleep(ADVANCE_POLL_MS);
      const advance = (await this.expect(200, 'GET', location)) as { status: string; error?: string };
      if (advance.status === 'completed') return;
      if (advance.status === 'failed')
        throw new SimulatorError(`advancing the test clock failed: ${advance.error ?? 'unknown error'}`);
    }
  }

  async plans(): Promise<SimulatedPlan[]> {
    const body = (await this.expect(200, 'GET', '/plans')) as { plans: SimulatedPlan[] };
    return body.plans;
  }

  async register(input: RegisterInput, idempotencyKey: string): Promise<RegistrationOutcome> {
    for (;;) {
      const wait = this.registerBlockedUntil - Date.now();
      if (wait > 0) await sleep(wait);
      const answer = await this.request('POST', '/register', input, { 'idempotency-key': idempotencyKey });
      if (answer.status === 429) {
        const seconds = retryAfterSeconds(answer.headers);
        this.registerBlockedUntil = Math.max(this.registerBlockedUntil, Date.now() + seconds * 1000);
        this.options.onRateLimited?.(seconds);
        continue;
      }
      return this.registrationOutcome(answer, 'POST /register');
    }
  }

  private async registrationOutcome(answer: Answer, what: string): Promise<RegistrationOutcome> {
    const body = answer.body as Record<string, unknown>;
    if (answer.status === 201)
      return {
        kind: 'completed',
        customerId: String(body.customerId),
        subscriptionId: String(body.subscriptionId),
        position: typeof body.position === 'number' ? body.position : null,
      };
    if (answer.status === 202) return this.awaitRegistration(String(body.registrationId));
    if (answer.status === 402)
      return { kind: 'declined', declineCode: typeof body.declineCode === 'string' ? body.declineCode : null };
    if (answer.status === 409 || answer.status === 500 || answer.status === 503)
      return { kind: 'failed', status: answer.status, detail: problemDetail(body) };
    throw new SimulatorError(`${what} answered ${answer.status}: ${problemDetail(body)}`);
  }

  /** A saga still running after the request's wait: follow it to its end. */
  private async awaitRegistration(registrationId: string): Promise<RegistrationOutcome> {
    const deadline = Date.now() + REGISTRATION_WAIT_MS;
    for (;;) {
      const view = (await this.expect(200, 'GET', `/registrations/${registrationId}`)) as {
        status: string;
        customerId: string;
        subscriptionId: string;
        failure: { code: string; message: string } | null;
      };
      if (view.status === 'completed')
        return { kind: 'completed', customerId: view.customerId, subscriptionId: view.subscriptionId, position: null };
      if (view.status === 'compensated' && view.failure?.code === 'payment_declined')
        return { kind: 'declined', declineCode: null };
      if (view.status === 'compensated' || view.status === 'compensation_failed')
        return { kind: 'failed', status: 0, detail: view.failure?.message ?? view.status };
      if (Date.now() > deadline)
        throw new SimulatorError(
          `registration ${registrationId} still ${view.status} after ${REGISTRATION_WAIT_MS / 1000}s`,
        );
      await sleep(REGISTRATION_POLL_MS);
    }
  }

  /** The subscription as the cancellation left it (unchanged when it was already over); null when the platform no longer knows it. */
  async cancel(
    subscriptionId: string,
    body: { atPeriodEnd: boolean; reason?: string },
    idempotencyKey: string,
  ): Promise<SubscriptionView | null> {
    const path = `/subscriptions/${subscriptionId}/cancel`;
    const answer = await this.request('POST', path, body, { 'idempotency-key': idempotencyKey });
    if (answer.status === 404) return null;
    if (answer.status !== 200)
      throw new SimulatorError(`POST ${path} answered ${answer.status}: ${problemDetail(answer.body)}`);
    return answer.body as SubscriptionView;
  }

  /** False when the customer is gone (compliance erases a customer some days after its last subscription ended). */
  async setPaymentMethod(customerId: string, paymentMethod: string): Promise<boolean> {
    const path = `/customers/${customerId}/payment-method`;
    const answer = await this.request('PUT', path, { paymentMethod });
    if (answer.status === 404) return false;
    if (answer.status !== 200)
      throw new SimulatorError(`PUT ${path} answered ${answer.status}: ${problemDetail(answer.body)}`);
    return true;
  }
}

/** The fields of GET /subscriptions/{id} the simulator reads (the read side adds `renewals`). */
export interface SubscriptionView {
  subscriptionId: string;
  planId: string;
  status: 'active' | 'past_due' | 'cancelled' | 'ended';
  price: { amount: number; currency: string };
  interval: 'month' | 'year';
  periodIndex?: number;
  renewals?: number;
  cancellation: { reason: string; atPeriodEnd: boolean } | null;
  /** On a cancellation's answer: the store position of the change (null when nothing changed). */
  position?: number | null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Retry-After in seconds (delta or HTTP date); the rate limit's window when absent. */
function retryAfterSeconds(headers: Headers): number {
  const value = headers.get('retry-after');
  if (!value) return 60;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 60 : Math.max(0, (date - Date.now()) / 1000);
}
