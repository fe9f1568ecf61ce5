import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Registration, RegistrationService } from '../../services/registration/registration-service.ts';
import { NotFoundError, requireOwner, type CustomerTokens } from '../auth.ts';
import { sendProblem, PROBLEM_BASE } from '../problem.ts';
import { problem } from '../problem-schema.ts';
import { emailAddress, freeText, idempotencyKey } from '../input-schemas.ts';

const registerBody = z
  .object({
    email: emailAddress.describe('trimmed and lower-cased'),
    name: freeText(200).describe('no control or invisible characters'),
    planId: z.string().min(1).max(64),
    paymentMethod: z
      .string()
      .min(1)
      .max(255)
      .describe('a payment method token, e.g. pm_card_visa; never a card number'),
  })
  .strict();

const completed = z.object({
  registrationId: z.string(),
  customerId: z.string(),
  subscriptionId: z.string(),
  paymentId: z.string(),
  status: z.literal('completed'),
  position: z.number().describe('the event store position of the registration: read your writes with minPosition'),
  customerToken: z.string().describe("bearer token for this customer's own resources"),
});

const step = z.object({
  step: z.string(),
  phase: z.enum(['run', 'compensate']),
  status: z.string(),
  attempts: z.int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
});
const registrationView = z.object({
  registrationId: z.string(),
  status: z.enum(['running', 'completed', 'compensating', 'compensated', 'compensation_failed']),
  customerId: z.string(),
  subscriptionId: z.string(),
  paymentId: z.string(),
  planId: z.string(),
  failure: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  steps: z.array(step),
});

const view = (registration: Registration) => ({
  registrationId: registration.id,
  status: registration.status,
  customerId: registration.state.customerId,
  subscriptionId: registration.state.subscriptionId,
  paymentId: registration.state.paymentId,
  planId: registration.state.planId,
  failure: registration.failure ? { code: registration.failure.code, message: registration.failure.message } : null,
  createdAt: registration.createdAt.toISOString(),
  updatedAt: registration.updatedAt.toISOString(),
  steps: registration.steps.map((s) => ({
    ...s,
    startedAt: s.startedAt?.toISOString() ?? null,
    finishedAt: s.finishedAt?.toISOString() ?? null,
  })),
});

/** One saga outcome, one answer: a retried request gets the same status and body. */
function answer(reply: FastifyReply, registration: Registration, tokens: CustomerTokens) {
  const { state, failure } = registration;
  switch (registration.status) {
    case 'completed':
      return reply
        .code(201)
        .header('location', `/customers/${state.customerId}`)
        .send({
          registrationId: registration.id,
          customerId: state.customerId,
          subscriptionId: state.subscriptionId,
          paymentId: state.paymentId,
          status: 'completed' as const,
          position: registration.position ?? state.position ?? 0,
          customerToken: tokens.issue(state.customerId, registration.updatedAt),
        });
    case 'compensated':
      if (failure?.code === 'payment_declined') {
        return sendProblem(reply, {
          type: `${PROBLEM_BASE}payment-declined`,
          title: 'Payment declined',
          status: 402,
          detail: failure.message,
          declineCode: failure.details?.declineCode,
          registrationId: registration.id,
        });
      }
      if (failure?.code === 'email_taken') {
        return sendProblem(reply, {
          type: `${PROBLEM_BASE}email-taken`,
          title: 'Email already registered',
          status: 409,
          detail: failure.message,
          registrationId: registration.id,
        });
      }
      return sendProblem(reply, {
        type: `${PROBLEM_BASE}registration-failed`,
        title: 'Registration failed',
        status: 503,
        detail: `${failure?.message ?? 'a step failed'}; any charge was refunded`,
        registrationId: registration.id,
      });
    case 'compensation_failed':
      return sendProblem(reply, {
        type: `${PROBLEM_BASE}registration-failed`,
        title: 'Registration failed',
        status: 500,
        detail: 'the registration failed and its compensation is pending an operator',
        registrationId: registration.id,
      });
    default:
      return reply
        .code(202)
        .header('location', `/registrations/${registration.id}`)
        .send({ registrationId: registration.id, status: registration.status });
  }
}

export const registrationRoutes =
  (deps: {
    registrations: RegistrationService;
    tokens: CustomerTokens;
    waitMs: number;
    rateLimit: { max: number; timeWindow: number };
  }) =>
  (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/register',
      {
        // The key is bound to the saga it starts: a retry joins the same saga, even after a crash.
        config: { rateLimit: deps.rateLimit, idempotency: 'resource' },
        schema: {
          tags: ['registration'],
          summary: 'Register a customer: create the customer, charge the first period, start the subscription',
          headers: z.object({ 'idempotency-key': idempotencyKey.optional() }),
          body: registerBody,
          response: {
            201: completed,
            202: z.object({ registrationId: z.string(), status: z.string() }),
            400: problem,
            402: problem,
            409: problem,
            422: problem,
            429: problem,
            500: problem,
            503: problem,
          },
        },
      },
      async (request, reply) => {
        const registration = await deps.registrations.register(request.body, {
          idempotencyKey: request.headers['idempotency-key'],
          waitMs: deps.waitMs,
          correlationId: String(request.id),
        });
        return answer(reply, registration, deps.tokens);
      },
    );

    api.get(
      '/registrations/:id',
      {
        schema: {
          tags: ['registration'],
          summary:
            'A registration saga: status and steps (for its customer, the admin, or whoever holds the Idempotency-Key that started it)',
          security: [{ bearer: [] }],
          params: z.object({ id: z.string().max(64) }),
          headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }),
          response: { 200: registrationView, 401: problem, 404: problem },
        },
      },
      async (request) => {
        const registration = await deps.registrations.get(request.params.id);
        // The sign-up page follows its own registration (a 402 or a 202 carries no token) with the key it sent.
        const key = request.headers['idempotency-key'];
        const holdsKey = !!key && !!registration && (await deps.registrations.isKeyOf(key, registration.id));
        if (!holdsKey) requireOwner(request, registration?.state.customerId);
        if (!registration) throw new NotFoundError(`no registration ${request.params.id}`);
        return view(registration);
      },
    );
  };
