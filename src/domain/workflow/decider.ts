import type { Decider, Message } from '../decider.ts';
import { InvalidTransitionError } from '../errors.ts';
import type { WorkflowRetriedData } from '../events/workflow-retried.ts';
import { instant } from '../time.ts';

/** An operator asks a parked workflow to run again now. */
export type RetryWorkflow = Message<
  'RetryWorkflow',
  { workflowId: string; workflowType: string; customerId: string | null; status: string; retriedAt: string }
>;

export type WorkflowCommand = RetryWorkflow;
export type WorkflowEvent = Message<'WorkflowRetried', WorkflowRetriedData>;

/** What operators did to a workflow (its steps' own events are on the streams they touch). */
export interface WorkflowInterventions {
  retries: number;
}

export const initialState: WorkflowInterventions = { retries: 0 };

/** Only a parked workflow (its compensation kept failing) is retried by hand; a running one retries itself. */
export const decide = (command: WorkflowCommand, _state: WorkflowInterventions): WorkflowEvent[] => {
  const { workflowId, workflowType, customerId, status } = command.data;
  if (status !== 'compensation_failed') {
    throw new InvalidTransitionError(
      'workflow',
      'workflow_not_parked',
      `workflow ${workflowId} is ${status}: there is nothing to retry`,
    );
  }
  const retriedAt = instant('workflow', 'retriedAt', command.data.retriedAt);
  return [
    { type: 'WorkflowRetried', data: { workflowId, workflowType, customerId, previousStatus: status, retriedAt } },
  ];
};

export const evolve = (state: WorkflowInterventions, event: WorkflowEvent): WorkflowInterventions =>
  event.type === 'WorkflowRetried' ? { retries: state.retries + 1 } : state;

export const workflowDecider: Decider<WorkflowCommand, WorkflowInterventions, WorkflowEvent> = {
  decide,
  evolve,
  initialState,
};
