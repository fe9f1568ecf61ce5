import { v7 as uuidv7 } from 'uuid';
import type { BusMessage } from '../../src/kernel/bus/message.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { ConsumerRunner, type Outcome } from '../../src/kernel/consumers/consumer-runner.ts';

/** Sealed personal data of the right shape (the bus tests never decrypt it). */
export const sealedPii = {
  alg: 'A256GCM',
  iv: 'aXYxMjM0NTY3ODkw',
  ciphertext: 'Y2lwaGVydGV4dA',
  tag: 'dGFnMTIzNDU2Nzg5MDEy',
} as const;

/** A valid CustomerRegistered for a new customer. */
export const customerRegistered = (customerId: string = uuidv7()) => ({
  customerId,
  pii: sealedPii,
  planId: 'pro-monthly',
  registeredAt: systemClock.now().toISOString(),
});

/** A runner that also counts the duplicates Kafka delivered (at least once) that the inbox dropped. */
export class CountingRunner extends ConsumerRunner {
  readonly outcomes: Outcome[] = [];
  override async process(message: BusMessage) {
    const outcome = await super.process(message);
    if (outcome !== 'interrupted') this.outcomes.push(outcome);
    return outcome;
  }
}
