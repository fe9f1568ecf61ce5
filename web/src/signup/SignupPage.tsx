import { useEffect, useState, type FormEvent } from 'react';
import { api, customerApi } from '../api/client.ts';
import { date, money } from '../ui/format.ts';
import { StepList, type StepItem } from '../ui/StepList.tsx';
import { navigate } from '../ui/router.ts';
import { RUN_STEPS, stepLabel, type SagaStep } from './saga-steps.ts';
import { DECLINE_REASONS, TEST_CARDS } from './test-cards.ts';
import { useRegistration, type Outcome } from './use-registration.ts';

type Plan = {
  id: string;
  name: string;
  description: string;
  amount: number;
  currency: string;
  interval: 'month' | 'year';
};
type Subscription = NonNullable<Awaited<ReturnType<typeof loadSubscription>>>;

const OTHER = 'other';

async function loadSubscription(id: string, position: number) {
  const { data } = await customerApi.GET('/subscriptions/{id}', {
    params: { path: { id }, query: { minPosition: position } },
  });
  return data;
}

/** The saga's steps as the customer sees them: those to come, each ticking, then any compensation. */
function stepItems(outcome: Outcome): StepItem[] {
  if (outcome.kind === 'idle') return [];
  const steps: SagaStep[] = outcome.steps;
  const running = outcome.kind === 'running';
  const items: StepItem[] = [];
  let current = running;
  for (const name of RUN_STEPS) {
    const step = steps.find((s) => s.step === name && s.phase === 'run');
    let status: StepItem['status'] = 'pending';
    if (step?.status === 'completed') status = 'completed';
    else if (step?.status === 'failed') status = 'failed';
    else if (step || current) status = running ? 'running' : 'pending';
    if (status === 'running') current = false;
    if (!running && !step) continue;
    items.push({
      key: name,
      label: stepLabel({ step: name, phase: 'run' }),
      status,
      at: step?.finishedAt ?? step?.startedAt,
      detail: step?.error,
    });
  }
  for (const step of steps.filter((s) => s.phase === 'compensate')) {
    items.push({
      key: `${step.step}-compensate`,
      label: stepLabel(step),
      status: step.status === 'completed' ? 'compensated' : step.status === 'failed' ? 'failed' : 'running',
      at: step.finishedAt ?? step.startedAt,
      detail: step.error,
      compensation: true,
    });
  }
  return items;
}

