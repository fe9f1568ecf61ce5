import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { Subscription } from '../kernel/bus/bus.ts';
import { AppendSignal } from '../kernel/store/append-signal.ts';
import { sampleLag } from './lag-sampler.ts';

describe('the lag sampler', () => {
  const sampler = () => {
    const appended = new AppendSignal();
    const state = { lag: 0, samples: 0 };
    const subscription = {
      consumer: 'test',
      lag: async () => (state.samples++, state.lag),
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
});
