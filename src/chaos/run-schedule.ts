import type { SimulatedGateway } from '../services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../services/registration/registration-saga.ts';
import { isDeclining, type FaultKind, type Step } from './schedule.ts';

/** How a schedule reaches the platform: its HTTP API (admin token), and, in process, its gateway and saga hooks. */
export interface ChaosTarget {
  request(method: 'GET' | 'POST' | 'PUT', url: string, body?: object): Promise<{ status: number; json: unknown }>;
  gateway?: SimulatedGateway;
  faults?: RegistrationFaults;
}

export interface ScheduleOutcome {
  workflows: number;
  faults: Partial<Record<FaultKind, number>>;
}

interface Customer {
  customerId: string;
  subscriptionId: string;
}

/**
 * Runs the steps in order. A request the platform cannot answer (it was killed, it answers 5xx) is
 * not a failure of the schedule: only what `verify` finds afterwards is.
 */
export async function runSchedule(
  seed: number,
  steps: readonly Step[],
  target: ChaosTarget,
  runId: string,
): Promise<ScheduleOutcome> {
  const customers: Customer[] = [];
  const outcome: ScheduleOutcome = { workflows: 0, faults: {} };
  const count = (kind: FaultKind, n = 1) => (outcome.faults[kind] = (outcome.faults[kind] ?? 0) + n);
  const safely = (method: 'GET' | 'POST' | 'PUT', url: string, body?: object) =>
    target.request(method, url, body).catch(() => ({ status: 0, json: null as unknown }));
  let n = 0;
  for (const step of steps) {
    switch (step.op) {
      case 'register':
      case 'register-then-fail': {
        const failing = step.op === 'register-then-fail' && target.faults !== undefined;
        if (failing) target.faults!.failSubscriptionStep = true;
        outcome.workflows++;
        if (isDeclining(step.card)) count('decline');
        const response = await safely('POST', '/register', {
          email: `chaos-${runId}-${seed}-${n++}@example.com`,
          name: 'Chaos Monkey',
          planId: 'pro-monthly',
          paymentMethod: step.card,
        });
        if (failing) target.faults!.failSubscriptionStep = false;
        const body = response.json as Partial<Customer> | null;
        if (response.status === 201 && body?.customerId && body.subscriptionId)
          customers.push({ customerId: body.customerId, subscriptionId: body.subscriptionId });
        break;
      }
      case 'cancel': {
        const customer = customers[step.pick % Math.max(customers.length, 1)];
        if (customer)
          await safely('POST', `/subscriptions/${customer.subscriptionId}/cancel`, { atPeriodEnd: step.atPeriodEnd });
        break;
      }
      case 'change-card': {
        const customer = customers[step.pick % Math.max(customers.length, 1)];
        if (!customer) break;
        if (isDeclining(step.card)) count('decline');
        await safely('PUT', `/customers/${customer.customerId}/payment-method`, { paymentMethod: step.card });
        break;
      }
      case 'advance':
        await safely('POST', '/admin/clock/advance', { days: step.days });
        break;
      case 'fault':
        injectFault(target.gateway, step);
        if (target.gateway) count(step.kind, step.kind === 'slow' ? 1 : step.count);
        break;
    }
  }
  target.gateway?.clearFaults();
  target.gateway?.setLatency(0);
  return outcome;
}

function injectFault(gateway: SimulatedGateway | undefined, step: Extract<Step, { op: 'fault' }>): void {
  if (!gateway) return; // a platform in another process: its faults are the kills
  switch (step.kind) {
    case 'error':
      return gateway.failNext(step.count, 'unavailable', 'charge');
    case 'slow':
      return gateway.setLatency(step.latencyMs);
    case 'timeout-after-charge':
      return gateway.failNext(step.count, 'timeout-after-charge', 'charge');
    case 'timeout-before-charge':
      return gateway.failNext(step.count, 'timeout-before-charge', 'charge');
    case 'refund-refused':
      return gateway.failNext(step.count, 'unavailable', 'refund');
  }
}
