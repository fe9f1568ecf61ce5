import { useCallback, useEffect, useState } from 'react';

/** Loads now and again every `intervalMs` while the view is open (a few figures, not the event log). */
export function usePoll<T>(
  load: () => Promise<T | undefined>,
  intervalMs: number,
  deps: unknown[] = [],
): { data: T | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>();
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const stableLoad = useCallback(load, deps);
  useEffect(() => {
    let alive = true;
    const run = () =>
      void stableLoad().then(
        (value) => alive && value !== undefined && setData(value),
        () => {},
      );
    run();
    const timer = intervalMs > 0 ? setInterval(run, intervalMs) : undefined;
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [stableLoad, intervalMs, tick]);
  return { data, reload: () => setTick((n) => n + 1) };
}
