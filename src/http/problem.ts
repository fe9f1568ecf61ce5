import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError } from '../kernel/db/database.ts';
import { ConcurrencyError, EventValidationError } from '../kernel/store/errors.ts';
import { DomainError, InvalidCommandError, NotFoundError as DomainNotFoundError } from '../domain/errors.ts';
import { ClockRewindError } from '../kernel/clock.ts';
import { ClockBusyError } from '../services/subscriptions/clock-service.ts';
import { UnknownPlanError } from '../services/plans/index.ts';
import { EmailTakenError, UnknownPaymentMethodTokenError } from '../services/registration/registration-service.ts';
import { NotFoundError, UnauthorizedError } from './auth.ts';
import { InvalidRequestError } from './invalid-request.ts';
import { StartingError } from './starting-gate.ts';
import { IdempotencyKeyInFlightError, IdempotencyKeyMismatchError } from '../kernel/idempotency.ts';
import { ProjectionBehindError, UnknownProjectionError } from '../kernel/projections/errors.ts';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'https://tributary.dev/problems/';

export const sendProblem = (reply: FastifyReply, problem: Problem) =>
  reply.code(problem.status).type('application/problem+json').send(problem);

/** The one place where typed errors become HTTP answers. */
export function toProblem(error: unknown): Problem {
  if (error instanceof UnauthorizedError) {
    return { type: `${PROBLEM_BASE}unauthorized`, title: 'Unauthorized', status: 401, detail: error.message };
  }
  if (error instanceof NotFoundError) {
    return { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: error.message };
  }
  if (error instanceof UnknownProjectionError) {
    return { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: error.message };
  }
  if (error instanceof InvalidRequestError) {
    return {
      type: `${PROBLEM_BASE}invalid-request`,
      title: 'Invalid request',
      status: 400,
      detail: error.message,
      field: error.field,
    };
  }
  if (error instanceof StartingError) {
    return {
      type: `${PROBLEM_BASE}starting`,
      title: 'The platform is starting',
      status: 503,
      detail: error.message,
    };
  }
  if (error instanceof ProjectionBehindError) {
    return {
      type: `${PROBLEM_BASE}view-behind`,
      title: 'The view has not caught up yet',
      status: 503,
      detail: error.message,
      projection: error.projection,
      minPosition: error.minPosition,
      currentPosition: error.currentPosition,
    };
  }
  if (error instanceof ClockRewindError) {
    return {
      type: `${PROBLEM_BASE}clock-rewind`,
      title: 'The test clock only moves forward',
      status: 400,
      detail: error.message,
      field: 'to',
    };
  }
  if (error instanceof ClockBusyError) {
    return {
      type: `${PROBLEM_BASE}clock-busy`,
      title: 'The test clock is advancing',
      status: 409,
      detail: error.message,
      advanceId: error.advanceId,
    };
  }
  if (error instanceof DomainNotFoundError) {
    return { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: error.message };
  }
  if (error instanceof InvalidCommandError) {
    return {
      type: `${PROBLEM_BASE}${error.code.replaceAll('_', '-')}`,
      title: 'Command refused',
      status: 422,
      detail: error.message,
      code: error.code,
    };
  }
  if (error instanceof DomainError) {
    return {
      type: `${PROBLEM_BASE}${error.code.replaceAll('_', '-')}`,
      title: 'Conflict',
      status: 409,
      detail: error.message,
      code: error.code,
    };
  }
  if (error instanceof UnknownPlanError) {
    return {
      type: `${PROBLEM_BASE}unknown-plan`,
      title: 'Unknown plan',
      status: 422,
      detail: error.message,
      field: 'planId',
    };
  }
  if (error instanceof UnknownPaymentMethodTokenError) {
    return {
      type: `${PROBLEM_BASE}unknown-payment-method`,
      title: 'Unknown payment method',
      status: 422,
      detail: error.message,
      field: 'paymentMethod',
    };
  }
  if (error instanceof EmailTakenError) {
    return {
      type: `${PROBLEM_BASE}email-taken`,
      title: 'Email already registered',
      status: 409,
      detail: error.message,
      field: 'email',
    };
  }
  if (error instanceof IdempotencyKeyMismatchError) {
    return {
      type: `${PROBLEM_BASE}idempotency-key-reused`,
      title: 'Idempotency-Key reused',
      status: 422,
      detail: error.message,
      field: 'Idempotency-Key',
    };
  }
  if (error instanceof IdempotencyKeyInFlightError) {
    return {
      type: `${PROBLEM_BASE}idempotency-key-in-flight`,
      title: 'A request with this Idempotency-Key is running',
      status: 409,
      detail: error.message,
      field: 'Idempotency-Key',
    };
  }
  if (error instanceof ConcurrencyError) {
    return {
      type: `${PROBLEM_BASE}concurrency-conflict`,
      title: 'Concurrency conflict',
      status: 409,
      detail: error.message,
      expectedVersion: error.expected,
      actualVersion: error.actual,
    };
  }
  if (error instanceof EventValidationError) {
    return {
      type: `${PROBLEM_BASE}invalid-event`,
      title: 'Invalid event',
      status: 422,
      detail: error.message,
      field: error.field,
    };
  }
  if (error instanceof DatabaseUnavailableError) {
    return {
      type: `${PROBLEM_BASE}unavailable`,
      title: 'Service unavailable',
      status: 503,
      detail: 'the database is unreachable; nothing was written',
    };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return validationProblem(fastifyError);
  if (fastifyError.statusCode === 429) {
    return {
      type: `${PROBLEM_BASE}rate-limited`,
      title: 'Too many requests',
      status: 429,
      detail: fastifyError.message,
    };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    const field = status === 415 ? 'Content-Type' : fastifyError.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined;
    return {
      type: `${PROBLEM_BASE}${problemSlug(status)}`,
      title: STATUS_CODES[status] ?? 'Invalid request',
      status,
      detail: fastifyError.message,
      ...(field ? { field } : {}),
    };
  }
  return { type: `${PROBLEM_BASE}internal`, title: 'Internal error', status: 500 };
}

const problemSlug = (status: number) =>
  ({ 413: 'body-too-large', 414: 'uri-too-long', 415: 'unsupported-media-type', 431: 'headers-too-large' })[status] ??
  'invalid-request';

type ValidationIssue = { instancePath?: string; message?: string; params?: { keys?: string[] } };

/**
 * A schema refused the request: the field is the path of the first issue, an unknown key's name,
 * or the part of the request (`body`, `querystring`...) when the whole of it is wrong.
 */
function validationProblem(error: FastifyError): Problem {
  const [first] = error.validation as ValidationIssue[];
  const path = first?.instancePath?.replace(/^\//, '').replaceAll('/', '.') ?? '';
  const unknownKey = first?.params?.keys?.[0];
  const nested = [path, unknownKey].filter(Boolean).join('.');
  const field = nested || error.validationContext || 'body';
  const where = [error.validationContext, nested].filter(Boolean).join('.');
  const message =
    unknownKey === undefined ? (first?.message ?? 'invalid') : `unknown field ${JSON.stringify(unknownKey)}`;
  return {
    type: `${PROBLEM_BASE}invalid-request`,
    title: 'Invalid request',
    status: 400,
    detail: `${where}: ${message}`,
    field,
  };
}

/** Errors Fastify meets before a route is found: a bad URL (400), an over-long path parameter (414). */
export function frameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  const detail =
    status === 414 ? 'a path parameter is too long' : 'the URL is not valid (a malformed percent-encoding?)';
  return sendProblem(reply, {
    type: `${PROBLEM_BASE}${problemSlug(status)}`,
    title: STATUS_CODES[status] ?? 'Bad request',
    status,
    detail,
    field: 'path',
    instance: request.url.slice(0, 200),
  });
}

/** Errors of the connection itself (no request yet): 431 for headers too large, 408, or 400, as problem+json. */
export function writeClientErrorProblem(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    type: `${PROBLEM_BASE}${problemSlug(status)}`,
    title: STATUS_CODES[status],
    status,
    detail:
      status === 431
        ? 'the request line and headers exceed the size this server reads'
        : 'the request could not be read',
  });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy(error);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error);
    if (problem.status === 401) void reply.header('www-authenticate', 'Bearer');
    if (problem.status === 503) void reply.header('retry-after', '1');
    // A start in progress is no failure: /ready says so, and the client is told when to come back.
    if (problem.status >= 500 && !(error instanceof StartingError)) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, { ...problem, instance: request.url });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: `${PROBLEM_BASE}not-found`,
      title: 'Not found',
      status: 404,
      detail: `no route ${request.method} ${request.url}`,
      instance: request.url,
    }),
  );
}
