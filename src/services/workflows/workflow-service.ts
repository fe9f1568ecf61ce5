import type { Clock } from '../../kernel/clock.ts';
import type { SagaFilter, SagaOrchestrator } from '../../kernel/saga/saga-orchestrator.ts';
import type { SagaRecord, SagaStatus } from '../../kernel/saga/saga.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { workflowDecider } from '../../domain/workflow/decider.ts';
import { handleCommand } from '../command-handler.ts';
import { customerStream, paymentStream, registrationStream, subscriptionStream, workflowStream } from '../streams.ts';
import { REGISTRATION_SAGA } from '../registration/registration-saga.ts';

/** The ids a workflow's state may name: its history is what it wrote on their streams. */
export interface Subjects {
  customerId?: string;
  paymentId?: string;
  subscriptionId?: string;
  /** An erasure's: the subscriptions it cancelled. */
  cancelledSubscriptions?: string[];
  /** The request a workflow runs for, when it writes as its requester (an erasure writes as the admin or the customer). */
  metadata?: { correlationId?: string };
}

/** The workflows that move money, for operators: list, look at one with its history, retry a parked one. */
export class WorkflowService {
  constructor(private readonly deps: { sagas: SagaOrchestrator; store: EventStore; clock: Clock }) {}

  list(filter: SagaFilter): Promise<{ items: SagaRecord[]; nextCursor: string | null }> {
    return this.deps.sagas.list(filter);
  }

  async get(id: string): Promise<{ workflow: SagaRecord; history: RecordedEvent[] } | null> {
    const workflow = await this.deps.sagas.get(id);
    if (!workflow) return null;
    return { workflow, history: await this.history(workflow) };
  }

  /** Retries a parked workflow now; the retry is an event (`WorkflowRetried`) with the operator as actor. */
  retry(id: string, metadata: { correlationId: string; actor: string }): Promise<SagaStatus> {
    const { store, clock } = this.deps;
    return this.deps.sagas.retry(id, async (tx, saga) => {
      const customerId = (saga.state as Subjects).customerId ?? null;
      const data = {
        workflowId: saga.id,
        workflowType: saga.type,
        customerId,
        status: saga.status,
        retriedAt: clock.now().toISOString(),
      };
      await handleCommand(
        store,
        workflowDecider,
        workflowStream(id),
        { type: 'RetryWorkflow', data },
        { tx, metadata },
      );
    });
  }

  /**
   * The events the workflow appended (its actor is `<type>:<id>`, or it wrote in its request's
   * correlation: its own history, its effects) and those about it (retries), in log order.
   */
  private async history(workflow: SagaRecord): Promise<RecordedEvent[]> {
    const { store } = this.deps;
    const subjects = workflow.state as Subjects;
    const streams = [
      workflow.type === REGISTRATION_SAGA && registrationStream(workflow.id),
      subjects.customerId && customerStream(subjects.customerId),
      subjects.paymentId && paymentStream(subjects.paymentId),
      subjects.subscriptionId && subscriptionStream(subjects.subscriptionId),
      ...(subjects.cancelledSubscriptions ?? []).map(subscriptionStream),
    ].filter((stream): stream is string => Boolean(stream));
    const actor = `${workflow.type}:${workflow.id}`;
    const request = subjects.metadata?.correlationId;
    const own = (await Promise.all(streams.map((stream) => store.readStream(stream))))
      .flat()
      .filter((event) => event.metadata.actor === actor || (request && event.metadata.correlationId === request));
    const about = await store.readStream(workflowStream(workflow.id));
    return [...own, ...about].sort((a, b) => a.position - b.position);
  }
}
