import type { ConsumerRunner } from './consumer-runner.ts';
import type { DeadLetterStore } from './dead-letter-store.ts';

export interface ReplayReport {
  consumer: string;
  replayed: number;
  failed: { id: number; error: string }[];
}

/**
 * Runs a consumer's pending dead letters through its handler again, oldest first. The inbox
 * makes a replay of an already applied event a no-op; one that fails again stays dead-lettered.
 */
export async function replayDeadLetters(
  runner: ConsumerRunner,
  deadLetters: DeadLetterStore,
  limit = 1_000,
): Promise<ReplayReport> {
  const report: ReplayReport = { consumer: runner.name, replayed: 0, failed: [] };
  for (const letter of await deadLetters.list({ consumer: runner.name, limit })) {
    try {
      await runner.replay(letter.message);
      await deadLetters.markReplayed(letter.id);
      report.replayed++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await deadLetters.markFailedAgain(letter.id, message);
      report.failed.push({ id: letter.id, error: message });
    }
  }
  return report;
}
