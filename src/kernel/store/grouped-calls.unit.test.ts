import { describe, expect, it } from 'vitest';
import { GroupedCalls } from './grouped-calls.ts';

interface Item {
  key: string;
  value: number;
}

/** A GroupedCalls whose sends wait until released, recording what was sent. */
function harness(
  options: {
    concurrency?: number;
    maxSize?: number;
    refuse?: (item: Item) => boolean;
    oneCallsFault?: (error: unknown) => boolean;
  } = {},
) {
  const sends: { kind: 'together' | 'alone'; items: Item[]; release: () => void }[] = [];
  const held = (kind: 'together' | 'alone', items: Item[]) =>
    new Promise<void>((release) => sends.push({ kind, items, release }));
  const answer = (item: Item) => {
    if (options.refuse?.(item)) throw new Error(`refused ${item.value}`);
    return item.value * 10;
  };
  const calls = new GroupedCalls<Item, number>({
    together: async (items) => {
      await held('together', items);
      return items.map(answer);
    },
    alone: async (item) => {
      await held('alone', [item]);
      return answer(item);
    },
    keyOf: (item) => item.key,
    concurrency: options.concurrency ?? 1,
    maxSize: options.maxSize ?? 100,
    ...(options.oneCallsFault ? { oneCallsFault: options.oneCallsFault } : {}),
  });
  const settle = async () => {
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  };
  return { calls, sends, settle };
}

const values = (items: Item[]) => items.map((item) => item.value);

describe('GroupedCalls', () => {
  it('sends a lone call at once, alone, and the calls made meanwhile together', async () => {
    const { calls, sends, settle } = harness();
    const first = calls.call({ key: 'a', value: 1 });
    const rest = [2, 3, 4].map((value) => calls.call({ key: `k${value}`, value }));
    await settle();
    expect(sends.map((send) => [send.kind, values(send.items)])).toEqual([['alone', [1]]]);
    sends[0]!.release();
    expect(await first).toBe(10);
    await settle();
    expect(sends.map((send) => [send.kind, values(send.items)])).toEqual([
      ['alone', [1]],
      ['together', [2, 3, 4]],
    ]);
    sends[1]!.release();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('keeps the calls of one key in order, never two of them in flight', async () => {
    const { calls, sends, settle } = harness({ concurrency: 3 });
    const results = [
      calls.call({ key: 'a', value: 1 }),
      calls.call({ key: 'a', value: 2 }),
      calls.call({ key: 'b', value: 3 }),
      calls.call({ key: 'a', value: 4 }),
    ];
    await settle();
    // a:1 goes alone at once; then b:3 (a is in flight), while a:2 and a:4 wait their turn.
    expect(sends.map((send) => values(send.items))).toEqual([[1], [3]]);
    sends[0]!.release();
    await settle();
    expect(sends.map((send) => values(send.items))).toEqual([[1], [3], [2]]);
    sends[2]!.release();
    await settle();
    expect(sends.map((send) => values(send.items))).toEqual([[1], [3], [2], [4]]);
    for (const send of sends) send.release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
  });

  it('sends at most maxSize calls together', async () => {
    const { calls, sends, settle } = harness({ maxSize: 2 });
    const results = [1, 2, 3, 4].map((value) => calls.call({ key: `k${value}`, value }));
    await settle();
    sends[0]!.release();
    await settle();
    sends[1]!.release();
    await settle();
    expect(sends.map((send) => values(send.items))).toEqual([[1], [2, 3], [4]]);
    sends[2]!.release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
  });

  it('sends each call of a failed group alone, in order: each caller gets its own answer', async () => {
    const { calls, sends, settle } = harness({ refuse: (item) => item.value === 3 });
    const first = calls.call({ key: 'a', value: 1 });
    const rest = [2, 3, 4].map((value) =>
      calls.call({ key: `k${value}`, value }).then(
        (result) => result,
        (error: Error) => error.message,
      ),
    );
    await settle();
    sends[0]!.release();
    await first;
    for (let index = 1; index < 5; index++) {
      await settle();
      sends[index]!.release();
    }
    expect(await Promise.all(rest)).toEqual([20, 'refused 3', 40]);
    expect(sends.map((send) => [send.kind, values(send.items)])).toEqual([
      ['alone', [1]],
      ['together', [2, 3, 4]],
      ['alone', [2]],
      ['alone', [3]],
      ['alone', [4]],
    ]);
  });

  it('fails every call of a group at once with a failure that concerns them all', async () => {
    const { calls, sends, settle } = harness({ refuse: (item) => item.value === 3, oneCallsFault: () => false });
    const first = calls.call({ key: 'a', value: 1 });
    const rest = [2, 3, 4].map((value) =>
      calls.call({ key: `k${value}`, value }).then(
        (result) => result,
        (error: Error) => error.message,
      ),
    );
    await settle();
    sends[0]!.release();
    await first;
    await settle();
    sends[1]!.release();
    expect(await Promise.all(rest)).toEqual(['refused 3', 'refused 3', 'refused 3']);
    expect(sends).toHaveLength(2);
  });
});
