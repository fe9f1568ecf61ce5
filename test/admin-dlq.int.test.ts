import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { defineConsumer } from '../src/kernel/consumers/consumer.ts';
import { ADMIN_TOKEN, openPlatform } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

describe('dead letters over HTTP', async () => {
  let broken = true;
  const handled: string[] = [];
  const picky = defineConsumer({
    name: 'picky',
    topics: ['customer.registered'],
    async handle(event) {
      if (broken) throw new Error('picky is broken');
      handled.push(event.id);
    },
  });
  const fixture = (await openPlatform(
    'embedded',
    { CONSUMER_MAX_ATTEMPTS: '2', CONSUMER_RETRY_BASE_MS: '1' },
    { consumers: [picky] },
  ))!;
  afterAll(async () => fixture.close());
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('lists what a consumer could not handle and replays it once the cause is fixed', async () => {
    const registered = await fixture.platform.http.inject({
      method: 'POST',
      url: '/register',
      payload: {
        email: `d-${uuidv7()}@example.com`,
        name: 'Dee',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      },
    });
    expect(registered.statusCode).toBe(201);
    const letters = await waitFor('a dead letter', async () => {
      const { deadLetters } = (
        await fixture.platform.http.inject({ method: 'GET', url: '/admin/dlq?consumer=picky', headers: admin })
      ).json();
      return deadLetters.length ? deadLetters : null;
    });
    expect(letters[0]).toMatchObject({
      consumer: 'picky',
      eventType: 'CustomerRegistered',
      error: 'picky is broken',
      poison: false,
      attempts: 2,
    });
    expect(letters[0].headers.ce_type).toBe('CustomerRegistered');
    expect((await fixture.platform.http.inject({ method: 'GET', url: '/admin/dlq' })).statusCode).toBe(401);

    const failedAgain = await fixture.platform.http.inject({
      method: 'POST',
      url: '/admin/dlq/picky/replay',
      headers: admin,
    });
    expect(failedAgain.json()).toMatchObject({
      consumer: 'picky',
      replayed: 0,
      failed: [{ error: 'picky is broken' }],
    });
    broken = false;
    const replayed = await fixture.platform.http.inject({
      method: 'POST',
      url: '/admin/dlq/picky/replay',
      headers: admin,
    });
    expect(replayed.json()).toEqual({ consumer: 'picky', replayed: 1, failed: [] });
    expect(handled).toHaveLength(1);
    expect(
      (await fixture.platform.http.inject({ method: 'GET', url: '/admin/dlq', headers: admin })).json().deadLetters,
    ).toEqual([]);
    expect(
      (await fixture.platform.http.inject({ method: 'POST', url: '/admin/dlq/nobody/replay', headers: admin }))
        .statusCode,
    ).toBe(404);
  });

  it('replays one dead letter by its id, leaving the others pending', async () => {
    broken = true;
    handled.length = 0;
    for (const name of ['One', 'Two']) {
      const registered = await fixture.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: { email: `d-${uuidv7()}@example.com`, name, planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
      });
      expect(registered.statusCode).toBe(201);
    }
    const letters: { id: number; eventId: string }[] = await waitFor('two dead letters', async () => {
      const { deadLetters } = (
        await fixture.platform.http.inject({ method: 'GET', url: '/admin/dlq?consumer=picky', headers: admin })
      ).json();
      return deadLetters.length === 2 ? deadLetters : null;
    });
    const replayOne = (consumer: string, id: number, headers: Record<string, string> = admin) =>
      fixture.platform.http.inject({ method: 'POST', url: `/admin/dlq/${consumer}/${id}/replay`, headers });
    const [first, second] = letters as [{ id: number; eventId: string }, { id: number; eventId: string }];

    expect((await replayOne('picky', first.id)).json()).toEqual({
      consumer: 'picky',
      id: first.id,
      replayed: false,
      error: 'picky is broken',
    });
    broken = false;
    expect((await replayOne('picky', first.id, {})).statusCode).toBe(401);
    expect((await replayOne('picky', first.id)).json()).toEqual({
      consumer: 'picky',
      id: first.id,
      replayed: true,
      error: null,
    });
    expect(handled).toEqual([first.eventId]);
    const pending = (
      await fixture.platform.http.inject({ method: 'GET', url: '/admin/dlq?consumer=picky', headers: admin })
    ).json().deadLetters;
    expect(pending.map((letter: { id: number }) => letter.id)).toEqual([second.id]);
    expect(pending[0].attempts).toBe(2);

    // Replayed already, another consumer's, no such consumer: nothing pending to replay.
    expect((await replayOne('picky', first.id)).statusCode).toBe(404);
    expect((await replayOne('welcome-email', second.id)).statusCode).toBe(404);
    expect((await replayOne('nobody', second.id)).statusCode).toBe(404);
    expect((await replayOne('picky', second.id)).json()).toMatchObject({ replayed: true });
    expect(handled).toEqual([first.eventId, second.eventId]);
  });
});
