import { z } from 'zod';
import {
  chargeRequestSchema,
  chargeResultSchema,
  GatewayTimeoutError,
  GatewayUnavailableError,
  gatewayChargeSchema,
  idempotencyKey as idempotencyKeySchema,
  invalidRequest,
  InvalidGatewayRequestError,
  refundRequestSchema,
  refundResultSchema,
  type ChargeRequest,
  type ChargeResult,
  type GatewayCharge,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
} from './gateway.ts';
import { GATEWAY_PROBLEM_BASE, errorFromProblem } from './problems.ts';

export interface HttpGatewayOptions {
  /** Where `buildGatewayServer` listens, e.g. `http://127.0.0.1:4010`. */
  baseUrl: string;
  /** How long to wait for an answer; then a write is ambiguous (`GatewayTimeoutError`). Default 10 s. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A fetch implementation (tests); the global one by default. */
  fetch?: typeof fetch;
}

/** Connection errors that prove the request never reached the gateway, so nothing happened. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const causeCode = (error: unknown): string | undefined => {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
};

type Operation = 'charge' | 'refund' | 'retrieve';

/** The payment gateway over HTTP: the client of `buildGatewayServer`, mapping answers back to the typed errors. */
export class HttpGateway implements PaymentGateway {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpGatewayOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async charge(input: ChargeRequest): Promise<ChargeResult> {
    // Validated here too: a malformed request never leaves the process, and errors name the same fields.
    const parsed = chargeRequestSchema.safeParse(input);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { idempotencyKey, ...body } = parsed.data;
    return (await this.call('charge', 'POST', '/charges', chargeResultSchema, { idempotencyKey, body }))!;
  }

  async refund(input: RefundRequest): Promise<RefundResult> {
    const parsed = refundRequestSchema.safeParse(input);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { idempotencyKey, ...body } = parsed.data;
    return (await this.call('refund', 'POST', '/refunds', refundResultSchema, { idempotencyKey, body }))!;
  }

  async retrieve(idempotencyKey: string): Promise<GatewayCharge | null> {
    const parsed = idempotencyKeySchema.safeParse(idempotencyKey);
    if (!parsed.success) throw invalidRequest(parsed.error, 'idempotencyKey');
    return this.call('retrieve', 'GET', `/charges/${encodeURIComponent(idempotencyKey)}`, gatewayChargeSchema, {});
  }

  /** The simulator service's own records of every charge (`GET /simulator/charges`), for `tributary verify`. */
  async listCharges(): Promise<GatewayCharge[]> {
    return (await this.call('retrieve', 'GET', '/simulator/charges', z.array(gatewayChargeSchema), {}))!;
  }

  /**
   * A write whose outcome cannot be known (timeout, connection lost after sending, 5xx, an
   * unreadable answer) is ambiguous: `GatewayTimeoutError`. A read that fails changed nothing.
   */
  private unknownOutcome(operation: Operation, message: string, cause?: unknown): Error {
    return operation === 'retrieve'
      ? new GatewayUnavailableError(`${operation}: ${message}`, { cause })
      : new GatewayTimeoutError(
          `${operation}: ${message}; outcome unknown: retrieve it, or retry with the same idempotency key`,
          { cause },
        );
  }

  /** The validated answer; null only for `retrieve` of a key with no charge. */
  private async call<T>(
    operation: Operation,
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    request: { idempotencyKey?: string; body?: unknown },
  ): Promise<T | null> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;

    let status: number;
    let body: unknown;
    try {
      const response = await this.fetch(this.baseUrl + path, {
        method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      const text = await response.text();
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
    } catch (error) {
      if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') {
        throw new GatewayTimeoutError(
          `${operation}: no answer from the payment gateway within ${this.timeoutMs} ms; outcome unknown: retrieve it, or retry with the same idempotency key`,
          { cause: error },
        );
      }
      const code = causeCode(error);
      if (code && NOT_SENT.has(code))
        throw new GatewayUnavailableError(
          `${operation}: the payment gateway is unreachable (${code}); nothing was done`,
          { cause: error },
        );
      throw this.unknownOutcome(operation, `the connection failed (${code ?? (error as Error).message})`, error);
    }

    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(body);
      if (!parsed.success)
        throw this.unknownOutcome(operation, `unreadable answer from the payment gateway (HTTP ${status})`);
      return parsed.data;
    }
    const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (operation === 'retrieve' && status === 404 && problem.type === `${GATEWAY_PROBLEM_BASE}charge-not-found`)
      return null;
    const typed = errorFromProblem(problem);
    if (typed) throw typed;
    if (status === 401 || status === 403)
      throw new GatewayUnavailableError(
        `${operation}: the payment gateway refused the credentials (HTTP ${status}); nothing was done`,
      );
    if (status === 429 || status === 503)
      throw new GatewayUnavailableError(
        `${operation}: the payment gateway is unavailable (HTTP ${status}); nothing was done`,
      );
    if (status >= 500) throw this.unknownOutcome(operation, `the payment gateway failed (HTTP ${status})`);
    throw new InvalidGatewayRequestError(
      typeof problem.field === 'string' ? problem.field : null,
      `${operation}: the payment gateway refused the request (HTTP ${status}): ${typeof problem.detail === 'string' ? problem.detail : 'no detail'}`,
    );
  }
}
