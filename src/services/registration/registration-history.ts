import { registrationDecider, type Registration } from '../../domain/registration/decider.ts';
import type { RegistrationCommand } from '../../domain/registration/commands.ts';
import type { RegistrationEvent } from '../../domain/registration/events.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { HistoryContext, SagaTransition } from '../../kernel/saga/saga.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { registrationStream } from '../streams.ts';
import type { RegistrationState } from './registration-saga.ts';

/** The saga's forward steps, as the Registration aggregate names their outcomes (activate: two of them). */
const stepCommands: Record<string, (registrationId: string, at: string) => RegistrationCommand[]> = {
  'create-customer': (registrationId, at) => [
    { type: 'RecordCustomerCreated', data: { registrationId, createdAt: at } },
  ],
  charge: (registrationId, at) => [{ type: 'RecordPaymentCharged', data: { registrationId, chargedAt: at } }],
  activate: (registrationId, at) => [
    { type: 'RecordSubscriptionCreated', data: { registrationId, createdAt: at } },
    { type: 'CompleteRegistration', data: { registrationId, completedAt: at } },
  ],
};

const commandsOf = (transition: SagaTransition, registrationId: string, at: string): RegistrationCommand[] => {
  switch (transition.kind) {
    case 'step-completed': {
      const command = stepCommands[transition.step];
      if (!command) throw new Error(`the registration's history has no event for step ${transition.step}`);
      return command(registrationId, at);
    }
    case 'failed': {
      const { code, message, details } = transition.failure;
      if (code === 'payment_declined') {
        const declineCode = typeof details?.declineCode === 'string' ? details.declineCode : 'declined';
        return [{ type: 'RecordPaymentDeclined', data: { registrationId, declineCode, message, declinedAt: at } }];
      }
      return [{ type: 'CompensateRegistration', data: { registrationId, error: `${code}: ${message}`, failedAt: at } }];
    }
    case 'compensated':
      return [{ type: 'RecordCompensated', data: { registrationId, compensatedAt: at } }];
    case 'parked':
      return [{ type: 'RecordCompensationFailed', data: { registrationId, error: transition.error, failedAt: at } }];
  }
};

/**
 * The registration saga's history: each transition becomes the Registration aggregate's events on
 * `registration-<id>`, decided against that stream (so they follow its rules) and appended in
 * the transaction that records the transition. The first one also appends RegistrationStarted.
 * A running registration's stream is remembered between its transitions (only its lease holder
 * writes it); a stale memory fails the append on its expected version and is read again.
 */
export function registrationHistory(deps: { store: EventStore; clock: Clock }) {
  const { store, clock } = deps;
  const { decide, evolve, initialState } = registrationDecider;
  const running = new Map<string, { state: Registration; version: number }>();
  const read = async (stream: string, tx: Sql) => {
    const history = await store.readStream(stream, { tx });
    const state = history.reduce((s, event) => evolve(s, event as unknown as RegistrationEvent), initialState);
    return { state, version: history.length };
  };

  return async (tx: Sql, transition: SagaTransition, { state, fresh, append }: HistoryContext<RegistrationState>) => {
    const { registrationId, customerId, paymentId, subscriptionId, planId } = state;
    const stream = registrationStream(registrationId);
    const at = clock.now().toISOString();
    const known = running.get(registrationId) ?? (fresh ? { state: initialState, version: 0 } : await read(stream, tx));
    running.delete(registrationId);
    const commands = commandsOf(transition, registrationId, at);
    if (known.state.status === 'none')
      commands.unshift({
        type: 'StartRegistration',
        data: { registrationId, customerId, paymentId, subscriptionId, planId, startedAt: at },
      });
    let current = known.state;
    const events: RegistrationEvent[] = [];
    for (const command of commands) {
      const decided = decide(command, current);
      events.push(...decided);
      current = decided.reduce(evolve, current);
    }
    if (events.length > 0) {
      const metadata = {
        correlationId: state.correlationId,
        causationId: null,
        actor: `registration:${registrationId}`,
      };
      const data = events.map((event) => ({ type: event.type, data: event.data, metadata }));
      await append({ streamId: stream, events: data, expectedVersion: known.version });
    }
    if (current.status === 'running' || current.status === 'compensating')
      running.set(registrationId, { state: current, version: known.version + events.length });
  };
}
