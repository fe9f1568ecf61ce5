import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const WorkflowRetried = defineEvent({
  type: 'WorkflowRetried',
  version: 1,
  topic: 'workflow.retried',
  description:
    'An operator asked a parked workflow (its compensation kept failing) to run again now; the actor is in the metadata.',
  schema: z
    .object({
      workflowId: id,
      workflowType: z.string().min(1).max(64),
      /** The customer the workflow is about, when it has one (the message key). */
      customerId: id.nullish(),
      previousStatus: z.string().min(1).max(64),
      retriedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId ?? data.workflowId,
});

export type WorkflowRetriedData = EventData<typeof WorkflowRetried>;