export function SignupPage() {
  const [plans, setPlans] = useState<Plan[]>([]);
  const [planId, setPlanId] = useState('');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [card, setCard] = useState<string>(TEST_CARDS[0].token);
  const [token, setToken] = useState('');
  const [loadError, setLoadError] = useState<string | null>(null);
  const { outcome, submit } = useRegistration();

  useEffect(() => {
    api.GET('/plans').then(
      ({ data }) => {
        if (!data) return setLoadError('The plans could not be loaded.');
        setPlans(data.plans);
        setPlanId((current) => current || (data.plans.find((p) => p.id === 'pro-monthly') ?? data.plans[0])?.id || '');
      },
      () => setLoadError('The platform could not be reached.'),
    );
  }, []);

  const busy = outcome.kind === 'running';
  const fieldErrors = outcome.kind === 'failed' ? outcome.fieldErrors : {};
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ email, name, planId, paymentMethod: card === OTHER ? token.trim() : card });
  };
  const error = (field: string) =>
    fieldErrors[field] ? (
      <p className="field-error" id={`${field}-error`} role="alert">
        {fieldErrors[field]}
      </p>
    ) : null;
  const describedBy = (field: string) => (fieldErrors[field] ? `${field}-error` : undefined);

  return (
    <div className="public">
      <header className="public-header">
        <a className="brand" href="/">
          <span className="brand-mark" aria-hidden="true" /> Tributary
        </a>
        <nav aria-label="Site">
          <a href="/account" onClick={(e) => (e.preventDefault(), navigate('/account'))}>
            Your account
          </a>
        </nav>
      </header>
      <main className="signup">
        <section className="signup-intro">
          <h1>Start your subscription</h1>
          <p className="lead">Pick a plan, tell us who you are, and you are in. Cancel any time.</p>
        </section>
        {outcome.kind === 'completed' ? (
          <Welcome outcome={outcome} plan={plans.find((p) => p.id === planId)} />
        ) : (
          <form className="card signup-form" onSubmit={onSubmit} noValidate aria-busy={busy}>
            <fieldset className="plans" disabled={busy}>
              <legend>Plan</legend>
              {loadError ? <p className="field-error">{loadError}</p> : null}
              <div className="plan-grid">
                {plans.map((plan) => (
                  <label key={plan.id} className={`plan${plan.id === planId ? ' plan-selected' : ''}`}>
                    <input
                      type="radio"
                      name="planId"
                      value={plan.id}
                      checked={plan.id === planId}
                      onChange={() => setPlanId(plan.id)}
                    />
                    <span className="plan-name">{plan.name}</span>
                    <span className="plan-price">
                      {money(plan.amount, plan.currency)}
                      <span className="plan-interval"> / {plan.interval}</span>
                    </span>
                    <span className="plan-description">{plan.description}</span>
                  </label>
                ))}
              </div>
              {error('planId')}
            </fieldset>
            <fieldset disabled={busy}>
              <legend>You</legend>
              <div className="field">
                <label htmlFor="email">Email</label>
                <input
                  id="email"
                  name="email"
                  type="email"
                  autoComplete="email"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  aria-invalid={!!fieldErrors.email}
                  aria-describedby={describedBy('email')}
                />
                {error('email')}
              </div>
              <div className="field">
                <label htmlFor="name">Name</label>
                <input
                  id="name"
                  name="name"
                  autoComplete="name"
                  required
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  aria-invalid={!!fieldErrors.name}
                  aria-describedby={describedBy('name')}
                />
                {error('name')}
              </div>
            </fieldset>
            <fieldset className="cards" disabled={busy}>
              <legend>Card (test mode)</legend>
              {TEST_CARDS.map((option) => (
                <label key={option.token} className="card-option">
                  <input
                    type="radio"
                    name="card"
                    value={option.token}
                    checked={card === option.token}
                    onChange={() => setCard(option.token)}
                  />
                  <span className="card-label">{option.label}</span>
                  <span className={`card-effect ${option.effect.startsWith('Succeeds') ? 'ok' : 'bad'}`}>
                    {option.effect}
                  </span>
                </label>
              ))}
              <label className="card-option">
                <input
                  type="radio"
                  name="card"
                  value={OTHER}
                  checked={card === OTHER}
                  onChange={() => setCard(OTHER)}
                />
                <span className="card-label">Another payment method token</span>
              </label>
              {card === OTHER ? (
                <div className="field">
                  <label htmlFor="paymentMethod">Payment method token</label>
                  <input
                    id="paymentMethod"
                    name="paymentMethod"
                    placeholder="pm_…"
                    value={token}
                    onChange={(e) => setToken(e.target.value)}
                    aria-invalid={!!fieldErrors.paymentMethod}
                    aria-describedby={describedBy('paymentMethod')}
                  />
                </div>
              ) : null}
              {error('paymentMethod')}
            </fieldset>
            <button className="primary" type="submit" disabled={busy || !planId}>
              {busy ? 'Signing you up…' : 'Subscribe'}
            </button>
            {outcome.kind === 'failed' && Object.keys(outcome.fieldErrors).length === 0 ? (
              <p className="form-error" role="alert">
                {outcome.detail}
              </p>
            ) : null}
            {outcome.kind === 'declined' ? <Declined outcome={outcome} /> : null}
            {outcome.kind !== 'idle' && outcome.kind !== 'failed' ? (
              <section className="progress" aria-live="polite">
                <h2>{outcome.kind === 'running' ? 'Setting up your subscription' : 'What happened'}</h2>
                <StepList steps={stepItems(outcome)} label="Registration steps" />
              </section>
            ) : null}
          </form>
        )}
      </main>
      <footer className="public-footer">Test mode: no real card is charged. Card numbers are never stored.</footer>
    </div>
  );
}

function Declined({ outcome }: { outcome: Extract<Outcome, { kind: 'declined' }> }) {
  return (
    <div className="notice notice-bad" role="alert" data-testid="declined">
      <h2>Payment declined</h2>
      <p>{DECLINE_REASONS[outcome.declineCode] ?? outcome.detail}</p>
      <p className="muted">
        Nothing was charged and the customer record we had started was removed. Choose another card to try again.
      </p>
    </div>
  );
}

function Welcome({ outcome, plan }: { outcome: Extract<Outcome, { kind: 'completed' }>; plan: Plan | undefined }) {
  const [subscription, setSubscription] = useState<Subscription | undefined>();
  useEffect(() => {
    void loadSubscription(outcome.subscriptionId, outcome.position).then(setSubscription);
  }, [outcome.subscriptionId, outcome.position]);
  return (
    <section className="card welcome" aria-live="polite" data-testid="welcome">
      <h2>Welcome aboard</h2>
      <p className="lead">
        Your <strong>{plan?.name ?? 'subscription'}</strong> subscription is{' '}
        <strong data-testid="subscription-status">{subscription?.status ?? 'active'}</strong>.
      </p>
      {subscription ? (
        <dl className="facts">
          <dt>Current period</dt>
          <dd>
            {date(subscription.currentPeriod.start)} – {date(subscription.currentPeriod.end)}
          </dd>
          <dt>Price</dt>
          <dd>
            {money(subscription.price.amount, subscription.price.currency)} / {plan?.interval ?? 'period'}
          </dd>
          <dt>Next renewal</dt>
          <dd>{date(subscription.currentPeriod.end)}</dd>
        </dl>
      ) : null}
      <StepList steps={stepItems(outcome)} label="Registration steps" />
      <h3>Next steps</h3>
      <ul className="next-steps">
        <li>A welcome email is on its way to you, with your receipt right after it.</li>
        <li>Your invoice is ready in your account, as a PDF.</li>
        <li>You can change your card or cancel from your account at any time.</li>
      </ul>
      <a className="button primary" href="/account" onClick={(e) => (e.preventDefault(), navigate('/account'))}>
        Go to your account
      </a>
    </section>
  );
}
