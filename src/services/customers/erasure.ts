import { uuidv7 } from '../../kernel/ids.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { currentTraceparent } from '../../kernel/tracing.ts';
import type { SagaOrchestrator } from '../../kernel/saga/saga-orchestrator.ts';
import type { EventMetadata } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { customerStream } from '../streams.ts';
import { ERASURE_SAGA, type ErasureState } from './erasure-saga.ts';

export { subscriptionsOf } from './erasure-saga.ts';

export interface ErasureResult {
  customerId: string;
  /** Whether this call deleted the key (false: it was already gone). */
  keyDeleted: boolean;
  /** Null when the customer was already deleted. */
  deletedPosition: number | null;
  cancelledSubscriptions: string[];
}

/** Erases customers through the erasure saga (see erasure-saga.ts); repeating an erasure changes nothing. */
export class ErasureService {
  constructor(private readonly deps: { store: EventStore; sagas: SagaOrchestrator }) {}

  /** Runs an erasure to its end; 404 (NotFoundError) for a customer that never existed. */
  async erase(customerId: string, metadata: Partial<EventMetadata>): Promise<ErasureResult> {
    const history = await this.deps.store.readStream(customerStream(customerId));
    if (history.length === 0)
      throw new NotFoundError('customer', 'customer_not_found', `customer ${customerId} does not exist`);
    // A saga per request: a repeat finds nothing left to do in any step, and says so.
    // The trace goes with the saga's state: a run resumed after a crash still appends into it.
    const traceparent = metadata.traceparent ?? currentTraceparent();
    const input: ErasureState = { customerId, metadata: traceparent ? { ...metadata, traceparent } : metadata };
    const record = await this.deps.sagas.start(ERASURE_SAGA, uuidv7(), input);
    if (record.status !== 'completed')
      throw new Error(`erasure of ${customerId} ended ${record.status}: ${record.failure?.message}`);
    const { keyDeleted = false, deletedPosition = null, cancelledSubscriptions = [] } = record.state;
    return { customerId, keyDeleted, deletedPosition, cancelledSubscriptions };
  }
}
