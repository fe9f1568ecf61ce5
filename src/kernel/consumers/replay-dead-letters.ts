import type { ConsumerRunner } from './consumer-runner.ts';
import type { DeadLetter, DeadLetterStore } from './dead-letter-store.ts';

export interface ReplayReport {
  consumer: string;
  replayed: number;
  failed: { id: number; error: string }[];
}

/**
 * Runs one dead letter through its consumer's handler again: marked replayed when it goes
 * through, or kept with the new error and one more attempt when it fails again.
 */
export async function replayDeadLetter(
  runner: ConsumerRunner,
  deadLetters: DeadLetterStore,
  letter: DeadLetter,
): Promise<{ error: string | null }> {
  try {
    await runner.replay(letter.message);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deadLetters.markFailedAgain(letter.id, message);
    return { error: message };
  }
  await deadLetters.markReplayed(letter.id);
  return { error: null };
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
    const { error } = await replayDeadLetter(runner, deadLetters, letter);
    if (error === null) report.replayed++;
    else report.failed.push({ id: letter.id, error });
  }
  return report;
}
