import { time } from './format.ts';

export interface StepItem {
  key: string;
  label: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'compensated';
  at?: string | null | undefined;
  detail?: string | null | undefined;
  compensation?: boolean;
}

const ICON: Record<StepItem['status'], string> = {
  pending: '○',
  running: '◌',
  completed: '✓',
  failed: '✕',
  compensated: '↺',
};

/** A vertical timeline of steps, each ticking with its time. */
export function StepList({ steps, label }: { steps: StepItem[]; label: string }) {
  return (
    <ol className="steps" aria-label={label}>
      {steps.map((step) => (
        <li
          key={step.key}
          className={`step step-${step.status}${step.compensation ? ' step-compensation' : ''}`}
          data-status={step.status}
        >
          <span className="step-icon" aria-hidden="true">
            {ICON[step.status]}
          </span>
          <span className="step-body">
            <span className="step-label">{step.label}</span>
            {step.detail ? <span className="step-detail">{step.detail}</span> : null}
          </span>
          <span className="step-time">{step.status === 'running' ? 'running…' : time(step.at)}</span>
        </li>
      ))}
    </ol>
  );
}
