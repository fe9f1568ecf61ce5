import { afterEach, describe, expect, it, vi } from 'vitest';
import { loopDelay, registry } from './metrics.ts';

describe('the event-loop delay', () => {
  afterEach(() => vi.useRealTimers());

  it('is sampled while the platform works, and not once it has been idle 10 s', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    expect(loopDelay.sampling).toBe(false);
    loopDelay.wake();
    expect(loopDelay.sampling).toBe(true);
    vi.advanceTimersByTime(6_000);
    loopDelay.wake(); // more work: another 10 s from here
    vi.advanceTimersByTime(6_000);
    expect(loopDelay.sampling).toBe(true);
    vi.advanceTimersByTime(4_000);
    expect(loopDelay.sampling).toBe(false);
  });

  it('is served once under each of its names, at zero without samples', async () => {
    const text = await registry.metrics();
    for (const stat of ['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99']) {
      const name = `tributary_nodejs_eventloop_lag${stat}_seconds`;
      expect(text.match(new RegExp(`^# TYPE ${name} gauge$`, 'gm'))).toHaveLength(1);
    }
    expect(text).toMatch(/^tributary_nodejs_eventloop_lag_p99_seconds 0$/m);
  });
});
