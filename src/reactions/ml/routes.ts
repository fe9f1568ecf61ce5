import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAdmin } from '../../http/auth.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { ChurnModelVersion } from './churn-model-store.ts';
import { countExamples, listModelVersions } from './churn-model-store.ts';
import type { ChurnTrainer } from './churn-trainer.ts';
import { problem } from '../../http/problem-schema.ts';

const sizes = {
  trainingSize: z.int().describe('examples the model was fitted on'),
  testSize: z
    .int()
    .describe(
      'held-out examples it was evaluated on (by a hash of the subscription id: a subscription is on one side only)',
    ),
  trainingChurned: z.int().describe('cancellations among the training examples'),
  testChurned: z.int().describe('cancellations among the held-out examples'),
};

const modelVersion = z.object({
  version: z.int(),
  current: z.boolean().describe('the newest version: the one that scores subscriptions'),
  trainedAt: z.string().describe('by the platform clock'),
  ...sizes,
  auc: z.number().describe('area under the ROC curve on the held-out set'),
  logLoss: z.number().describe('mean log loss on the held-out set'),
  parameters: z
    .record(z.string(), z.unknown())
    .describe(
      'algorithm, L2 penalty, feature encoding (one-hot values, numeric means and scales), intercept and coefficients',
    ),
});

const versionJson = (model: ChurnModelVersion, current: number | null) => ({
  version: model.version,
  current: model.version === current,
  trainedAt: model.trainedAt.toISOString(),
  trainingSize: model.trainingSize,
  testSize: model.testSize,
  trainingChurned: model.trainingChurned,
  testChurned: model.testChurned,
  auc: model.auc,
  logLoss: model.logLoss,
  parameters: model.parameters as Record<string, unknown>,
});

/** The churn model's versions and metrics (admin), and a training on demand. */
export const churnModelRoutes = (deps: { db: Database; trainer: ChurnTrainer }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/analytics/churn-model',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Churn model versions, newest first, with their held-out metrics and which one is current',
        security: [{ bearer: [] }],
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
        response: {
          200: z.object({
            current: z.int().nullable().describe('the current version; null before a model is trained'),
            examples: z
              .object({ total: z.int(), churned: z.int() })
              .describe('labelled examples recorded so far (renewals and cancellations)'),
            versions: z.array(modelVersion),
          }),
          400: problem,
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const versions = await listModelVersions(deps.db, request.query.limit);
      const current = versions[0]?.version ?? null;
      return {
        current,
        examples: await countExamples(deps.db),
        versions: versions.map((model) => versionJson(model, current)),
      };
    },
  );

  api.post(
    '/analytics/churn-model/train',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Train a churn model version now on every recorded example (waits for a training in progress first)',
        security: [{ bearer: [] }],
        response: {
          200: z.discriminatedUnion('status', [
            z.object({ status: z.literal('trained'), model: modelVersion }),
            z.object({
              status: z.literal('no_model'),
              reason: z.string().describe('too few examples, or a single class'),
              ...sizes,
            }),
            z.object({
              status: z.literal('busy'),
              reason: z.string().describe('another process is training: its version will be the current one'),
            }),
          ]),
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const outcome = await deps.trainer.train('now');
      if (outcome.status === 'trained')
        return { status: 'trained' as const, model: versionJson(outcome.model, outcome.model.version) };
      return outcome;
    },
  );
};
