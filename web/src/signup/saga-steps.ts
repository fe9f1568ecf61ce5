/** How the registration saga's steps read to the customer signing up. */
export const STEP_LABELS: Record<string, { run: string; compensate: string }> = {
  'create-customer': { run: 'Customer created', compensate: 'Customer record removed' },
  charge: { run: 'Payment', compensate: 'Payment refunded' },
  activate: { run: 'Subscription started, welcome email queued', compensate: 'Registration undone' },
  // Registrations made before activate was one step.
  'create-subscription': { run: 'Subscription started', compensate: 'Subscription cancelled' },
  'register-customer': { run: 'Welcome email queued', compensate: 'Registration undone' },
};

export const RUN_STEPS = ['create-customer', 'charge', 'activate'];

export interface SagaStep {
  step: string;
  phase: 'run' | 'compensate';
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export const stepLabel = (step: { step: string; phase: 'run' | 'compensate' }) =>
  STEP_LABELS[step.step]?.[step.phase] ?? `${step.step} (${step.phase})`;
