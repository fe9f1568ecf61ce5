import { useRef, useState } from 'react';
import { api, customerApi, customerSession, type Problem } from '../api/client.ts';
import type { SagaStep } from './saga-steps.ts';

export interface RegistrationInput {
  email: string;
  name: string;
  planId: string;
  paymentMethod: string;
}

export type Outcome =
  | { kind: 'idle' }
  | { kind: 'running'; registrationId?: string; steps: SagaStep[] }
  | {
      kind: 'completed';
      registrationId: string;
      customerId: string;
      subscriptionId: string;
      position: number;
      steps: SagaStep[];
    }
  | { kind: 'declined'; registrationId: string; declineCode: string; detail: string; steps: SagaStep[] }
  | { kind: 'failed'; detail: string; steps: SagaStep[]; fieldErrors: Record<string, string> };

const newKey = () =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers once per submission: one Idempotency-Key per distinct form, reused by a double click
 * or a retry, and the saga followed with that key until it ends (a 202 included).
 */
export function useRegistration() {
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const inFlight = useRef(false);
  const keyFor = useRef<{ body: string; key: string } | null>(null);

  const stepsWithKey = async (id: string, key: string): Promise<SagaStep[]> => {
    const { data } = await api.GET('/registrations/{id}', {
      params: { path: { id }, header: { 'idempotency-key': key } },
    });
    return data?.steps ?? [];
  };

  async function submit(input: RegistrationInput): Promise<void> {
    if (inFlight.current) return;
    inFlight.current = true;
    const body = JSON.stringify(input);
    if (keyFor.current?.body !== body) keyFor.current = { body, key: newKey() };
    const key = keyFor.current.key;
    setOutcome({ kind: 'running', steps: [] });
    try {
      for (;;) {
        const { data, error, response } = await api.POST('/register', {
          body: input,
          params: { header: { 'idempotency-key': key } },
        });
        if (response.status === 201 && data && 'customerToken' in data) {
          customerSession.save(data.customerToken, {
            customerId: data.customerId,
            subscriptionId: data.subscriptionId,
            registrationId: data.registrationId,
          });
          const { data: saga } = await customerApi.GET('/registrations/{id}', {
            params: { path: { id: data.registrationId } },
          });
          setOutcome({ kind: 'completed', ...data, steps: saga?.steps ?? [] });
          return;
        }
        if (response.status === 202 && data) {
          // Still running: follow its steps, then ask again with the same key for the final answer.
          const steps = await stepsWithKey(data.registrationId, key);
          setOutcome({ kind: 'running', registrationId: data.registrationId, steps });
          await sleep(700);
          continue;
        }
        const problem = (error ?? {}) as Problem;
        const registrationId = typeof problem.registrationId === 'string' ? problem.registrationId : undefined;
        const steps = registrationId ? await stepsWithKey(registrationId, key) : [];
        if (response.status === 402 && registrationId) {
          setOutcome({
            kind: 'declined',
            registrationId,
            declineCode: String(problem.declineCode ?? 'generic_decline'),
            detail: problem.detail ?? 'Payment declined',
            steps,
          });
          return;
        }
        const field = problem.field ?? (response.status === 409 ? 'email' : null);
        const detail = problem.detail ?? problem.title ?? `The platform answered ${response.status}`;
        setOutcome({ kind: 'failed', detail, steps, fieldErrors: field ? { [field]: detail } : {} });
        return;
      }
    } catch (thrown) {
      setOutcome({
        kind: 'failed',
        detail: `The platform could not be reached (${String(thrown)}). Try again: you will not be charged twice.`,
        steps: [],
        fieldErrors: {},
      });
    } finally {
      inFlight.current = false;
    }
  }

  return { outcome, submit, reset: () => setOutcome({ kind: 'idle' }) };
}
