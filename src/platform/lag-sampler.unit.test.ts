import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { Subscription } from '../kernel/bus/bus.ts';
import { registry } from '../kernel/metrics.ts';
import { AppendSignal } from '../kernel/store/append-signal.ts';
import { sampleLag } from './lag-sampler.ts';

describe('the lag sampler', () => {
  const sampler = () => {
    const appended = new AppendSignal();
    const state = { lag: 0, samples: 0, caughtUp: false };
    const subscription = {
      consumer: 'test',
      lag: async () => (state.samples++, state.lag),
      caughtUp: () => state.caughtUp,
      stop: async () => {},
    } as Subscription;
    const stop = sampleLag([subscription], [], () => true, appended, 10);
    return { appended, state, stop };
  };

  it('stops counting once every lag is zero, until an append', async () => {
    const { appended, state, stop } = sampler();
    await vi.waitFor(() => expect(state.samples).toBe(1));
    await sleep(100);
    expect(state.samples).toBe(1);
    appended.notify();
    await vi.waitFor(() => expect(state.samples).toBe(2));
    stop();
  });

  it('keeps counting while a lag is not zero', async () => {
    const { state, stop } = sampler();
    state.lag = 3;
    await vi.waitFor(() => expect(state.samples).toBeGreaterThan(2));
    stop();
  });

  it('does not count the lag of a follower that waits having read everything (zero)', async () => {
    const { appended, state, stop } = sampler();
    state.caughtUp = true;
    state.lag = 3; // what a count would say: not asked
    appended.notify();
    await sleep(100);
    expect(state.samples).toBe(0);
    expect((await registry.getSingleMetric('tributary_consumer_lag_events')?.get())?.values).toContainEqual(
      expect.objectContaining({ labels: { consumer: 'test' }, value: 0 }),
    );
    state.caughtUp = false;
    appended.notify();
    await vi.waitFor(() => expect(state.samples).toBeGreaterThan(0));
    stop();
  });
});
