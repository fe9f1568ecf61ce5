import type { SagaStatus } from '../kernel/saga/saga.ts';
import type { Platform } from '../platform.ts';
import { WorkflowService } from '../services/workflows/workflow-service.ts';

const service = (platform: Platform) =>
  new WorkflowService({ sagas: platform.sagas, store: platform.store, clock: platform.clock });

/** `tributary workflows list [--status S] [--type T]`: one line per workflow, newest first. */
export async function listWorkflows(
  platform: Platform,
  filter: { status?: SagaStatus; type?: string },
  write: (line: string) => void,
): Promise<void> {
  const { items } = await service(platform).list({ ...filter, limit: 500 });
  write(['id', 'type', 'status', 'attempts', 'next attempt', 'last error'].join('\t'));
  for (const item of items) {
    write(
      [
        item.id,
        item.type,
        item.status,
        item.attempts,
        item.nextAttemptAt?.toISOString() ?? '-',
        item.lastError ?? '-',
      ].join('\t'),
    );
  }
  if (items.length === 0) write('no workflows');
}

/** `tributary workflows retry <id>`: runs a parked workflow again now (recorded with the operator as actor). */
export async function retryWorkflow(platform: Platform, id: string, write: (line: string) => void): Promise<void> {
  const workflows = service(platform);
  const status = await workflows.retry(id, { correlationId: `cli:${id}`, actor: 'admin:cli' });
  write(`${id}: ${status}`);
  const finished = await platform.sagas.waitFor(id, 30_000);
  write(
    `${id}: ${finished?.status ?? 'unknown'}${finished?.lastError && finished.status === 'compensation_failed' ? ` (${finished.lastError})` : ''}`,
  );
}
