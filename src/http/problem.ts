import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { DatabaseUnavailableError } from '../kernel/db/database.ts';
import { ConcurrencyError, EventValidationError } from '../kernel/store/errors.ts';
import { DomainError, InvalidCommandError, NotFoundError as DomainNotFoundError } from '../domain/errors.ts';
import { ClockRewindError } from '../kernel/clock.ts';
import { ClockBusyError } from '../services/subscriptions/clock-service.ts';
import { UnknownPlanError } from '../services/plans/index.ts';
import { EmailTakenError, IdempotencyKeyMismatchError, UnknownPaymentMethodTokenError } from '../services/registration/registration-service.ts';
import { NotFoundError, UnauthorizedError } from './auth.ts';
import { InvalidRequestError } from './invalid-request.ts';
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
    return { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status: 400, detail: error.message, field: error.field };
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
    return { type: `${PROBLEM_BASE}clock-rewind`, title: 'The test clock only moves forward', status: 400, detail: error.message, field: 'to' };
  }
  if (error instanceof ClockBusyError) {
    return { type: `${PROBLEM_BASE}clock-busy`, title: 'The test clock is advancing', status: 409, detail: error.message, advanceId: error.advanceId };
  }
  if (error instanceof DomainNotFoundError) {
    return { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: error.message };
  }
  if (error instanceof InvalidCommandError) {
    return { type: `${PROBLEM_BASE}${error.code.replaceAll('_', '-')}`, title: 'Command refused', status: 422, detail: error.message, code: error.code };
  }
  if (error instanceof DomainError) {
    return { type: `${PROBLEM_BASE}${error.code.replaceAll('_', '-')}`, title: 'Conflict', status: 409, detail: error.message, code: error.code };
  }
  if (error instanceof UnknownPlanError) {
    return { type: `${PROBLEM_BASE}unknown-plan`, title: 'Unknown plan', status: 422, detail: error.message, field: 'planId' };
  }
  if (error instanceof UnknownPaymentMethodTokenError) {
    return { type: `${PROBLEM_BASE}unknown-payment-method`, title: 'Unknown payment method', status: 422, detail: error.message, field: 'paymentMethod' };
  }
  if (error instanceof EmailTakenError) {
    return { type: `${PROBLEM_BASE}email-taken`, title: 'Email already registered', status: 409, detail: error.message, field: 'email' };
  }
  if (error instanceof IdempotencyKeyMismatchError) {
    return { type: `${PROBLEM_BASE}idempotency-key-reused`, title: 'Idempotency-Key reused', status: 422, detail: error.message, field: 'Idempotency-Key' };
  }
  if (error instanceof ConcurrencyError) {
    return { type: `${PROBLEM_BASE}concurrency-conflict`, title: 'Concurrency conflict', status: 409, detail: error.message, expectedVersion: error.expected, actualVersion: error.actual };
  }
  if (error instanceof EventValidationError) {
    return { type: `${PROBLEM_BASE}invalid-event`, title: 'Invalid event', status: 422, detail: error.message, field: error.field };
  }
  if (error instanceof DatabaseUnavailableError) {
    return { type: `${PROBLEM_BASE}unavailable`, title: 'Service unavailable', status: 503, detail: 'the database is unreachable; nothing was written' };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const [first] = fastifyError.validation;
    const path = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '';
    const missing = (first?.params as { issue?: { path?: PropertyKey[] } } | undefined)?.issue?.path?.join('.');
    const field = path || missing || null;
    const where = [fastifyError.validationContext, field].filter(Boolean).join('.');
    return { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status: 400, detail: `${where}: ${first?.message ?? 'invalid'}`, field };
  }
  if (fastifyError.statusCode === 429) {
    return { type: `${PROBLEM_BASE}rate-limited`, title: 'Too many requests', status: 429, detail: fastifyError.message };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status: fastifyError.statusCode, detail: fastifyError.message };
  }
  return { type: `${PROBLEM_BASE}internal`, title: 'Internal error', status: 500 };
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error);
    if (problem.status === 401) void reply.header('www-authenticate', 'Bearer');
    if (problem.status === 503) void reply.header('retry-after', '1');
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, { ...problem, instance: request.url });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: `no route ${request.method} ${request.url}`, instance: request.url }),
  );
}
